"""The routes of the cycle pages (`router`, under /reports/cycle, included by `create_app`):
the same login, cookie and cross-site check as the report pages (`refuse_cross_site` is a
dependency of the router). Each page asks for its language (400 for an unknown one), then the
caller (401 without a key, 403 for the wrong role), then the period's cycle (404). A POST that
succeeds answers 303 to its page with the message named (`?done=`); one the library refuses
shows the page again with the message (role=alert) and the status (400, 403, 404, 409)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from egov.auth import Principal
from egov.cycle import Actor, advance, all_cycles
from egov.deps import SessionDep
from egov.errors import EgovError
from egov.models import AssessmentCycle
from egov.review import finalise
from reports.cycle import state_label
from reports.html import esc
from reports.i18n import t
from reports.web.auth import who
from reports.web.cycle.assessor import answer, decide, objections_body, verify_body
from reports.web.cycle.common import (
    A_MOVE_REASON,
    A_RUN,
    CYCLE,
    SR_STYLE,
    Failed,
    Notice,
    Upload,
    cycle_of,
    done_notice,
    field,
    form_fields,
    page_url,
    redirect,
    refused,
    table,
)
from reports.web.cycle.department import add_evidence, raise_, review_body, state_line, submit, values_body
from reports.web.forms import refuse_cross_site
from reports.web.links import nav, q
from reports.web.pages import HEADERS, lang_of, page

router = APIRouter(prefix=CYCLE, include_in_schema=False, dependencies=[Depends(refuse_cross_site)])
DEPARTMENT = ("department",)
ASSESSOR = ("assessor",)
MOVERS = ("lead", "assessor")
Form = Annotated[Upload, Depends(form_fields)]
# page name → (its title label, the roles that see it)
PAGES = {
    "values": ("cyc.values", DEPARTMENT),
    "review": ("cyc.review", DEPARTMENT),
    "verify": ("cyc.verify", ASSESSOR),
    "objections": ("cyc.objections", ASSESSOR),
}


def build_cycle_router() -> APIRouter:
    """The cycle pages' router (for `create_app`)."""
    return router


def _body(
    session: Session,
    principal: Principal,
    period: str,
    cycle: AssessmentCycle,
    name: str,
    request: Request,
    lang: str,
) -> str:
    if name == "values":
        return values_body(session, principal, period, cycle, lang)
    if name == "review":
        return review_body(session, principal, period, cycle, lang)
    line = state_line(cycle, lang)
    if name == "verify":
        query = request.query_params
        number = query.get("page", "1")
        return verify_body(
            session,
            period,
            line,
            lang,
            query.get("department", ""),
            query.get("status", ""),
            int(number) if number.isdigit() and len(number) < 7 else 1,
        )
    return objections_body(session, principal, period, line, lang)


def _page(
    request: Request,
    session: Session,
    principal: Principal,
    period: str,
    cycle: AssessmentCycle,
    name: str,
    lang: str,
    notice: Notice | None = None,
    status: int = 200,
) -> Response:
    title = t("cyc.period_title", lang, what=t(PAGES[name][0], lang), period=period)
    message = notice.html(lang) if notice is not None else ""
    body = nav(principal, lang) + message + _body(session, principal, period, cycle, name, request, lang)
    return page(title, [(title, body)], lang, status=status)


def _caller(
    request: Request, session: Session, period: str, name: str
) -> tuple[str, Principal, AssessmentCycle]:
    lang = lang_of(request)
    principal = who(request, session, PAGES[name][1])
    return lang, principal, cycle_of(session, period)


def _show(request: Request, period: str, session: Session, name: str) -> Response:
    lang, principal, cycle = _caller(request, session, period, name)
    return _page(request, session, principal, period, cycle, name, lang, done_notice(request, lang))


def _act(
    request: Request,
    period: str,
    session: Session,
    name: str,
    action: Callable[[Principal, AssessmentCycle, str], str],
) -> Response:
    """Run `action` (→ the message's name); commit and 303, or roll back and show the refusal."""
    lang, principal, cycle = _caller(request, session, period, name)
    try:
        done = action(principal, cycle, lang)
    except Failed as exc:
        session.rollback()
        return _page(request, session, principal, period, cycle, name, lang, exc.notice, exc.status)
    session.commit()
    return redirect(period, name, lang, done)


@router.get("/", response_class=HTMLResponse)
def cycles(request: Request, session: SessionDep) -> Response:
    lang = lang_of(request)
    principal = who(request, session)
    title = t("cyc.cycles", lang)
    return page(
        title,
        [(title, nav(principal, lang) + done_html(request, lang) + cycles_body(session, principal, lang))],
        lang,
    )


def done_html(request: Request, lang: str) -> str:
    notice = done_notice(request, lang)
    return notice.html(lang) if notice is not None else ""


def cycles_body(session: Session, principal: Principal, lang: str) -> str:
    """Every cycle: period, state, review deadline, the pages the key's role has, and the
    form of the next move when the key's role owns it."""
    statuses = all_cycles(session)
    if not statuses:
        return f"<p>{esc(t('cyc.none', lang))}</p>"
    mine = [name for name, (_, roles) in PAGES.items() if principal.role in roles]
    head = [t("cycle.period", lang), t("cycle.state", lang), t("cycle.deadline", lang), t("cyc.pages", lang)]
    rows, forms = [], []
    for s in statuses:
        links = " · ".join(
            f'<a href="{esc(page_url(s.period, name, lang))}">{esc(t(PAGES[name][0], lang))}</a>'
            for name in mine
        )
        deadline = s.review_deadline.isoformat() if s.review_deadline else "–"
        rows.append((esc(s.period), esc(state_label(s.state, lang)), esc(deadline), links))
        forms += [_move_form(s.period, to, lang) for to, role in s.next_moves if role == principal.role]
    return SR_STYLE + table(head, rows) + "".join(forms)


def _move_form(period: str, to: str, lang: str) -> str:
    label = t("cyc.move_to", lang, state=state_label(to, lang))
    run = ""
    if to in ("draft", "final"):
        run = f'<p>{field("run", t("cyc.run_key", lang), id_=f"run-{period}", extra=A_RUN)} <span class="note">{esc(t("cyc.run_help", lang))}</span></p>'
    return (
        f"<h3>{esc(period)}: {esc(label)}</h3>"
        f'<form class="stack" method="post" action="{esc(page_url(period, "move", lang))}">'
        f'<input type="hidden" name="to" value="{esc(to)}">{run}'
        f"<p>{field('reason', t('cycle.reason', lang), id_=f'reason-{period}', extra=A_MOVE_REASON)}</p>"
        f'<p><button type="submit">{esc(label)}</button></p></form>'
    )


@router.post("/{period}/move", response_class=HTMLResponse)
def move(request: Request, period: str, session: SessionDep, up: Form) -> Response:
    lang = lang_of(request)
    principal = who(request, session, MOVERS)
    cycle_of(session, period)
    to, reason = up.fields.get("to", ""), up.fields.get("reason", "")
    run = up.fields.get("run", "").strip() or None
    actor = Actor.of_key(principal)
    try:
        if to == "final":
            finalise(session, period, actor, reason, run)
        else:
            advance(session, period, to, actor, reason, run)
    except EgovError as exc:
        session.rollback()
        failure = refused(exc, lang)
        status = 403 if "'s to do" in str(exc) else failure.status
        title = t("cyc.cycles", lang)
        body = nav(principal, lang) + failure.notice.html(lang) + cycles_body(session, principal, lang)
        return page(title, [(title, body)], lang, status=status)
    session.commit()
    return RedirectResponse(f"{CYCLE}/{q(lang)}&done=moved", status_code=303, headers=HEADERS)


@router.get("/{period}/values", response_class=HTMLResponse)
def values_page(request: Request, period: str, session: SessionDep) -> Response:
    return _show(request, period, session, "values")


@router.post("/{period}/values", response_class=HTMLResponse)
def values_post(request: Request, period: str, session: SessionDep, up: Form) -> Response:
    def act(principal: Principal, cycle: AssessmentCycle, lang: str) -> str:
        submit(session, principal, period, cycle, up, lang)
        return "submitted"

    return _act(request, period, session, "values", act)


@router.post("/{period}/evidence", response_class=HTMLResponse)
def evidence_post(request: Request, period: str, session: SessionDep, up: Form) -> Response:
    def act(principal: Principal, cycle: AssessmentCycle, lang: str) -> str:
        add_evidence(session, principal, period, up, lang)
        return "evidence"

    return _act(request, period, session, "values", act)


@router.get("/{period}/review", response_class=HTMLResponse)
def review_page(request: Request, period: str, session: SessionDep) -> Response:
    return _show(request, period, session, "review")


@router.post("/{period}/review", response_class=HTMLResponse)
def review_post(request: Request, period: str, session: SessionDep, up: Form) -> Response:
    def act(principal: Principal, cycle: AssessmentCycle, lang: str) -> str:
        raise_(session, principal, period, up, lang)
        return "raised"

    return _act(request, period, session, "review", act)


@router.get("/{period}/verify", response_class=HTMLResponse)
def verify_page(request: Request, period: str, session: SessionDep) -> Response:
    return _show(request, period, session, "verify")


@router.post("/{period}/verify", response_class=HTMLResponse)
def verify_post(request: Request, period: str, session: SessionDep, up: Form) -> Response:
    return _act(request, period, session, "verify", lambda p, _c, lang: decide(session, p, period, up, lang))


@router.get("/{period}/objections", response_class=HTMLResponse)
def objections_page(request: Request, period: str, session: SessionDep) -> Response:
    return _show(request, period, session, "objections")


@router.post("/{period}/objections", response_class=HTMLResponse)
def objections_post(request: Request, period: str, session: SessionDep, up: Form) -> Response:
    return _act(
        request, period, session, "objections", lambda p, _c, lang: answer(session, p, period, up, lang)
    )
