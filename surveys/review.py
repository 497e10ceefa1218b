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
from egov.models import AssessedObject, Rating
from surveys.cases import open_cases
from surveys.rollup import add_to_rollups
from surveys.schemas import BAD_LEVELS


def review_rating(session: Session, principal: Principal, rating_id: int, decision: str, note: str) -> Rating:
    """An assessor accepts (it counts from now on) or rejects a rating held for review."""

    rating = session.get(Rating, rating_id)
    if rating is None:
        raise ServiceError(404, f"no rating {rating_id}")
    if rating.flags != "burst":
        raise ServiceError(
            409, f"rating {rating_id} is not held for review (flags: {rating.flags or 'none'})"
        )
    if decision == "accept":
        rating.flags = ""
        delta = [0] * 5
        delta[rating.level - 1] = 1
        add_to_rollups(session, {(rating.object_id, rating.day): delta})
        if rating.level in BAD_LEVELS:
            open_cases(session, [int(rating.id or 0)], local_day())
    elif decision == "reject":
        rating.flags = "rejected"
    else:
        raise EgovError(f"decision {decision!r}: use accept or reject")
    session.add(rating)
    session.flush()
    audit(session, principal.actor, f"rating.review.{decision}", "rating", str(rating_id), note)
    return rating


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
