"""The department report as HTML: `render_department_report(report, lang)` turns a
`DepartmentReport` (reports.department.data) into one self-contained page, every stored
text escaped."""

from __future__ import annotations

import html
import math
from datetime import date
from typing import Any

import pandas as pd

from evaluation.compare import MIN_PEERS
from reports.charts import category_spec, ranking_spec
from reports.department.data import DepartmentReport, num
from reports.department.labels import LABELS
from reports.html import not_available, render_page, spec_html
from reports.html import table as html_table
from reports.i18n import check_lang, coverage_text, overall_rank_text, t, value_text
from reports.intervals import INTERVAL_COLUMNS
from reports.services import level_text, one_channel, service_name, share_texts
from reports.values import flags_html


def _f(v: Any, digits: int = 1, sign: bool = False) -> str:
    x = num(v)
    if math.isnan(x):
        return "–"
    return f"{x:+.{digits}f}" if sign else f"{x:.{digits}f}"


def _i(v: Any) -> str:
    x = num(v)
    return "–" if math.isnan(x) else str(int(x))


def _rank_of(rank: Any, n: Any, lang: str) -> str:
    if math.isnan(num(rank)):
        return "–"
    return t("dr.rank_of", lang, rank=_i(rank), n=_i(n))


def _vs(value: Any, score: Any, unit: str, lang: str) -> str:
    """A value in its own unit with its 0–100 score beside it: "654 (32.9)"."""
    return f"{value_text(value, unit, lang)} ({_f(score)})"


def _fallback(row: Any, lang: str) -> str:
    return t("dr.fallback_mark", lang) if bool(row.get("peer_fallback", False)) else ""


def _note(text_: str) -> str:
    return f'<p class="note">{html.escape(text_)}</p>'


def _missing(lang: str, reason: str) -> str:
    if reason.startswith("dr."):
        return f'<p class="na">{html.escape(t(reason, lang))}</p>'
    return not_available(lang, reason)


def _summary_html(r: DepartmentReport, lang: str) -> str:
    idx = r.framework.index_code
    row = r.standing.loc[idx]
    cats = [c.code for c in r.framework.categories]
    covered = sum(1 for c in cats if c in r.standing.index and not math.isnan(num(r.standing.at[c, "score"])))
    overall = (  # the rank, or why there is none (the coverage rule)
        _rank_of(row["rank"], row["n"], lang)
        if not math.isnan(num(row["rank"]))
        else overall_rank_text(None, covered, len(cats), lang)
    )
    facts: list[tuple[str, str]] = [
        (t("col.department", lang), f"{r.name(lang)} ({r.department})"),
        (t("col.peer_group", lang), r.group_name(lang) or t("dr.no_peer_group", lang)),
        (t("dr.overall", lang), f"{overall} · {t('col.score', lang)} {_f(row['score'])}"),
        (t("rank.coverage", lang), coverage_text(covered, len(cats))),
    ]
    interval = _own_interval(r, lang)
    if interval:
        facts.append((t("rank.interval", lang), interval))
    if r.peer_group:
        facts.append((t("dr.within_peers", lang), _rank_of(row["peer_rank"], row["peer_n"], lang)))
    sw = r.strengths.table
    if sw is not None and not sw.empty:
        for side, key in (("strength", "dr.top_strength"), ("weakness", "dr.top_weakness")):
            part = sw[sw["side"] == side]
            if len(part):
                facts.append((t(key, lang), r.label(str(part.iloc[0]["indicator"]), lang)))
    pr = r.priorities.table
    if pr is not None and not pr.empty:
        top = pr.iloc[0]
        facts.append(
            (
                t("dr.top_priority", lang),
                t(
                    "dr.gain_text",
                    lang,
                    indicator=r.label(str(top["indicator"]), lang),
                    gain=_f(top["gain"], 2),
                    score=_f(top["new_score"]),
                    rank=_i(top["new_rank"]),
                ),
            )
        )
    body = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in facts)
    return f'<dl class="facts">{body}</dl>'


def _own_interval(r: DepartmentReport, lang: str) -> str:
    """The department's own Monte Carlo rank and score interval ("" without one: not ranked
    overall, or no simulation)."""
    if r.department not in r.ranking.index or "rank_p05" not in r.ranking.columns:
        return ""
    x = r.ranking.loc[r.department]
    if math.isnan(num(x["rank_p05"])) or math.isnan(num(x.get("score_p05"))):
        return ""
    return t(
        "dr.interval_text",
        lang,
        low=_i(x["rank_p05"]),
        high=_i(x["rank_p95"]),
        score_low=_f(x["score_p05"]),
        score_high=_f(x["score_p95"]),
    )


def _standing_html(r: DepartmentReport, lang: str) -> str:
    headers = [
        t("dr.area", lang),
        t("col.score", lang),
        t("col.rank", lang),
        t("dr.median", lang),
        t("dr.best", lang),
    ]
    if r.peer_group:
        headers += [t("col.peer_rank", lang), t("dr.peer_median", lang), t("dr.peer_best", lang)]
    rows = []
    for node, s in r.standing.iterrows():
        cells = [r.label(str(node), lang)]
        if math.isnan(num(s["score"])):
            cells += [t("dr.not_scored", lang), "–"]
        else:
            cells += [_f(s["score"]), _rank_of(s["rank"], s["n"], lang)]
        cells += [_f(s["median"]), _f(s["best"])]
        if r.peer_group:
            cells += [
                _rank_of(s["peer_rank"], s["peer_n"], lang) + _fallback(s, lang),
                _f(s["peer_median"]),
                _f(s["peer_best"]),
            ]
        rows.append(cells)
    caption = t("dept.all_departments", lang)
    if r.peer_group:
        caption += f" · {t('dept.peer_group', lang)}: {r.group_name(lang)}"
    out = _standing_chart(r, lang) + html_table(headers, rows, numeric=(1, 3, 4, 6, 7), caption=caption)
    if r.peer_group and r.standing["peer_fallback"].any():
        out += _note(t("dr.fallback_note", lang, n=MIN_PEERS))
    return out


def _indicators_html(r: DepartmentReport, lang: str) -> str:
    """Every indicator in its own unit with the score beside it, the medians and bests as
    values, whom to learn from, and the values of the department's objects."""
    sec = r.indicators
    if sec.table is None:
        return _missing(lang, sec.missing)
    headers = [
        t("col.indicator", lang),
        t("dr.value_score", lang),
        t("col.rank", lang),
        t("dr.median_score", lang),
        t("dr.best_score", lang),
        t("dr.learn_from", lang),
        t("dr.peer_median_score", lang),
        t("dr.peer_learn_from", lang),
        t("dr.objects", lang),
    ]
    objects = sec.extra.get("objects", {})
    rows = []
    for _, x in sec.table.iterrows():
        unit = str(x["unit"])
        own = "; ".join(
            f"{names.get(lang) or names.get('en', '')}: {value_text(v, unit, lang)}"
            for names, v in objects.get(str(x["indicator"]), [])
        )
        rows.append(
            [
                r.label(str(x["indicator"]), lang),
                _vs(x["value"], x["score"], unit, lang),
                _rank_of(x["rank"], x["n"], lang),
                _vs(x["median_value"], x["median"], unit, lang),
                _vs(x["best_value"], x["best"], unit, lang),
                r.department_names(str(x["best_department"]), lang),
                _vs(x["peer_median_value"], x["peer_median"], unit, lang) + _fallback(x, lang),
                r.department_names(str(x["peer_best_department"]), lang),
                own,
            ]
        )
    out = _note(t("dr.indicators_note", lang)) + html_table(headers, rows, numeric=(1, 3, 4, 6))
    if sec.table["peer_fallback"].any():
        out += _note(t("dr.fallback_note", lang, n=MIN_PEERS))
    return out


def _standing_chart(r: DepartmentReport, lang: str) -> str:
    """The department's category scores next to the median and the best of all departments
    (and the peer group's median), as grouped bars (reports.charts.category_chart)."""
    series = [(r.name(lang), "score"), (t("dr.median", lang), "median"), (t("dr.best", lang), "best")]
    if r.peer_group:
        series.append((t("dr.peer_median", lang), "peer_median"))
    rows = [
        {"label": label, "category": r.label(str(node), lang), "score": num(s[column])}
        for node, s in r.standing.iterrows()
        for label, column in series
    ]
    frame = pd.DataFrame(rows)
    spec = category_spec(
        frame,
        lang,
        order=[label for label, _ in series],
        y_title=t("chart.series", lang),
        highlight=r.name(lang),
    )
    return _ranking_chart(r, lang) + spec_html(spec)


def _ranking_chart(r: DepartmentReport, lang: str) -> str:
    """Every department's overall score in rank order with its Monte Carlo interval (the
    assessor's report's), the reader's own highlighted; departments not ranked overall are
    left out, as in the assessor's report."""
    if r.ranking.empty:
        return ""
    shown, note = _ranking_rows(r, lang)
    frame = pd.DataFrame(
        {
            "label": [r.department_names(str(code), lang) for code in shown.index],
            **{c: shown[c].to_numpy() for c in ("rank", "score", *INTERVAL_COLUMNS) if c in shown},
        }
    )
    chart = note + spec_html(ranking_spec(frame, lang, highlight=r.department_names(r.department, lang)))
    if "score_p05" in r.ranking.columns:
        return chart + _note(t("rank.interval_note", lang, n=r.mc_n, seed=r.mc_seed))
    return chart + f"<h3>{html.escape(t('sec.uncertainty', lang))}</h3>" + _missing(lang, r.intervals_error)


# Above this many departments the ranking chart shows the best and the worst
# SHOWN_AT_EACH_END and the reader's department with its AROUND neighbours on each side.
MAX_CHART_DEPARTMENTS = 60
SHOWN_AT_EACH_END = 10
AROUND = 5


def _ranking_rows(r: DepartmentReport, lang: str) -> tuple[pd.DataFrame, str]:
    """The departments the ranking chart shows, and the note that says so: all of them up
    to MAX_CHART_DEPARTMENTS, otherwise the best, the worst and the reader's neighbours."""
    if len(r.ranking) <= MAX_CHART_DEPARTMENTS:
        return r.ranking, ""
    ranked = r.ranking.dropna(subset=["rank"]).sort_values("rank", kind="mergesort")
    k = SHOWN_AT_EACH_END
    keep = pd.Series(False, index=ranked.index)
    keep.iloc[:k] = True
    keep.iloc[-k:] = True
    if r.department in ranked.index:
        at = ranked.index.get_loc(r.department)
        assert isinstance(at, int)
        keep.iloc[max(0, at - AROUND) : at + AROUND + 1] = True
    note = t("dr.ranking_many", lang, n=len(r.ranking), k=k, m=AROUND)
    return ranked[keep.to_numpy()], _note(note)


def _strengths_html(r: DepartmentReport, lang: str) -> str:
    sec = r.strengths
    if sec.table is None:
        return _missing(lang, sec.missing)
    out = [_note(t("dr.strengths_note", lang))]
    headers = [
        t("col.indicator", lang),
        t("dr.value_score", lang),
        t("dr.peer_median_score", lang),
        t("dr.vs_median", lang),
        t("dr.percentile", lang),
        t("col.rank", lang),
        t("dr.peer_learn_from", lang),
    ]
    for side, key in (("strength", "dept.strengths"), ("weakness", "dept.weaknesses")):
        part = sec.table[sec.table["side"] == side]
        rows = [
            [
                r.label(str(x["indicator"]), lang),
                _vs(x["value"], x["score"], str(x["unit"]), lang),
                _vs(x["median_value"], x["median"], str(x["unit"]), lang),
                _f(x["vs_median"], sign=True),
                _f(x["percentile"], 2),
                _rank_of(x["rank"], x["n"], lang) + _fallback(x, lang),
                f"{r.department_names(str(x['best_department']), lang)} "
                f"({value_text(x['best_value'], str(x['unit']), lang)})",
            ]
            for _, x in part.iterrows()
        ]
        out.append(f"<h3>{html.escape(t(key, lang))}</h3>")
        out.append(html_table(headers, rows, numeric=(1, 2, 3, 4)) if rows else _note(t("report.none", lang)))
    if sec.table["peer_fallback"].any():
        out.append(_note(t("dr.fallback_note", lang, n=MIN_PEERS)))
    return "".join(out)


def _priorities_html(r: DepartmentReport, lang: str) -> str:
    sec = r.priorities
    if sec.table is None:
        return _missing(lang, sec.missing)
    if sec.table.empty:
        return _note(t("report.none", lang))
    headers = [
        t("col.indicator", lang),
        t("dr.value_score", lang),
        t("dr.target_score", lang),
        t("dept.priority_gain", lang),
        t("dr.new_score", lang),
        t("dr.new_rank", lang),
        t("dr.new_peer_rank", lang),
    ]
    rows = [
        [
            r.label(str(x["indicator"]), lang),
            _vs(x["raw_value"], x["value"], str(x["unit"]), lang),
            _vs(x["raw_target"], x["target"], str(x["unit"]), lang) + _fallback(x, lang),
            _f(x["gain"], 2, sign=True),
            _f(x["new_score"]),
            _i(x["new_rank"]),
            _i(x["new_peer_rank"]),
        ]
        for _, x in sec.table.iterrows()
    ]
    return _note(t("dr.priorities_note", lang)) + html_table(headers, rows, numeric=(1, 2, 3, 4, 5, 6))


def _change_html(r: DepartmentReport, lang: str) -> str:
    sec = r.change
    if sec.table is None:
        return _missing(lang, sec.missing)
    out = [
        _note(
            t(
                "dr.previous_run",
                lang,
                period=sec.extra.get("previous_period", ""),
                run=sec.extra.get("previous_run", ""),
            )
        ),
        _note(t("dr.common_scale" if sec.extra.get("comparable") else "dr.not_comparable", lang)),
    ]
    headers = [
        t("dr.area", lang),
        t("dr.previous", lang),
        t("dr.current", lang),
        t("dr.change", lang),
        t("dr.rank_previous", lang),
        t("dr.rank_current", lang),
    ]
    rows = [
        [
            r.label(str(node), lang),
            _f(x["score_previous"]),
            _f(x["score_current"]),
            _f(x["change"], sign=True),
            _i(x["rank_previous"]),
            _i(x["rank_current"]),
        ]
        for node, x in sec.table.iterrows()
    ]
    out.append(html_table(headers, rows, numeric=(1, 2, 3, 4, 5)))
    out.append(f"<h3>{html.escape(t('dept.change_why', lang))}</h3>")
    if "why_missing" in sec.extra:
        out.append(_missing(lang, str(sec.extra["why_missing"])))
        return "".join(out)
    return "".join(out) + _change_why_html(r, lang)


def _change_why_html(r: DepartmentReport, lang: str) -> str:
    """Why the score changed: the effects (value, weight, residual; data and method when the
    method changed) and the indicators that contributed most."""
    sec = r.change
    out: list[str] = []
    summary = sec.extra.get("summary", {})
    parts = [
        (t("dr.value_effect", lang), summary.get("value_effect")),
        (t("dr.weight_effect", lang), summary.get("weight_effect")),
        (t("dr.residual", lang), summary.get("residual")),
    ]
    if sec.extra.get("method_changed"):
        out.append(_note(t("dr.method_changed", lang)))
        parts += [
            (t("dr.data_effect", lang), summary.get("data_effect")),
            (t("dr.method_effect", lang), summary.get("method_effect")),
        ]
    facts = "".join(
        f"<dt>{html.escape(k)}</dt><dd>{html.escape(_f(v, 2, sign=True))}</dd>"
        for k, v in parts
        if v is not None
    )
    out.append(f'<dl class="facts">{facts}</dl>')
    contrib = sec.extra.get("contributions")
    if isinstance(contrib, pd.DataFrame) and not contrib.empty:
        out.append(_note(t("dr.why_note", lang)))
        headers = [
            t("col.indicator", lang),
            t("dr.previous", lang),
            t("dr.current", lang),
            t("dr.contribution", lang),
        ]
        rows = [
            [
                r.label(str(x["indicator"]), lang),
                _f(x["value_previous"]),
                _f(x["value_current"]),
                _f(x["contribution"], 2, sign=True),
            ]
            for _, x in contrib.iterrows()
        ]
        out.append(html_table(headers, rows, numeric=(1, 2, 3)))
    out += [_note(n) for n in sec.notes]
    return "".join(out)


def _ratings_html(r: DepartmentReport, lang: str) -> str:
    sec = r.ratings
    table = sec.table
    min_n = int(sec.extra.get("min_ratings", 0))
    objects: dict[str, dict[str, str]] = sec.extra.get("objects", {})
    if table is None or table.empty:
        return _note(t("dr.no_ratings", lang)) + services_html(sec.extra, lang)
    headers = [
        t("dr.service", lang),
        t("col.n_ratings", lang),
        t("col.share_satisfied", lang) + " %",
        t("dr.interval", lang),
        t("dr.mean_level", lang),
        t("dr.bad_share", lang) + " %",
        t("dr.response_rate", lang) + " %",
    ]
    rows = []
    for code, x in table.iterrows():
        names = objects.get(str(code), {})
        name = names.get(lang) or names.get("en") or str(code)
        if num(x["count"]) < min_n or math.isnan(num(x["share_satisfied"])):
            rows.append([name, _i(x["count"]), t("dr.insufficient", lang), "–", "–", "–", "–"])
            continue
        rows.append(
            [
                name,
                _i(x["count"]),
                _f(x["share_satisfied"]),
                f"{_f(x['share_satisfied_low'])}–{_f(x['share_satisfied_high'])}",
                _f(x["mean_level"], 2),
                _f(x["bad_share"]),
                _f(x["response_rate"]),
            ]
        )
    out = html_table(headers, rows, numeric=(1, 2, 4, 5, 6)) + _note(t("dr.min_rule", lang, n=min_n))
    return out + services_html(sec.extra, lang)


def services_html(extra: dict[str, Any], lang: str) -> str:
    """The ratings of the service items the department owns, by object and channel (a rating
    inside another bureau's app, e.g. Macao One Account, counts here): reports.services words."""
    services: pd.DataFrame | None = extra.get("services")
    title = f"<h3>{html.escape(t('services.report.title', lang))}</h3>"
    if services is None or services.empty:
        return title + _note(t("services.report.none", lang))
    names: pd.DataFrame = extra["service_names"]
    min_n = int(extra.get("min_ratings", 0))
    heads = ("service", "object", "channel", "count", "levels", "share", "interval")
    rows = []
    for x in services.to_dict("records"):
        item = names.loc[x["service"]] if x["service"] in names.index else pd.Series(dtype=object)
        share, interval = share_texts(x, lang, min_n)
        name = f"{x['service']} {service_name(item, lang)}".strip()
        rows.append(
            [
                name,
                x["object"],
                one_channel(str(x["channel"]), lang),
                _i(x["count"]),
                level_text(x),
                share,
                interval,
            ]
        )
    return title + html_table([t(f"services.col.{h}", lang) for h in heads], rows, numeric=(3, 5))


def _cases_html(r: DepartmentReport, lang: str) -> str:
    table = r.cases.table
    if table is None or table.empty:
        return _note(t("dr.no_cases", lang))
    objects: dict[str, dict[str, str]] = r.cases.extra.get("objects", {})
    today = r.cases.extra.get("today", date.today())
    drivers: dict[str, dict[str, str]] = r.cases.extra.get("drivers", {})
    headers = [
        t("dr.case", lang),
        t("dr.service", lang),
        t("dr.state", lang),
        t("dr.level", lang),
        t("dr.reason", lang),
        t("dr.opened", lang),
        t("dr.due", lang),
    ]
    out = ['<div class="table-wrap"><table><thead><tr>']
    out += [f'<th scope="col">{html.escape(h)}</th>' for h in headers]
    out.append("</tr></thead><tbody>")
    for _, c in table.iterrows():
        names = objects.get(str(c["object"]), {})
        due = c["rectify_due"]
        overdue = c.get("rectified_day") is None and isinstance(due, date) and due < today
        state_key = f"state.{c['state']}"
        state = t(state_key, lang) if state_key in LABELS else str(c["state"])
        cells = [
            f"#{_i(c['id'])}",
            names.get(lang) or names.get("en") or str(c["object"]),
            state,
            _i(c["level"]),
            ", ".join(drivers.get(str(code), {}).get(lang) or str(code) for code in (c["reason"] or [])),
            str(c["opened_day"] or ""),
            str(due or "") + (f" ({t('dr.overdue', lang)})" if overdue else ""),
        ]
        tag = ' class="overdue" style="font-weight:bold"' if overdue else ""
        out.append(f"<tr{tag}>" + "".join(f"<td>{html.escape(v)}</td>" for v in cells) + "</tr>")
    out.append("</tbody></table></div>")
    return "".join(out) + _note(t("dr.cases_note", lang))


def _context_html(r: DepartmentReport, lang: str) -> str:
    """Published figures about the department's objects that are not scored (the register's
    context figures): what, value with its unit, period and source with the quotation."""
    headers = [
        t("dr.context_object", lang),
        t("dr.context_figure", lang),
        t("col.value", lang),
        t("col.period", lang),
        t("dr.source", lang),
    ]
    rows = [
        [
            names.get(lang) or names.get("en", ""),
            (figure.get("name") or {}).get(lang) or (figure.get("name") or {}).get("en", ""),
            value_text(figure.get("value"), str(figure.get("unit", "")), lang),
            str(figure.get("period", "")),
            t("dr.context_source", lang, section=figure.get("paper", ""), quote=figure.get("quote", "")),
        ]
        for names, figure in r.context
    ]
    return _note(t("dr.context_note", lang)) + html_table(headers, rows, numeric=(2,))


def render_department_report(r: DepartmentReport, lang: str = "zh-Hant", *, nav: str = "") -> str:
    """The report as one self-contained HTML page (every stored text escaped). `nav` is an
    HTML fragment (already escaped) shown first, e.g. the web pages' links."""
    lang = check_lang(lang)
    sections = [
        (t("dr.summary", lang), nav + _summary_html(r, lang)),
        (t("dept.standing", lang), _standing_html(r, lang)),
        (f"{t('dept.strengths', lang)} / {t('dept.weaknesses', lang)}", _strengths_html(r, lang)),
        (t("dr.indicators", lang), _indicators_html(r, lang)),
        (t("dept.priorities", lang), _priorities_html(r, lang)),
        (t("dept.change", lang), _change_html(r, lang)),
        (t("dept.ratings_summary", lang), _ratings_html(r, lang)),
        (t("dept.open_cases", lang), _cases_html(r, lang)),
        (t("values.flags_title", lang), flags_html(r.flags, r.framework, lang, limit=50)),
    ]
    if r.context:
        sections.append((t("dr.context", lang), _context_html(r, lang)))
    title = f"{t('report.department.title', lang)}: {r.name(lang)}"
    meta = t(
        "dr.run_meta",
        lang,
        period=r.period,
        run=r.run_key,
        framework=r.framework_code,
        version=r.framework_version,
    )
    banner = t("report.demo_banner", lang) if r.illustrative else None
    return render_page(title, sections, lang, banner=banner, meta=meta, toc=False)
