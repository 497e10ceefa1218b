"""The input rules at the edge (egov.inputs), on SQLite and PostgreSQL: a NUL or another
control character, or a lone surrogate, in any field, path or query parameter is refused
with 422 naming the field, before anything is stored (PostgreSQL cannot store NUL: it was a
500, and SQLite stored it and wrote it into exports); free text keeps tab and newline; a
batch refuses the bad item alone; NaN, Infinity, 1e400 and lone surrogates anywhere in a
JSON body get a 422 that renders (it was a 500 and a dropped connection)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import text

from tests.helpers.register import Env, make_client

JSON = {"content-type": "application/json"}


def _count(sql: str) -> int:
    from egov.db import session_scope

    with session_scope() as s:
        return int(s.execute(text(sql)).scalar() or 0)


def _case_id(api: Env) -> int:
    api.rate(api.token(ref="BAD-1"), 1, better=["ease"])
    cases = api.client.get("/api/v1/cases", headers=api.auth("assessor")).json()
    return int(cases[0]["id"])


def _post(api: Env, url: str, body: Any, who: str | None = None) -> Any:
    """POST `body` as JSON with every non-ASCII character escaped (a lone surrogate too, which
    httpx's own encoder cannot send)."""
    return api.client.post(url, content=json.dumps(body), headers={**JSON, **api.auth(who)})


def _refused(r: Any, *loc: str | int) -> str:
    """The message of a 422 naming `loc` (asserted), as JSON that rendered."""
    assert r.status_code == 422, r.text
    issues = r.json()["detail"]
    named = [i for i in issues if i["loc"][: len(loc)] == list(loc)]
    assert named, issues
    return str(named[0]["msg"])


BAD_CHARACTERS = ["\x00", "\x1b", "\x7f", "\x85", "\r", "\ud800"]


@pytest.mark.parametrize("bad", BAD_CHARACTERS, ids=["NUL", "ESC", "DEL", "NEL", "CR", "surrogate"])
def test_every_json_entry_point_refuses_control_characters_naming_the_field(api: Env, bad: str) -> None:
    c = api.client
    case_id = _case_id(api)
    ratings, tokens = _count("SELECT COUNT(*) FROM rating"), _count("SELECT COUNT(*) FROM rating_token")
    keys = _count("SELECT COUNT(*) FROM api_key")
    token = api.token(ref="GOOD-1")
    cases_before = c.get(f"/api/v1/cases/{case_id}", headers=api.auth("assessor")).json()

    def rate(**fields: Any) -> Any:
        return _post(api, "/api/v1/ratings", {"token": token, "level": 4, **fields})

    msg = _refused(rate(comment=f"slow{bad}form"), "body", "comment")
    if bad != "\ud800":  # (pydantic refuses a lone surrogate itself: "not a unicode string")
        assert f"U+{ord(bad):04X}" in msg and "position 5" in msg
    _refused(rate(token=f"{token[:5]}{bad}{token[5:]}"), "body", "token")
    _refused(rate(question_version=f"2026{bad}.1"), "body", "question_version")
    for field in ("transaction_ref", "object", "citizen_id"):
        body = {"object": "ONE_ACCOUNT", "transaction_ref": "T-9", field: f"A{bad}B"}
        _refused(_post(api, "/api/v1/tokens", body, "department"), "body", field)
    items = [{"object": "ONE_ACCOUNT", "transaction_ref": f"T-{i}"} for i in range(3)]
    items[2]["transaction_ref"] = f"T{bad}2"
    _refused(_post(api, "/api/v1/tokens/batch", {"items": items}, "department"), "body", "items", 2)
    body = {"role": "assessor", "label": f"a{bad}b"}
    _refused(_post(api, "/api/v1/keys", body, "admin"), "body", "label")
    body = {"role": "department", "department": f"SA{bad}FP"}
    _refused(_post(api, "/api/v1/keys", body, "admin"), "body", "department")
    move = {"to": "verified", "note": f"called{bad}back"}
    _refused(_post(api, f"/api/v1/cases/{case_id}/transition", move, "department"), "body", "note")
    review = {"decision": "accept", "note": f"o{bad}k"}
    _refused(_post(api, "/api/v1/ratings/1/review", review, "assessor"), "body", "note")

    # nothing was stored: no rating, token, key or case move
    assert _count("SELECT COUNT(*) FROM rating") == ratings
    assert _count("SELECT COUNT(*) FROM rating_token") == tokens + 1  # GOOD-1 only
    assert _count("SELECT COUNT(*) FROM api_key") == keys
    assert c.get(f"/api/v1/cases/{case_id}", headers=api.auth("assessor")).json() == cases_before
    assert api.rate(token, 4, comment="slow form").status_code == 200  # the token is still good


@pytest.mark.parametrize(
    "bad", ["%00", "%1B", "%7F", "%C2%85", "%0D"], ids=["NUL", "ESC", "DEL", "NEL", "CR"]
)
def test_path_and_query_parameters_refuse_control_characters(api: Env, bad: str) -> None:
    c = api.client
    token = api.token(ref="W-1")
    _refused(c.get(f"/widget/ONE{bad}ACCOUNT?token={token}"), "path", "object_code")
    _refused(c.get(f"/widget/ONE_ACCOUNT?token={token}{bad}"), "query", "token")
    assert c.get(f"/widget/ONE_ACCOUNT?token={token}").status_code == 200
    who = api.auth("assessor")
    _refused(c.get(f"/api/v1/cases?state=open{bad}", headers=who), "query", "state")
    _refused(c.get(f"/api/v1/measures?start=2026-01-01{bad}", headers=who), "query", "start")
    # the report pages' URLs (a run key, a department code)
    _refused(c.get(f"/reports/run{bad}1/ranking", headers=who), "path", "run_key")
    _refused(c.get(f"/reports/latest/departments/SA{bad}FP", headers=who), "path", "department")
    # a parameter's name is checked too; an unauthenticated caller gets the same 422 (no database work)
    _refused(c.get(f"/api/v1/cases?x{bad}=1"), "query")


def test_free_text_keeps_tab_and_newline(api: Env) -> None:
    token = api.token(ref="FT-1")
    r = api.rate(token, 4, comment="line one\r\n\tline two\nline three")
    assert r.status_code == 200, r.text
    from egov.db import session_scope

    with session_scope() as s:
        stored = s.execute(text("SELECT comment FROM rating")).scalar()
    assert stored == "line one\n\tline two\nline three"  # CR LF taken as a newline


def test_a_batch_refuses_the_bad_item_alone(api: Env) -> None:
    c = api.client
    items = [{"object": "ONE_ACCOUNT", "transaction_ref": f"B-{i}"} for i in range(5)]
    issued = c.post("/api/v1/tokens/batch", json={"items": items}, headers=api.auth("department")).json()
    bodies: list[dict[str, Any]] = [{"token": t["token"], "level": 4} for t in issued["items"]]
    bodies[1]["comment"] = "bad\x00comment"
    bodies[3]["channel"] = "fax"
    r = c.post("/api/v1/ratings/batch", json={"items": bodies})
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["accepted"] == 3
    assert [x["index"] for x in answer["items"]] == [0, 1, 2, 3, 4]
    assert [x["ok"] for x in answer["items"]] == [True, False, True, False, True]
    one, three = answer["items"][1], answer["items"][3]
    assert one["code"] == 422 and one["error"].startswith("items.1.comment: control character U+0000 (NUL)")
    assert three["code"] == 422 and three["error"].startswith("items.3.channel:")
    assert _count("SELECT COUNT(*) FROM rating") == 3
    # the retry with the bad item fixed stores it; the others are idempotent repeats
    bodies[1]["comment"] = "bad comment"
    again = c.post("/api/v1/ratings/batch", json={"items": bodies[:3]}).json()
    assert again["accepted"] == 1 and [x["ok"] for x in again["items"]] == [True, True, True]
    assert _count("SELECT COUNT(*) FROM rating") == 4
    # every item bad: each refused alone; a batch that is itself invalid is still a 422
    all_bad = c.post("/api/v1/ratings/batch", json={"items": [{"token": "x\x00" * 6, "level": 4}]})
    assert all_bad.status_code == 200 and all_bad.json()["accepted"] == 0
    assert all_bad.json()["items"][0]["error"].startswith("items.0.token: control character")
    assert c.post("/api/v1/ratings/batch", json={"items": bodies, "x": 1}).status_code == 422


NON_FINITE = ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"]


@pytest.mark.parametrize("number", NON_FINITE)
def test_non_finite_numbers_get_a_422_that_renders(api: Env, number: str) -> None:
    c = api.client
    token = api.token(ref="NF-1")
    bodies = {
        "/api/v1/ratings": f'{{"token": "{token}", "level": {number}}}',
        "/api/v1/ratings/batch": f'{{"items": [{{"token": "{token}", "level": {number}}}]}}',
        "/api/v1/tokens": f'{{"object": "ONE_ACCOUNT", "transaction_ref": {number}}}',
        "/api/v1/keys": f'{{"role": "assessor", "label": "x", "extra": {number}}}',
    }
    dep, admin = api.auth("department"), api.auth("admin")
    r = c.post("/api/v1/ratings", content=bodies["/api/v1/ratings"], headers=JSON)
    msg = _refused(r, "body", "level")
    assert "valid integer" in msg  # the level is a strict JSON integer: no float, finite or not
    batch = c.post("/api/v1/ratings/batch", content=bodies["/api/v1/ratings/batch"], headers=JSON)
    assert batch.status_code == 200 and "items.0.level" in batch.json()["items"][0]["error"]
    r = c.post("/api/v1/tokens", content=bodies["/api/v1/tokens"], headers={**JSON, **dep})
    _refused(r, "body", "transaction_ref")
    r = c.post("/api/v1/keys", content=bodies["/api/v1/keys"], headers={**JSON, **admin})
    _refused(r, "body", "extra")
    assert _count("SELECT COUNT(*) FROM rating") == 0


def test_lone_surrogates_anywhere_in_json_get_a_422_that_renders(api: Env) -> None:
    c = api.client
    token = api.token(ref="S-1")
    for body in (
        f'{{"token": "{token}", "level": 4, "comment": "\\ud800"}}',
        f'{{"token": "{token}", "level": 4, "channel": "\\udfff"}}',
        f'{{"token": "{token}", "level": 4, "\\ud800": 1}}',
        '{"\\ud800\\u0000": "\\ud800"}',
    ):
        r = c.post("/api/v1/ratings", content=body, headers=JSON)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["detail"], body  # the answer is valid JSON (UTF-8)
    batch = f'{{"items": [{{"token": "{token}", "level": 4, "comment": "a\\udc00"}}]}}'
    r = c.post("/api/v1/ratings/batch", content=batch, headers=JSON)
    assert r.status_code == 200 and r.json()["items"][0]["error"].startswith("items.0.comment: ")
    assert _count("SELECT COUNT(*) FROM rating") == 0


def test_the_schema_documents_the_character_rules(api: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    schema = make_client(monkeypatch).get("/openapi.json").json()["components"]["schemas"]
    comment = schema["RatingCreate"]["properties"]["comment"]
    token = schema["RatingCreate"]["properties"]["token"]
    assert "\\u0000-\\u0008" in comment["pattern"] and "\\u0000-\\u001f" in token["pattern"]
