"""What the analysis commands evaluate, loaded from the database: the stored period scored
(`egov score`), a stored run recomputed for the horizontal comparison (`egov rank`,
`compare`, `gaps`, `priorities`), two runs and the split of their change (`egov change`),
the inputs of the Monte Carlo (`egov uncertainty`), the rating statistics and the
bad-rating case metrics of a period (`egov ratings compare`, `egov cases metrics`).

Each function is the one library call of its command: it reads what the command needs in
the caller's session and returns plain objects; the command prints or writes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlmodel import Session

from egov.cycle import refuse_published
from egov.errors import EgovError
from egov.models import EvaluationRun, FrameworkVersion, Period
from egov.record import RunInputs, load_inputs, load_result
from egov.scoring import PeriodInputs, ScoreOutcome, period_inputs, score_period
from egov.settings import get_settings
from egov.store import (
    add_metric_values,
    department_names,
    get_period,
    get_run,
    has_demo_values,
    latest_framework,
    previous_run,
    store_framework,
)
from evaluation.compare import Change
from evaluation.engine import EvaluationResult, evaluate
from evaluation.spec import EvaluationSpec
from evaluation.trend import comparable_change
from indicators.framework import Framework, builtin_path, resolve_framework
from surveys.cases import case_metrics, management_indicator_values
from surveys.stats import RatingComparison, compare_ratings
from surveys.uncertainty import indicator_draws, posterior_draws, rating_counts


# --- egov score ------------------------------------------------------------------------------
@dataclass
class ScoredPeriod:
    outcome: ScoreOutcome
    framework: Framework
    names: pd.DataFrame  # department names (index department; zh-Hant, pt, en)


def framework_for_scoring(session: Session, ref: str | None) -> tuple[FrameworkVersion, Framework]:
    """--framework FILE|name stored (once per content hash), else the latest stored framework."""
    if not ref:
        return latest_framework(session)
    framework = resolve_framework(ref)
    path = Path(ref) if Path(ref).exists() else None
    text = (path or builtin_path(ref)).read_text(encoding="utf-8")
    return store_framework(session, framework, text), framework


def score_stored_period(
    session: Session, period: str, framework: str | None, spec: EvaluationSpec | None
) -> ScoredPeriod:
    """Score a stored period on a framework (see `framework_for_scoring`) and store the run."""
    fw_row, fw = framework_for_scoring(session, framework)
    outcome = score_period(session, fw_row, fw, get_period(session, period), spec)
    return ScoredPeriod(outcome, fw, department_names(session))


# --- egov rank, compare, gaps, priorities -----------------------------------------------------
@dataclass
class StoredRun:
    """A stored run recomputed (and checked against its results hash) with its framework and
    the department names."""

    run: EvaluationRun
    result: EvaluationResult
    framework: Framework
    names: pd.DataFrame


def load_stored_run(session: Session, key: str | None) -> StoredRun:
    """The run `key` (default: the latest run) recomputed from its stored inputs."""
    run = get_run(session, key)
    result = load_result(session, run)
    framework = load_inputs(session, run).framework
    return StoredRun(run, result, framework, department_names(session))


# --- egov change -------------------------------------------------------------------------------
@dataclass
class RunPair:
    """The two runs of `egov change`, recomputed, with their inputs and the department names."""

    from_run: EvaluationRun
    to_run: EvaluationRun
    previous: EvaluationResult
    current: EvaluationResult
    previous_inputs: RunInputs
    current_inputs: RunInputs
    names: pd.DataFrame


def run_compared_with(session: Session, run: EvaluationRun) -> EvaluationRun:
    """The run `run` is compared with (egov.store.previous_run); an error saying why when
    there is none."""
    found = previous_run(session, run)
    fw_row = session.get(FrameworkVersion, run.framework_id)
    period = session.get(Period, run.period_id)
    if fw_row is None or period is None:
        raise EgovError(f"run {run.run_key}: its framework or period is missing from the database")
    if found is None:
        raise EgovError(
            f"run {run.run_key} (period {period.code}, framework {fw_row.code}) has no run of the same "
            "framework for an earlier period; give --from RUN"
        )
    return found


def load_run_pair(session: Session, start: str | None, end: str | None) -> RunPair:
    """Run `end` (default: the latest) and run `start` (default: `run_compared_with` it),
    both recomputed from their stored inputs."""
    to_run = get_run(session, end)
    from_run = get_run(session, start) if start else run_compared_with(session, to_run)
    previous, current = load_result(session, from_run), load_result(session, to_run)
    previous_inputs, current_inputs = load_inputs(session, from_run), load_inputs(session, to_run)
    names = department_names(session)
    return RunPair(from_run, to_run, previous, current, previous_inputs, current_inputs, names)


def evaluate_swapped(data_of: RunInputs, method_of: RunInputs) -> tuple[EvaluationResult | None, list[str]]:
    """Evaluate one run's data with another run's framework and spec: (result, notes); the
    result is None, and a note says why, when that is impossible."""
    try:
        result = evaluate(
            data_of.data, method_of.framework, method_of.spec, units=data_of.units, history=data_of.history
        )
    except EgovError as exc:
        return None, [f"cannot evaluate run {data_of.run.run_key}'s data with the other method: {exc}"]
    return result, []


def decompose_change(pair: RunPair) -> tuple[Change, list[str]]:
    """The change between the two runs on one scale (evaluation.trend.comparable_change: both
    runs re-scored on the framework's common scale); when the framework or the spec changed,
    labelled not comparable, with the swapped evaluations that split it into data and method
    effects. Also the notes of swapped evaluations that were impossible."""
    prev, cur = pair.previous, pair.current
    swapped: dict[str, EvaluationResult | None] = {}
    notes: list[str] = []
    if prev.framework_hash != cur.framework_hash or prev.spec != cur.spec:
        cur_prev, cur_notes = evaluate_swapped(pair.current_inputs, pair.previous_inputs)
        prev_cur, prev_notes = evaluate_swapped(pair.previous_inputs, pair.current_inputs)
        swapped = {"current_data_previous_method": cur_prev, "previous_data_current_method": prev_cur}
        notes = cur_notes + prev_notes
    ch, _ = comparable_change(prev, cur, pair.current_inputs.framework, **swapped)
    return ch, notes


# --- egov uncertainty ----------------------------------------------------------------------------
@dataclass
class UncertaintyInputs:
    """What the Monte Carlo of `egov uncertainty` runs on."""

    run_key: str | None  # the stored run; None: the period's stored data on the latest framework
    period: Period
    framework: Framework
    spec: EvaluationSpec | None  # None: the framework's methods
    data: pd.DataFrame
    units: pd.DataFrame
    history: list[pd.DataFrame]
    rating_draws: pd.DataFrame | None  # posterior draws of the rating-derived indicators
    demo: bool  # the period holds demo values
    names: pd.DataFrame


def _period_or_run(
    session: Session, run: str | None, period: str | None
) -> tuple[str | None, Period, Framework, EvaluationSpec | None, PeriodInputs]:
    """(run key or None, period, framework, spec, inputs) of a period's stored data on the latest
    framework (`period` given), else of the stored run `run` (default: the latest run)."""
    if period:
        per = get_period(session, period)
        _, fw = latest_framework(session)
        inputs = period_inputs(session, fw, per)
        if inputs.data.empty:
            raise EgovError(f"period {per.code} has no metric values or ratings")
        return None, per, fw, None, inputs
    stored = load_inputs(session, get_run(session, run))
    inputs = PeriodInputs(stored.data, stored.units, stored.history, [])
    return stored.run.run_key, stored.period, stored.framework, stored.spec, inputs


def uncertainty_inputs(
    session: Session, run: str | None, period: str | None, *, n: int, seed: int, rating_draws: bool
) -> UncertaintyInputs:
    """The inputs of a period's stored data on the latest framework (`period` given), else of
    a stored run (`run`, default the latest), and — with `rating_draws` — `n` posterior draws
    (seeded) of the rating-derived indicators from the period's roll-ups."""
    run_key, per, fw, spec, inputs = _period_or_run(session, run, period)
    draws = None
    if rating_draws and any(node.source == "rating" for node in fw.indicators):
        counts = rating_counts(session, per.start, per.end)
        if not counts.empty:
            draws = indicator_draws(
                fw, posterior_draws(counts, n, seed=seed, min_ratings=get_settings().min_ratings)
            )
    return UncertaintyInputs(
        run_key,
        per,
        fw,
        spec,
        inputs.data,
        inputs.units,
        inputs.history,
        draws,
        has_demo_values(session, per),
        department_names(session),
    )


# --- egov ratings compare, egov cases metrics ------------------------------------------------
def compare_period_ratings(
    session: Session, period: str | None, by: str, pairwise: str, min_ratings: int
) -> RatingComparison:
    """surveys.stats.compare_ratings over the days of a stored period (None: every rating)."""
    start = end = None
    if period:
        p = get_period(session, period)
        start, end = p.start, p.end
    return compare_ratings(session, start, end, by, pairwise, min_ratings)


def period_case_metrics(session: Session, period: str, by: str, store: bool) -> tuple[pd.DataFrame, int]:
    """Bad-rating case metrics of the cases opened in a stored period, by department or
    object; with `store`, also stored as the management indicators' metric values.
    Returns (metrics, number of values stored)."""
    p = get_period(session, period)
    df = case_metrics(session, p.start, p.end, by)
    stored = 0
    if store:
        refuse_published(session, p.id)
        values = management_indicator_values(session, p.start, p.end)
        stored = add_metric_values(session, p, values, source_file=f"ratings:cases {period}")
    return df, stored
