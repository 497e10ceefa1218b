"""Schemathesis over the whole OpenAPI schema of the rating API (`create_app()`, /openapi.json),
in-process (ASGI) on a fresh database: generated valid and invalid requests for every
operation, with keys of every role and, some of the time, real ids, object codes and valid
rating tokens, so protected operations and token checks are passed as well as refused.

Every answer must pass: no 5xx (`not_a_server_error`), a documented status code, a documented
content type, and a body that matches the documented schema of that status. Generation is
derandomised (fixed seed), so a failure reproduces; the test counts the cases it ran and
fails if the schema yields fewer than it should (an empty schema cannot pass).
"""

from __future__ import annotations

import collections
import math
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.helpers.register import setup_register

# the role a generated case is sent with; the department key (the most restricted) twice as often
DRAWN_ROLES = ("none", "department", "department", "other_department", "assessor", "admin", "kiosk")
# per database engine: the cases of each generation mode, spread evenly over the operations (so
# that the run stays as long as the API grows; at least FLOOR per operation and mode), the least
# total of cases, and the least shares of operations answered past their key checks and accepted
# (2xx) at least once
BUDGET: dict[str, dict[str, float]] = {
    "sqlite": {"positive": 900, "negative": 400, "least": 1000, "past": 1.0, "accepted": 0.75},
    "postgresql": {"positive": 330, "negative": 135, "least": 250, "past": 0.75, "accepted": 0.5},
}
FLOOR = {"positive": 10, "negative": 5}
# objects: SAFP's applications (the department key's own), DSAT's (another department's),
# a SAFP object that is not an application, and one that does not exist
OBJECTS = ("ONE_ACCOUNT", "OPEN_DATA_PLATFORM", "BUS_REPORT", "GOV_CLOUD", "NO_SUCH_OBJECT")
PATH_IDS = {"case_id": "cases", "rating_id": "held", "key_id": "spare_keys", "receipt": "receipts"}
VALUES_BODY = {
    "period": "2031",
    "values": [{"object": "ONE_ACCOUNT", "indicator": "app_takeup", "value": 56.0}],
}


def _state(client: Any, keys: dict[str, str]) -> dict[str, list[Any]]:
    """Cases (bad ratings), held ratings (burst detection), spare keys to revoke, and a pool
    of valid rating tokens, made through the API before the fuzzing."""

    def auth(who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {keys[who]}"}

    def tokens(who: str, objects: list[str], prefix: str) -> list[str]:
        items = [{"object": o, "transaction_ref": f"{prefix}-{i}"} for i, o in enumerate(objects)]
        r = client.post("/api/v1/tokens/batch", json={"items": items}, headers=auth(who))
        assert r.status_code == 200, r.text
        return [t["token"] for t in r.json()["items"]]

    # EGOV_BURST_OBJECT_MAX=3: the first three ratings of an object count, later ones are held
    for token in tokens("department", ["ONE_ACCOUNT"] * 5, "bad"):
        r = client.post("/api/v1/ratings", json={"token": token, "level": 1, "better": ["ease"]})
        assert r.status_code == 200, r.text
    for token in tokens("other_department", ["BUS_REPORT"] * 2, "dsat-bad"):
        r = client.post("/api/v1/ratings", json={"token": token, "level": 2, "better": ["staff"]})
        assert r.status_code == 200, r.text
    cases = [c["id"] for c in client.get("/api/v1/cases", headers=auth("assessor")).json()]
    held = [h["id"] for h in client.get("/api/v1/ratings/held", headers=auth("assessor")).json()]
    spare = [
        client.post("/api/v1/keys", json={"role": "assessor"}, headers=auth("admin")).json()["id"]
        for _ in range(3)
    ]
    assert len(cases) >= 4 and len(held) >= 2 and len(spare) == 3
    # a counter kiosk (its device key is the role `kiosk`) with tickets queued for it
    kiosk = client.post(
        "/api/v1/kiosks", json={"code": "FUZZ-1", "object": "ONE_ACCOUNT"}, headers=auth("department")
    )
    assert kiosk.status_code == 200, kiosk.text
    keys["kiosk"] = kiosk.json()["key"]
    queued = [
        {"object": "ONE_ACCOUNT", "transaction_ref": f"kiosk-{i}", "kiosk": "FUZZ-1"} for i in range(20)
    ]
    r = client.post("/api/v1/tokens/batch", json={"items": queued}, headers=auth("department"))
    assert r.status_code == 200, r.text
    receipts = [client.get("/api/v1/kiosk/ticket", headers=auth("kiosk")).json()["receipt"]]
    safp = ["ONE_ACCOUNT", "OPEN_DATA_PLATFORM"] * 20
    dsat = ["BUS_REPORT", "MACAU_TRAVEL"] * 10
    pairs = list(zip(safp, tokens("department", safp, "pool"), strict=True))
    pairs += list(zip(dsat, tokens("other_department", dsat, "pool"), strict=True))
    return {
        "cases": cases,
        "held": held,
        "spare_keys": spare,
        "receipts": receipts,
        "tokens": [token for _, token in pairs],
        "widgets": pairs,  # (object, a token of that object)
    }


def _steer(case: Any, draw: Any, st: Any, state: dict[str, Any], who: str, positive: bool) -> None:
    """Some of the time, put real ids, object codes and valid rating tokens into a generated
    case (in positive cases only: a negative case stays invalid)."""
    keys_header = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    if who != "none":
        keys_header["Authorization"] = f"Bearer {state['keys'][who]}"
    case.headers = keys_header
    if not positive:
        return

    def sometimes() -> bool:
        return bool(draw(st.booleans()))

    for name, pool in PATH_IDS.items():
        if case.path_parameters and name in case.path_parameters and sometimes():
            case.path_parameters[name] = draw(st.sampled_from(state[pool]))
    if case.path_parameters and "object_code" in case.path_parameters and sometimes():
        case.path_parameters["object_code"], token = draw(st.sampled_from(state["widgets"]))
        if case.query is not None and sometimes():  # else the generated token (or none)
            case.query["token"] = token
    body = case.body
    if not isinstance(body, dict):
        return
    items = body.get("items")
    if isinstance(items, list) and items and all(isinstance(x, dict) for x in items):
        # a batch: one object for all its items (the batch is all or nothing), a token each
        if "object" in items[0] and sometimes():
            code = draw(st.sampled_from(OBJECTS))
            for item in items:
                item["object"] = code
        for item in items:
            if "token" in item and sometimes():
                item["token"] = draw(st.sampled_from(state["tokens"]))
        return
    if "token" in body and sometimes():
        body["token"] = draw(st.sampled_from(state["tokens"]))
    if "object" in body and sometimes():
        body["object"] = draw(st.sampled_from(OBJECTS))
    if "department" in body and sometimes():
        body["department"] = draw(st.sampled_from(["SAFP", "DSAT"]))
    if "to" in body and sometimes():  # the moves an open case can make
        body["to"] = draw(st.sampled_from(["verified", "appealed"]))


@dataclass
class Fuzzed:
    ran: collections.Counter[str] = field(default_factory=collections.Counter)  # cases per operation
    answered: collections.Counter[tuple[str, int]] = field(default_factory=collections.Counter)


def _fuzzer(
    op: Any,
    mode: Any,
    max_examples: int,
    state: dict[str, Any],
    checks: list[Any],
    client: Any,
    fuzzed: Fuzzed,
    role_key_ids: list[int],
) -> Any:
    """A derandomised hypothesis test of one operation in one generation mode."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st
    from sqlalchemy import update
    from sqlmodel import col

    from egov.db import get_engine
    from egov.models import ApiKey

    positive = mode.value == "positive"

    @settings(
        max_examples=max_examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
        print_blob=False,
    )
    @given(case=op.as_strategy(mode), who=st.sampled_from(DRAWN_ROLES), data=st.data())
    def run(case: Any, who: str, data: Any) -> None:
        _steer(case, data.draw, st, state, who, positive)
        fuzzed.ran[op.label] += 1
        try:
            response = case.call_and_validate(session=client, checks=checks)
            fuzzed.answered[(op.label, response.status_code)] += 1
        finally:
            if op.path.endswith("/revoke"):  # the role keys stay usable
                with get_engine().begin() as conn:
                    conn.execute(
                        update(ApiKey).where(col(ApiKey.id).in_(role_key_ids)).values(revoked_at=None)
                    )

    return run


@pytest.mark.slow
def test_openapi_schema_fuzz(use_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every operation, valid and invalid cases, every check; the failures of all operations
    are reported together (each shrunk by hypothesis to a minimal case with a curl line)."""
    import schemathesis
    from fastapi.testclient import TestClient
    from hypothesis.errors import Unsatisfiable
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error
    from schemathesis.python import asgi
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    from egov.app import create_app
    from egov.settings import reset_settings

    engine_name = "postgresql" if use_db.startswith("postgresql") else "sqlite"
    budget = BUDGET[engine_name]
    monkeypatch.setenv("EGOV_SECRET_KEY", "test-secret-not-for-production")
    monkeypatch.setenv("EGOV_RATE_LIMIT_CLIENT", "10000000")  # the fuzzer is one client
    monkeypatch.setenv("EGOV_BURST_OBJECT_MAX", "3")  # held ratings to review
    reset_settings()
    keys = setup_register()
    app = create_app()
    with TestClient(app) as setup_client:
        state: dict[str, Any] = _state(setup_client, keys)
        listed = setup_client.get("/api/v1/keys", headers={"Authorization": f"Bearer {keys['admin']}"})
    state["keys"] = keys
    role_key_ids = [k["id"] for k in listed.json() if k["id"] not in state["spare_keys"]]

    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    fuzzed = Fuzzed()
    problems: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]  # an Err raises: the schema must load
    with_inputs = [
        op for op in operations if op.definition.raw.get("parameters") or op.definition.raw.get("requestBody")
    ]
    per_op = {
        mode: max(FLOOR[mode.value], math.ceil(budget[mode.value] / max(1, len(ops))))
        for mode, ops in ((GenerationMode.POSITIVE, operations), (GenerationMode.NEGATIVE, with_inputs))
    }
    with asgi.get_client(app) as client:  # type: ignore[arg-type]  # FastAPI is an ASGI app; the stub wants a bare callable
        for op in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                if mode is GenerationMode.NEGATIVE and op not in with_inputs:
                    continue  # nothing to make invalid
                run = _fuzzer(op, mode, per_op[mode], state, checks, client, fuzzed, role_key_ids)
                try:
                    run()
                except Unsatisfiable as exc:
                    problems.append(f"{op.label} ({mode.value}): no case could be generated: {exc}")
                except Exception as exc:  # a check failed: collect it, fuzz the other operations
                    problems.append(f"{op.label} ({mode.value}):\n{exc}")
    assert not problems, "\n\n".join(problems)

    total = sum(fuzzed.ran.values())
    assert total >= budget["least"], f"only {total} cases ran: {dict(fuzzed.ran)}"
    assert len(operations) >= 20 and set(fuzzed.ran) == {op.label for op in operations}
    # the keys, ids and tokens got past the refusals: every operation was answered past its
    # key and token checks at least once, and most of them accepted a request
    labels = {op.label for op in operations}
    answers = sorted(fuzzed.answered.items())
    past = {label for (label, status) in fuzzed.answered if status not in (401, 403, 429)}
    assert len(past) >= budget["past"] * len(labels), f"only refused: {sorted(labels - past)}; {answers}"
    accepted = {label for (label, status) in fuzzed.answered if 200 <= status < 300}
    assert len(accepted) >= budget["accepted"] * len(labels), (
        f"never accepted: {sorted(labels - accepted)}; {answers}"
    )


# --- hostile input: control characters, lone surrogates, non-finite numbers, oversized forms -------
HOSTILE_SETTINGS: dict[str, Any] = {
    "derandomize": True,
    "database": None,
    "deadline": None,
    "print_blob": False,
}


def _json_operations(state: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """Every operation with a JSON body: its URL (real ids), the role that sends it, a valid body."""
    tokens = state["tokens"]
    rating = {"token": tokens[0], "level": 4, "good": ["ease"], "comment": "fine", "channel": "app"}
    rating |= {"language": "en", "question_version": "2026.1", "website": ""}
    token = {"object": "ONE_ACCOUNT", "transaction_ref": "H-1", "citizen_id": "A1"}
    return {
        "/api/v1/tokens": ("/api/v1/tokens", "department", token),
        "/api/v1/tokens/batch": ("/api/v1/tokens/batch", "department", {"items": [token]}),
        "/api/v1/ratings": ("/api/v1/ratings", "none", rating),
        "/api/v1/ratings/batch": (
            "/api/v1/ratings/batch",
            "none",
            {"items": [rating, {**rating, "token": tokens[1], "comment": "good"}]},
        ),
        "/api/v1/ratings/{rating_id}/review": (
            f"/api/v1/ratings/{state['held'][0]}/review",
            "assessor",
            {"decision": "accept", "note": "checked"},
        ),
        "/api/v1/cases/{case_id}/transition": (
            f"/api/v1/cases/{state['cases'][0]}/transition",
            "department",
            {"to": "verified", "note": "called"},
        ),
        "/api/v1/keys": ("/api/v1/keys", "admin", {"role": "department", "department": "SAFP", "label": "x"}),
        "/api/v1/values": ("/api/v1/values", "department", VALUES_BODY),
        "/api/v1/kiosks": (
            "/api/v1/kiosks",
            "department",
            {"code": "HOSTILE-1", "object": "ONE_ACCOUNT", "window": "2", "label": "x"},
        ),
        "/api/v1/values/{value_id}/evidence": (
            f"/api/v1/values/{state['values'][0]}/evidence",
            "department",
            {"reference": "https://example.org/evidence", "note": "log"},
        ),
        "/api/v1/objections": (
            "/api/v1/objections",
            "department",
            {
                "period": "2025",
                "object": "ONE_ACCOUNT",
                "indicator": "app_takeup",
                "text": "x",
                "evidence": "y",
            },
        ),
        "/api/v1/objections/{objection_id}/answer": (
            "/api/v1/objections/1/answer",
            "assessor",
            {"decision": "accept", "reason": "ok", "value": 1.5},
        ),
    }


def _hostile_env(monkeypatch: pytest.MonkeyPatch) -> tuple[Any, dict[str, Any]]:
    """A TestClient on the app with the fuzz test's world (cases, held ratings, tokens)."""
    from fastapi.testclient import TestClient

    from egov.app import create_app
    from egov.settings import reset_settings

    monkeypatch.setenv("EGOV_SECRET_KEY", "test-secret-not-for-production")
    monkeypatch.setenv("EGOV_RATE_LIMIT_CLIENT", "10000000")
    monkeypatch.setenv("EGOV_BURST_OBJECT_MAX", "3")
    reset_settings()
    keys = setup_register()
    client = TestClient(create_app())
    state: dict[str, Any] = _state(client, keys)
    state["keys"] = keys
    r = client.post(
        "/api/v1/values", json=VALUES_BODY, headers={"Authorization": f"Bearer {keys['department']}"}
    )
    assert r.status_code == 200, r.text
    state["values"] = r.json()["ids"]  # a value of SAFP's, for its evidence
    return client, state


@pytest.mark.slow
def test_hostile_json_bodies_are_refused_never_a_server_error(
    use_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every JSON operation, with one value (or a new key) of its valid body replaced by a text
    holding a control character or a lone surrogate, or by NaN, ±Infinity or 1e400: a 422 that
    renders as JSON (in a rating batch, the poisoned item's own 422), never a 5xx."""
    client, state = _hostile_env(monkeypatch)
    operations = _json_operations(state)
    schema = client.get("/openapi.json").json()
    with_body = {p for p, ops in schema["paths"].items() for op in ops.values() if "requestBody" in op}
    assert with_body == set(operations), "a JSON operation without a hostile-input case"

    for template, (url, role, body) in operations.items():
        headers = {"content-type": "application/json"}
        if role != "none":
            headers["Authorization"] = f"Bearer {state['keys'][role]}"
        _poisoning(client, template, url, headers, body)()
    client.close()


def _poisoning(client: Any, template: str, url: str, headers: dict[str, str], body: dict[str, Any]) -> Any:
    """The hypothesis test of one JSON operation: its valid body, poisoned once per case."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from tests.helpers.hostile import poisoned, written

    @settings(max_examples=40, suppress_health_check=list(HealthCheck), **HOSTILE_SETTINGS)
    @given(data=st.data())
    def run(data: Any) -> None:
        sent, where = poisoned(body, data.draw)
        r = client.post(url, content=written(sent), headers=headers)
        assert r.status_code < 500, (template, where, r.text)
        answer = r.json()
        if template == "/api/v1/ratings/batch" and len(where) >= 2:  # inside one item
            assert r.status_code == 200 and answer["items"][where[1]]["code"] == 422, (where, answer)
        else:
            assert r.status_code == 422 and answer["detail"], (template, where, answer)

    return run


# path and query parameters of every operation (and the report pages): a valid value each
PARAMETER_VALUES = {
    "case_id": "1",
    "rating_id": "1",
    "key_id": "1",
    "value_id": "1",
    "objection_id": "1",
    "object_code": "ONE_ACCOUNT",
    "code": "NO-SUCH",
    "receipt": "0" * 32,
}
REPORT_PAGES = ("/reports/{run_key}/ranking", "/reports/{run_key}/departments/{department}")


@pytest.mark.slow
def test_hostile_path_and_query_parameters_are_refused(use_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A percent-encoded control character in any path or query parameter (name or value) of
    any operation is a 422 naming where, before any key check or database work; an oversized
    login form is a 400."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from tests.helpers.hostile import PLAIN, URL_BAD

    client, _ = _hostile_env(monkeypatch)
    schema = client.get("/openapi.json").json()
    targets: list[tuple[str, str, str, str]] = []  # method, path template, where, parameter
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            for param in op.get("parameters", []):
                targets.append((method.upper(), path, param["in"], param["name"]))
            targets.append((method.upper(), path, "query", ""))  # a hostile parameter name
    for page in REPORT_PAGES:
        targets += [("GET", page, "path", name) for name in ("run_key", "department") if name in page]
    values = {**PARAMETER_VALUES, "run_key": "latest", "department": "SAFP"}

    @settings(max_examples=150, suppress_health_check=list(HealthCheck), **HOSTILE_SETTINGS)
    @given(target=st.sampled_from(targets), bad=URL_BAD, plain=PLAIN)
    def run(target: tuple[str, str, str, str], bad: str, plain: str) -> None:
        method, path, where, name = target
        url = path
        for key, value in values.items():
            url = url.replace("{" + key + "}", bad if (where, name) == ("path", key) else value)
        if where == "query":
            url += f"?{name}={bad}" if name else f"?{bad}={plain}"
        r = client.request(method, url)
        assert r.status_code == 422, (method, url, r.status_code, r.text)
        assert r.json()["detail"][0]["loc"][0] == where

    run()

    @settings(max_examples=30, suppress_health_check=list(HealthCheck), **HOSTILE_SETTINGS)
    @given(n=st.integers(11, 400), bad=URL_BAD)
    def oversized_form(n: int, bad: str) -> None:
        body = "&".join(f"f{i}={bad}" for i in range(n - 1)) + f"&key=egk_{bad}"
        form = {"content-type": "application/x-www-form-urlencoded"}
        assert client.post("/reports/login", content=body, headers=form).status_code == 400

    oversized_form()
    client.close()
