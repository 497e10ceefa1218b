"""The audit trail names who made a key (issue 13, point 14): the admin key that called
`POST /api/v1/keys`, and `cli` for `egov keys create`. On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from tests.helpers.register import Env


def _entries(api: Env, action: str, target: str) -> list[dict[str, Any]]:
    r = api.client.get("/api/v1/audit", headers=api.auth("admin"))
    assert r.status_code == 200, r.text
    return [a for a in r.json() if a["action"] == action and a["target_id"] == target]


def test_a_key_made_over_http_is_audited_with_the_admin_key(api: Env) -> None:
    admin_id = api.client.get("/api/v1/me", headers=api.auth("admin")).json()["key_id"]
    made = api.client.post(
        "/api/v1/keys", json={"role": "assessor", "label": "new assessor"}, headers=api.auth("admin")
    )
    assert made.status_code == 200, made.text
    new_id = str(made.json()["id"])
    [created] = _entries(api, "key.create", new_id)
    assert created["actor"] == f"key {admin_id} (admin)"
    assert api.client.post(f"/api/v1/keys/{new_id}/revoke", headers=api.auth("admin")).status_code == 200
    [revoked] = _entries(api, "key.revoke", new_id)
    assert revoked["actor"] == f"key {admin_id} (admin)"


def test_a_key_made_with_the_cli_is_audited_as_cli(api: Env, egov: Any) -> None:
    r = egov(["keys", "create", "--role", "assessor", "--label", "from the shell"])
    assert r.code == 0, r.err
    listed = api.client.get("/api/v1/keys", headers=api.auth("admin")).json()
    new_id = str(max(k["id"] for k in listed))
    [created] = _entries(api, "key.create", new_id)
    assert created["actor"] == "cli"
