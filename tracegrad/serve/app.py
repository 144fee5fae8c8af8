"""The ASGI application of ``tracegrad serve`` (Starlette).

The server process only routes: it caps the request body, hands the request to a
worker process (:mod:`tracegrad.serve.worker`), which parses, computes and renders,
and sends the reply back with the security headers. Replies are deterministic, so
successful ones (and refusals of bad input) are kept in a small cache: a class
opening the same example gets it at once.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections import OrderedDict
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .replies import Reply, error_reply
from .worker import Pool

STATIC = Path(__file__).resolve().parent / "static"
MAX_BODY = 256 * 1024
"""Bytes a request body may have (a problem file is a few kilobytes)."""
COMMANDS = ("derive", "check", "quantities", "graph", "expr", "variants")
PAGES = {"/": "derive", "/check": "check", "/graph": "graph", "/expr": "expr", "/variants": "variants"}
LANGS = ("en", "zh")

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; font-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'")
"""Scripts, styles and fonts from this server only; no inline script or style, no framing."""
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class ReplyCache:
    """The most recently used replies, up to ``max_bytes`` of bodies."""

    def __init__(self, max_bytes: int = 32 * 2 ** 20, max_reply: int = 2 ** 20):
        self.max_bytes, self.max_reply = max_bytes, max_reply
        self._replies: OrderedDict = OrderedDict()
        self._size = 0

    def get(self, key) -> Reply | None:
        reply = self._replies.get(key)
        if reply is not None:
            self._replies.move_to_end(key)
        return reply

    def put(self, key, reply: Reply) -> None:
        if reply.status not in (200, 400) or len(reply.body) > self.max_reply or key in self._replies:
            return
        self._replies[key] = reply
        self._size += len(reply.body)
        while self._size > self.max_bytes:
            _, old = self._replies.popitem(last=False)
            self._size -= len(old.body)


class SecurityHeaders:
    """ASGI middleware adding :data:`SECURITY_HEADERS` to every response."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_headers(message):
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, with_headers)


def _response(reply: Reply) -> Response:
    return Response(reply.body, status_code=reply.status, media_type=reply.media_type, headers=reply.headers)


async def _body(request: Request) -> bytes | Reply:
    """The request body, or a 413 reply past :data:`MAX_BODY` (checked before reading when the length is given)."""
    too_large = error_reply(413, f"too large: the request body may have at most {MAX_BODY} bytes")
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY:
        return too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return too_large
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(workers: int = 2, time_limit: float = 10.0, memory_mb: int = 1024, cache: bool = True,
               classroom=None, teacher_token: str | None = None, tools: bool = True) -> Starlette:
    """The app, with a pool of ``workers`` processes started and stopped with it (its lifespan);
    each request may take ``time_limit`` seconds and ``memory_mb`` MB in its worker. With a
    ``classroom`` (:class:`~tracegrad.classroom.submissions.Classroom`), also its assignments' pages
    (:mod:`.homework`) and the teacher's (:mod:`.teacher`, guarded by ``teacher_token``); without
    ``tools``, not the derivation pages and their API (then students cannot derive their homework here)."""
    replies = ReplyCache() if cache else None

    async def dispatch(task: tuple, request: dict, key) -> Response:
        reply = replies.get(key) if replies is not None else None
        if reply is None:
            reply = await run_in_threadpool(app.state.pool.run, task, request)
            if replies is not None:
                replies.put(key, reply)
        return _response(reply)

    async def page(request: Request) -> Response:
        name = PAGES[request.url.path]
        lang = request.query_params.get("lang", "en")
        lang = lang if lang in LANGS else "en"
        return await dispatch(("page", name), {"lang": lang}, ("page", name, lang))

    def command(kind: str):
        async def endpoint(request: Request) -> Response:
            name = request.path_params["command"]
            if name not in COMMANDS or (kind == "fragment" and name == "quantities"):
                raise HTTPException(404)
            if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
                return _response(error_reply(415, "send the request body as JSON (Content-Type: application/json)"))
            body = await _body(request)
            if isinstance(body, Reply):
                return _response(body)
            return await dispatch((kind, name), {"body": body}, (kind, name, hashlib.sha256(body).digest()))
        return endpoint

    async def http_error(request: Request, exc: HTTPException) -> Response:
        hint = "; the API takes POST requests with a JSON body" if exc.status_code == 405 else ""
        return JSONResponse({"error": f"{exc.detail}: {request.method} {request.url.path}{hint}"},
                            status_code=exc.status_code)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        app.state.pool = Pool(workers if tools else 0, time_limit, memory_mb)
        try:
            await run_in_threadpool(app.state.pool.wait_ready)
            yield
        finally:
            app.state.pool.close()

    routes = [Route(path, page, methods=["GET"]) for path in PAGES] if tools else []
    routes += [Route("/api/{command}", command("api"), methods=["POST"]),
               Route("/fragment/{command}", command("fragment"), methods=["POST"])] if tools else []
    if classroom is not None:
        from . import homework, teacher

        routes += homework.routes(classroom, MAX_BODY, home=not tools)
        routes += teacher.routes(classroom, teacher_token, MAX_BODY)
    routes.append(Mount("/static", StaticFiles(directory=STATIC), name="static"))
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={HTTPException: http_error})
    app.add_middleware(SecurityHeaders)
    return app
