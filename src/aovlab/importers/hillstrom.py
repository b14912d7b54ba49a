"""Kevin Hillstrom's MineThatData e-mail experiment (2008): 64,000 customers, three arms.

One CSV row per customer: ``recency``, ``history_segment``, ``history`` (dollars spent in
the past year), ``mens``, ``womens``, ``zip_code``, ``newbie``, ``channel``, ``segment``
(the arm: Mens E-Mail, Womens E-Mail, No E-Mail) and the two weeks' outcomes ``visit``,
``conversion`` and ``spend``. Rules (docs/importers.md):

* Every row is an ``assignments`` row of experiment ``hillstrom-email``: ``unit_id`` is the
  row number zero-padded (``c00001``), ``variant`` the arm, ``channel`` the customer's
  purchase channel, ``customer_type`` ``new`` when ``newbie`` is 1, ``visits`` the visit
  flag and ``pre_value`` the past year's spend (CUPED's covariate).
* The file has no dates: exposure is recorded as 2008-03-01 00:00 UTC (the test's month)
  and each converted customer's one order one day later.
* A customer with ``conversion`` 1 has one placed order of ``spend`` dollars (order id =
  unit id); ``spend`` without a conversion, or a conversion without spend, is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import AovlabError, InputError, Location
from ..storage import StagingContext
from .base import Importer, register
from .reading import checked_cast, read_raw, require_columns

EXPERIMENT = "hillstrom-email"
EXPOSURE = "2008-03-01 00:00:00+00"
COLUMNS = ("history", "newbie", "channel", "segment", "visit", "conversion", "spend")


@dataclass(frozen=True)
class _Found:
    file: str


@register
class Hillstrom(Importer):
    name = "hillstrom"
    help = "Hillstrom MineThatData e-mail experiment (one row per customer)."

    def read(self, ctx: StagingContext, paths: list[str], opts: object) -> _Found:
        if len(paths) != 1:
            raise AovlabError(f"the hillstrom format reads one file, got {len(paths)}",
                              fix="import hillstrom.csv on its own")
        ctx.progress("reading customers")
        cols = read_raw(ctx.con, paths[0], "hill")
        require_columns(cols, COLUMNS, paths[0], "hillstrom")
        ctx.summary.rows_read = ctx.count("raw_hill")
        return _Found(paths[0])

    def check(self, ctx: StagingContext, found: _Found, opts: object) -> None:
        con = ctx.con
        flag = {c: checked_cast(
            con, "raw_hill", c, c, "BIGINT",
            try_expr=f"CASE WHEN trim({c}) IN ('0', '1') THEN CAST(trim({c}) AS BIGINT) END",
            fix=f"{c} must be 0 or 1") for c in ("newbie", "visit", "conversion")}
        money = {c: checked_cast(con, "raw_hill", c, c, "DOUBLE",
                                 fix=f"{c} must be a decimal number of dollars, such as 29.99")
                 for c in ("history", "spend")}
        ctx.execute(f"""
            CREATE OR REPLACE TEMP TABLE raw_hill_typed AS
            SELECT _file, _row, printf('c%05d', _row) AS unit_id,
                   trim(segment) AS variant, nullif(trim(channel), '') AS channel,
                   {flag['newbie']} AS newbie, {flag['visit']} AS visit,
                   {flag['conversion']} AS conversion, {money['history']} AS history,
                   coalesce({money['spend']}, 0) AS spend
            FROM raw_hill""")
        bad = ctx.one("""
            SELECT _file, _row, spend, conversion FROM raw_hill_typed
            WHERE (spend > 0) <> (conversion = 1) OR spend < 0 OR variant IS NULL
               OR variant = '' ORDER BY _row LIMIT 1""")
        if bad:
            raise InputError(
                "spend and conversion disagree (spend > 0 exactly when conversion is 1), "
                "or the arm (segment) is empty", Location(bad[0], bad[1], "spend", bad[2]),
                fix="use the publisher's hillstrom.csv unchanged")

    def build(self, ctx: StagingContext, found: _Found, opts: object) -> None:
        ctx.emit("assignments", f"""
            SELECT _file, _row, '{EXPERIMENT}' AS experiment, unit_id, variant,
                   TIMESTAMPTZ '{EXPOSURE}' AS first_exposure, channel,
                   CASE WHEN newbie = 1 THEN 'new' ELSE 'returning' END AS customer_type,
                   visit AS visits, history AS pre_value
            FROM raw_hill_typed""")
        ctx.emit("orders", f"""
            SELECT _file, _row, unit_id AS order_id, unit_id AS customer_id,
                   TIMESTAMPTZ '{EXPOSURE}' + INTERVAL 1 DAY AS created_at,
                   DATE '{EXPOSURE[:10]}' + 1 AS order_date, channel, 'USD' AS currency,
                   spend AS gross_sales, spend AS total, 'placed' AS status
            FROM raw_hill_typed WHERE conversion = 1""")
        ctx.summary.notes.append(
            "the file has no dates: exposure is recorded as 2008-03-01 UTC and each "
            "conversion as an order the next day")
