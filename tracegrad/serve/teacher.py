"""The teacher's doors of ``tracegrad serve --assignment``.

=================================  ==============================================================
``GET /teacher``                   the class at work (signed in), or the sign-in form
``POST /teacher/sign-in``          ``{"token": …}``: a session cookie for this browser
``POST /teacher/sign-out``         forget it
``GET /teacher/<id>/grades.csv``   ``student, variant, attempts, latest, best`` (scores as fractions of 1)
``GET /teacher/<id>/summary.json`` the students and the class summary (``check --summary``'s JSON)
``POST /teacher/<id>/settings``    ``{"reveal": "after_submit", …}``: change the rules on the page
=================================  ==============================================================

Every route but the sign-in takes the token as ``Authorization: Bearer <token>`` (scripts) or the
session cookie the sign-in sets (``HttpOnly``, ``SameSite=Strict``; its value is an HMAC of the token,
so every server process sharing ``--teacher-token`` accepts it, and a new token signs everybody out).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import asdict

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..classroom.feedback import catalog
from ..classroom.summary import grades_csv, summary
from ..core.errors import InputError
from .homework import NO_STORE, Reply, _Reply, error, lang_of, page, read_json, refusal

SESSION_COOKIE = "tracegrad_teacher"


def session_value(token: str) -> str:
    return hmac.new(token.encode("utf-8"), b"tracegrad teacher session", hashlib.sha256).hexdigest()


def signed_in(request: Request, token: str) -> bool:
    """The request carries the token (``Authorization: Bearer``) or the session cookie."""
    given = request.headers.get("authorization", "")
    if given[:7].lower() == "bearer " and hmac.compare_digest(given[7:].strip().encode(), token.encode()):
        return True
    cookie = request.cookies.get(SESSION_COOKIE, "")
    return hmac.compare_digest(cookie.encode(), session_value(token).encode())


def unauthorized() -> JSONResponse:
    response = error(401, "sign in first: the teacher's token, as Authorization: Bearer <token> or on /teacher")
    response.headers["WWW-Authenticate"] = 'Bearer realm="tracegrad"'
    return response


def routes(classroom, token: str, max_body: int) -> list:
    """The teacher's routes over ``classroom``, guarded by ``token``."""
    if not token:
        raise ValueError("the teacher's routes need a token")

    async def dashboard(request: Request) -> Response:
        lang = lang_of(request.query_params.get("lang"))
        if not signed_in(request, token):
            return page("signin", page="teacher", lang=lang)
        return await run_in_threadpool(_dashboard, classroom, lang)

    async def sign_in(request: Request) -> Response:
        try:
            body = await read_json(request, max_body, ("token",))
        except (InputError, _Reply) as exc:
            return refusal(exc)
        typed = body.get("token")
        if not isinstance(typed, str) or not hmac.compare_digest(typed.strip().encode(), token.encode()):
            return error(401, "not the teacher's token; it is printed when tracegrad serve starts")
        response = Reply({"signed_in": True}, headers=NO_STORE)
        response.set_cookie(SESSION_COOKIE, session_value(token), path="/teacher", httponly=True, samesite="strict",
                            secure=request.url.scheme == "https")
        return response

    async def sign_out(request: Request) -> Response:
        response = Reply({"signed_in": False}, headers=NO_STORE)
        response.delete_cookie(SESSION_COOKIE, path="/teacher")
        return response

    def guarded(work):
        async def endpoint(request: Request) -> Response:
            if not signed_in(request, token):
                return unauthorized()
            try:
                return await work(request, request.path_params["id"])
            except (InputError, _Reply) as exc:
                return refusal(exc)
        return endpoint

    async def grades(request: Request, ident: str) -> Response:
        text = await run_in_threadpool(grades_csv, classroom, ident)
        return Response(text, media_type="text/csv; charset=utf-8",
                        headers={**NO_STORE, "Content-Disposition": f'attachment; filename="{ident}-grades.csv"'})

    async def summary_json(request: Request, ident: str) -> Response:
        lang = lang_of(request.query_params.get("lang"))
        return Reply(await run_in_threadpool(_summary, classroom, ident, lang), headers=NO_STORE)

    async def settings(request: Request, ident: str) -> Response:
        body = await read_json(request, max_body, ("attempts", "reveal", "reveal_attempts", "reveal_at", "hints",
                                                   "score"))
        changed = await run_in_threadpool(classroom.change_settings, ident, body)
        return Reply(changed.page_values(), headers=NO_STORE)

    return [Route("/teacher", dashboard, methods=["GET"]),
            Route("/teacher/sign-in", sign_in, methods=["POST"]),
            Route("/teacher/sign-out", sign_out, methods=["POST"]),
            Route("/teacher/{id}/grades.csv", guarded(grades), methods=["GET"]),
            Route("/teacher/{id}/summary.json", guarded(summary_json), methods=["GET"]),
            Route("/teacher/{id}/settings", guarded(settings), methods=["POST"])]


def _summary(classroom, ident: str, lang: str) -> dict:
    standings = classroom.store.standings(classroom.assignment(ident).id)
    students = [{**asdict(s), "last": s.last.isoformat()} for s in standings]
    return {"assignment": ident, "students": students, "summary": asdict(summary(classroom, ident, lang))}


def _dashboard(classroom, lang: str):
    sections = [{"a": a, "settings": classroom.settings(a), "standings": classroom.store.standings(a.id),
                 "summary": summary(classroom, a.id, lang)} for a in classroom.assignments.values()]
    return page("teacher", page="teacher", lang=lang, sections=sections, msg=catalog(lang))
