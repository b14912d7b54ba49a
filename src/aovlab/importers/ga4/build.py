"""Sessions into daily traffic, kept purchases into orders and lines."""

from __future__ import annotations

from ...storage import StagingContext
from .fields import (
    FUNNEL,
    FUNNEL_COLUMNS,
    NOT_SET,
    SKIP_DUPLICATE,
    SKIP_NO_TRANSACTION,
    SKIP_PLACEHOLDER,
)


def stage_traffic(ctx: StagingContext) -> None:
    con = ctx.con
    # Re-fold the per-file session rows: a session-day may (rarely) span files.
    dims = ", ".join(
        f"coalesce(arg_min({d}, {d}_at) FILTER (WHERE {d} IS NOT NULL), '{NOT_SET}') AS {d}"
        for d in ("channel", "country", "device")
    )
    funnel = ", ".join(f"bool_or({e}) AS {e}" for e in FUNNEL)
    con.execute(
        f"""
        CREATE TEMP TABLE raw_ga4_session_days AS
        SELECT event_date, user_pseudo_id, session_id, {dims}, {funnel},
               min({{'f': _fidx, 'r': _row}}) AS _first
        FROM raw_ga4_sessions GROUP BY event_date, user_pseudo_id, session_id
        """
    )
    counts = ", ".join(f"count(*) FILTER (WHERE {e}) AS {col}"
                       for e, col in zip(FUNNEL, FUNNEL_COLUMNS, strict=True))
    ctx.emit(
        "traffic", f"""
        SELECT f._file, t._row, t.date, t.channel, t.country, t.device, t.sessions,
               t.visitors, t.view_item, t.add_to_cart, t.begin_checkout, t.purchases
        FROM (
            SELECT struct_extract(min(_first), 'f') AS _fidx,
                   struct_extract(min(_first), 'r') AS _row, event_date AS date,
                   channel, country, device, count(*) AS sessions,
                   count(*) FILTER (WHERE first_of_day) AS visitors, {counts}
            FROM (
                -- A visitor counts once a day, in the row of their first session, so that
                -- visitors add up across channels, countries and devices within a day.
                SELECT *, row_number() OVER (PARTITION BY event_date, user_pseudo_id
                                             ORDER BY _first) = 1 AS first_of_day
                FROM raw_ga4_session_days
            ) GROUP BY event_date, channel, country, device
        ) t JOIN raw_ga4_files f USING (_fidx)
        """
    )


def stage_orders(ctx: StagingContext) -> None:
    """One order per transaction id (first purchase event), with its items as lines."""
    _keep_purchases(ctx)
    _items(ctx)
    _emit_lines(ctx)
    _emit_orders(ctx)


def _keep_purchases(ctx: StagingContext) -> None:
    """raw_ga4_kept: the first purchase event per transaction id; the rest counted."""
    con, summary = ctx.con, ctx.summary
    no_id, dup = con.execute(
        f"""
        SELECT count(*) FILTER (WHERE transaction_id IS NULL OR transaction_id = '{NOT_SET}'),
               count(*) FILTER (WHERE transaction_id IS NOT NULL
                                AND transaction_id <> '{NOT_SET}')
                 - count(DISTINCT transaction_id) FILTER (WHERE transaction_id <> '{NOT_SET}')
        FROM raw_ga4_purchases
        """
    ).fetchone()
    if no_id:
        summary.skipped[SKIP_NO_TRANSACTION] = no_id
    if dup:
        summary.skipped[SKIP_DUPLICATE] = dup
    con.execute(
        f"""
        CREATE TEMP TABLE raw_ga4_kept AS
        SELECT * EXCLUDE (_k, _coupon) REPLACE (_coupon AS coupon) FROM (
            SELECT *, row_number() OVER w AS _k,
                   first_value(coupon IGNORE NULLS) OVER (
                       w ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS _coupon
            FROM raw_ga4_purchases
            WHERE transaction_id IS NOT NULL AND transaction_id <> '{NOT_SET}'
            WINDOW w AS (PARTITION BY transaction_id ORDER BY ts, _fidx, _row)
        ) WHERE _k = 1
        """
    )
    null_revenue = con.execute(
        "SELECT count(*) FROM raw_ga4_kept WHERE revenue IS NULL").fetchone()[0]
    if null_revenue:
        summary.notes.append(f"{null_revenue} purchases have no purchase_revenue_in_usd; "
                             "imported with revenue 0")


def _items(ctx: StagingContext) -> None:
    """raw_ga4_items: the kept purchases' items, placeholders without revenue flagged."""
    con, summary = ctx.con, ctx.summary
    placeholder = (f"coalesce(nullif(trim(it.item_id), ''), '{NOT_SET}') = '{NOT_SET}' AND "
                   f"coalesce(nullif(trim(it.item_name), ''), '{NOT_SET}') = '{NOT_SET}'")
    no_revenue = "coalesce(it.revenue, 0) = 0 AND coalesce(it.price, 0) = 0"
    con.execute(
        f"""
        CREATE TEMP TABLE raw_ga4_items AS
        SELECT _fidx, _row, transaction_id, idx, it,
               ({placeholder}) AND ({no_revenue}) AS _drop
        FROM (SELECT _fidx, _row, transaction_id, unnest(items) AS it,
                     unnest(generate_series(1, len(items))) AS idx
              FROM raw_ga4_kept WHERE len(items) > 0)
        """
    )
    dropped = con.execute("SELECT count(*) FROM raw_ga4_items WHERE _drop").fetchone()[0]
    if dropped:
        summary.skipped[SKIP_PLACEHOLDER] = dropped


def _text(expr: str) -> str:
    return f"CASE WHEN trim({expr}) IN ('', '{NOT_SET}') THEN NULL ELSE {expr} END"


def _emit_lines(ctx: StagingContext) -> None:
    text = _text
    ctx.emit(
        "order_lines", f"""
        SELECT f._file, i._row, i.transaction_id AS order_id,
               CAST(row_number() OVER (PARTITION BY i.transaction_id ORDER BY i.idx)
                    AS INTEGER) AS line_no,
               'product' AS line_type,
               {text('i.it.item_id')} AS product_id,
               {text('i.it.item_name')} AS name,
               {text('i.it.item_category')} AS category,
               coalesce(i.it.quantity, 1.0) AS quantity,
               coalesce(i.it.price, i.it.revenue / nullif(coalesce(i.it.quantity, 1.0), 0),
                        0.0) AS unit_price
        FROM raw_ga4_items i JOIN raw_ga4_files f USING (_fidx)
        WHERE NOT i._drop
        """
    )


def _emit_orders(ctx: StagingContext) -> None:
    ctx.emit(
        "orders", """
        SELECT f._file, p._row, p.transaction_id AS order_id,
               coalesce(p.user_id, p.user_pseudo_id) AS customer_id,
               timezone('UTC', make_timestamp(p.ts)) AS created_at,
               p.event_date AS order_date,
               coalesce(s.channel, p.channel) AS channel,
               coalesce(s.country, p.country) AS country,
               coalesce(s.device, p.device) AS device,
               'USD' AS currency,
               coalesce(p.revenue, 0.0) AS gross_sales,
               coalesce(p.shipping, 0.0) AS shipping,
               coalesce(p.tax, 0.0) AS tax,
               -- what the customer paid: GA4's purchase revenue excludes tax and shipping
               coalesce(p.revenue, 0.0) + coalesce(p.shipping, 0.0) + coalesce(p.tax, 0.0)
                   AS total,
               l.units,
               'placed' AS status,
               p.coupon
        FROM raw_ga4_kept p
        JOIN raw_ga4_files f USING (_fidx)
        LEFT JOIN raw_ga4_session_days s
          ON s.event_date = p.event_date AND s.user_pseudo_id = p.user_pseudo_id
         AND s.session_id = p.session_id
        LEFT JOIN (SELECT order_id, sum(quantity) AS units FROM stage_order_lines
                   GROUP BY order_id) l ON l.order_id = p.transaction_id
        """
    )

