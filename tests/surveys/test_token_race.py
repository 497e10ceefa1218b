"""Two first requests for the token of one transaction, racing (a back end retrying while its
first call is still in flight; two API workers): the second must get the same token as the
first, not a 500 from the unique key, and the transaction counts one offered rating."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from tests.helpers.register import Env


def _race_once(monkeypatch: pytest.MonkeyPatch, competing: list[dict[str, Any]]) -> None:
    """Make the next token insert lose a race: just before it, another session issues (and
    commits) the tokens of `competing` with the same department key."""
    import surveys.tokens as tokens
    from egov.auth import authenticate
    from egov.db import session_scope
    from surveys.schemas import TokenRequest

    real = tokens.insert_new_tokens
    state = {"done": False}

    def racing(session: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not state["done"]:
            state["done"] = True
            with session_scope() as other:
                principal = authenticate(other, competing[0]["key"])
                assert principal is not None
                tokens.issue_tokens(
                    other,
                    principal,
                    [TokenRequest(object=c["object"], transaction_ref=c["ref"]) for c in competing],
                )
        return real(session, rows)

    monkeypatch.setattr(tokens, "insert_new_tokens", racing)


def _tokens_and_offers(ref_prefix: str) -> tuple[int, int]:
    from egov.db import session_scope
    from egov.models import OfferDaily, RatingToken

    with session_scope() as s:
        tokens = s.execute(
            select(func.count())
            .select_from(RatingToken)
            .where(col(RatingToken.transaction_ref).startswith(ref_prefix))
        ).scalar_one()
        offers = s.execute(select(func.coalesce(func.sum(OfferDaily.n_offered), 0))).scalar_one()
    return int(tokens), int(offers)


def test_single_token_request_losing_a_race_gets_the_winners_token(
    api: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = api.keys["department"]
    _race_once(monkeypatch, [{"key": key, "object": "ONE_ACCOUNT", "ref": "RACE-1"}])
    r = api.client.post(
        "/api/v1/tokens",
        json={"object": "ONE_ACCOUNT", "transaction_ref": "RACE-1"},
        headers=api.auth("department"),
    )
    assert r.status_code == 200, r.text
    again = api.client.post(
        "/api/v1/tokens",
        json={"object": "ONE_ACCOUNT", "transaction_ref": "RACE-1"},
        headers=api.auth("department"),
    )
    assert again.status_code == 200
    assert r.json()["token"] == again.json()["token"]  # the winner's token, re-issued
    assert _tokens_and_offers("RACE-") == (1, 1)
    assert api.rate(r.json()["token"]).status_code == 200


def test_batch_losing_part_of_a_race_keeps_order_and_counts_each_offer_once(
    api: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = api.keys["department"]
    _race_once(monkeypatch, [{"key": key, "object": "ONE_ACCOUNT", "ref": "RACE-B"}])
    items = [{"object": "ONE_ACCOUNT", "transaction_ref": f"RACE-{x}"} for x in ("A", "B", "C", "B")]
    r = api.client.post("/api/v1/tokens/batch", json={"items": items}, headers=api.auth("department"))
    assert r.status_code == 200, r.text
    got = r.json()["items"]
    assert [g["transaction_ref"] for g in got] == ["RACE-A", "RACE-B", "RACE-C", "RACE-B"]
    assert got[1]["token"] == got[3]["token"]
    single = api.client.post(
        "/api/v1/tokens",
        json={"object": "ONE_ACCOUNT", "transaction_ref": "RACE-B"},
        headers=api.auth("department"),
    )
    assert single.json()["token"] == got[1]["token"]
    assert _tokens_and_offers("RACE-") == (3, 3)
    for g in got[:3]:
        assert api.rate(g["token"]).status_code == 200
