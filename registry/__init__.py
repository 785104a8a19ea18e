"""caseregistry: published clinical case series as a queryable, reproducible DuckDB registry.

    import registry
    reg = registry.Registry("registry.duckdb")
    reg.query("survival_at", day=28).df()
"""

__version__ = "0.1.0"

from .core import QueryResult, Registry  # noqa: E402
from .errors import (  # noqa: E402
    NoRegistry,
    PackageError,
    Problem,
    QueryError,
    RegistryError,
    RegistryExists,
    RegistryLocked,
    SchemaVersionError,
    StudyExists,
    UnknownName,
    UnsafeQuery,
)

__all__ = [
    "NoRegistry",
    "PackageError",
    "Problem",
    "QueryError",
    "QueryResult",
    "Registry",
    "RegistryError",
    "RegistryExists",
    "RegistryLocked",
    "SchemaVersionError",
    "StudyExists",
    "UnknownName",
    "UnsafeQuery",
    "__version__",
]
