"""Review of ratings held by burst detection: the list of held ratings and an assessor's
decision (accept: it counts from now on; reject), in the audit trail.

Every function works inside the caller's session (one transaction per request).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from egov.auth import Principal, audit
from egov.clock import local_day
from egov.errors import EgovError, ServiceError
from egov.models import AssessedObject, AuditLog, Rating, compare_and_set
from surveys.cases import open_cases
from surveys.rollup import count_rating_change
from surveys.schemas import BAD_LEVELS

DECISIONS = {"accept": "", "reject": "rejected"}  # decision → the rating's flags after it


def review_rating(session: Session, principal: Principal, rating_id: int, decision: str, note: str) -> Rating:
    """An assessor accepts (it counts from now on) or rejects a rating held for review.

    The decision is a compare-and-set of the rating's flags from `burst`: of concurrent
    decisions on one rating exactly one is taken (and only it adds the rating to the roll-up
    and opens its case); the others get 409 saying what was decided."""
    if decision not in DECISIONS:
        raise EgovError(f"decision {decision!r}: use accept or reject")
    rating = session.get(Rating, rating_id)
    if rating is None:
        raise ServiceError(404, f"no rating {rating_id}")
    if not compare_and_set(session, Rating, rating_id, "flags", "burst", DECISIONS[decision]):
        raise ServiceError(409, not_held(session, rating_id))
    # the row is this transaction's now: its level and day as they are, not as first read
    session.refresh(rating)
    if decision == "accept":
        delta = [0] * 5
        delta[rating.level - 1] = 1
        count_rating_change(session, rating, delta)
        if rating.level in BAD_LEVELS:
            open_cases(session, [rating_id], local_day())
    audit(session, principal.actor, f"rating.review.{decision}", "rating", str(rating_id), note)
    return rating


def not_held(session: Session, rating_id: int) -> str:
    """Why a rating cannot be reviewed: the decision already taken on it (by an earlier or a
    concurrent request), or its flags when it was never held."""
    done = session.execute(
        select(col(AuditLog.action))
        .where(
            col(AuditLog.target_type) == "rating",
            col(AuditLog.target_id) == str(rating_id),
            col(AuditLog.action).in_([f"rating.review.{d}" for d in DECISIONS]),
        )
        .order_by(col(AuditLog.id).desc())
        .limit(1)
    ).scalar()
    if done is not None:
        word = {"rating.review.accept": "accepted", "rating.review.reject": "rejected"}[done]
        return f"rating {rating_id} was already reviewed: {word}"
    flags = session.execute(select(col(Rating.flags)).where(col(Rating.id) == rating_id)).scalar()
    return f"rating {rating_id} is not held for review (flags: {flags or 'none'})"


def held_ratings(session: Session, limit: int = 500) -> list[dict[str, Any]]:
    rows = session.execute(
        select(
            col(Rating.id),
            col(AssessedObject.code),
            col(Rating.day),
            col(Rating.level),
            col(Rating.flags),
            col(Rating.created_at),
        )
        .join(AssessedObject, col(AssessedObject.id) == col(Rating.object_id))
        .where(col(Rating.flags) == "burst")
        .order_by(col(Rating.id))
        .limit(limit)
    ).all()
    return [
        {"id": r[0], "object": r[1], "day": r[2], "level": r[3], "flags": r[4], "created_at": r[5]}
        for r in rows
    ]
