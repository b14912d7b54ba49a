"""The query layer: which orders an analysis looks at, built and validated once.

A :class:`Selection` names the AOV definition, the date range, the counted statuses, the
currency, equality filters, the grouping (dimensions and time grain) and the engine. The
CLI builds one per command and every analysis takes one; :func:`require_orders` and
:func:`require_one_currency` are the guards every analysis applies to what came back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TypedDict

from .. import schema
from ..engines import ENGINES
from ..errors import CurrencyMixError, DefinitionError, EngineError, NoDataError

PERIODS = ("day", "week", "month", "quarter", "year")
#: Dimensions an order can be grouped by, and where they come from.
ORDER_DIMENSIONS = ("channel", "country", "region", "city", "device", "currency", "source",
                    "coupon")
DERIVED_DIMENSIONS = ("customer_type", "category", "product")
DIMENSIONS = ORDER_DIMENSIONS + DERIVED_DIMENSIONS
#: Dimensions the traffic table shares with orders (conversion rate needs them).
TRAFFIC_DIMENSIONS = ("channel", "country", "device")


class SelectionOptions(TypedDict, total=False):
    """The keyword form of a :class:`Selection`, accepted by every analysis."""

    definition: str | schema.Definition | None
    start: date | str | None
    end: date | str | None
    statuses: Sequence[str] | None
    currency: str | None
    filters: Mapping[str, str] | None
    by: Sequence[str] | str
    period: str | None
    engine: object


@dataclass(frozen=True)
class Selection:
    """Which orders count, how they are grouped, and on which engine. Build with :meth:`of`."""

    definition: schema.Definition
    start: date | None = None  # inclusive, on order_date
    end: date | None = None  # inclusive, on order_date
    statuses: tuple[str, ...] = schema.COUNTED_STATUSES
    currency: str | None = None
    filters: tuple[tuple[str, str], ...] = ()  # (dimension, value) equalities
    by: tuple[str, ...] = ()
    period: str | None = None
    engine: object = "duckdb"  # an engine name, or an engine object

    @classmethod
    def of(cls, base: Selection | None = None, **options: object) -> Selection:
        """A validated selection from keywords (see :class:`SelectionOptions`).

        With ``base``, the keywords given replace its settings, ``None`` included (so
        ``currency=None`` clears a currency); ``filters`` replace the base's filters.
        """
        unknown = sorted(set(options) - set(SelectionOptions.__annotations__))
        if unknown:
            raise DefinitionError(f"unknown selection setting(s) {unknown}",
                                  fix=f"use {', '.join(SelectionOptions.__annotations__)}")
        if base is not None:
            current = {"definition": base.definition, "start": base.start, "end": base.end,
                       "statuses": base.statuses, "currency": base.currency,
                       "filters": dict(base.filters), "by": base.by, "period": base.period,
                       "engine": base.engine}
            options = {**current, **options}
        return _build(**options)

    def with_(self, **changes: object) -> Selection:
        """A copy with ``changes`` (validated like :meth:`of`; ``None`` clears)."""
        return Selection.of(self, **changes)

    @property
    def keys(self) -> list[str]:
        """Group-by columns of the result, the period first."""
        return (["period"] if self.period else []) + list(self.by)

    @property
    def engine_name(self) -> str:
        return self.engine if isinstance(self.engine, str) else getattr(
            self.engine, "name", type(self.engine).__name__)

    def describe(self) -> dict:
        """Plain values for result metadata and JSON."""
        return {"definition": self.definition.name, "formula": self.definition.formula,
                "start": self.start.isoformat() if self.start else None,
                "end": self.end.isoformat() if self.end else None,
                "statuses": list(self.statuses), "currency": self.currency,
                "filters": dict(self.filters), "by": list(self.by), "period": self.period,
                "engine": self.engine_name}


def _build(definition: object = None, start: object = None, end: object = None,
           statuses: Sequence[str] | None = None, currency: str | None = None,
           filters: Mapping[str, str] | None = None, by: Sequence[str] | str = (),
           period: str | None = None, engine: object = "duckdb") -> Selection:
    d = schema.get_definition(definition)  # type: ignore[arg-type]
    engine = "duckdb" if engine is None else engine
    st = tuple(statuses or schema.COUNTED_STATUSES)
    bad = [s for s in st if s not in schema.STATUSES]
    if bad:
        raise DefinitionError(f"unknown status(es) {bad}",
                              fix=f"use any of {', '.join(schema.STATUSES)}")
    flt = tuple((filters or {}).items())
    check_dimensions([k for k, _ in flt])
    grouping = tuple(dict.fromkeys([by] if isinstance(by, str) else (by or ())))
    check_dimensions(grouping)
    if period is not None and period not in PERIODS:
        raise DefinitionError(f"unknown period {period!r}", fix=f"use one of {', '.join(PERIODS)}")
    s, e = parse_date(start, "start"), parse_date(end, "end")
    if s and e and s > e:
        raise DefinitionError(f"start {s} is after end {e}", fix="swap --start and --end")
    if isinstance(engine, str) and engine.lower() not in ENGINES:
        raise EngineError(f"unknown engine {engine!r}", fix=f"use one of {', '.join(ENGINES)}")
    cur = currency.strip().upper() if currency else None
    if cur is not None and cur not in schema.CURRENCIES:
        raise DefinitionError(f"currency {currency!r} is not an ISO 4217 code",
                              fix="write e.g. EUR, USD, GBP, AUD (the Australian dollar)")
    return Selection(d, s, e, st, cur, flt,
                     grouping, period, engine.lower() if isinstance(engine, str) else engine)


def check_dimensions(dims: Sequence[str]) -> None:
    unknown = [d for d in dims if d not in DIMENSIONS]
    if unknown:
        raise DefinitionError(f"unknown dimension(s) {unknown}",
                              fix=f"group by any of {', '.join(DIMENSIONS)}")


def parse_date(value: date | str | None, what: str) -> date | None:
    if value is None:
        return value
    if isinstance(value, date):
        return _in_range(value, what)
    try:
        d = date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise DefinitionError(f"--{what} {value!r} is not a date",
                              fix="write dates as YYYY-MM-DD") from exc
    return _in_range(d, what)


def _in_range(d: date, what: str) -> date:
    """Orders are dated within the schema's 1970..2199: a date beyond is a typo."""
    if not date.fromisoformat(schema.FIRST_DATE) <= d <= date.fromisoformat(schema.LAST_DATE):
        raise DefinitionError(
            f"--{what} {d.isoformat()} is outside {schema.FIRST_DATE[:4]}.."
            f"{schema.LAST_DATE[:4]}, where every order's date lies",
            fix="check the year")
    return d


def parse_range(value: object, what: str) -> tuple[date, date]:
    """``'2011-01-01:2011-03-31'`` (or ``..``), or a pair of dates, as (start, end)."""
    if isinstance(value, str):
        parts = value.split(":") if ":" in value else value.split("..")
        if len(parts) != 2:
            raise DefinitionError(f"{what} period {value!r} is not START:END",
                                  fix="write e.g. 2011-01-01:2011-03-31")
        value = tuple(parts)
    try:
        start, end = (v if isinstance(v, date) else date.fromisoformat(str(v).strip())
                      for v in value)  # type: ignore[union-attr]
    except (TypeError, ValueError) as exc:
        raise DefinitionError(f"{what} period {value!r} is not two dates",
                              fix="write e.g. 2011-01-01:2011-03-31") from exc
    if start > end:
        raise DefinitionError(f"{what} period starts after it ends", fix="swap the two dates")
    return start, end


def require_orders(orders: int, what: str = "the selection", *, fix: str | None = None) -> None:
    """No data: the one guard every analysis applies (``fix`` for analysis-specific advice)."""
    if orders == 0:
        raise NoDataError(f"no orders match {what}",
                          fix=fix or "check --start/--end, --currency, --where and --status; "
                                     "'aovlab status' shows what the workspace holds")


def require_one_currency(currencies: int | Sequence[str], sel: Selection, *,
                         fix: str | None = None) -> None:
    """Sums across currencies are meaningless unless the result is split by currency."""
    n = currencies if isinstance(currencies, int) else len(set(currencies))
    if n > 1 and "currency" not in sel.by:
        raise CurrencyMixError(
            "the selection mixes currencies; sums across currencies are meaningless",
            fix=fix or "add --by currency, or choose one with --currency EUR")


__all__ = ["DERIVED_DIMENSIONS", "DIMENSIONS", "ORDER_DIMENSIONS", "PERIODS",
           "TRAFFIC_DIMENSIONS", "Selection", "SelectionOptions", "check_dimensions",
           "parse_date", "parse_range", "require_one_currency", "require_orders"]
