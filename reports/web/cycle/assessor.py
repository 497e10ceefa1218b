"""The assessor key's cycle pages: the period's values (filtered by department and status, 50 a
page) each with its decision form (verify, adjust with the new value, reject, dispute: a reason
for all but a verification; egov.values.review), and the objections with the answer form of each
open one (accept with the new value, or reject, with a reason; egov.objections.answer_objection).
The decisions are recorded as the key's (`Actor.of_key`, `Caller.of_key`)."""

from __future__ import annotations

from urllib.parse import urlencode

from sqlmodel import Session, col, select

from egov.auth import Principal
from egov.cycle import Actor
from egov.errors import EgovError
from egov.models import Department, MetricValue
from egov.objections import Caller as ObjectionCaller
from egov.objections import ObjectionView, answer_objection, list_objections
from egov.values import ACTIONS, STATUSES, get_period, list_values, review
from reports.html import esc
from reports.i18n import t
from reports.web.cycle.common import (
    A_NUMBER,
    A_REASON,
    A_SHORT_REASON,
    CYCLE,
    SR_STYLE,
    Upload,
    failed,
    field,
    number,
    page_url,
    refused,
    shown_value,
    table,
)
from reports.web.cycle.common import (
    select as select_html,
)
from reports.web.cycle.department import objections_table

PAGE_SIZE = 50


# --- verify -------------------------------------------------------------------------------------
def verify_body(
    session: Session,
    period: str,
    cycle_state_line: str,
    lang: str,
    department: str = "",
    status: str = "",
    page: int = 1,
) -> str:
    departments = [str(c) for c in session.exec(select(Department.code).order_by(col(Department.code))).all()]
    department = department if department in departments else ""
    status = status if status in STATUSES else ""
    rows = list_values(session, period, status=status or None, department=department or None)
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    page = min(max(page, 1), pages)
    shown = rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    every = t("cyc.all", lang)
    filters = (
        f'<form class="inline" method="get" action="{esc(page_url(period, "verify", lang))}">'
        f'<input type="hidden" name="lang" value="{esc(lang)}">'
        f"{select_html('department', t('values.department', lang), [(d, d) for d in departments], department, blank=every)}"
        f"{select_html('status', t('values.status', lang), [(s, t(f'values.status.{s}', lang)) for s in STATUSES], status, blank=every)}"
        f'<button type="submit">{esc(t("cyc.filter", lang))}</button></form>'
    )
    parts = [SR_STYLE, cycle_state_line, filters]
    if not shown:
        return "".join([*parts, f"<p>{esc(t('values.none', lang))}</p>"])
    first = (page - 1) * PAGE_SIZE + 1
    parts.append(
        f"<p>{esc(t('cyc.shown', lang, first=first, last=first + len(shown) - 1, total=len(rows)))}</p>"
    )
    head = [t("values.id", lang), t("values.department", lang), t("values.object", lang)]
    head += [t("values.indicator", lang), t("values.value", lang), t("values.status", lang)]
    head += [t("values.evidence", lang), t("cyc.decision", lang)]
    actions = [(a, t(f"cyc.action.{a}", lang)) for a in ACTIONS]
    # the row's inputs have hidden labels; a placeholder shows what each one takes
    hint_value = f'{A_NUMBER} placeholder="{esc(t("cyc.new_value", lang))}"'
    hint_reason = f'{A_SHORT_REASON} placeholder="{esc(t("cyc.reason", lang))}"'
    cells = []
    for r in shown:
        form = (
            f'<form class="inline" method="post" action="{esc(page_url(period, "verify", lang))}">'
            f'<input type="hidden" name="value_id" value="{r.id}">'
            f"{select_html('action', t('cyc.decision', lang), actions, id_=f'act-{r.id}', hidden_label=True)}"
            f"{field('value', t('cyc.new_value', lang), id_=f'val-{r.id}', hidden_label=True, extra=hint_value)}"
            f"{field('reason', t('cyc.reason', lang), id_=f'why-{r.id}', hidden_label=True, extra=hint_reason)}"
            f'<button type="submit" aria-label="{esc(t("cyc.apply", lang))} {r.id}">{esc(t("cyc.apply", lang))}</button></form>'
        )
        cells.append(
            (
                str(r.id),
                esc(r.department),
                esc(r.object),
                esc(r.indicator),
                shown_value(r.value, r.unit),
                esc(t(f"values.status.{r.status}", lang)),
                str(r.evidence),
                form,
            )
        )
    parts.append(table(head, cells))
    parts.append(_pager(period, lang, department, status, page, pages))
    return "".join(parts)


def _pager(period: str, lang: str, department: str, status: str, page: int, pages: int) -> str:
    links = []
    for target, key in ((page - 1, "cyc.prev_page"), (page + 1, "cyc.next_page")):
        if 1 <= target <= pages:
            query = urlencode({"lang": lang, "department": department, "status": status, "page": target})
            links.append(f'<a href="{CYCLE}/{esc(period)}/verify?{esc(query)}">{esc(t(key, lang))}</a>')
    return f'<nav aria-label="pages"><p>{" · ".join(links)}</p></nav>' if links else ""


def decide(session: Session, principal: Principal, period: str, up: Upload, lang: str) -> str:
    """The assessor's decision of the form on one current value of the period; its action."""
    f = up.fields
    try:
        value_id = int(f.get("value_id", ""))
    except ValueError:
        raise failed(400, "cyc.missing", lang, field=t("values.id", lang)) from None
    action = f.get("action", "")
    if action not in ACTIONS:
        raise failed(400, "cyc.missing", lang, field=t("cyc.decision", lang))
    value = session.get(MetricValue, value_id)
    if value is None or value.period_id != get_period(session, period).id:
        raise failed(404, "cyc.not_this_period", lang)
    new_value = number(f.get("value", ""), lang, required=action == "adjust")
    try:
        review(session, value, action, Actor.of_key(principal), f.get("reason", ""), new_value)
    except EgovError as exc:
        raise refused(exc, lang) from None
    return action


# --- objections ---------------------------------------------------------------------------------
def objections_body(session: Session, principal: Principal, period: str, state: str, lang: str) -> str:
    views = list_objections(session, ObjectionCaller.of_key(principal), period)
    open_ = [v for v in views if v.state == "open"]
    parts = [SR_STYLE, state, f"<p>{esc(t('cyc.open_count', lang, n=len(open_)))}</p>"]
    parts.append(objections_table(views, lang, t("objection.list_title", lang, period=period)))
    for v in open_:
        parts.append(_answer_form(period, v, lang))
    return "".join(parts)


def _answer_form(period: str, v: ObjectionView, lang: str) -> str:
    decisions = [("accept", t("cyc.accept", lang)), ("reject", t("cyc.reject", lang))]
    i = v.id
    return (
        f"<h3>{esc(t('cyc.answer_title', lang, id=i))}</h3>"
        f"<p>{esc(v.department)} · {esc(v.what)} · {shown_value(v.draft_value, v.unit)}: {esc(v.text)}</p>"
        f'<form class="inline" method="post" action="{esc(page_url(period, "objections", lang))}">'
        f'<input type="hidden" name="objection_id" value="{i}">'
        f"{select_html('decision', t('cyc.decision', lang), decisions, id_=f'dec-{i}')}"
        f"{field('value', t('cyc.new_value', lang), id_=f'new-{i}', extra=A_NUMBER)}"
        f"{field('reason', t('cyc.reason', lang), id_=f'reason-{i}', extra=A_REASON)}"
        f'<button type="submit">{esc(t("cyc.answer", lang))}</button></form>'
    )


def answer(session: Session, principal: Principal, period: str, up: Upload, lang: str) -> str:
    """The assessor's answer of the form to an objection of the period; `accepted`/`rejected`."""
    f = up.fields
    try:
        objection_id = int(f.get("objection_id", ""))
    except ValueError:
        raise failed(400, "cyc.missing", lang, field=t("objection.id", lang)) from None
    decision = f.get("decision", "")
    if decision not in ("accept", "reject"):
        raise failed(400, "cyc.missing", lang, field=t("cyc.decision", lang))
    caller = ObjectionCaller.of_key(principal)
    if objection_id not in {v.id for v in list_objections(session, caller, period)}:
        raise failed(404, "web.not_found", lang)
    value = number(f.get("value", ""), lang, required=False)
    try:
        answer_objection(session, objection_id, caller, decision == "accept", f.get("reason", ""), value)
    except EgovError as exc:
        raise refused(exc, lang) from None
    return "accepted" if decision == "accept" else "rejected"
