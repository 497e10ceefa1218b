"""Rate limits are the sender's (issue 13, point 6): a citizen replaying a used token in
batches of 500 spends nothing of the department's issuing budget, and a flooding client is
stopped by its own bucket while others go on. On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from egov.app import create_app
from egov.settings import reset_settings
from tests.helpers.register import Env

ATTACKER = ("203.0.113.9", 40000)
BACK_END = ("198.51.100.20", 40000)
CITIZEN = ("192.0.2.30", 40000)


def _app(monkeypatch: pytest.MonkeyPatch, **env: str) -> Any:
    for k, v in env.items():
        monkeypatch.setenv(f"EGOV_{k.upper()}", v)
    reset_settings()
    return create_app()


def _issue(client: TestClient, api: Env, prefix: str, n: int) -> Any:
    items = [{"object": "ONE_ACCOUNT", "transaction_ref": f"{prefix}-{i}"} for i in range(n)]
    return client.post("/api/v1/tokens/batch", json={"items": items}, headers=api.auth("department"))


def test_replayed_tokens_do_not_spend_the_issuers_budget(api: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    app = _app(monkeypatch, rate_limit_issuer="1000")
    back_end = TestClient(app, client=BACK_END)
    attacker = TestClient(app, client=ATTACKER)
    used = _issue(back_end, api, "U", 1).json()["items"][0]["token"]
    assert attacker.post("/api/v1/ratings", json={"token": used, "level": 5}).status_code == 200
    replay = {"items": [{"token": used, "level": 3}] * 500}  # refused items (409 each)
    for _ in range(4):  # 2,000 refused items: twice the issuer's budget of 1,000 a minute
        r = attacker.post("/api/v1/ratings/batch", json=replay)
        assert r.status_code == 200, r.text
        assert {x["code"] for x in r.json()["items"]} == {409}
    issued = _issue(back_end, api, "N", 500)  # the department's own issuance is untouched
    assert issued.status_code == 200, issued.text
    assert len(issued.json()["items"]) == 500


def test_a_flooding_client_is_limited_by_its_own_bucket(api: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    app = _app(monkeypatch, rate_limit_client="5", rate_limit_issuer="5")
    back_end = TestClient(app, client=BACK_END)
    attacker = TestClient(app, client=ATTACKER)
    citizen = TestClient(app, client=CITIZEN)
    tok = _issue(back_end, api, "F", 2).json()["items"]
    replay = {"items": [{"token": tok[0]["token"], "level": 5}] * 50}
    codes = [attacker.post("/api/v1/ratings/batch", json=replay).status_code for _ in range(8)]
    assert codes[:5] == [200] * 5 and set(codes[5:]) == {429}
    refused = attacker.post("/api/v1/ratings", json={"token": tok[1]["token"], "level": 5})
    assert refused.status_code == 429 and "client" in refused.json()["detail"]
    assert int(refused.headers["Retry-After"]) >= 1
    # the others go on: another citizen rates, the back end still issues (its own key's budget)
    assert citizen.post("/api/v1/ratings", json={"token": tok[1]["token"], "level": 5}).status_code == 200
    assert _issue(back_end, api, "G", 3).status_code == 200
