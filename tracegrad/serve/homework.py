"""The student's doors of ``tracegrad serve --assignment``: the homework page and its JSON API.

=========================  ====================================================================
``GET /a/<id>``            the student's page: the problem, and an answer box for each asked number
                           (``?student=`` opens one's own variant; ``?lang=zh``)
``POST /a/<id>/check``     ``{"student": …, "answers": {"a1[1]": "0.9084", …}, "lang": …}``: the
                           verdicts the settings allow, with ``"score": {"given", "maximum"}``
``POST /a/<id>/save``      ``{"student": …, "answers": …}``: keep answers without checking them
``POST /a/<id>/resume``    ``{"student": …, "lang": …}``: what this browser saved or checked last
``GET /a/<id>/solution``   the worked derivation, once the reveal rule allows it (``?student=``)
=========================  ====================================================================

Every rule is the classroom's (:class:`~tracegrad.classroom.submissions.Classroom`); this module
only reads requests and writes replies. Classroom work (grading, the database) runs in Starlette's
thread pool, off the event loop. A browser gets a random id in a cookie (``tracegrad_browser``), so
that a typed name opens nobody else's saved work and the teacher sees when two browsers used one name.
"""

from __future__ import annotations

import json
import re
import secrets
from decimal import Decimal
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from ..classroom.errors import NotFound, Refused
from ..classroom.feedback import catalog
from ..core.errors import InputError
from . import views

BROWSER_COOKIE = "tracegrad_browser"
BROWSER_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")
NO_STORE = {"Cache-Control": "no-store"}
BODY_KEYS = {"check": ("student", "answers", "lang"), "save": ("student", "answers"), "resume": ("student", "lang")}


# --- requests -------------------------------------------------------------------------------

async def read_json(request: Request, max_body: int, keys: tuple) -> dict:
    """The request's JSON object (numbers kept as written: ``0.0430`` stays four decimals), at most
    ``max_body`` bytes, with only ``keys``; an :class:`InputError` (or 413/415 reply) otherwise."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise _Reply(error(415, "send the request body as JSON (Content-Type: application/json)"))
    length = request.headers.get("content-length", "")
    too_large = error(413, f"too large: the request body may have at most {max_body} bytes")
    if length.isdigit() and int(length) > max_body:
        raise _Reply(too_large)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_body:
            raise _Reply(too_large)
        chunks.append(chunk)
    try:
        data = json.loads(b"".join(chunks).decode("utf-8"), parse_float=Decimal)
    except (UnicodeDecodeError, ValueError, RecursionError):  # ValueError: JSON's, or an integer of 5,000 digits
        raise InputError("not a JSON object (UTF-8 text, numbers of at most 4,300 digits)",
                         key="request body") from None
    if not isinstance(data, dict):
        raise InputError(f"expected a JSON object with the keys {', '.join(keys)}", key="request body")
    for key in data:
        if key not in keys:
            raise InputError(f"unknown key; expected {', '.join(keys)}", key=str(key)[:60])
    return data


class Reply(JSONResponse):
    """A JSON response whose text may quote anything a request held: a lone surrogate is escaped, not an
    error."""

    def render(self, content) -> bytes:
        return json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode(
            "utf-8", "backslashreplace")


class _Reply(Exception):
    """A reply decided while reading the request (too large, not JSON)."""

    def __init__(self, response: Response):
        self.response = response


def error(status: int, message: str) -> JSONResponse:
    return Reply({"error": message}, status_code=status, headers=NO_STORE)


def refusal(exc: Exception) -> JSONResponse:
    """The JSON reply of a classroom error: 404, 403 or 400 with its one line."""
    if isinstance(exc, _Reply):
        return exc.response
    status = 404 if isinstance(exc, NotFound) else 403 if isinstance(exc, Refused) else 400
    return error(status, str(exc))


def lang_of(value, default: str = "en") -> str:
    return value if value in views.api.LANGS else default


def browser_of(request: Request) -> tuple:
    """``(browser id, new?)``: the cookie's id, or a fresh one to set."""
    found = request.cookies.get(BROWSER_COOKIE, "")
    if BROWSER_ID.fullmatch(found):
        return found, False
    return secrets.token_urlsafe(18), True


def with_browser(response: Response, request: Request, browser: str, new: bool) -> Response:
    if new:
        response.set_cookie(BROWSER_COOKIE, browser, max_age=400 * 24 * 3600, path="/a/", httponly=True,
                            samesite="strict", secure=request.url.scheme == "https")
    return response


# --- pages ----------------------------------------------------------------------------------

def page(template: str, status: int = 200, **context) -> HTMLResponse:
    """A page of the frame (``serve/base.html.j2``) without the tools' menu."""
    lang = context.setdefault("lang", "en")
    context.setdefault("msg", catalog(lang))
    context.setdefault("languages", views.LANGUAGES)
    context.setdefault("pages", ())
    html = views.render(template, **context)
    return HTMLResponse(html, status_code=status, headers=NO_STORE)


def message_page(status: int, text: str, lang: str, title_key: str) -> HTMLResponse:
    return page("message", status, page="message", lang=lang, title=catalog(lang)(title_key), text=text)


def rules_text(settings, msg) -> list:
    """The assignment's rules in sentences, for the top of the page."""
    out = [msg("serve.homework.attempts_unlimited") if settings.attempts is None
           else msg("serve.homework.attempts", n=settings.attempts)]
    if settings.reveal == "after" and settings.reveal_at is not None:
        out.append(msg("serve.homework.reveal_after", at=settings.reveal_at.strftime("%Y-%m-%d %H:%M UTC")))
    elif settings.reveal == "after_attempts":
        out.append(msg("serve.homework.reveal_after_attempts", n=settings.reveal_attempts))
    else:
        out.append(msg(f"serve.homework.reveal_{settings.reveal}"))
    out.append(msg(f"serve.homework.score_{settings.score}"))
    return out


def routes(classroom, max_body: int, home: bool = False) -> list:
    """The student's routes over ``classroom``; with ``home``, ``/`` lists the assignments."""

    async def index(request: Request) -> Response:
        lang = lang_of(request.query_params.get("lang"))
        items = [(a.id, a.title) for a in classroom.assignments.values()]
        return await run_in_threadpool(page, "index", page="index", lang=lang, assignments=items)

    async def student_page(request: Request) -> Response:
        ident = request.path_params["id"]
        lang = lang_of(request.query_params.get("lang"))
        typed = request.query_params.get("student")
        browser, new = browser_of(request)
        try:
            response = await run_in_threadpool(_student_page, classroom, ident, typed, lang)
        except NotFound as exc:
            response = message_page(404, str(exc), lang, "serve.homework.not_found")
        return with_browser(response, request, browser, new)

    def post(action: str):
        async def endpoint(request: Request) -> Response:
            ident = request.path_params["id"]
            browser, new = browser_of(request)
            try:
                body = await read_json(request, max_body, BODY_KEYS[action])
                reply = await run_in_threadpool(_act, classroom, action, ident, body, browser)
                response = Reply(reply, headers=NO_STORE)
            except (InputError, _Reply) as exc:
                response = refusal(exc)
            return with_browser(response, request, browser, new)
        return endpoint

    async def solution(request: Request) -> Response:
        ident = request.path_params["id"]
        lang = lang_of(request.query_params.get("lang"))
        try:
            return await run_in_threadpool(_solution_page, classroom, ident, request.query_params.get("student"),
                                           lang)
        except NotFound as exc:
            return message_page(404, str(exc), lang, "serve.homework.not_found")
        except Refused as exc:
            return message_page(403, str(exc), lang, "serve.homework.withheld")
        except InputError as exc:
            return message_page(400, str(exc), lang, "serve.homework.withheld")

    out = [Route("/a/{id}", student_page, methods=["GET"]),
           Route("/a/{id}/check", post("check"), methods=["POST"]),
           Route("/a/{id}/save", post("save"), methods=["POST"]),
           Route("/a/{id}/resume", post("resume"), methods=["POST"]),
           Route("/a/{id}/solution", solution, methods=["GET"])]
    if home:
        out.insert(0, Route("/", index, methods=["GET"]))
    return out


def _act(classroom, action: str, ident: str, body: dict, browser: str) -> dict:
    lang = body.get("lang")
    if lang is not None and lang not in views.api.LANGS:
        raise InputError(f"expected one of {', '.join(views.api.LANGS)}", key="lang")
    if action == "check":
        if "answers" not in body:
            raise InputError("missing: the answers, e.g. {\"a1[1]\": \"0.9084\"}", key="answers")
        return classroom.submit(ident, body.get("student"), body["answers"], browser=browser, lang=lang).to_json()
    if action == "save":
        classroom.save(ident, body.get("student"), body.get("answers", {}), browser=browser)
        return {"saved": True}
    return classroom.resume(ident, body.get("student"), browser=browser, lang=lang)


def _student_page(classroom, ident: str, typed, lang: str) -> HTMLResponse:
    a = classroom.assignment(ident)
    msg = catalog(lang)
    settings = classroom.settings(a)
    student, problem, problem_error = None, None, None
    if typed:
        try:
            student = a.identify(typed)
        except InputError as exc:
            problem_error = exc.message
    variant = student.variant if student is not None else (None if a.per_student else "")
    if variant is not None:
        problem = a.sheet(variant, lang)
    query = f"student={quote(typed)}&" if typed else ""
    return page("homework", page="homework", lang=lang, query=query, a=a, settings=settings, sheet=problem,
                student=student.name if student else (typed or ""), student_error=problem_error,
                rules=rules_text(settings, msg), rule=_rule(a, variant, msg),
                per_student=a.per_student, by_roster=a.by_roster)


def _rule(a, variant, msg) -> str:
    """How answers are judged (the grading policy in sentences), for the page's disclosure."""
    if variant is None:
        return ""
    policy = a.subject(variant).grader.policy
    return msg("sentence_separator").join(policy.describe(msg))


def _solution_page(classroom, ident: str, typed, lang: str) -> HTMLResponse:
    derivation = classroom.solution(ident, typed or None, lang)
    a = classroom.assignment(ident)
    return page("solution", page="solution", lang=lang, query=f"student={quote(typed)}&" if typed else "", a=a,
                d=derivation)
