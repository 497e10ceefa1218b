"""The assessor's report of a stored run as one self-contained HTML file (works offline),
and `write_reports`, which writes it with the workbook (reports.excel).

The data comes from `reports.assessor_data.gather`; `render_html` turns it into a page,
one function per section. Optional parts (uncertainty, coherence, ratings) degrade to a
"not available" section.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sqlmodel import Session

from egov.models import EvaluationRun
from reports import charts
from reports.assessor_data import (
    MC_N,
    MC_SEED,
    AssessorData,
    coverage_rows,
    gather,
    methods_rows,
    node_method_rows,
    ranking_frame,
    trend_scale_row,
    weight_rows,
)
from reports.excel import write_workbook
from reports.html import chart_html, esc, not_available, render_page, table
from reports.i18n import coverage_text, t
from reports.texts import flag_text, note_body, run_note
from reports.values import flags_html

__all__ = ["AssessorData", "gather", "render_html", "report_basename", "write_reports"]


# --- the page ------------------------------------------------------------------------------
def _facts(pairs: list[tuple[str, object]]) -> str:
    return '<dl class="facts">' + "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in pairs) + "</dl>"


def render_html(data: AssessorData) -> str:
    """The assessor's report as one self-contained HTML page."""
    lang, fw, run = data.lang, data.framework, data.run
    ranking = ranking_frame(data)
    sections: list[tuple[str, str]] = [
        (t("method.title", lang), _methodology_html(data)),
        (t("sec.framework", lang), _framework_html(data)),
        # the category league tables first, then the overall ranking (the paper's order)
        (t("sec.categories", lang), _categories_html(data, ranking)),
        (t("sec.overall", lang), _overall_html(data, ranking)),
    ]
    if data.result.department_scores is not None:
        sections.append((t("sec.heatmap", lang), _heatmap_html(data, ranking)))
    if len(data.trend) and data.trend["period"].nunique() > 1:
        sections.append((t("sec.trend", lang), _trend_html(data)))
    sections.append((t("sec.ratings", lang), _ratings_html(data)))
    sections.append((t("sec.coherence", lang), _coherence_html(data)))
    sections.append((t("values.flags_title", lang), flags_html(data.flags, fw, lang)))
    meta = f"{t('run.id', lang)} {run.run_key} · {t('run.period', lang)} {data.period.code} · {fw.code} {fw.version}"
    return render_page(
        t("report.assessor.title", lang),
        sections,
        lang,
        banner=t("report.demo_banner", lang) if data.is_demo else None,
        meta=meta,
    )


def _methodology_html(data: AssessorData) -> str:
    """Run and methodology: the run's facts, the methods by stage and by node, coverage and
    flags, screened-out units and warnings."""
    lang, r, fw, run = data.lang, data.result, data.framework, data.run
    facts: list[tuple[str, object]] = [
        (t("run.id", lang), run.run_key),
        (t("run.period", lang), data.period.code),
        (t("method.framework", lang), fw.name.get(lang) or fw.name.get("en") or fw.code),
        (t("method.framework_code", lang), fw.code),
        (t("method.framework_version", lang), fw.version),
        (t("method.framework_hash", lang), r.framework_hash),
        (t("run.created", lang), f"{run.created_at:%Y-%m-%d %H:%M}"),
        (t("run.created_by", lang), run.created_by),
        (t("run.inputs_hash", lang), run.inputs_hash),
        (t("run.results_hash", lang), run.results_hash),
        (t("run.software", lang), run.software_version),
    ]
    facts.append(trend_scale_row(data))
    if run.note:
        facts.append((t("run.note", lang), run_note(run.note, lang)))
    body = _facts(facts)
    body += f"<h3>{esc(t('method.stages', lang))}</h3>"
    body += table(
        [t("method.stage", lang), t("method.method", lang), t("col.item", lang)], methods_rows(data)
    )
    node_rows = node_method_rows(data)
    if node_rows:
        body += f"<h3>{esc(t('method.node_methods', lang))}</h3>"
        body += table(
            [t("col.code", lang), t("col.name", lang), t("method.stage", lang), t("method.method", lang)],
            node_rows,
        )
    body += f"<h3>{esc(t('method.coverage', lang))} · {esc(t('method.flags', lang))}</h3>"
    body += table([t("col.item", lang), t("col.count", lang)], coverage_rows(data), numeric=[1])
    if r.screened_out:
        body += table(
            [t("col.object", lang), t("method.coverage_share", lang)],
            [
                (f"{data.object_names.get(u) or u} ({u})", f"{v * 100:.0f} %")
                for u, v in r.screened_out.items()
            ],
            caption=t("method.n_screened", lang),
        )
    body += f"<h3>{esc(t('method.warnings', lang))}</h3>"
    body += (
        "<ul>" + "".join(f"<li>{esc(note_body(w, lang))}</li>" for w in r.notes()) + "</ul>"
        if r.notes()
        else f"<p>{esc(t('report.none', lang))}</p>"
    )
    return body


def _trend_html(data: AssessorData) -> str:
    """The rank trend on the common scale, what it is, and the periods left out."""
    lang = data.lang
    body = chart_html(charts.trend_chart(data.trend, lang))
    body += f"<p>{esc(t('trend.note', lang))}</p>"
    if data.trend_left_out:
        body += f"<p>{esc(t('trend.left_out', lang, periods=', '.join(data.trend_left_out)))}</p>"
    return body


def _framework_html(data: AssessorData) -> str:
    """The framework chart and its weights, in tree order."""
    lang, r, fw = data.lang, data.result, data.framework
    body = chart_html(charts.framework_chart(fw, r.effective_weights, lang))
    body += table(
        [
            t("col.code", lang),
            t("col.name", lang),
            t("col.level", lang),
            t("col.weight", lang),
            t("col.effective_weight", lang),
        ],
        [
            (
                c,
                ("\u2003" * (max(r.levels.values()) - lv)) + n,
                lv,
                w,
                None if e is None else f"{e * 100:.2f} %",
            )
            for c, n, lv, w, e in weight_rows(data)
        ],
        numeric=[2, 3, 4],
        digits=3,
    )
    return body


def _overall_html(data: AssessorData, ranking: pd.DataFrame) -> str:
    """The overall ranking with its uncertainty (chart and table)."""
    lang = data.lang
    intervals = [c for c in ("score_p05", "score_p95", "rank_p05", "rank_p95") if c in ranking]
    shown, note = _chart_rows(ranking, lang)
    body = note + chart_html(charts.ranking_chart(shown[["label", "rank", "score", *intervals]], lang))
    if data.uncertainty is not None:
        body += f'<p class="note">{esc(t("sec.uncertainty_note", lang, n=data.mc_n, seed=data.mc_seed))}</p>'
    else:
        body += f"<h3>{esc(t('sec.uncertainty', lang))}</h3>" + not_available(lang, data.uncertainty_error)
    headers = [
        t("col.rank", lang),
        t("col.department", lang),
        t("col.department_code", lang),
        t("rank.coverage", lang),
        t("col.score", lang),
        t("col.peer_group", lang),
        t("col.peer_rank", lang),
    ]
    cols = ["overall", "label", "code", "coverage_text", "score", "peer_group", "peer_rank"]
    ranking = ranking.assign(
        coverage_text=[coverage_text(n, len(data.framework.categories)) for n in ranking["coverage"]]
    )
    if data.uncertainty is not None:
        headers += [
            t("col.rank_median", lang),
            t("col.rank_p05", lang),
            t("col.rank_p95", lang),
            t("col.tier", lang),
        ]
        cols += ["median_rank", "rank_p05", "rank_p95", "tier"]
    rows = [
        [
            _int(v) if c in ("rank", "peer_rank", "rank_p05", "rank_p95", "tier") else v
            for c, v in zip(cols, rec, strict=True)
        ]
        for rec in ranking.reindex(columns=cols).itertuples(index=False)
    ]
    body += table(headers, rows, numeric=[0, 4, 6, 7, 8, 9, 10], digits=1)
    return body


def _categories_html(data: AssessorData, ranking: pd.DataFrame) -> str:
    """The category scores of every department (chart) and one ranking table per category."""
    lang, fw = data.lang, data.framework
    cat_long = pd.concat(
        [
            pd.DataFrame(
                {
                    "label": ranking["label"],
                    "category": cat.label(lang),
                    "score": ranking[f"score:{cat.code}"],
                }
            )
            for cat in fw.categories
        ],
        ignore_index=True,
    )
    shown, note = _chart_rows(ranking, lang)
    cat_long = cat_long[cat_long["label"].isin(set(shown["label"]))]
    body = note + chart_html(charts.category_chart(cat_long, lang, order=list(shown["label"])))
    for cat in fw.categories:
        sub = ranking.dropna(subset=[f"rank:{cat.code}"]).sort_values(f"rank:{cat.code}", kind="mergesort")
        body += f"<h3>{esc(cat.label(lang))}</h3>"
        body += table(
            [t("col.rank", lang), t("col.department", lang), t("col.score", lang)],
            [
                (_int(a), b, c)
                for a, b, c in zip(
                    sub[f"rank:{cat.code}"], sub["label"], sub[f"score:{cat.code}"], strict=True
                )
            ],
            numeric=[0, 2],
            digits=1,
        )
    return body


# Above this many departments a chart of one row per department is not readable, and the
# heat map (one cell per department and indicator) would exceed altair's 5,000 rows of data:
# the charts show the best and worst SHOWN_AT_EACH_END departments and the heat map the
# medians of groups of departments (the tables and the workbook keep every department).
MAX_CHART_DEPARTMENTS = 60
SHOWN_AT_EACH_END = 15
MAX_HEATMAP_CELLS = 4_500  # below altair's 5,000-row limit on a chart's data


def _ends(ranking: pd.DataFrame, k: int = SHOWN_AT_EACH_END) -> pd.DataFrame:
    """The k best and the k worst departments ranked overall, in the engine's rank order
    (all of them when there are no more than 2k); the departments not ranked overall are left out."""
    ranked = ranking.dropna(subset=["rank"]).sort_values("rank", kind="mergesort")
    return ranked if len(ranked) <= 2 * k else pd.concat([ranked.head(k), ranked.tail(k)])


def _chart_rows(ranking: pd.DataFrame, lang: str) -> tuple[pd.DataFrame, str]:
    """The departments a per-department chart shows, and the note that says so (above
    MAX_CHART_DEPARTMENTS: the best and the worst, `_ends`)."""
    if len(ranking) <= MAX_CHART_DEPARTMENTS:
        return ranking, ""
    note = t("chart.many", lang, n=len(ranking), k=SHOWN_AT_EACH_END)
    return _ends(ranking), f'<p class="note">{esc(note)}</p>'


def _heatmap_groups(data: AssessorData, ranking: pd.DataFrame, limit: int) -> tuple[pd.Series, str]:
    """Department code → the label of its group for the aggregated heat map, and the note's
    key: its peer group when the departments have peer groups and there are at most
    `limit` of them, otherwise its band of the overall ranking (`limit` bands at most)."""
    lang = data.lang
    groups = ranking.set_index("code")["peer_group"]
    if groups.notna().any() and groups.nunique(dropna=False) <= limit:
        named = groups.fillna(t("heatmap.no_group", lang)).astype(str)
        return named, "heatmap.many_groups"
    ranked = ranking.dropna(subset=["rank"]).sort_values("rank", kind="mergesort")
    size = -(-len(ranked) // max(1, min(limit - 1, 10)))  # ceiling: at most 10 bands
    band = pd.Series(t("heatmap.unranked", lang), index=ranking["code"], dtype=object)
    for start in range(0, len(ranked), size):
        part = ranked.iloc[start : start + size]
        label = t("heatmap.band", lang, a=_int(part["rank"].min()), b=_int(part["rank"].max()))
        band[part["code"].to_numpy()] = label
    return band.astype(str), "heatmap.many_bands"


def _heatmap_html(data: AssessorData, ranking: pd.DataFrame) -> str:
    """The indicator heatmap (department indicator scores are their normalised values
    rolled up): one row per department up to MAX_CHART_DEPARTMENTS (fewer when the
    framework has so many indicators that the cells would exceed MAX_HEATMAP_CELLS); above
    that, the median of each group of departments (`_heatmap_groups`) and the best and the
    worst departments (`_ends`), with a note that says so."""
    r, fw, lang = data.result, data.framework, data.lang
    assert r.department_scores is not None
    inds = [c for c in fw.indicator_codes if c in r.department_scores.columns]
    names = {c: data.node_label(c) for c in inds}
    limit = max(5, min(MAX_CHART_DEPARTMENTS, MAX_HEATMAP_CELLS // max(1, len(inds))))
    if len(ranking) <= limit:
        values = r.department_scores.loc[ranking["code"], inds].copy()
        values.index = pd.Index(ranking["label"])
        return chart_html(charts.heatmap(values, lang, row_order=list(ranking["label"]), column_names=names))
    groups, note_key = _heatmap_groups(data, ranking, limit)
    scores = r.department_scores.loc[ranking["code"], inds]
    medians = scores.groupby(groups.reindex(scores.index).to_numpy(), sort=False).median()
    counts = groups.value_counts()
    order = list(dict.fromkeys(groups.reindex(ranking["code"]).to_numpy()))  # by the groups' best rank
    medians = medians.reindex(order)
    medians.index = pd.Index([t("heatmap.group_label", lang, name=g, n=int(counts[g])) for g in order])
    k = max(1, min(SHOWN_AT_EACH_END, limit // 2))
    ends = _ends(ranking, k)
    values = r.department_scores.loc[ends["code"], inds].copy()
    values.index = pd.Index(ends["label"])
    note = t(note_key, lang, n=len(ranking), k=k)
    return (
        f'<p class="note">{esc(note)}</p>'
        + chart_html(
            charts.heatmap(
                medians,
                lang,
                row_order=list(medians.index),
                column_names=names,
                title=t("chart.heatmap.groups_title", lang),
            )
        )
        + chart_html(
            charts.heatmap(
                values,
                lang,
                row_order=list(ends["label"]),
                column_names=names,
                title=t("chart.heatmap.ends_title", lang, k=k),
            )
        )
    )


def _ratings_html(data: AssessorData) -> str:
    """The ratings funnel."""
    lang = data.lang
    if data.ratings is not None and len(data.ratings):
        return (
            chart_html(charts.funnel_chart(data.ratings, lang))
            + f'<p class="note">{esc(t("sec.funnel_note", lang))}</p>'
        )
    return not_available(lang, data.ratings_error)


def _int(v: object) -> object:
    try:
        return None if v is None or pd.isna(v) else int(v)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return v


def _coherence_html(data: AssessorData) -> str:
    lang = data.lang
    if data.coherence is None:
        return not_available(lang, data.coherence_error)
    c = data.coherence
    body = ""
    alpha = c.get("alpha")
    pca = c.get("pca")
    if alpha is not None and len(alpha):
        merged = (
            alpha.merge(pca[["node", "pc1_variance"]], on="node", how="left")
            if pca is not None and "pc1_variance" in pca
            else alpha
        )
        body += table(
            [
                t("col.code", lang),
                t("col.name", lang),
                t("col.level", lang),
                t("col.count", lang),
                t("sec.coherence_alpha", lang),
                t("sec.coherence_pca", lang),
            ],
            [
                (
                    row.node,
                    data.node_label(str(row.node)),
                    row.level,
                    row.children,
                    row.alpha,
                    getattr(row, "pc1_variance", None),
                )
                for row in merged.itertuples(index=False)
            ],
            numeric=[2, 3, 4, 5],
        )
    corr = c.get("correlations")
    if corr is not None and len(corr) and "relation" in corr:
        parent = corr[corr["relation"] == "parent"] if (corr["relation"] == "parent").any() else corr.head(0)
        if len(parent):
            body += f"<h3>{esc(t('sec.coherence_corr', lang))}</h3>"
            body += table(
                [
                    t("col.code", lang),
                    t("col.name", lang),
                    t("col.item", lang),
                    "Pearson r",
                    "Spearman ρ",
                    "n",
                ],
                [
                    (
                        row.other,
                        data.node_label(str(row.other)),
                        data.node_label(str(row.node)),
                        row.pearson,
                        row.spearman,
                        row.n,
                    )
                    for row in parent.itertuples(index=False)
                ],
                numeric=[3, 4, 5],
            )
    flags = c.get("flags")
    body += f"<h3>{esc(t('sec.coherence_flags', lang))}</h3>"
    if flags is not None and len(flags):
        texts = [flag_text(row, lang, data.node_label) for row in flags.to_dict("records")]
        body += "<ul>" + "".join(f"<li>{esc(m)}</li>" for m in texts) + "</ul>"
    else:
        body += f"<p>{esc(t('report.none', lang))}</p>"
    return body or not_available(lang)


# --- files ---------------------------------------------------------------------------------
def report_basename(run: EvaluationRun, lang: str) -> str:
    return f"assessor-report-{run.run_key}-{lang}"


def write_reports(
    session: Session,
    run: EvaluationRun,
    out_dir: Path,
    lang: str = "zh-Hant",
    *,
    mc_n: int = MC_N,
    seed: int = MC_SEED,
    excel: bool = True,
) -> list[Path]:
    """Write the assessor's HTML report (and the workbook) for `run` into `out_dir`."""
    data = gather(session, run, lang, mc_n=mc_n, seed=seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    base = report_basename(run, data.lang)
    html_path = out_dir / f"{base}.html"
    html_path.write_text(render_html(data), encoding="utf-8")
    paths = [html_path]
    if excel:
        xlsx = out_dir / f"{base}.xlsx"
        write_workbook(data, xlsx, session)
        paths.append(xlsx)
    return paths
