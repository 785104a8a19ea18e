"""Every command of the `registry` CLI: exit codes, stdout and stderr kept apart."""

from __future__ import annotations

import csv
import hashlib
import io
import json

import duckdb
import pyarrow.parquet as pq
import pytest

from conftest import run, table_snapshot
from registry import Registry
from registry.cli import cli


def test_init_builds_a_registry_with_the_bundled_series(tmp_path):
    db = tmp_path / "r.duckdb"
    result = run("init", db=db)
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == f"registry ready: {db} (6 studies)"
    assert "perez-2023: imported" in result.stdout and "iglesias-2021: imported" in result.stdout
    assert Registry(db).studies() == [
        "iglesias-2021", "leng-2020", "liang-2020", "mesoblast-2020", "perez-2023", "pluristem-2020",
    ]


def test_init_refuses_an_existing_file_and_changes_nothing(empty_registry):
    before = empty_registry.path.read_bytes()
    result = run("init", db=empty_registry.path)
    assert result.exit_code == 1
    assert result.stderr == f"Error: {empty_registry.path} already exists; nothing was changed (use --force to rebuild it)\n"
    assert empty_registry.path.read_bytes() == before


def test_init_force_rebuilds(demo_registry):
    result = run("init", "--empty", "--force", db=demo_registry.path)
    assert result.exit_code == 0 and result.stdout == f"registry ready: {demo_registry.path} (empty)\n"
    assert Registry(demo_registry.path).studies() == []


def test_list_shows_every_table_view_and_query_with_a_description(demo_registry):
    result = run("list", "--format", "json", db=demo_registry.path)
    assert result.exit_code == 0
    listed = json.loads(result.stdout)
    kinds = {(r["kind"], r["name"]) for r in listed}
    for view in ("study_overview", "patient_outcomes", "survival_at_day", "measurement_trajectory", "reported_vs_computed"):
        assert ("view", view) in kinds
    for table in ("studies", "patients", "measurements", "reported_aggregates", "import_log"):
        assert ("table", table) in kinds
    assert ("query", "survival_at") in kinds
    assert all(r["description"] for r in listed), [r["name"] for r in listed if not r["description"]]


def test_query_with_parameter(demo_registry):
    """Day 14 on the demo: 2 alive of 3 known (see test_views_demo)."""
    result = run("query", "survival_at", "-p", "day", "14", db=demo_registry.path)
    assert result.exit_code == 0
    assert result.stdout == "study_id,day,n_patients,n_known,n_alive,survival\ndemo-2024,14,4,3,2,0.6667\n"


def test_query_shows_a_view_by_name(demo_registry):
    result = run("query", "study_overview", "--format", "json", db=demo_registry.path)
    assert result.exit_code == 0
    (row,) = json.loads(result.stdout)
    assert row["study_id"] == "demo-2024" and row["n_patients"] == 4 and row["n_deaths"] == 2


def test_query_errors(demo_registry):
    misspelt = run("query", "survival_att", db=demo_registry.path)
    assert misspelt.exit_code == 1
    assert misspelt.stderr == "Error: no named query named 'survival_att'; did you mean survival_at? (`registry list` shows them all)\n"
    bad_type = run("query", "survival_at", "-p", "day", "soon", db=demo_registry.path)
    assert bad_type.exit_code == 1 and bad_type.stderr == "Error: parameter day must be INTEGER, not 'soon'\n"
    unknown_param = run("query", "survival_at", "-p", "days", "3", db=demo_registry.path)
    assert unknown_param.exit_code == 1
    assert unknown_param.stderr == "Error: query survival_at has no parameter 'days' (its parameters: day)\n"
    missing = run("query", "study_patients", db=demo_registry.path)
    assert missing.exit_code == 1
    assert missing.stderr == "Error: query study_patients needs parameter study (VARCHAR): the study id, e.g. perez-2023\n"
    study = run("query", "study_patients", "-p", "study", "demo-2025", db=demo_registry.path)
    assert study.exit_code == 1 and "did you mean demo-2024?" in study.stderr
    parquet = run("query", "survival_at", "--format", "parquet", db=demo_registry.path)
    assert parquet.exit_code == 2 and "--format parquet needs --out FILE" in parquet.stderr


def test_query_to_parquet(demo_registry, tmp_path):
    out = tmp_path / "s.parquet"
    result = run("query", "study_patients", "-p", "study", "demo-2024", "--format", "parquet", "--out", str(out), db=demo_registry.path)
    assert result.exit_code == 0
    table = pq.read_table(out)
    assert table.num_rows == 4 and table.column("patient_id").to_pylist() == ["1", "2", "3", "4"]


def test_sql(demo_registry):
    result = run("sql", "SELECT patient_id, age_years FROM patients WHERE sex = 'F' ORDER BY 1", "--format", "csv", db=demo_registry.path)
    assert result.exit_code == 0 and result.stdout == "patient_id,age_years\n1,50.0\n3,70.0\n"
    table = run("sql", "SELECT count(*) AS n FROM patients", "--format", "table", db=demo_registry.path)
    assert table.stdout == "n\n-\n4\n(1 row)\n"


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("COPY patients TO '/tmp/x.csv'", "COPY"),
        ("SELECT * FROM read_csv('/etc/passwd')", "read_csv"),
        ("ATTACH '/tmp/other.duckdb'", "ATTACH"),
        ("SELECT 1; DROP TABLE patients", "statement"),
        ("PRAGMA database_list", "PRAGMA"),
        ("SELECT * FROM patient", "patients"),
    ],
)
def test_sql_refusals(demo_registry, text, fragment):
    before = table_snapshot(demo_registry.path)
    result = run("sql", text, db=demo_registry.path)
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("Error: ") and fragment in result.stderr
    assert "Traceback" not in result.stderr
    assert table_snapshot(demo_registry.path) == before


def test_export_views_to_parquet_with_manifest(demo_registry, tmp_path):
    out = tmp_path / "exports"
    result = run("export", "--out", str(out), db=demo_registry.path)
    assert result.exit_code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    names = set(manifest["files"])
    assert {"study_overview.parquet", "patient_outcomes.parquet", "survival_at_day.parquet"} <= names
    assert not any(name.endswith(".partial") for name in (p.name for p in out.iterdir()))
    for name, entry in manifest["files"].items():
        path = out / name
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
        table = pq.read_table(path)
        assert table.num_rows == entry["rows"]
        assert list(table.column_names) == list(entry["columns"])
    assert manifest["files"]["patient_outcomes.parquet"]["rows"] == 4
    assert manifest["files"]["survival_at_day.parquet"]["columns"]["survival"] == "DOUBLE"


def test_export_tables_as_csv_and_named_relations(demo_registry, tmp_path):
    out = tmp_path / "tables"
    assert run("export", "--tables", "--format", "csv", "--out", str(out), db=demo_registry.path).exit_code == 0
    with (out / "patients.csv").open() as handle:
        patients = list(csv.DictReader(handle))
    assert [p["patient_id"] for p in patients] == ["1", "2", "3", "4"]
    some = tmp_path / "some"
    assert run("export", "patients", "survival_at_day", "--out", str(some), db=demo_registry.path).exit_code == 0
    assert sorted(p.name for p in some.iterdir()) == ["manifest.json", "patients.parquet", "survival_at_day.parquet"]
    bad = run("export", "patientz", "--out", str(some), db=demo_registry.path)
    assert bad.exit_code == 1 and "did you mean patients?" in bad.stderr


@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "spark"])
def test_schema_prints_tables_and_views(dialect):
    result = run("schema", "--dialect", dialect)
    assert result.exit_code == 0
    text = result.stdout
    assert "CREATE TABLE measurements" in text
    assert "CREATE OR REPLACE VIEW survival_at_day" in text or "CREATE VIEW survival_at_day" in text


def test_schema_duckdb_output_builds_a_working_database():
    """The printed DuckDB script creates every table and view on a fresh connection."""
    con = duckdb.connect()
    con.execute(run("schema").stdout)
    views = {r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
    assert {"study_overview", "reported_vs_computed", "provenance"} <= views


def test_template_is_a_package_skeleton(tmp_path):
    out = tmp_path / "new"
    result = run("template", str(out))
    assert result.exit_code == 0
    assert (out / "study.yaml").exists() and (out / "README.md").exists()
    assert (out / "patients.csv").read_text() == (
        "patient_id,arm_id,sex,age_years,weight_kg,severity,care_setting,source_id,age_90_plus\n"
    )
    # Filled with the least a study needs, the template validates.
    (out / "sources.csv").write_text((out / "sources.csv").read_text() + "s-title,paper,Title,A title,\n")
    (out / "patients.csv").write_text((out / "patients.csv").read_text() + "1,,F,,,,,s-title,\n")
    study = (out / "study.yaml").read_text().replace("    citation: null", "    citation: Someone. A title. 2024.")
    (out / "study.yaml").write_text(study)
    assert run("validate", str(out)).stdout == "my-study-2024: is valid (4 rows in 4 tables)\n"
    assert run("template", str(out)).exit_code == 1  # never overwrites


def test_export_package_round_trip_on_the_cli(demo_registry, tmp_path):
    out = tmp_path / "copy"
    result = run("export-package", "demo-2024", str(out), db=demo_registry.path)
    assert result.exit_code == 0 and result.stdout == f"demo-2024: written to {out}\n"
    empty = tmp_path / "fresh.duckdb"
    run("init", "--empty", db=empty)
    assert run("import", str(out), db=empty).exit_code == 0
    unknown = run("export-package", "demo-2042", str(tmp_path / "x"), db=demo_registry.path)
    assert unknown.exit_code == 1 and "did you mean demo-2024?" in unknown.stderr


def test_unknown_command_suggests_and_exits_2():
    result = run("qeury")
    assert result.exit_code == 2 and "Did you mean 'query'?" in result.stderr


def test_no_registry_is_a_clear_error(tmp_path):
    result = run("list", db=tmp_path / "missing.duckdb")
    assert result.exit_code == 1
    assert result.stderr == f"Error: no registry at {tmp_path / 'missing.duckdb'}: create one with `registry init`\n"


def test_every_command_has_help_with_an_example():
    for name, command in cli.commands.items():
        result = run(name, "--help")
        assert result.exit_code == 0, name
        assert "Example:" in result.stdout, f"{name} --help has no example"


def test_env_var_names_the_registry(demo_registry, monkeypatch):
    from click.testing import CliRunner

    result = CliRunner().invoke(cli, ["sql", "SELECT count(*) AS n FROM patients"], env={"REGISTRY_DB": str(demo_registry.path)})
    assert result.exit_code == 0 and result.stdout == "n\n4\n"


def test_csv_output_parses_back(demo_registry):
    text = run("query", "patient_outcomes", "--format", "csv", db=demo_registry.path).stdout
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert len(parsed) == 4 and parsed[1]["vital_status"] == "dead" and parsed[1]["death_day"] == "10"
