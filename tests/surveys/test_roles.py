"""Every endpoint for every role, including the refusals (table-driven)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.surveys.conftest import Env

ROLES = ("none", "department", "other_department", "assessor", "admin")
TOKEN_BODY = {"object": "ONE_ACCOUNT", "transaction_ref": "R-1"}

# (method, path, body, {role: expected status}); {case}, {rating}, {key}, {token} are filled in
MATRIX: list[tuple[str, str, Any, dict[str, int]]] = [
    ("GET", "/api/v1/health", None, dict.fromkeys(ROLES, 200)),
    ("GET", "/api/v1/questions", None, dict.fromkeys(ROLES, 200)),
    ("GET", "/widget/ONE_ACCOUNT?token={token}", None, dict.fromkeys(ROLES, 200)),
    ("POST", "/api/v1/ratings", {"token": "{token}", "level": 5}, dict.fromkeys(ROLES, 200)),
    (
        "POST",
        "/api/v1/ratings/batch",
        {"items": [{"token": "{token}", "level": 5}]},
        dict.fromkeys(ROLES, 200),
    ),
    (
        "GET",
        "/api/v1/me",
        None,
        {"none": 401, "department": 200, "other_department": 200, "assessor": 200, "admin": 200},
    ),
    (
        "POST",
        "/api/v1/tokens",
        TOKEN_BODY,
        {"none": 401, "department": 200, "other_department": 403, "assessor": 403, "admin": 403},
    ),
    (
        "POST",
        "/api/v1/tokens/batch",
        {"items": [TOKEN_BODY]},
        {"none": 401, "department": 200, "other_department": 403, "assessor": 403, "admin": 403},
    ),
    (
        "GET",
        "/api/v1/ratings/held",
        None,
        {"none": 401, "department": 403, "other_department": 403, "assessor": 200, "admin": 403},
    ),
    (
        "POST",
        "/api/v1/ratings/{held}/review",
        {"decision": "accept"},
        {"none": 401, "department": 403, "other_department": 403, "assessor": 200, "admin": 403},
    ),
    (
        "GET",
        "/api/v1/ratings/export",
        None,
        {"none": 401, "department": 403, "other_department": 403, "assessor": 200, "admin": 403},
    ),
    (
        "GET",
        "/api/v1/measures",
        None,
        {"none": 401, "department": 200, "other_department": 200, "assessor": 200, "admin": 403},
    ),
    (
        "GET",
        "/api/v1/cases",
        None,
        {"none": 401, "department": 200, "other_department": 200, "assessor": 200, "admin": 403},
    ),
    (
        "GET",
        "/api/v1/cases/{case}",
        None,
        {"none": 401, "department": 200, "other_department": 404, "assessor": 200, "admin": 403},
    ),
    (
        "POST",
        "/api/v1/cases/{case}/transition",
        {"to": "verified"},
        {"none": 401, "department": 200, "other_department": 404, "assessor": 403, "admin": 403},
    ),
    (
        "GET",
        "/api/v1/case-metrics",
        None,
        {"none": 401, "department": 200, "other_department": 200, "assessor": 200, "admin": 403},
    ),
    (
        "GET",
        "/api/v1/audit",
        None,
        {"none": 401, "department": 403, "other_department": 403, "assessor": 200, "admin": 200},
    ),
    (
        "GET",
        "/api/v1/keys",
        None,
        {"none": 401, "department": 403, "other_department": 403, "assessor": 403, "admin": 200},
    ),
    (
        "POST",
        "/api/v1/keys",
        {"role": "assessor"},
        {"none": 401, "department": 403, "other_department": 403, "assessor": 403, "admin": 200},
    ),
    (
        "POST",
        "/api/v1/keys/{key}/revoke",
        None,
        {"none": 401, "department": 403, "other_department": 403, "assessor": 403, "admin": 200},
    ),
]


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        for k, v in ids.items():
            value = value.replace("{" + k + "}", v)
        return value
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


def test_every_route_is_in_the_matrix() -> None:
    from surveys.api import create_app

    routes = {
        (m, r.path)  # type: ignore[attr-defined]
        for r in create_app().routes
        if getattr(r, "include_in_schema", False)
        for m in r.methods  # type: ignore[attr-defined]
    }
    covered = {
        (
            m,
            p.split("?")[0]
            .replace("{token}", "")
            .replace("{case}", "{case_id}")
            .replace("{held}", "{rating_id}")
            .replace("{key}", "{key_id}"),
        )
        for m, p, _, _ in MATRIX
    }
    covered = {(m, p.replace("/widget/ONE_ACCOUNT", "/widget/{object_code}")) for m, p in covered}
    assert routes <= covered, routes - covered


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(api: Env, role: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.surveys.conftest import make_client

    client = make_client(monkeypatch, burst_object_max="1")
    # a case (bad rating, counted first) and a held rating (second rating of the object)
    bad = api.token(ref="CASE")
    assert (
        client.post("/api/v1/ratings", json={"token": bad, "level": 1, "better": ["ease"]}).status_code == 200
    )
    held_tok = api.token(ref="HELD")
    assert client.post("/api/v1/ratings", json={"token": held_tok, "level": 5}).json()["status"] == "held"
    ids = {
        "case": str(api.client.get("/api/v1/cases", headers=api.auth("assessor")).json()[0]["id"]),
        "held": str(api.client.get("/api/v1/ratings/held", headers=api.auth("assessor")).json()[0]["id"]),
    }
    keys = api.client.get("/api/v1/keys", headers=api.auth("admin")).json()
    ids["key"] = str(next(k["id"] for k in keys if k["role"] == "assessor"))
    headers = api.auth(None if role == "none" else role)
    for method, path, body, expected in MATRIX:
        ids["token"] = api.token(ref=f"{role}-{path}-{method}")
        if path.endswith("/revoke") and role == "admin":
            extra = api.client.post(
                "/api/v1/keys", json={"role": "assessor"}, headers=api.auth("admin")
            ).json()
            ids["key"] = str(extra["id"])
        r = client.request(method, _fill(path, ids), json=_fill(body, ids), headers=headers)
        assert r.status_code == expected[role], f"{role} {method} {path}: {r.status_code} {r.text[:200]}"
