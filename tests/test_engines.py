"""Every view and named query gives the same rows on DuckDB, PostgreSQL and Spark.

A real throwaway PostgreSQL server (Debian's package; `make setup` installs it) is started once
per module and a local SparkSession once per test session (tests/engine_servers.py). The registry
is pushed to PostgreSQL with `registry push` (psycopg COPY) and exported as Parquet for Spark
(`registry export --tables`); then each view and each named query (with parameter sets read from
the data, registry.engines.cases) runs on every engine: rows as multisets, ORDER BY keys in
order, floats to a relative 1e-9 / absolute 1e-12 (registry.engines.compare says why). Two
registries: the bundled case series, and a synthetic one of 300 patients in 2 studies
(registry.synth).

When PostgreSQL, psycopg, pyspark or Java is missing these tests fail (they never skip): the
engines are part of what the project promises.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from conftest import run

from registry import Registry, sqlfiles, transpile
from registry.engines import compare
from registry.engines.cases import query_cases
from registry.errors import QueryError, RegistryError, UnsafeQuery


def _missing(message: str):
    pytest.fail(message, pytrace=False)


try:
    import psycopg
except ImportError:
    _missing("psycopg is not installed (`make setup` installs it)")

from engine_servers import EngineMissing, ThrowawayPostgres, local_spark

from registry.engines import postgres

VIEWS = [view.name for view in sqlfiles.load_views()]


@pytest.fixture(scope="module")
def pg_server():
    try:
        server = ThrowawayPostgres()
    except EngineMissing as error:
        _missing(str(error))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def synthetic_registry(tmp_path_factory) -> Registry:
    from registry.synth import write_synthetic

    base = tmp_path_factory.mktemp("synthetic")
    packages = write_synthetic(base / "packages", patients=300, studies=2, seed=7)
    registry, _ = Registry.create(base / "synthetic.duckdb", packages=packages)
    return registry


@pytest.fixture(scope="module")
def pushed(
    pg_server, bundled_registry, synthetic_registry
) -> dict[str, tuple[Registry, str]]:
    """{'bundled' | 'synthetic': (DuckDB registry, PostgreSQL schema)} on the throwaway server."""
    postgres.push(bundled_registry, pg_server.url, schema="bundled")
    postgres.push(synthetic_registry, pg_server.url, schema="synthetic")
    return {
        "bundled": (bundled_registry, "bundled"),
        "synthetic": (synthetic_registry, "synthetic"),
    }


def _duckdb_rows(registry: Registry, sql: str) -> list[tuple]:
    con = duckdb.connect(str(registry.path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _cases(registry: Registry):
    con = duckdb.connect(str(registry.path), read_only=True)
    try:
        return query_cases(con)
    finally:
        con.close()


@pytest.mark.parametrize("data", ["bundled", "synthetic"])
@pytest.mark.parametrize("view", VIEWS)
def test_view_same_on_postgres(pushed, pg_server, data, view):
    registry, schema = pushed[data]
    expected = _duckdb_rows(registry, f"SELECT * FROM {view}")
    result = postgres.run_sql(pg_server.url, f"SELECT * FROM {view}", schema=schema)
    assert result.columns == [c for c in transpile.project_schema()[view]]
    assert not compare.differences(expected, result.rows(), ordered=False), "\n".join(
        compare.differences(expected, result.rows(), ordered=False)
    )


def _assert_named_queries_agree(registry, run) -> None:
    """Every named query, with every case of _cases, gives the same columns and rows through
    `run(name, params)` (another engine) as on DuckDB."""
    queries = sqlfiles.load_queries()
    failures = []
    cases = _cases(registry)
    assert {name for name, _ in cases} == set(queries)
    for name, params in cases:
        expected = registry.query(name, **params)
        got = run(name, params)
        keys = compare.order_columns(queries[name].body, expected.columns)
        found = compare.ordered_differences(expected.rows(), got.rows(), keys)
        if got.columns != expected.columns:
            found.insert(0, f"columns {got.columns} != {expected.columns}")
        if found:
            failures.append(f"{name} {params}:\n  " + "\n  ".join(found))
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("data", ["bundled", "synthetic"])
def test_named_queries_same_on_postgres(pushed, pg_server, data):
    registry, schema = pushed[data]
    _assert_named_queries_agree(registry, lambda name, params: postgres.run_query(pg_server.url, name, schema=schema, **params))


def test_bundled_views_are_not_empty_on_postgres(pushed, pg_server):
    """The comparison means something: most views have rows on the bundled series."""
    empty = [
        v
        for v in VIEWS
        if not postgres.run_sql(
            pg_server.url, f"SELECT count(*) AS n FROM {v}", schema="bundled"
        ).rows()[0][0]
    ]
    assert len(empty) <= 2, empty


def test_error_function_raises_on_postgres(pushed, pg_server):
    with pytest.raises(QueryError, match="by must be dose"):
        postgres.run_query(
            pg_server.url, "survival_by", schema="bundled", by="nonsense", day=28
        )


def test_guard_applies_on_postgres(pushed, pg_server):
    for hostile in (
        "SELECT pg_read_file('/etc/passwd')",
        "SELECT * FROM pg_catalog.pg_authid",
        "COPY studies TO '/tmp/x'",
        "SELECT 1; DROP TABLE studies",
        "SELECT current_setting('data_directory')",
        "SELECT * FROM information_schema.tables",
    ):
        with pytest.raises(UnsafeQuery):
            postgres.run_sql(pg_server.url, hostile, schema="bundled")


def test_postgres_runs_read_only_under_select_only_role(pushed, pg_server):
    """Below the guard: even SQL that skipped it cannot write, nor read outside the schema."""
    with pytest.raises(QueryError, match="read-only transaction"):
        postgres.execute(pg_server.url, "DELETE FROM studies", schema="bundled")
    with pytest.raises(QueryError, match="permission denied"):
        postgres.execute(
            pg_server.url, "SELECT pg_read_file('PG_VERSION')", schema="bundled"
        )
    role = postgres.execute(
        pg_server.url, "SELECT current_user AS u", schema="bundled"
    ).to_pylist()
    assert role == [{"u": "bundled_reader"}]
    counts = postgres.execute(
        pg_server.url, "SELECT count(*) AS n FROM studies", schema="bundled"
    ).to_pylist()
    assert counts == [{"n": len(pushed["bundled"][0].studies())}]


def test_push_refuses_an_existing_schema_then_replaces_it(
    pushed, pg_server, demo_registry
):
    postgres.push(demo_registry, pg_server.url, schema="demo")
    with pytest.raises(RegistryError, match="already exists"):
        postgres.push(demo_registry, pg_server.url, schema="demo")
    counts = postgres.push(demo_registry, pg_server.url, schema="demo", replace=True)
    assert (
        counts["patients"]
        == postgres.execute(
            pg_server.url, "SELECT count(*) AS n FROM patients", schema="demo"
        ).to_pylist()[0]["n"]
    )


def test_cli_push_sql_and_query_on_postgres(pg_server, demo_registry):
    pushed = run("push", pg_server.url, "--schema", "cli", db=demo_registry.path)
    assert pushed.exit_code == 0, pushed.output
    assert "schema cli" in pushed.output
    on_postgres = ("--engine", "postgres", "--url", pg_server.url, "--pg-schema", "cli")
    overview = "SELECT study_id, n_patients FROM study_overview"
    sql = run("sql", overview, "--format", "csv", *on_postgres, db=demo_registry.path)
    local = run("sql", overview, "--format", "csv", db=demo_registry.path)
    assert sql.exit_code == 0, sql.output
    assert sql.stdout == local.stdout
    for args in (["survival_at", "-p", "day", "28"], ["km_survival"], ["table_one"]):
        remote = run("query", *args, "--format", "csv", *on_postgres, db=demo_registry.path)
        here = run("query", *args, "--format", "csv", db=demo_registry.path)
        assert remote.exit_code == 0, remote.output
        assert remote.stdout.splitlines()[0] == here.stdout.splitlines()[0]
        assert len(remote.stdout.splitlines()) == len(here.stdout.splitlines())
    refused = run("sql", "SELECT pg_sleep(1)", *on_postgres, db=demo_registry.path)
    assert refused.exit_code == 1
    assert "refused" in refused.stderr
    no_url = run("sql", "SELECT 1", "--engine", "postgres", db=demo_registry.path)
    assert no_url.exit_code == 2


def test_schema_script_runs_on_postgres(pg_server):
    """`registry schema --dialect postgres` is a script PostgreSQL runs as it is."""
    script = transpile.schema_sql("postgres")
    assert not re.search(
        r"GROUP BY ALL|ORDER BY ALL|string_split|LOG\(10,", script, re.IGNORECASE
    )
    with psycopg.connect(pg_server.url) as con:
        con.execute("CREATE SCHEMA script; SET search_path TO script")
        con.execute(script)
        views = con.execute(
            "SELECT count(*) FROM information_schema.views WHERE table_schema = 'script'"
        ).fetchone()[0]
        con.rollback()
    assert views == len(VIEWS)


# ---- hostile SQL on the real server --------------------------------------------------------------

HOSTILE = (
    "WITH gone AS (DELETE FROM studies RETURNING *) SELECT count(*) FROM gone",
    "SET ROLE postgres",
    "SELECT set_config('role', 'postgres', false)",
    "COPY studies TO PROGRAM 'touch /tmp/caseregistry-owned'",
    "COPY (SELECT 1) TO '/tmp/caseregistry-owned'",
    "CREATE TABLE owned AS SELECT * FROM studies",
)


@pytest.fixture(scope="module")
def analyst_url(pushed, pg_server) -> str:
    """A login role that is a member of bundled_reader only, as a shared server would hand out."""
    with psycopg.connect(pg_server.url, autocommit=True) as con:
        con.execute("CREATE ROLE analyst LOGIN")
        con.execute("GRANT bundled_reader TO analyst")
    return pg_server.url.replace("postgres@", "analyst@", 1)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_sql_is_refused_by_the_guard_on_postgres(pushed, pg_server, hostile):
    with pytest.raises(UnsafeQuery):
        postgres.run_sql(pg_server.url, hostile, schema="bundled")


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_sql_fails_at_the_server_without_the_guard(analyst_url, hostile):
    """The parser layer switched off (execute() runs SQL as given): the read-only transaction and
    the SELECT-only role still stop every one of them, and nothing was written."""
    with pytest.raises(
        QueryError, match="read-only transaction|permission denied|must be superuser"
    ):
        postgres.execute(analyst_url, hostile, schema="bundled")
    assert not Path("/tmp/caseregistry-owned").exists()
    counts = postgres.execute(
        analyst_url, "SELECT count(*) AS n FROM studies", schema="bundled"
    ).to_pylist()
    assert counts[0]["n"] > 0


def test_one_statement_per_call_on_postgres(pushed, pg_server):
    """Even as a superuser, a second statement cannot ride along (prepared, extended protocol)."""
    with pytest.raises(QueryError, match="multiple commands"):
        postgres.execute(pg_server.url, "SELECT 1; SET ROLE postgres", schema="bundled")


# ---- Spark -----------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    """One local SparkSession (a JVM) for the whole test session, stopped at the end."""
    try:
        session = local_spark(warehouse=tmp_path_factory.mktemp("spark-warehouse"))
    except (EngineMissing, ImportError) as error:
        _missing(str(error))
    yield session
    session.stop()


@pytest.fixture(scope="module")
def on_spark(spark, bundled_registry, synthetic_registry, tmp_path_factory):
    """{'bundled' | 'synthetic': (DuckDB registry, SparkRegistry, Parquet dir)}, each in its own
    Spark session (temporary views are per session; the JVM is shared)."""
    from registry.engines.spark import SparkRegistry

    found = {}
    for data, registry in (
        ("bundled", bundled_registry),
        ("synthetic", synthetic_registry),
    ):
        base = tmp_path_factory.mktemp(f"parquet-{data}")
        registry.export(base, tables=True)
        found[data] = (registry, SparkRegistry(spark.newSession(), base), base)
    return found


@pytest.mark.parametrize("data", ["bundled", "synthetic"])
@pytest.mark.parametrize("view", VIEWS)
def test_view_same_on_spark(on_spark, data, view):
    registry, spark_registry, _ = on_spark[data]
    expected = _duckdb_rows(registry, f"SELECT * FROM {view}")
    result = spark_registry.sql(f"SELECT * FROM {view}")
    assert result.columns == [c for c in transpile.project_schema()[view]]
    found = compare.differences(expected, result.rows(), ordered=False)
    assert not found, "\n".join(found)


@pytest.mark.parametrize("data", ["bundled", "synthetic"])
def test_named_queries_same_on_spark(on_spark, data):
    registry, spark_registry, _ = on_spark[data]
    _assert_named_queries_agree(registry, lambda name, params: spark_registry.query(name, **params))


def test_error_function_raises_on_spark(on_spark):
    with pytest.raises(QueryError, match="by must be dose"):
        on_spark["bundled"][1].query("survival_by", by="nonsense", day=28)


@pytest.mark.parametrize(
    "hostile",
    (
        "SELECT * FROM parquet.`/etc/passwd`",
        "SELECT reflect('java.lang.System', 'exit', 0)",
        "CREATE TABLE owned AS SELECT * FROM studies",
        "INSERT INTO studies SELECT * FROM studies",
        "SELECT 1; DROP VIEW studies",
        "SELECT * FROM read_parquet('/etc/passwd')",
    ),
)
def test_guard_applies_on_spark(on_spark, hostile):
    """On Spark the parser layer is the only layer (Spark has no read-only session)."""
    with pytest.raises(UnsafeQuery):
        on_spark["bundled"][1].sql(hostile)


def test_cli_query_and_sql_on_spark(on_spark, bundled_registry):
    _, _, base = on_spark["bundled"]
    for args in (
        ["query", "survival_at", "-p", "day", "28"],
        ["query", "study_overview"],
        ["sql", "SELECT study_id, n_patients FROM study_overview ORDER BY study_id"],
    ):
        remote = run(
            *args,
            "--format",
            "csv",
            "--engine",
            "spark",
            "--parquet",
            str(base),
            "--master",
            "local[2]",
            db=bundled_registry.path,
        )
        here = run(*args, "--format", "csv", db=bundled_registry.path)
        assert remote.exit_code == 0, remote.output
        assert remote.stdout == here.stdout
    no_parquet = run("sql", "SELECT 1", "--engine", "spark", db=bundled_registry.path)
    assert no_parquet.exit_code == 2


def test_schema_script_runs_on_spark(spark, tmp_path):
    """`registry schema --dialect spark` runs statement by statement in a SparkSession: Parquet
    tables (no constraints), the catalog rows, and every view, which then answer queries."""
    script = transpile.schema_sql("spark")
    code = re.sub(
        r"/\*.*?\*/", "", script, flags=re.DOTALL
    )  # the schema's comments may mention keys
    assert (
        "PRIMARY KEY" not in code
        and "REFERENCES" not in code
        and code.count("USING PARQUET") > 20
    )
    session = spark.newSession()
    session.sql(f"CREATE DATABASE script_check LOCATION '{tmp_path / 'db'}'")
    try:
        session.sql("USE script_check")
        for statement in transpile.schema_statements("spark"):
            session.sql(statement)
        views = {
            r.viewName
            for r in session.sql("SHOW VIEWS IN script_check").collect()
            if not r.isTemporary
        }
        assert views == set(VIEWS)
        analytes = session.sql("SELECT count(*) FROM analytes").collect()[0][0]
        assert analytes == _duckdb_rows_empty("SELECT count(*) FROM analytes")[0][0] > 0
        assert session.sql("SELECT count(*) FROM study_overview").collect()[0][0] == 0
    finally:
        session.sql("USE default")
        session.sql("DROP DATABASE script_check CASCADE")


def _duckdb_rows_empty(sql: str) -> list[tuple]:
    """Rows from an empty registry built in memory from schema/ (the catalog rows only)."""
    con = duckdb.connect()
    try:
        for statement in transpile.schema_statements("duckdb"):
            con.execute(statement)
        return con.execute(sql).fetchall()
    finally:
        con.close()
