"""Group commit of single ratings (surveys.routes.ratings.rate_group): ratings that arrive
together are stored in one transaction, each as it would be alone (a token sent twice in the
group: the second is answered as the replay), and answered after the commit; a group whose
pooled connection is broken (as after a database restart) is stored again rating by rating,
each once. On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

import surveys.routes.ratings
from egov.db import session_scope
from surveys.routes.ratings import rate_group
from surveys.schemas import RatingCreate
from tests.helpers.register import Env


def _counts() -> tuple[int, int, int]:
    with session_scope() as s:
        ratings = int(s.execute(text("SELECT COUNT(*) FROM rating")).scalar() or 0)
        counted = int(s.execute(text("SELECT SUM(n1 + n2 + n3 + n4 + n5) FROM rating_daily")).scalar() or 0)
        cases = int(s.execute(text("SELECT COUNT(*) FROM rating_case")).scalar() or 0)
    return ratings, counted, cases


def _break_connections() -> bool:
    """Every other connection to the test database is closed by the server (PostgreSQL:
    True; SQLite: nothing to break, False)."""
    with session_scope() as s:
        if s.get_bind().dialect.name != "postgresql":
            return False
        s.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    return True


def test_group_commit_stores_each_rating_once(api: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    tokens = [api.token(ref=f"G-{i}") for i in range(8)]
    bodies = [
        RatingCreate(token=t, level=1 + i % 5, better=["efficiency"] if i % 5 < 2 else [])
        for i, t in enumerate(tokens)
    ]
    first = rate_group([(b, "127.0.0.1") for b in bodies[:4]])
    assert all(not isinstance(r, Exception) and r.status_code == 200 for r in first), first
    assert _counts() == (4, 4, 2)  # levels 1–4: two bad ratings, two cases

    alone: list[str] = []  # the ratings stored again one by one
    rate_one = surveys.routes.ratings._rate_one

    def spy(body: RatingCreate, ip: str | None) -> Any:
        alone.append(body.token)
        return rate_one(body, ip)

    monkeypatch.setattr(surveys.routes.ratings, "_rate_one", spy)
    broken = _break_connections()
    second = rate_group([(b, "127.0.0.1") for b in (*bodies[4:], bodies[4], bodies[0])])
    answers = [
        (r.status_code, r.headers.get("Idempotent-Replay")) for r in second if not isinstance(r, Exception)
    ]
    assert answers == [(200, None)] * 4 + [(200, "true")] * 2, second
    assert _counts() == (8, 8, 4)
    assert len(alone) == (6 if broken else 0), alone  # broken: the whole group again, one by one
