"""Experiment assignments (CSV, Parquet or a frame): which unit saw which variant, and when.

One row per unit and experiment. Columns are read by their canonical names (``experiment``,
``unit_id``, ``variant``, ``first_exposure``, and optionally ``channel``, ``country``,
``device``, ``customer_type``, ``visits``, ``pre_value``) or by the names experiment tools
export (:data:`ALIASES`: ``user_id``, ``customer_id``, ``group``, ``arm``, ``timestamp`` …).
Timestamps without an offset are local time in ``timezone`` (UTC by default). A file of one
experiment without an ``experiment`` column takes its name from the ``experiment`` option.

Rules (docs/importers.md): a unit assigned twice to one experiment is refused, naming both
rows (a unit that saw two variants cannot be analysed as either); every value is checked
and a bad one refused with its file, row, column and value. Import the assignments under
the ``--source`` of the store's orders: they join on source and ``customer_id = unit_id``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError, Location
from ..storage import StagingContext
from .base import Importer, option, register
from .reading import (
    check_timezone,
    checked_cast,
    quote_ident,
    read_raw_many,
    sql_str,
    timestamp_columns,
)

#: Canonical column -> the other names it is recognised by (lower case, first found wins).
ALIASES: dict[str, tuple[str, ...]] = {
    "experiment": ("experiment", "experiment_id", "experiment_key", "experiment_name", "test",
                   "test_id"),
    "unit_id": ("unit_id", "customer_id", "user_id", "visitor_id", "anonymous_id", "unit"),
    "variant": ("variant", "variation", "variation_id", "variant_id", "group", "arm",
                "bucket", "treatment"),
    "first_exposure": ("first_exposure", "first_exposure_at", "exposed_at", "exposure_time",
                       "assigned_at", "timestamp"),
    "channel": ("channel",),
    "country": ("country",),
    "device": ("device", "device_category"),
    "customer_type": ("customer_type",),
    "visits": ("visits", "sessions"),
    "pre_value": ("pre_value", "pre_spend", "pre_revenue"),
}
_TEXT = ("experiment", "unit_id", "variant", "channel", "country", "device", "customer_type")


@dataclass(frozen=True)
class AssignmentsOptions:
    experiment: str | None = option(
        "Experiment name for a file of one experiment without an experiment column.")
    timezone: str | None = option(
        "Time zone of exposure times written without an offset (IANA name; default UTC).")
    relation: str | None = option("Registered relation to read instead of files.", cli=False)


def _columns(found: list[str], file: str) -> dict[str, str]:
    """Canonical column -> source column, from the names the source uses."""
    by_lower: dict[str, str] = {}
    for c in found:
        by_lower.setdefault(c.strip().lower(), c)
    out = {}
    for canonical, names in ALIASES.items():
        hit = next((by_lower[n] for n in names if n in by_lower), None)
        if hit is not None:
            out[canonical] = hit
    for needed in ("unit_id", "variant", "first_exposure"):
        if needed not in out:
            raise InputError(
                f"has no {needed} column (looked for {', '.join(ALIASES[needed])})",
                Location(file, None, needed),
                fix="name the columns experiment, unit_id, variant and first_exposure (or "
                    "rename yours to one of the names listed)")
    return out


@register
class Assignments(Importer):
    name = "assignments"
    help = "Experiment assignments: unit, variant, first exposure (CSV/Parquet)."
    reads = "one or more files"
    Options = AssignmentsOptions

    def read(self, ctx: StagingContext, paths: list[str],
             opts: AssignmentsOptions) -> dict[str, str]:
        if opts.relation is not None:
            ctx.execute("CREATE OR REPLACE TEMP TABLE raw_assign AS SELECT "
                        f"{sql_str(paths[0])} AS _file, CAST(row_number() OVER () AS BIGINT) "
                        f"AS _row, * FROM {opts.relation}")
            found = [r[0] for r in ctx.execute("DESCRIBE raw_assign").fetchall()
                     if r[0] not in ("_file", "_row")]
            if ctx.count("raw_assign") == 0:
                raise InputError("has no rows", Location(paths[0]),
                                 fix="pass a frame with one row per assigned unit")
        else:
            ctx.progress("reading assignments")
            found = read_raw_many(ctx.con, paths, "assign")
        cols = _columns(found, paths[0])
        if "experiment" not in cols and not opts.experiment:
            raise InputError(
                "has no experiment column", Location(paths[0], None, "experiment"),
                fix="add an experiment column, or name the experiment with --experiment NAME")
        ctx.summary.rows_read = ctx.count("raw_assign")
        return cols

    def check(self, ctx: StagingContext, cols: dict[str, str],
              opts: AssignmentsOptions) -> None:
        tz = check_timezone(ctx.con, opts.timezone or "UTC", "(--timezone)")
        exprs = {}
        for c in _TEXT:
            if c in cols:
                exprs[c] = f"nullif(trim(CAST({quote_ident(cols[c])} AS VARCHAR)), '')"
        if "experiment" not in cols:
            exprs["experiment"] = sql_str(opts.experiment or "")
        if "customer_type" in exprs:
            exprs["customer_type"] = f"lower({exprs['customer_type']})"
        exposure, _ = timestamp_columns(
            ctx.con, "raw_assign", quote_ident(cols["first_exposure"]), cols["first_exposure"],
            tz, fix="write exposure times as YYYY-MM-DD HH:MM:SS (optionally with an offset "
                    "such as +01:00; without one they are --timezone, UTC by default)")
        exprs["first_exposure"] = exposure
        if "visits" in cols:
            exprs["visits"] = checked_cast(
                ctx.con, "raw_assign", quote_ident(cols["visits"]), cols["visits"], "BIGINT",
                fix="visits must be a whole number of visits, such as 2")
        if "pre_value" in cols:
            exprs["pre_value"] = checked_cast(
                ctx.con, "raw_assign", quote_ident(cols["pre_value"]), cols["pre_value"],
                "DOUBLE", fix="pre_value must be a plain decimal amount, such as 42.50")
        for c in ("experiment", "unit_id", "variant"):
            if c not in cols:
                continue
            bad = ctx.one(f"SELECT _file, _row FROM raw_assign WHERE {exprs[c]} IS NULL "
                          "ORDER BY _file, _row LIMIT 1")
            if bad:
                raise InputError(f"{c} is empty", Location(bad[0], bad[1], cols[c], ""),
                                 fix=f"every assignment needs its {c}; fill it in or drop the "
                                     "row")
        select = ", ".join(f"{e} AS {c}" for c, e in exprs.items())
        ctx.execute(f"CREATE OR REPLACE TEMP TABLE raw_assign_typed AS "
                    f"SELECT _file, _row, {select} FROM raw_assign")
        twice = ctx.one("""
            SELECT a._file, a._row, b._row, a.unit_id, a.variant, b.variant
            FROM raw_assign_typed a JOIN raw_assign_typed b
              ON a.experiment = b.experiment AND a.unit_id = b.unit_id
             AND (a._file, a._row) < (b._file, b._row)
            ORDER BY a._file, a._row LIMIT 1""")
        if twice:
            same = twice[4] == twice[5]
            raise InputError(
                f"unit {twice[3]} is assigned twice to one experiment (rows {twice[1]} and "
                f"{twice[2]}: {'both ' + twice[4] if same else twice[4] + ' and ' + twice[5]})",
                Location(twice[0], twice[2], cols["unit_id"], twice[3]),
                fix="keep one row per unit: its first exposure" + (
                    "" if same else "; a unit that saw two variants belongs in neither, "
                                    "drop it from the file and note how many you dropped"))

    def build(self, ctx: StagingContext, cols: dict[str, str],
              opts: AssignmentsOptions) -> None:
        ctx.emit("assignments", "raw_assign_typed")
        n = ctx.one("SELECT count(DISTINCT experiment), count(DISTINCT variant) "
                    "FROM raw_assign_typed")
        ctx.summary.notes.append(f"{n[0]} experiment(s), {n[1]} variant name(s)")
