"""One error family for everything aovlab refuses to do.

The CLI maps every :class:`AovlabError` to a clean one-paragraph message and exit code 2;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class AovlabError(Exception):
    """Base class: a problem the user can fix, explained in words."""

    exit_code = 2

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        self.message = message
        self.fix = fix
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return f"{self.message}\nFix: {self.fix}" if self.fix else self.message


@dataclass(frozen=True)
class Location:
    """Where in the user's input a problem sits; every field optional but the file."""

    file: str
    row: int | None = None  # 1-based data row as the user sees it (header excluded)
    column: str | None = None
    value: object = None

    def describe(self) -> str:
        parts = [f"file {self.file}"]
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column {self.column!r}")
        if self.value is not None:
            shown = str(self.value)
            shown = shown if len(shown) <= 80 else shown[:77] + "..."
            parts.append(f"value {shown!r}")
        return ", ".join(parts)


class InputError(AovlabError):
    """Bad input data: names the file, row, column and value, and says how to fix it."""

    def __init__(self, problem: str, location: Location, *, fix: str) -> None:
        self.location = location
        self.problem = problem
        super().__init__(f"{location.describe()}: {problem}", fix=fix)


class MappingError(AovlabError):
    """A column-mapping file that cannot be used."""


class WorkspaceError(AovlabError):
    """The workspace file is missing, locked, or from another version."""


class DefinitionError(AovlabError):
    """An unknown AOV definition, period, dimension or metric setting."""


class CurrencyMixError(AovlabError):
    """Orders in more than one currency would be summed together."""


class EngineError(AovlabError):
    """An engine (DuckDB, Spark) is unavailable or misconfigured."""


class NoDataError(AovlabError):
    """The selection holds no orders to compute on."""


class NotFittedError(AovlabError, AttributeError):
    """A model is used before ``fit`` (scikit-learn's contract: also an AttributeError)."""


class ModelError(AovlabError):
    """A model's input is unusable, or its fit does not converge."""


def first_line(exc: BaseException) -> str:
    """The first line of an engine's or driver's error, for a message (its name if the
    error says nothing)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def is_interrupt(exc: BaseException) -> bool:
    """Is ``exc`` Ctrl-C arriving inside a DuckDB query?

    DuckDB turns SIGINT into ``InterruptException`` or a bare ``RuntimeError('Query
    interrupted')`` depending on where it lands; both mean the user pressed Ctrl-C.
    """
    return type(exc).__name__ == "InterruptException" or (
        isinstance(exc, RuntimeError) and str(exc).strip() == "Query interrupted")


def log_folder() -> Path | None:
    """Where aovlab writes its logs (internal errors, Spark's JVM output): ``AOVLAB_LOG_DIR``,
    else ``~/.cache/aovlab``, else the temporary folder; None if none is writable."""
    import os
    import tempfile

    for folder in (os.environ.get("AOVLAB_LOG_DIR"), Path.home() / ".cache" / "aovlab",
                   tempfile.gettempdir()):
        if not folder:
            continue
        try:
            Path(folder).mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(folder, os.W_OK):
            return Path(folder)
    return None
