"""`egov score`: assemble one long table (object, indicator, value) from stored metric
values and rating roll-ups, hand it to the pure engine and store the run. The metric values
follow the framework's `[assessment]` rule for unverified and disputed values (egov.values):
the values it leaves out are missing, and the values it flags or leaves out are stored with
the run (`run_value_flag`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from sqlmodel import Session, col, select

from egov.checklists import checklist_values
from egov.cycle import refuse_published
from egov.errors import EgovError
from egov.models import EvaluationRun, FrameworkVersion, Period
from egov.notices import DEMO_NOTICE
from egov.record import store_inputs
from egov.settings import get_settings
from egov.store import frame_hash, has_demo_values, store_run, units_table
from egov.values import FLAG_COLUMNS, scoring_values, store_flags
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
) -> tuple[pd.DataFrame, list[str], pd.DataFrame]:
    """The long input table of a period: metric values of metric-source indicators (under the
    framework's rule for unverified and disputed values) plus rating-derived values (from the
    roll-ups) of rating-source indicators, plus the values of checklist-source indicators from
    the assessor's answers (egov.checklists); the notes, and the metric values flagged or left
    out by the rule (egov.values.FLAG_COLUMNS)."""
    metrics, flags = scoring_values(session, framework, period)
    metric_codes = {n.code for n in framework.indicators if n.source == "metric"}
    metrics = metrics[metrics["indicator"].isin(metric_codes)]
    flags = flags[flags["indicator"].isin(metric_codes)].reset_index(drop=True)
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
    return data.reset_index(drop=True), notes, flags


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
    store_flags(session, int(run.id or 0), inputs.flags)
    notes += flag_notes(inputs.flags, period.code)
    return ScoreOutcome(run=run, result=result, notes=notes + result.notes(f" in period {period.code}"))


@dataclass
class PeriodInputs:
    """What a period is evaluated from (`egov score`, and `egov uncertainty --period`)."""

    data: pd.DataFrame  # long: unit, indicator, value (empty: nothing to evaluate)
    units: pd.DataFrame  # the registered units that have data in the period
    history: list[pd.DataFrame]  # long tables of the earlier periods, oldest first
    notes: list[str]
    # the period's metric values flagged or left out by the framework's rule (egov.values)
    flags: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=FLAG_COLUMNS))


def period_inputs(session: Session, framework: Framework, period: Period) -> PeriodInputs:
    """The long input table of a period, the registered units with data in it (a note names
    those without) and the earlier periods' tables as history; `data` is empty when the
    period has no metric values or ratings (the caller says so)."""
    data, notes, flags = assemble_inputs(session, framework, period)
    if data.empty:
        return PeriodInputs(data, units_table(session).iloc[0:0], [], notes, flags)
    units = units_table(session)
    with_data = units.index.isin(data["unit"].unique())
    if (~with_data).any():
        notes.append(
            f"{int((~with_data).sum())} registered object(s) have no data in period "
            f"{period.code} and are not scored: {', '.join(units.index[~with_data][:10])}"
        )
    history = [assemble_inputs(session, framework, p)[0] for p in earlier_periods(session, period)]
    return PeriodInputs(data, units[with_data], history, notes, flags)


def flag_notes(flags: pd.DataFrame, period: str) -> list[str]:
    """The notes of a run about the values its framework's rule flagged or left out."""
    notes = []
    for rule, what in (("flag", "used and flagged"), ("exclude", "left out as missing")):
        part = flags[flags["rule"] == rule]
        if not part.empty:
            counts = part["status"].value_counts().sort_index()
            by = ", ".join(f"{n} {status}" for status, n in counts.items())
            notes.append(
                f"{len(part)} metric value(s) of period {period} {what} under the framework's rule ({by})"
            )
    return notes
