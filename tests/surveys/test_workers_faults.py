"""Issue 8, reliability: several API workers on one database, a SIGKILL of the whole server in
the middle of a load, and PostgreSQL stopped under load — against real `egov serve`
processes. In every case nothing acknowledged (2xx) is lost or stored twice, nothing
unacknowledged is half-stored, and the roll-ups equal a full recount; a database outage is
answered with 503 + Retry-After (never 500, never a traceback) and heals by itself.
Helpers: tests/helpers/faults.py."""

from __future__ import annotations

import contextlib
import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers.faults import (
    API,
    UNTHROTTLED,
    Load,
    Req,
    Server,
    Tok,
    acknowledged,
    alive,
    check_database,
    concurrent_conflict,
    issue_tokens,
    mixed_plan,
    pause_with_a_request_in_flight,
    private_cluster,
    rating_body,
    rating_plan,
    send,
)
from tests.helpers.register import setup_register
from tests.helpers.services import skip_or_fail

UNAVAILABLE = "the rating database is unavailable; please try again shortly"


@contextlib.contextmanager
def _serving(url: str, cwd: Path, workers: int) -> Iterator[tuple[Server, dict[str, str]]]:
    """The schema, then `egov serve` started while this process loads the register and the
    keys (the server's start-up is mostly imports: the two overlap); ready on entry."""
    from egov.db import dispose_engines, init_db

    init_db(url)
    dispose_engines()
    with Server(url, cwd, workers=workers, **UNTHROTTLED).launch() as server:
        keys = setup_register(url)
        dispose_engines()  # no connection of this process stays open
        server.wait_ready()
        yield server, keys


def _resend_until_answered(base: str, reqs: list[Req], within: float = 60) -> None:
    """The client's retry: send each request again until it has a 2xx answer."""
    deadline = time.monotonic() + within
    with httpx.Client(base_url=base, timeout=30) as http:
        for req in reqs:
            while True:
                status = send(http, req)
                if status is not None and 200 <= status < 300:
                    break
                assert status is None or status == 503 or concurrent_conflict(req), req.answers[-1]
                assert time.monotonic() < deadline, f"request {req.n} not answered with 2xx: {req.answers}"
                time.sleep(0.05)


def _assert_all_items_ok(req: Req) -> None:
    status, payload, headers = req.answers[-1]
    assert status == 200, (req.kind, req.answers[-1])
    if req.path.endswith("/batch"):
        assert all(item["ok"] for item in payload["items"]), payload
    if req.kind == "single-replay" and headers.get("idempotent-replay") != "true":
        # a replay answers the first request's receipt; it may have been the first to arrive
        assert payload["status"] == "accepted", payload


# --- 1. several workers, one database --------------------------------------------------------------
def _worker_activity(url: str) -> dict[int, Any]:
    """pid → latest state change of that API process' connections (pg_stat_activity; the
    engine names its connections `egov-eval[pid]`)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as c:
            rows = c.execute(
                text(
                    "SELECT application_name, MAX(state_change) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND application_name LIKE 'egov-eval[%' GROUP BY 1"
                )
            ).all()
    finally:
        engine.dispose()
    return {int(m.group(1)): at for name, at in rows if (m := re.fullmatch(r"egov-eval\[(\d+)\]", name))}


def _db_now(url: str) -> Any:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as c:
            return c.execute(text("SELECT clock_timestamp()")).scalar_one()
    finally:
        engine.dispose()


@pytest.mark.postgres
@pytest.mark.slow
def test_two_workers_one_database(pg_url: str, tmp_path: Path) -> None:
    with _serving(pg_url, tmp_path, workers=2) as (server, keys):
        workers = server.worker_pids()
        assert len(workers) == 2, f"uvicorn parent {server.pid} has workers {workers}"
        # both workers up: health checks on new connections until each worker has used the database
        deadline = time.monotonic() + 60
        while not set(workers) <= set(_worker_activity(pg_url)):
            assert time.monotonic() < deadline, f"not every worker answered: {_worker_activity(pg_url)}"
            httpx.get(f"{server.base}{API}/health", headers={"Connection": "close"}, timeout=10)
        toks = issue_tokens(server.base, keys["department"], 700, "W", seed=8)
        reqs = rating_plan(toks, seed=8)
        assert {r.kind for r in reqs} == {"single", "single-replay", "batch", "batch-replay"}
        load_start = _db_now(pg_url)
        # a new connection per request, so that the kernel spreads them over both workers
        Load(server.base, reqs, threads=8, keepalive=False).start().join(within=120)
        activity = _worker_activity(pg_url)
        assert server.worker_pids() == workers, "a worker died or was replaced under load"
        for pid in workers:  # each worker's database connections were used during the load
            assert activity[pid] > load_start, f"worker {pid} handled no request under load"

    for req in reqs:
        _assert_all_items_ok(req)
    replays = [r for r in reqs if r.kind == "single-replay"]
    assert any(r.answers[-1][2].get("idempotent-replay") == "true" for r in replays)
    sent = {t for r in reqs for t in r.toks}
    assert acknowledged(reqs) == sent == set(toks)
    stats = check_database(pg_url, sent, acknowledged(reqs))
    assert stats["ratings"] == len(toks) == 700


# --- 2. SIGKILL in the middle of a load -------------------------------------------------------------
@pytest.mark.slow
def test_sigkill_mid_load_loses_nothing_acknowledged(db_url: str, tmp_path: Path) -> None:
    workers = 2 if db_url.startswith("postgresql") else 1  # SQLite: one writer, one worker
    with _serving(db_url, tmp_path, workers) as (server, keys):
        toks = issue_tokens(server.base, keys["department"], 600, "K", seed=9)
        reqs = rating_plan(toks, seed=9)
        load = Load(server.base, reqs, threads=8).start()
        load.wait_acked(150, within=60)
        pause_with_a_request_in_flight(server, load)  # stopped, a request known to be in flight
        kill_at = time.monotonic()
        killed = server.kill()  # the uvicorn parent and its workers, while requests are in flight
        load.stop()
    assert not any(alive(p) for p in killed), "a server process survived SIGKILL"
    unanswered = [r for r in load.sent if r.answers[-1][0] is None]
    assert [r for r in unanswered if r.started < kill_at], "no request was in flight at the kill"
    acked_before = acknowledged(load.sent)
    assert len(acked_before) >= 150

    with Server(db_url, tmp_path, workers=1, **UNTHROTTLED) as again:
        check_database(db_url, {t for r in load.sent for t in r.toks}, acked_before)
        # the client's retry of everything that got no answer: accepted now, or answered as the
        # replay of what was committed just before the kill — either way stored once
        _resend_until_answered(again.base, unanswered)
    for req in unanswered:
        _assert_all_items_ok(req)
    sent = {t for r in load.sent for t in r.toks}
    assert acknowledged(load.sent) == sent
    stats = check_database(db_url, sent, sent)
    assert stats["ratings"] == len(sent)


# --- 3. PostgreSQL stopped under load ---------------------------------------------------------------
def _is_503(answer: tuple[int | None, Any, dict[str, str]], html: bool = False) -> bool:
    status, payload, headers = answer
    if status != 503 or int(headers.get("retry-after", "0")) < 1:
        return False
    if html:
        return isinstance(payload, str) and UNAVAILABLE in payload and "Traceback" not in payload
    return payload == {"detail": UNAVAILABLE}


@pytest.mark.postgres
@pytest.mark.slow
def test_postgres_outage_is_503_and_heals(tmp_path: Path) -> None:
    with contextlib.ExitStack() as stack:
        try:
            cluster = stack.enter_context(private_cluster())  # stopped and removed in every case
        except LookupError as exc:
            skip_or_fail(f"cannot start a private PostgreSQL cluster: {exc}")
        _outage(cluster, tmp_path)


def _probe(http: httpx.Client, toks: Iterator[Tok], keys: dict[str, str]) -> dict[str, Req]:
    """One request of each kind, one after the other: a single rating (the fast path on the
    raw driver connection), a batch, a token, a report page."""
    one, a, b = next(toks), next(toks), next(toks)
    dep = {"Authorization": f"Bearer {keys['department']}"}
    out = {
        "single": Req(0, "POST", f"{API}/ratings", rating_body(one), (one,)),
        "batch": Req(0, "POST", f"{API}/ratings/batch", {"items": [rating_body(a), rating_body(b)]}, (a, b)),
        "token": Req(0, "POST", f"{API}/tokens", {"object": "OPEN_DATA_PLATFORM", "transaction_ref": f"P-{one.ref}"}, headers=dep),
        "report": Req(0, "GET", "/reports/", headers={"Authorization": f"Bearer {keys['assessor']}"}),
    }  # fmt: skip
    for req in out.values():
        send(http, req)
    return out


def _outage(cluster: Any, tmp_path: Path) -> None:
    url = cluster.url
    with _serving(url, tmp_path, workers=1) as (server, keys):
        toks = issue_tokens(server.base, keys["department"], 1500, "O", seed=10)
        probe_toks = iter(toks[1200:])
        first = mixed_plan(toks[:900], 10, keys, "N1")
        then = mixed_plan(toks[900:1200], 11, keys, "N2")
        probes: list[dict[str, Req]] = []
        with httpx.Client(base_url=server.base, timeout=30) as http:
            probes.append(_probe(http, probe_toks, keys))
            assert all(r.answers[-1][0] == 200 for r in probes[0].values()), probes[0]
            load = Load(server.base, first, threads=6).start()
            load.wait_acked(100, within=60)
            cluster.stop("immediate")  # under load: in-flight queries and the pooled connections broken
            during = _probe(http, probe_toks, keys)
            time.sleep(0.5)  # the load goes on against the dead database
            load.stop()
            cluster.start()
            # heals by itself, no restart of the API: the pool discards its broken connections
            deadline = time.monotonic() + 30
            while True:
                probes.append(_probe(http, probe_toks, keys))
                answers = {k: r.answers[-1] for k, r in probes[-1].items()}
                if all(a[0] == 200 for a in answers.values()):
                    break
                assert all(a[0] in (200, 503) for a in answers.values()), answers
                assert time.monotonic() < deadline, f"not recovered 30 s after the restart: {answers}"
                time.sleep(0.2)
            # from then on everything succeeds at the first attempt, 8 at a time (more than the
            # connections pooled during the outage)
            after = Load(server.base, then, threads=8).start()
            after.join(within=120)
            # the client's retry of every rating request of the first load without a 2xx answer
            pending = [r for r in load.sent if r.toks and not r.answered_ok]
            pending += [during["single"], during["batch"]]
            _resend_until_answered(server.base, pending)

    for kind, req in during.items():  # the first answer: during the outage
        assert _is_503(req.answers[0], html=kind == "report"), (kind, req.answers[0])
    for req in after.sent:  # at the first attempt (or after a concurrent replay's 409, as it asks)
        assert all(a[0] == 409 for a in req.answers[:-1]), (req.kind, req.answers)
        assert 200 <= (req.answers[-1][0] or 0) < 300, (req.kind, req.answers)
    everything = load.sent + after.sent + [r for p in (*probes, during) for r in p.values()]
    for r in everything:
        for answer in r.answers:  # never a 500, never a traceback; every 503 says what it is
            assert (
                answer[0] is None or answer[0] < 500 or _is_503(answer, html=r.path.startswith("/reports"))
            ), (
                r.kind,
                answer,
            )
    refused = {r.kind for r in load.sent if any(a[0] == 503 for a in r.answers)}
    assert {"single", "batch", "token", "report", "health"} & refused, "the load met no 503"
    rating_reqs = [r for r in everything if r.toks]
    sent = {t for r in rating_reqs for t in r.toks}
    assert acknowledged(rating_reqs) == sent
    check_database(url, sent, sent)


# --- the 503 mapping, precisely (in-process) --------------------------------------------------------
def _pg_error(sqlstate: str | None, message: str) -> Exception:
    import psycopg

    exc = psycopg.OperationalError(message)
    if sqlstate:  # psycopg takes the SQLSTATE from the server's diagnostics; fake it
        exc = type("PgError", (psycopg.OperationalError,), {"sqlstate": sqlstate})(message)
    return exc


def _wrapped(orig: Exception, invalidated: bool = False) -> Exception:
    from sqlalchemy.exc import DBAPIError

    return DBAPIError.instance("SELECT 1", {}, orig, Exception, connection_invalidated=invalidated)


def _cases() -> list[tuple[str, Any, int]]:
    import psycopg
    from sqlalchemy.exc import DisconnectionError, IntegrityError, ProgrammingError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    from egov.errors import EgovError

    def egov_from(exc: Exception) -> Exception:
        try:
            raise EgovError("database error: connection refused") from exc
        except EgovError as wrapped:
            return wrapped

    return [
        ("psycopg refused (raw, fast path)", lambda: psycopg.OperationalError("connection refused"), 503),
        ("psycopg admin shutdown 57P01", lambda: _pg_error("57P01", "terminating connection"), 503),
        ("psycopg starting up 57P03", lambda: _pg_error("57P03", "the database system is starting up"), 503),
        ("psycopg interface error", lambda: psycopg.InterfaceError("connection closed"), 503),
        ("sqlalchemy invalidated", lambda: _wrapped(psycopg.OperationalError("lost"), invalidated=True), 503),
        ("sqlalchemy operational (pg)", lambda: _wrapped(psycopg.OperationalError("server closed")), 503),
        ("pool timeout", lambda: PoolTimeout("QueuePool limit of size 5 overflow 10 reached"), 503),
        ("disconnection", lambda: DisconnectionError("gone"), 503),
        ("sqlite locked", lambda: _wrapped(sqlite3.OperationalError("database is locked")), 503),
        ("sqlite locked (raw)", lambda: sqlite3.OperationalError("database is locked"), 503),
        ("session_scope's EgovError", lambda: egov_from(_wrapped(psycopg.OperationalError("refused"))), 503),
        ("sqlite no such table", lambda: _wrapped(sqlite3.OperationalError("no such table: rating")), 500),
        ("pg program limit 54000", lambda: _pg_error("54000", "program limit exceeded"), 500),
        ("pg syntax error", lambda: ProgrammingError("SELECT", {}, psycopg.ProgrammingError("syntax")), 500),
        ("integrity error", lambda: IntegrityError("INSERT", {}, psycopg.IntegrityError("duplicate")), 500),
        ("plain bug", lambda: ZeroDivisionError("division by zero"), 500),
    ]


def test_database_errors_map_to_503_or_500(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Connection-level failures (also raised raw by the fast path's driver connection) are a
    503 with Retry-After and a JSON body (HTML on report pages); programming errors stay 500.
    Raised where the single rating, the token endpoint and the report index meet the database."""
    from fastapi.testclient import TestClient

    import reports.web.routes
    import surveys.routes.ratings
    import surveys.routes.tokens
    from egov.app import create_app
    from egov.db import dispose_engines
    from egov.settings import reset_settings

    monkeypatch.setenv("EGOV_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("EGOV_SECRET_KEY", "test-secret-not-for-production")
    monkeypatch.chdir(tmp_path)
    reset_settings()
    keys = setup_register()
    dep = {"Authorization": f"Bearer {keys['department']}"}
    reader = {"Authorization": f"Bearer {keys['assessor']}"}
    raising: dict[str, Any] = {}

    def boom(*_a: Any, **_k: Any) -> Any:
        raise raising["exc"]()

    try:
        with TestClient(create_app(), raise_server_exceptions=False) as client:
            items = [{"object": "ONE_ACCOUNT", "transaction_ref": "M-1"}]
            r = client.post(f"{API}/tokens/batch", json={"items": items}, headers=dep)
            token = r.json()["items"][0]["token"]
            monkeypatch.setattr(surveys.routes.ratings, "submit_one_fast", boom)
            monkeypatch.setattr(surveys.routes.tokens, "issue_tokens", boom)
            monkeypatch.setattr(reports.web.routes, "who", boom)
            for name, make, expected in _cases():
                raising["exc"] = make
                answers = {
                    "rating": client.post(f"{API}/ratings", json={"token": token, "level": 5}),
                    "tokens": client.post(
                        f"{API}/tokens", json={**items[0], "transaction_ref": "M-2"}, headers=dep
                    ),
                    "report": client.get("/reports/", headers=reader),
                }
                for path, r in answers.items():
                    assert r.status_code == expected, (name, path, r.status_code, r.text)
                    assert "Traceback" not in r.text
                    if expected == 503:
                        assert int(r.headers["Retry-After"]) >= 1, (name, path)
                        if path == "report":
                            assert r.headers["content-type"].startswith("text/html") and UNAVAILABLE in r.text
                        else:
                            assert r.json() == {"detail": UNAVAILABLE}, (name, path)
    finally:
        dispose_engines()
        reset_settings()
