"""The evaluation record: what a stored run was made from, and recomputing it.

A run stores its inputs (`run_input`: the long table of the period scored and of the
earlier periods used as history; `run_unit`: the unit attributes), the framework version
(its TOML and content hash) and the method spec. `load_inputs` gives them back;
`load_result` re-evaluates them with the pure engine and checks that the results hash
equals the stored one, so every number of a stored run can be reproduced and traced.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import insert
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from egov.errors import EgovError
from egov.models import EvaluationRun, FrameworkVersion, Period, RunInput, RunUnit
from egov.store import frame_hash
from evaluation.engine import EvaluationResult, evaluate
from evaluation.spec import EvaluationSpec
from indicators.framework import Framework, parse_framework

UNIT_FIELDS = ("kind", "subkind", "department", "peer_group")


@dataclass
class RunInputs:
    """Everything a run was computed from."""

    run: EvaluationRun
    period: Period
    framework: Framework
    spec: EvaluationSpec
    data: pd.DataFrame  # long: unit, indicator, value
    units: pd.DataFrame  # index unit; kind, subkind, department, peer_group
    history: list[pd.DataFrame]  # long tables of earlier periods, oldest first


def _none_if_nan(v: object) -> object:
    return None if v is None or (isinstance(v, float) and v != v) else v


def store_inputs(
    session: Session, run: EvaluationRun, data: pd.DataFrame, units: pd.DataFrame, history: list[pd.DataFrame]
) -> None:
    """Write a run's inputs (called once, when the run is stored)."""
    rows = []
    for part, frame in [("data", data), *((f"history:{i}", h) for i, h in enumerate(history))]:
        rows += [
            {"run_id": run.id, "part": part, "unit": str(u), "indicator": str(i), "value": _none_if_nan(v)}
            for u, i, v in frame[["unit", "indicator", "value"]].itertuples(index=False)
        ]
    if rows:
        session.execute(insert(RunInput), rows)
    unit_rows = [
        {"run_id": run.id, "unit": str(u), **{f: _none_if_nan(r.get(f)) for f in UNIT_FIELDS}}
        for u, r in units.iterrows()
    ]
    if unit_rows:
        session.execute(insert(RunUnit), unit_rows)
    session.flush()


def load_inputs(session: Session, run: EvaluationRun) -> RunInputs:
    """The inputs, framework and spec of a stored run."""
    fw_row = session.get(FrameworkVersion, run.framework_id)
    period = session.get(Period, run.period_id)
    if fw_row is None or period is None:
        raise EgovError(f"run {run.run_key}: its framework or period is missing from the database")
    framework = parse_framework(fw_row.toml_text, origin=f"framework {fw_row.code} {fw_row.version}")
    rows = session.execute(
        sa_select(col(RunInput.part), col(RunInput.unit), col(RunInput.indicator), col(RunInput.value))
        .where(col(RunInput.run_id) == run.id)
        .order_by(col(RunInput.id))
    ).all()
    if not rows:
        raise EgovError(f"run {run.run_key} has no stored inputs (it was made by an older version)")
    table = pd.DataFrame(rows, columns=["part", "unit", "indicator", "value"])
    data = table[table["part"] == "data"].drop(columns="part").reset_index(drop=True)
    parts = sorted((p for p in table["part"].unique() if p.startswith("history:")), key=lambda p: int(p[8:]))
    history = [table[table["part"] == p].drop(columns="part").reset_index(drop=True) for p in parts]
    unit_rows = session.execute(
        sa_select(
            col(RunUnit.unit),
            col(RunUnit.kind),
            col(RunUnit.subkind),
            col(RunUnit.department),
            col(RunUnit.peer_group),
        )
        .where(col(RunUnit.run_id) == run.id)
        .order_by(col(RunUnit.id))
    ).all()
    unit_table = pd.DataFrame(unit_rows, columns=["unit", *UNIT_FIELDS]).set_index("unit")
    spec = EvaluationSpec(**run.spec) if run.spec else EvaluationSpec()
    return RunInputs(run, period, framework, spec, data, unit_table, history)


def load_result(session: Session, run: EvaluationRun, verify: bool = True) -> EvaluationResult:
    """Recompute a stored run from its inputs; with `verify`, its results hash must match."""
    inputs = load_inputs(session, run)
    result = evaluate(inputs.data, inputs.framework, inputs.spec, units=inputs.units, history=inputs.history)
    if verify:
        if inputs.framework.content_hash != session.get(FrameworkVersion, run.framework_id).content_hash:  # type: ignore[union-attr]
            raise EgovError(f"run {run.run_key}: the stored framework no longer matches its content hash")
        got = frame_hash(result.long().reset_index(drop=True))
        if got != run.results_hash:
            raise EgovError(
                f"run {run.run_key}: recomputing gives results hash {got[:12]}, stored {run.results_hash[:12]}"
            )
    return result
