"""Concurrent state changes (issue 13, defect 3): N requests deciding the same held rating or
moving the same case at the same moment, on real threads released together against the app on
a real database (an SQLite file with the app's engine settings, and PostgreSQL). Exactly one
wins (200); the others get 409 saying what happened; the daily roll-ups equal a recount of the
ratings that count, so no decision is counted twice."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import text

from tests.helpers.races import Post, post_together, rollups_and_recount
from tests.helpers.register import Env, make_client

# N racing requests per trial, several trials of each size
SIZES = (3, 4, 5, 6, 7, 8, 3, 8)

pytestmark = pytest.mark.slow


def _audit_count(action: str) -> int:
    from egov.db import session_scope

    with session_scope() as s:
        return int(
            s.execute(text("SELECT COUNT(*) FROM audit_log WHERE action = :a"), {"a": action}).scalar_one()
        )


def _held_ratings(api: Env, client: Any, n: int) -> list[int]:
    """n ratings held by burst detection (every rating is held: the object's maximum is 0)."""
    for i in range(n):
        level = 1 + i % 5  # bad ones too: accepting one opens its case, once
        body = {"token": api.token(ref=f"H-{i}"), "level": level, "better": ["staff"] if level <= 2 else []}
        r = client.post("/api/v1/ratings", json=body)
        assert r.status_code == 200 and r.json()["status"] == "held", r.text
    held = client.get("/api/v1/ratings/held", headers=api.auth("assessor")).json()
    return [int(h["id"]) for h in held]


def _outcome(responses: list[Any]) -> tuple[list[int], list[str]]:
    codes = sorted(r.status_code for r in responses)
    return codes, [r.json()["detail"] for r in responses if r.status_code == 409]


def test_concurrent_accepts_of_one_held_rating_count_it_once(
    api: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = make_client(monkeypatch, burst_object_max="0", rate_limit_client="100000")
    ids = _held_ratings(api, client, len(SIZES))
    h = api.auth("assessor")
    for n, rid in zip(SIZES, ids, strict=True):
        responses = post_together(client, [(f"/api/v1/ratings/{rid}/review", {"decision": "accept"}, h)] * n)
        codes, refusals = _outcome(responses)
        assert codes == [200] + [409] * (n - 1), [r.text for r in responses]
        assert all(m == f"rating {rid} was already reviewed: accepted" for m in refusals), refusals
        stored, recount = rollups_and_recount()
        assert stored == recount, f"{n} accepts of rating {rid}: roll-ups {stored}, recount {recount}"
    assert _audit_count("rating.review.accept") == len(SIZES)
    assert client.get("/api/v1/ratings/held", headers=h).json() == []


def test_concurrent_accept_and_reject_one_decision_wins(api: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    client = make_client(monkeypatch, burst_object_max="0", rate_limit_client="100000")
    ids = _held_ratings(api, client, len(SIZES))
    h = api.auth("assessor")
    for n, rid in zip(SIZES, ids, strict=True):
        decisions = ["accept" if i % 2 else "reject" for i in range(n)]
        responses = post_together(
            client, [(f"/api/v1/ratings/{rid}/review", {"decision": d}, h) for d in decisions]
        )
        codes, refusals = _outcome(responses)
        assert codes == [200] + [409] * (n - 1), [r.text for r in responses]
        winner = next(r.json()["flags"] for r in responses if r.status_code == 200)
        word = "rejected" if winner == "rejected" else "accepted"
        assert all(m == f"rating {rid} was already reviewed: {word}" for m in refusals), refusals
    stored, recount = rollups_and_recount()
    assert stored == recount
    assert _audit_count("rating.review.accept") + _audit_count("rating.review.reject") == len(SIZES)


def test_follow_up_racing_an_accept_is_counted_at_its_final_level(
    api: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A citizen's one follow-up and the assessor's accept of the same held rating at once: the
    roll-up counts the rating once, at the level it ends with (or the follow-up is refused)."""
    client = make_client(monkeypatch, burst_object_max="0", rate_limit_client="100000")
    h = api.auth("assessor")
    for trial in range(len(SIZES)):
        token = api.token(ref=f"F-{trial}")
        assert client.post("/api/v1/ratings", json={"token": token, "level": 5}).json()["status"] == "held"
        rid = max(int(r["id"]) for r in client.get("/api/v1/ratings/held", headers=h).json())
        accept, follow_up = post_together(
            client,
            [
                (f"/api/v1/ratings/{rid}/review", {"decision": "accept"}, h),
                ("/api/v1/ratings", {"token": token, "level": 4, "follow_up": True}, {}),
            ],
        )
        assert accept.status_code == 200, accept.text
        assert follow_up.status_code in (200, 409), follow_up.text
        stored, recount = rollups_and_recount()
        assert stored == recount, f"trial {trial}: roll-ups {stored}, recount {recount}"


def _counted_bad_cases(api: Env, client: Any, n: int) -> list[int]:
    """n open cases of counted bad ratings of SAFP's ONE_ACCOUNT."""
    for i in range(n):
        r = client.post(
            "/api/v1/ratings", json={"token": api.token(ref=f"B-{i}"), "level": 1, "better": ["staff"]}
        )
        assert r.status_code == 200 and r.json()["status"] == "accepted", r.text
    cases = client.get("/api/v1/cases", headers=api.auth("department")).json()
    return [int(c["id"]) for c in cases if c["state"] == "open"]


def _move(cid: int, to: str, who: dict[str, str]) -> Post:
    return (f"/api/v1/cases/{cid}/transition", {"to": to, "note": "race"}, who)


def _says_state(message: str, cid: int, state: str) -> bool:
    """A loser's 409 names the state the winner moved the case to (lost at the compare-and-set,
    or read after the winner's commit)."""
    return re.match(rf"case {cid} (was already moved: |is ){state}\b", message) is not None


def test_concurrent_moves_of_one_case_one_wins(api: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    client = make_client(monkeypatch, rate_limit_client="100000")
    ids = _counted_bad_cases(api, client, len(SIZES))
    dep = api.auth("department")
    for n, cid in zip(SIZES, ids, strict=True):
        # the same move n times, and then competing moves out of `verified`
        responses = post_together(client, [_move(cid, "verified", dep)] * n)
        codes, refusals = _outcome(responses)
        assert codes == [200] + [409] * (n - 1), [r.text for r in responses]
        assert all(_says_state(m, cid, "verified") for m in refusals), refusals
        targets = ["rectifying" if i % 2 else "appealed" for i in range(n)]
        responses = post_together(client, [_move(cid, t, dep) for t in targets])
        codes, refusals = _outcome(responses)
        assert codes == [200] + [409] * (n - 1), [r.text for r in responses]
        state = next(r.json()["state"] for r in responses if r.status_code == 200)
        assert all(_says_state(m, cid, state) for m in refusals), refusals
        assert client.get(f"/api/v1/cases/{cid}", headers=dep).json()["state"] == state
    assert _audit_count("case.transition") == 2 * len(SIZES)


def test_concurrent_removals_on_appeal_take_the_rating_back_once(
    api: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = make_client(monkeypatch, rate_limit_client="100000")
    ids = _counted_bad_cases(api, client, len(SIZES))
    dep, ass = api.auth("department"), api.auth("assessor")
    for cid in ids:
        path, body, who = _move(cid, "appealed", dep)
        assert client.post(path, json=body, headers=who).status_code == 200
    for n, cid in zip(SIZES, ids, strict=True):
        targets = ["removed" if i % 3 else "upheld" for i in range(n)]
        responses = post_together(client, [_move(cid, t, ass) for t in targets])
        codes, _ = _outcome(responses)
        assert codes == [200] + [409] * (n - 1), [r.text for r in responses]
        stored, recount = rollups_and_recount()
        assert stored == recount, f"{n} decisions on case {cid}: roll-ups {stored}, recount {recount}"
    assert _audit_count("rating.remove") == sum(
        1 for c in client.get("/api/v1/cases", headers=ass).json() if c["state"] == "removed"
    )


def test_concurrent_revocations_of_one_key_revoke_it_once(api: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    client = make_client(monkeypatch, rate_limit_client="100000")
    admin = api.auth("admin")
    for n in SIZES:
        made = client.post("/api/v1/keys", json={"role": "assessor", "label": f"race {n}"}, headers=admin)
        assert made.status_code == 200, made.text
        kid = made.json()["id"]
        responses = post_together(client, [(f"/api/v1/keys/{kid}/revoke", None, admin)] * n)
        assert [r.status_code for r in responses] == [200] * n  # revoking is idempotent
        assert len({r.json()["revoked_at"] for r in responses}) == 1  # one moment: the winner's
    assert _audit_count("key.revoke") == len(SIZES)
