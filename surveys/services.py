"""Service items (事項) in the rating service: which service item a rating token may name
(`offered_services`, `check_offered`), the catalogue as listed (`catalogue`), and the ratings of
a period by service item, by owning department and by service item × object × channel, read
from the service-item roll-up (`rating_service_daily`, kept with `rating_daily`).

A rating names a service item through its token (the department's back end names it when it
asks for the token; the citizen cannot change it). It counts for its object as before (the
object's indicators: the quality of the app or site it was given in) and, in these figures,
for the department that owns the service item — a rating given inside Macao One Account (an
object of SAFP) for a DSF service counts for DSF here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlmodel import Session

from egov.errors import EgovError, ServiceError
from surveys.rollup import wilson_interval

LEVELS = ("n1", "n2", "n3", "n4", "n5")
BY = ("service", "department", "channel")


@dataclass(frozen=True)
class Offered:
    """A service item as token issuance checks it."""

    id: int
    code: str
    department_id: int
    active: bool
    objects: frozenset[int]  # the objects it is offered through; empty: its owner's own


def offered_services(session: Session, codes: Iterable[str]) -> dict[str, Offered]:
    """The service items of `codes` by code (unknown codes are absent), with their objects."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    marks = ", ".join(f":c{i}" for i in range(len(wanted)))
    params = {f"c{i}": c for i, c in enumerate(wanted)}
    rows = session.execute(
        text(
            "SELECT s.id, s.code, s.department_id, s.active, so.object_id FROM service_item s "
            f"LEFT JOIN service_object so ON so.service_id = s.id WHERE s.code IN ({marks})"
        ),
        params,
    ).all()
    objects: dict[str, set[int]] = {}
    base: dict[str, tuple[int, int, bool]] = {}
    for sid, code, dept, active, obj in rows:
        base[code] = (int(sid), int(dept), bool(active))
        objects.setdefault(code, set())
        if obj is not None:
            objects[code].add(int(obj))
    return {c: Offered(b[0], c, b[1], b[2], frozenset(objects[c])) for c, b in base.items()}


def service_codes(session: Session, ids: Iterable[int]) -> dict[int, str]:
    """The codes of the service items of `ids`."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    marks = ", ".join(f":i{j}" for j in range(len(wanted)))
    rows = session.execute(
        text(f"SELECT id, code FROM service_item WHERE id IN ({marks})"),
        {f"i{j}": v for j, v in enumerate(wanted)},
    ).all()
    return {int(i): str(c) for i, c in rows}


def check_offered(
    service: Offered | None, code: str, field: str, object_code: str, object_id: int, object_dept: int
) -> None:
    """Refuse (422, naming the request's `field`) a service item that is unknown, inactive, or not
    offered through the object: an item listing objects is offered through those; an item listing
    none is offered through its owning department's own objects."""
    if service is None:
        raise ServiceError(422, f"{field}: unknown service item '{code}' (see `egov services list`)")
    if not service.active:
        raise ServiceError(422, f"{field}: service item '{code}' is not active; it gets no new rating tokens")
    offered = object_id in service.objects if service.objects else object_dept == service.department_id
    if not offered:
        raise ServiceError(
            422, f"{field}: service item '{code}' is not offered through object '{object_code}'"
        )


def catalogue(session: Session, department: str | None = None, code: str | None = None) -> pd.DataFrame:
    """The service items (one row each, by code): names, owning department (code and names),
    channels, active, note, and the codes of the objects they are offered through."""
    where, params = [], {}
    if department:
        where.append("d.code = :d")
        params["d"] = department
    if code:
        where.append("s.code = :c")
        params["c"] = code
    rows = session.execute(
        text(
            "SELECT s.code, s.name_zh, s.name_pt, s.name_en, d.code, d.name_zh, d.name_pt, d.name_en, "
            "s.channels, s.active, s.note, s.updated_at, "
            "(SELECT COUNT(*) FROM service_object so WHERE so.service_id = s.id) "
            "FROM service_item s JOIN department d ON d.id = s.department_id"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY s.code"
        ),
        params,
    ).all()
    cols = ["code", "name_zh", "name_pt", "name_en", "department", "department_zh", "department_pt"]
    cols += ["department_en", "channels", "active", "note", "updated_at", "n_objects"]
    df = pd.DataFrame(rows, columns=cols)
    links = session.execute(
        text(
            "SELECT s.code, o.code FROM service_object so JOIN service_item s ON s.id = so.service_id "
            "JOIN assessed_object o ON o.id = so.object_id ORDER BY s.code, o.code"
        )
    ).all()
    objs: dict[str, list[str]] = {}
    for s, o in links:
        objs.setdefault(s, []).append(o)
    df["objects"] = [objs.get(c, []) for c in df["code"]]
    df["active"] = df["active"].astype(bool)
    return df.drop(columns="n_objects").set_index("code")


_KEYS = {
    "service": ("s.code", "d.code"),
    "department": ("d.code",),
    "channel": ("s.code", "d.code", "o.code", "r.channel"),
}
_NAMES = {
    "service": ["service", "department"],
    "department": ["department"],
    "channel": ["service", "department", "object", "channel"],
}


def service_ratings(
    session: Session,
    start: date,
    end: date,
    *,
    by: str = "service",
    department: str | None = None,
    min_ratings: int = 30,
) -> pd.DataFrame:
    """Counted ratings of the days [start, end] that name a service item, from the service-item
    roll-up, by `by`: "service" (a row per service item, with its owning department),
    "department" (a row per owning department: a rating counts for the owner of its service
    item, whatever object it was given through) or "channel" (service item × object × rating
    channel). `department`: only the items that department owns.

    Columns: n1…n5 (counts by level), count, share_satisfied (% at levels 4–5) with its Wilson
    95 % interval share_satisfied_low/high (Wilson 1927), mean_level and bad_share (% at levels
    1–2, GB/T 39735-2020); below `min_ratings` ratings the shares and the mean are null
    (insufficient), the minimum-count rule of surveys.rollup.rating_measures."""
    if by not in BY:
        raise EgovError(f"by {by!r}: use {', '.join(BY)}")
    keys = _KEYS[by]
    where = "r.day BETWEEN :start AND :end"
    params: dict[str, Any] = {"start": start, "end": end}
    if department:
        where += " AND d.code = :d"
        params["d"] = department
    sums = ", ".join(f"SUM(r.{n})" for n in LEVELS)
    rows = session.execute(
        text(
            f"SELECT {', '.join(keys)}, {sums} FROM rating_service_daily r "
            "JOIN service_item s ON s.id = r.service_id JOIN department d ON d.id = s.department_id "
            f"JOIN assessed_object o ON o.id = r.object_id WHERE {where} "
            f"GROUP BY {', '.join(keys)} ORDER BY {', '.join(keys)}"
        ),
        params,
    ).all()
    counts = pd.DataFrame(rows, columns=[*_NAMES[by], *LEVELS])
    return level_measures(counts, min_ratings)


def level_measures(counts: pd.DataFrame, min_ratings: int) -> pd.DataFrame:
    """`counts` (n1…n5 columns) with count, share satisfied and its Wilson interval, mean level
    and bad share; the shares and the mean null below `min_ratings`."""
    out = counts.copy()
    n_levels = out[list(LEVELS)].astype(float)
    n = n_levels.sum(axis=1)
    out[list(LEVELS)] = n_levels.astype(int)
    out["count"] = n.astype(int)
    sat = (n_levels["n4"] + n_levels["n5"]).to_numpy()
    low, high = wilson_interval(sat, n.to_numpy())
    with np.errstate(invalid="ignore", divide="ignore"):
        out["share_satisfied"] = sat / n.to_numpy() * 100
        out["mean_level"] = (n_levels.to_numpy() * np.arange(1, 6)).sum(axis=1) / n.to_numpy()
        out["bad_share"] = (n_levels["n1"] + n_levels["n2"]).to_numpy() / n.to_numpy() * 100
    out["share_satisfied_low"] = low * 100
    out["share_satisfied_high"] = high * 100
    few = (n < min_ratings).to_numpy()
    for c in ("share_satisfied", "share_satisfied_low", "share_satisfied_high", "mean_level", "bad_share"):
        out[c] = out[c].astype(float)
        out.loc[few, c] = np.nan
    return out
