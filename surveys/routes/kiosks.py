"""Counter kiosks and rated subjects: a department registers, lists and revokes its kiosks (a
tablet at a service counter with its own device key); a kiosk, with its device key, reads the
ticket just served at it and dismisses it when nobody rated; a department reads its figures by
window or staff code (its own only, above the minimum count)."""

from __future__ import annotations

import math
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from egov.deps import DepartmentKey, SessionDep
from egov.errors import ServiceError
from egov.models_counter import KioskDevice
from egov.settings import get_settings
from surveys import schemas as S
from surveys.kiosks import (
    SETUP_PATH,
    TICKET_MINUTES,
    Device,
    authenticate_kiosk,
    create_kiosk,
    dismiss_ticket,
    list_kiosks,
    next_ticket,
    revoke_kiosk,
)
from surveys.routes.common import API, AUTH, BODY, KEYED, POSTED, doc, period
from surveys.subjects import subject_ratings

router = APIRouter(prefix=API, tags=["kiosks"])
device_bearer = HTTPBearer(
    auto_error=False, description="A kiosk's device key: `Authorization: Bearer egq_…`."
)

KIOSK_EXAMPLE = {
    "code": "SAFP-C-03",
    "object": "SAFP_SERVICE_COUNTER",
    "window": "3",
    "label": "window 3 tablet",
    "prefix": "egq_Xa81bQ2",
    "created_at": "2026-03-02T02:11:09Z",
    "revoked_at": None,
}
Code = Annotated[str, Path(pattern=S.KIOSK_PATTERN, description="The kiosk's code.")]
Receipt = Annotated[str, Path(pattern="^[0-9a-f]{32}$", description="The ticket's receipt (token id).")]


def kiosk_device(
    session: SessionDep, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(device_bearer)]
) -> Device:
    """The calling kiosk, by its device key (an API key is not one)."""
    device = authenticate_kiosk(session, creds.credentials) if creds else None
    if device is None:
        raise ServiceError(401, "a kiosk's device key is required (Authorization: Bearer egq_…)")
    return device


KioskDep = Annotated[Device, Depends(kiosk_device)]


def with_204(text: str, *args: Any) -> dict[str, Any]:
    """`doc(*args)` with a documented 204 answer."""
    out = doc(*args)
    out["responses"][204] = {"description": text}
    return out


def _public(row: KioskDevice, obj: str) -> dict[str, Any]:
    return {
        "code": row.code,
        "object": obj,
        "window": row.window_code,
        "label": row.label,
        "prefix": row.prefix,
        "created_at": row.created_at,
        "revoked_at": row.revoked_at,
    }


@router.post(
    "/kiosks",
    response_model=S.KioskCreated,
    **doc(
        "Register a counter kiosk",
        "A department registers a tablet at a service counter of one of its objects (and window). The "
        "answer holds the device key, shown once, and the setup path to open once on the tablet. "
        "Department keys only.",
        {**KIOSK_EXAMPLE, "key": "egq_…", "setup_path": "/kiosk/SAFP_SERVICE_COUNTER#key=egq_…"},
        *KEYED,
        404,
        409,
        *BODY,
    ),
)
def post_kiosk(body: S.KioskCreate, session: SessionDep, principal: DepartmentKey) -> Any:
    key, row, obj = create_kiosk(
        session,
        int(principal.department_id or 0),
        body.code,
        body.object,
        body.window,
        body.label,
        principal.actor,
    )
    out = {**_public(row, obj), "key": key, "setup_path": f"{SETUP_PATH}{obj}#key={key}"}
    session.commit()
    return out


@router.get(
    "/kiosks",
    response_model=list[S.KioskPublic],
    **doc("List counter kiosks", "The department's kiosks. Department keys only.", [KIOSK_EXAMPLE], *KEYED),
)
def get_kiosks(session: SessionDep, principal: DepartmentKey) -> Any:
    return [_public(k, o) for k, o in list_kiosks(session, principal.department_id)]


@router.post(
    "/kiosks/{code}/revoke",
    response_model=S.KioskPublic,
    **doc(
        "Revoke a counter kiosk",
        "Its device key stops working at once (a lost or replaced tablet). Department keys, their own kiosks.",
        {**KIOSK_EXAMPLE, "revoked_at": "2026-03-03T02:11:09Z"},
        *KEYED,
        404,
        *POSTED,
    ),
)
def post_revoke_kiosk(code: Code, session: SessionDep, principal: DepartmentKey) -> Any:
    row = revoke_kiosk(session, principal.department_id, code, principal.actor)
    obj = next(o for k, o in list_kiosks(session, principal.department_id) if k.id == row.id)
    out = _public(row, obj)
    session.commit()
    return out


@router.get(
    "/kiosk/ticket",
    response_model=S.KioskTicket,
    **with_204(
        "no ticket to rate: the kiosk shows its waiting screen",
        "The ticket a kiosk shows",
        "The last ticket served at the calling kiosk while it may be rated (unused, unexpired, not dismissed, "
        f"at most {TICKET_MINUTES} minutes old; a newer ticket supersedes it): its rating token and what to show. 204 when "
        "there is none. A kiosk's device key only.",
        {
            "token": S.EXAMPLE_TOKEN,
            "receipt": "9f1c…",
            "object": "SAFP_SERVICE_COUNTER",
            "object_name": {"zh-Hant": "…", "pt": "…", "en": "…"},
            "window": "3",
            "service_name": None,
            "expires_at": "2026-03-16T08:00:00Z",
        },
        *AUTH,
    ),
)
def get_ticket(session: SessionDep, device: KioskDep) -> Any:
    ticket = next_ticket(session, device)
    return ticket if ticket else Response(status_code=204, headers={"Cache-Control": "no-store"})


@router.post(
    "/kiosk/ticket/{receipt}/dismiss",
    status_code=204,
    **with_204(
        "dismissed: the kiosk goes back to waiting",
        "Dismiss a ticket on a kiosk",
        "Nobody rated (the kiosk's timeout): the ticket is not shown again; its token stays valid. "
        "A kiosk's device key only; a ticket not queued for it is a 404.",
        None,
        *AUTH,
        404,
        *POSTED,
    ),
)
def post_dismiss(receipt: Receipt, session: SessionDep, device: KioskDep) -> Response:
    dismiss_ticket(session, device, receipt)
    session.commit()
    return Response(status_code=204)


@router.get(
    "/subjects",
    **doc(
        "Ratings by window or staff member",
        "The department's own counted ratings whose token named a subject, by window (object × window) or by "
        "staff code: counts by level, count, share satisfied (levels 4–5, %) with its Wilson 95 % interval, "
        "mean level, bad share; below EGOV_MIN_RATINGS the counts only. Department keys only, their own "
        "department: staff figures are never public.",
        [
            {
                "staff": "S1042",
                "n1": 0,
                "n2": 1,
                "n3": 2,
                "n4": 10,
                "n5": 20,
                "count": 33,
                "share_satisfied": 90.9,
            }
        ],
        *KEYED,
        422,
    ),
)
def get_subjects(
    session: SessionDep,
    principal: DepartmentKey,
    by: Annotated[Literal["window", "staff"], Query(description="window or staff")] = "window",
    start: date | None = None,
    end: date | None = None,
) -> Any:
    lo, hi = period(start, end)
    df = subject_ratings(
        session,
        lo,
        hi,
        department=str(principal.department_code),
        by=by,
        min_ratings=get_settings().min_ratings,
    )
    return [{k: _plain(v) for k, v in r.items()} for r in df.to_dict("records")]


def _plain(value: Any) -> Any:
    """A JSON value of a table cell: a NumPy number as a Python one, NaN (not shown) as null."""
    value = value.item() if hasattr(value, "item") else value
    return None if isinstance(value, float) and math.isnan(value) else value
