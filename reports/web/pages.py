"""The HTML of the report pages: the page frame with its security headers, refusals, the
login form, the list of runs and the department ranking (engine ranks, names escaped).
Every stored text is escaped."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlmodel import Session, col

from egov.auth import Principal
from egov.clock import as_utc
from egov.cycle import listed_runs, readable_run, run_access
from egov.errors import EgovError
from egov.langs import LANGUAGES
from egov.models import Department, EvaluationRun, FrameworkVersion, PeerGroup
from egov.notices import DEMO_NOTICE
from egov.settings import get_settings
from evaluation.engine import EvaluationResult
from indicators.framework import parse_framework
from reports.charts import ranking_chart
from reports.cycle import run_label, state_label
from reports.html import chart_html, esc, render_page
from reports.i18n import coverage_text, overall_rank_text, t
from reports.intervals import INTERVAL_COLUMNS, MC_N, MC_SEED
from reports.web.auth import ALL_ROLES, Refusal
from reports.web.links import department_url, login_url, nav, run_links

LANGS = LANGUAGES
CSP = (
    "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; "
    "img-src data: blob:; font-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def default_lang() -> str:
    """The pages' language when none is asked for: the setting EGOV_LANG (default zh-Hant)."""
    return get_settings().lang


def lang_of(request: Request) -> str:
    """The language asked for (`?lang=`, default EGOV_LANG); an unknown one is refused (400)."""
    lang = request.query_params.get("lang") or default_lang()
    if lang not in LANGS:
        raise Refusal(400, "web.bad_lang")
    return lang


def known_lang(lang: str | None) -> str:
    """`lang` if it is a language of the pages, else the default (for refusals and redirects)."""
    return lang if lang and lang in LANGS else default_lang()


def page(
    title: str, sections: list[tuple[str, str]], lang: str, status: int = 200, **kw: Any
) -> HTMLResponse:
    headers = dict(HEADERS)
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="egov reports"'
    return HTMLResponse(
        render_page(title, sections, lang, toc=False, **kw), status_code=status, headers=headers
    )


def refusal_page(exc: Refusal, lang: str) -> HTMLResponse:
    body = f"<p>{esc(t(exc.key, lang))}</p>"
    if exc.status in (401, 403):
        body += f'<p><a href="{login_url(lang)}">{esc(t("web.login", lang))}</a></p>'
    return page(t("web.title", lang), [(str(exc.status), body)], lang, status=exc.status)


def login_page(lang: str, message: str = "", status: int = 200) -> HTMLResponse:
    """The login form (with an error message above it when given)."""
    error = f'<p class="err" role="alert" style="color:#b00020">{esc(message)}</p>' if message else ""
    form = (
        f"{error}<p>{esc(t('web.login_help', lang))}</p>"
        f'<form method="post" action="{login_url(lang)}">'
        f'<p><label for="key">{esc(t("web.key", lang))}</label><br>'
        '<input id="key" name="key" type="password" autocomplete="off" required maxlength="100" size="50"></p>'
        f'<input type="hidden" name="lang" value="{esc(lang)}">'
        f'<p><button type="submit">{esc(t("web.login", lang))}</button></p></form>'
    )
    return page(t("web.title", lang), [(t("web.login", lang), form)], lang, status=status)


def run_of(session: Session, key: str, principal: Principal, department: str | None = None) -> EvaluationRun:
    """The run of a run key or `latest` (the newest the key may read) if the key may read it
    (the whole run, or `department`'s report: egov.cycle.RunAccess); a 404 refusal otherwise,
    so that a run the key may not read is not disclosed."""
    try:
        return readable_run(session, run_access(session, principal), key, department)
    except EgovError as exc:
        raise Refusal(404, "web.not_found") from exc


def banner(run: EvaluationRun, lang: str) -> dict[str, Any]:
    """The demo banner of an illustrative run, as `page` keywords."""
    return {"banner": t("report.demo_banner", lang)} if DEMO_NOTICE in (run.note or "") else {}


# --- the list of runs -----------------------------------------------------------------------------
def index_page(session: Session, principal: Principal, lang: str) -> HTMLResponse:
    """The latest runs the key may see (200 at most), each with its short label (period ·
    state in its cycle) and the links to the pages the key may see."""
    access = run_access(session, principal)
    items = []
    for listed in listed_runs(session, access):
        run = listed.run
        demo = f" ({esc(t('web.illustrative', lang))})" if DEMO_NOTICE in (run.note or "") else ""
        links = run_links(principal, run.run_key, lang, whole=access.may_read(run.id))
        items.append(
            f"<tr><td>{esc(run_label(listed.period, listed.state, lang))}</td>"
            f"<td>{esc(state_label(listed.state, lang))}</td><td>{esc(run.run_key)}</td>"
            f"<td>{esc(listed.period)}</td><td>{esc(listed.framework)} {esc(listed.framework_version)}</td>"
            f"<td>{esc(as_utc(run.created_at).strftime('%Y-%m-%d %H:%M'))} UTC{demo}</td>"
            f"<td>{' · '.join(links)}</td></tr>"
        )
    if items:
        head = "".join(
            f'<th scope="col">{esc(h)}</th>'
            for h in (
                t("web.run_label", lang),
                t("cycle.state", lang),
                t("run.id", lang),
                t("run.period", lang),
                t("method.framework", lang),
                t("web.created", lang),
                "",
            )
        )
        body = f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead><tbody>{"".join(items)}</tbody></table></div>'
    else:
        body = f"<p>{esc(t('web.no_runs', lang))}</p>"
    return page(t("web.title", lang), [(t("web.runs", lang), nav(principal, lang) + body)], lang)


# --- the department ranking -----------------------------------------------------------------------
def _num(df: Any, d: str, c: str) -> float:
    try:
        return float(df.at[d, c])
    except (KeyError, TypeError, ValueError):
        return math.nan


def _shown(v: float, digits: int | None = None) -> str:
    if math.isnan(v):
        return "–"
    return str(int(v)) if digits is None else f"{v:.{digits}f}"


def dept_names(session: Session, lang: str) -> dict[str, str]:
    column = {"zh-Hant": Department.name_zh, "pt": Department.name_pt, "en": Department.name_en}[lang]
    rows = session.execute(select(col(Department.code), col(column), col(Department.name_en))).all()
    return {str(code): str(name or en or code) for code, name, en in rows}


def _group_names(session: Session, lang: str) -> dict[str, str]:
    column = {"zh-Hant": PeerGroup.name_zh, "pt": PeerGroup.name_pt, "en": PeerGroup.name_en}[lang]
    return {
        str(code): str(name or code)
        for code, name in session.execute(select(col(PeerGroup.code), col(column))).all()
    }


def _node_labels(session: Session, run: EvaluationRun, lang: str, codes: list[str]) -> list[str]:
    """The framework's names of `codes` (the code itself when it has none)."""
    fw_row = session.get(FrameworkVersion, run.framework_id)
    framework = parse_framework(fw_row.toml_text) if fw_row is not None else None
    labels = []
    for code in codes:
        node = framework.nodes.get(code) if framework is not None else None
        labels.append(node.label(lang) if node is not None else code)
    return labels


def ranking_page(
    session: Session,
    run: EvaluationRun,
    result: EvaluationResult,
    principal: Principal,
    lang: str,
    intervals: pd.DataFrame | None = None,
) -> tuple[str, list[tuple[str, str]]]:
    """Title and sections of the department ranking of a run (engine ranks, names escaped;
    department keys get a link to their own report only), with the Monte Carlo intervals
    of `intervals` (`reports.intervals`, the assessor's report's) when given."""
    scores, ranks = result.department_scores, result.department_ranks
    if scores is None or ranks is None:
        raise Refusal(404, "web.not_found")
    idx = result.index_code
    categories = [str(c) for c in result.weights[idx].index] if idx in result.weights else []
    category_labels = _node_labels(session, run, lang, categories)
    names = dept_names(session, lang)
    order = sorted(
        map(str, scores.index),
        key=lambda d: (_num(ranks, d, idx), d) if not math.isnan(_num(ranks, d, idx)) else (1e9, d),
    )
    # the category league tables first, then the coverage and the overall rank
    head = [t("col.department", lang), *category_labels, t("rank.coverage", lang), t("col.rank", lang)]
    head += [t("col.score", lang), t("col.peer_group", lang), t("col.peer_rank", lang)]
    if intervals is not None:
        head.append(t("rank.interval", lang))
    table = (
        '<div class="table-wrap"><table><thead><tr>'
        + "".join(f'<th scope="col">{esc(h)}</th>' for h in head)
        + "</tr></thead><tbody>"
        + "".join(_ranking_rows(session, run, result, principal, lang, order, categories, names, intervals))
        + "</tbody></table></div>"
    )
    frame = pd.DataFrame(
        {
            "label": [f"{names.get(d, d)} ({d})" for d in order],
            "rank": [_num(ranks, d, idx) for d in order],
            "score": [_num(scores, d, idx) for d in order],
            **{c: [_num(intervals, d, c) for d in order] for c in INTERVAL_COLUMNS if intervals is not None},
        }
    )
    own = principal.department_code if principal.role not in ALL_ROLES else None
    reader = f"{names.get(own, own)} ({own})" if own else None
    chart = chart_html(ranking_chart(frame, lang, highlight=reader))
    if intervals is not None:
        mc = t("rank.interval_note", lang, n=MC_N, seed=MC_SEED)
        chart += f'<p class="note">{esc(mc)}</p>'
    title = f"{t('web.ranking', lang)} · {run.run_key}"
    return title, [(t("web.ranking", lang), nav(principal, lang, run.run_key) + chart + table)]


def _ranking_rows(
    session: Session,
    run: EvaluationRun,
    result: EvaluationResult,
    principal: Principal,
    lang: str,
    order: list[str],
    categories: list[str],
    names: dict[str, str],
    intervals: pd.DataFrame | None,
) -> list[str]:
    """One table row per department in rank order; the name links to the department's report
    for the keys that may read it; the rank interval when `intervals` are given."""
    scores, ranks, idx = result.department_scores, result.department_ranks, result.index_code
    peers = result.units["peer_group"].groupby(result.units["department"].astype(str)).first()
    group_names = _group_names(session, lang)
    covered = result.categories_scored("department")
    rows = []
    for d in order:
        name = f"{names.get(d, d)} ({d})"
        own = principal.role in ALL_ROLES or principal.department_code == d
        cell = f'<a href="{department_url(run.run_key, d, lang)}">{esc(name)}</a>' if own else esc(name)
        cats = []
        for c in categories:
            s, rk = _num(scores, d, c), _num(ranks, d, c)
            cats.append("–" if math.isnan(s) else f"{s:.1f} ({_shown(rk)})")
        n = int(covered.get(d, 0))
        cells = [
            cell,
            *map(esc, cats),
            esc(coverage_text(n, len(categories))),
            esc(overall_rank_text(_num(ranks, d, idx), n, len(categories), lang)),
            _shown(_num(scores, d, idx), 1),
            esc(group_names.get(str(peers.get(d)), peers.get(d) or "")),
            _shown(_num(result.peer_ranks, d, idx) if result.peer_ranks is not None else math.nan),
        ]
        if intervals is not None:
            low, high = _num(intervals, d, "rank_p05"), _num(intervals, d, "rank_p95")
            cells.append("–" if math.isnan(low) else f"{_shown(low)}–{_shown(high)}")
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return rows
