"""The routes of the case desk (`router`, under /reports/desk, included by `create_app`): the
report pages' login, cookie and cross-site check (`refuse_cross_site` is a dependency of the
router). Department keys see and handle their own department's cases (another's is a 404);
assessor keys see all, read only, and decide appeals. A move that succeeds answers 303 to the
case's page with its message (`?done=`); one refused shows the page again with the message
(role=alert) and the status (400 for a form's missing field, else the library's: 403, 404, 409,
422)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from egov.auth import Principal
from egov.cells import control_problem
from egov.clock import local_day
from egov.deps import SessionDep
from egov.errors import ServiceError
from reports.html import esc
from reports.i18n import TABLE, t
from reports.ledger import ledger_bytes
from reports.web.auth import Refusal, who
from reports.web.desk.pages import (
    ACTIONS,
    DESK,
    STYLE,
    case_html,
    desk_url,
    filter_html,
    forms_html,
    ledger_form,
    list_html,
    stats_html,
)
from reports.web.forms import read_form, refuse_cross_site
from reports.web.links import nav
from reports.web.pages import HEADERS, lang_of, page
from surveys.casedesk import desk_case, desk_cases, desk_stats
from surveys.cases import transition_case
from surveys.casework import CaseDetails
from surveys.schemas import CASE_STATES

router = APIRouter(prefix=DESK, include_in_schema=False, dependencies=[Depends(refuse_cross_site)])
DESK_ROLES = ("department", "assessor")
# what a desk form must carry, by action: (field, the message when it is missing)
REQUIRED: dict[str, tuple[str, str]] = {
    "take": ("handler", "desk.need.handler"),
    "rectify": ("tier", "desk.need.tier"),
    "rectified": ("answer", "desk.need.answer"),
    "explain": ("answer", "desk.need.answer"),
    "visit": ("outcome", "desk.need.outcome"),
    "appeal": ("note", "desk.need.reason"),
    "upheld": ("note", "desk.need.reason"),
    "removed": ("note", "desk.need.reason"),
}


def build_desk_router() -> APIRouter:
    """The case desk's router (for `create_app`)."""
    return router


def _notice(ok: bool, text: str, detail: str = "", lang: str = "en") -> str:
    if ok:
        return f'<p class="ok" role="status">{esc(text)}</p>'
    more = (
        f' <span class="note">{esc(t("desk.detail", lang))}: <span lang="en">{esc(detail)}</span></span>'
        if detail
        else ""
    )
    return f'<p class="err" role="alert">{esc(text)}{more}</p>'


def _done(request: Request, lang: str) -> str:
    key = f"desk.done.{request.query_params.get('done', '')}"
    return _notice(True, t(key, lang)) if key in TABLE else ""


@router.get("/")
def desk(request: Request, session: SessionDep) -> Response:
    """The desk: the statistics, the filter, the cases (deadline first), the ledger's form."""
    lang = lang_of(request)
    principal = who(request, session, DESK_ROLES)
    state = request.query_params.get("state", "")
    state = state if state in ("open_states", *CASE_STATES) else ""
    overdue = request.query_params.get("overdue") == "1"
    today = local_day()
    rows = desk_cases(session, principal, today, state, overdue)
    title = t("desk.title", lang) + (f" · {principal.department_code}" if principal.department_code else "")
    body = (
        STYLE
        + nav(principal, lang)
        + stats_html(desk_stats(session, principal, today), lang)
        + f"<h2>{esc(t('desk.title', lang))}</h2>"
        + filter_html(lang, state, overdue)
        + list_html(rows, lang, principal.role == "assessor")
        + ledger_form(lang, date(today.year, 1, 1).isoformat(), today.isoformat())
    )
    return page(title, [(title, body)], lang)


@router.get("/ledger.xlsx")
def ledger(request: Request, session: SessionDep) -> Response:
    """The ledger of the cases opened between `from` and `to` (the key's department's; an
    assessor's: all), as Excel."""
    lang = lang_of(request)
    principal = who(request, session, DESK_ROLES)
    try:
        start = date.fromisoformat(request.query_params.get("from", ""))
        end = date.fromisoformat(request.query_params.get("to", ""))
    except ValueError:
        start = end = date.max
    if start > end or start == date.max:
        title = t("desk.title", lang)
        return page(
            title,
            [(title, nav(principal, lang) + _notice(False, t("desk.bad_dates", lang)))],
            lang,
            status=400,
        )
    department = principal.department_code if principal.role == "department" else None
    content = ledger_bytes(session, start, end, department, lang, local_day())
    name = f"ledger-{department or 'all'}-{start.isoformat()}-{end.isoformat()}.xlsx"
    headers = {**HEADERS, "Content-Disposition": f'attachment; filename="{name}"'}
    kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(content, media_type=kind, headers=headers)


def _case_id(text: str) -> int:
    if not text.isdigit() or len(text) > 9:
        raise Refusal(404, "web.not_found")
    return int(text)


def _case_page(
    session: Session, principal: Principal, case_id: int, lang: str, message: str = "", status: int = 200
) -> Response:
    try:
        row = desk_case(session, principal, case_id, local_day())
    except ServiceError as exc:
        raise Refusal(404, "web.not_found") from exc
    title = t("desk.case_title", lang, id=case_id)
    back = f'<p><a href="{esc(desk_url(lang))}">{esc(t("desk.back", lang))}</a></p>'
    body = (
        STYLE
        + nav(principal, lang)
        + message
        + back
        + case_html(row, principal, lang)
        + forms_html(row, principal, lang)
    )
    return page(title, [(title, body)], lang, status=status)


@router.get("/{case_id}")
def case_page(case_id: str, request: Request, session: SessionDep) -> Response:
    lang = lang_of(request)
    principal = who(request, session, DESK_ROLES)
    return _case_page(session, principal, _case_id(case_id), lang, _done(request, lang))


@router.post("/{case_id}")
async def case_post(case_id: str, request: Request, session: SessionDep) -> Response:
    fields = await read_form(request)
    return _handle(case_id, request, session, fields)


def _handle(case_text: str, request: Request, session: Session, fields: dict[str, str]) -> Response:
    lang = lang_of(request)
    principal = who(request, session, DESK_ROLES)
    case_id = _case_id(case_text)
    try:
        desk_case(session, principal, case_id, local_day())  # another department's: 404 first
    except ServiceError as exc:
        raise Refusal(404, "web.not_found") from exc
    action = fields.get("action", "")
    values = {
        k: fields.get(k, "").replace("\r\n", "\n").strip()
        for k in ("handler", "tier", "answer", "outcome", "note")
    }
    problem, detail = _form_problem(action, values, lang)
    if problem:
        return _case_page(session, principal, case_id, lang, _notice(False, problem, detail, lang), 400)
    details = CaseDetails(
        handler=values["handler"],
        tier=values["tier"] or None,
        answer=values["answer"],
        outcome=values["outcome"] or None,
        note=values["note"],
    )
    try:
        transition_case(session, principal, case_id, ACTIONS[action][0], values["note"], details=details)
    except ServiceError as exc:
        session.rollback()
        if exc.status == 404:
            raise Refusal(404, "web.not_found") from exc
        message = _notice(False, t("desk.refused", lang), exc.message, lang)
        return _case_page(session, principal, case_id, lang, message, exc.status)
    session.commit()
    return RedirectResponse(desk_url(lang, case_id, action), status_code=303, headers=HEADERS)


def _form_problem(action: str, values: dict[str, str], lang: str) -> tuple[str, str]:
    """What is wrong with a desk form, in the page's language, and its detail ("" when nothing)."""
    if action not in ACTIONS:
        return t("desk.bad_action", lang), ""
    need = REQUIRED.get(action)
    if need and not values[need[0]]:
        return t(need[1], lang), ""
    for name, text in values.items():
        problem = control_problem(text, name, free_text=True)
        if problem:
            return t("desk.refused", lang), problem
    return "", ""
