"""Roll-ups and rating measures: known answers (Wilson 1927), empirical-Bayes laws, and the
incremental roll-ups equal a rebuild from the raw ratings, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import date

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text

from tests.helpers.register import Env


def test_wilson_known_answers() -> None:
    from surveys.rollup import wilson_interval

    # Newcombe (1998), Statistics in Medicine 17:857, table I: 81/263 → 0.2553–0.3662;
    # 8/10 → 0.4902–0.9433 and 0/10 → 0–0.2775 (Brown, Cai & DasGupta 2001)
    lo, hi = wilson_interval(np.array([81, 8, 0]), np.array([263, 10, 10]))
    assert lo == pytest.approx([0.2553, 0.4902, 0.0], abs=5e-4)
    assert hi == pytest.approx([0.3662, 0.9433, 0.2775], abs=5e-4)


@given(st.lists(st.tuples(st.integers(0, 200), st.integers(1, 200)), min_size=2, max_size=12))
def test_eb_shrinks_toward_the_mean(pairs: list[tuple[int, int]]) -> None:
    from surveys.rollup import eb_shrunk_share

    s = np.array([min(a, b) for a, b in pairs], dtype=float)
    n = np.array([b for _, b in pairs], dtype=float)
    eb = eb_shrunk_share(s, n)
    raw = s / n
    pooled_lo, pooled_hi = min(raw.min(), (s.sum() / n.sum())), max(raw.max(), (s.sum() / n.sum()))
    assert np.all((eb >= pooled_lo - 1e-9) & (eb <= pooled_hi + 1e-9))  # never beyond the data
    assert np.all((eb >= 0) & (eb <= 1))


def test_eb_pulls_small_samples_more() -> None:
    from surveys.rollup import eb_shrunk_share

    # two objects with a perfect record: 5/5 is pulled further toward the mean than 500/500
    s = np.array([5, 500, 300, 120, 60], dtype=float)
    n = np.array([5, 500, 500, 200, 100], dtype=float)
    eb = eb_shrunk_share(s, n)
    assert eb[0] < eb[1] and eb[0] < 1 and eb[1] > 0.95


def test_measure_names_kept() -> None:
    from surveys.rollup import MEASURES

    assert MEASURES == ("share_satisfied", "mean_level", "bad_share", "response_rate", "count")


def _rollups() -> list[tuple[int, str, int, int, int, int, int]]:
    from egov.db import session_scope

    with session_scope() as s:
        rows = s.execute(
            text(
                "SELECT object_id, day, n1, n2, n3, n4, n5 FROM rating_daily WHERE n1+n2+n3+n4+n5 > 0 ORDER BY object_id, day"
            )
        ).all()
    return [(int(r[0]), str(r[1]), *map(int, r[2:])) for r in rows]  # type: ignore[misc]


def test_incremental_rollups_equal_rebuild(api: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    """Random single and batch ratings, follow-ups, held and reviewed ratings, removals."""
    from egov.db import session_scope
    from surveys.rollup import rebuild_rollups
    from tests.helpers.register import make_client

    client = make_client(monkeypatch, burst_object_max="12")
    rng = random.Random(7)
    objs = ["ONE_ACCOUNT", "OPEN_DATA_PLATFORM"]
    items = [{"object": rng.choice(objs), "transaction_ref": f"I-{i}"} for i in range(60)]
    toks = [
        t["token"]
        for t in client.post(
            "/api/v1/tokens/batch", json={"items": items}, headers=api.auth("department")
        ).json()["items"]
    ]

    def body(t: str, follow: bool = False) -> dict[str, object]:
        lv = rng.randint(1, 5)
        return {"token": t, "level": lv, "follow_up": follow, **({"better": ["other"]} if lv <= 2 else {})}

    for t in toks[:20]:
        client.post("/api/v1/ratings", json=body(t))
    client.post("/api/v1/ratings/batch", json={"items": [body(t) for t in toks[20:50]]})
    for t in toks[:10]:
        client.post("/api/v1/ratings", json=body(t, follow=True))
    ass = api.auth("assessor")
    held = client.get("/api/v1/ratings/held", headers=ass).json()
    assert held, "the burst limit should have held some ratings"
    for h in held[::2]:
        client.post(f"/api/v1/ratings/{h['id']}/review", json={"decision": "accept"}, headers=ass)
    cases = client.get("/api/v1/cases", headers=ass).json()
    dep = api.auth("department")
    for c in cases[:3]:
        client.post(f"/api/v1/cases/{c['id']}/transition", json={"to": "appealed"}, headers=dep)
        client.post(f"/api/v1/cases/{c['id']}/transition", json={"to": "removed"}, headers=ass)
    incremental = _rollups()
    assert sum(sum(r[2:]) for r in incremental) > 20
    with session_scope() as s:
        rebuild_rollups(s, date(2000, 1, 1), date(2100, 12, 31))
    assert _rollups() == incremental


def test_holiday_calendar() -> None:
    from surveys.calendar import load_calendar

    cal = load_calendar()
    assert {2022, 2027} <= cal.covered_years
    # Friday 2026-12-18 + 1 working day: Wed 23 (20 = SAR Day on a Sunday, so Mon 21 is its
    # compensatory rest day; Tue 22 is Winter Solstice)
    assert cal.add_working_days(date(2026, 12, 18), 1) == date(2026, 12, 23)
    # 24/25 Christmas: Mon 21 + 1 → Wed 23, + 2 → Mon 28
    assert cal.add_working_days(date(2026, 12, 21), 1) == date(2026, 12, 23)
    assert cal.add_working_days(date(2026, 12, 21), 2) == date(2026, 12, 28)
    # 15 working days from Monday 2026-02-16 skip the three Lunar New Year days
    assert cal.add_working_days(date(2026, 2, 16), 15) == date(2026, 3, 12)
    assert cal.add_working_days(date(2026, 2, 16), 0) == date(2026, 2, 16)


def test_scrub_patterns() -> None:
    from surveys.privacy import scrub_comment

    cases = {
        "my ID 1234567(8) please": "my ID [id] please",
        "BIR 5123456 (3)": "BIR [id]",
        "call +853 6612 3456": "call [phone]",
        "tel 28123456.": "tel [phone].",
        "or 0086 138 0013 8000": "or [phone]",
        "mail a.b+c@gov.mo now": "mail [email] now",
        "HK A123456(7)": "HK [id]",
        "waited 45 minutes, 3 times, in 2026": "waited 45 minutes, 3 times, in 2026",
    }
    for raw, want in cases.items():
        assert scrub_comment(raw) == want, raw


def test_purge_keeps_rollups(api: Env) -> None:
    from egov.db import session_scope
    from surveys.privacy import purge_ratings
    from surveys.rollup import rebuild_rollups

    for i in range(6):
        api.rate(api.token(ref=f"P-{i}", citizen_id=f"C{i}"), 1 + i % 5, comment="me@x.mo")
    before = _rollups()
    with session_scope() as s:
        counts = purge_ratings(s, date(2100, 1, 1))
    assert counts["anonymised"] == 6
    with session_scope() as s:
        left = s.execute(text("SELECT comment, pseudonym, transaction_ref FROM rating")).all()
        assert all(c == "" and p == "" and t.startswith("purged-") for c, p, t in left)
        assert s.execute(text("SELECT COUNT(*) FROM rating_token")).scalar() == 0
    assert _rollups() == before
    with session_scope() as s:
        rebuild_rollups(s, date(2000, 1, 1), date(2100, 12, 31))
    assert _rollups() == before
