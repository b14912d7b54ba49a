"""Calendar periods in Python, as the engines truncate them (weeks start on Monday)."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

#: One period back, per grain.
STEP = {"day": pd.DateOffset(days=1), "week": pd.DateOffset(weeks=1),
        "month": pd.DateOffset(months=1), "quarter": pd.DateOffset(months=3),
        "year": pd.DateOffset(years=1)}
#: A year back, per grain: weeks and days step back a whole number of weeks so that
#: Mondays compare with Mondays.
YEAR = {"day": pd.DateOffset(days=364), "week": pd.DateOffset(weeks=52),
        "month": pd.DateOffset(years=1), "quarter": pd.DateOffset(years=1),
        "year": pd.DateOffset(years=1)}


def period_floor(d: date, period: str) -> date:
    """The first day of the period holding ``d`` (``date_trunc`` on every engine)."""
    if period == "day":
        return d
    if period == "week":
        return d - timedelta(days=d.weekday())
    if period == "month":
        return d.replace(day=1)
    if period == "quarter":
        return date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)
    return date(d.year, 1, 1)


def period_last(start: date, period: str) -> date:
    """The last day of the period that starts on ``start``."""
    return (pd.Timestamp(start) + STEP[period] - pd.Timedelta(days=1)).date()


#: ``--last`` units and ``--vs`` comparisons.
LAST_UNITS = ("day", "week", "month", "quarter", "year")
VS = ("previous", "year")


def last_whole(data_last: date, unit: str) -> tuple[date, date]:
    """The last whole ``unit`` of data ending on ``data_last``: its own period when
    ``data_last`` closes it, else the one before (data to 2011-12-09: November 2011)."""
    start = period_floor(data_last, unit)
    if period_last(start, unit) != data_last:
        start = (pd.Timestamp(start) - STEP[unit]).date()
    return start, period_last(start, unit)


def compared_with(span: tuple[date, date], unit: str, vs: str) -> tuple[date, date]:
    """The period a ``unit``-long ``span`` is compared with: the ``previous`` one, or the
    same one a ``year`` earlier (52 weeks back for a week, so Mondays meet Mondays)."""
    back = STEP[unit] if vs == "previous" else YEAR[unit]
    start = (pd.Timestamp(span[0]) - back).date()
    return start, period_last(start, unit)
