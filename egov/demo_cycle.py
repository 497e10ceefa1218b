"""The built-in demo's assessment cycles (issue 16 point 8; ILLUSTRATIVE DATA): every demo
period goes through the cycle of docs/assessment.md with the library's own functions, acted by
the demo's keys (egov.demo_activity: the lead, the assessor, one key per department).

* The lead opens the period's cycle before the departments' values come in (`open_demo_cycle`).
* `run_demo_cycle`, once the period's values, ratings and cases are in: the assessor moves the
  cycle to verifying, draws a seeded sample audit of the submitted values and records its
  outcomes (most confirmed; two corrected, which the assessor adjusts with a reason, the
  original kept; one not checkable, which the assessor disputes, so the framework's rule shows),
  adjusts one more value, verifies the rest, fills the service checklists of the application
  services through the checklist workbook (`egov.checklists.import_checklists`, so
  `app_service_check` has data), scores the draft and opens the department review.
* For every period but the last, the review runs to its end: two departments object (one to a
  value, one to a result, each with an evidence reference), the assessor accepts the first
  (the value changed) and rejects the second with a reason, scores the final run, moves the
  cycle to final (`egov.review.finalise`, with the review record) and the lead publishes. The
  last period stays in department review, its deadline `review_days` Macau working days after
  the day the demo is built.

`clear_demo_cycles` removes what an earlier demo made of all this (its cycles with their
events, objections and review records; the sample audits, checklist answers, value decisions,
evidence and values its keys made), before the demo's runs and values go. Every text it writes
says it is illustrative.
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import delete, text
from sqlmodel import Session, col, select

from egov.checklist_book import COL, FIRST_ROW, NOT_APPLICABLE
from egov.checklists import checklist_template, import_checklists
from egov.cycle import Actor, advance, open_cycle, publish
from egov.demo_activity import DEMO_KEY_LABEL, Actors
from egov.evidence import Caller as EvidenceCaller
from egov.evidence import add_reference
from egov.models import (
    AssessedObject,
    AssessmentCycle,
    AuditLog,
    CycleEvent,
    Department,
    FrameworkVersion,
    MetricValue,
    Period,
)
from egov.models_checklists import ChecklistAnswer
from egov.models_objections import Objection, ReviewRecord
from egov.models_values import AuditItem, AuditSample, Evidence, EvidenceLink, ValueReview
from egov.objections import Caller, answer_objection, raise_objection
from egov.review import finalise
from egov.sample import draw_sample, record_outcome
from egov.scoring import ScoreOutcome, score_period
from egov.values import UNVERIFIED, review, verify_values
from indicators.framework import Framework

MARK = "(illustrative demo)"  # every text the demo's cycle writes carries it
REVIEW_DAYS = 10
SAMPLE_SIZE = 20
# the value objection (department, object, indicator) and the result objection (department,
# node): the first of each list whose department has the value or the result is used
VALUE_OBJECTIONS = (("DSF", "PROPERTY_TAX_ONLINE", "app_takeup"), ("DSF", "VEHICLE_TAX_ONLINE", "app_takeup"))
RESULT_OBJECTIONS = (("DSAT", "application"), ("IAM", "application"))


@dataclass
class DemoCycle:
    """What the cycle of one demo period needs: the period, whether its review runs to
    publication, the framework, the demo's keys, the objects' latent quality (0–1, by code)
    and the note of the demo's runs."""

    period: Period
    publish: bool
    framework_row: FrameworkVersion
    framework: Framework
    actors: Actors
    quality: pd.Series
    note: str
    seed: int
    counts: dict[str, int] = field(default_factory=dict)


def _lead(actors: Actors) -> Actor:
    return Actor.of_key(actors.lead)


def _assessor(actors: Actors) -> Actor:
    return Actor.of_key(actors.assessor)


def _department(actors: Actors, code: str) -> Caller:
    return next(Caller.of_key(p) for p in actors.departments.values() if p.department_code == code)


# --- clearing an earlier demo -------------------------------------------------------------------
def demo_actor_names(session: Session) -> list[str]:
    """The names the demo's keys act under (`Principal.actor`: `key N (role[:DEPT])`)."""
    rows = session.execute(
        text(
            "SELECT k.id, k.role, d.code FROM api_key k LEFT JOIN department d ON d.id = k.department_id "
            "WHERE k.label = :label"
        ),
        {"label": DEMO_KEY_LABEL},
    ).all()
    return [f"key {i} ({role}:{dept})" if dept else f"key {i} ({role})" for i, role, dept in rows]


def clear_demo_cycles(session: Session) -> None:
    """Delete what an earlier demo's keys did in its cycles: the cycles the demo's lead opened
    (their events, objections and review records), the sample audits, checklist answers, value
    decisions, evidence and values (adjustments, accepted objections) of the demo's keys, and
    their lines in the audit trail. A cycle someone else opened is left alone. Call it before
    the demo's keys, runs and values are removed (they reference one another)."""
    names = demo_actor_names(session)
    if not names:
        return
    cycles = select(AssessmentCycle.id).where(col(AssessmentCycle.opened_by).in_(names))
    session.execute(delete(ReviewRecord).where(col(ReviewRecord.cycle_id).in_(cycles)))
    session.execute(delete(Objection).where(col(Objection.cycle_id).in_(cycles)))
    # the demo's own cycles only: the history of any other cycle is never touched
    session.execute(delete(CycleEvent).where(col(CycleEvent.cycle_id).in_(cycles)))
    session.execute(delete(AssessmentCycle).where(col(AssessmentCycle.opened_by).in_(names)))
    samples = select(AuditSample.id).where(col(AuditSample.drawn_by).in_(names))
    session.execute(delete(AuditItem).where(col(AuditItem.sample_id).in_(samples)))
    session.execute(delete(AuditSample).where(col(AuditSample.drawn_by).in_(names)))
    session.execute(delete(ChecklistAnswer).where(col(ChecklistAnswer.answered_by).in_(names)))
    evidence = select(Evidence.id).where(col(Evidence.added_by).in_(names))
    session.execute(delete(EvidenceLink).where(col(EvidenceLink.evidence_id).in_(evidence)))
    session.execute(delete(Evidence).where(col(Evidence.added_by).in_(names)))
    made = select(MetricValue.id).where(col(MetricValue.imported_by).in_(names))
    session.execute(delete(ValueReview).where(col(ValueReview.new_value_id).in_(made)))
    session.execute(delete(ValueReview).where(col(ValueReview.actor).in_(names)))
    session.execute(delete(MetricValue).where(col(MetricValue.imported_by).in_(names)))
    session.execute(delete(AuditLog).where(col(AuditLog.actor).in_(names)))


# --- the cycle of one period ----------------------------------------------------------------------
def open_demo_cycle(session: Session, period: str, actors: Actors) -> AssessmentCycle:
    """The lead (SAFP, the government's lead body) opens the period's cycle: collecting."""
    reason = f"The lead opens the assessment of {period}; departments submit their values {MARK}"
    return open_cycle(session, period, _lead(actors), reason, review_days=REVIEW_DAYS)


def add_paper_evidence(
    session: Session, period: Period, figures: dict[tuple[str, str], str], actors: Actors
) -> int:
    """Each department attaches the paper's passage to the figures it took from the paper
    ({(object, indicator): where}); returns the pieces of evidence added."""
    added = 0
    for (obj, indicator), where in sorted(figures.items()):
        value, dept = _current(session, period, obj, indicator)
        if value is None or dept is None:
            continue
        caller = EvidenceCaller.of_key(
            next(p for p in actors.departments.values() if p.department_code == dept)
        )
        add_reference(session, [value], f"婁勝華、趙友〈澳門特區電子政務建設〉{where}", caller, note=MARK)
        added += 1
    return added


def _current(
    session: Session, period: Period, obj: str, indicator: str
) -> tuple[MetricValue | None, str | None]:
    row = session.exec(
        select(MetricValue, Department.code)
        .join(AssessedObject, col(AssessedObject.id) == col(MetricValue.object_id))
        .join(Department, col(Department.id) == col(AssessedObject.department_id))
        .where(
            col(MetricValue.period_id) == period.id,
            col(AssessedObject.code) == obj,
            col(MetricValue.indicator) == indicator,
            col(MetricValue.superseded_at).is_(None),
        )
    ).first()
    return (row[0], str(row[1])) if row else (None, None)


def run_demo_cycle(session: Session, c: DemoCycle) -> tuple[ScoreOutcome, ScoreOutcome | None]:
    """The period's cycle from collecting on (the module's docstring): (draft, final); the
    final is None for the period left in department review."""
    code = c.period.code
    assessor = _assessor(c.actors)
    rng = np.random.default_rng([c.seed, int(c.period.start.year)])
    advance(
        session, code, "verifying", assessor, f"All departments' values are in; verification starts {MARK}"
    )
    checked = _sample_audit(session, c, rng)
    _verify_rest(session, c, rng, checked)
    c.counts["checklist_answers"] = c.counts.get("checklist_answers", 0) + _service_checks(session, c, rng)
    draft = score_period(session, c.framework_row, c.framework, c.period, note=c.note)
    reason = f"Values verified, sample audit recorded, service checks in; the draft is scored {MARK}"
    advance(session, code, "draft", assessor, reason, run=draft.run.run_key)
    advance(session, code, "review", assessor, f"The draft goes to the departments for review {MARK}")
    if not c.publish:
        return draft, None
    _objections(session, c, draft, rng)
    final = score_period(session, c.framework_row, c.framework, c.period, note=c.note)
    reason = f"Both objections answered; the final run is scored after the accepted change {MARK}"
    finalise(session, code, assessor, reason, run=final.run.run_key)
    publish(session, code, _lead(c.actors), f"The lead approves the final results for publication {MARK}")
    return draft, final


# --- verification -----------------------------------------------------------------------------------
def _valid(c: DemoCycle, indicator: str) -> tuple[float, float]:
    node = next(n for n in c.framework.indicators if n.code == indicator)
    lo, hi = node.valid_range if node.valid_range is not None else (0.0, math.inf)
    return float(lo), float(hi)


def _corrected(c: DemoCycle, value: MetricValue, rng: np.random.Generator) -> float:
    """A plausible corrected figure: 5–15 % off the submitted one, inside the valid range."""
    old = float(value.value if value.value is not None else 0.0)
    lo, hi = _valid(c, value.indicator)
    step = max(abs(old), 1.0) * float(rng.uniform(0.05, 0.15))
    new = old + step if rng.random() < 0.5 else old - step
    if not lo <= new <= hi:
        new = old - step if new > hi else old + step
    new = min(max(new, lo), hi)
    return float(round(new)) if float(old).is_integer() and abs(old) >= 3 else round(new, 1)


def _adjust(session: Session, c: DemoCycle, value: MetricValue, rng: np.random.Generator, why: str) -> None:
    assessor = _assessor(c.actors)
    new = review(session, value, "adjust", assessor, why, new_value=_corrected(c, value, rng))
    paper = f"Assessor's working paper {c.period.code}/{value.id}: the recount behind the adjustment {MARK}"
    add_reference(session, [new], paper, EvidenceCaller.of_key(c.actors.assessor))
    c.counts["adjusted"] = c.counts.get("adjusted", 0) + 1


def _sample_audit(session: Session, c: DemoCycle, rng: np.random.Generator) -> set[int]:
    """A seeded sample of the submitted values, checked against their evidence: two corrected
    (and adjusted), one not checkable (and disputed), the others confirmed (and verified with
    the rest). The values corrected or disputed."""
    assessor = _assessor(c.actors)
    sample = draw_sample(session, c.period.code, SAMPLE_SIZE, c.seed, assessor)
    items = session.exec(
        select(AuditItem).where(col(AuditItem.sample_id) == sample.id).order_by(col(AuditItem.position))
    ).all()
    picks = [int(i) for i in rng.choice(len(items), size=min(3, len(items)), replace=False)]
    for k, item in enumerate(items):
        value = session.get(MetricValue, item.value_id)
        assert value is not None
        if k in picks[:2]:
            note = f"The department's monthly records give another figure than the one submitted {MARK}"
            record_outcome(session, int(item.id or 0), "corrected", note, assessor)
            _adjust(
                session,
                c,
                value,
                rng,
                f"Sample audit item {item.position}: corrected to the monthly records {MARK}",
            )
        elif k in picks[2:]:
            note = f"No record could confirm the figure; the department was asked to clarify {MARK}"
            record_outcome(session, int(item.id or 0), "not_checkable", note, assessor)
            review(
                session,
                value,
                "dispute",
                assessor,
                f"Sample audit: unconfirmed, pending the department's clarification {MARK}",
            )
        else:
            record_outcome(
                session, int(item.id or 0), "confirmed", f"Matches the evidence on file {MARK}", assessor
            )
    c.counts["audited"] = c.counts.get("audited", 0) + len(items)
    return {int(items[k].value_id) for k in picks}


def _verify_rest(session: Session, c: DemoCycle, rng: np.random.Generator, checked: set[int]) -> None:
    """One more value adjusted (a recount), every other submitted value verified."""
    values = [
        v
        for v in session.exec(
            select(MetricValue)
            .where(
                col(MetricValue.period_id) == c.period.id,
                col(MetricValue.superseded_at).is_(None),
                col(MetricValue.status).in_(UNVERIFIED),
            )
            .order_by(col(MetricValue.id))
        ).all()
        if v.id not in checked
    ]
    recount = int(rng.integers(len(values))) if values else -1
    if recount >= 0:
        why = f"Recounted from the department's source data: the figure included a pilot phase {MARK}"
        _adjust(session, c, values.pop(recount), rng, why)
    verified = verify_values(session, values, _assessor(c.actors))
    c.counts["verified"] = c.counts.get("verified", 0) + verified


# --- the service checks ------------------------------------------------------------------------------
def _answer(item: str, q: float, rng: np.random.Generator) -> str:
    """A seeded answer to a yes/no item of a service of quality q (0–1)."""
    if item in ("prefilled", "progress_tracking", "duration_shown") and rng.random() < 0.06:
        return NOT_APPLICABLE
    p = 0.97 if item == "found_online" else 0.2 + 0.75 * q
    return "yes" if rng.random() < p else "no"


def _service_checks(session: Session, c: DemoCycle, rng: np.random.Generator) -> int:
    """The assessor checks every application service and imports the filled checklist
    workbook (the answers follow the service's latent quality); the answers stored."""
    assessor = _assessor(c.actors)
    code = c.period.code
    book = checklist_template(session, c.framework, code, "en", assessor.name)
    sheet = next(ws for ws in book.worksheets if ws.cell(1, 1).value == "_checklist")
    for r in range(FIRST_ROW, sheet.max_row + 1):
        checklist = c.framework.checklists[str(sheet.cell(r, COL["_checklist"]).value)]
        obj, item_code = (str(sheet.cell(r, COL[k]).value) for k in ("_object", "_item"))
        item = checklist.item(item_code)
        q = float(c.quality.get(obj, 0.5))
        if item is not None and item.max is not None:
            answer: str | int = round(q * item.max)
        else:
            answer = _answer(item_code, q, rng)
        sheet.cell(r, COL["answer"]).value = answer
        if answer == "no":
            sheet.cell(r, COL["note"]).value = f"Not available when the service was used as a citizen {MARK}"
            sheet.cell(r, COL["evidence"]).value = f"screen recording {code}-{obj}-{item_code}.mp4 {MARK}"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"service-checks-{code}.xlsx"
        book.save(path)
        return import_checklists(session, path, code, c.framework, assessor).written


# --- the department review ----------------------------------------------------------------------------
def _objections(session: Session, c: DemoCycle, draft: ScoreOutcome, rng: np.random.Generator) -> None:
    """Two objections, one to a value and one to a result; the first accepted, the second rejected."""
    code = c.period.code
    dept, obj, indicator = next(
        (t for t in VALUE_OBJECTIONS if _current(session, c.period, t[1], t[2])[0] is not None),
        VALUE_OBJECTIONS[0],
    )
    scores = draft.result.department_scores
    scored = pd.DataFrame() if scores is None else scores.notna()
    rdept, node = next(
        (t for t in RESULT_OBJECTIONS if t[1] in scored.columns and bool(scored[t[1]].get(t[0], False))),
        RESULT_OBJECTIONS[0],
    )
    on_value = raise_objection(
        session,
        code,
        _department(c.actors, dept),
        f"The draft's take-up of {obj} counts only the transactions made in the app; those completed "
        f"on the web portal with the same account are missing {MARK}",
        object_code=obj,
        indicator=indicator,
        evidence=f"{dept}, e-service statistics {code}, table 2 {MARK}",
    )
    on_result = raise_objection(
        session,
        code,
        _department(c.actors, rdept),
        f"Our rank in the {node} category does not reflect the services we upgraded at the end of {code} {MARK}",
        node=node,
        aspect="rank",
        evidence=f"{rdept}, notice of the service upgrades, December {code} {MARK}",
    )
    assessor = Caller.of_key(c.actors.assessor)
    lo, hi = _valid(c, indicator)
    old = on_value.draft_value if on_value.draft_value is not None else (lo + min(hi, 100.0)) / 2
    new = round(min(max(old + float(rng.uniform(6, 12)), lo), hi), 1)
    why = f"Accepted: the portal transactions belong to the service's take-up; corrected from the statistics supplied {MARK}"
    answer_objection(session, on_value.id, assessor, True, why, value=new)
    why = (
        f"Rejected: the rank follows from the verified values under the framework's rules; services "
        f"changed after the values were collected count in the next period {MARK}"
    )
    answer_objection(session, on_result.id, assessor, False, why)
    c.counts["objections"] = c.counts.get("objections", 0) + 2
