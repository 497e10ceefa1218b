"""The sample audit (issue 16, point 3): a seeded random sample of a period's submitted values
drawn for checking against their evidence, each check's outcome recorded, and the summary.

The draw (`ALGORITHM`): the population is the period's current values with status `submitted`
ordered by their id; `numpy.random.default_rng(seed).choice(len(population), size=min(n, len),
replace=False)` picks their positions, kept in draw order. The same database state, n and seed
give the same sample on any machine (NumPy's PCG64 generator and `choice` are stable for a
given seed). The sample is stored (`audit_sample`, `audit_item`), so later changes of the
values do not change it. Outcomes: confirmed (the evidence supports the value), corrected (the
value was wrong; the assessor adjusts it, `egov values adjust`), not_checkable (no evidence
that could confirm it). The summary's rate is the share corrected of the values checked.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import insert
from sqlmodel import Session, col, select

from egov.auth import audit
from egov.cycle import Actor, refuse_published
from egov.errors import EgovError
from egov.models import AssessedObject, MetricValue, utcnow
from egov.models_values import AuditItem, AuditSample
from egov.values import UNVERIFIED, get_period

ALGORITHM = "numpy.random.default_rng(seed).choice(N, size=n, replace=False) over submitted values by id"
OUTCOMES = ("confirmed", "corrected", "not_checkable")
MAX_SAMPLE = 10_000


@dataclass(frozen=True)
class SampleItem:
    """One value of a sample as shown."""

    item_id: int
    position: int
    value_id: int
    object: str
    indicator: str
    value: float | None
    outcome: str
    note: str


@dataclass(frozen=True)
class SampleSummary:
    """A sample with its items and the counts of its outcomes."""

    sample: AuditSample
    items: list[SampleItem]
    confirmed: int
    corrected: int
    not_checkable: int
    pending: int

    @property
    def checked(self) -> int:
        return self.confirmed + self.corrected + self.not_checkable

    @property
    def correction_rate(self) -> float | None:
        """The share corrected of the values checked (None before any check)."""
        checkable = self.confirmed + self.corrected
        return self.corrected / checkable if checkable else None


def draw_positions(population: int, n: int, seed: int) -> list[int]:
    """The positions drawn (ALGORITHM), in draw order."""
    size = min(n, population)
    return [int(i) for i in np.random.default_rng(seed).choice(population, size=size, replace=False)]


def draw_sample(session: Session, period: str, n: int, seed: int, actor: Actor) -> AuditSample:
    """Draw and store a sample of `n` submitted values of `period` (the assessor's)."""
    if actor.role != "assessor":
        raise EgovError(f"a sample audit is the assessor's to do, not the {actor.role}'s")
    if not 1 <= n <= MAX_SAMPLE:
        raise EgovError(f"the sample size is 1 to {MAX_SAMPLE}, not {n}")
    if seed < 0:
        raise EgovError("the seed is a whole number ≥ 0")
    period_row = get_period(session, period)
    refuse_published(session, period_row.id)
    ids = list(
        session.execute(
            select(col(MetricValue.id))
            .where(
                col(MetricValue.period_id) == period_row.id,
                col(MetricValue.superseded_at).is_(None),
                col(MetricValue.status).in_(UNVERIFIED),
            )
            .order_by(col(MetricValue.id))
        ).scalars()
    )
    if not ids:
        raise EgovError(f"period {period} has no submitted values to sample")
    sample = AuditSample(
        period_id=int(period_row.id or 0),
        n=n,
        seed=seed,
        population=len(ids),
        algorithm=ALGORITHM,
        drawn_by=actor.name[:100],
    )
    session.add(sample)
    session.flush()
    picked = [ids[i] for i in draw_positions(len(ids), n, seed)]
    session.execute(
        insert(AuditItem),
        [{"sample_id": sample.id, "position": k + 1, "value_id": v} for k, v in enumerate(picked)],
    )
    audit(
        session,
        actor.name,
        "audit.sample",
        "period",
        period,
        f"sample={sample.id} n={n} seed={seed} of {len(ids)}",
    )
    return sample


def record_outcome(session: Session, item_id: int, outcome: str, note: str, actor: Actor) -> AuditItem:
    """Record the outcome of checking one sampled value (once; a second record is refused)."""
    if actor.role != "assessor":
        raise EgovError(f"recording a sample audit is the assessor's to do, not the {actor.role}'s")
    if outcome not in OUTCOMES:
        raise EgovError(f"outcome {outcome!r}: use one of {', '.join(OUTCOMES)}")
    item = session.get(AuditItem, item_id)
    if item is None:
        raise EgovError(f"no sampled value {item_id} (egov audit show PERIOD lists them)")
    if item.outcome:
        raise EgovError(f"sampled value {item_id} has its outcome already ({item.outcome})")
    item.outcome = outcome
    item.note = note.strip()[:2000]
    item.recorded_by = actor.name[:100]
    item.recorded_at = utcnow()
    session.add(item)
    session.flush()
    audit(
        session,
        actor.name,
        "audit.record",
        "audit_item",
        str(item_id),
        f"{outcome} value={item.value_id} note={item.note}",
    )
    return item


def samples(session: Session, period: str) -> list[SampleSummary]:
    """Every sample of a period, oldest first, with its items and counts."""
    period_row = get_period(session, period)
    rows = session.exec(
        select(AuditSample).where(col(AuditSample.period_id) == period_row.id).order_by(col(AuditSample.id))
    ).all()
    return [summary_of(session, s) for s in rows]


def summary_of(session: Session, sample: AuditSample) -> SampleSummary:
    """A sample with its items (in draw order) and the counts of its outcomes."""
    rows = session.execute(
        select(AuditItem, col(AssessedObject.code), col(MetricValue.indicator), col(MetricValue.value))
        .join(MetricValue, col(MetricValue.id) == col(AuditItem.value_id))
        .join(AssessedObject, col(AssessedObject.id) == col(MetricValue.object_id))
        .where(col(AuditItem.sample_id) == sample.id)
        .order_by(col(AuditItem.position))
    ).all()
    items = [
        SampleItem(int(i.id or 0), i.position, i.value_id, str(o), str(ind), v, i.outcome, i.note)
        for i, o, ind, v in rows
    ]
    count = {k: sum(1 for i in items if i.outcome == k) for k in OUTCOMES}
    pending = sum(1 for i in items if not i.outcome)
    return SampleSummary(
        sample, items, count["confirmed"], count["corrected"], count["not_checkable"], pending
    )
