"""The rating API through FastAPI's TestClient, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import text

from egov.auth import authenticate
from egov.db import session_scope
from egov.errors import ServiceError
from surveys.cases import CaseMove, transition_cases
from tests.helpers.register import Env, make_client


def _scalar(sql: str, **params: Any) -> Any:
    from egov.db import session_scope

    with session_scope() as s:
        return s.execute(text(sql), params).scalar()


def _rollup(obj: str = "ONE_ACCOUNT") -> list[int]:
    from egov.db import session_scope

    with session_scope() as s:
        row = s.execute(
            text(
                "SELECT COALESCE(SUM(n1),0), COALESCE(SUM(n2),0), COALESCE(SUM(n3),0), COALESCE(SUM(n4),0), "
                "COALESCE(SUM(n5),0) FROM rating_daily d JOIN assessed_object o ON o.id = d.object_id WHERE o.code = :c"
            ),
            {"c": obj},
        ).one()
    return [int(x) for x in row]


def test_token_rating_rollup_and_offer(api: Env) -> None:
    tok = api.token(ref="T-1", citizen_id="A1234567")
    again = api.token(ref="T-1", citizen_id="A1234567")
    assert again == tok  # re-issue is idempotent and counts one offer only
    r = api.rate(tok, 4, good=["ease", "efficiency"], comment="快捷", channel="web", language="zh-Hant")
    assert r.status_code == 200 and r.json()["status"] == "accepted"
    assert _rollup() == [0, 0, 0, 1, 0]
    assert _scalar("SELECT SUM(n_offered) FROM offer_daily") == 1
    # the citizen id is stored only as a keyed hash; no IP by default
    pseud = _scalar("SELECT pseudonym FROM rating")
    assert pseud and "A1234567" not in pseud and len(pseud) == 64
    assert _scalar("SELECT ip FROM rating") is None
    assert _scalar("SELECT drivers FROM rating") == "+ease,+efficiency"


def test_duplicate_is_idempotent_and_one_follow_up_amends(api: Env) -> None:
    tok = api.token()
    first = api.rate(tok, 2, better=["ease"], comment="slow")
    dup = api.rate(tok, 2, better=["ease"], comment="slow")
    assert dup.status_code == 200 and dup.json() == first.json()
    assert dup.headers["Idempotent-Replay"] == "true"
    assert _scalar("SELECT COUNT(*) FROM rating") == 1
    assert _rollup() == [0, 1, 0, 0, 0]
    assert _scalar("SELECT COUNT(*) FROM rating_case") == 1
    # a different submission without follow_up is a replay: refused
    replay = api.rate(tok, 5)
    assert replay.status_code == 409 and "follow_up" in replay.json()["detail"]
    amend = api.rate(tok, 5, follow_up=True)
    assert amend.status_code == 200 and amend.json()["amended"] is True
    assert _rollup() == [0, 0, 0, 0, 1]
    assert _scalar("SELECT state FROM rating_case") == "closed"  # withdrawn: no longer bad
    assert api.rate(tok, 5, follow_up=True).json() == amend.json()  # the follow-up repeated
    assert api.rate(tok, 3, follow_up=True).status_code == 409  # only one follow-up
    assert _scalar("SELECT COUNT(*) FROM rating") == 1


def test_missing_rating_counts_toward_no_rating_rate(api: Env) -> None:
    from egov.clock import local_day
    from egov.db import session_scope
    from surveys.rollup import rating_measures

    for i in range(4):
        api.token(ref=f"N-{i}")
    tok = api.token(ref="N-9")
    api.rate(tok, 5)
    with session_scope() as s:
        m, _ = rating_measures(s, date(2000, 1, 1), local_day(), min_ratings=1)
    row = m.loc["ONE_ACCOUNT"]
    assert row["count"] == 1 and row["offered"] == 5
    assert row["response_rate"] == pytest.approx(20.0) and row["no_rating_rate"] == pytest.approx(80.0)
    assert row["mean_level"] == 5  # nothing defaulted for the four unrated


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"level": 4, "unknown": 1}, 422),
        ({"level": 6}, 422),
        ({"level": 2}, 422),  # a bad rating needs a reason
        ({"level": 2, "better": []}, 422),
        ({"level": 4, "comment": "x" * 1001}, 422),
        ({"level": 4, "channel": "fax"}, 422),
        ({"level": 4, "language": "fr"}, 422),
        ({"level": 4, "good": ["ease", "ease"]}, 422),
        ({"level": 4, "question_version": "1999.1"}, 422),
        ({"level": 4, "comment": "y" * 1000}, 200),
    ],
)
def test_strict_rating_schema(api: Env, body: dict[str, Any], status: int) -> None:
    tok = api.token()
    r = api.client.post("/api/v1/ratings", json={"token": tok, **body})
    assert r.status_code == status, r.text


def test_bad_tokens(api: Env) -> None:
    tok = api.token()
    head, payload, sig = tok.split(".")
    tampered = f"{head}.{payload}.{'A' * len(sig)}"
    assert api.rate(tampered).status_code == 401
    assert api.rate("v1.notatoken.atall").status_code == 401
    from surveys.security import TokenClaims, sign_token

    expired = sign_token(b"test-secret-not-for-production", TokenClaims("dead", 1, 1, 1000))
    assert api.rate(expired).status_code == 410
    # a token of another object does not open that object's widget
    other = api.client.get(f"/widget/OPEN_DATA_PLATFORM?token={tok}")
    assert other.status_code == 400


def test_token_refusals(api: Env) -> None:
    c = api.client
    body = {"object": "BUS_REPORT", "transaction_ref": "X"}
    assert c.post("/api/v1/tokens", json=body, headers=api.auth("department")).status_code == 403  # DSAT's
    assert c.post("/api/v1/tokens", json=body, headers=api.auth("other_department")).status_code == 200
    assert (
        c.post(
            "/api/v1/tokens", json={"object": "NOPE", "transaction_ref": "X"}, headers=api.auth("department")
        ).status_code
        == 404
    )
    # infrastructure is not rated by citizens
    infra = c.post(
        "/api/v1/tokens", json={"object": "GOV_CLOUD", "transaction_ref": "X"}, headers=api.auth("department")
    )
    assert infra.status_code in (403, 404, 422)
    # nor is an internal system (G2G document exchange: citizen_facing = false in the register)
    internal = c.post(
        "/api/v1/tokens",
        json={"object": "DOC_FILE_SYSTEM", "transaction_ref": "X"},
        headers=api.auth("department"),
    )
    assert internal.status_code == 422 and "not citizen-facing" in internal.json()["detail"]


def test_batch_ratings(api: Env) -> None:
    c = api.client
    items = [{"object": "ONE_ACCOUNT", "transaction_ref": f"B-{i}"} for i in range(20)]
    toks = [
        t["token"]
        for t in c.post("/api/v1/tokens/batch", json={"items": items}, headers=api.auth("department")).json()[
            "items"
        ]
    ]
    ratings = [
        {"token": t, "level": 1 + i % 5, **({"better": ["other"]} if i % 5 < 2 else {})}
        for i, t in enumerate(toks)
    ]
    ratings.append(ratings[0])  # the same token twice in one request
    r = c.post("/api/v1/ratings/batch", json={"items": ratings})
    assert r.status_code == 200
    res = r.json()
    assert res["accepted"] == 20 and res["items"][-1]["code"] == 409
    assert _rollup() == [4, 4, 4, 4, 4]
    assert _scalar("SELECT COUNT(*) FROM rating_case") == 8
    # resending the whole batch (offline queue retry) stores nothing new
    again = c.post("/api/v1/ratings/batch", json={"items": ratings[:20]}).json()
    assert again["accepted"] == 0 and all(i["ok"] for i in again["items"])
    assert _scalar("SELECT COUNT(*) FROM rating") == 20
    assert c.post("/api/v1/ratings/batch", json={"items": []}).status_code == 422
    too_many = {"items": [{"token": toks[0] + "x" * 10, "level": 5}] * 501}
    assert c.post("/api/v1/ratings/batch", json=too_many).status_code == 422


def test_honeypot_stores_nothing(api: Env) -> None:
    tok = api.token()
    r = api.rate(tok, 5, website="http://spam.example")
    assert r.status_code == 200 and r.json()["status"] == "accepted"  # the bot learns nothing
    assert _scalar("SELECT COUNT(*) FROM rating") == 0
    assert _scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'rating.honeypot'") == 1


def test_burst_is_held_until_reviewed(api: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    client = make_client(monkeypatch, burst_object_max="3")
    toks = [api.token(ref=f"U-{i}") for i in range(5)]
    statuses = [client.post("/api/v1/ratings", json={"token": t, "level": 5}).json()["status"] for t in toks]
    assert statuses == ["accepted"] * 3 + ["held"] * 2
    assert _rollup() == [0, 0, 0, 0, 3]  # held ratings do not count
    held = client.get("/api/v1/ratings/held", headers=api.auth("assessor")).json()
    assert len(held) == 2
    h = api.auth("assessor")
    assert (
        client.post(
            f"/api/v1/ratings/{held[0]['id']}/review", json={"decision": "accept"}, headers=h
        ).status_code
        == 200
    )
    assert (
        client.post(
            f"/api/v1/ratings/{held[1]['id']}/review", json={"decision": "reject", "note": "bot"}, headers=h
        ).status_code
        == 200
    )
    assert (
        client.post(
            f"/api/v1/ratings/{held[1]['id']}/review", json={"decision": "accept"}, headers=h
        ).status_code
        == 409
    )
    assert _rollup() == [0, 0, 0, 0, 4]
    actions = [a["action"] for a in client.get("/api/v1/audit", headers=h).json()]
    assert (
        actions.count("rating.flag") == 2
        and "rating.review.accept" in actions
        and "rating.review.reject" in actions
    )


def test_size_limit_and_rate_limits(api: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    client = make_client(monkeypatch, max_body_bytes="2000", rate_limit_client="5")
    big = client.post(
        "/api/v1/ratings", content=b"{" + b" " * 5000 + b"}", headers={"Content-Type": "application/json"}
    )
    assert big.status_code == 413

    def chunks():  # no Content-Length: counted while streaming
        for _ in range(10):
            yield b" " * 500

    assert (
        client.post(
            "/api/v1/ratings", content=chunks(), headers={"Content-Type": "application/json"}
        ).status_code
        == 413
    )
    codes = [client.get("/api/v1/questions").status_code for _ in range(10)]
    assert 429 in codes
    limited = client.get("/api/v1/questions")
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    # per issuer: tokens and ratings of one department key
    client2 = make_client(monkeypatch, rate_limit_client="100000", rate_limit_issuer="3")
    codes = [
        client2.post(
            "/api/v1/tokens",
            json={"object": "ONE_ACCOUNT", "transaction_ref": f"L{i}"},
            headers=api.auth("department"),
        ).status_code
        for i in range(5)
    ]
    assert codes[:3] == [200] * 3 and codes[3] == 429


def test_cors_only_for_allowed_origins(api: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    client = make_client(monkeypatch, allowed_origins="https://www.gov.mo")
    pre = {"Access-Control-Request-Method": "POST"}
    ok = client.options("/api/v1/ratings", headers={"Origin": "https://www.gov.mo", **pre})
    assert ok.headers.get("access-control-allow-origin") == "https://www.gov.mo"
    bad = client.options("/api/v1/ratings", headers={"Origin": "https://evil.example", **pre})
    assert bad.headers.get("access-control-allow-origin") is None
    tok = api.token()
    csp = client.get(f"/widget/ONE_ACCOUNT?token={tok}").headers["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://www.gov.mo" in csp and "default-src 'none'" in csp


def test_store_ip_setting(api: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    client = make_client(monkeypatch, store_ip="true")
    client.post("/api/v1/ratings", json={"token": api.token(), "level": 5})
    assert _scalar("SELECT ip FROM rating") == "testclient"


def _case_id(api: Env, level: int = 1, ref: str = "C-1") -> int:
    api.rate(api.token(ref=ref), level)
    cases = api.client.get("/api/v1/cases", headers=api.auth("department")).json()
    return max(int(c["id"]) for c in cases if c["state"] == "open")


def test_case_state_machine(api: Env) -> None:
    c, dep, ass = api.client, api.auth("department"), api.auth("assessor")
    cid = _case_id(api)

    def move(to: str, who: dict[str, str] = dep) -> Any:
        return c.post(f"/api/v1/cases/{cid}/transition", json={"to": to, "note": "n"}, headers=who)

    assert move("rectified").status_code == 409  # not from open
    assert move("verified", ass).status_code == 403  # departments move their cases
    for to in ("verified", "rectifying", "rectified", "return_visit_done", "closed"):
        r = move(to)
        assert r.status_code == 200 and r.json()["state"] == to
    case = r.json()
    assert case["rectified_day"] <= case["rectify_due"] and case["return_visit_day"] is not None
    assert move("open").status_code == 409  # closed is final
    # another department cannot see or move it
    assert c.get(f"/api/v1/cases/{cid}", headers=api.auth("other_department")).status_code == 404
    assert move("verified", api.auth("other_department")).status_code == 404


def test_appeal_removed_rating_no_longer_counts(api: Env) -> None:
    c, dep, ass = api.client, api.auth("department"), api.auth("assessor")
    cid = _case_id(api, level=1)
    keep = _case_id(api, level=2, ref="C-2")
    assert _rollup() == [1, 1, 0, 0, 0]
    assert c.post(f"/api/v1/cases/{cid}/transition", json={"to": "appealed"}, headers=dep).status_code == 200
    assert c.post(f"/api/v1/cases/{cid}/transition", json={"to": "removed"}, headers=dep).status_code == 403
    r = c.post(f"/api/v1/cases/{cid}/transition", json={"to": "removed", "note": "malicious"}, headers=ass)
    assert r.status_code == 200 and r.json()["appeal_outcome"] == "removed"
    assert _rollup() == [0, 1, 0, 0, 0]
    assert _scalar("SELECT flags FROM rating WHERE level = 1") == "removed"
    # the removal is logged and reported
    audit = c.get("/api/v1/audit", headers=ass).json()
    assert any(a["action"] == "rating.remove" for a in audit)
    for to, who in (("appealed", dep), ("upheld", ass), ("rectifying", dep)):
        assert c.post(f"/api/v1/cases/{keep}/transition", json={"to": to}, headers=who).status_code == 200
    metrics = c.get("/api/v1/case-metrics", headers=ass).json()["SAFP"]
    assert metrics["appeals"] == 2 and metrics["appeals_removed"] == 1 and metrics["appeals_upheld"] == 1
    # and a rebuild of the roll-ups agrees with the incremental state
    from egov.db import session_scope
    from surveys.rollup import rebuild_rollups

    with session_scope() as s:
        rebuild_rollups(s, date(2000, 1, 1), date(2100, 1, 1))
    assert _rollup() == [0, 1, 0, 0, 0]


def test_batch_case_moves_follow_the_same_rules(api: Env) -> None:
    """surveys.cases.transition_cases (the demo's case handling): the moves of the state
    machine by the right role, dated; refused as a whole otherwise (nothing moved)."""
    a, b = _case_id(api, ref="B-1"), _case_id(api, ref="B-2")
    day, at = date(2026, 3, 2), datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    with session_scope() as s:
        dep, ass = authenticate(s, api.keys["department"]), authenticate(s, api.keys["assessor"])
        other = authenticate(s, api.keys["other_department"])
        assert dep is not None and ass is not None and other is not None
        for who, moves, status in (
            (ass, [CaseMove(a, "verified", day)], 403),  # departments move their cases
            (dep, [CaseMove(a, "rectified", day)], 409),  # not from open
            (other, [CaseMove(a, "verified", day)], 404),  # another department's case
            (dep, [CaseMove(a, "verified", day), CaseMove(a, "rectifying", day)], 422),  # one move a case
        ):
            with pytest.raises(ServiceError) as exc:
                transition_cases(s, who, moves)
            assert exc.value.status == status
        assert transition_cases(s, dep, [CaseMove(a, "verified", day, at), CaseMove(b, "appealed", day)]) == 2
        assert transition_cases(s, dep, [CaseMove(a, "rectifying", day)]) == 1
        assert transition_cases(s, dep, [CaseMove(a, "rectified", day)]) == 1
        assert transition_cases(s, ass, [CaseMove(b, "removed", day)]) == 1
    case = api.client.get(f"/api/v1/cases/{a}", headers=api.auth("department")).json()
    assert case["state"] == "rectified" and case["rectified_day"] == "2026-03-02"
    assert case["return_visit_due"] == "2026-03-03"  # one working day later
    assert _scalar("SELECT flags FROM rating WHERE transaction_ref = 'B-2'") == "removed"
    n = _scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'case.transition' AND target_id = :t", t=str(a)
    )
    assert n == 3


def test_measures_endpoint(api: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    client = make_client(monkeypatch, min_ratings="3")
    for i, lv in enumerate((5, 4, 3, 2)):
        api.rate(api.token(ref=f"M-{i}"), lv)
    api.rate(api.token(obj="OPEN_DATA_PLATFORM", ref="M-x"), 5)
    m = client.get("/api/v1/measures", headers=api.auth("assessor")).json()
    one = m["ONE_ACCOUNT"]
    assert one["count"] == 4 and one["share_satisfied"] == pytest.approx(50.0)
    assert one["share_satisfied_low"] < 50 < one["share_satisfied_high"]
    assert m["OPEN_DATA_PLATFORM"]["share_satisfied"] is None  # 1 < 3 ratings: insufficient
    assert client.get("/api/v1/measures", headers=api.auth("other_department")).json() == {}


def test_export_scrubs_comments(api: Env) -> None:
    api.rate(api.token(), 2, comment="call 6612 3456 or mail me@x.mo, BIR 1234567(8)")
    csv = api.client.get("/api/v1/ratings/export", headers=api.auth("assessor")).text
    assert "[phone]" in csv and "[email]" in csv and "[id]" in csv
    assert "6612" not in csv and "me@x.mo" not in csv and "1234567" not in csv


def test_widget_is_escaped_accessible_and_trilingual(api: Env) -> None:
    from egov.db import session_scope

    with session_scope() as s:
        s.execute(
            text(
                "UPDATE assessed_object SET name_en = '<script>alert(1)</script>' WHERE code = 'ONE_ACCOUNT'"
            )
        )
    tok = api.token()
    page = api.client.get(f"/widget/ONE_ACCOUNT?token={tok}&lang=en")
    assert page.status_code == 200
    html = page.text
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    assert 'role="radiogroup"' in html and html.count('type="radio"') == 5 and "<legend" in html
    assert 'aria-live="polite"' in html and 'name="website"' in html and 'tabindex="-1"' in html
    assert "http://" not in html and "https://" not in html  # no external resource
    for lang, word in (("zh-Hant", "非常滿意"), ("pt", "Muito satisfeito"), ("en", "Very satisfied")):
        assert word in api.client.get(f"/widget/ONE_ACCOUNT?token={tok}&lang={lang}").text
    assert api.client.get(f"/widget/ONE_ACCOUNT?token={tok}x").status_code == 400
    assert api.client.get(f"/widget/NOPE?token={tok}").status_code == 404


def test_openapi_every_endpoint_documented(api: Env) -> None:
    spec = api.client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            assert op.get("summary"), f"{method} {path}: no summary"
            assert op.get("description"), f"{method} {path}: no description"
            examples = [
                c.get("example")
                for resp in op["responses"].values()
                for c in resp.get("content", {}).values()
            ]
            assert any(e is not None for e in examples), f"{method} {path}: no response example"
            ref = (
                op.get("requestBody", {})
                .get("content", {})
                .get("application/json", {})
                .get("schema", {})
                .get("$ref")
            )
            if ref:
                name = ref.rsplit("/", 1)[-1]
                schema = schemas[name]
                has = bool(schema.get("examples")) or all(
                    schemas[p["items"]["$ref"].rsplit("/", 1)[-1]].get("examples")
                    for p in schema["properties"].values()
                    if p.get("type") == "array" and "$ref" in p.get("items", {})
                )
                assert has, f"{method} {path}: request schema {name} has no example"
