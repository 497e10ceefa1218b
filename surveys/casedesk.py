"""What the case desk, the ledger (台賬) and the citizen's status page read of bad-rating
cases (issue 17, points 3 and 4): a department's cases with their timeliness (deadline first),
the desk's statistics, one case in full for its department, the ledger's rows, and the public
status of one rating by its receipt — with no personal data.

The receipt is the rating token's id (32 hex digits, returned by `POST /api/v1/ratings` and
shown by the widget): the status page finds the token by its primary key, then the rating by
(object, transaction), so the rating paths store nothing more. A purged rating (its token
deleted, surveys.privacy.purge_ratings) has no status any more.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from egov.auth import Principal
from egov.errors import ServiceError
from egov.models import AssessedObject, Department, Rating, RatingCase, RatingToken
from surveys.casework import NOT_DUE, ON_TIME, OVERDUE, PENDING, timeliness, visit_overdue
from surveys.privacy import scrub_comment
from surveys.schemas import BAD_LEVELS, OPEN_CASE_STATES

RECEIPT = re.compile(r"[0-9a-f]{32}")
DESK_LIMIT = 1000  # cases a desk page lists (deadline first); the statistics count them all


def _desk_query() -> Any:  # a Select of the case, its object, department and rating
    return (
        select(
            RatingCase,
            col(AssessedObject.code),
            col(AssessedObject.name_zh),
            col(AssessedObject.name_pt),
            col(AssessedObject.name_en),
            col(Department.code),
            col(Rating.level),
            col(Rating.drivers),
            col(Rating.comment),
            col(Rating.channel),
            col(Rating.transaction_ref),
        )
        .join(AssessedObject, col(AssessedObject.id) == col(RatingCase.object_id))
        .join(Department, col(Department.id) == col(RatingCase.department_id))
        .join(Rating, col(Rating.id) == col(RatingCase.rating_id))
    )


@dataclass
class DeskCase:
    """A case as the desk shows it (the comment scrubbed of identity numbers, phones, e-mails)."""

    case: RatingCase
    object_code: str
    object_names: dict[str, str]
    department: str
    level: int
    reasons: list[str]
    comment: str
    channel: str
    transaction_ref: str
    timeliness: str
    visit_overdue: bool

    @property
    def id(self) -> int:
        return int(self.case.id or 0)


def _desk_case(row: Any, today: date) -> DeskCase:
    c: RatingCase = row[0]
    return DeskCase(
        case=c,
        object_code=row[1],
        object_names={"zh-Hant": row[2], "pt": row[3], "en": row[4]},
        department=row[5],
        level=int(row[6]),
        reasons=[d[1:] for d in str(row[7]).split(",") if d.startswith("-")],
        comment=scrub_comment(str(row[8] or "")),
        channel=str(row[9]),
        transaction_ref=str(row[10]),
        timeliness=timeliness(c.state, c.rectify_due, c.rectified_day, today),
        visit_overdue=visit_overdue(c.rectified_day, c.return_visit_due, c.return_visit_day, today),
    )


def _scoped(query: Any, principal: Principal) -> Any:
    """A department key reads its own department's cases; an assessor all."""
    if principal.role == "department":
        return query.where(col(RatingCase.department_id) == principal.department_id)
    if principal.role != "assessor":
        raise ServiceError(403, "the case desk is for department and assessor keys")
    return query


def desk_cases(
    session: Session, principal: Principal, today: date, state: str = "", overdue: bool = False
) -> list[DeskCase]:
    """The key's cases (department: its own; assessor: all), open ones first by deadline, then
    the finished ones, newest first; `state` filters on one state (`open_states` for all not
    finished), `overdue` keeps those whose answer or return visit is overdue."""
    query = _scoped(_desk_query(), principal)
    if state == "open_states":
        query = query.where(col(RatingCase.state).in_(OPEN_CASE_STATES))
    elif state:
        query = query.where(col(RatingCase.state) == state)
    rows = [_desk_case(r, today) for r in session.execute(query).all()]
    if overdue:
        rows = [r for r in rows if r.timeliness == OVERDUE or r.visit_overdue]
    finished = [r for r in rows if r.case.state not in OPEN_CASE_STATES]
    active = [r for r in rows if r.case.state in OPEN_CASE_STATES]
    active.sort(key=lambda r: (r.case.return_visit_due or r.case.rectify_due, r.id))
    finished.sort(key=lambda r: -r.id)
    return (active + finished)[:DESK_LIMIT]


def desk_case(session: Session, principal: Principal, case_id: int, today: date) -> DeskCase:
    """One case of the key's department (another department's: 404, not disclosed)."""
    row = session.execute(_scoped(_desk_query(), principal).where(col(RatingCase.id) == case_id)).first()
    if row is None:
        raise ServiceError(404, f"no case {case_id}")
    return _desk_case(row, today)


@dataclass
class DeskStats:
    """The desk's figures: cases, open, overdue (answer or return visit), answered, answered on
    time and its rate (%), mean calendar days from the rating to the answer, return visits by
    outcome and the satisfaction rate (% of reached citizens satisfied)."""

    cases: int = 0
    open: int = 0
    overdue: int = 0
    answered: int = 0
    on_time: int = 0
    due: int = 0
    mean_days: float | None = None
    outcomes: dict[str, int] = field(default_factory=dict)

    @property
    def on_time_rate(self) -> float | None:
        return 100.0 * self.on_time / self.due if self.due else None

    @property
    def satisfaction(self) -> float | None:
        reached = self.outcomes.get("satisfied", 0) + self.outcomes.get("unsatisfied", 0)
        return 100.0 * self.outcomes.get("satisfied", 0) / reached if reached else None


def desk_stats(session: Session, principal: Principal, today: date) -> DeskStats:
    """The statistics of the key's cases (all of them, not only those listed)."""
    query = _scoped(
        select(
            col(RatingCase.state),
            col(RatingCase.opened_day),
            col(RatingCase.rectify_due),
            col(RatingCase.rectified_day),
            col(RatingCase.return_visit_due),
            col(RatingCase.return_visit_day),
            col(RatingCase.visit_outcome),
        ),
        principal,
    )
    stats, days = DeskStats(), []
    for state, opened, due, answered, visit_due, visited, outcome in session.execute(query).all():
        stats.cases += 1
        stats.open += state in OPEN_CASE_STATES
        when = timeliness(state, due, answered, today)
        stats.overdue += when == OVERDUE or visit_overdue(answered, visit_due, visited, today)
        stats.due += when not in (PENDING, NOT_DUE)
        stats.on_time += when == ON_TIME
        if answered is not None:
            stats.answered += 1
            days.append((answered - opened).days)
        if visited is not None and outcome:
            stats.outcomes[outcome] = stats.outcomes.get(outcome, 0) + 1
    stats.mean_days = sum(days) / len(days) if days else None
    return stats


def ledger_rows(
    session: Session, start: date, end: date, department: str | None, today: date
) -> list[DeskCase]:
    """The ledger (台賬): every case opened in [start, end] (of one department when its code is
    given), by case number."""
    query = _desk_query().where(col(RatingCase.opened_day).between(start, end))
    if department:
        query = query.where(col(Department.code) == department)
    return [_desk_case(r, today) for r in session.execute(query.order_by(col(RatingCase.id))).all()]


@dataclass(frozen=True)
class PublicStatus:
    """What the citizen's status page shows of one rating: no comment, pseudonym, staff label,
    transaction reference or internal note. `case` holds only the public fields of its case."""

    object_names: dict[str, str]
    department_names: dict[str, str]
    day: date
    bad: bool
    counted: bool
    case: dict[str, Any] | None


def normalise_receipt(text: str) -> str:
    """A receipt as typed: spaces and hyphens left out, upper case allowed; "" when it cannot be
    one (32 hex digits)."""
    code = re.sub(r"[\s\-]", "", text or "").lower()
    return code if RECEIPT.fullmatch(code) else ""


def public_status(session: Session, receipt: str, today: date) -> PublicStatus | None:
    """The status of the rating with this receipt; None when there is none (never rated, an
    unknown receipt, a purged rating)."""
    code = normalise_receipt(receipt)
    if not code:
        return None
    row = session.execute(
        select(Rating, AssessedObject, Department)
        .join(RatingToken, (col(RatingToken.object_id) == col(Rating.object_id)))
        .join(AssessedObject, col(AssessedObject.id) == col(Rating.object_id))
        .join(Department, col(Department.id) == col(AssessedObject.department_id))
        .where(
            col(RatingToken.id) == code,
            col(RatingToken.state) == "used",
            col(RatingToken.transaction_ref) == col(Rating.transaction_ref),
        )
    ).first()
    if row is None:
        return None
    rating, obj, dept = row
    case = session.execute(
        select(RatingCase).where(col(RatingCase.rating_id) == rating.id)
    ).scalar_one_or_none()
    return PublicStatus(
        object_names={"zh-Hant": obj.name_zh, "pt": obj.name_pt, "en": obj.name_en},
        department_names={"zh-Hant": dept.name_zh, "pt": dept.name_pt, "en": dept.name_en},
        day=rating.day,
        bad=rating.level in BAD_LEVELS,
        counted=rating.flags in ("", "removed"),
        case=_public_case(case, today) if case is not None else None,
    )


def _public_case(c: RatingCase, today: date) -> dict[str, Any]:
    """The public fields of a case; the answer scrubbed of identity numbers, phones, e-mails."""
    return {
        "state": c.state,
        "opened_day": c.opened_day,
        "rectify_due": c.rectify_due,
        "tier": c.tier,
        "answer": scrub_comment(c.answer or ""),
        "answered_day": c.rectified_day,
        "return_visit_day": c.return_visit_day,
        "visit_outcome": c.visit_outcome or "",
        "appealed": c.appealed_at is not None,
        "appeal_outcome": c.appeal_outcome,
        "timeliness": timeliness(c.state, c.rectify_due, c.rectified_day, today),
    }
