"""The HTML of the public site: bilingual pages (zh-Hant and pt side by side by default, as
Macau publishes; one language when asked for), every text escaped, no script.

A table is built once per language and merged cell by cell (`bi_table`): a cell that reads
the same in every language (a number, a code) is shown once, one that differs shows each
language in its own `<span lang=…>`. Headings and paragraphs are merged the same way.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote

import pandas as pd

from egov.clock import as_utc
from reports.cycle import role_label, state_label
from reports.html import CSS, esc
from reports.i18n import coverage_text, overall_rank_text, t, value_text
from reports.public import labels as _labels  # noqa: F401  (registers the labels)
from reports.public.data import ObjectionRow, PublicRun, PublishedPeriod

PREFIX = "/public"
DEFAULT_LANGS = ("zh-Hant", "pt")
LANGUAGE_LINKS = (("", "中文 · Português"), ("en", "English"))

Langs = Sequence[str]
Names = dict[str, dict[str, str]]


# --- bilingual pieces -----------------------------------------------------------------------------
def bi(langs: Langs, text: Callable[[str], str]) -> str:
    """`text(lang)` in every language, escaped: once when all agree, else one span per language."""
    return merge(langs, [text(lang) for lang in langs])


def merge(langs: Langs, texts: Sequence[str]) -> str:
    """The texts of one thing in each of `langs`, escaped: once when all agree, else one span
    per language."""
    if len(set(texts)) == 1:
        return esc(texts[0])
    return '<span class="sep"> / </span>'.join(
        f'<span lang="{esc(lang)}">{esc(x)}</span>' for lang, x in zip(langs, texts, strict=True)
    )


def bt(langs: Langs, key: str, **values: object) -> str:
    """The label `key` in every language (`bi`)."""
    return bi(langs, lambda lang: t(key, lang, **values))


def plain(langs: Langs, text: Callable[[str], str]) -> str:
    """`text` in every language as plain text (a page's <title>)."""
    return " / ".join(dict.fromkeys(text(lang) for lang in langs))


def para(langs: Langs, text: Callable[[str], str], cls: str = "") -> str:
    """A paragraph per language, each with its `lang` attribute."""
    klass = f' class="{cls}"' if cls else ""
    return "".join(f'<p lang="{esc(lang)}"{klass}>{esc(text(lang))}</p>' for lang in langs)


def bi_table(
    langs: Langs,
    headers: Callable[[str], list[str]],
    rows: Callable[[str], list[list[str]]],
    numeric: Sequence[int] = (),
    caption: str = "",
) -> str:
    """An accessible table (`th scope=col`, the first cell of a row `th scope=row`) whose
    headers and cells are given per language and merged cell by cell."""
    heads = [headers(lang) for lang in langs]
    bodies = [rows(lang) for lang in langs]
    head = "".join(
        f'<th scope="col">{merge(langs, [h[i] for h in heads])}</th>' for i in range(len(heads[0]))
    )
    out = ['<div class="table-wrap"><table>']
    if caption:
        out.append(f"<caption>{caption}</caption>")
    out.append(f"<thead><tr>{head}</tr></thead><tbody>")
    for r in range(len(bodies[0])):
        cells = []
        for i in range(len(bodies[0][r])):
            cell = merge(langs, [body[r][i] for body in bodies])
            if i == 0:
                cells.append(f'<th scope="row">{cell}</th>')
            else:
                cells.append(f"<td{' class=num' if i in numeric else ''}>{cell}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def num(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def f1(v: Any) -> str:
    x = num(v)
    return "–" if math.isnan(x) else f"{x:.1f}"


def whole(v: Any) -> str:
    x = num(v)
    return "–" if math.isnan(x) else str(round(x))


def q(langs: Langs) -> str:
    """The query string keeping a single chosen language (none for the default pair)."""
    return "" if tuple(langs) == DEFAULT_LANGS else f"?lang={quote(langs[0])}"


def period_url(period: str, langs: Langs, page: str = "") -> str:
    return f"{PREFIX}/{quote(period, safe='')}/{page}{q(langs)}"


def department_url(period: str, code: str, langs: Langs) -> str:
    return period_url(period, langs, f"departments/{quote(code, safe='')}")


# --- the page frame ---------------------------------------------------------------------------------
def frame(
    langs: Langs, title: Callable[[str], str], sections: list[tuple[str, str]], nav: str, meta: str = ""
) -> str:
    """A complete page: `title` per language (escaped here), sections as (heading HTML,
    body HTML) already escaped, the navigation first."""
    switch = " ".join(
        f'<a href="?lang={code}" hreflang="{code}" lang="{code}">{esc(name)}</a>'
        if code
        else f'<a href="?" hreflang="zh-Hant">{esc(name)}</a>'
        for code, name in LANGUAGE_LINKS
    )
    body = "".join(
        f'<section aria-labelledby="s{i}"><h2 id="s{i}">{heading}</h2>{html}</section>'
        for i, (heading, html) in enumerate(sections, 1)
    )
    return (
        f'<!DOCTYPE html><html lang="{esc(langs[0])}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(plain(langs, title))}</title><style>{CSS}</style></head><body>"
        f'<header class="page"><h1>{bi(langs, title)}</h1>'
        + (f'<div class="meta">{meta}</div>' if meta else "")
        + f'</header><nav class="site" aria-label="{esc(plain(langs, lambda lang: t("pub.languages", lang)))}" '
        'style="display:flex;flex-wrap:wrap;gap:1rem;margin:.5rem 2rem">'
        f"{nav}<span>{switch}</span></nav><main>{body}</main></body></html>"
    )


def period_nav(period: str, langs: Langs) -> str:
    links = [
        (f"{PREFIX}/{q(langs)}", "pub.home"),
        (period_url(period, langs), "pub.results"),
        (period_url(period, langs, "methodology"), "pub.methodology"),
        (period_url(period, langs, "open-data.zip"), "pub.open_data"),
    ]
    return " ".join(f'<a href="{esc(href)}">{bt(langs, key)}</a>' for href, key in links)


def demo_banner(pr: PublicRun, langs: Langs) -> str:
    if not pr.illustrative:
        return ""
    return f'<div class="banner" role="note">{bt(langs, "report.demo_banner")}</div>'


def run_meta(pr: PublicRun, langs: Langs) -> str:
    when = pr.published_at
    shown = as_utc(when).strftime("%Y-%m-%d") if when is not None else "–"
    return (
        bt(langs, "pub.run_meta", run=pr.run.run_key, hash=pr.run.results_hash)
        + f" · {bt(langs, 'pub.published_at')}: {esc(shown)}"
    )


# --- the index -----------------------------------------------------------------------------------
def index_page(periods: list[PublishedPeriod], langs: Langs) -> str:
    """The published periods, the latest first."""
    if periods:
        items = "".join(
            f'<li><a href="{esc(period_url(p.period, langs))}">{bt(langs, "pub.period_title", period=p.period)}</a>'
            f" ({bt(langs, 'pub.published_at')}: {esc(as_utc(p.published_at).strftime('%Y-%m-%d') if p.published_at else '–')})</li>"
            for p in periods
        )
        body = f"<ul>{items}</ul>"
    else:
        body = para(langs, lambda lang: t("pub.no_periods", lang))
    nav = f'<a href="{PREFIX}/{q(langs)}">{bt(langs, "pub.home")}</a>'
    ratings = f'<p><a href="{PREFIX}/ratings/{q(langs)}">{bt(langs, "pub.ratings_link")}</a></p>'
    sections = [(bt(langs, "pub.periods"), body), (bt(langs, "pub.ratings_link"), ratings)]
    return frame(langs, lambda lang: t("pub.title", lang), sections, nav)


def not_found_page(langs: Langs) -> str:
    nav = f'<a href="{PREFIX}/{q(langs)}">{bt(langs, "pub.home")}</a>'
    return frame(
        langs,
        lambda lang: t("pub.title", lang),
        [("404", para(langs, lambda lang: t("pub.not_found", lang)))],
        nav,
    )


# --- the period: rankings by category, overall, objections, history ----------------------------------
def dept_cell(names: Names, code: str, lang: str) -> str:
    return f"{names.get(code, {}).get(lang) or code} ({code})"


def category_tables(pr: PublicRun, names: Names, langs: Langs) -> str:
    """One table per category: the departments scored there, by the engine's category rank."""
    r = pr.result
    scores, ranks = r.department_scores, r.department_ranks
    assert scores is not None and ranks is not None
    out = []
    for cat in pr.framework.categories:
        if cat.code not in scores:
            continue
        scored = scores[cat.code].dropna()
        order = sorted(map(str, scored.index), key=lambda d: (num(ranks.at[d, cat.code]), d))
        table = bi_table(
            langs,
            lambda lang: [t("pub.rank", lang), t("pub.department", lang), t("pub.score", lang)],
            functools.partial(_category_rows, ranks, scores, names, order, cat.code),
            numeric=(2,),
        )
        out.append(f"<h3>{bi(langs, cat.label)}</h3>{table}")
    return "".join(out) + para(langs, lambda lang: t("pub.not_scored_in", lang), "note")


def _category_rows(
    ranks: pd.DataFrame, scores: pd.DataFrame, names: Names, order: list[str], code: str, lang: str
) -> list[list[str]]:
    return [[whole(ranks.at[d, code]), dept_cell(names, d, lang), f1(scores.at[d, code])] for d in order]


def overall_table(pr: PublicRun, names: Names, langs: Langs) -> str:
    """Every department by the engine's overall rank, with its coverage (the rule's words when
    it is not ranked overall) and its Monte Carlo rank interval; names link to its page."""
    r, idx = pr.result, pr.framework.index_code
    scores, ranks = r.department_scores, r.department_ranks
    assert scores is not None and ranks is not None
    covered = r.categories_scored("department")
    total = len(pr.framework.categories)
    u = pr.uncertainty
    order = sorted(
        map(str, scores.index),
        key=lambda d: (num(ranks.at[d, idx]) if not math.isnan(num(ranks.at[d, idx])) else 1e9, d),
    )

    def interval(d: str) -> str:
        if u is None or d not in u.index or math.isnan(num(u.at[d, "rank_p05"])):
            return "–"
        return f"{whole(u.at[d, 'rank_p05'])}–{whole(u.at[d, 'rank_p95'])}"

    def rows(lang: str) -> list[list[str]]:
        return [
            [
                overall_rank_text(ranks.at[d, idx], int(covered.get(d, 0)), total, lang),
                dept_cell(names, d, lang),
                f1(scores.at[d, idx]),
                coverage_text(int(covered.get(d, 0)), total),
                interval(d),
                whole(u.at[d, "median_rank"]) if u is not None and d in u.index else "–",
            ]
            for d in order
        ]

    table = bi_table(
        langs,
        lambda lang: [
            t("pub.rank", lang),
            t("pub.department", lang),
            t("pub.score", lang),
            t("pub.coverage", lang),
            t("pub.interval", lang),
            t("pub.median_rank", lang),
        ],
        rows,
        numeric=(2, 3, 4, 5),
    )
    links = " · ".join(
        f'<a href="{esc(department_url(pr.period, d, langs))}">{merge(langs, [dept_cell(names, d, lang) for lang in langs])}</a>'
        for d in order
    )
    notes = para(langs, lambda lang: t("pub.coverage_note", lang, min=pr.framework.ranking_rule), "note")
    if u is not None:
        notes += para(langs, lambda lang: t("pub.interval_note", lang, n=pr.mc_n, seed=pr.mc_seed), "note")
    else:
        notes += para(langs, lambda lang: t("pub.no_interval", lang), "na")
    return table + notes + f'<p class="departments">{links}</p>'


def objections_html(rows: list[ObjectionRow], names: Names, langs: Langs) -> str:
    if not rows:
        return para(langs, lambda lang: t("pub.no_objections", lang))
    return bi_table(
        langs,
        lambda lang: [
            t("pub.department", lang),
            t("pub.subject", lang),
            t("pub.outcome", lang),
            t("pub.answer", lang),
        ],
        lambda lang: [
            [
                dept_cell(names, o.department, lang),
                o.subject,
                t(f"pub.outcome.{o.outcome}", lang) if o.outcome in ("accepted", "rejected") else o.outcome,
                o.answer,
            ]
            for o in rows
        ],
    )


def history_html(pr: PublicRun, langs: Langs) -> str:
    """The cycle's history: when, the role that acted (never who), the step and why."""
    return bi_table(
        langs,
        lambda lang: [t("pub.when", lang), t("pub.role", lang), t("pub.step", lang), t("pub.reason", lang)],
        lambda lang: [
            [
                as_utc(e.at).strftime("%Y-%m-%d %H:%M"),
                role_label(e.role, lang),
                f"{state_label(e.from_state, lang) if e.from_state else '–'} → {state_label(e.to_state, lang)}",
                e.reason,
            ]
            for e in pr.events
        ],
    )


def period_page(pr: PublicRun, names: Names, objections: list[ObjectionRow], langs: Langs) -> str:
    """A published period: rankings by category first, then overall with coverage and rank
    intervals, the objection log's summary, the cycle's history and the open data."""
    open_data = (
        f'<p><a href="{esc(period_url(pr.period, langs, "open-data.zip"))}" download>{bt(langs, "pub.open_data_zip")}</a></p>'
        + para(langs, lambda lang: t("pub.open_data_text", lang, hash=pr.run.results_hash))
    )
    sections = [
        (bt(langs, "pub.by_category"), demo_banner(pr, langs) + category_tables(pr, names, langs)),
        (bt(langs, "pub.overall"), overall_table(pr, names, langs)),
        (bt(langs, "pub.objections"), objections_html(objections, names, langs)),
        (bt(langs, "pub.history"), history_html(pr, langs)),
        (bt(langs, "pub.open_data"), open_data),
    ]
    return frame(
        langs,
        lambda lang: t("pub.period_title", lang, period=pr.period),
        sections,
        period_nav(pr.period, langs),
        run_meta(pr, langs),
    )


# --- a department -------------------------------------------------------------------------------------
def department_page(
    pr: PublicRun,
    code: str,
    names: Names,
    standing: pd.DataFrame,
    indicators: pd.DataFrame | None,
    langs: Langs,
) -> str:
    """A department's standing overall and by category (rank of n, median, best) and its
    indicators in their own units with the score beside them. No internal section."""
    fw = pr.framework
    total = len(fw.categories)
    covered = sum(
        1
        for c in fw.categories
        if c.code in standing.index and not math.isnan(num(standing.at[c.code, "score"]))
    )

    def rank_cell(node: str, lang: str) -> str:
        s = standing.loc[node]
        if math.isnan(num(s["score"])):
            return t("pub.not_scored", lang)
        if math.isnan(num(s["rank"])):
            return overall_rank_text(None, covered, total, lang)
        return t("pub.rank_of", lang, rank=whole(s["rank"]), n=whole(s["n"]))

    standing_html = bi_table(
        langs,
        lambda lang: [
            t("pub.area", lang),
            t("pub.score", lang),
            t("pub.rank", lang),
            t("pub.median", lang),
            t("pub.best", lang),
        ],
        lambda lang: [
            [
                fw.nodes[str(n)].label(lang),
                f1(s["score"]),
                rank_cell(str(n), lang),
                f1(s["median"]),
                f1(s["best"]),
            ]
            for n, s in standing.iterrows()
        ],
        numeric=(1, 3, 4),
    ) + para(langs, lambda lang: f"{t('pub.coverage', lang)}: {coverage_text(covered, total)}", "note")
    sections = [(bt(langs, "pub.standing"), demo_banner(pr, langs) + standing_html)]
    sections.append((bt(langs, "pub.indicators"), indicators_html(pr, indicators, langs)))
    return frame(
        langs,
        lambda lang: t("pub.department_title", lang, name=dept_cell(names, code, lang)),
        sections,
        period_nav(pr.period, langs),
        run_meta(pr, langs),
    )


def indicators_html(pr: PublicRun, table: pd.DataFrame | None, langs: Langs) -> str:
    """Every indicator: its value in its own unit, its score, rank, and the median and best
    values of all departments (`evaluation.compare.indicator_standing`)."""
    if table is None or table.empty:
        return para(langs, lambda lang: t("pub.no_indicators", lang), "na")
    return bi_table(
        langs,
        lambda lang: [
            t("pub.indicator", lang),
            t("pub.value", lang),
            t("pub.score", lang),
            t("pub.rank", lang),
            t("pub.median_value", lang),
            t("pub.best_value", lang),
        ],
        lambda lang: [
            [
                pr.framework.nodes[str(row["indicator"])].label(lang),
                value_text(row["value"], str(row["unit"]), lang),
                f1(row["score"]),
                t("pub.rank_of", lang, rank=whole(row["rank"]), n=whole(row["n"])),
                value_text(row["median_value"], str(row["unit"]), lang),
                value_text(row["best_value"], str(row["unit"]), lang),
            ]
            for _, row in table.iterrows()
        ],
        numeric=(1, 2, 4, 5),
    )
