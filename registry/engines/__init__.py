"""Other engines for a registry: PostgreSQL (`registry push`, `--engine postgres`) and Spark.

User SQL is always written in DuckDB's dialect: it passes the parser layer of the SQL guard
(registry.guard.check_query) and is then transpiled (registry.transpile) for the engine.
"""

ENGINES = ("duckdb", "postgres", "spark")
