"""How much memory DuckDB may take: a share of the machine by default, so that a laptop
stays usable while a large import or query runs (DuckDB spills what does not fit to a
temporary folder beside the workspace instead of failing).

The limit is, first found: the ``memory_limit`` a caller passes (``Workspace(path,
memory_limit="4GB")``), the ``AOVLAB_MEMORY_LIMIT`` environment variable (or the CLI's
``--memory-limit``), the limit stored with the workspace (``aovlab config -w W
memory_limit 8GB``, :meth:`Workspace.set_memory_limit`), else :data:`DEFAULT_SHARE` of the
physical memory. A limit is an amount (``4GB``, ``512MB``, ``2GiB``) or a share of the
memory (``50%``).
"""

from __future__ import annotations

import os
import re

from ..errors import DefinitionError

#: The default share of physical memory DuckDB may use (DuckDB's own default is 80%,
#: which leaves a laptop little for anything else).
DEFAULT_SHARE = 0.5
ENV = "AOVLAB_MEMORY_LIMIT"
_UNITS = {"": 1, "b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12, "kib": 2 ** 10,
          "mib": 2 ** 20, "gib": 2 ** 30, "tib": 2 ** 40}
#: Below this DuckDB cannot run aovlab's queries at all.
MINIMUM = 64 * 2 ** 20


def physical_memory() -> int:
    """Bytes of physical memory of this machine."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def memory_limit_bytes(given: str | None = None, stored: str | None = None) -> int:
    """The limit in bytes, from ``given``, the environment, ``stored`` (the workspace's),
    or the default share."""
    text = given if given is not None else os.environ.get(ENV) or stored or None
    if text is None:
        return int(physical_memory() * DEFAULT_SHARE)
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(%|[kmgt]i?b|b)?\s*", str(text), re.I)
    if not m:
        raise DefinitionError(f"memory limit {text!r} is not an amount or a share",
                              fix="write e.g. 4GB, 512MB or 50% (of this machine's memory)")
    number, unit = float(m.group(1)), (m.group(2) or "").lower()
    if unit == "%":
        if not 0 < number <= 100:
            raise DefinitionError(f"memory limit {text!r} is not a share from 1% to 100%",
                                  fix="write e.g. 50%")
        value = physical_memory() * number / 100
    else:
        value = number * _UNITS[unit]
    if value < MINIMUM:
        raise DefinitionError(f"memory limit {text!r} is below {MINIMUM // 2 ** 20} MiB",
                              fix="give DuckDB at least 64MB, e.g. 1GB")
    return int(value)


def apply(con, given: str | None = None, stored: str | None = None) -> int:
    """Set the limit on a DuckDB connection; returns it in bytes. A stored limit this
    machine cannot take (a share below the minimum here) gives way to the default, so
    the workspace still opens (and ``aovlab config`` can change it)."""
    try:
        limit = memory_limit_bytes(given, stored)
    except DefinitionError:
        if given is not None or os.environ.get(ENV) or stored is None:
            raise
        limit = memory_limit_bytes()
    con.execute(f"SET memory_limit = '{limit // 2 ** 20}MiB'")
    return limit
