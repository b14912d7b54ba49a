"""Customer facts, computed once at import instead of at every query.

``orders.customer_key`` is an integer key per customer (``source``, ``customer_id``),
given in order of first import and never changed; ``orders.customer_seq`` is the order's
position among its customer's counted (placed, refunded) orders: 1 for the first, of two
at the same instant the lower order id first — the order the new/returning split of every
metric follows. The metrics read them (an integer to group by, a comparison with 1) where
they would otherwise sort every order by customer, a string, at every call.

:func:`insert_orders` replaces the plain insert of an import's new orders: it computes
the facts of the customers the import touches over their whole history (stored orders
and new ones) and rewrites the stored orders whose position moved (a later import that
adds older orders). :func:`refresh_all` computes them for a whole workspace (an upgrade).
"""

from __future__ import annotations

import duckdb

from .. import schema

_COUNTED = "status IN (" + ", ".join(schema.sql_literal(s) for s in schema.COUNTED_STATUSES) + ")"
#: The running count of counted orders up to this one, in the history's order.
_SEQ = (f"CASE WHEN {_COUNTED} THEN count(*) FILTER (WHERE {_COUNTED}) OVER (PARTITION BY "
        "source, customer_id ORDER BY created_at, order_id ROWS UNBOUNDED PRECEDING) END")


def insert_orders(con: duckdb.DuckDBPyConnection, new: str) -> None:
    """Insert the staged orders ``new`` selects (rows of ``stage_orders s`` whose key is
    not stored: a SQL condition) with their customer facts, and correct stored ones."""
    cols = [c.name for c in schema.ORDERS.columns if not c.derived]
    listed = ", ".join(cols)
    fresh = f"(SELECT * FROM stage_orders s WHERE {new})"  # read twice, never copied
    con.execute("CREATE TEMP TABLE _touched AS SELECT DISTINCT source, customer_id "
                f"FROM {fresh} WHERE customer_id IS NOT NULL")
    # a stored customer keeps its key; new ones are numbered after the largest, in
    # (source, customer_id) order so that the same imports always give the same keys
    con.execute("""
        CREATE TEMP TABLE _keys AS
        WITH known AS (
            SELECT o.source, o.customer_id, max(o.customer_key) AS customer_key
            FROM orders o JOIN _touched t USING (source, customer_id) GROUP BY ALL)
        SELECT * FROM known
        UNION ALL
        SELECT t.source, t.customer_id,
               (SELECT coalesce(max(customer_key), 0) FROM orders)
               + row_number() OVER (ORDER BY t.source, t.customer_id)
        FROM _touched t ANTI JOIN known USING (source, customer_id)""")
    # the touched customers' whole history: their stored orders and the new ones
    con.execute(f"""
        CREATE TEMP TABLE _seq AS
        SELECT source, order_id, fresh, customer_key, {_SEQ} AS customer_seq
        FROM (SELECT source, order_id, customer_id, created_at, status, true AS fresh
              FROM {fresh} WHERE customer_id IS NOT NULL
              UNION ALL
              SELECT o.source, o.order_id, o.customer_id, o.created_at, o.status, false
              FROM orders o JOIN _touched t USING (source, customer_id))
        JOIN _keys USING (source, customer_id)""")
    con.execute(f"""
        INSERT INTO orders ({listed}, customer_key, customer_seq)
        SELECT {', '.join(f'n.{c}' for c in cols)}, f.customer_key, f.customer_seq
        FROM {fresh} n LEFT JOIN _seq f ON f.fresh AND f.source = n.source
                                           AND f.order_id = n.order_id""")
    # an older order arrived: the stored orders after it move up one place
    con.execute("""
        UPDATE orders SET customer_seq = f.customer_seq FROM _seq f
        WHERE NOT f.fresh AND orders.source = f.source AND orders.order_id = f.order_id
          AND orders.customer_seq IS DISTINCT FROM f.customer_seq""")
    for t in ("_touched", "_keys", "_seq"):
        con.execute(f"DROP TABLE {t}")


def refresh_all(con: duckdb.DuckDBPyConnection) -> None:
    """Compute every order's customer facts from scratch (a workspace upgraded to them);
    keys follow (source, customer_id) order."""
    con.execute(f"""
        CREATE TEMP TABLE _facts AS
        SELECT source, order_id,
               CASE WHEN customer_id IS NOT NULL THEN
                   dense_rank() OVER (ORDER BY source, customer_id) END AS customer_key,
               CASE WHEN customer_id IS NOT NULL THEN {_SEQ} END AS customer_seq
        FROM orders""")
    con.execute("""
        UPDATE orders SET customer_key = f.customer_key, customer_seq = f.customer_seq
        FROM _facts f WHERE orders.source = f.source AND orders.order_id = f.order_id""")
    con.execute("DROP TABLE _facts")
