"""The .sql files are the metadata: names, documented columns and parameters must match the SQL."""

from __future__ import annotations

import re

import duckdb
import pytest

from conftest import ROOT
from registry import sqlfiles
from registry.sqlfiles import SqlFileError, read_sql_file

VIEWS = sqlfiles.load_views()
QUERIES = sqlfiles.load_queries()


@pytest.mark.parametrize("view", VIEWS, ids=[v.name for v in VIEWS])
def test_documented_columns_equal_the_view(view, bundled_registry):
    """The header's column list is exactly DESCRIBE <view>, in order."""
    with bundled_registry._read() as con:
        described = [r[0] for r in con.execute(f"DESCRIBE {view.name}").fetchall()]
    assert list(view.columns) == described
    assert all(view.columns.values()), "every column needs a description"


@pytest.mark.parametrize("view", VIEWS, ids=[v.name for v in VIEWS])
def test_view_comments_are_in_the_database(view, bundled_registry):
    with bundled_registry._read() as con:
        comment = con.execute("SELECT comment FROM duckdb_views() WHERE view_name = ?", [view.name]).fetchone()[0]
        column_comments = dict(
            con.execute("SELECT column_name, comment FROM duckdb_columns() WHERE table_name = ?", [view.name]).fetchall()
        )
    assert comment == view.description
    assert column_comments == view.columns


def test_load_order_follows_dependencies():
    order = [v.name for v in VIEWS]
    assert order.index("patient_outcomes") < order.index("patient_status_on_day") < order.index("survival_at_day")
    assert order.index("patient_outcomes") < order.index("reported_vs_computed")


@pytest.mark.parametrize("query", list(QUERIES.values()), ids=list(QUERIES))
def test_named_query_runs(query, bundled_registry):
    """Every named query runs on the bundled registry with sample parameters."""
    samples = {"day": 14, "study": "perez-2023", "patient": "004", "analyte": "spo2", "by": "cell_source"}
    result = bundled_registry.query(query.name, **{p.name: samples[p.name] for p in query.parameters})
    assert len(result.columns) > 0


def test_file_and_view_names_must_agree(tmp_path):
    bad = tmp_path / "wrong_name.sql"
    bad.write_text("-- right_name: description\nCREATE OR REPLACE VIEW right_name AS SELECT 1\n")
    with pytest.raises(SqlFileError, match=r"wrong_name.sql:1: header names 'right_name' but the file is wrong_name.sql"):
        read_sql_file(bad)


def test_docs_mention_every_command_view_and_query():
    """README and docs/views.md cannot fall behind the code."""
    from registry.cli import cli

    readme = (ROOT / "README.md").read_text()
    views_doc = (ROOT / "docs" / "views.md").read_text()
    for command in cli.commands:
        assert re.search(rf"registry {command}\b", readme), f"README does not show `registry {command}`"
    for view in VIEWS:
        assert f"`{view.name}`" in views_doc, f"docs/views.md does not document {view.name}"
    for name in QUERIES:
        assert f"`{name}`" in views_doc, f"docs/views.md does not document query {name}"


def test_checks_name_their_file():
    for check in sqlfiles.load_checks():
        assert check.fields["file"].endswith(".csv")


def test_view_sql_parses_in_duckdb():
    con = duckdb.connect()
    for path in sorted((ROOT / "schema").glob("*.sql")):
        con.execute(path.read_text())
    for view in VIEWS:
        con.execute(view.body)


def test_a_check_may_name_a_fast_condition(demo_registry):
    """`-- Fast:` is read from the header; the unit rule's condition runs as a predicate over the
    demo's 11 stored measurements, none of which meets it (each has a converted value)."""
    fast = {c.name: c.fields.get("fast") for c in sqlfiles.load_checks()}
    assert fast["measurements_unit"] == "value_canonical IS NULL"
    assert fast["measurements_analyte"] == "value_canonical IS NULL"
    assert fast["patients_sex"] is None
    with duckdb.connect(str(demo_registry.path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM measurements").fetchone() == (11,)
        assert con.execute(f"SELECT count(*) FROM measurements WHERE {fast['measurements_unit']}").fetchone() == (0,)
