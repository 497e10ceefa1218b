"""What the public site and the open-data package read: published runs only.

`published_run(session, period)` is the one door: the run its cycle names once the cycle is
`published`, and `NotPublished` (an EgovError) for a period that is unknown, has no cycle, or
whose cycle is in any other state, so that callers answer the same 404 for all of them and
never reveal that an unpublished period exists. `public_run` computes what the pages show of a
published run once per process (the recomputed result, verified against its results hash, and
the seeded Monte Carlo rank intervals of the assessor's report, `reports.intervals.
ranking_intervals`) and keeps it: a published run never changes, so the cache is never stale.
`objection_summary` reads the objection log from the review record of the run's cycle.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime

import pandas as pd
from sqlalchemy import inspect
from sqlmodel import Session, col, select

from egov.cycle import Event, all_cycles, find_cycle, history
from egov.errors import EgovError
from egov.models import AssessmentCycle, EvaluationRun, FrameworkVersion, Period
from egov.notices import DEMO_NOTICE
from egov.record import RunInputs, load_inputs, load_result
from egov.review import review_summary
from egov.store import department_names
from evaluation.engine import EvaluationResult
from indicators.framework import Framework
from reports.intervals import MC_N, MC_SEED, ranking_intervals

MAX_CACHED_RUNS = 8
# the table the objections of a department review are kept in (issue 16 point 5); until it
# exists the objection log of every published run is empty
OBJECTION_TABLE = "objection"


class NotPublished(EgovError):
    """The period is unknown, has no cycle, or is not published: the same answer for all."""


def file_safe(period: str) -> str:
    """A period code as part of a file name (letters, digits, `-` and `_`)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", period)


@dataclass(frozen=True)
class PublishedPeriod:
    """A published period as the index lists it."""

    period: str
    run_key: str
    published_at: datetime | None


@dataclass(frozen=True)
class PublicEvent:
    """A cycle event as the public sees it: the role that acted, never the person or key."""

    at: datetime
    role: str
    from_state: str
    to_state: str
    reason: str


@dataclass(frozen=True)
class ObjectionRow:
    """One line of the objection log's summary: the department, what was objected to (an
    indicator or a result node), the outcome (`accepted` or `rejected`) and the answer."""

    department: str
    subject: str
    outcome: str
    answer: str


@dataclass
class PublicRun:
    """A published run with what every public page and the package need (no personal data)."""

    run: EvaluationRun
    period: str
    period_start: date
    period_end: date
    framework: Framework
    framework_code: str
    framework_version: str
    framework_hash: str
    inputs: RunInputs
    result: EvaluationResult
    uncertainty: pd.DataFrame | None
    uncertainty_error: str
    mc_n: int = MC_N
    mc_seed: int = MC_SEED
    events: list[PublicEvent] = field(default_factory=list)

    @property
    def illustrative(self) -> bool:
        return DEMO_NOTICE in (self.run.note or "")

    @property
    def published_at(self) -> datetime | None:
        return next((e.at for e in reversed(self.events) if e.to_state == "published"), None)


_cache: OrderedDict[tuple[str, str], PublicRun] = OrderedDict()
_lock = threading.Lock()


def published_periods(session: Session) -> list[PublishedPeriod]:
    """Every published period, the latest first."""
    out = []
    for status in all_cycles(session):
        if status.state != "published" or status.run_key is None:
            continue
        cycle = find_cycle(session, status.period)
        at = None
        if cycle is not None:
            at = next((e.at for e in history(session, cycle) if e.to_state == "published"), None)
        out.append(PublishedPeriod(status.period, status.run_key, at))
    return out


def published_run(session: Session, period: str) -> EvaluationRun:
    """The published run of `period`; `NotPublished` for anything else (unknown period, no
    cycle, a cycle not yet published)."""
    cycle = find_cycle(session, period) if len(period) <= 20 else None
    if cycle is None or cycle.state != "published" or cycle.run_id is None:
        raise NotPublished(f"no published results for period '{period}'")
    run = session.get(EvaluationRun, cycle.run_id)
    if run is None:  # pragma: no cover - a foreign key
        raise NotPublished(f"no published results for period '{period}'")
    return run


def public_events(events: list[Event]) -> list[PublicEvent]:
    """The cycle's history without who acted (a key or an operator's name): role, when, why."""
    return [PublicEvent(e.at, e.role, e.from_state, e.to_state, e.reason) for e in events]


def public_run(session: Session, period: str) -> PublicRun:
    """The published run of `period` with its result and rank intervals, computed once per
    process (the last MAX_CACHED_RUNS); `NotPublished` as `published_run`."""
    run = published_run(session, period)
    key = (str(session.get_bind().engine.url), run.run_key)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    value = _compute(session, run, period)
    with _lock:
        _cache[key] = value
        while len(_cache) > MAX_CACHED_RUNS:
            _cache.popitem(last=False)
    return value


def _compute(session: Session, run: EvaluationRun, period: str) -> PublicRun:
    inputs = load_inputs(session, run)
    result = load_result(session, run)  # verified: the published results hash holds
    fw_row = session.get(FrameworkVersion, run.framework_id)
    if fw_row is None:  # pragma: no cover - load_inputs checked it
        raise EgovError(f"run {run.run_key}: its framework is missing")
    summary: pd.DataFrame | None = None
    error = ""
    try:  # the same intervals as the assessor's report and the department reports
        summary = ranking_intervals(inputs, result)
    except EgovError as exc:
        error = str(exc)
    cycle = find_cycle(session, period)
    session.expunge(run)  # kept across requests: detached from this session
    return PublicRun(
        run=run,
        period=period,
        period_start=inputs.period.start,
        period_end=inputs.period.end,
        framework=inputs.framework,
        framework_code=fw_row.code,
        framework_version=fw_row.version,
        framework_hash=fw_row.content_hash,
        inputs=inputs,
        result=result,
        uncertainty=summary,
        uncertainty_error=error,
        mc_n=MC_N,
        events=public_events(history(session, cycle)) if cycle is not None else [],
    )


def forget_public_runs() -> None:
    """Empty the cache (tests)."""
    with _lock:
        _cache.clear()


def names_by_language(session: Session) -> dict[str, dict[str, str]]:
    """Every department's names: code → {lang: name} (the code when a name is empty)."""
    names = department_names(session)
    return {
        str(code): {lang: str(row[lang] or row["en"] or code) for lang in ("zh-Hant", "pt", "en")}
        for code, row in names.iterrows()
    }


def objection_summary(session: Session, run: EvaluationRun) -> list[ObjectionRow]:
    """The objection log of a published run as the public sees it (department, subject,
    outcome, answer; never who objected or answered, nor the department's own text), from the
    review record of the run's cycle (`egov.review.review_summary`); empty when no objection
    was raised."""
    if not inspect(session.get_bind()).has_table(OBJECTION_TABLE):
        return []
    cycle = session.exec(
        select(AssessmentCycle).where(
            col(AssessmentCycle.run_id) == run.id, col(AssessmentCycle.state) == "published"
        )
    ).first()
    period = session.get(Period, cycle.period_id) if cycle is not None else None
    if period is None:
        return []
    summary = review_summary(session, period.code)
    return [
        ObjectionRow(
            department=item.department,
            subject=item.what,
            outcome=item.state,
            answer=item.reason,
        )
        for item in summary.items
    ]
