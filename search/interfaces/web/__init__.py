"""``newsearch serve``: the search page and its JSON API, a Starlette app over one shared index.

Parts:
- ``create_app(index)``: the app: pages (``/``, ``/article/ID``), the API (``/api/search``,
  ``/api/article/ID``, ``/api/related/ID``), ``/static``; routes are in ``pages``.
- ``app_from_environment()``: the same app for each of uvicorn's worker processes, the index
  named by ``NEWSEARCH_SERVE_INDEX`` (``newsearch serve --workers N`` sets it and
  ``NEWSEARCH_SERVE_THREADS``).
- ``Guard``: the ASGI middleware that refuses oversized requests and bodies (414, 413) and puts
  the security headers (``SECURITY_HEADERS``, the Content-Security-Policy) on every response.

Safety: templates autoescape, the script is a static file and the CSP allows no other
(``script-src 'self'``), only http(s) links become hrefs, errors are one line (never a
traceback). Searches are blocking, so the routes are plain ``def`` functions, which Starlette
runs in its thread pool; ``Index`` keeps one searcher per thread.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from typing import Any

import anyio.to_thread

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from search.interfaces.web.pages import routes

# The Content-Security-Policy: only this server's own script, styles and fetches; no inline
# script, so a <script> that article text smuggled past escaping still would not run.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
       "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    # The search words are in the page's URL; an article's own site need not see them.
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}
# A query is at most 4,000 characters (search.query.limits.MAX_QUERY_CHARS); percent-encoding
# can triple that, and the other parameters come on top.
MAX_QUERY_STRING = 16_384
MAX_PATH = 2_048
ENVIRONMENT_INDEX = "NEWSEARCH_SERVE_INDEX"
ENVIRONMENT_THREADS = "NEWSEARCH_SERVE_THREADS"
# Searches at once per process (anyio's default is 40). Each thread has a searcher of its own
# whose caches (fuzzy expansions: 0.7-1.2 s the first time on Reuters) warm separately, and two
# cores gain nothing from 40 threads in one interpreter; 8 keep slow I/O from queueing the rest.
THREADS = 8


def create_app(index: Any, *, threads: int = THREADS) -> Starlette:
    """The search app over ``index`` (an ``Index`` or ``RemoteIndex``, shared by every request),
    running searches on at most ``threads`` threads at once."""

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        # Starlette's thread pool is anyio's default limiter: set for this server's event loop.
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        yield

    app = Starlette(routes=routes(), middleware=[Middleware(Guard)],
                    exception_handlers={Exception: _server_error}, lifespan=lifespan)
    app.state.index = index
    return app


def app_from_environment() -> Starlette:
    """The app for one uvicorn worker process: it opens the index ``NEWSEARCH_SERVE_INDEX`` names
    (``NEWSEARCH_SERVE_THREADS``: its searches at once)."""
    import search
    threads = os.environ.get(ENVIRONMENT_THREADS, "")
    return create_app(search.open_index(os.environ.get(ENVIRONMENT_INDEX, "index")),
                      threads=int(threads) if threads.isdigit() and int(threads) > 0 else THREADS)


def _server_error(_request: Request, _error: Exception) -> Response:
    # A plain line, never the traceback: it could show paths and article text to anyone.
    return PlainTextResponse("500: the server failed on this request; its log has no more for you either\n",
                             status_code=500, headers=SECURITY_HEADERS)


class Guard:
    """ASGI middleware: refuses long URLs (414) and request bodies (413), adds the security headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the request, then pass it on with a ``send`` that adds the headers."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = _refusal(scope)
        if refusal is not None:
            await refusal(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _value in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (name.encode(), value.encode()) for name, value in SECURITY_HEADERS.items()
                    if name.encode() not in present]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _refusal(scope: Scope) -> Response | None:
    """The one-line error response for a request too big to serve, or None."""
    if len(scope.get("query_string", b"")) > MAX_QUERY_STRING or len(scope.get("raw_path", b"")) > MAX_PATH:
        return _refuse(414, f"the URL is too long (at most {MAX_QUERY_STRING} bytes of parameters); "
                            "shorten the query")
    headers = dict(scope.get("headers", []))
    length = headers.get(b"content-length", b"0").strip()
    if b"transfer-encoding" in headers or not length.isdigit() or int(length) > 0:
        # Every page and API call is a GET: a body is never needed, so none is read.
        return _refuse(413, "requests have no body here: use GET with URL parameters")
    return None


def _refuse(status: int, reason: str) -> Response:
    return PlainTextResponse(f"{status}: {reason}\n", status_code=status, headers=SECURITY_HEADERS)


__all__ = ["create_app", "app_from_environment", "Guard", "CSP", "SECURITY_HEADERS"]
