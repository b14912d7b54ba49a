"""The local web server: the HTML report and a JSON API over one workspace (``aovlab serve``).

:func:`create_app` builds a FastAPI application whose endpoints call the same library
functions as the CLI (``kpis``, ``histogram``, ``explain``, ``html_report``), documented by
OpenAPI at ``/openapi.json``. Safe by default:

* the workspace is opened read-only, per request, so an import can run beside the server;
  results are cached per workspace version (the file's size and modification time), so an
  import invalidates them and repeated views are instant;
* no SQL comes from the browser: dimensions, filters and dates are validated by
  :class:`~aovlab.query.Selection`, and a bad one is a 400 with the fix, never a traceback;
* a ``token`` (required by ``aovlab serve`` for any bind but loopback) is checked on every
  request, as ``Authorization: Bearer …`` or ``?token=…``;
* every response carries a Content-Security-Policy (no request leaves the page; Plotly's
  figures need inline scripts), ``X-Content-Type-Options: nosniff``, ``X-Frame-Options:
  DENY`` and ``Referrer-Policy: no-referrer``; CSV downloads neutralise spreadsheet formulas.
"""

from __future__ import annotations

import hmac
import io
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..analyses import explain, histogram, kpis
from ..errors import AovlabError
from ..query import Selection
from ..report import spreadsheet_safe
from ..report.html import report
from ..storage import Workspace

__all__ = ["LOOPBACK", "create_app"]

LOOPBACK = ("127.0.0.1", "localhost", "::1")
CSP = ("default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'; "
       "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
       "form-action 'self'")
_CACHE_SIZE = 64


class _Cache:
    """Results per (workspace version, question): a small LRU, safe across threads."""

    def __init__(self) -> None:
        self._items: OrderedDict[tuple, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: tuple, compute: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._items:
                self.hits += 1
                self._items.move_to_end(key)
                return self._items[key]
        value = compute()
        with self._lock:
            self.misses += 1
            self._items[key] = value
            while len(self._items) > _CACHE_SIZE:
                self._items.popitem(last=False)
        return value


def _selection(q: dict[str, Any]) -> Selection:
    filters = {}
    for item in q.get("where") or []:
        dim, sep, value = item.partition("=")
        if not sep:
            raise AovlabError(f"where {item!r} is not DIMENSION=VALUE",
                              fix="write e.g. where=country=France")
        filters[dim.strip()] = value
    return Selection.of(definition=q.get("definition"), start=q.get("start"),
                        end=q.get("end"), currency=q.get("currency"),
                        statuses=q.get("status") or None, filters=filters,
                        by=q.get("by") or (), period=q.get("period"))


def create_app(workspace: str | Path, *, token: str | None = None):
    """The FastAPI application serving ``workspace`` (read-only); ``token``, when given, is
    required on every request."""
    from fastapi import FastAPI, Query, Request
    from fastapi.responses import HTMLResponse, JSONResponse

    path = Path(workspace)
    if not path.exists():
        raise AovlabError(f"workspace {path} does not exist",
                          fix="run 'aovlab import FILE' first, or pass --workspace")
    cache = _Cache()
    # Swagger UI and ReDoc load their code from a CDN: only the OpenAPI document is served.
    app = FastAPI(title="aovlab", docs_url=None, redoc_url=None,
                  description="AOV analytics of one workspace; the same functions as the CLI.")
    app.state.cache = cache

    def version() -> tuple:
        st = path.stat()
        wal = path.with_name(path.name + ".wal")
        w = wal.stat() if wal.exists() else None
        return (st.st_size, st.st_mtime_ns, w.st_size if w else 0, w.st_mtime_ns if w else 0)

    def run(name: str, params: dict[str, Any], fn: Callable[[Workspace], Any]) -> Any:
        key = (version(), name, tuple(sorted((k, str(v)) for k, v in params.items())))

        def compute() -> Any:
            with Workspace(path, read_only=True) as ws:
                return fn(ws)
        return cache.get(key, compute)

    @app.middleware("http")
    async def guard(request: Request, call_next):
        if token is not None:
            given = request.headers.get("authorization", "").removeprefix("Bearer ").strip() \
                or request.query_params.get("token", "")
            if not hmac.compare_digest(given.encode(), token.encode()):
                return _secure(JSONResponse({"error": "a token is required",
                                             "fix": "pass ?token=... or an Authorization: "
                                                    "Bearer header"}, status_code=401))
        try:
            response = await call_next(request)
        except AovlabError as exc:
            response = JSONResponse({"error": exc.message, "fix": exc.fix}, status_code=400)
        return _secure(response)

    def params(by: list[str] | None, period: str | None, definition: str | None,
               start: str | None, end: str | None, currency: str | None,
               status: list[str] | None, where: list[str] | None) -> dict[str, Any]:
        return {"by": by, "period": period, "definition": definition, "start": start,
                "end": end, "currency": currency, "status": status, "where": where}

    common = {"by": Query(None), "period": Query(None), "definition": Query(None),
              "start": Query(None), "end": Query(None), "currency": Query(None),
              "status": Query(None), "where": Query(None)}

    @app.get("/", response_class=HTMLResponse, response_model=None, summary="The HTML report")
    def page(definition: str | None = common["definition"], start: str | None = None,
             end: str | None = None, currency: str | None = None,
             status: list[str] | None = common["status"],
             where: list[str] | None = common["where"]):
        q = params(None, None, definition, start, end, currency, status, where)
        sel = _selection(q)
        return HTMLResponse(run("report", q, lambda ws: report(ws, sel)))

    @app.get("/api/kpis", response_model=None, summary="AOV and companion KPIs (aovlab.kpis)")
    def api_kpis(by: list[str] | None = common["by"], period: str | None = None,
                 definition: str | None = None, start: str | None = None,
                 end: str | None = None, currency: str | None = None,
                 status: list[str] | None = common["status"],
                 where: list[str] | None = common["where"], last: str | None = None,
                 format: str = "json"):  # noqa: A002 - the query name
        q = params(by, period, definition, start, end, currency, status, where)
        sel = _selection(q)
        result = run("kpis", {**q, "last": last}, lambda ws: kpis(ws, sel, last=last))
        return _table(result, format, "kpis")

    @app.get("/api/histogram", response_model=None,
             summary="The order-value histogram (aovlab.histogram)")
    def api_histogram(definition: str | None = None, start: str | None = None,
                      end: str | None = None, currency: str | None = None,
                      status: list[str] | None = common["status"],
                      where: list[str] | None = common["where"], bins: int = 20,
                      format: str = "json"):  # noqa: A002
        q = params(None, None, definition, start, end, currency, status, where)
        sel = _selection(q)
        result = run("histogram", {**q, "bins": bins},
                     lambda ws: histogram(ws, sel, bins=bins))
        return _table(result, format, "histogram")

    @app.get("/api/explain", response_model=None, summary="Why AOV moved (aovlab.explain)")
    def api_explain(base: str | None = None, compare: str | None = None,
                    last: str | None = None, vs: str = "previous", by: str = "channel",
                    definition: str | None = None, currency: str | None = None,
                    status: list[str] | None = common["status"],
                    where: list[str] | None = common["where"]):
        q = params([by], None, definition, None, None, currency, status, where)
        sel = _selection(q)
        result = run("explain", {**q, "base": base, "compare": compare, "last": last,
                                 "vs": vs},
                     lambda ws: explain(ws, base, compare, sel, last=last, vs=vs))
        return JSONResponse(result.to_dict())

    return app


def _table(result, fmt: str, name: str):
    """A result as JSON (the whole result), or its main table as a CSV or Parquet file."""
    from fastapi.responses import JSONResponse, Response

    if fmt == "json":
        return JSONResponse(result.to_dict())
    if fmt == "csv":
        text = spreadsheet_safe(result.table).to_csv(index=False)
        return Response(text, media_type="text/csv", headers={
            "Content-Disposition": f'attachment; filename="{name}.csv"'})
    if fmt == "parquet":
        buf = io.BytesIO()
        result.table.to_parquet(buf, index=False)
        return Response(buf.getvalue(), media_type="application/vnd.apache.parquet",
                        headers={"Content-Disposition": f'attachment; filename="{name}.parquet"'})
    raise AovlabError(f"format {fmt!r} is not one the API writes", fix="use json, csv or parquet")


def _secure(response):
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
