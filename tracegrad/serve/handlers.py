"""What a worker process does with a request: read its JSON body, run the command through
:mod:`tracegrad.serve.api`, and render the reply (JSON, text, a zip, or HTML through
:mod:`tracegrad.serve.views`).

Every outcome is a :class:`~tracegrad.serve.replies.Reply`: bad input is a 400 with the
command's one-line message as ``{"error": …}``; running out of memory a 413; a bug a 500
saying so in one line. Never a traceback.
"""

from __future__ import annotations

import json

from . import api, views
from .replies import Reply, error_reply

BODY_KEYS = {
    "derive": ("problem", "options"),
    "check": ("problem", "answers", "options"),
    "quantities": ("problem", "options"),
    "graph": ("problem", "expression", "at", "program", "options"),
    "expr": ("expression", "at", "program", "options"),
    "variants": ("problem", "options"),
}
"""The keys of each endpoint's JSON body."""


def _body(raw: bytes, command: str) -> dict:
    """The request's JSON object, its keys checked against the endpoint's."""
    where = "request body"
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise api.ApiError(f"not UTF-8 text (byte {exc.start})", key=where) from None
    except json.JSONDecodeError as exc:
        raise api.ApiError(f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", key=where) from None
    except RecursionError:
        raise api.ApiError("nested too deeply", key=where) from None
    keys = BODY_KEYS[command]
    if not isinstance(data, dict):
        raise api.ApiError(f"expected a JSON object with the keys {', '.join(keys)}", key=where)
    for key in data:
        if key not in keys:
            raise api.ApiError(f"unknown key; {command} takes {', '.join(keys)}", key=key)
    if "problem" in keys and "expression" not in keys and not isinstance(data.get("problem"), str):
        raise api.ApiError("missing: the problem file's text (TOML, or JSON)", key="problem")
    return data


def _text(text: str, media_type: str, exit_code: int = 0, filename: str | None = None) -> Reply:
    headers = {"X-Tracegrad-Exit-Code": str(exit_code)}
    if filename:
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return Reply(200, f"{media_type}; charset=utf-8", text.encode("utf-8"), headers)


def _api(command: str, body: dict) -> Reply:
    options = body.get("options")
    if command == "derive":
        return _text(*api.derive_output(body["problem"], options))
    if command == "check":
        return _text(*api.check_output(body["problem"], body.get("answers"), options))
    if command == "quantities":
        return _text(*api.quantities_output(body["problem"], options))
    if command == "graph":
        return _text(*api.graph_output(body.get("problem"), body.get("expression"), body.get("at"), options,
                                       body.get("program")))
    if command == "expr":
        return _text(*api.expr_output(body.get("expression"), body.get("at"), options, body.get("program")))
    archive, _ = api.variants_zip(body["problem"], options)
    return Reply(200, "application/zip", archive, {"Content-Disposition": 'attachment; filename="variants.zip"'})


def _fragment(command: str, body: dict) -> Reply:
    html = views.fragment(command, body)
    return Reply(200, "text/html; charset=utf-8", html.encode("utf-8"))


def _page(name: str, lang: str) -> Reply:
    return Reply(200, "text/html; charset=utf-8", views.page(name, lang).encode("utf-8"))


def handle(task: tuple, request: dict) -> Reply:
    """Run one task: ``("api", command)``, ``("fragment", command)`` or ``("page", name)``. A page's
    fragment answers bad input with 200 and the ``{"error": …}`` body: a half-typed problem is the
    page's normal state, not a failed request."""
    reply = _handle(*task, request)
    if task[0] == "fragment" and reply.status == 400:
        return Reply(200, reply.media_type, reply.body)
    return reply


def _handle(kind: str, name: str, request: dict) -> Reply:
    try:
        if kind == "page":
            return _page(name, request.get("lang", "en"))
        body = _body(request["body"], name)
        return _api(name, body) if kind == "api" else _fragment(name, body)
    except api.TraceGradError as exc:
        return error_reply(400, str(exc))
    except RecursionError:
        return error_reply(400, "nested too deeply")
    except MemoryError:
        return error_reply(413, "too large: the work needed more memory than the server allows per request "
                                "(tracegrad serve --memory-limit raises it)", restart=True)
    except Exception as exc:  # a bug: one line, as the command says it
        return error_reply(500, f"internal error ({type(exc).__name__}: {exc}); please report it")


def warm_up() -> None:
    """Render the home page once, so that a worker's first request finds the derivation's modules
    loaded and its templates compiled."""
    handle(("page", views.PAGES[0]), {"lang": "en"})
