"""Rated subjects (issue 17 point 2): a rating token of a counter (or hotline) transaction may
name the window (counter number) and the staff member who served, and the counter kiosk that
shows the ticket. The subjects are stored with the token (egov.models_counter `rating_subject`),
so the rating paths are unchanged: the rating made with the token is found by its object and
transaction.

Privacy rules for staff identities: only the department's own staff code is stored (a code with
a digit, checked by the request schema; never a name); no public page (/status/, /public/) and
no export reads this table; the figures by staff (`subject_ratings(by="staff")`) are computed for
one department, shown only to that department's keys and the command line, and below the
minimum count only the number of ratings is given; `egov ratings purge` deletes the subjects
with the tokens (surveys.privacy). Windows may be shown to the department.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import insert, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from egov.errors import EgovError, ServiceError
from egov.models_counter import KioskDevice, RatingSubject
from surveys.schemas import TokenRequest
from surveys.services import LEVELS, level_measures

BY = ("window", "staff")


def attach_subjects(
    session: Session,
    requests: Sequence[TokenRequest],
    tokens: Sequence[tuple[str, int, bool]],
    *,
    batch: bool = False,
) -> list[tuple[str | None, str | None]]:
    """Store the subjects (window, staff, kiosk) the requests name on their tokens. `tokens`: per
    request, the token id, its object id and whether the token was new. A kiosk must be an active
    device of the request's object (422 naming `kiosk`, or `items.N.kiosk` when `batch`); the
    window defaults to the kiosk's. Asking again for a transaction naming other subjects than its
    token has is refused (409), as for the service item. Returns each request's (window, kiosk)."""
    kiosks = _kiosks(session, {r.kiosk for r in requests if r.kiosk})
    old = _existing(session, {t for (t, _, new) in tokens if not new})
    out: list[tuple[str | None, str | None]] = []
    rows: dict[str, dict[str, Any]] = {}
    for i, (r, (token_id, object_id, new)) in enumerate(zip(requests, tokens, strict=True)):
        device = kiosks.get(r.kiosk) if r.kiosk else None
        if r.kiosk and (device is None or device.object_id != object_id or device.revoked_at is not None):
            field = f"items.{i}.kiosk" if batch else "kiosk"
            raise ServiceError(422, f"{field}: no active kiosk '{r.kiosk}' at object '{r.object}'")
        window = r.window or (device.window_code if device else None)
        wanted = (window, r.staff, device.id if device else None)
        have = rows.get(token_id) or old.get(token_id)
        named = any(x is not None for x in wanted)
        if have is not None:
            if named and (have["window_code"], have["staff_code"], have["kiosk_id"]) != wanted:
                raise ServiceError(
                    409, f"the token of transaction '{r.transaction_ref}' was issued naming other subjects"
                )
        elif named and not new:
            raise ServiceError(
                409, f"the token of transaction '{r.transaction_ref}' was issued naming no subject"
            )
        elif named:
            rows[token_id] = {
                "token_id": token_id,
                "window_code": window,
                "staff_code": r.staff,
                "kiosk_id": wanted[2],
                "kiosk_state": "queued" if device else "",
            }
        kept = rows.get(token_id) or old.get(token_id)
        kiosk_id = kept["kiosk_id"] if kept else None
        out.append((kept["window_code"] if kept else None, _code(kiosks, session, kiosk_id)))
    if rows:
        _insert(session, list(rows.values()))
    return out


def _kiosks(session: Session, codes: set[str | None]) -> dict[str, KioskDevice]:
    if not codes:
        return {}
    found = session.execute(select(KioskDevice).where(col(KioskDevice.code).in_(codes))).scalars()
    return {k.code: k for k in found}


def _code(kiosks: dict[str, KioskDevice], session: Session, kiosk_id: int | None) -> str | None:
    if kiosk_id is None:
        return None
    for k in kiosks.values():
        if k.id == kiosk_id:
            return k.code
    device = session.get(KioskDevice, kiosk_id)
    return device.code if device else None


def _existing(session: Session, token_ids: set[str]) -> dict[str, dict[str, Any]]:
    if not token_ids:
        return {}
    found = session.execute(select(RatingSubject).where(col(RatingSubject.token_id).in_(token_ids))).scalars()
    return {
        s.token_id: {"window_code": s.window_code, "staff_code": s.staff_code, "kiosk_id": s.kiosk_id}
        for s in found
    }


def _insert(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert subject rows; a row another request inserted first for the same token (two first
    requests racing) is left as it is."""
    dialect = session.get_bind().dialect.name
    if dialect not in ("postgresql", "sqlite"):  # pragma: no cover - only the two supported engines
        session.execute(insert(RatingSubject), rows)
        return
    dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(dialect_insert(RatingSubject).on_conflict_do_nothing(index_elements=["token_id"]), rows)


_KEYS = {"window": ("o.code", "s.window_code"), "staff": ("s.staff_code",)}
_NAMES = {"window": ["object", "window"], "staff": ["staff"]}


def subject_ratings(
    session: Session,
    start: date,
    end: date,
    *,
    department: str,
    by: str = "window",
    min_ratings: int = 30,
) -> pd.DataFrame:
    """Counted ratings (no moderation flag) of the days [start, end] of one department's objects
    whose token named a subject, by window (object × window) or by staff code: counts by level,
    count, share satisfied (levels 4–5) with its Wilson 95 % interval, mean level and bad share
    (surveys.services.level_measures); below `min_ratings` only the counts (the shares and the
    mean null), which for staff is the privacy rule: no figure of a person from a few ratings.
    For the department's own eyes only: a caller checks who asks."""
    if by not in BY:
        raise EgovError(f"by {by!r}: use {', '.join(BY)}")
    if not department:
        raise EgovError("the figures by subject are a department's own: name the department")
    keys = _KEYS[by]
    cases = ", ".join(f"SUM(CASE WHEN r.level = {i} THEN 1 ELSE 0 END)" for i in range(1, 6))
    rows = session.execute(
        text(
            f"SELECT {', '.join(keys)}, {cases} FROM rating r "
            "JOIN rating_token t ON t.object_id = r.object_id AND t.transaction_ref = r.transaction_ref "
            "JOIN rating_subject s ON s.token_id = t.id "
            "JOIN assessed_object o ON o.id = r.object_id JOIN department d ON d.id = o.department_id "
            f"WHERE d.code = :d AND r.flags = '' AND r.day BETWEEN :start AND :end AND s.{by}_code IS NOT NULL "
            f"GROUP BY {', '.join(keys)} ORDER BY {', '.join(keys)}"
        ),
        {"d": department, "start": start, "end": end},
    ).all()
    counts = pd.DataFrame(rows, columns=[*_NAMES[by], *LEVELS])
    return level_measures(counts, min_ratings)
