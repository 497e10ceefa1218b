"""A department key's cycle pages: its own values of the period with the forms to submit a value
(while the cycle is collecting) and to attach evidence (a file or a reference); its own draft
during the review with its objections and the form to raise one (egov.review.draft_view,
egov.objections). The actions call the same library functions as the values and objections
APIs, as the key's own department (`Caller.of_key`); every refusal becomes a `Failed`."""

from __future__ import annotations

from sqlmodel import Session, col, select

from egov.auth import Principal
from egov.clock import local_day
from egov.errors import EgovError
from egov.evidence import Caller, add_file, add_reference
from egov.imports.metrics import framework_for_import
from egov.imports.submission import submit_values
from egov.models import AssessedObject, AssessmentCycle, MetricValue
from egov.objections import Caller as ObjectionCaller
from egov.objections import ObjectionView, list_objections, raise_objection
from egov.review import draft_view
from egov.settings import get_settings
from egov.store import framework_of_run, get_run
from egov.values import find_value, get_period, list_values
from reports.cycle import state_label
from reports.html import esc
from reports.i18n import t
from reports.web.cycle.common import (
    A_EVIDENCE,
    A_EVIDENCE_REF,
    A_FILE,
    A_NOTE,
    A_REFERENCE,
    A_VALUE,
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
from reports.web.links import department_url

NAME = {"zh-Hant": "name_zh", "pt": "name_pt", "en": "name_en"}


def state_line(cycle: AssessmentCycle, lang: str) -> str:
    deadline = cycle.review_deadline.isoformat() if cycle.review_deadline else t("cyc.no_deadline", lang)
    return f"<p>{esc(t('cyc.state_line', lang, state=state_label(cycle.state, lang), deadline=deadline))}</p>"


def own_objects(session: Session, principal: Principal, lang: str) -> list[tuple[str, str]]:
    """(code, `code · name`) of the key's department's objects."""
    rows = session.exec(
        select(AssessedObject)
        .where(col(AssessedObject.department_id) == principal.department_id)
        .order_by(col(AssessedObject.code))
    ).all()
    out = []
    for obj in rows:
        name = getattr(obj, NAME[lang]) or obj.name_en or ""
        out.append((obj.code, f"{obj.code} · {name}" if name else obj.code))
    return out


def metric_indicators(session: Session, lang: str) -> list[tuple[str, str]]:
    """(code, `code · label (unit)`) of the metric indicators of the framework values are
    checked against (the latest stored)."""
    nodes = [n for n in framework_for_import(session, None).indicators if n.source == "metric"]
    return [(n.code, f"{n.code} · {n.label(lang)}" + (f" ({n.unit})" if n.unit else "")) for n in nodes]


# --- the values page ----------------------------------------------------------------------------
def values_body(
    session: Session, principal: Principal, period: str, cycle: AssessmentCycle, lang: str
) -> str:
    rows = list_values(session, period, department=principal.department_code)
    head = [t("values.id", lang), t("values.object", lang), t("values.indicator", lang)]
    head += [t("values.value", lang), t("values.status", lang), t("values.evidence", lang)]
    cells = [
        (
            str(r.id),
            esc(r.object),
            esc(r.indicator),
            shown_value(r.value, r.unit),
            esc(t(f"values.status.{r.status}", lang)),
            str(r.evidence),
        )
        for r in rows
    ]
    listing = table(head, cells) if rows else f"<p>{esc(t('values.none', lang))}</p>"
    parts = [
        SR_STYLE,
        state_line(cycle, lang),
        f"<h3>{esc(t('values.title', lang, period=period))}</h3>",
        listing,
    ]
    parts.append(_submit_form(session, principal, period, cycle, lang))
    if rows:
        parts.append(
            _evidence_form(period, [(str(r.id), f"{r.id} · {r.object} · {r.indicator}") for r in rows], lang)
        )
    return "".join(parts)


def _evidence_fields(lang: str, form: str) -> str:
    """The evidence inputs of a form (ids prefixed by `form`: two forms share the page), in a
    fieldset with its legend."""
    mb = f"{get_settings().evidence_max_bytes / 1_000_000:g}"
    described = f'{A_FILE} aria-describedby="{form}-help"'
    return (
        f"<fieldset><legend>{esc(t('cyc.evidence_legend', lang))}</legend>"
        f'<p class="note" id="{form}-help">{esc(t("cyc.evidence_help", lang, mb=mb))}</p>'
        f"<p>{field('file', t('cyc.file', lang), 'file', id_=f'{form}-file', extra=described)}</p>"
        f"<p>{field('reference', t('cyc.reference', lang), id_=f'{form}-reference', extra=A_REFERENCE)}</p>"
        f"<p>{field('note', t('cyc.note', lang), id_=f'{form}-note', extra=A_NOTE)}</p></fieldset>"
    )


def _submit_form(
    session: Session, principal: Principal, period: str, cycle: AssessmentCycle, lang: str
) -> str:
    title = f"<h3>{esc(t('cyc.submit_title', lang))}</h3>"
    if cycle.state != "collecting":
        return title + f"<p>{esc(t('cyc.closed_collecting', lang, state=state_label(cycle.state, lang)))}</p>"
    return (
        f"{title}<p>{esc(t('cyc.submit_help', lang))}</p>"
        f'<form class="stack" method="post" enctype="multipart/form-data" action="{esc(page_url(period, "values", lang))}">'
        f"<p>{select_html('object', t('values.object', lang), own_objects(session, principal, lang), blank=t('cyc.pick', lang))}</p>"
        f"<p>{select_html('indicator', t('values.indicator', lang), metric_indicators(session, lang), blank=t('cyc.pick', lang))}</p>"
        f"<p>{field('value', t('values.value', lang), extra=A_VALUE)}</p>"
        f"{_evidence_fields(lang, 'submit')}"
        f'<p><button type="submit">{esc(t("cyc.submit", lang))}</button></p></form>'
    )


def _evidence_form(period: str, values: list[tuple[str, str]], lang: str) -> str:
    return (
        f"<h3>{esc(t('cyc.evidence_title', lang))}</h3>"
        f'<form class="stack" method="post" enctype="multipart/form-data" action="{esc(page_url(period, "evidence", lang))}">'
        f"<p>{select_html('value_id', t('cyc.value', lang), values, id_='evidence-value')}</p>"
        f"{_evidence_fields(lang, 'evidence')}"
        f'<p><button type="submit">{esc(t("cyc.add_evidence", lang))}</button></p></form>'
    )


def submit(
    session: Session, principal: Principal, period: str, cycle: AssessmentCycle, up: Upload, lang: str
) -> None:
    """Submit one value (and its evidence, when given) as the key's department."""
    if cycle.state != "collecting":
        raise failed(409, "cyc.closed_collecting", lang, state=state_label(cycle.state, lang))
    obj, indicator = up.fields.get("object", "").strip(), up.fields.get("indicator", "").strip()
    for name, text in (("values.object", obj), ("values.indicator", indicator)):
        if not text:
            raise failed(400, "cyc.missing", lang, field=t(name, lang))
    value = number(up.fields.get("value", ""), lang)
    caller = Caller.of_key(principal)
    try:
        done = submit_values(
            session,
            period,
            [{"object": obj, "indicator": indicator, "value": value}],
            caller,
            framework_for_import(session, None),
        )
        if up.content or up.filename or up.fields.get("reference", "").strip():
            _attach(session, [find_value(session, done.ids[0])], up, caller, lang)
    except EgovError as exc:
        raise refused(exc, lang) from None


def add_evidence(session: Session, principal: Principal, period: str, up: Upload, lang: str) -> None:
    """Attach a file or a reference to one of the department's values of the period."""
    try:
        value_id = int(up.fields.get("value_id", ""))
    except ValueError:
        raise failed(400, "cyc.missing", lang, field=t("cyc.value", lang)) from None
    value = session.get(MetricValue, value_id)
    if value is None or value.period_id != get_period(session, period).id:
        raise failed(404, "cyc.not_this_period", lang)
    try:
        _attach(session, [value], up, Caller.of_key(principal), lang)
    except EgovError as exc:
        raise refused(exc, lang) from None


def _attach(session: Session, values: list[MetricValue], up: Upload, caller: Caller, lang: str) -> None:
    reference = up.fields.get("reference", "").strip()
    note = up.fields.get("note", "").strip()
    has_file = bool(up.content or up.filename)
    if has_file == bool(reference):
        raise failed(400, "cyc.file_or_reference", lang)
    if has_file:
        add_file(session, values, up.content, up.filename, caller, note)
    else:
        add_reference(session, values, reference, caller, note)


# --- the review page ----------------------------------------------------------------------------
def review_body(
    session: Session, principal: Principal, period: str, cycle: AssessmentCycle, lang: str
) -> str:
    caller = ObjectionCaller.of_key(principal)
    parts = [SR_STYLE, state_line(cycle, lang)]
    nodes: list[tuple[str, str]] = []  # the draft's nodes with a result of the department
    try:
        view = draft_view(session, period, caller)
    except EgovError:
        view = None
    if view is None:
        parts.append(f"<p>{esc(t('cyc.no_draft', lang, state=state_label(cycle.state, lang)))}</p>")
    else:
        framework = framework_of_run(session, get_run(session, view.run_key))
        link = department_url(view.run_key, view.department, lang)
        parts.append(f'<p><a href="{link}">{esc(t("cyc.draft_report", lang))}</a></p>')
        head = [t("objection.node", lang), t("objection.score", lang), t("objection.rank", lang)]
        rows = []
        for r in view.results:
            node = framework.nodes.get(r.node)
            label = f"{node.label(lang)} ({r.node})" if node is not None else r.node
            rows.append((esc(label), f"{r.score:.1f}", "–" if r.rank is None else str(r.rank)))
            nodes.append((r.node, label))
        parts.append(table(head, rows, t("cyc.draft_title", lang)))
        units = {n.code: n.unit for n in framework.indicators}
        head = [t("values.object", lang), t("values.indicator", lang), t("values.value", lang)]
        rows = [(esc(u), esc(i), shown_value(v, units.get(i, ""))) for u, i, v in view.values]
        parts.append(table(head, rows, t("cyc.draft_values", lang)))
    parts.append(
        objections_table(list_objections(session, caller, period), lang, t("cyc.my_objections", lang))
    )
    if cycle.state == "review" and (cycle.review_deadline is None or local_day() <= cycle.review_deadline):
        parts.append(_raise_form(session, principal, period, nodes, lang))
    return "".join(parts)


def objections_table(views: list[ObjectionView], lang: str, caption: str) -> str:
    """The objections (id, department, what, draft value, text, evidence, state, answer)."""
    if not views:
        return f"<h3>{esc(caption)}</h3><p>{esc(t('objection.none', lang))}</p>"
    head = [t("objection.id", lang), t("objection.department", lang), t("objection.what", lang)]
    head += [t("objection.draft_value", lang), t("objection.text", lang), t("objection.evidence", lang)]
    head += [t("objection.state", lang), t("objection.reason", lang), t("objection.new_value", lang)]
    rows = [
        (
            str(v.id),
            esc(v.department),
            esc(f"{t(f'objection.target.{v.target}', lang)}: {v.what}"),
            shown_value(v.draft_value, v.unit),
            esc(v.text),
            esc(" ".join(x for x in (v.evidence, v.evidence_ref) if x)),
            esc(t(f"objection.state.{v.state}", lang)),
            esc(v.reason),
            shown_value(v.new_value, v.unit),
        )
        for v in views
    ]
    return table(head, rows, caption)


def _raise_form(
    session: Session, principal: Principal, period: str, nodes: list[tuple[str, str]], lang: str
) -> str:
    targets = [("value", t("cyc.target.value", lang)), ("result", t("cyc.target.result", lang))]
    aspects = [("score", t("objection.aspect.score", lang)), ("rank", t("objection.aspect.rank", lang))]
    pick = t("cyc.pick", lang)
    return (
        f"<h3>{esc(t('cyc.raise_title', lang))}</h3><p>{esc(t('cyc.raise_help', lang))}</p>"
        f'<form class="stack" method="post" action="{esc(page_url(period, "review", lang))}">'
        f"<p>{select_html('target', t('cyc.target', lang), targets)}</p>"
        f"<p>{select_html('object', t('values.object', lang), own_objects(session, principal, lang), blank=pick)} "
        f"{select_html('indicator', t('values.indicator', lang), metric_indicators(session, lang), blank=pick)}</p>"
        f"<p>{select_html('node', t('objection.node', lang), nodes, blank=pick)} "
        f"{select_html('aspect', t('cyc.aspect', lang), aspects)}</p>"
        f'<p><label for="text">{esc(t("objection.text", lang))}</label><br>'
        '<textarea id="text" name="text" rows="4" cols="60" maxlength="4000" required></textarea></p>'
        f"<p>{field('evidence', t('objection.evidence', lang), extra=A_EVIDENCE)}</p>"
        f"<p>{field('evidence_ref', t('cyc.evidence_ref', lang), extra=A_EVIDENCE_REF)}</p>"
        f'<p><button type="submit">{esc(t("cyc.raise", lang))}</button></p></form>'
    )


def raise_(session: Session, principal: Principal, period: str, up: Upload, lang: str) -> None:
    """Raise the objection of the form as the key's department."""
    f = up.fields
    on_value = f.get("target", "value") != "result"
    try:
        raise_objection(
            session,
            period,
            ObjectionCaller.of_key(principal),
            f.get("text", ""),
            object_code=(f.get("object") or None) if on_value else None,
            indicator=(f.get("indicator") or None) if on_value else None,
            node=None if on_value else (f.get("node") or None),
            aspect=None if on_value else (f.get("aspect") or "score"),
            evidence=f.get("evidence", ""),
            evidence_ref=f.get("evidence_ref", ""),
        )
    except EgovError as exc:
        raise refused(exc, lang) from None
