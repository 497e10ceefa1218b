"""The built-in demo's citizens and case handlers (ILLUSTRATIVE DATA): rating tokens issued
per transaction, ratings submitted with them and the cases of the bad ones, all through the
rating service's own functions (surveys.tokens, surveys.ratings, surveys.cases) on the days
of the demo periods, with one demo key per department (revoked when the demo is built).

Volumes follow use (a stated figure per citizen-facing service); satisfaction and the
promptness of case handling follow the latent quality of the service and its department.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlmodel import Session

from egov.auth import Principal, create_key, revoke_key
from egov.clock import local_zone
from egov.settings import get_settings
from surveys.calendar import added_days, load_calendar
from surveys.cases import CaseMove, transition_cases
from surveys.ratings import submit_ratings, verify_claims
from surveys.schemas import BAD_LEVELS, RatingCreate, TokenRequest
from surveys.services import catalogue
from surveys.tokens import issue_tokens

DEMO_REF = "demo-"  # transaction references (tokens, ratings) of the demo start with it
DEMO_KEY_LABEL = "egov demo (illustrative): issues the demo's rating tokens; revoked"
DEMO_ACTOR = "egov demo"
SERVICE_SHARE = 0.6  # of an app's transactions that are one of the service items it offers
SERVICE_SEED = 17_000  # the service items' draws have their own generator (+ the period's year)
ISSUE_CHUNK = 2000  # tokens a call of issue_tokens (each call checks its transactions in one query)
DRIVERS = np.array(["effectiveness", "ease", "efficiency", "transparency", "staff", "other"])
CHANNELS, CHANNEL_P = np.array(["app", "web", "kiosk", "counter"]), [0.6, 0.3, 0.05, 0.05]
LANGS, LANG_P = np.array(["zh-Hant", "pt", "en"]), [0.85, 0.05, 0.10]

_DEMO_RATINGS = f"SELECT id FROM rating WHERE transaction_ref LIKE '{DEMO_REF}%'"
_DEMO_CASES = f"SELECT id FROM rating_case WHERE rating_id IN ({_DEMO_RATINGS})"
_DEMO_KEYS = "SELECT id FROM api_key WHERE label = :label"
CLEAR_SQL = (  # in this order: the audit entries first, then what references what
    f"DELETE FROM audit_log WHERE target_type = 'rating_case' AND target_id IN "
    f"(SELECT CAST(id AS VARCHAR(40)) FROM rating_case WHERE rating_id IN ({_DEMO_RATINGS}))",
    f"DELETE FROM audit_log WHERE target_type = 'rating' AND target_id IN "
    f"(SELECT CAST(id AS VARCHAR(40)) FROM rating WHERE transaction_ref LIKE '{DEMO_REF}%')",
    "DELETE FROM audit_log WHERE target_type = 'api_key' AND target_id IN "
    "(SELECT CAST(id AS VARCHAR(40)) FROM api_key WHERE label = :label)",
    f"DELETE FROM rating_case WHERE id IN ({_DEMO_CASES})",
    "DELETE FROM rating_subject WHERE token_id IN "
    f"(SELECT id FROM rating_token WHERE transaction_ref LIKE '{DEMO_REF}%')",
    f"DELETE FROM rating_token WHERE transaction_ref LIKE '{DEMO_REF}%'",
    f"DELETE FROM rating WHERE transaction_ref LIKE '{DEMO_REF}%'",
    f"DELETE FROM report_session WHERE key_id IN ({_DEMO_KEYS})",
    f"DELETE FROM api_key WHERE id IN ({_DEMO_KEYS})",
)


@dataclass
class Actors:
    """The demo's keys: one department key per department (by department id), one assessor,
    one lead (SAFP, the government's lead body, which opens and publishes the demo's cycles)."""

    departments: dict[int, Principal]
    assessor: Principal
    lead: Principal


def clear_activity(session: Session) -> None:
    """Delete what an earlier demo made through the service: its cases (and their audit
    entries), tokens, ratings and keys. Nobody else's rows are touched."""
    for sql in CLEAR_SQL:
        session.execute(text(sql), {"label": DEMO_KEY_LABEL})


def demo_actors(session: Session, departments: dict[int, str]) -> Actors:
    """A department key for each department {id: code}, an assessor key and a lead key (the
    keys themselves are not kept: nobody can use them)."""
    keys = {}
    for dep_id, code in sorted(departments.items()):
        _, row = create_key(session, "department", code, DEMO_KEY_LABEL, actor=DEMO_ACTOR)
        keys[dep_id] = Principal(int(row.id or 0), "department", dep_id, code, DEMO_KEY_LABEL)
    _, row = create_key(session, "assessor", None, DEMO_KEY_LABEL, actor=DEMO_ACTOR)
    assessor = Principal(int(row.id or 0), "assessor", None, None, DEMO_KEY_LABEL)
    _, row = create_key(session, "lead", None, DEMO_KEY_LABEL, actor=DEMO_ACTOR)
    return Actors(keys, assessor, Principal(int(row.id or 0), "lead", None, None, DEMO_KEY_LABEL))


def retire_actors(session: Session, actors: Actors) -> None:
    """Revoke the demo's keys once its ratings and cases are made."""
    for p in [*actors.departments.values(), actors.assessor, actors.lead]:
        revoke_key(session, p.key_id, actor=DEMO_ACTOR)


def moment(day: date, hour: float) -> datetime:
    """`hour` o'clock local time (EGOV_TIMEZONE) on `day`, in UTC."""
    at = datetime.combine(day, time(0), tzinfo=local_zone()) + timedelta(hours=hour)
    return at.astimezone(UTC)


def _transactions(apps: pd.DataFrame, n: int, start: date, end: date, period: str, rng: Any) -> pd.DataFrame:
    """The period's transactions offered a rating, one row each (object, department, day,
    reference, citizen, and the level of its rating, 0 when the citizen did not rate):
    rated volumes in proportion to the services' use; the level from the service's quality."""
    days = pd.date_range(start, end).date
    weight = np.array([1.0 if d.weekday() < 5 else 0.45 for d in days])  # fewer at weekends
    per_obj = rng.multinomial(n, (apps["use"] / apps["use"].sum()).to_numpy())
    frames = []
    for (obj_id, code, dep, q), k in zip(
        apps[["id", "code", "department", "quality"]].itertuples(index=False), per_obj, strict=True
    ):
        if k == 0:
            continue
        s = -0.7 + 2.4 * q + rng.normal(0, 0.15)  # satisfaction: the quality, and noise
        logits = np.array([-1.5, -1.0, 0.0, 0.8, 1.2]) + s * np.array([-1.0, -0.6, 0.0, 0.6, 1.0])
        offered = int(np.ceil(k / rng.uniform(0.3, 0.6)))  # the response rate of the service
        levels = np.zeros(offered, dtype=int)
        levels[:k] = rng.choice(np.arange(1, 6), size=k, p=np.exp(logits) / np.exp(logits).sum())
        frames.append(
            pd.DataFrame(
                {
                    "object": code,
                    "object_id": int(obj_id),
                    "department": int(dep),
                    "day": rng.choice(days, size=offered, p=weight / weight.sum()),
                    "citizen": rng.integers(0, 400_000, size=offered),
                    "level": rng.permutation(levels),
                }
            )
        )
    tx = pd.concat(frames, ignore_index=True).sort_values(["day", "object"], kind="stable")
    tx["ref"] = [f"{DEMO_REF}{period}-{i:07d}" for i in range(1, len(tx) + 1)]
    return tx.reset_index(drop=True)


def offered_items(session: Session) -> dict[str, list[str]]:
    """The active service items of the catalogue by the object they are offered through (the
    items that list their objects; egov/data/macau_services.toml)."""
    items = catalogue(session)
    out: dict[str, list[str]] = defaultdict(list)
    for code, row in items[items["active"]].iterrows():
        for obj in row["objects"]:
            out[str(obj)].append(str(code))
    return dict(out)


def service_of(tx: pd.DataFrame, offered: dict[str, list[str]], seed: int) -> list[str | None]:
    """The service item each transaction was (SERVICE_SHARE of the transactions of an object
    that offers items, one of them at random; None for the others): drawn from its own seeded
    generator, so that the demo's other draws stay as they were."""
    rng = np.random.default_rng(seed)
    out: list[str | None] = []
    for obj, u in zip(tx["object"], rng.random(len(tx)), strict=True):
        items = offered.get(str(obj))
        out.append(items[int(u / SERVICE_SHARE * len(items))] if items and u < SERVICE_SHARE else None)
    return out


def _rating(token: str, level: int, rng: Any) -> RatingCreate:
    """What a citizen answers: a reason for a bad rating, sometimes what went well."""
    better = list(rng.choice(DRIVERS, size=rng.integers(1, 3), replace=False)) if level in BAD_LEVELS else []
    good = list(rng.choice(DRIVERS[:5], size=1)) if level >= 4 and rng.random() < 0.4 else []
    return RatingCreate(
        token=token,
        level=level,
        good=good,
        better=better,
        channel=str(rng.choice(CHANNELS, p=CHANNEL_P)),
        language=str(rng.choice(LANGS, p=LANG_P)),
    )


def citizen_ratings(
    session: Session,
    apps: pd.DataFrame,
    n: int,
    period: tuple[str, date, date],
    rng: Any,
    actors: Actors,
) -> dict[str, int]:
    """About `n` ratings of the citizen-facing services `apps` (id, code, department, use,
    quality) over the period (code, start, end): each department's key is issued one token
    per transaction on its day; the citizens who rate submit on that day (a bad rating opens
    its case). Returns the counts of tokens and ratings."""
    code, start, end = period
    tx = _transactions(apps, n, start, end, code, rng)
    tx["service"] = service_of(tx, offered_items(session), SERVICE_SEED + int(start.year))
    tokens: list[str] = [""] * len(tx)
    hours = 9 + 8 * rng.random(len(tx))  # in office hours
    for dep, group in tx.groupby("department", sort=True):
        for chunk in range(0, len(group), ISSUE_CHUNK):
            part = group.iloc[chunk : chunk + ISSUE_CHUNK]
            issued = issue_tokens(
                session,
                actors.departments[int(str(dep))],
                [
                    TokenRequest(
                        object=o,
                        transaction_ref=r,
                        citizen_id=f"demo-citizen-{c}",
                        service=svc if isinstance(svc, str) else None,
                    )
                    for o, r, c, svc in zip(
                        part["object"], part["ref"], part["citizen"], part["service"], strict=True
                    )
                ],
                now=[moment(d, h) for d, h in zip(part["day"], hours[part.index], strict=True)],
            )
            for i, t in zip(part.index, issued, strict=True):
                tokens[i] = t.token
    rated = tx[tx["level"] > 0]
    for day, group in rated.groupby("day", sort=True):
        at = moment(pd.Timestamp(str(day)).date(), 20)  # the day's ratings, sent in the evening
        items = [_rating(tokens[int(str(i))], int(lv), rng) for i, lv in group["level"].items()]
        results = submit_ratings(session, items, verify_claims(session, items, at), now=at)
        refused = [r.error for r in results if not r.ok]
        if refused:
            raise RuntimeError(f"demo ratings refused on {day}: {refused[:3]}")
    return {"tokens": len(tx), "ratings": len(rated)}


def _case_path(
    opened: date, due: date, q: float, rng: Any, cal: Any, days: tuple[int, int]
) -> list[tuple[str, date, str]]:
    """The moves of one case (state, day, who: department or assessor): appealed now and
    then; rectified on time or late, and visited again or not, more often well the better
    the department (`q`, 0–1)."""
    rectify_days, visit_days = days
    step = lambda d, n: cal.add_working_days(d, n)  # noqa: E731
    moves: list[tuple[str, date, str]] = []
    day = step(opened, int(rng.integers(0, 3)))
    if rng.random() < 0.07:
        moves.append(("appealed", day, "department"))
        day = step(day, int(rng.integers(2, 8)))
        if rng.random() < 0.35:
            return [*moves, ("removed", day, "assessor")]
        moves += [("upheld", day, "assessor"), ("rectifying", day, "department")]
    else:
        moves += [
            ("verified", day, "department"),
            ("rectifying", step(day, int(rng.integers(0, 2))), "department"),
        ]
    if rng.random() < 0.45 + 0.5 * q:  # on time: by the deadline
        fixed = max(moves[-1][1], min(step(opened, int(rng.integers(2, rectify_days + 1))), due))
    else:
        fixed = step(due, int(rng.integers(1, 20)))
    moves.append(("rectified", fixed, "department"))
    if rng.random() < 0.7 + 0.28 * q:
        visit = step(fixed, int(rng.integers(0, visit_days + 1)))
        moves += [("return_visit_done", visit, "department"), ("closed", visit, "department")]
    return moves


def handle_cases(
    session: Session, period: str, dept_quality: pd.Series, horizon: date, rng: Any, actors: Actors
) -> dict[str, int]:
    """The departments handle the cases the period's bad ratings opened, move by move through
    the case state machine (surveys.cases.transition_cases), each move dated; moves after
    `horizon` (the demo's "today") are not made yet. Returns the counts of cases and moves."""
    settings = get_settings()
    cal = load_calendar(settings.holidays_file).with_added(added_days(session))  # as the service counts
    rows = session.execute(
        text(
            "SELECT c.id, c.department_id, c.opened_day, c.rectify_due FROM rating_case c "
            "JOIN rating r ON r.id = c.rating_id WHERE r.transaction_ref LIKE :refs ORDER BY c.id"
        ),
        {"refs": f"{DEMO_REF}{period}-%"},
    ).all()
    waves: dict[int, dict[Principal, list[CaseMove]]] = defaultdict(lambda: defaultdict(list))
    n_moves = 0
    for case_id, dep, opened, due in rows:
        opened, due = (d if isinstance(d, date) else date.fromisoformat(d) for d in (opened, due))
        path = _case_path(
            opened,
            due,
            float(dept_quality.get(int(dep), 0.5)),
            rng,
            cal,
            (settings.case_rectify_days, settings.case_return_visit_days),
        )
        for i, (to, day, who) in enumerate(path):
            if day > horizon:
                break
            actor = actors.departments[int(dep)] if who == "department" else actors.assessor
            waves[i][actor].append(CaseMove(int(case_id), to, day, moment(day, 10 + i)))
            n_moves += 1
    for i in sorted(waves):
        for actor, moves in waves[i].items():
            transition_cases(session, actor, moves, note="illustrative demo handling")
    return {"cases": len(rows), "case_moves": n_moves}
