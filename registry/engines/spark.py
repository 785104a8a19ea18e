"""A registry on Spark: the base tables from Parquet, the views transpiled, the SQL guarded.

    registry export --tables --out base/                 # Parquet of every base table
    from registry.engines.spark import SparkRegistry
    reg = SparkRegistry(spark, "base/")                  # any SparkSession (yours, or .local())
    reg.sql("SELECT * FROM km_survival").df()
    reg.query("survival_at", day=28)

Each base table becomes a temporary view over its Parquet file and each registry view a temporary
view of its transpiled SQL, so nothing is written to a warehouse or metastore. The views are
cached lazily (`cache=False` to switch it off): the Parquet is a snapshot, and Spark otherwise
re-plans the whole stack of views under a view such as pooled_outcomes for every query. Ad-hoc SQL is
DuckDB's dialect: it passes the parser layer of the SQL guard, then is transpiled. That parser
layer is the only protection on Spark: Spark has no read-only session nor SELECT-only role of its
own, so `spark.sql()` called directly is not guarded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from .. import guard, sqlfiles, transpile
from ..errors import QueryError, RegistryError, UnknownName


class SparkRegistry:
    def __init__(self, spark, parquet_dir: str | Path, *, cache: bool = True):
        self.spark = spark
        self.parquet_dir = Path(parquet_dir)
        missing = [
            t
            for t in transpile.base_tables()
            if not (self.parquet_dir / f"{t}.parquet").is_file()
        ]
        if missing:
            raise RegistryError(
                f"{self.parquet_dir} lacks {', '.join(missing)}.parquet: write it with "
                "`registry export --tables --out DIR`"
            )
        for table in transpile.base_tables():
            spark.read.parquet(
                str((self.parquet_dir / f"{table}.parquet").resolve())
            ).createOrReplaceTempView(table)
        for name, statement in transpile.view_sql("spark"):
            spark.sql(
                statement.replace(
                    "CREATE OR REPLACE VIEW", "CREATE OR REPLACE TEMPORARY VIEW", 1
                )
            )
            if cache:
                # computed once, on first use: a view over other views then plans over the cached
                # rows instead of re-planning (and re-running) the whole stack below it
                spark.sql(f"CACHE LAZY TABLE {name}")
        self._relations = set(transpile.project_schema())

    @classmethod
    def local(cls, parquet_dir: str | Path, master: str = "local[*]") -> SparkRegistry:
        try:
            from pyspark.sql import SparkSession
        except ImportError:  # pragma: no cover - depends on the install
            raise RegistryError(
                "Spark support needs pyspark: pip install 'caseregistry[spark]'"
            ) from None
        spark = (
            SparkSession.builder.master(master)
            .appName("caseregistry")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .config(
                "spark.ui.showConsoleProgress", "false"
            )  # stderr is for diagnostics, not bars
            .getOrCreate()
        )
        spark.sparkContext.setLogLevel("ERROR")
        return cls(spark, parquet_dir)

    def _run(self, statement: str):
        from py4j.protocol import Py4JError
        from pyspark.errors import PySparkException

        from ..core import QueryResult

        try:
            frame = self.spark.sql(statement)
            names = frame.columns
            rows = frame.collect()
        except (
            PySparkException,
            Py4JError,
        ) as error:  # analysis errors, and errors raised in the JVM
            first = (str(error).strip().splitlines() or ["error"])[0]
            raise QueryError(f"query failed on Spark: {first}") from None
        columns = list(zip(*[tuple(r) for r in rows])) if rows else [[] for _ in names]
        return QueryResult(
            pa.table(
                {
                    n: pa.array(list(c)) if rows else pa.array([], pa.null())
                    for n, c in zip(names, columns)
                }
            )
        )

    def sql(self, text: str):
        safe = guard.check_query(text, self._relations)
        return self._run(transpile.transpile_query(safe, "spark"))

    def query(self, name: str, **params: Any):
        from ..core import _bind, _unknown

        queries = sqlfiles.load_queries()
        if name not in queries:
            raise UnknownName(_unknown("named query", name, queries))
        values = _bind(queries[name], params)
        return self._run(
            transpile.transpile_query(queries[name].body, "spark", params=values)
        )
