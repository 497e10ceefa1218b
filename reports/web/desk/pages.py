"""The HTML of the case desk: the statistics, the filter, the list of cases (deadline first,
overdue said in words and not only in colour), the ledger's download form, one case and the
forms of the moves the key may make. Every stored text is escaped."""

from __future__ import annotations

from urllib.parse import quote

import reports.web.desk.labels  # noqa: F401  (registers the desk's labels)
from egov.auth import Principal
from reports.cases import appeal_words, outcome_words, state_words, tier_words, time_words
from reports.html import esc
from reports.i18n import t
from reports.web.links import PREFIX, q
from surveys.casedesk import DeskCase, DeskStats
from surveys.casework import LATE, ON_TIME, OVERDUE
from surveys.schemas import CASE_STATES, VISIT_OUTCOMES

DESK = f"{PREFIX}/desk"
STYLE = (
    "<style>.overdue{color:#b00020;font-weight:bold}.ok{color:#1b5e20}.err{color:#b00020}"
    "form.stack p{margin:.4rem 0}form.inline{display:flex;flex-wrap:wrap;gap:.6rem;align-items:end}"
    "textarea{width:100%;max-width:40rem}fieldset{border:1px solid #ccc;margin:.8rem 0;padding:.4rem .8rem}"
    "dl.stats{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}dl.stats dt{font-weight:bold}</style>"
)
# the desk's actions: action → (the case's next state, who makes it)
ACTIONS: dict[str, tuple[str, str]] = {
    "take": ("verified", "department"),
    "rectify": ("rectifying", "department"),
    "rectified": ("rectified", "department"),
    "explain": ("explained", "department"),
    "visit": ("return_visit_done", "department"),
    "close": ("closed", "department"),
    "appeal": ("appealed", "department"),
    "upheld": ("upheld", "assessor"),
    "removed": ("removed", "assessor"),
}
# the actions offered in each state, in their order on the page
OFFERED: dict[str, tuple[str, ...]] = {
    "open": ("take", "appeal"),
    "verified": ("rectify", "explain", "appeal"),
    "upheld": ("rectify", "explain"),
    "rectifying": ("rectified",),
    "rectified": ("visit",),
    "explained": ("visit",),
    "return_visit_done": ("close",),
    "appealed": ("upheld", "removed"),
}


def desk_url(lang: str, case_id: int | None = None, done: str = "") -> str:
    url = f"{DESK}/{case_id}" if case_id is not None else f"{DESK}/"
    return url + q(lang) + (f"&done={quote(done)}" if done else "")


def _rate(value: float | None, n: int, of: int, lang: str) -> str:
    if value is None:
        return esc(t("desk.none_value", lang))
    return esc(t("desk.rate", lang, rate=f"{value:.1f}", n=n, of=of))


def stats_html(s: DeskStats, lang: str) -> str:
    """The desk's figures, each with its unit."""
    reached = s.outcomes.get("satisfied", 0) + s.outcomes.get("unsatisfied", 0)
    mean = (
        esc(t("desk.days", lang, n=f"{s.mean_days:.1f}"))
        if s.mean_days is not None
        else esc(t("desk.none_value", lang))
    )
    items = [
        ("desk.stat.cases", esc(t("desk.count", lang, n=s.cases))),
        ("desk.stat.open", esc(t("desk.count", lang, n=s.open))),
        (
            "desk.stat.overdue",
            f'<span class="{"overdue" if s.overdue else ""}">{esc(t("desk.count", lang, n=s.overdue))}</span>',
        ),
        ("desk.stat.on_time", _rate(s.on_time_rate, s.on_time, s.due, lang)),
        ("desk.stat.mean_days", mean),
        (
            "desk.stat.satisfaction",
            _rate(s.satisfaction, s.outcomes.get("satisfied", 0), reached, lang)
            + f' <span class="note">{esc(t("desk.stat.unreachable", lang, n=s.outcomes.get("unreachable", 0)))}</span>',
        ),
    ]
    body = "".join(f"<dt>{esc(t(k, lang))}</dt><dd>{v}</dd>" for k, v in items)
    return f'<h2>{esc(t("desk.stats", lang))}</h2><dl class="stats" id="desk-stats">{body}</dl>'


def filter_html(lang: str, state: str, overdue: bool) -> str:
    options = [("", t("desk.all", lang)), ("open_states", t("desk.open_states", lang))]
    options += [(s, state_words(s, lang)) for s in CASE_STATES]
    opts = "".join(
        f'<option value="{esc(v)}"{" selected" if v == state else ""}>{esc(text)}</option>'
        for v, text in options
    )
    checked = " checked" if overdue else ""
    return (
        f'<form class="inline" method="get" action="{DESK}/"><input type="hidden" name="lang" value="{esc(lang)}">'
        f'<label for="f-state">{esc(t("desk.state_filter", lang))}</label> <select id="f-state" name="state">{opts}</select>'
        f'<label><input type="checkbox" name="overdue" value="1"{checked}> {esc(t("desk.only_overdue", lang))}</label>'
        f'<button type="submit">{esc(t("desk.filter", lang))}</button></form>'
    )


def time_html(row: DeskCase, lang: str) -> str:
    """On time / overdue in words (with a mark, not only a colour)."""
    words = esc(time_words(row.timeliness, lang))
    if row.timeliness in (OVERDUE, LATE):
        words = f'<strong class="overdue">⚠ {words}</strong>'
    elif row.timeliness == ON_TIME:
        words = f'<span class="ok">{words}</span>'
    if row.visit_overdue:
        words += f'<br><strong class="overdue">⚠ {esc(t("case.visit_overdue", lang))}</strong>'
    return words


def list_html(rows: list[DeskCase], lang: str, all_departments: bool) -> str:
    if not rows:
        return f'<p role="status">{esc(t("desk.none", lang))}</p>'
    cols = [
        "id",
        *(["department"] if all_departments else []),
        "object",
        "received",
        "due",
        "state",
        "tier",
        "handler",
        "time",
    ]
    head = "".join(f'<th scope="col">{esc(t(f"desk.col.{c}", lang))}</th>' for c in cols)
    body = []
    for r in rows:
        c = r.case
        cells = [
            *([esc(r.department)] if all_departments else []),
            f'{esc(r.object_code)}<br><span class="note">{esc(r.object_names.get(lang) or "")}</span>',
            esc(str(c.opened_day)),
            esc(str(c.rectify_due)),
            esc(state_words(c.state, lang)),
            esc(tier_words(c.tier, lang)),
            esc(c.handler),
            time_html(r, lang),
        ]
        cls = ' class="overdue-row"' if r.timeliness == OVERDUE or r.visit_overdue else ""
        link = f'<a href="{esc(desk_url(lang, r.id))}">{r.id}</a>'
        body.append(
            f'<tr{cls}><th scope="row">{link}</th>' + "".join(f"<td>{x}</td>" for x in cells) + "</tr>"
        )
    return f'<div class="table-wrap"><table id="desk-cases"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def ledger_form(lang: str, start: str, end: str) -> str:
    return (
        f"<h2>{esc(t('desk.ledger', lang))}</h2>"
        f'<form class="inline" method="get" action="{DESK}/ledger.xlsx"><input type="hidden" name="lang" value="{esc(lang)}">'
        f'<label for="l-from">{esc(t("desk.ledger_from", lang))}</label> <input id="l-from" name="from" type="date" value="{esc(start)}" required>'
        f'<label for="l-to">{esc(t("desk.ledger_to", lang))}</label> <input id="l-to" name="to" type="date" value="{esc(end)}" required>'
        f'<button type="submit">{esc(t("desk.ledger_button", lang))}</button></form>'
    )


def case_html(r: DeskCase, principal: Principal, lang: str) -> str:
    """One case: the rating, the handling, the answer, the return visit, the appeal."""
    c = r.case
    visit = esc(t("desk.visit_due", lang, day=c.return_visit_due)) if c.return_visit_due else "–"
    if c.return_visit_day:
        visit = esc(f"{c.return_visit_day}: {outcome_words(c.visit_outcome, lang)}")
    reasons = ", ".join(r.reasons)
    rows = [
        (t("desk.col.object", lang), f"{esc(r.object_code)} {esc(r.object_names.get(lang) or '')}"),
        (t("desk.rating", lang), esc(t("desk.level", lang, level=r.level))),
        (t("desk.reasons", lang), esc(reasons) or "–"),
        (
            t("desk.comment", lang),
            f'<span style="white-space:pre-wrap">{esc(r.comment)}</span>' if r.comment else "–",
        ),
        (t("desk.channel", lang), esc(r.channel)),
    ]
    if principal.role == "department":  # its own reference, to reach the citizen for the return visit
        rows.append((t("desk.transaction", lang), esc(r.transaction_ref)))
    rows += [
        (t("desk.col.received", lang), esc(str(c.opened_day))),
        (t("desk.col.due", lang), f"{esc(str(c.rectify_due))} · {time_html(r, lang)}"),
        (t("desk.col.state", lang), esc(state_words(c.state, lang))),
        (t("desk.col.tier", lang), esc(tier_words(c.tier, lang))),
        (t("desk.col.handler", lang), esc(c.handler) or "–"),
        (
            t("desk.answer", lang),
            f'<span style="white-space:pre-wrap">{esc(c.answer)}</span>' if c.answer else "–",
        ),
        (
            t("desk.note", lang),
            f'<span style="white-space:pre-wrap">{esc(c.internal_note)}</span>' if c.internal_note else "–",
        ),
        (t("desk.visit", lang), visit),
        (t("desk.appeal", lang), esc(appeal_words(c.appealed_at is not None, c.appeal_outcome, lang))),
    ]
    body = "".join(f'<tr><th scope="row">{esc(h)}</th><td>{v}</td></tr>' for h, v in rows)
    return f'<table id="desk-case"><tbody>{body}</tbody></table><p class="note">{esc(t("desk.status_link", lang))}</p>'


def forms_html(r: DeskCase, principal: Principal, lang: str) -> str:
    """The forms of the moves the key's role may make on the case in its state."""
    mine = [a for a in OFFERED.get(r.case.state, ()) if ACTIONS[a][1] == principal.role]
    note = ""
    if principal.role == "assessor" and not mine:
        note = f'<p class="note">{esc(t("desk.read_only", lang))}</p>'
    if not mine:
        return note or f'<p class="note">{esc(t("desk.no_action", lang))}</p>'
    return f"<h2>{esc(t('desk.actions', lang))}</h2>" + "".join(_form(r.id, a, lang) for a in mine)


def _textarea(
    action: str, name: str, label: str, lang: str, required: bool, limit: int, help_key: str = ""
) -> str:
    id_ = f"{action}-{name}"
    req = " required" if required else ""
    help_ = f'<br><span class="note" id="{id_}-help">{esc(t(help_key, lang))}</span>' if help_key else ""
    described = f' aria-describedby="{id_}-help"' if help_key else ""
    return (
        f'<p><label for="{id_}">{esc(label)}</label>{help_}<br>'
        f'<textarea id="{id_}" name="{name}" rows="3" maxlength="{limit}"{req}{described}></textarea></p>'
    )


def _form(case_id: int, action: str, lang: str) -> str:
    parts: list[str] = []
    if action == "take":
        parts.append(
            f'<p><label for="take-handler">{esc(t("desk.handler", lang))}</label><br>'
            '<input id="take-handler" name="handler" maxlength="100" size="30" required></p>'
        )
    elif action == "rectify":
        radios = "".join(
            f'<label><input type="radio" name="tier" value="{v}" required> {esc(tier_words(v, lang))}</label> '
            for v in ("immediate", "deadline")
        )
        parts.append(f"<fieldset><legend>{esc(t('desk.tier', lang))}</legend>{radios}</fieldset>")
    elif action in ("rectified", "explain"):
        key = "desk.answer_rectified" if action == "rectified" else "desk.answer_explain"
        parts.append(_textarea(action, "answer", t(key, lang), lang, True, 2000, "desk.answer_help"))
    elif action == "visit":
        opts = "".join(f'<option value="{v}">{esc(outcome_words(v, lang))}</option>' for v in VISIT_OUTCOMES)
        parts.append(
            f'<p><label for="visit-outcome">{esc(t("desk.outcome", lang))}</label> '
            f'<select id="visit-outcome" name="outcome" required><option value=""></option>{opts}</select></p>'
        )
    if action in ("appeal", "upheld", "removed"):
        label = t("desk.appeal_reason" if action == "appeal" else "desk.decision_reason", lang)
        parts.append(_textarea(action, "note", label, lang, True, 500))
    else:
        parts.append(_textarea(action, "note", t("desk.note", lang), lang, False, 500))
    button = t(f"desk.do.{action}", lang)
    return (
        f"<fieldset><legend>{esc(button)}</legend>"
        f'<form class="stack" method="post" action="{esc(desk_url(lang, case_id))}">'
        f'<input type="hidden" name="action" value="{action}">{"".join(parts)}'
        f'<p><button type="submit">{esc(button)}</button></p></form></fieldset>'
    )
