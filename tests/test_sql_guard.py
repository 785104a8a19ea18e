"""The ad-hoc SQL guard: each layer alone against a corpus of hostile SQL, and ordinary queries.

The parser layer (`check_query`) must refuse every corpus entry. The connection layer
(`connect_readonly`) runs the raw entry against a real registry file with real files beside it and
must either raise or have no effect; entries it lets run are marked in the corpus and listed there
with the reason, and for them only the "no effect" checks apply.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas
import pytest

from registry.errors import NoRegistry, QueryError, UnsafeQuery
from registry.guard import (
    ALLOWED_FUNCTIONS,
    RULE,
    check_query,
    connect_readonly,
    harden,
    relations_of,
)

CORPUS_PATH = Path(__file__).parent / "data" / "hostile_sql.txt"
SEPARATOR = "-- ----"
MARKER = "SECRET-MARKER-7f3a91"  # in every file and foreign database; must never come back
RELATIONS = {"patients", "measurements", "studies"}
HOME_DUCKDB = Path.home() / ".duckdb"  # where INSTALL and persistent secrets would write


@dataclass(frozen=True)
class Entry:
    """One corpus entry; `connection_allowed` is the reason when the connection layer runs it."""

    name: str
    sql: str
    connection_allowed: str | None


def load_corpus(path: Path = CORPUS_PATH) -> list[Entry]:
    """Entries are separated by `-- ----`; the block before the first separator is a preamble."""
    blocks: list[list[str]] = [[]]
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() == SEPARATOR:
            blocks.append([])
        else:
            blocks[-1].append(line)
    entries = []
    for block in blocks[1:]:
        name = re.fullmatch(r"-- name: (\S+)", block[0])
        assert name, f"entry without a '-- name:' line: {block[:2]}"
        lines = block[1:]
        allowed = None
        if lines and lines[0].startswith("-- connection-layer:"):
            reason = re.fullmatch(r"-- connection-layer: allowed (.+)", lines[0])
            assert reason, f"{name[1]}: malformed connection-layer line"
            allowed, lines = reason[1], lines[1:]
        entries.append(Entry(name[1], "\n".join(lines).strip("\n"), allowed))
    return entries


CORPUS = load_corpus()


def test_corpus_is_well_formed() -> None:
    names = [entry.name for entry in CORPUS]
    assert len(names) >= 70
    assert len(set(names)) == len(names), "duplicate entry names"
    assert {"empty", "only-comment", "only-semicolon"} <= set(names)
    assert next(e for e in CORPUS if e.name == "empty").sql == ""


# -- a real registry and real files to attack --------------------------------------------------


@dataclass(frozen=True)
class Env:
    dir: Path
    db: Path
    paths: dict[str, str]

    def fill(self, sql: str) -> str:
        for key, value in self.paths.items():
            sql = sql.replace("{" + key + "}", value)
        return sql


SCHEMA = """
CREATE TABLE studies (study_id VARCHAR, title VARCHAR, year INTEGER);
CREATE TABLE patients (study_id VARCHAR, patient_id VARCHAR, sex VARCHAR, age INTEGER);
CREATE TABLE measurements (
    study_id VARCHAR, patient_id VARCHAR, analyte VARCHAR, day INTEGER, value DOUBLE);
INSERT INTO studies VALUES
    ('perez-2023', 'Mesenchymal stromal cells in ARDS', 2023),
    ('liang-2020', 'Umbilical cord MSC for severe COVID-19', 2020);
INSERT INTO patients VALUES
    ('perez-2023', 'p1', 'F', 44), ('perez-2023', 'p2', 'M', 67), ('perez-2023', 'p3', 'F', 71),
    ('liang-2020', 'p1', 'M', 38), ('liang-2020', 'p2', 'F', 59), ('liang-2020', 'p3', 'M', 52);
INSERT INTO measurements
    SELECT p.study_id, p.patient_id, a.analyte, d.day,
           round(p.age / 10.0 + d.day * a.slope + length(p.patient_id), 2)
    FROM patients p,
         (VALUES ('crp', 1.5), ('il6', -0.5)) AS a(analyte, slope),
         range(0, 8, 2) AS d(day);
CREATE VIEW patient_summary AS SELECT study_id, count(*) AS n FROM patients GROUP BY study_id;
"""


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Env:
    root = tmp_path_factory.mktemp("guard")
    db = root / "registry.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute(SCHEMA)
    paths = {
        "csv": str(root / "notes.csv"),
        "txt": str(root / "secret.txt"),
        "json": str(root / "notes.json"),
        "parquet": str(root / "notes.parquet"),
        "db2": str(root / "other.duckdb"),
        "out": str(root / "stolen"),
    }
    Path(paths["csv"]).write_text(f"patient_id,note\np1,{MARKER}\n", encoding="utf-8")
    Path(paths["txt"]).write_text(f"password={MARKER}\n", encoding="utf-8")
    Path(paths["json"]).write_text(f'[{{"note": "{MARKER}"}}]\n', encoding="utf-8")
    with duckdb.connect() as scratch:
        scratch.execute(
            f"COPY (SELECT '{MARKER}' AS note) TO '{paths['parquet']}' (FORMAT parquet)"
        )
    with duckdb.connect(paths["db2"]) as other:
        other.execute(f"CREATE TABLE secrets AS SELECT 'k' AS k, '{MARKER}' AS v")
    return Env(root, db, paths)


@pytest.fixture(scope="module")
def baseline(env: Env) -> dict[str, object]:
    """The state of a freshly hardened connection, taken once for all entries."""
    with connect_readonly(env.db) as con:
        return _state(con)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tree(root: Path) -> set[str]:
    """Every path under `root` with size and mtime: any write shows up as a difference."""
    if not root.exists():
        return set()
    found = set()
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            stat = path.stat()
            found.add(f"{path}|{stat.st_size}|{stat.st_mtime_ns}")
    return found


def _fetch(result: duckdb.DuckDBPyConnection | None) -> dict[str, list]:
    """All rows of the last statement's result. Through Arrow: fetchall() needs pytz for
    TIMESTAMPTZ columns (read_text's last_modified), and a failed conversion must not pass for a
    refusal."""
    if result is None or result.description is None:
        return {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Arrow output on a DB-API result" copies
        return result.to_arrow_table().to_pydict()


def _state(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """What an attack could change without writing a file: settings, databases, extensions."""
    settings = dict(con.execute("SELECT name, value FROM duckdb_settings()").fetchall())
    # The connection's default schema (search_path, schema) is exempt from lock_configuration:
    # `USE` / `SET search_path` change it, which only moves where unqualified names resolve (the
    # corpus marks those entries). Every other setting must stay as it is.
    settings.pop("search_path", None)
    settings.pop("schema", None)
    return {
        "settings": settings,
        "databases": sorted(
            con.execute("SELECT database_name, path FROM duckdb_databases()").fetchall()
        ),
        # A loaded extension shows in the settings above (httpfs: s3_*, postgres: pg_*), in the
        # types and in the secret types. (Counting duckdb_functions() would too, at ~30 ms a call.)
        "types": con.execute("SELECT count(*) FROM duckdb_types()").fetchone(),
        "secret_types": sorted(con.execute("SELECT type FROM duckdb_secret_types()").fetchall()),
    }


def test_read_only_alone_is_not_enough(env: Env, tmp_path: Path) -> None:
    """Why `harden` exists, and proof that the checks below would see a leak or a write."""
    written = tmp_path / "written.csv"
    with duckdb.connect(str(env.db), read_only=True) as con:
        assert MARKER in repr(_fetch(con.execute(f"SELECT * FROM read_csv('{env.paths['csv']}')")))
        con.execute(f"COPY patients TO '{written}'")
    assert written.exists()


# -- (a) the parser layer alone refuses every entry ----------------------------------------------


@pytest.mark.parametrize("entry", CORPUS, ids=lambda e: e.name)
def test_parser_layer_refuses(entry: Entry, env: Env) -> None:
    with pytest.raises(UnsafeQuery) as refused:
        check_query(env.fill(entry.sql), RELATIONS)
    assert RULE in str(refused.value)


# -- (b) the connection layer alone: raises, or has no effect ------------------------------------


@pytest.mark.parametrize("entry", CORPUS, ids=lambda e: e.name)
def test_connection_layer_contains(entry: Entry, env: Env, baseline: dict[str, object]) -> None:
    sql = env.fill(entry.sql)
    # A target for DuckDB's replacement scan of Python objects in the calling frame.
    secret_frame = pandas.DataFrame({"note": [MARKER]})  # noqa: F841
    files_before, home_before, db_hash = _tree(env.dir), _tree(HOME_DUCKDB), _sha256(env.db)
    con = connect_readonly(env.db)
    try:
        error: duckdb.Error | None = None
        rows: dict[str, list] = {}
        try:
            rows = _fetch(con.execute(sql))
        except duckdb.Error as exc:
            error = exc
        try:
            con.execute("ROLLBACK")  # leave an open or aborted transaction so state can be read
        except duckdb.Error:
            pass
        after = _state(con)
    finally:
        con.close()

    assert after == baseline, "settings, databases or extensions changed"
    assert after["settings"]["enable_external_access"] == "false"
    assert after["settings"]["lock_configuration"] == "true"
    assert not Path(env.paths["out"]).exists(), "a file was written"
    assert _tree(env.dir) == files_before, "files beside the registry changed"
    assert _tree(HOME_DUCKDB) == home_before, "~/.duckdb changed (extension or secret written)"
    assert _sha256(env.db) == db_hash, "the database file changed"
    assert MARKER not in repr(rows), "file or foreign database content came back"
    assert MARKER not in str(error or ""), "file content came back in an error message"
    assert "Required module" not in str(error or ""), f"the test could not read the result: {error}"
    if entry.connection_allowed is None:
        assert error is not None, (
            f"the connection layer ran {entry.name!r}: add '-- connection-layer: allowed <why>'"
            " to the corpus only if it truly has no effect"
        )
    else:
        assert error is None, (
            f"{entry.name!r} is marked 'connection-layer: allowed' but the connection layer "
            f"refuses it now ({error}): remove the marker"
        )


# -- (c) ordinary queries pass and give the same rows as a plain connection ----------------------

ORDINARY = [
    # WHERE, GROUP BY, HAVING, ORDER BY, LIMIT
    "SELECT sex, count(*) AS n, avg(age) AS mean_age FROM patients WHERE age >= 40 "
    "GROUP BY sex HAVING count(*) > 1 ORDER BY sex LIMIT 5",
    # joins
    "SELECT p.study_id, p.patient_id, s.title, m.day, m.value FROM patients p "
    "JOIN studies s USING (study_id) "
    "JOIN measurements m ON m.study_id = p.study_id AND m.patient_id = p.patient_id "
    "WHERE m.analyte = 'crp' ORDER BY p.study_id, p.patient_id, m.day",
    # CTE
    "WITH per_patient AS (SELECT study_id, patient_id, max(value) AS peak FROM measurements "
    "GROUP BY ALL) SELECT study_id, round(avg(peak), 3) AS mean_peak FROM per_patient "
    "GROUP BY study_id ORDER BY study_id",
    # window functions
    "SELECT study_id, patient_id, day, value, "
    "row_number() OVER (PARTITION BY study_id, patient_id ORDER BY day) AS rn, "
    "lag(value) OVER (PARTITION BY study_id, patient_id ORDER BY day) AS previous "
    "FROM measurements WHERE analyte = 'il6' ORDER BY study_id, patient_id, day",
    # median and quantiles
    "SELECT analyte, day, median(value) AS med, quantile_cont(value, 0.25) AS q1, "
    "quantile_cont(value, 0.75) AS q3 FROM measurements "
    "GROUP BY analyte, day ORDER BY analyte, day",
    # CASE
    "SELECT study_id, patient_id, CASE WHEN age < 50 THEN 'under 50' WHEN age < 70 THEN '50-69' "
    "ELSE '70+' END AS band FROM patients ORDER BY study_id, patient_id",
    # COUNT(*) FILTER
    "SELECT study_id, count(*) FILTER (WHERE sex = 'F') AS women, "
    "count(*) FILTER (WHERE sex = 'M') AS men FROM patients GROUP BY study_id ORDER BY study_id",
    # UNION ALL
    "SELECT 'patients' AS what, count(*) AS n FROM patients UNION ALL "
    "SELECT 'measurements', count(*) FROM measurements ORDER BY what",
    # subqueries (scalar, EXISTS, derived table)
    "SELECT study_id, patient_id FROM patients WHERE age > (SELECT avg(age) FROM patients) "
    "AND EXISTS (SELECT 1 FROM measurements m WHERE m.patient_id = patients.patient_id "
    "AND m.value > 10) ORDER BY study_id, patient_id",
    # string functions
    "SELECT s.study_id, upper(s.title) AS t, length(s.title) AS len, "
    "substr(s.title, 1, 5) AS head, "
    "replace(s.title, ' ', '_') AS slug, split_part(s.study_id, '-', 1) AS author, "
    "starts_with(s.title, 'Mesen') AS msc, "
    "string_agg(p.patient_id || ':' || lower(p.sex), ',' ORDER BY p.patient_id) AS who "
    "FROM studies s JOIN patients p USING (study_id) GROUP BY ALL ORDER BY s.study_id",
    # qualified main.<table>
    "SELECT count(*) AS n FROM main.patients AS p JOIN main.studies AS s USING (study_id)",
    # a view, a comment and a trailing semicolon
    "-- how many patients per study\n"
    "SELECT study_id, n /* from the view */ FROM patient_summary ORDER BY study_id;",
    # range() as a day grid
    "SELECT d.day, count(m.value) AS n FROM range(0, 8) AS d(day) "
    "LEFT JOIN measurements m ON m.day = d.day GROUP BY d.day ORDER BY d.day",
    # FROM-first syntax
    "FROM patients SELECT study_id, patient_id, age ORDER BY age DESC, patient_id LIMIT 3",
    # QUALIFY
    "SELECT study_id, patient_id, day, value FROM measurements WHERE analyte = 'crp' "
    "QUALIFY row_number() OVER (PARTITION BY study_id, patient_id ORDER BY value DESC) = 1 "
    "ORDER BY study_id, patient_id",
    # a rate with NULLIF
    "SELECT study_id, round(count(*) FILTER (WHERE sex = 'F') / NULLIF(count(*), 0), 4) AS share "
    "FROM patients GROUP BY study_id ORDER BY study_id",
]


@pytest.mark.parametrize("sql", ORDINARY, ids=[f"q{i:02d}" for i in range(len(ORDINARY))])
def test_ordinary_query_same_rows(sql: str, env: Env) -> None:
    with duckdb.connect(str(env.db), read_only=True) as plain:
        expected = plain.execute(sql).fetchall()
        relations = relations_of(plain)
    assert expected, "an ordinary query should return rows"
    safe = check_query(sql, relations)
    with connect_readonly(env.db) as con:
        assert con.execute(safe).fetchall() == expected


# -- (d) the regenerated SQL is what runs --------------------------------------------------------


def test_regenerated_sql_drops_trailing_comment() -> None:
    safe = check_query("SELECT count(*) FROM patients -- ; DROP TABLE x", RELATIONS)
    assert safe == "SELECT COUNT(*) FROM patients"


def test_regenerated_sql_is_normalised_and_runs(env: Env) -> None:
    sql = "/* head */ select  patient_id  from Patients /* why */ where age>60 ;  "
    safe = check_query(sql, RELATIONS)
    assert safe == "SELECT patient_id FROM Patients WHERE age > 60"
    with connect_readonly(env.db) as con:
        assert sorted(con.execute(safe).fetchall()) == [("p2",), ("p3",)]


def test_regenerated_sql_escapes_strings() -> None:
    safe = check_query("SELECT $$it's; DROP TABLE x$$ AS s FROM patients", RELATIONS)
    assert safe == "SELECT 'it''s; DROP TABLE x' AS s FROM patients"


# -- (e) refusals say what was refused -----------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT * FROM read_csv('/etc/passwd')", "read_csv"),
        ("SELECT getenv('HOME')", "getenv()"),
        ("SELECT current_setting('threads')", "current_setting()"),
        ("SELECT * FROM '/etc/passwd'", "reading files is not allowed ('/etc/passwd')"),
        ("SELECT * FROM information_schema.tables", "schema 'information_schema'"),
        ("SELECT * FROM other.main.t", "database 'other'"),
        ("CHECKPOINT", "CHECKPOINT statement"),
        ("COPY patients TO 'x.csv'", "COPY statement"),
        ("SELECT 1; SELECT 2", "2 statements"),
        ("", "empty"),
        ("-- nothing", "empty"),
        ("SELECT * FROM (DESCRIBE patients)", "DESCRIBE statement inside the query"),
        ("SELECT 'HOME'.getenv()", "getenv()"),
    ],
)
def test_refusal_names_what_was_refused(sql: str, expected: str) -> None:
    with pytest.raises(UnsafeQuery) as refused:
        check_query(sql, RELATIONS)
    message = str(refused.value)
    assert expected in message
    assert RULE in message
    assert "\n" not in message


def test_unknown_table_suggests_closest_relation() -> None:
    with pytest.raises(UnsafeQuery) as refused:
        check_query("SELECT * FROM patient", RELATIONS)
    assert "unknown table or view 'patient' (did you mean 'patients'?)" in str(refused.value)


def test_unknown_table_without_close_match_suggests_nothing() -> None:
    with pytest.raises(UnsafeQuery) as refused:
        check_query("SELECT * FROM xyzzy", RELATIONS)
    assert "'xyzzy'" in str(refused.value)
    assert "did you mean" not in str(refused.value)


def test_unparseable_sql_gives_one_line() -> None:
    with pytest.raises(UnsafeQuery, match="could not be parsed") as refused:
        check_query("SELECT (1 FROM WHERE", RELATIONS)
    assert "\n" not in str(refused.value)
    assert isinstance(refused.value, QueryError)


# -- scoping, relations, allowed table functions -------------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "WITH recent AS (SELECT * FROM measurements WHERE day > 2) SELECT count(*) FROM recent",
        "WITH a AS (SELECT 1 AS x), b AS (SELECT x FROM a) SELECT * FROM b",
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) "
        "SELECT * FROM r",
        "SELECT * FROM MAIN.Patients",
        "SELECT * FROM range(3) AS t(i)",
        "SELECT * FROM generate_series(1, 3)",
        "SELECT * FROM unnest([1, 2]) AS t(x)",
        "SELECT * FROM (VALUES (1), (2)) AS v(x)",
        "(SELECT 1) UNION (SELECT 2)",
    ],
)
def test_allowed_shapes(sql: str) -> None:
    check_query(sql, RELATIONS)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM (WITH a AS (SELECT 1) SELECT * FROM a), a",  # CTE out of scope
        "WITH a AS (SELECT * FROM b), b AS (SELECT 1) SELECT * FROM a",  # used before defined
        "SELECT * FROM temp.patients",
        "SELECT * FROM main.read_text('x')",
        "SELECT * FROM system.main.range(3)",
        "SELECT main.lower(patient_id) FROM patients",
    ],
)
def test_refused_shapes(sql: str) -> None:
    with pytest.raises(UnsafeQuery):
        check_query(sql, RELATIONS)


def test_relations_of_before_and_after_hardening(env: Env) -> None:
    expected = {"patients", "measurements", "studies", "patient_summary"}
    with duckdb.connect(str(env.db), read_only=True) as con:
        con.execute("CREATE TEMP TABLE scratch AS SELECT 1 AS x")  # temporary: not a relation
        assert relations_of(con) == expected
        harden(con)
        assert relations_of(con) == expected


def test_connect_readonly_settings(env: Env) -> None:
    with connect_readonly(env.db) as con:
        values = dict(con.execute("SELECT name, value FROM duckdb_settings()").fetchall())
        assert values["access_mode"] == "read_only"
        assert values["enable_external_access"] == "false"
        assert values["lock_configuration"] == "true"
        assert values["autoload_known_extensions"] == "false"
        assert values["autoinstall_known_extensions"] == "false"
        assert values["allow_community_extensions"] == "false"
        with pytest.raises(duckdb.Error, match="locked"):
            con.execute("SET enable_external_access = true")


def test_connect_readonly_missing_file(tmp_path: Path) -> None:
    with pytest.raises(NoRegistry):
        connect_readonly(tmp_path / "nope.duckdb")
    assert not (tmp_path / "nope.duckdb").exists()


# -- every allowed function: passes the guard and runs on a hardened connection -----------------

FUNCTION_EXAMPLES: dict[str, str] = {
    "count": "SELECT count(*) FROM measurements",
    "count_if": "SELECT count_if(value > 5) FROM measurements",
    "sum": "SELECT sum(value) FROM measurements",
    "avg": "SELECT avg(value) FROM measurements",
    "mean": "SELECT mean(value) FROM measurements",
    "min": "SELECT min(value) FROM measurements",
    "max": "SELECT max(value) FROM measurements",
    "median": "SELECT median(value) FROM measurements",
    "quantile": "SELECT quantile(value, 0.5) FROM measurements",
    "quantile_cont": "SELECT quantile_cont(value, [0.25, 0.75]) FROM measurements",
    "quantile_disc": "SELECT quantile_disc(value, 0.5) FROM measurements",
    "percentile_cont": "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY day) FROM measurements",
    "percentile_disc": "SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY age) FROM patients",
    "stddev": "SELECT stddev(value) FROM measurements",
    "stddev_samp": "SELECT stddev_samp(value) FROM measurements",
    "stddev_pop": "SELECT stddev_pop(value) FROM measurements",
    "variance": "SELECT variance(value) FROM measurements",
    "var_samp": "SELECT var_samp(value) FROM measurements",
    "var_pop": "SELECT var_pop(value) FROM measurements",
    "corr": "SELECT corr(value, day) FROM measurements",
    "covar_samp": "SELECT covar_samp(value, day) FROM measurements",
    "covar_pop": "SELECT covar_pop(value, day) FROM measurements",
    "string_agg": "SELECT string_agg(analyte, ',' ORDER BY analyte) FROM measurements",
    "listagg": "SELECT listagg(analyte, ',') FROM measurements",
    "list": "SELECT list(value ORDER BY day) FROM measurements",
    "array_agg": "SELECT array_agg(value) FROM measurements",
    "bool_and": "SELECT bool_and(value > 0) FROM measurements",
    "bool_or": "SELECT bool_or(value > 10) FROM measurements",
    "first": "SELECT first(value) FROM measurements",
    "last": "SELECT last(value) FROM measurements",
    "any_value": "SELECT any_value(value) FROM measurements",
    "arg_min": "SELECT arg_min(patient_id, value) FROM measurements",
    "arg_max": "SELECT arg_max(patient_id, value) FROM measurements",
    "min_by": "SELECT min_by(patient_id, value) FROM measurements",
    "max_by": "SELECT max_by(patient_id, value) FROM measurements",
    "mode": "SELECT mode(analyte) FROM measurements",
    "row_number": "SELECT row_number() OVER (ORDER BY value) FROM measurements",
    "rank": "SELECT rank() OVER (ORDER BY value) FROM measurements",
    "dense_rank": "SELECT dense_rank() OVER (ORDER BY value) FROM measurements",
    "percent_rank": "SELECT percent_rank() OVER (ORDER BY value) FROM measurements",
    "cume_dist": "SELECT cume_dist() OVER (ORDER BY value) FROM measurements",
    "ntile": "SELECT ntile(4) OVER (ORDER BY value) FROM measurements",
    "lag": "SELECT lag(value, 1, 0) OVER (ORDER BY day) FROM measurements",
    "lead": "SELECT lead(value) OVER (PARTITION BY patient_id ORDER BY day) FROM measurements",
    "first_value": "SELECT first_value(value) OVER (ORDER BY day) FROM measurements",
    "last_value": "SELECT last_value(value) OVER (ORDER BY day) FROM measurements",
    "nth_value": "SELECT nth_value(value, 2) OVER (ORDER BY day) FROM measurements",
    "abs": "SELECT abs(-1.5)",
    "round": "SELECT round(2.345, 2)",
    "floor": "SELECT floor(2.5)",
    "ceil": "SELECT ceil(2.5)",
    "ceiling": "SELECT ceiling(2.5)",
    "trunc": "SELECT trunc(2.7)",
    "sign": "SELECT sign(-3)",
    "ln": "SELECT ln(2.0)",
    "log": "SELECT log(100)",
    "log10": "SELECT log10(100)",
    "log2": "SELECT log2(8)",
    "exp": "SELECT exp(1)",
    "sqrt": "SELECT sqrt(4)",
    "power": "SELECT power(2, 3)",
    "pow": "SELECT pow(2, 3)",
    "greatest": "SELECT greatest(1, 2)",
    "least": "SELECT least(1, 2)",
    "isnan": "SELECT isnan('nan'::DOUBLE)",
    "isinf": "SELECT isinf('inf'::DOUBLE)",
    "isfinite": "SELECT isfinite(1.0)",
    "coalesce": "SELECT coalesce(NULL, 1)",
    "ifnull": "SELECT ifnull(NULL, 1)",
    "nullif": "SELECT nullif(1, 1)",
    "if": "SELECT if(age > 50, 'older', 'younger') FROM patients",
    "cast": "SELECT CAST(age AS DOUBLE), age::VARCHAR FROM patients",
    "try_cast": "SELECT TRY_CAST('x' AS INTEGER)",
    "lower": "SELECT lower('A')",
    "upper": "SELECT upper('a')",
    "lcase": "SELECT lcase('A')",
    "ucase": "SELECT ucase('a')",
    "length": "SELECT length('abc')",
    "len": "SELECT len('abc')",
    "char_length": "SELECT char_length('abc')",
    "substr": "SELECT substr('abc', 1, 2)",
    "substring": "SELECT substring('abc', 2)",
    "left": "SELECT left('abc', 2)",
    "right": "SELECT right('abc', 2)",
    "trim": "SELECT trim('  a  ')",
    "ltrim": "SELECT ltrim('  a')",
    "rtrim": "SELECT rtrim('a  ')",
    "lpad": "SELECT lpad('1', 3, '0')",
    "rpad": "SELECT rpad('1', 3, '0')",
    "replace": "SELECT replace('abc', 'b', 'x')",
    "reverse": "SELECT reverse('abc')",
    "repeat": "SELECT repeat('a', 3)",
    "concat": "SELECT concat('a', 'b', 1)",
    "concat_ws": "SELECT concat_ws(',', 'a', 'b')",
    "split_part": "SELECT split_part('a-b', '-', 1)",
    "string_split": "SELECT string_split('a,b', ',')",
    "str_split": "SELECT str_split('a,b', ',')",
    "string_to_array": "SELECT string_to_array('a,b', ',')",
    "strpos": "SELECT strpos('abc', 'b')",
    "instr": "SELECT instr('abc', 'b')",
    "position": "SELECT position('b' IN 'abc')",
    "contains": "SELECT contains('abc', 'b')",
    "starts_with": "SELECT starts_with('abc', 'a')",
    "ends_with": "SELECT ends_with('abc', 'c')",
    "prefix": "SELECT prefix('abc', 'a')",
    "suffix": "SELECT suffix('abc', 'c')",
    "regexp_matches": "SELECT regexp_matches('abc', 'b')",
    "regexp_full_match": "SELECT regexp_full_match('abc', 'a.c')",
    "regexp_replace": "SELECT regexp_replace('abc', 'b', 'x')",
    "regexp_extract": "SELECT regexp_extract('abc', 'b+')",
    "format": "SELECT format('{}-{}', 1, 'x')",
    "unnest": "SELECT unnest([1, 2])",
    "list_value": "SELECT list_value(1, 2)",
    "list_sort": "SELECT list_sort([2, 1])",
    "array_sort": "SELECT array_sort([2, 1])",
    "list_reverse_sort": "SELECT list_reverse_sort([1, 2])",
    "array_length": "SELECT array_length([1, 2])",
    "list_contains": "SELECT list_contains([1, 2], 1)",
    "array_contains": "SELECT array_contains([1, 2], 1)",
    "list_has": "SELECT list_has([1, 2], 1)",
    "list_distinct": "SELECT list_distinct([1, 1, 2])",
    "list_concat": "SELECT list_concat([1], [2])",
    "array_cat": "SELECT array_cat([1], [2])",
    "list_min": "SELECT list_min([1, 2])",
    "list_max": "SELECT list_max([1, 2])",
    "list_sum": "SELECT list_sum([1, 2])",
    "list_avg": "SELECT list_avg([1, 2])",
    "list_extract": "SELECT list_extract([1, 2], 1)",
    "list_slice": "SELECT list_slice([1, 2, 3], 1, 2)",
    "list_filter": "SELECT list_filter([1, 2, 3], x -> x > 1)",
    "list_transform": "SELECT list_transform([1, 2], x -> x * 2)",
    "flatten": "SELECT flatten([[1], [2]])",
    "array_to_string": "SELECT array_to_string([1, 2], ',')",
    "range": "SELECT * FROM range(3)",
    "generate_series": "SELECT * FROM generate_series(1, 3)",
    "grouping": "SELECT analyte, grouping(analyte) FROM measurements GROUP BY ROLLUP (analyte)",
}


def test_function_examples_cover_the_allow_list() -> None:
    assert set(FUNCTION_EXAMPLES) == ALLOWED_FUNCTIONS
    for name, sql in FUNCTION_EXAMPLES.items():
        assert re.search(rf"\b{name}\b", sql, re.IGNORECASE), f"{name}: example does not call it"


@pytest.fixture
def copy_db(env: Env, tmp_path: Path) -> Path:
    """A private copy, so a hardened connection here never shares an instance with other tests."""
    path = tmp_path / "copy.duckdb"
    shutil.copyfile(env.db, path)
    return path


def test_allowed_functions_pass_and_run(copy_db: Path) -> None:
    failures = []
    with connect_readonly(copy_db) as con:
        relations = relations_of(con)
        for name, sql in sorted(FUNCTION_EXAMPLES.items()):
            try:
                con.execute(check_query(sql, relations)).fetchall()
            except (UnsafeQuery, duckdb.Error) as exc:
                failures.append(f"{name}: {exc}")
    assert not failures, "\n".join(failures)
