"""FastAPI dependencies, declared once for every route (rating API and report pages): the
session and the caller's key with its role."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from egov.auth import Principal, authenticate
from egov.db import get_engine
from egov.errors import ServiceError


# --- sessions and principals ---------------------------------------------------------------------
def get_session() -> Iterator[Session]:
    """A session per request; handlers commit what they change, anything else rolls back."""
    session = Session(get_engine(), expire_on_commit=False)
    try:
        yield session
    finally:
        session.rollback()
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]
bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer egk_…`.")


def get_principal(
    session: SessionDep, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Principal:
    if creds is None:
        raise ServiceError(401, "an API key is required (Authorization: Bearer egk_…)")
    principal = authenticate(session, creds.credentials)
    if principal is None:
        raise ServiceError(401, "unknown or revoked API key")
    return principal


def role(*roles: str) -> Callable[[Principal], Principal]:
    def check(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if principal.role not in roles:
            raise ServiceError(403, f"this needs a {' or '.join(roles)} key, not a {principal.role} key")
        return principal

    return check


AnyKey = Annotated[Principal, Depends(get_principal)]
DepartmentKey = Annotated[Principal, Depends(role("department"))]
AssessorKey = Annotated[Principal, Depends(role("assessor"))]
AdminKey = Annotated[Principal, Depends(role("admin"))]
ReaderKey = Annotated[Principal, Depends(role("department", "assessor"))]
AuditKey = Annotated[Principal, Depends(role("assessor", "admin"))]
