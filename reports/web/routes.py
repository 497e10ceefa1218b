"""The routes of the report pages (`router`, mounted by the app under /reports).

Each page asks for its language first (400 for an unknown one), then for the caller (401
without a key, 403 for a key of the wrong role or department), then for the run (404);
a `Refusal` becomes its HTML page in the language asked for (`guarded`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from egov.auth import TokenBucket, authenticate
from egov.cycle import run_access
from egov.deps import SessionDep, get_session
from reports.assessor import render_html
from reports.assessor_data import gather
from reports.department import department_report, render_department_report, run_intervals
from reports.i18n import t
from reports.web.auth import (
    ALL_ROLES,
    COOKIE,
    READER_ROLES,
    SESSION_HOURS,
    Refusal,
    end_session,
    start_session,
    who,
)
from reports.web.forms import read_form, refuse_cross_site
from reports.web.links import PREFIX, nav, q
from reports.web.pages import (
    HEADERS,
    banner,
    index_page,
    known_lang,
    lang_of,
    login_page,
    page,
    ranking_page,
    refusal_page,
    run_of,
)
from reports.web.results import run_result

LOGIN_ATTEMPTS_PER_MINUTE = 30  # per client address, for each app

# every state-changing request of the pages is refused when it comes from another site (CSRF)
router = APIRouter(prefix=PREFIX, include_in_schema=False, dependencies=[Depends(refuse_cross_site)])


def build_reports_router() -> APIRouter:
    """The report pages' router (for `create_app`)."""
    return router


def guarded(handler: Callable[..., Response]) -> Callable[..., Response]:
    """Turn a Refusal into its HTML page (in the language asked for, if valid)."""

    @functools.wraps(handler)
    def wrapper(request: Request, *args: Any, **kwargs: Any) -> Response:
        try:
            return handler(request, *args, **kwargs)
        except Refusal as exc:
            return refusal_page(exc, known_lang(request.query_params.get("lang")))

    return wrapper


async def refusal_response(request: Request, exc: Exception) -> Response:
    """A Refusal raised outside a `guarded` page (a dependency, a form) as its HTML page (the
    app's exception handler for Refusal)."""
    assert isinstance(exc, Refusal)
    return refusal_page(exc, known_lang(request.query_params.get("lang")))


def login_bucket(request: Request) -> TokenBucket:
    """The login attempts' token buckets of this app (each app has its own)."""
    state = request.app.state
    bucket = getattr(state, "reports_login_bucket", None)
    if bucket is None:
        bucket = state.reports_login_bucket = TokenBucket(LOGIN_ATTEMPTS_PER_MINUTE)
    return bucket


@router.get("/login", response_class=HTMLResponse)
@guarded
def login_form(request: Request) -> Response:
    return login_page(lang_of(request))


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    form = await read_form(request)
    lang = known_lang(form.get("lang") or request.query_params.get("lang"))
    client = (request.client.host if request.client else "?") or "?"
    if login_bucket(request).take(client):
        return login_page(lang, t("web.too_many", lang), status=429)
    key = form.get("key", "").strip()
    return await run_in_threadpool(_do_login, key, lang, request.url.scheme == "https")


def _do_login(key: str, lang: str, https: bool) -> Response:
    with contextmanager(get_session)() as session:
        principal = authenticate(session, key) if key else None
        if principal is None or principal.role not in READER_ROLES:
            return login_page(lang, t("web.login_failed", lang), status=401)
        session_id = start_session(session, principal)
    response = RedirectResponse(f"{PREFIX}/{q(lang)}", status_code=303, headers=HEADERS)
    response.set_cookie(
        COOKIE,
        session_id,
        max_age=SESSION_HOURS * 3600,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=https,
    )
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep) -> Response:
    session_id = request.cookies.get(COOKIE)
    if session_id and len(session_id) <= 100:
        end_session(session, session_id)
    lang = known_lang(request.query_params.get("lang"))
    response = RedirectResponse(f"{PREFIX}/login{q(lang)}", status_code=303, headers=HEADERS)
    response.delete_cookie(COOKIE, path=PREFIX, httponly=True, samesite="strict")
    return response


@router.get("/", response_class=HTMLResponse)
@guarded
def index(request: Request, session: SessionDep) -> Response:
    lang = lang_of(request)
    principal = who(request, session)
    return index_page(session, principal, lang)


@router.get("/{run_key}/ranking", response_class=HTMLResponse)
@guarded
def ranking(request: Request, run_key: str, session: SessionDep) -> Response:
    lang = lang_of(request)
    principal = who(request, session)
    run = run_of(session, run_key, principal)
    result, cache = run_result(session, run)
    intervals = run_intervals(session, run, result, cache)  # once per run, shared with the reports
    return page(*ranking_page(session, run, result, principal, lang, intervals), lang, **banner(run, lang))


@router.get("/{run_key}/departments/{department}", response_class=HTMLResponse)
@guarded
def department(request: Request, run_key: str, department: str, session: SessionDep) -> Response:
    lang = lang_of(request)
    principal = who(request, session)
    if principal.role == "department" and principal.department_code != department:
        raise Refusal(403, "web.forbidden")
    run = run_of(session, run_key, principal, department)
    result, cache = run_result(session, run)
    if result.department_scores is None or department not in result.department_scores.index:
        raise Refusal(404, "web.not_found")
    report = department_report(session, run, department, result, cache)
    cache.forget_measures()  # ratings keep arriving: measured afresh on every page
    whole = run_access(session, principal).may_read(run.id)
    html = render_department_report(report, lang, nav=nav(principal, lang, run.run_key, whole))
    return HTMLResponse(html, headers=HEADERS)


@router.get("/{run_key}/assessor", response_class=HTMLResponse)
@guarded
def assessor(request: Request, run_key: str, session: SessionDep) -> Response:
    lang = lang_of(request)
    principal = who(request, session, ALL_ROLES)
    run = run_of(session, run_key, principal)
    html = render_html(gather(session, run, lang))
    html = html.replace("<main>", f"<main>{nav(principal, lang, run.run_key)}", 1)
    return HTMLResponse(html, headers=HEADERS)
