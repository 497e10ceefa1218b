"""The assessor's report data of a stored run, shared by the page (reports.assessor) and
the workbook (reports.excel).

`gather` collects everything once (the recomputed result with every stage, names, rank
intervals from a seeded Monte Carlo, coherence, the trend across periods, the rating
funnel); the `*_rows` functions and `ranking_frame` are the tables both show. Parts that
cannot be computed (uncertainty, coherence, ratings) keep their reason in `*_error`, and
the page shows a "not available" section.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from egov.errors import EgovError
from egov.models import AssessedObject, EvaluationRun, FrameworkVersion, PeerGroup, Period
from egov.notices import DEMO_NOTICE
from egov.record import RunInputs, load_inputs, load_result
from egov.store import department_names
from egov.values import run_flags
from evaluation.coherence import coherence
from evaluation.compare import CommonScale, common_scale, same_method
from evaluation.engine import EvaluationResult
from indicators.framework import Framework
from reports.i18n import check_lang, overall_rank_text, t
from reports.intervals import MC_N, MC_SEED, ranking_intervals
from reports.texts import method_source
from surveys.rollup import rating_measures

STAGE_ORDER = (
    "denomination",
    "imputation",
    "treatment",
    "normalisation",
    "weighting",
    "aggregation",
    "rollup",
)


GROUP_NAME = {"zh-Hant": "name_zh", "pt": "name_pt", "en": "name_en"}


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
    group_names: dict[str, str] = field(default_factory=dict)  # peer group code → name in `lang`
    uncertainty: pd.DataFrame | None = None  # per department: rank_p05, rank_p95, median_rank, tier …
    uncertainty_error: str = ""
    mc_n: int = MC_N
    mc_seed: int = MC_SEED
    coherence: dict[str, pd.DataFrame] | None = None
    coherence_error: str = ""
    trend: pd.DataFrame = field(default_factory=pd.DataFrame)  # label, period, rank, score (one scale)
    trend_scale: CommonScale | None = None  # the periods of `trend` on their common scale
    trend_left_out: list[str] = field(default_factory=list)  # periods run with another method
    ratings: pd.DataFrame | None = None  # label, n, share
    ratings_error: str = ""
    # the values the framework's rule flagged or left out (egov.values.run_flags)
    flags: pd.DataFrame = field(default_factory=pd.DataFrame)

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
        group_names={
            str(g.code): str(getattr(g, GROUP_NAME[lang]) or g.code)
            for g in session.execute(sa_select(PeerGroup)).scalars()
        },
        mc_n=mc_n,
        mc_seed=seed,
    )
    _add_uncertainty(data)
    _add_coherence(data)
    data.trend = _trend(session, run, fw_row, data)
    _add_ratings(session, data)
    data.flags = run_flags(session, run.id)
    return data


def _add_uncertainty(data: AssessorData) -> None:
    """The rank intervals (`reports.intervals`: the same as the department reports' and the
    ranking page's for the default --mc and --seed)."""
    if data.mc_n <= 0:
        data.uncertainty_error = "--mc 0"
        return
    try:
        data.uncertainty = ranking_intervals(data.inputs, data.result, n=data.mc_n, seed=data.mc_seed)
    except EgovError as exc:
        data.uncertainty_error = str(exc)


def _add_coherence(data: AssessorData) -> None:
    try:
        data.coherence = coherence(data.result)
    except EgovError as exc:
        data.coherence_error = str(exc)


def _trend(
    session: Session, run: EvaluationRun, fw_row: FrameworkVersion, data: AssessorData
) -> pd.DataFrame:
    """Department index ranks and scores of the latest run of each period (same framework
    code), up to this run's period, on one scale (`evaluation.compare.common_scale`). Runs
    made with another framework version or spec than this run's have no common scale with
    it (nor has a run that cannot be recomputed): they are left out and their periods kept
    in `data.trend_left_out`."""
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
    empty = pd.DataFrame(columns=["label", "period", "rank", "score"])
    if len(latest) < 2 or data.result.department_scores is None:
        return empty
    periods: list[str] = []
    results: list[EvaluationResult] = []
    for period_code, run_id in latest.items():
        other = session.get(EvaluationRun, run_id) if run_id != run.id else None
        try:
            result = data.result if other is None else load_result(session, other, verify=False)
        except EgovError:  # its stored inputs cannot be recomputed: no scale to put it on
            data.trend_left_out.append(period_code)
            continue
        if not same_method([result, data.result]):
            data.trend_left_out.append(period_code)
            continue
        periods.append(period_code)
        results.append(result)
    if len(results) < 2:
        return empty
    data.trend_scale = common_scale(results, data.framework)
    frames = []
    for period_code, scaled in zip(periods, data.trend_scale.results, strict=True):
        assert scaled.department_scores is not None and scaled.department_ranks is not None
        index_code = scaled.index_code
        df = pd.DataFrame(
            {
                "entity": scaled.department_scores.index.astype(str),
                "rank": scaled.department_ranks[index_code].to_numpy(),
                "score": scaled.department_scores[index_code].to_numpy(),
            }
        )
        df["period"] = period_code
        frames.append(df.dropna(subset=["score"]))
    out = pd.concat(frames, ignore_index=True)
    out["label"] = out["entity"].map(data.dept_label)
    return out


def trend_scale_row(data: AssessorData) -> tuple[str, str]:
    """The methodology's row on comparisons between periods: (label, the framework's common
    scale in words)."""
    lang = data.lang
    return t("method.trend_scale", lang), t(f"method.trend_scale.{data.framework.scale_of_trends}", lang)


def _add_ratings(session: Session, data: AssessorData) -> None:
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
            method, source = spec_methods[stage], "spec"
        else:
            method = data.framework.default(stage)
            source = "framework" if stage in data.framework.methods else "default"
        rows.append(
            (t(f"method.stage.{stage}", data.lang), method_text(method), method_source(source, data.lang))
        )
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
                            f"{method_text(m)} ({method_source('spec', data.lang)})",
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
        (t("method.warnings", lang), len(r.notes())),
    ]


def ranking_frame(data: AssessorData) -> pd.DataFrame:
    """Departments by the engine's index rank: code, label, rank, score, peer group and
    peer rank, category scores and ranks, `coverage` (categories scored) and `overall` (the
    rank, or "not ranked overall: scored on 1 of 3 categories"), and the Monte Carlo rank
    interval when present."""
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
    out["peer_group"] = out["code"].map(peer).map(lambda g: data.group_names.get(g, g), na_action="ignore")
    if r.peer_ranks is not None:
        out["peer_rank"] = out["code"].map(r.peer_ranks[idx])
    for cat in data.framework.categories:
        out[f"score:{cat.code}"] = out["code"].map(r.department_scores[cat.code])
        out[f"rank:{cat.code}"] = out["code"].map(r.department_ranks[cat.code])
    out["coverage"] = out["code"].map(r.categories_scored("department"))
    out["overall"] = [
        overall_rank_text(rank, n, len(r.categories), data.lang)
        for rank, n in zip(out["rank"], out["coverage"], strict=True)
    ]
    if data.uncertainty is not None:
        u = data.uncertainty
        for c in ("median_rank", "rank_p05", "rank_p95", "tier", "score_p05", "score_p95"):
            if c in u.columns:
                out[c] = out["code"].map(u[c])
    return out.sort_values(
        ["rank", "score"], ascending=[True, False], na_position="last", kind="mergesort"
    ).reset_index(drop=True)
