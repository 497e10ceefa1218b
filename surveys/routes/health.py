"""GET /health: liveness and database reachability."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from egov import __version__
from egov.deps import SessionDep
from surveys.routes.common import API, PUBLIC, doc

router = APIRouter(prefix=API, tags=["service"])


@router.get(
    "/health",
    **doc(
        "Health check",
        "Liveness and database reachability; public.",
        {"status": "ok", "version": "0.1.0"},
        *PUBLIC,
    ),
)
def health(session: SessionDep) -> dict[str, str]:
    session.execute(select(1))
    return {"status": "ok", "version": __version__}
