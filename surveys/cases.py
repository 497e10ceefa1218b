"""Bad-rating follow-up cases (好差評 "差評" handling, GB/T 39735-2020 §7):

    open → verified → rectifying → rectified → return_visit_done → closed
    verified → explained → return_visit_done (the explanation tier, surveys.casework)
    open | verified → appealed → upheld (the rating stands; → rectifying | explained) | removed

Every bad rating that counts opens a case owned by the rated object's department.
Deadlines are in working days (surveys.calendar: the built-in table with the days an
administrator added in the database, read when the deadline is set): rectification is due
EGOV_CASE_RECTIFY_DAYS after the rating (default 15), the return visit
EGOV_CASE_RETURN_VISIT_DAYS after rectification (default 1). A removed rating no longer
counts: its roll-up count is taken back and the removal is in the audit trail.
Case metrics are computed in SQL and feed the management indicators mgmt_rectify_on_time
and mgmt_return_visit.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, NamedTuple

import pandas as pd
from sqlalchemy import select, text
from sqlmodel import Session, col

from egov.auth import Principal, audit
from egov.clock import local_day
from egov.errors import EgovError, ServiceError
from egov.models import AssessedObject, Department, Rating, RatingCase, compare_and_set, utcnow
from egov.settings import get_settings
from surveys.calendar import added_days, working_days_after
from surveys.casework import CaseDetails, detail_fields
from surveys.rollup import count_rating_change, driver_executemany
from surveys.schemas import BAD_LEVELS, CASE_STATES

# (from, to) → the role allowed to make the move
TRANSITIONS: dict[tuple[str, str], str] = {
    ("open", "verified"): "department",
    ("open", "appealed"): "department",
    ("verified", "rectifying"): "department",
    ("verified", "appealed"): "department",
    ("rectifying", "rectified"): "department",
    ("rectified", "return_visit_done"): "department",
    ("verified", "explained"): "department",
    ("explained", "return_visit_done"): "department",
    ("return_visit_done", "closed"): "department",
    ("appealed", "upheld"): "assessor",
    ("appealed", "removed"): "assessor",
    ("upheld", "rectifying"): "department",
    ("upheld", "explained"): "department",
}
STATES = CASE_STATES


def due_after(session: Session, day: date, n: int) -> date:
    """`n` working days after `day` by the calendar with the days added in the database."""
    return working_days_after(day, n, get_settings().holidays_file, added_days(session, day))


def open_cases(session: Session, rating_ids: list[int], day: date) -> int:
    """Open one case per bad rating (owned by the object's department); skip existing."""
    if not rating_ids:
        return 0
    have = set(
        session.execute(
            select(col(RatingCase.rating_id)).where(col(RatingCase.rating_id).in_(rating_ids))
        ).scalars()
    )
    todo = [r for r in rating_ids if r not in have]
    if not todo:
        return 0
    rows = session.execute(
        select(col(Rating.id), col(Rating.object_id), col(AssessedObject.department_id))
        .join(AssessedObject, col(AssessedObject.id) == col(Rating.object_id))
        .where(col(Rating.id).in_(todo))
    ).all()
    due = due_after(session, day, get_settings().case_rectify_days)
    now = utcnow()
    driver_executemany(
        session,
        "INSERT INTO rating_case (rating_id, object_id, department_id, state, opened_at, opened_day, rectify_due, "
        "appeal_outcome, updated_at) VALUES (:rating_id, :object_id, :department_id, :state, :opened_at, "
        ":opened_day, :rectify_due, :appeal_outcome, :updated_at)",
        [
            {
                "rating_id": rid,
                "object_id": oid,
                "department_id": did,
                "state": "open",
                "opened_at": now,
                "opened_day": day,
                "rectify_due": due,
                "appeal_outcome": "",
                "updated_at": now,
            }
            for rid, oid, did in rows
        ],
    )
    return len(rows)


def case_after_amendment(session: Session, rating: Rating, old_level: int) -> None:
    """A follow-up changed a counted rating: open a case if it became bad; close an
    untouched open case if it is no longer bad (unless a concurrent move took it first)."""
    case = session.execute(
        select(RatingCase).where(col(RatingCase.rating_id) == rating.id)
    ).scalar_one_or_none()
    if rating.level in BAD_LEVELS and case is None:
        open_cases(session, [int(rating.id or 0)], local_day())
    elif rating.level not in BAD_LEVELS and case is not None and case.state == "open":
        now = utcnow()
        if compare_and_set(
            session, RatingCase, case.id, "state", "open", "closed", closed_at=now, updated_at=now
        ):
            audit(
                session,
                "citizen",
                "case.withdrawn",
                "rating_case",
                str(case.id),
                f"rating amended {old_level} -> {rating.level}",
            )


def moves_from(state: str) -> str:
    """The states a case in `state` can move to, for messages."""
    return ", ".join(t for (f, t) in TRANSITIONS if f == state) or "none (final state)"


def transition_case(
    session: Session,
    principal: Principal,
    case_id: int,
    to: str,
    note: str = "",
    today: date | None = None,
    details: CaseDetails | None = None,
) -> RatingCase:
    """Move a case along the state machine; who may move it depends on the move. `details`:
    what the move records besides its state (surveys.casework: handler, tier, answer, the
    return visit's outcome; `note` is kept as the case's internal note too).

    The move is a compare-and-set of the case's state: of concurrent moves of one case
    exactly one is made (and only it takes a removed rating out of the roll-up); the others
    get 409 naming the state the case is in now."""

    case = session.get(RatingCase, case_id)
    if case is None or (principal.role == "department" and case.department_id != principal.department_id):
        raise ServiceError(404, f"no case {case_id}")  # another department's case is not disclosed
    old = case.state
    role = TRANSITIONS.get((old, to))
    if role is None:
        raise ServiceError(409, f"case {case_id} is {old}; it can move to: {moves_from(old)}")
    if principal.role != role:
        raise ServiceError(403, f"moving a case from {old} to {to} needs a {role} key")
    extra = detail_fields(case_id, to, details or CaseDetails(note=note))
    now = utcnow()
    if not compare_and_set(
        session,
        RatingCase,
        case_id,
        "state",
        old,
        to,
        updated_at=now,
        **_move_fields(session, to, today, now),
        **extra,
    ):
        state = session.execute(select(col(RatingCase.state)).where(col(RatingCase.id) == case_id)).scalar()
        raise ServiceError(
            409,
            f"case {case_id} was already moved: {state} (by another request); it can move to: {moves_from(str(state))}",
        )
    if to == "removed":
        _remove_rating(session, principal, case.rating_id, case_id, note)
    audit(session, principal.actor, "case.transition", "rating_case", str(case_id), f"{old} -> {to}: {note}")
    return case


class CaseMove(NamedTuple):
    """One move of `transition_cases`: the case, its new state, the day it counts on (default:
    today) and the moment recorded (default: the call's `now`)."""

    case_id: int
    to: str
    day: date | None = None
    at: datetime | None = None


def transition_cases(
    session: Session, principal: Principal, moves: list[CaseMove], note: str = "", now: datetime | None = None
) -> int:
    """Many moves at once, one per case, by the rules of `transition_case` (the move must be
    in TRANSITIONS, for the key's role; a department key moves only its own department's
    cases), applied as compare-and-set UPDATEs in batches of one target state,
    with their audit entries. `now`: the moment recorded (default: the current time).
    All or nothing: a move that is not allowed, or a case that another request moved
    meanwhile, raises ServiceError and the caller rolls back. Returns the number of moves."""
    if not moves:
        return 0
    now = now or utcnow()
    found = session.execute(
        select(col(RatingCase.id), col(RatingCase.state), col(RatingCase.department_id)).where(
            col(RatingCase.id).in_({m[0] for m in moves})
        )
    ).all()
    states = {int(i): (str(st), d) for i, st, d in found}
    by_target: dict[str, list[dict[str, Any]]] = {}
    for case_id, to, day, at in moves:
        old, dept = states.get(case_id, ("", None))
        if not old and case_id in states:
            raise ServiceError(422, f"case {case_id}: one move per case in one call")
        if not old or (principal.role == "department" and dept != principal.department_id):
            raise ServiceError(404, f"no case {case_id}")
        role = TRANSITIONS.get((old, to))
        if role is None:
            raise ServiceError(409, f"case {case_id} is {old}; it can move to: {moves_from(old)}")
        if principal.role != role:
            raise ServiceError(403, f"moving a case from {old} to {to} needs a {role} key")
        fields = {"state": to, "updated_at": at or now, **_move_fields(session, to, day, at or now)}
        by_target.setdefault(to, []).append({"case_id": case_id, "old": old, **fields})
        states[case_id] = ("", dept)  # one move per case and call: a second one is refused
    for to, rows in by_target.items():
        names = [k for k in rows[0] if k not in ("case_id", "old")]
        sql = (
            "UPDATE rating_case SET "
            + ", ".join(f"{k} = :{k}" for k in names)
            + " WHERE id = :case_id AND state = :old"
        )
        if _updated(session, sql, rows) != len(rows):
            raise ServiceError(409, f"a case was moved meanwhile (by another request); moving to {to} again")
        for r in rows if to == "removed" else []:
            _remove_rating(session, principal, _rating_of(session, r["case_id"]), r["case_id"], note)
    driver_executemany(
        session,
        "INSERT INTO audit_log (at, actor, action, target_type, target_id, detail) "
        "VALUES (:at, :actor, 'case.transition', 'rating_case', :target, :detail)",
        [
            {
                "at": r["updated_at"],
                "actor": principal.actor,
                "target": str(r["case_id"]),
                "detail": f"{r['old']} -> {to}: {note}",
            }
            for to, rows in by_target.items()
            for r in rows
        ],
    )
    for stored in [session.identity_map.get(Session.identity_key(RatingCase, c)) for c, *_ in moves]:
        if stored is not None:
            session.expire(stored)
    return len(moves)


def _updated(session: Session, sql: str, rows: list[dict[str, Any]]) -> int:
    """The rows an UPDATE executemany changed (row by row where the driver does not sum them)."""
    if session.get_bind().dialect.supports_sane_multi_rowcount or len(rows) == 1:
        return int(driver_executemany(session, sql, rows).rowcount)
    return sum(int(driver_executemany(session, sql, [r]).rowcount) for r in rows)  # pragma: no cover


def _rating_of(session: Session, case_id: int) -> int:
    return int(
        session.execute(select(col(RatingCase.rating_id)).where(col(RatingCase.id) == case_id)).scalar_one()
    )


def _move_fields(session: Session, to: str, today: date | None, now: datetime) -> dict[str, Any]:
    """What a move to `to` records besides the state (its day, deadline, outcome or end)."""
    day = today or local_day()
    if to in ("rectified", "explained"):  # the department's answer: the return visit is due after it
        due = due_after(session, day, get_settings().case_return_visit_days)
        return {"rectified_day": day, "return_visit_due": due}
    if to == "return_visit_done":
        return {"return_visit_day": day}
    if to == "closed":
        return {"closed_at": now}
    if to == "appealed":
        return {"appealed_at": now}
    if to == "upheld":
        return {"appeal_outcome": to}
    if to == "removed":
        return {"appeal_outcome": to, "closed_at": now}
    return {}


def _remove_rating(session: Session, principal: Principal, rating_id: int, case_id: int, note: str) -> None:
    """An appeal removed a rating: it stops counting (its roll-up count is taken back), once —
    only if it still counts, by compare-and-set of its flags."""
    if not compare_and_set(session, Rating, rating_id, "flags", "", "removed"):
        return
    rating = session.get(Rating, rating_id)
    if rating is None:  # pragma: no cover - the row was just updated in this transaction
        return
    delta = [0] * 5
    delta[rating.level - 1] = -1
    count_rating_change(session, rating, delta)
    audit(
        session,
        principal.actor,
        "rating.remove",
        "rating",
        str(rating_id),
        f"appeal of case {case_id}: {note}",
    )


CASE_COLUMNS = (
    "SELECT c.id, o.code, d.code, c.state, r.level, r.drivers, c.opened_day, c.rectify_due, c.rectified_day, "
    "c.return_visit_due, c.return_visit_day, c.appeal_outcome, c.tier, c.handler, c.answer, c.internal_note, "
    "c.visit_outcome FROM rating_case c "
    "JOIN rating r ON r.id = c.rating_id JOIN assessed_object o ON o.id = c.object_id "
    "JOIN department d ON d.id = c.department_id"
)


def _case_dict(r: Any) -> dict[str, Any]:
    reason = [d[1:] for d in str(r[5]).split(",") if d.startswith("-")]
    keys = (
        "id",
        "object",
        "department",
        "state",
        "level",
        "reason",
        "opened_day",
        "rectify_due",
        "rectified_day",
        "return_visit_due",
        "return_visit_day",
        "appeal_outcome",
        "tier",
        "handler",
        "answer",
        "internal_note",
        "visit_outcome",
    )
    vals = [r[0], r[1], r[2], r[3], r[4], reason, *r[6:]]
    out = dict(zip(keys, vals, strict=True))
    for k in ("opened_day", "rectify_due", "rectified_day", "return_visit_due", "return_visit_day"):
        if isinstance(out[k], str):  # SQLite through text(): ISO strings
            out[k] = date.fromisoformat(out[k])
    return out


def list_cases(
    session: Session, principal: Principal, state: str | None = None, limit: int = 500
) -> list[dict[str, Any]]:
    """Cases a key may read: its department's (department keys) or all (assessors)."""
    if principal.role == "department":
        return department_cases(session, principal.department_id, state, limit)
    return _query_cases(session, "", {}, state, limit)


def department_cases(
    session: Session, department_id: int | None, state: str | None = None, limit: int = 500
) -> list[dict[str, Any]]:
    """One department's cases by department id (the API's department keys and the
    department report read them through here)."""
    return _query_cases(session, " AND c.department_id = :dep", {"dep": department_id}, state, limit)


def _query_cases(
    session: Session, where: str, params: dict[str, Any], state: str | None, limit: int
) -> list[dict[str, Any]]:
    sql = CASE_COLUMNS + " WHERE 1 = 1" + where
    params = {**params, "limit": limit}
    if state:
        sql += " AND c.state = :state"
        params["state"] = state
    rows = session.execute(text(sql + " ORDER BY c.id LIMIT :limit"), params).all()
    return [_case_dict(r) for r in rows]


def get_case(session: Session, principal: Principal, case_id: int) -> dict[str, Any]:

    sql = CASE_COLUMNS + " WHERE c.id = :id"
    params: dict[str, Any] = {"id": case_id}
    if principal.role == "department":
        sql += " AND c.department_id = :dep"
        params["dep"] = principal.department_id
    row = session.execute(text(sql), params).first()
    if row is None:
        raise ServiceError(404, f"no case {case_id}")
    return _case_dict(row)


def case_metrics(
    session: Session, start: date, end: date, by: str = "department", as_of: date | None = None
) -> pd.DataFrame:
    """Case metrics per department (or object) for cases opened in [start, end], in SQL:

    rectified_on_time: % of due cases (rectified, or past their deadline on `as_of`) that
    were rectified by the deadline; return_visit_rate: % of rectified cases whose return
    visit is due that had it; appeals, appeals_upheld (rating stands), appeals_removed.
    Removed ratings' cases are left out of the two rates.
    """
    if by not in ("department", "object"):
        raise EgovError("by: use department or object")
    as_of = as_of or date.today()
    key = "d.code" if by == "department" else "o.code"
    sql = (
        f"SELECT {key} AS unit, COUNT(*) AS cases, "
        "SUM(CASE WHEN c.state <> 'removed' AND (c.rectified_day IS NOT NULL OR c.rectify_due < :as_of) "
        "THEN 1 ELSE 0 END) AS rectify_due_cases, "
        "SUM(CASE WHEN c.state <> 'removed' AND c.rectified_day IS NOT NULL AND c.rectified_day <= c.rectify_due "
        "THEN 1 ELSE 0 END) AS rectified_on_time_cases, "
        "SUM(CASE WHEN c.state <> 'removed' AND c.rectified_day IS NOT NULL AND "
        "(c.return_visit_day IS NOT NULL OR c.return_visit_due < :as_of) THEN 1 ELSE 0 END) AS visit_due_cases, "
        "SUM(CASE WHEN c.state <> 'removed' AND c.return_visit_day IS NOT NULL THEN 1 ELSE 0 END) AS visited_cases, "
        "SUM(CASE WHEN c.appealed_at IS NOT NULL THEN 1 ELSE 0 END) AS appeals, "
        "SUM(CASE WHEN c.appeal_outcome = 'upheld' THEN 1 ELSE 0 END) AS appeals_upheld, "
        "SUM(CASE WHEN c.appeal_outcome = 'removed' THEN 1 ELSE 0 END) AS appeals_removed "
        "FROM rating_case c JOIN assessed_object o ON o.id = c.object_id "
        "JOIN department d ON d.id = c.department_id "
        f"WHERE c.opened_day BETWEEN :start AND :end GROUP BY {key} ORDER BY {key}"
    )
    rows = session.execute(text(sql), {"start": start, "end": end, "as_of": as_of}).all()
    cols = [
        "unit",
        "cases",
        "rectify_due_cases",
        "rectified_on_time_cases",
        "visit_due_cases",
        "visited_cases",
        "appeals",
        "appeals_upheld",
        "appeals_removed",
    ]
    df = pd.DataFrame(rows, columns=cols).set_index("unit")
    df = df.astype(int) if not df.empty else df
    due = df["rectify_due_cases"].where(df["rectify_due_cases"] > 0)
    vdue = df["visit_due_cases"].where(df["visit_due_cases"] > 0)
    df["rectified_on_time"] = df["rectified_on_time_cases"] / due * 100
    df["return_visit_rate"] = df["visited_cases"] / vdue * 100
    return df


def management_indicator_values(
    session: Session, start: date, end: date, as_of: date | None = None
) -> list[dict[str, Any]]:
    """Values of mgmt_rectify_on_time and mgmt_return_visit for the administrative
    management objects of each department with cases, ready for `add_metric_values`."""
    metrics = case_metrics(session, start, end, "department", as_of)
    if metrics.empty:
        return []
    targets = session.execute(
        select(col(Department.code), col(AssessedObject.code))
        .join(AssessedObject, col(AssessedObject.department_id) == col(Department.id))
        .where(col(AssessedObject.kind) == "management", col(AssessedObject.subkind) == "administrative")
    ).all()
    out: list[dict[str, Any]] = []
    for dept, obj in targets:
        if dept not in metrics.index:
            continue
        for indicator, column in (
            ("mgmt_rectify_on_time", "rectified_on_time"),
            ("mgmt_return_visit", "return_visit_rate"),
        ):
            value: Any = metrics.at[dept, column]
            if pd.notna(value):
                out.append(
                    {"object": obj, "indicator": indicator, "value": round(float(value), 4), "sheet": "cases"}
                )
    return out
