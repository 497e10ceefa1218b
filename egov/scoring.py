"""`egov score`: assemble one long table (object, indicator, value) from stored metric
values and rating roll-ups, hand it to the pure engine and store the run."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlmodel import Session, col, select

from egov.checklists import checklist_values
from egov.cycle import refuse_published
from egov.errors import EgovError
from egov.models import EvaluationRun, FrameworkVersion, Period
from egov.record import store_inputs
from egov.settings import get_settings
from egov.store import DEMO_NOTICE, current_metrics, frame_hash, has_demo_values, store_run, units_table
from evaluation.engine import EvaluationResult, evaluate
from evaluation.spec import EvaluationSpec
from indicators.framework import Framework
from surveys.rollup import rating_measures


@dataclass
class ScoreOutcome:
    run: EvaluationRun
    result: EvaluationResult
    notes: list[str]


def assemble_inputs(
    session: Session, framework: Framework, period: Period, min_ratings: int | None = None
) -> tuple[pd.DataFrame, list[str]]:
    """The long input table of a period: metric values of metric-source indicators, plus
    rating-derived values (from the roll-ups) of rating-source indicators, plus the values of
    checklist-source indicators from the assessor's answers (egov.checklists)."""
    metrics = current_metrics(session, period)
    metric_codes = {n.code for n in framework.indicators if n.source == "metric"}
    metrics = metrics[metrics["indicator"].isin(metric_codes)]
    parts = [metrics]
    checked = checklist_values(session, framework, period)
    if not checked.empty:
        parts.append(checked)
    rating_nodes = [n for n in framework.indicators if n.source == "rating"]
    notes: list[str] = []
    if rating_nodes:
        threshold = get_settings().min_ratings if min_ratings is None else min_ratings
        measures, notes = rating_measures(session, period.start, period.end, min_ratings=threshold)
        for node in rating_nodes:
            assert node.measure is not None
            s = measures[node.measure].dropna()
            parts.append(pd.DataFrame({"unit": s.index, "indicator": node.code, "value": s.to_numpy()}))
    data = pd.concat(parts, ignore_index=True).sort_values(["unit", "indicator"], kind="mergesort")
    return data.reset_index(drop=True), notes


def earlier_periods(session: Session, period: Period) -> list[Period]:
    """Periods that end before `period` starts, oldest first (the history for
    previous-period imputation)."""
    stmt = select(Period).where(col(Period.end) < period.start).order_by(col(Period.start))
    return list(session.exec(stmt).all())


def score_period(
    session: Session,
    framework_row: FrameworkVersion,
    framework: Framework,
    period: Period,
    spec: EvaluationSpec | None = None,
    note: str = "",
) -> ScoreOutcome:
    """Evaluate a period on a stored framework and store the run (refused for a published
    period: its run is immutable, egov.cycle)."""
    refuse_published(session, period.id)
    inputs = period_inputs(session, framework, period)
    if inputs.data.empty:
        raise EgovError(f"period {period.code} has no metric values or ratings to score")
    notes = inputs.notes
    if has_demo_values(session, period):
        notes.insert(0, DEMO_NOTICE)
        note = note or DEMO_NOTICE
    result = evaluate(inputs.data, framework, spec, units=inputs.units, history=inputs.history)
    inputs_hash = frame_hash(inputs.data, inputs.units, *inputs.history)
    run = store_run(
        session, framework_row=framework_row, period=period, result=result, inputs_hash=inputs_hash, note=note
    )
    store_inputs(session, run, inputs.data, inputs.units, inputs.history)
    return ScoreOutcome(run=run, result=result, notes=notes + result.notes(f" in period {period.code}"))


@dataclass
class PeriodInputs:
    """What a period is evaluated from (`egov score`, and `egov uncertainty --period`)."""

    data: pd.DataFrame  # long: unit, indicator, value (empty: nothing to evaluate)
    units: pd.DataFrame  # the registered units that have data in the period
    history: list[pd.DataFrame]  # long tables of the earlier periods, oldest first
    notes: list[str]


def period_inputs(session: Session, framework: Framework, period: Period) -> PeriodInputs:
    """The long input table of a period, the registered units with data in it (a note names
    those without) and the earlier periods' tables as history; `data` is empty when the
    period has no metric values or ratings (the caller says so)."""
    data, notes = assemble_inputs(session, framework, period)
    if data.empty:
        return PeriodInputs(data, units_table(session).iloc[0:0], [], notes)
    units = units_table(session)
    with_data = units.index.isin(data["unit"].unique())
    if (~with_data).any():
        notes.append(
            f"{int((~with_data).sum())} registered object(s) have no data in period "
            f"{period.code} and are not scored: {', '.join(units.index[~with_data][:10])}"
        )
    history = [assemble_inputs(session, framework, p)[0] for p in earlier_periods(session, period)]
    return PeriodInputs(data, units[with_data], history, notes)
