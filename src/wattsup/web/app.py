"""The FastAPI application: pages, the JSON API under ``/api/``, static assets, errors and headers.

:func:`create_app` takes an open :class:`~wattsup.results.Store` and makes its connections read-only
(``PRAGMA query_only`` on SQLite, read-only transactions on PostgreSQL): the dashboard cannot change the
store even by mistake. Errors are typed: invalid parameters give 422 naming the parameter, unknown
things 404 with the closest matches, an unreachable store 503; never a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware

from wattsup import __version__
from wattsup.errors import InvalidInput, NotFound, WattsupError
from wattsup.results import Store

log = logging.getLogger("wattsup.web")

DEFAULT_CACHE_S = 300.0
"""The longest an answer is reused. Answers are dropped as soon as the store changes (checked every
second), so this bounds only what that check cannot see: a record replaced in place."""

LOCAL_HOSTS: tuple[str, ...] = ("127.0.0.1", "localhost", "::1", "[::1]")
"""Host headers accepted by default: a page on another site cannot reach the dashboard through DNS
rebinding."""

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
"""Scripts only from the dashboard itself (no inline script, no CDN). plotly.js sets inline styles."""

_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class SecurityHeaders:
    """Adds the security headers to every HTTP response (a plain ASGI middleware: no per-request task)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in _HEADERS if k not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def make_read_only(store: Store) -> None:
    """Make every connection of ``store`` refuse writes, then drop the pooled ones opened before."""
    engine = store.engine
    dialect = store.dialect

    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        if dialect == "sqlite":
            cur = dbapi_conn.cursor()
            try:
                cur.execute("PRAGMA query_only = ON")
            finally:
                cur.close()
        elif dialect == "postgresql":
            autocommit = dbapi_conn.autocommit
            dbapi_conn.autocommit = True
            cur = dbapi_conn.cursor()
            try:
                cur.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            finally:
                cur.close()
                dbapi_conn.autocommit = autocommit

    event.listen(engine, "connect", on_connect)
    engine.dispose()


def store_version(store: Store) -> tuple[int, str | None]:
    """What changes when runs are added or deleted: their number and the newest run's id."""
    newest = store.list_runs(limit=1)
    return store.count(), newest[0].run_id if newest else None


# ---------------------------------------------------------------- errors


def _is_api(request: Request) -> bool:
    return request.url.path == "/api" or request.url.path.startswith("/api/")


def _param(field: str) -> str:
    """A flag name from the analysis layer (``--queries-per-day``) as the query parameter it came from."""
    return field.lstrip("-").replace("-", "_")


def _problem(request: Request, status: int, message: str, detail: list[dict[str, Any]]) -> Response:
    if _is_api(request):
        return JSONResponse({"message": message, "detail": detail}, status_code=status)
    from wattsup.web.pages import error_page

    return HTMLResponse(error_page(status, message), status_code=status)


async def _on_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    detail = []
    parts = []
    for err in exc.errors():
        loc = [str(x) for x in err.get("loc", ())]
        name = ".".join(loc[1:]) if len(loc) > 1 else ".".join(loc)
        msg = str(err.get("msg", "invalid value"))
        detail.append({"loc": loc, "msg": msg, "type": str(err.get("type", ""))})
        parts.append(f"{name}: {msg}" if name else msg)
    return _problem(request, 422, "invalid request: " + "; ".join(parts), detail)


async def _on_invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, InvalidInput)
    name = _param(exc.field)
    msg = str(exc).removeprefix(f"{exc.field}: ")
    detail = [{"loc": ["query", name], "msg": msg, "type": "invalid_input"}]
    return _problem(request, 422, f"{name}: {msg}", detail)


async def _on_not_found(request: Request, exc: Exception) -> Response:
    # An unknown thing named in the path (a run id) is a missing resource: 404. One named by a query
    # parameter (task=, region=, model=) is an invalid parameter: 422, with the closest matches.
    assert isinstance(exc, NotFound)
    detail = [{"kind": exc.kind, "name": exc.name, "suggestions": exc.suggestions}]
    return _problem(request, 404 if request.path_params else 422, str(exc), detail)


async def _on_wattsup(request: Request, exc: Exception) -> Response:
    from wattsup.results import StoreError
    from wattsup.web.views import FeatureUnavailable

    if isinstance(exc, StoreError):
        log.error("store error: %s", exc)
        return _problem(request, 503, f"the results store is unavailable: {exc}", [])
    if isinstance(exc, FeatureUnavailable):
        return _problem(request, 501, str(exc), [])
    return _problem(request, 400, str(exc), [])


async def _on_database(request: Request, exc: Exception) -> Response:
    log.error("database error on %s: %s", request.url.path, str(exc).splitlines()[0] if str(exc) else exc)
    return _problem(request, 503, "the results store could not answer; check that it is reachable", [])


async def _on_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        message = f"no such page: {request.url.path}"
    elif exc.status_code == 405:
        message = "the dashboard is read-only: only GET requests"
    else:
        message = str(exc.detail)
    response = _problem(request, exc.status_code, message, [])
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _on_error(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s", request.url.path, exc_info=exc)
    return _problem(request, 500, "internal error; see the dashboard's log", [])


# ---------------------------------------------------------------- the app


def create_app(
    store: Store,
    *,
    allowed_hosts: Sequence[str] = LOCAL_HOSTS,
    cache_s: float = DEFAULT_CACHE_S,
    read_only: bool = True,
) -> FastAPI:
    """The dashboard over ``store`` (left open: the caller closes it). ``allowed_hosts`` are the Host
    headers served (``"*"`` for any); answers are reused for ``cache_s`` seconds (0: never)."""
    from wattsup.web import api, pages
    from wattsup.web.cache import Ask, Memo

    if read_only:
        make_read_only(store)
    app = FastAPI(
        title="wattsup dashboard",
        version=__version__,
        description="Energy per 1,000 inferences and life-cycle carbon from a wattsup results store. "
        "Every figure the pages show comes from this API. Energies are kWh per 1,000 inferences unless a "
        "unit field says otherwise; unknown figures are null, never 0.",
        openapi_url="/api/openapi.json",
        docs_url=None,  # FastAPI's Swagger page loads from a CDN; /api/docs renders the schema offline
        redoc_url=None,
    )
    app.state.ask = Ask(store, Memo(cache_s, version=lambda: store_version(store)))
    app.include_router(api.router)
    app.include_router(pages.router)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(InvalidInput, _on_invalid)
    app.add_exception_handler(NotFound, _on_not_found)
    app.add_exception_handler(WattsupError, _on_wattsup)
    app.add_exception_handler(SQLAlchemyError, _on_database)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(Exception, _on_error)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))
    app.add_middleware(SecurityHeaders)
    return app
