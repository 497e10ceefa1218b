"""The assessor's report of a stored run: one self-contained HTML file (works offline) and,
with `reports.excel`, the workbook.

`gather` collects everything once (the recomputed result with every stage, names, rank
intervals from a seeded Monte Carlo, coherence, the trend across periods, the rating
funnel); `render_html` turns it into a page; `write_reports` writes both files.
Optional parts (uncertainty, coherence, ratings) degrade to a "not available" section.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from egov.errors import EgovError
from egov.models import AssessedObject, EvaluationRun, FrameworkVersion, Period
from egov.record import RunInputs, load_inputs, load_result
from egov.store import DEMO_NOTICE, department_names
from evaluation.engine import EvaluationResult
from indicators.framework import Framework
from reports import charts
from reports.html import chart_html, esc, not_available, render_page, table
from reports.i18n import check_lang, t

MC_N = 200
MC_SEED = 1
STAGE_ORDER = (
    "denomination",
    "imputation",
    "treatment",
    "normalisation",
    "weighting",
    "aggregation",
    "rollup",
)


@dataclass
class AssessorData:
    """Everything the assessor's report and workbook show."""

    run: EvaluationRun
    period: Period
    framework: Framework
    framework_row: FrameworkVersion
    inputs: RunInputs
    result: EvaluationResult
    lang: str
    department_names: dict[str, str]
    object_names: dict[str, str]
    uncertainty: pd.DataFrame | None = None  # per department: rank_p05, rank_p95, median_rank, tier …
    uncertainty_error: str = ""
    mc_n: int = MC_N
    mc_seed: int = MC_SEED
    coherence: dict[str, pd.DataFrame] | None = None
    coherence_error: str = ""
    trend: pd.DataFrame = field(default_factory=pd.DataFrame)  # label, period, rank, score
    ratings: pd.DataFrame | None = None  # label, n, share
    ratings_error: str = ""

    @property
    def is_demo(self) -> bool:
        return DEMO_NOTICE in (self.run.note or "")

    def dept_label(self, code: str) -> str:
        return self.department_names.get(code) or code

    def node_label(self, code: str) -> str:
        node = self.framework.nodes.get(code)
        return node.label(self.lang) if node else code


# --- gathering ---------------------------------------------------------------------------
def gather(
    session: Session, run: EvaluationRun, lang: str = "zh-Hant", *, mc_n: int = MC_N, seed: int = MC_SEED
) -> AssessorData:
    """Load and compute what the report needs (the run is recomputed and verified)."""
    lang = check_lang(lang)
    inputs = load_inputs(session, run)
    result = load_result(session, run)
    fw_row = session.get(FrameworkVersion, run.framework_id)
    if fw_row is None:  # pragma: no cover - load_inputs checked it
        raise EgovError(f"run {run.run_key}: its framework is missing")
    names = department_names(session)
    col_name = lang if lang in names.columns else "en"
    dept_names = {str(k): str(v or "") for k, v in names[col_name].items()}
    obj_col = {"zh-Hant": AssessedObject.name_zh, "pt": AssessedObject.name_pt, "en": AssessedObject.name_en}[
        lang
    ]
    object_names = {
        str(c): str(n or "")
        for c, n in session.execute(sa_select(col(AssessedObject.code), col(obj_col))).all()
    }
    data = AssessorData(
        run=run,
        period=inputs.period,
        framework=inputs.framework,
        framework_row=fw_row,
        inputs=inputs,
        result=result,
        lang=lang,
        department_names=dept_names,
        object_names=object_names,
        mc_n=mc_n,
        mc_seed=seed,
    )
    _add_uncertainty(data)
    _add_coherence(data)
    data.trend = _trend(session, run, fw_row, data)
    _add_ratings(session, data)
    return data


def _add_uncertainty(data: AssessorData) -> None:
    if data.mc_n <= 0:
        data.uncertainty_error = "--mc 0"
        return
    try:
        from evaluation.uncertainty import monte_carlo
    except ImportError as exc:
        data.uncertainty_error = f"evaluation.uncertainty: {exc}"
        return
    inp = data.inputs
    level = "department" if data.result.department_scores is not None else "unit"
    try:
        mc = monte_carlo(
            inp.data,
            inp.framework,
            inp.spec,
            inp.units,
            n=data.mc_n,
            seed=data.mc_seed,
            sensitivity_n=0,
            history=inp.history,
            level=level,
        )
    except EgovError as exc:
        data.uncertainty_error = str(exc)
        return
    data.uncertainty = mc.summary


def _add_coherence(data: AssessorData) -> None:
    try:
        from evaluation.coherence import coherence
    except ImportError as exc:  # pragma: no cover - part of the engine
        data.coherence_error = str(exc)
        return
    try:
        data.coherence = coherence(data.result)
    except EgovError as exc:
        data.coherence_error = str(exc)


def _trend(
    session: Session, run: EvaluationRun, fw_row: FrameworkVersion, data: AssessorData
) -> pd.DataFrame:
    """Department index ranks of the latest run of each period (same framework code), up
    to this run's period."""
    from egov.models import RunScore

    rows = session.execute(
        sa_select(col(EvaluationRun.id), col(Period.code), col(Period.start))
        .join(Period, col(Period.id) == col(EvaluationRun.period_id))
        .join(FrameworkVersion, col(FrameworkVersion.id) == col(EvaluationRun.framework_id))
        .where(col(FrameworkVersion.code) == fw_row.code, col(Period.start) <= data.period.start)
        .order_by(col(EvaluationRun.id))
    ).all()
    latest: dict[str, int] = {}
    for run_id, code, _start in rows:
        latest[str(code)] = int(run_id)
    latest[data.period.code] = int(run.id or 0)
    if len(latest) < 2:
        return pd.DataFrame(columns=["label", "period", "rank", "score"])
    index_code = data.framework.index_code
    frames = []
    for period_code, run_id in latest.items():
        got = session.execute(
            sa_select(col(RunScore.entity), col(RunScore.rank), col(RunScore.score)).where(
                col(RunScore.run_id) == run_id,
                col(RunScore.entity_type) == "department",
                col(RunScore.node) == index_code,
            )
        ).all()
        df = pd.DataFrame(got, columns=["entity", "rank", "score"])
        df["period"] = period_code
        frames.append(df)
    out = pd.concat(frames, ignore_index=True)
    out["label"] = out["entity"].map(data.dept_label)
    return out


def _add_ratings(session: Session, data: AssessorData) -> None:
    try:
        from surveys.rollup import rating_measures
    except ImportError as exc:  # pragma: no cover
        data.ratings_error = str(exc)
        return
    measures, _notes = rating_measures(session, data.period.start, data.period.end, min_ratings=1)
    if measures.empty:
        data.ratings_error = t("report.no_data", data.lang)
        return
    df = pd.DataFrame(
        {
            "object": measures.index.astype(str),
            "n": measures["count"].to_numpy(dtype=float),
            "share": measures["share_satisfied"].to_numpy(dtype=float),
        }
    )
    df["label"] = [data.object_names.get(o) or o for o in df["object"]]
    data.ratings = df


# --- tables shared by the page and the workbook --------------------------------------------
def method_text(spec: dict[str, Any] | None) -> str:
    """'minmax (lower=0, upper=100)' from a canonical method spec."""
    if not spec:
        return ""
    params = ", ".join(
        f"{k}={json.dumps(v, ensure_ascii=False) if not isinstance(v, int | float) else f'{v:g}'}"
        for k, v in spec.items()
        if k != "method"
    )
    return f"{spec.get('method', '')} ({params})" if params else str(spec.get("method", ""))


def methods_rows(data: AssessorData) -> list[tuple[str, str, str]]:
    """(stage label, method, where it is set) for every stage, run spec over framework."""
    spec_methods = (data.result.spec or {}).get("methods", {}) or {}
    rows = []
    for stage in STAGE_ORDER:
        if spec_methods.get(stage):
            method, source = spec_methods[stage], "run spec"
        else:
            method = data.framework.default(stage)
            source = "framework [methods]" if stage in data.framework.methods else "default"
        rows.append((t(f"method.stage.{stage}", data.lang), method_text(method), source))
    return rows


def node_method_rows(data: AssessorData) -> list[tuple[str, str, str, str]]:
    """(node code, node name, stage, method) written on nodes or per node in the run spec."""
    rows = []
    fw = data.framework
    for code, node in fw.nodes.items():
        for stage, spec in node.methods.items():
            if spec and spec != fw.default(stage):
                rows.append(
                    (code, node.label(data.lang), t(f"method.stage.{stage}", data.lang), method_text(spec))
                )
    spec = data.result.spec or {}
    for section in ("indicators", "aggregates"):
        for code, stages in (spec.get(section) or {}).items():
            for stage, m in (stages or {}).items():
                if isinstance(m, dict):
                    rows.append(
                        (
                            code,
                            data.node_label(code),
                            t(f"method.stage.{stage}", data.lang),
                            method_text(m) + " (run spec)",
                        )
                    )
    return rows


def weight_rows(data: AssessorData) -> list[tuple[str, str, int, float | None, float | None]]:
    """(code, name, level, weight as used within its parent, effective weight) in tree order."""
    used: dict[str, float] = {}
    for weights in data.result.weights.values():
        used.update({str(k): float(v) for k, v in weights.items()})
    eff = data.result.effective_weights
    levels = data.result.levels
    rows: list[tuple[str, str, int, float | None, float | None]] = []

    def visit(code: str) -> None:
        node = data.framework.nodes[code]
        e = eff.get(code)
        rows.append(
            (
                code,
                node.label(data.lang),
                int(levels.get(code, 0)),
                used.get(code),
                None if e is None or pd.isna(e) else float(e),
            )
        )
        for child in node.children:
            visit(child)

    visit(data.framework.index_code)
    return rows


def coverage_rows(data: AssessorData) -> list[tuple[str, object]]:
    """(label, value) pairs of data coverage and flag counts."""
    r, lang = data.result, data.lang
    applicable = r.applicable.reindex_like(r.raw).fillna(False).astype(bool)
    n_app = int(applicable.to_numpy().sum())
    present = int((r.raw.notna() & applicable).to_numpy().sum())
    n_dept = 0 if r.department_scores is None else len(r.department_scores)
    return [
        (t("method.n_units", lang), len(r.raw.index)),
        (t("method.n_departments", lang), n_dept),
        (t("method.n_indicators", lang), len(r.raw.columns)),
        (t("method.n_applicable", lang), n_app),
        (t("method.n_values", lang), present),
        (t("method.n_missing", lang), n_app - present),
        (t("method.coverage_share", lang), f"{(present / n_app * 100) if n_app else 0:.1f} %"),
        (t("method.n_imputed", lang), int(r.imputed_mask.fillna(False).astype(bool).to_numpy().sum())),
        (t("method.n_treated", lang), int(r.treated_mask.fillna(False).astype(bool).to_numpy().sum())),
        (t("method.n_screened", lang), len(r.screened_out)),
        (t("method.warnings", lang), len(r.warnings)),
    ]


def ranking_frame(data: AssessorData) -> pd.DataFrame:
    """Departments by the engine's index rank: code, label, rank, score, peer group and
    peer rank, category scores and ranks, and the Monte Carlo rank interval when present."""
    r = data.result
    if r.department_scores is None or r.department_ranks is None:
        raise EgovError("this run has no departments to rank")
    idx = data.framework.index_code
    out = pd.DataFrame(
        {
            "code": r.department_scores.index.astype(str),
            "rank": r.department_ranks[idx].to_numpy(),
            "score": r.department_scores[idx].to_numpy(),
        }
    )
    out["label"] = out["code"].map(data.dept_label)
    peer = (
        r.units.groupby("department")["peer_group"].first()
        if "peer_group" in r.units
        else pd.Series(dtype=str)
    )
    out["peer_group"] = out["code"].map(peer)
    if r.peer_ranks is not None:
        out["peer_rank"] = out["code"].map(r.peer_ranks[idx])
    for cat in data.framework.categories:
        out[f"score:{cat.code}"] = out["code"].map(r.department_scores[cat.code])
        out[f"rank:{cat.code}"] = out["code"].map(r.department_ranks[cat.code])
    if data.uncertainty is not None:
        u = data.uncertainty
        for c in ("median_rank", "rank_p05", "rank_p95", "tier"):
            if c in u.columns:
                out[c] = out["code"].map(u[c])
    return out.sort_values(
        ["rank", "score"], ascending=[True, False], na_position="last", kind="mergesort"
    ).reset_index(drop=True)


# --- the page ------------------------------------------------------------------------------
def _facts(pairs: list[tuple[str, object]]) -> str:
    return '<dl class="facts">' + "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in pairs) + "</dl>"


def render_html(data: AssessorData) -> str:
    """The assessor's report as one self-contained HTML page."""
    lang, r, fw, run = data.lang, data.result, data.framework, data.run
    ranking = ranking_frame(data)
    sections: list[tuple[str, str]] = []

    # run and methodology
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
    if run.note:
        facts.append((t("run.note", lang), run.note))
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
        "<ul>" + "".join(f"<li>{esc(w)}</li>" for w in r.warnings) + "</ul>"
        if r.warnings
        else f"<p>{esc(t('report.none', lang))}</p>"
    )
    sections.append((t("method.title", lang), body))

    # framework and weights
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
    sections.append((t("sec.framework", lang), body))

    # overall ranking with uncertainty
    chart_df = ranking[["label", "rank", "score", *[c for c in ("rank_p05", "rank_p95") if c in ranking]]]
    body = chart_html(charts.ranking_chart(chart_df, lang))
    if data.uncertainty is not None:
        body += f'<p class="note">{esc(t("sec.uncertainty_note", lang, n=data.mc_n, seed=data.mc_seed))}</p>'
    else:
        body += f"<h3>{esc(t('sec.uncertainty', lang))}</h3>" + not_available(lang, data.uncertainty_error)
    headers = [
        t("col.rank", lang),
        t("col.department", lang),
        t("col.department_code", lang),
        t("col.score", lang),
        t("col.peer_group", lang),
        t("col.peer_rank", lang),
    ]
    cols = ["rank", "label", "code", "score", "peer_group", "peer_rank"]
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
    body += table(headers, rows, numeric=[0, 3, 5, 6, 7, 8, 9], digits=1)
    sections.append((t("sec.overall", lang), body))

    # categories
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
    body = chart_html(charts.category_chart(cat_long, lang, order=list(ranking["label"])))
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
    sections.append((t("sec.categories", lang), body))

    # indicator heatmap (department indicator scores are their normalised values rolled up)
    if r.department_scores is not None:
        inds = [c for c in fw.indicator_codes if c in r.department_scores.columns]
        values = r.department_scores.loc[ranking["code"], inds].copy()
        values.index = pd.Index(ranking["label"])
        body = chart_html(
            charts.heatmap(
                values,
                lang,
                row_order=list(ranking["label"]),
                column_names={c: data.node_label(c) for c in inds},
            )
        )
        sections.append((t("sec.heatmap", lang), body))

    # trend
    if len(data.trend) and data.trend["period"].nunique() > 1:
        sections.append((t("sec.trend", lang), chart_html(charts.trend_chart(data.trend, lang))))

    # ratings funnel
    if data.ratings is not None and len(data.ratings):
        body = (
            chart_html(charts.funnel_chart(data.ratings, lang))
            + f'<p class="note">{esc(t("sec.funnel_note", lang))}</p>'
        )
    else:
        body = not_available(lang, data.ratings_error)
    sections.append((t("sec.ratings", lang), body))

    # coherence
    sections.append((t("sec.coherence", lang), _coherence_html(data)))

    meta = f"{t('run.id', lang)} {run.run_key} · {t('run.period', lang)} {data.period.code} · {fw.code} {fw.version}"
    return render_page(
        t("report.assessor.title", lang),
        sections,
        lang,
        banner=t("report.demo_banner", lang) if data.is_demo else None,
        meta=meta,
    )


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
        body += "<ul>" + "".join(f"<li>{esc(m)}</li>" for m in flags["message"]) + "</ul>"
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
        from reports.excel import write_workbook

        xlsx = out_dir / f"{base}.xlsx"
        write_workbook(data, xlsx, session)
        paths.append(xlsx)
    return paths
