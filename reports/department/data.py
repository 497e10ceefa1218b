"""The department report's data: what `department_report(session, run, department)`
gathers from a stored run (no HTML; texts stored as given).

Where the department stands overall and per category, against all departments and within
its peer group (rank, score, median, best); its strengths and weaknesses and improvement
priorities with the score they would bring (`evaluation.compare`); the change since the
previous run of the same framework and why; its citizen-rating summary (rating measures
of its application objects for the run's period, with the minimum-count rule) and its
open bad-rating cases. A `ReportCache` carries what the reports of one run share.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlmodel import Session, col

from egov.cycle import previous_published_run
from egov.errors import EgovError
from egov.models import Department, EvaluationRun, FrameworkVersion, PeerGroup, Period
from egov.notices import DEMO_NOTICE
from egov.record import load_inputs, load_result
from egov.settings import get_settings
from egov.store import get_run
from egov.values import FLAG_COLUMNS
from evaluation import compare
from evaluation.compare import standing_all
from evaluation.engine import EvaluationResult, evaluate
from evaluation.priorities import priorities_all
from indicators.framework import Framework, parse_framework
from reports.department.cache import (
    NAME_COLUMN,
    ReportCache,
    all_names,
    names_of,
    object_names,
    objects_of,
    run_flags_of,
)
from reports.intervals import INTERVAL_COLUMNS, MC_N, MC_SEED, ranking_intervals
from surveys.cases import department_cases
from surveys.questions import questions
from surveys.rollup import rating_measures
from surveys.schemas import OPEN_CASE_STATES
from surveys.services import catalogue, service_ratings

__all__ = [
    "NAME_COLUMN", "DepartmentReport", "ReportCache", "Section", "change", "context_figures",
    "department_groups", "department_report", "indicators", "names_of", "open_cases",
    "overall_ranking", "peer_members", "priorities", "ratings", "run_intervals", "standing_table",
    "strengths", "swapped_result",
]  # fmt: skip

TOP_N = 5


@dataclass
class Section:
    """A part of the report: its table (or None), notes, and `missing`: why it is absent."""

    table: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)
    missing: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class DepartmentReport:
    """Everything the department report shows (no HTML); texts are stored as given."""

    run_key: str
    period: str
    framework_code: str
    framework_version: str
    framework: Framework
    department: str
    names: dict[str, str]  # lang -> name
    peer_group: str | None
    peer_group_names: dict[str, str]
    illustrative: bool
    # index node: score, rank, n, median, best, peer_rank, peer_n, peer_median, peer_best,
    # peer_fallback (fewer than compare.MIN_PEERS of the peer group scored: all departments)
    standing: pd.DataFrame
    indicators: Section  # compare.indicator_standing; extra["objects"]: indicator → [(names, value)]
    strengths: Section
    priorities: Section
    change: Section
    ratings: Section
    cases: Section
    all_names: dict[str, dict[str, str]] = field(default_factory=dict)  # every department's names
    # every department's overall rank and score (engine) and, when the Monte Carlo ran,
    # their 5–95 % intervals (INTERVAL_COLUMNS; empty when not ranked overall): index = code
    ranking: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["rank", "score"]))
    # the department's values the framework's rule flagged or left out (egov.values.run_flags)
    flags: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=FLAG_COLUMNS))
    intervals_error: str = ""  # why the ranking has no intervals
    # published figures about its objects that are not scored (egov.context): (object's
    # names by language, the figure)
    context: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)
    mc_n: int = MC_N
    mc_seed: int = MC_SEED

    def name(self, lang: str) -> str:
        return self.names.get(lang) or self.names.get("en") or self.department

    def group_name(self, lang: str) -> str:
        if not self.peer_group:
            return ""
        return self.peer_group_names.get(lang) or self.peer_group_names.get("en") or self.peer_group

    def department_names(self, codes: str, lang: str) -> str:
        """ "Name (CODE)" of each department in `codes` ("A, B" when tied), for "learn from"."""
        out = []
        for code in filter(None, (c.strip() for c in codes.split(","))):
            names = self.all_names.get(code, {})
            name = names.get(lang) or names.get("en") or ""
            out.append(f"{name} ({code})" if name else code)
        return ", ".join(out)

    def label(self, code: str, lang: str) -> str:
        node = self.framework.nodes.get(code)
        return node.label(lang) if node is not None else code


def num(v: Any) -> float:
    """`v` as a float (NaN when it is not a number)."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return float("nan")
    return f


def department_groups(result: EvaluationResult) -> pd.Series:
    """Department code → its peer group (as the units give it; missing when it has none)."""
    return result.units["peer_group"].groupby(result.units["department"].astype(str)).first()


def peer_members(
    result: EvaluationResult, department: str, groups: pd.Series | None = None
) -> tuple[str | None, list[str]]:
    """The department's peer group and its members (None, [] when it has none); `groups`:
    `department_groups(result)` when the caller has it already."""
    groups = department_groups(result) if groups is None else groups
    group = groups.get(department)
    if not isinstance(group, str) or not group:
        return None, []
    return group, [str(d) for d in groups.index[groups == group]]


def standing_table(
    result: EvaluationResult, department: str, nodes: list[str], groups: pd.Series | None = None
) -> pd.DataFrame:
    """Score, rank and the field's median and best at each node, among all departments and
    within the peer group — all departments when fewer than `compare.MIN_PEERS` of the
    peer group have a score there (`peer_fallback`; then the peer rank is the overall
    rank). Ranks are the engine's (1 = best), never recomputed here. `groups`:
    `department_groups(result)` when the caller has it."""
    scores, ranks = result.department_scores, result.department_ranks
    if scores is None or ranks is None:
        raise EgovError("this run has no department scores")
    groups = department_groups(result) if groups is None else groups
    groups = groups.reindex(scores.index).fillna(compare.NO_GROUP).astype(str)
    peer_ranks = result.peer_ranks
    rows = []
    for node in nodes:
        column = scores[node].dropna() if node in scores else pd.Series(dtype=float)
        peer, fallback = compare.comparison_group(groups, department, column)
        has_peer = peer_ranks is not None and node in peer_ranks and department in peer_ranks.index
        own_rank = num(ranks[node].get(department)) if node in ranks else float("nan")
        peer_rank = (
            num(peer_ranks.at[department, node]) if has_peer and peer_ranks is not None else float("nan")
        )
        rows.append(
            {
                "node": node,
                "score": num(column.get(department)),
                "rank": own_rank,
                "n": int(ranks[node].notna().sum()) if node in ranks else len(column),  # ranked there
                "median": float(column.median()) if len(column) else float("nan"),
                "best": float(column.max()) if len(column) else float("nan"),
                "peer_rank": own_rank if fallback else peer_rank,
                "peer_n": len(peer),
                "peer_median": float(peer.median()) if len(peer) else float("nan"),
                "peer_best": float(peer.max()) if len(peer) else float("nan"),
                "peer_fallback": fallback,
            }
        )
    return pd.DataFrame(rows).set_index("node")


def indicators(
    session: Session,
    result: EvaluationResult,
    department: str,
    framework: Framework,
    cache: ReportCache | None = None,
) -> Section:
    """Every indicator of the department in its own unit and as a score, against the median
    and the best of all departments and of its comparison group, whom to learn from
    (`compare.indicator_standing`; for every department at once when the cache serves many
    reports: `evaluation.compare.standing_all`), and its objects' own values (extra["objects"])."""
    cache = ReportCache() if cache is None else cache
    try:
        table: pd.DataFrame | None = None
        if not cache.many:  # one report: this department's standing only
            table = compare.indicator_standing(result, department, framework=framework)
        else:
            if cache.standing is None:
                cache.standing = standing_all(result, framework)
            table = cache.standing.get(department)
    except EgovError as exc:
        return Section(missing=str(exc))
    if table is None:
        return Section(missing=f"department '{department}' has no score in this run")
    units = result.units
    mine = [str(u) for u in units.index[units["department"].astype(str) == department]]
    names = object_names(session, cache)
    objects: dict[str, list[tuple[dict[str, str], float]]] = {}
    codes = [str(c) for c in table["indicator"]]
    own = result.denominated.reindex(index=mine, columns=codes).to_numpy(dtype=float)
    shown = [names.get(o, {}) or {"en": o} for o in mine]
    for j, code in enumerate(codes):
        keep = np.flatnonzero(~np.isnan(own[:, j]))
        # largest first, ties as `Series.sort_values(ascending=False)` orders them
        order = keep[::-1][own[keep[::-1], j].argsort(kind="quicksort")][::-1]
        objects[code] = [(shown[i], float(own[i, j])) for i in order]
    return Section(table=table, extra={"objects": objects})


def strengths(
    result: EvaluationResult, department: str, framework: Framework, standing: Section | None = None
) -> Section:
    """The strengths and weaknesses (`compare.strengths_weaknesses`), from the `indicators`
    section's standing table when given."""
    known = standing.table if standing is not None and not standing.missing else None
    try:
        table = compare.strengths_weaknesses(result, department, n=TOP_N, framework=framework, standing=known)
    except EgovError as exc:
        return Section(missing=str(exc))
    return Section(table=table)


def priorities(
    result: EvaluationResult, department: str, framework: Framework, cache: ReportCache | None = None
) -> Section:
    """The department's improvement priorities with a positive gain (the first `TOP_N`),
    from every department's priorities computed once when the cache serves many reports."""
    cache = ReportCache() if cache is None else cache
    if not cache.many:  # one report: this department's priorities only (kept out of the cache)
        try:
            table = compare.priorities(result, department, "median", framework=framework, within="peers")
        except EgovError as exc:
            return Section(missing=str(exc))
    else:
        if cache.priorities is None:
            try:
                cache.priorities = priorities_all(result, "median", framework=framework, within="peers")
            except EgovError as exc:
                cache.priorities = str(exc)
        if isinstance(cache.priorities, str):
            return Section(missing=cache.priorities)
        found = cache.priorities.get(department)
        if found is None:
            return Section(missing=f"department '{department}' has no score in this run")
        table = found
    if not table.empty:
        table = table[table["gain"] > 0]
    return Section(table=table.head(TOP_N))


def swapped_result(
    session: Session, data_run: EvaluationRun, method_run: EvaluationRun
) -> EvaluationResult | None:
    """The data of one run evaluated with the framework and spec of another (for the
    data/method split of a change); None when that cannot be done."""
    try:
        data = load_inputs(session, data_run)
        method = load_inputs(session, method_run)
        return evaluate(data.data, method.framework, method.spec, units=data.units, history=data.history)
    except EgovError:
        return None


def _previous_run(session: Session, run: EvaluationRun, cache: ReportCache) -> tuple[str, str] | None:
    """(run key, period code) of the previous run of the same framework, looked up once: a
    published one once the database has assessment cycles (egov.cycle.previous_published_run)."""
    if not cache.previous_looked_up:
        found = previous_published_run(session, run)
        found_period = session.get(Period, found.period_id) if found is not None else None
        cache.previous_run = (found.run_key, found_period.code if found_period else "") if found else None
        cache.previous_looked_up = True
    return cache.previous_run


def change(
    session: Session, run: EvaluationRun, result: EvaluationResult, department: str, cache: ReportCache
) -> Section:
    """The change since the previous run, on one scale (`compare.comparable_change`: both runs
    re-scored on the framework's common scale): score and rank per node, and why. When the
    two runs have no common scale (another framework or spec, or the comparison failed) the
    table holds the runs' own scores and `extra["comparable"]` is False, so the page labels
    it as not a performance change."""
    found = _previous_run(session, run, cache)
    if found is None:
        return Section(missing="dr.no_previous")
    prev_key, prev_code = found
    sec = Section(extra={"previous_run": prev_key, "previous_period": prev_code})
    prev = get_run(session, prev_key)
    try:
        if cache.previous is None:
            cache.previous = load_result(session, prev, verify=False)
        previous = cache.previous
    except EgovError as exc:
        sec.missing = str(exc)
        return sec
    why_missing = _compute_change(session, run, prev, previous, result, cache)
    scaled = cache.scaled or (previous, result)
    sec.table = _change_table(*scaled, department)
    sec.extra["comparable"] = cache.scaled is not None
    sec.extra["scale"] = cache.change.scale if cache.change is not None else ""
    if why_missing:
        sec.extra["why_missing"] = why_missing
        return sec
    _explain_change(cache, department, sec)
    return sec


def _change_table(previous: EvaluationResult, result: EvaluationResult, department: str) -> pd.DataFrame:
    """Score and rank per node, from the two results (always available)."""
    nodes = [result.index_code, *map(str, result.weights.get(result.index_code, pd.Series()).index)]
    s0, r0 = previous.department_scores, previous.department_ranks
    s1, r1 = result.department_scores, result.department_ranks
    assert s0 is not None and r0 is not None and s1 is not None and r1 is not None
    rows = []
    for node in nodes:

        def get(df: pd.DataFrame, node: str = node) -> float:
            return num(df.at[department, node]) if node in df and department in df.index else float("nan")

        rows.append(
            {
                "node": str(node),
                "score_previous": get(s0),
                "score_current": get(s1),
                "change": get(s1) - get(s0),
                "rank_previous": get(r0),
                "rank_current": get(r1),
            }
        )
    return pd.DataFrame(rows).set_index("node")


def _compute_change(
    session: Session,
    run: EvaluationRun,
    prev: EvaluationRun,
    previous: EvaluationResult,
    result: EvaluationResult,
    cache: ReportCache,
) -> str:
    """`compare.comparable_change` of the two runs, once per run, into `cache.change` and
    (when they share a scale) `cache.scaled`; returns why it failed, or ""."""
    if cache.change is not None:
        return ""
    swapped: dict[str, EvaluationResult | None] = {}
    if previous.framework_hash != result.framework_hash or previous.spec != result.spec:
        swapped = {
            "current_data_previous_method": swapped_result(session, run, prev),
            "previous_data_current_method": swapped_result(session, prev, run),
        }
    assert cache.framework is not None
    try:
        cache.change, common = compare.comparable_change(previous, result, cache.framework, **swapped)
    except EgovError as exc:
        return str(exc)
    if common is not None:
        cache.scaled = (common.results[0], common.results[1])
    return ""


def _explain_change(cache: ReportCache, department: str, sec: Section) -> None:
    """Why the score changed (the change of `_compute_change`): the summary, the largest
    indicator contributions and the notes, into `sec.extra`."""
    ch = cache.change
    assert ch is not None
    summary = ch.summary[ch.summary["department"] == department]
    sec.extra["summary"] = summary.iloc[0].to_dict() if len(summary) else {}
    contrib = ch.contributions[ch.contributions["department"] == department].copy()
    contrib["size"] = contrib["contribution"].abs()
    sec.extra["contributions"] = (
        contrib.sort_values("size", ascending=False, kind="mergesort").head(TOP_N).drop(columns="size")
    )
    sec.extra["method_changed"] = bool(ch.method_changed)
    sec.notes = list(ch.notes)


def ratings(session: Session, period: Period, department_id: int, cache: ReportCache) -> Section:
    """Rating measures of the department's application objects for the period (roll-ups),
    with the minimum-count rule of the rating API (EGOV_MIN_RATINGS)."""
    min_n = get_settings().min_ratings
    apps = [o for o in objects_of(session, department_id, cache) if o.kind == "application"]
    objects = {o.code: o.names for o in apps}
    if cache.measures is None:
        cache.measures, _notes = rating_measures(session, period.start, period.end, min_ratings=min_n)
    measures = cache.measures
    mine = measures[measures.index.isin(list(objects))].sort_index()
    # the ratings of the service items it owns, through whatever object (One Account included)
    owner = session.get(Department, department_id)
    code = owner.code if owner is not None else ""
    if cache.services is None:  # every department's at once (the same rows, one query)
        cache.services = service_ratings(session, period.start, period.end, by="channel", min_ratings=min_n)
    services = cache.services[cache.services["department"] == code].reset_index(drop=True)
    names = None
    if not services.empty:
        if cache.services_catalogue is None:
            cache.services_catalogue = catalogue(session)
        known = cache.services_catalogue
        names = known[known["department"] == code][["name_zh", "name_pt", "name_en"]]
    extra = {"min_ratings": min_n, "objects": objects, "services": services, "service_names": names}
    return Section(table=mine, extra=extra)


def open_cases(session: Session, department: Department, cache: ReportCache | None = None) -> Section:
    """The department's bad-rating cases that are not closed or removed."""
    cache = ReportCache() if cache is None else cache
    rows = [
        c for c in department_cases(session, department.id, limit=10_000) if c["state"] in OPEN_CASE_STATES
    ]
    names = {o.code: o.names for o in objects_of(session, int(department.id or 0), cache)}
    try:
        drivers = {str(k): dict(v) for k, v in questions().get("drivers", {}).items()}
    except Exception:  # the question file is optional for the report: codes are shown instead
        drivers = {}
    return Section(
        table=pd.DataFrame(rows), extra={"objects": names, "today": date.today(), "drivers": drivers}
    )


def context_figures(
    session: Session, department_id: int, cache: ReportCache | None = None
) -> list[tuple[dict[str, str], dict[str, Any]]]:
    """The context figures (published, not scored) of the department's objects, by object code
    and in the register's order."""
    objects = objects_of(session, department_id, ReportCache() if cache is None else cache)
    return [(o.names, dict(figure)) for o in objects for figure in o.context]


def run_intervals(
    session: Session, run: EvaluationRun, result: EvaluationResult, cache: ReportCache
) -> pd.DataFrame | None:
    """The run's ranking intervals (`reports.intervals.ranking_intervals`), computed once per
    cache: the department reports of a run and its ranking page share them. None when the
    simulation cannot run (`cache.intervals_error` says why)."""
    if cache.intervals_error is None:
        try:
            cache.intervals = ranking_intervals(load_inputs(session, run), result)
            cache.intervals_error = ""
        except EgovError as exc:
            cache.intervals, cache.intervals_error = None, str(exc)
    return cache.intervals


def overall_ranking(
    result: EvaluationResult, index_code: str, intervals: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Every department's overall rank and score (the engine's) with the intervals of
    `intervals` when given, index = department code."""
    if result.department_scores is None or result.department_ranks is None:
        return pd.DataFrame(columns=["rank", "score"])
    out = pd.DataFrame(
        {"rank": result.department_ranks[index_code], "score": result.department_scores[index_code]}
    ).rename(index=str)
    if intervals is not None:
        for column in INTERVAL_COLUMNS:
            if column in intervals.columns:
                out[column] = intervals[column].reindex(out.index)
    return out


def department_report(
    session: Session,
    run: EvaluationRun,
    department: str,
    result: EvaluationResult | None = None,
    cache: ReportCache | None = None,
) -> DepartmentReport:
    """Assemble the department report of a stored run. `result`: the run's recomputed
    result, when the caller has it already; `cache`: what the reports of one run share (the
    previous run's result, the change, the rating measures)."""
    cache = ReportCache() if cache is None else cache

    dept = session.execute(select(Department).where(col(Department.code) == department)).scalar()
    if dept is None:
        raise EgovError(f"unknown department '{department}'")
    period = session.get(Period, run.period_id)
    fw_row = session.get(FrameworkVersion, run.framework_id)
    if period is None or fw_row is None:
        raise EgovError(f"run {run.run_key}: its framework or period is missing from the database")
    if result is None:
        result = load_result(session, run, verify=False)
    if result.department_scores is None or department not in result.department_scores.index:
        raise EgovError(f"department '{department}' has no score in run {run.run_key}")
    if cache.framework is None:
        cache.framework = parse_framework(
            fw_row.toml_text, origin=f"framework {fw_row.code} {fw_row.version}"
        )
    framework = cache.framework
    nodes = [framework.index_code, *[c.code for c in framework.categories]]
    if cache.groups is None:
        cache.groups = department_groups(result)
    group, _members = peer_members(result, department, cache.groups)
    group_names: dict[str, str] = {}
    if group:
        pg = session.execute(select(PeerGroup).where(col(PeerGroup.code) == group)).scalar()
        if pg is not None:
            group_names = names_of(pg)
    standing = indicators(session, result, department, framework, cache)
    return DepartmentReport(
        run_key=run.run_key,
        period=period.code,
        framework_code=fw_row.code,
        framework_version=fw_row.version,
        framework=framework,
        department=department,
        names=names_of(dept),
        peer_group=group,
        peer_group_names=group_names,
        illustrative=DEMO_NOTICE in (run.note or ""),
        standing=standing_table(result, department, nodes, cache.groups),
        indicators=standing,
        strengths=strengths(result, department, framework, standing),
        priorities=priorities(result, department, framework, cache),
        change=change(session, run, result, department, cache),
        ratings=ratings(session, period, int(dept.id or 0), cache),
        cases=open_cases(session, dept, cache),
        all_names=all_names(session, cache),
        flags=run_flags_of(session, run, department, cache),
        ranking=overall_ranking(result, framework.index_code, run_intervals(session, run, result, cache)),
        intervals_error=cache.intervals_error or "",
        context=context_figures(session, int(dept.id or 0), cache),
    )
