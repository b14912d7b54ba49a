"""The importer contract: one class per source format, registered by name.

An importer declares its ``name``, ``help``, what it ``reads`` and a frozen ``Options``
dataclass whose fields (with their ``help`` metadata) are its settings: the Python API
checks them, and the CLI's ``import`` options and ``docs/cli.md`` are generated from them.
Staging runs in three steps on a :class:`~aovlab.storage.StagingContext`:

* :meth:`Importer.read` loads the source into temporary tables and returns what it found;
* :meth:`Importer.check` refuses bad input, naming file, row, column and value;
* :meth:`Importer.build` hands the canonical tables to ``ctx.emit``.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..errors import DefinitionError
from ..storage import StagingContext


def option(help: str, default: Any = None, *, cli: bool = True) -> Any:  # noqa: A002
    """An importer setting with its help text (``cli=False``: Python API only)."""
    return field(default=default, metadata={"help": help, "cli": cli})


@dataclass(frozen=True)
class NoOptions:
    """The settings of an importer that takes none."""


class Importer(ABC):
    """Base class of every source format; subclasses are registered with :func:`register`."""

    name: ClassVar[str]
    help: ClassVar[str]
    reads: ClassVar[str] = "one file"  # how many files it takes, in words
    aliases: ClassVar[tuple[str, ...]] = ()
    Options: ClassVar[type] = NoOptions

    def options(self, given: Mapping[str, object]) -> Any:
        """The ``Options`` for keyword settings ``given``; unknown names are refused."""
        names = {f.name for f in dataclasses.fields(self.Options)}
        unknown = sorted(set(given) - names)
        if unknown:
            raise DefinitionError(
                f"the {self.name} importer has no option {', '.join(unknown)}",
                fix=f"its options are: {', '.join(sorted(names)) or 'none'}")
        return self.Options(**given)

    def default_source(self, found: Any, options: Any) -> str:  # noqa: ARG002 - overridable
        """The source an import writes under when none is given: the format's name."""
        return self.name

    def stage(self, ctx: StagingContext, paths: Sequence[str], options: Any) -> None:
        """Read, check and build: the whole staging of one import."""
        found = self.read(ctx, list(paths), options)
        if not ctx.source:
            ctx.use_source(self.default_source(found, options))
        ctx.progress("checking values")
        self.check(ctx, found, options)
        ctx.progress("building orders")
        self.build(ctx, found, options)

    @abstractmethod
    def read(self, ctx: StagingContext, paths: list[str], options: Any) -> Any:
        """Implemented by each format."""

    @abstractmethod
    def check(self, ctx: StagingContext, found: Any, options: Any) -> None:
        """Implemented by each format."""

    @abstractmethod
    def build(self, ctx: StagingContext, found: Any, options: Any) -> None:
        """Implemented by each format."""


FORMATS: dict[str, Importer] = {}
_ALIASES: dict[str, str] = {}


def register(cls: type[Importer]) -> type[Importer]:
    """Class decorator: make ``cls`` available under its name and aliases."""
    FORMATS[cls.name] = cls()
    for alias in cls.aliases:
        _ALIASES[alias] = cls.name
    return cls


def resolve_format(fmt: str) -> Importer:
    key = fmt.lower()
    key = _ALIASES.get(key, key)
    if key not in FORMATS:
        raise DefinitionError(f"unknown import format {fmt!r}",
                              fix=f"use one of {', '.join(FORMATS)}")
    return FORMATS[key]


def option_fields() -> dict[str, tuple[dataclasses.Field, list[str]]]:
    """Every CLI option of every format: name -> (field, formats that take it)."""
    out: dict[str, tuple[dataclasses.Field, list[str]]] = {}
    for imp in FORMATS.values():
        for f in dataclasses.fields(imp.Options):
            if not f.metadata.get("cli", True):
                continue
            if f.name in out:
                out[f.name][1].append(imp.name)
            else:
                out[f.name] = (f, [imp.name])
    return out
