"""GET /audit: the audit trail, newest first (assessor and admin keys)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select
from sqlmodel import col

from egov.deps import AuditKey, SessionDep
from egov.models import AuditLog
from surveys import schemas as S
from surveys.routes.common import API, KEYED, doc

router = APIRouter(prefix=API, tags=["review"])


@router.get(
    "/audit",
    **doc(
        "Audit trail",
        "Who did what, newest first: held-rating reviews, rating removals, case moves, keys, purges. Assessor and admin keys.",
        [
            {
                "id": 1,
                "at": "2026-03-02T02:11:09Z",
                "actor": "key 2 (assessor)",
                "action": "rating.remove",
                "target_type": "rating",
                "target_id": "812",
                "detail": "appeal of case 12",
            }
        ],
        *KEYED,
        422,
    ),
)
def get_audit(
    session: SessionDep, principal: AuditKey, limit: Annotated[int, Query(ge=1, le=5000)] = 500
) -> list[S.AuditEntry]:
    rows = session.execute(select(AuditLog).order_by(col(AuditLog.id).desc()).limit(limit)).scalars()
    return [S.AuditEntry(**r.model_dump()) for r in rows]
