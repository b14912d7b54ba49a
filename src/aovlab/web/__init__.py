"""The local dashboard and JSON API over one workspace (``aovlab serve``).

:func:`create_app` builds a FastAPI application whose endpoints call the same library
functions as the CLI (``kpis``, ``histogram``, ``explain``, the report's ``gather`` and
``render``), documented by OpenAPI at ``/openapi.json``. ``/`` is the report with a filter
form (:mod:`.dashboard`) in the browser's language; ``/download/<table>.<csv|json|parquet>``
gives every table it draws. Safe by default:

* the workspace is opened read-only, per request, so an import can run beside the server;
  results are cached per workspace version (the file's size and modification time), so an
  import invalidates them and repeated views are instant;
* no SQL comes from the browser: dimensions, filters and dates are validated by
  :class:`~aovlab.query.Selection`, and a bad one is a 400 with the fix, never a traceback;
* a ``token`` (required by ``aovlab serve`` for any bind but loopback) is checked on every
  request, as ``Authorization: Bearer …`` or ``?token=…``;
* every response carries a Content-Security-Policy (no request leaves the page, no inline
  script: Plotly and the figures' drawing code are served as files, the figures as JSON
  data), ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY`` and
  ``Referrer-Policy: no-referrer``; CSV downloads neutralise spreadsheet formulas.
"""

from __future__ import annotations

import dataclasses
import hmac
import io
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import Request

from ..analyses import abtest, explain, histogram, kpis
from ..errors import AovlabError
from ..query import Selection
from ..report import spreadsheet_safe
from ..report.gather import gather
from ..report.html import SCRIPTS, charts, render, script
from ..report.locale import Speaker, check_locale, negotiate
from ..storage import Workspace
from . import dashboard

__all__ = ["LOOPBACK", "create_app"]

LOOPBACK = ("127.0.0.1", "localhost", "::1")
# Plotly sets styles at run time (style-src 'unsafe-inline'); scripts come only from files.
CSP = ("default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; "
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


def create_app(workspace: str | Path, *, token: str | None = None,
               locale: str | None = None):
    """The FastAPI application serving ``workspace`` (read-only); ``token``, when given, is
    required on every request; ``locale`` is the dashboard's language when the page asks
    for none (else the browser's ``Accept-Language`` decides)."""
    from fastapi import FastAPI, Query
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import HTMLResponse, JSONResponse

    path = Path(workspace)
    if not path.exists():
        raise AovlabError(f"workspace {path} does not exist",
                          fix="run 'aovlab import FILE' first, or pass --workspace")
    default_locale = check_locale(locale) if locale else None
    cache = _Cache()
    # Swagger UI and ReDoc load their code from a CDN: only the OpenAPI document is served.
    app = FastAPI(title="aovlab", docs_url=None, redoc_url=None,
                  description="AOV analytics of one workspace; the same functions as the CLI.")
    app.state.cache = cache

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return _secure(JSONResponse({"error": f"{where}: {first.get('msg', 'invalid')}",
                                     "fix": "see /openapi.json for the parameters"},
                                    status_code=400))

    def version() -> tuple:
        st = path.stat()
        wal = path.with_name(path.name + ".wal")
        w = wal.stat() if wal.exists() else None
        return (st.st_size, st.st_mtime_ns, w.st_size if w else 0, w.st_mtime_ns if w else 0)

    def cached(name: str, params: dict[str, Any], compute: Callable[[], Any]) -> Any:
        key = (version(), name, tuple(sorted((k, str(v)) for k, v in params.items())))
        return cache.get(key, compute)

    def run(name: str, params: dict[str, Any], fn: Callable[[Workspace], Any]) -> Any:
        def compute() -> Any:
            with Workspace(path, read_only=True) as ws:
                return fn(ws)
        return cached(name, params, compute)

    @app.middleware("http")
    async def guard(request: Request, call_next):
        # Without a token the server answers this machine only: a page elsewhere that
        # points its own name at 127.0.0.1 (DNS rebinding) is refused by its Host header.
        if token is None and _hostname(request.headers.get("host", "")) not in LOOPBACK:
            return _secure(JSONResponse({"error": "this server answers only 127.0.0.1",
                                         "fix": "open http://127.0.0.1:PORT/, or serve with "
                                                "--token"}, status_code=403))
        # Plotly and the drawing code are public: the page's <script src> carries no token.
        if token is not None and not request.url.path.startswith("/static/"):
            auth = request.headers.get("authorization", "")
            scheme, _, credentials = auth.partition(" ")
            given = credentials.strip() if scheme.lower() == "bearer" else ""
            given = given or request.query_params.get("token", "")
            if not hmac.compare_digest(given.encode(), token.encode()):
                return _secure(JSONResponse({"error": "a token is required",
                                             "fix": "pass ?token=... or an Authorization: "
                                                    "Bearer header"}, status_code=401))
        try:
            response = await call_next(request)
        except AovlabError as exc:
            response = (_error_page(exc) if request.url.path == "/" else
                        JSONResponse({"error": exc.message, "fix": exc.fix}, status_code=400))
        except Exception as exc:  # noqa: BLE001 - a bug: a clean 500, still with the headers
            response = JSONResponse({"error": f"internal error ({type(exc).__name__})",
                                     "fix": "please report it with the URL that caused it"},
                                    status_code=500)
        if not request.url.path.startswith("/static/"):  # results and tokens stay private
            response.headers["Cache-Control"] = "no-store"
        if request.url.path == "/":
            response.headers["Vary"] = "Accept-Language"
        return _secure(response)

    def params(by: list[str] | None, period: str | None, definition: str | None,
               start: str | None, end: str | None, currency: str | None,
               status: list[str] | None, where: list[str] | None) -> dict[str, Any]:
        return {"by": by, "period": period, "definition": definition, "start": start,
                "end": end, "currency": currency, "status": status, "where": where}

    common = {"by": Query(None), "period": Query(None), "definition": Query(None),
              "start": Query(None), "end": Query(None), "currency": Query(None),
              "status": Query(None), "where": Query(None)}

    def all_values() -> dict[str, tuple[list[str], frozenset[str]]]:
        def compute(ws: Workspace):
            return {d: (v, frozenset(v)) for d, v in dashboard.workspace_values(ws).items()}
        return run("values", {}, compute)

    def values(dim: str) -> list[str]:
        return all_values()[dim][0]

    def allowed(dim: str) -> frozenset[str]:
        return all_values()[dim][1]

    def page_query(request: Request) -> dashboard.PageQuery:
        for k in request.query_params:
            if len(request.query_params.getlist(k)) > 1:
                raise AovlabError(f"{k} is given more than once", fix=f"give {k} once")
        q = dashboard.parse(dict(request.query_params), allowed)
        currencies = values("currency")
        if not q.currency and len(currencies) > 1:  # the report draws one: the largest
            q = dataclasses.replace(q, currency=currencies[0])
        return q

    def gathered(q: dashboard.PageQuery):
        dims = dashboard.breakdowns(values)  # before the workspace is opened for the report
        return run("report", {"q": q.key()},
                   lambda ws: gather(ws, q.selection(), last=q.preset or None, vs=q.vs,
                                     dimensions=dims))

    @app.get("/", response_class=HTMLResponse, response_model=None,
             summary="The dashboard: the report with filters, in the browser's language")
    def page(request: Request, preset: str | None = None, start: str | None = None,
             end: str | None = None, vs: str | None = None, definition: str | None = None,
             currency: str | None = None, locale: str | None = None,
             channel: str | None = None, country: str | None = None,
             device: str | None = None, customer_type: str | None = None):
        q = page_query(request)
        code = q.locale or default_locale or negotiate(request.headers.get("accept-language"))
        given = request.query_params.get("token")

        def draw() -> str:
            data = gathered(q)
            s = Speaker.of(code)
            return render(data, s, drawn=charts(data, s), scripts="static/",
                          controls=dashboard.controls(q, s, values, token=given),
                          downloads=dashboard.downloads(list(data.tables()), q, s,
                                                        token=given))
        return HTMLResponse(cached("page", {"q": q.key(), "locale": code, "t": given}, draw))

    @app.get("/download/{name}", response_model=None,
             summary="A table of the dashboard as CSV, JSON or Parquet")
    def download(request: Request, name: str, preset: str | None = None,
                 start: str | None = None, end: str | None = None, vs: str | None = None,
                 definition: str | None = None, currency: str | None = None,
                 locale: str | None = None, channel: str | None = None,
                 country: str | None = None, device: str | None = None,
                 customer_type: str | None = None):
        table, _, fmt = name.rpartition(".")
        if fmt not in dashboard.DOWNLOAD_FORMATS:
            return _not_found(f"no download {name!r}",
                              f"use <table>.{'|'.join(dashboard.DOWNLOAD_FORMATS)}")
        q = page_query(request)
        tables = gathered(q).tables()
        if table not in tables:
            return _not_found(f"no table {table!r} in this report",
                              f"use one of {', '.join(tables)}")
        return _frame(tables[table], fmt, table)

    @app.get("/static/{name}", response_model=None, include_in_schema=False)
    def static(name: str):
        from fastapi.responses import Response

        if name not in SCRIPTS:
            return _not_found(f"no file {name!r}", "")
        return Response(script(name), media_type="text/javascript",
                        headers={"Cache-Control": "max-age=3600"})

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

    @app.get("/api/abtest", response_model=None,
             summary="An A/B test at the randomisation unit (aovlab.abtest)")
    def api_abtest(experiment: str | None = None, control: str | None = None,
                   cap: str | None = None, window_days: int | None = None,
                   cuped: bool = True, sequential: bool = False, bayesian: bool = False,
                   relative: bool = True, segment: str | None = None,
                   definition: str | None = None, end: str | None = None,
                   currency: str | None = None, status: list[str] | None = common["status"],
                   format: str = "json"):  # noqa: A002
        q = params(None, None, definition, None, end, currency, status, None)
        sel = _selection(q)
        settings = {"experiment": experiment, "control": control, "cap": cap,
                    "window_days": window_days, "use_cuped": cuped,
                    "sequential": sequential, "bayesian": bayesian, "relative": relative,
                    "segment": segment}
        result = run("abtest", {**q, **settings}, lambda ws: abtest(ws, sel, **settings))
        return _table(result, format, "abtest")

    return app


def _table(result, fmt: str, name: str):
    """A result as JSON (the whole result), or its main table as a CSV or Parquet file."""
    from fastapi.responses import JSONResponse

    if fmt == "json":
        return JSONResponse(result.to_dict())
    return _frame(result.table, fmt, name)


def _frame(df, fmt: str, name: str):
    """A table as a CSV (formulas neutralised), JSON (records) or Parquet download."""
    from fastapi.responses import Response

    disposition = {"Content-Disposition": f'attachment; filename="{name}.{fmt}"'}
    if fmt == "csv":
        return Response(spreadsheet_safe(df).to_csv(index=False), media_type="text/csv",
                        headers=disposition)
    if fmt == "json":
        return Response(df.to_json(orient="records", date_format="iso"),
                        media_type="application/json", headers=disposition)
    if fmt == "parquet":
        buf = io.BytesIO()
        df.to_parquet(buf, index=False)
        return Response(buf.getvalue(), media_type="application/vnd.apache.parquet",
                        headers=disposition)
    raise AovlabError(f"format {fmt!r} is not one the API writes", fix="use json, csv or parquet")


def _not_found(error: str, fix: str):
    from fastapi.responses import JSONResponse

    return JSONResponse({"error": error, "fix": fix}, status_code=404)


def _hostname(host: str) -> str:
    """``127.0.0.1`` of ``127.0.0.1:8000``, ``::1`` of ``[::1]:8000``."""
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def _error_page(exc: AovlabError):
    """A bad filter on the dashboard: the message and the fix, as a page (no script)."""
    from html import escape

    from fastapi.responses import HTMLResponse

    return HTMLResponse(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>aovlab: "
        "bad request</title></head><body style=\"font-family: system-ui, sans-serif; "
        "margin: 2rem\"><h1>This view cannot be shown</h1>"
        f"<p><strong>{escape(exc.message)}</strong></p><p>Fix: {escape(exc.fix or '')}</p>"
        "<p><a href=\"./\">Back to the whole history</a></p></body></html>",
        status_code=400)


def _secure(response):
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
