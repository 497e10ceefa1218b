"""API keys: who am I (any key), and the admin's list, creation and revocation of keys."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import select
from sqlmodel import Session, col

from egov.auth import create_key, revoke_key
from egov.deps import AdminKey, AnyKey, SessionDep
from egov.errors import EgovError, ServiceError
from egov.models import ApiKey, Department
from surveys import schemas as S
from surveys.routes.common import API, AUTH, BODY, KEYED, POSTED, RowId, doc

router = APIRouter(prefix=API, tags=["keys"])

KEY_EXAMPLE = {
    "id": 4,
    "prefix": "egk_Xa81bQ2",
    "role": "department",
    "department": "SAFP",
    "label": "SAFP back end",
    "created_at": "2026-03-02T02:11:09Z",
    "revoked_at": None,
}


def _key_public(row: ApiKey, session: Session) -> dict[str, Any]:
    dept = session.get(Department, row.department_id) if row.department_id else None
    return {
        "id": row.id,
        "prefix": row.prefix,
        "role": row.role,
        "department": dept.code if dept else None,
        "label": row.label,
        "created_at": row.created_at,
        "revoked_at": row.revoked_at,
    }


@router.get(
    "/me",
    **doc(
        "Who am I",
        "The role and department of the presented key.",
        {"key_id": 3, "role": "department", "department": "SAFP"},
        *AUTH,
    ),
)
def me(principal: AnyKey) -> S.Principal:
    return S.Principal(key_id=principal.key_id, role=principal.role, department=principal.department_code)


@router.get(
    "/keys",
    **doc(
        "List API keys",
        "Every key with its prefix, role and department (never the key). Admin keys.",
        [KEY_EXAMPLE],
        *KEYED,
    ),
)
def get_keys(session: SessionDep, principal: AdminKey) -> list[S.KeyPublic]:
    rows = session.execute(select(ApiKey).order_by(col(ApiKey.id))).scalars().all()
    return [S.KeyPublic(**_key_public(k, session)) for k in rows]


@router.post(
    "/keys",
    **doc(
        "Create an API key",
        "The key is in the answer once; only its SHA-256 is stored. Admin keys.",
        {**KEY_EXAMPLE, "key": "egk_…"},
        *KEYED,
        *BODY,
    ),
)
def post_key(body: S.KeyCreate, session: SessionDep, principal: AdminKey) -> S.KeyCreated:
    key, row = create_key(session, body.role, body.department, body.label, actor=principal.actor)
    session.commit()
    return S.KeyCreated(key=key, **_key_public(row, session))


@router.post(
    "/keys/{key_id}/revoke",
    **doc(
        "Revoke an API key",
        "The key stops working at once. Admin keys.",
        {**KEY_EXAMPLE, "revoked_at": "2026-03-03T01:00:00Z"},
        *KEYED,
        404,
        *POSTED,
        422,
    ),
)
def post_revoke(key_id: RowId, session: SessionDep, principal: AdminKey) -> S.KeyPublic:
    try:
        row = revoke_key(session, key_id, principal.actor)
    except EgovError as exc:
        raise ServiceError(404, str(exc)) from exc
    session.commit()
    return S.KeyPublic(**_key_public(row, session))
