"""Error types of the registry library.

Every condition a user can cause has its own class; the CLI catches `RegistryError` in one place
and prints its message (exit 1). Anything else escaping the library is a bug and shows a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


class RegistryError(Exception):
    """Base class: an operation was refused for a reason the user can act on."""


class RegistryExists(RegistryError):
    """`init` on a file that already holds a registry (use --force)."""


class NoRegistry(RegistryError):
    """The database file does not exist or holds no registry."""


class SchemaVersionError(RegistryError):
    """The database was made by a different (newer or older) schema version."""


class RegistryLocked(RegistryError):
    """Another process holds the database file for writing."""


class UnknownName(RegistryError):
    """A view, table, named query or study that does not exist (with a suggestion)."""


class QueryError(RegistryError):
    """A named query or ad-hoc SQL failed (bad parameter, engine error)."""


class UnsafeQuery(QueryError):
    """Ad-hoc SQL refused by the SQL guard (not a single read-only query over known relations)."""


class StudyExists(RegistryError):
    """A changed package for a study that is already in the registry, without --replace."""


@dataclass(frozen=True)
class Problem:
    """One validation problem: where it is and which rule it breaks."""

    file: str
    rule: str
    row: int | None = None  # 1-based line in the file, header = line 1
    column: str | None = None
    value: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column {self.column}"
        text = f"{where}: {self.rule}"
        if self.value is not None:
            value = self.value if len(self.value) <= 80 else self.value[:77] + "..."
            text += f" (value: {value!r})"
        return text


class PackageError(RegistryError):
    """A case-series package failed validation; nothing was written."""

    def __init__(self, package: str, problems: list[Problem]):
        self.package = package
        self.problems = problems
        count = len(problems)
        head = f"{package}: {count} problem{'s' if count != 1 else ''}; nothing was imported"
        shown = problems[:50]
        lines = [head] + [f"  {p}" for p in shown]
        if count > len(shown):
            lines.append(f"  ... and {count - len(shown)} more")
        super().__init__("\n".join(lines))
