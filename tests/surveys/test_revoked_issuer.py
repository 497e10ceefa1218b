"""A revoked department key's rating tokens are refused (issue 13, point 2): on a single
rating (the fast path and the general one), in a batch (per item, with its index), in the
widget, whether the key was revoked over HTTP or with `egov keys revoke`; a token of a key
that is not revoked still works. On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from egov.db import get_engine, session_scope
from surveys.ratings import verify_claims
from surveys.ratings_fast import submit_one_fast
from surveys.schemas import RatingCreate
from tests.helpers.register import Env


def _key_id(api: Env, who: str) -> int:
    r = api.client.get("/api/v1/me", headers=api.auth(who))
    assert r.status_code == 200, r.text
    return int(r.json()["key_id"])


def _revoke_http(api: Env, key_id: int) -> None:
    r = api.client.post(f"/api/v1/keys/{key_id}/revoke", headers=api.auth("admin"))
    assert r.status_code == 200 and r.json()["revoked_at"], r.text


def _state(token: str) -> str:
    with session_scope() as s:
        claims = verify_claims(s, [RatingCreate(token=token, level=5)])[0]
        return str(
            s.execute(
                text("SELECT state FROM rating_token WHERE id = :i"),
                {"i": getattr(claims, "token_id", "")},
            ).scalar()
        )


def _n_ratings() -> int:
    with session_scope() as s:
        return int(s.execute(text("SELECT COUNT(*) FROM rating")).scalar() or 0)


def _assert_refused(r: Any) -> None:
    assert r.status_code == 403, r.text
    assert "issuer of this token was revoked" in r.json()["detail"]


def test_revoked_issuer_tokens_are_refused_everywhere(api: Env) -> None:
    c = api.client
    single, in_batch, widget, fast, replayed = (api.token(ref=f"R-{i}") for i in range(5))
    assert api.rate(replayed, 4).status_code == 200  # used before the revocation
    other = api.token(obj="BUS_REPORT", ref="D-1", who="other_department")  # DSAT's key: not revoked
    other_batch = api.token(obj="BUS_REPORT", ref="D-2", who="other_department")
    before = _n_ratings()

    _revoke_http(api, _key_id(api, "department"))

    # the fast path itself refuses to claim the token (it leaves it to the general path)
    engine = get_engine()
    raw = engine.raw_connection()
    try:
        item = RatingCreate(token=fast, level=5)
        with session_scope() as s:
            claim = verify_claims(s, [item])[0]
        assert submit_one_fast(raw, engine.dialect.name, item, claim) is None
        raw.rollback()
    finally:
        raw.close()
    assert _state(fast) == "issued"

    _assert_refused(api.rate(single, 5))  # a single rating: fast path, then the general one
    _assert_refused(api.rate(replayed, 4))  # its identical repeat too
    _assert_refused(api.rate(replayed, 2, follow_up=True))  # and its follow-up
    batch = c.post(
        "/api/v1/ratings/batch",
        json={"items": [{"token": in_batch, "level": 5}, {"token": other_batch, "level": 4}]},
    )
    assert batch.status_code == 200, batch.text
    items = batch.json()["items"]
    assert items[0]["index"] == 0 and items[0]["code"] == 403 and not items[0]["ok"]
    assert "issuer of this token was revoked" in items[0]["error"]
    assert items[1]["index"] == 1 and items[1]["ok"] and batch.json()["accepted"] == 1
    page = c.get(f"/widget/ONE_ACCOUNT?token={widget}&lang=en")
    assert page.status_code == 403 and "withdrawn" in page.text
    assert _n_ratings() == before + 1  # only the DSAT batch item
    assert all(_state(t) == "issued" for t in (single, in_batch, widget, fast))

    # a token of a key that is not revoked still works: widget and single rating
    assert c.get(f"/widget/BUS_REPORT?token={other}").status_code == 200
    assert api.rate(other, 5).status_code == 200


def test_revoked_with_the_cli_and_the_department_gets_new_tokens(api: Env, egov: Any) -> None:
    old = api.token(ref="C-1")
    old_id = _key_id(api, "department")
    assert egov(["keys", "revoke", old_id]).code == 0
    _assert_refused(api.rate(old))
    # the department's new key asks again for the same transaction: a working token
    made = api.client.post(
        "/api/v1/keys",
        json={"role": "department", "department": "SAFP", "label": "SAFP new"},
        headers=api.auth("admin"),
    )
    assert made.status_code == 200, made.text
    api.keys["new_department"] = made.json()["key"]
    new = api.token(ref="C-1", who="new_department")
    assert new != old
    assert api.token(ref="C-1", who="new_department") == new  # still idempotent
    _assert_refused(api.rate(old))  # the old text stays refused
    assert api.rate(new, 5).status_code == 200
    with session_scope() as s:  # one offer for the transaction, not two
        assert s.execute(text("SELECT SUM(n_offered) FROM offer_daily")).scalar() == 1
