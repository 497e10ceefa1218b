"""The evaluation record: what a stored run was made from, and recomputing it.

A run stores its inputs (`run_input`: the long table of the period scored and of the
earlier periods used as history; `run_unit`: the unit attributes), the framework version
(its TOML and content hash) and the method spec. `load_inputs` gives them back;
`load_result` re-evaluates them with the pure engine and checks that the results hash
equals the stored one, so every number of a stored run can be reproduced and traced.
`diff_runs` says what differs between two stored runs. The self-contained run bundle
(export and verification without the database) is `egov.bundle`.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import insert
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from egov.errors import EgovError
from egov.models import EvaluationRun, FrameworkVersion, Period, RunInput, RunUnit
from egov.store import frame_hash, results_hash, run_scores
from evaluation.engine import EvaluationResult, evaluate, older_rankings
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
    """Recompute a stored run from its inputs; with `verify`, its results hash must match (for
    a run stored under an earlier ranking rule, `evaluation.engine.older_rankings`, its hash
    under that rule: the recomputed result keeps today's ranks)."""
    inputs = load_inputs(session, run)
    result = evaluate(inputs.data, inputs.framework, inputs.spec, units=inputs.units, history=inputs.history)
    if verify:
        if inputs.framework.content_hash != session.get(FrameworkVersion, run.framework_id).content_hash:  # type: ignore[union-attr]
            raise EgovError(f"run {run.run_key}: the stored framework no longer matches its content hash")
        got = results_hash(result)
        if got != run.results_hash and all(
            results_hash(r) != run.results_hash for _, r in older_rankings(result)
        ):
            raise EgovError(
                f"run {run.run_key}: recomputing gives results hash {got[:12]}, stored {run.results_hash[:12]}"
            )
    return result


def inputs_hash_of(data: pd.DataFrame, units: pd.DataFrame, history: list[pd.DataFrame]) -> str:
    """The inputs hash as `egov score` computes it (egov.scoring.score_period)."""
    return frame_hash(data, units, *history)


# --- comparing two runs ------------------------------------------------------------------------
@dataclass
class RunDiff:
    """What differs between two stored runs (a → b)."""

    a: EvaluationRun
    b: EvaluationRun
    identity: pd.DataFrame  # field, a, b, differs: period, framework, software, hashes, who/when
    framework_text: list[str]  # unified diff of the two framework files ([] when the same)
    spec: pd.DataFrame  # key (dotted), a, b — only keys whose value differs
    inputs: pd.DataFrame  # unit, department, indicator, change (added|removed|changed), a, b
    # department, node, level, score_a, score_b, score_change, rank_a, rank_b, rank_change
    results: pd.DataFrame
    notes: list[str] = field(default_factory=list)  # e.g. a run made before inputs were stored

    @property
    def same_results(self) -> bool:
        return self.a.results_hash == self.b.results_hash


def _flatten(d: Any, prefix: str = "") -> dict[str, Any]:
    """Nested spec tables → {"methods.normalisation.method": "zscore", …} (empty tables vanish)."""
    if isinstance(d, dict):
        out: dict[str, Any] = {}
        for k in sorted(d):
            out.update(_flatten(d[k], f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: d}


def _same(x: object, y: object) -> bool:
    nan_x = x is None or (isinstance(x, float) and x != x)
    nan_y = y is None or (isinstance(y, float) and y != y)
    return (nan_x and nan_y) or (not nan_x and not nan_y and x == y)


def _show(v: object) -> object:
    return None if v is None or (isinstance(v, float) and v != v) else v


def diff_runs(session: Session, a: EvaluationRun, b: EvaluationRun) -> RunDiff:
    """Everything that differs between runs `a` and `b`: identity (framework code, version and
    hash, period, software, hashes), the framework files line by line, the method spec key by
    key, the input values of the scored period (added, removed, changed, with unit and
    indicator) and the department scores and ranks at every node."""
    notes: list[str] = []
    pa, data_a, units_a = _inputs_or_empty(session, a, notes)
    pb, data_b, units_b = _inputs_or_empty(session, b, notes)
    fa = session.get(FrameworkVersion, a.framework_id)
    fb = session.get(FrameworkVersion, b.framework_id)
    assert fa is not None and fb is not None
    return RunDiff(
        a,
        b,
        _identity(a, b, fa, fb, pa, pb),
        _framework_text(a, b, fa, fb),
        _spec_diff(a.spec, b.spec),
        _input_changes(data_a, data_b, units_a, units_b),
        _result_changes(session, a, b),
        notes,
    )


def _inputs_or_empty(
    session: Session, run: EvaluationRun, notes: list[str]
) -> tuple[str, pd.DataFrame, pd.DataFrame]:
    """(period code, long data, units) — empty for a run made before inputs were stored."""
    try:
        got = load_inputs(session, run)
        return got.period.code, got.data, got.units
    except EgovError as exc:
        notes.append(f"{exc}; its input values cannot be compared")
        period = session.get(Period, run.period_id)
        empty = pd.DataFrame({"unit": [], "indicator": [], "value": []})
        return (period.code if period else "?"), empty, pd.DataFrame({"department": []})


def _identity(
    a: EvaluationRun, b: EvaluationRun, fa: FrameworkVersion, fb: FrameworkVersion, pa: str, pb: str
) -> pd.DataFrame:
    """field, a, b, differs: period, framework, software, hashes, who and when."""
    fields = [
        ("period", pa, pb),
        ("framework code", fa.code, fb.code),
        ("framework version", fa.version, fb.version),
        ("framework hash", fa.content_hash, fb.content_hash),
        ("software version", a.software_version, b.software_version),
        ("inputs hash", a.inputs_hash, b.inputs_hash),
        ("results hash", a.results_hash, b.results_hash),
        ("created at", a.created_at.isoformat(), b.created_at.isoformat()),
        ("created by", a.created_by, b.created_by),
    ]
    identity = pd.DataFrame(fields, columns=["field", "a", "b"])
    identity["differs"] = identity["a"] != identity["b"]
    return identity


def _framework_text(
    a: EvaluationRun, b: EvaluationRun, fa: FrameworkVersion, fb: FrameworkVersion
) -> list[str]:
    """Unified diff of the two framework files ([] when the same)."""
    if fa.content_hash == fb.content_hash and fa.toml_text == fb.toml_text:
        return []
    return list(
        difflib.unified_diff(
            fa.toml_text.splitlines(),
            fb.toml_text.splitlines(),
            f"framework {fa.code} {fa.version} (run {a.run_key})",
            f"framework {fb.code} {fb.version} (run {b.run_key})",
            lineterm="",
        )
    )


def _spec_diff(spec_a: Any, spec_b: Any) -> pd.DataFrame:
    """key (dotted), a, b — only the keys whose value differs."""
    sa, sb = _flatten(spec_a), _flatten(spec_b)
    spec_rows = [
        (k, sa.get(k), sb.get(k)) for k in sorted(set(sa) | set(sb)) if not _same(sa.get(k), sb.get(k))
    ]
    return pd.DataFrame(spec_rows, columns=["key", "a", "b"], dtype=object)


def _input_changes(
    data_a: pd.DataFrame, data_b: pd.DataFrame, units_a: pd.DataFrame, units_b: pd.DataFrame
) -> pd.DataFrame:
    """unit, department, indicator, change (added|removed|changed), a, b."""
    va = data_a.set_index(["unit", "indicator"])["value"]
    vb = data_b.set_index(["unit", "indicator"])["value"]
    keys = sorted(set(va.index) | set(vb.index))
    depts = {**units_a["department"].to_dict(), **units_b["department"].to_dict()}
    rows = []
    for key in keys:
        x = va.get(key) if key in va.index else None
        y = vb.get(key) if key in vb.index else None
        if key not in va.index:
            change = "added"
        elif key not in vb.index:
            change = "removed"
        elif _same(x, y):
            continue
        else:
            change = "changed"
        rows.append((key[0], depts.get(key[0]), key[1], change, _show(x), _show(y)))
    return pd.DataFrame(rows, columns=["unit", "department", "indicator", "change", "a", "b"])


def _result_changes(session: Session, a: EvaluationRun, b: EvaluationRun) -> pd.DataFrame:
    """The department scores and ranks that differ, at every node."""
    both = run_scores(session, a, "department").merge(
        run_scores(session, b, "department"), on=["entity", "node"], how="outer", suffixes=("_a", "_b")
    )
    both["level"] = both["level_a"].fillna(both["level_b"])
    both["score_change"] = both["score_b"] - both["score_a"]
    both["rank_change"] = both["rank_a"] - both["rank_b"]  # positive: moved up
    differs = ~(
        (both["score_a"] == both["score_b"])
        & ((both["rank_a"] == both["rank_b"]) | (both["rank_a"].isna() & both["rank_b"].isna()))
    )
    results = both[differs].rename(columns={"entity": "department"})
    results = results[
        [
            "department",
            "node",
            "level",
            "score_a",
            "score_b",
            "score_change",
            "rank_a",
            "rank_b",
            "rank_change",
        ]
    ].sort_values(
        ["level", "node", "rank_b", "department"], ascending=[False, True, True, True], kind="mergesort"
    )
    return results.reset_index(drop=True)
