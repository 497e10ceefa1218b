"""What docs/deployment.md says, checked where it can be checked here (issue 8).

- deploy/postgresql/partition_rating_by_month.sql turns `rating` into monthly partitions on a
  PostgreSQL database that already holds ratings; then ratings go through the real service
  (tokens, single and batch ratings, replays, a follow-up, a refused reuse, bad ratings that
  open cases): every row lands in the partition of its month, ids and rows survive the
  migration, roll-ups equal a recount, the retention purge and `egov score` work, and
  `egov db init` and the script itself stay idempotent.
- Key rotation: EGOV_PREVIOUS_SECRET_KEY keeps tokens signed with the old secret valid (also a
  secret generated in the database, as hex:…), re-issuing re-signs, pseudonyms change.
- Behind a reverse proxy on the same host, `egov serve` (uvicorn as the command starts it) takes
  the client address from X-Forwarded-For: the stored IP and the per-client rate limit.
- deploy/nginx/egov.conf uses the app's body limits and overwrites X-Forwarded-For; `nginx -t`
  only when nginx is installed (not in CI).

deploy/postgresql/citus_distribute.sql is NOT executed here (Citus is not installable).
"""

from __future__ import annotations

import random
import re
import shutil
import subprocess
import threading
import time
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.pool import QueuePool

from tests.helpers.servers import free_port
from tests.helpers.services import skip_or_fail

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
PARTITION_SQL = DEPLOY / "postgresql" / "partition_rating_by_month.sql"
CITUS_SQL = DEPLOY / "postgresql" / "citus_distribute.sql"
SAFP = ("ONE_ACCOUNT", "OPEN_DATA_PLATFORM")
DSAT = ("BUS_REPORT", "MACAU_TRAVEL")
SECRET = "test-secret-not-for-production"


def _rows(url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    from egov.db import session_scope

    with session_scope(url) as s:
        return [tuple(r) for r in s.execute(text(sql), params).all()]


def _apply_sql(url: str, path: Path) -> None:
    """The file in one transaction, as `psql --single-transaction -f` runs it."""
    from egov.db import get_engine

    with get_engine(url).begin() as conn:
        cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        cur.execute(path.read_text(encoding="utf-8"))  # no parameters: the text as it is


class Rater:
    """Tokens and ratings through the API, with the service's clock fixed."""

    def __init__(self, client: Any, keys: dict[str, str], clock: dict[str, datetime]) -> None:
        self.client, self.keys, self.clock = client, keys, clock
        self.tokens: dict[str, str] = {}
        self.objects: dict[str, tuple[str, str]] = {}  # ref -> (issuing key, object)
        self.rng = random.Random(8)

    def at(self, when: datetime) -> None:
        self.clock["now"] = when

    def issue(self, *refs: str) -> None:
        """Tokens for transactions of SAFP's and DSAT's apps (each ref keeps its object)."""
        for ref in refs:
            if ref not in self.objects:
                who, objs = ("department", SAFP) if self.rng.random() < 0.6 else ("other_department", DSAT)
                self.objects[ref] = (who, self.rng.choice(objs))
        for who in ("department", "other_department"):
            items = [
                {"object": self.objects[r][1], "transaction_ref": r, "citizen_id": "1234567(8)"}
                for r in refs
                if self.objects[r][0] == who
            ]
            if not items:
                continue
            res = self.client.post(
                "/api/v1/tokens/batch",
                json={"items": items},
                headers={"Authorization": f"Bearer {self.keys[who]}"},
            )
            assert res.status_code == 200, res.text
            self.tokens.update({t["transaction_ref"]: t["token"] for t in res.json()["items"]})

    def body(self, ref: str, level: int, **extra: Any) -> dict[str, Any]:
        body: dict[str, Any] = {"token": self.tokens[ref], "level": level, **extra}
        if level <= 2:
            body.setdefault("better", ["efficiency"])
        return body

    def rate(self, ref: str, level: int, **extra: Any) -> Any:
        return self.client.post("/api/v1/ratings", json=self.body(ref, level, **extra))


def _moment(day: date, hour: int = 4) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def _partition_of(day: date) -> str:
    return f"rating_y{day.year}m{day.month:02d}"


RATING_ROWS = (
    "SELECT r.id, o.code, r.transaction_ref, r.level, r.day, r.flags, r.comment, r.pseudonym "
    "FROM rating r JOIN assessed_object o ON o.id = r.object_id ORDER BY r.id"
)
RECOUNT = (
    "SELECT object_id, day, "
    + ", ".join(f"SUM(CASE WHEN level = {k} THEN 1 ELSE 0 END)" for k in range(1, 6))
    + " FROM rating WHERE flags = '' GROUP BY object_id, day ORDER BY object_id, day"
)
ROLLUPS = "SELECT object_id, day, n1, n2, n3, n4, n5 FROM rating_daily WHERE n1 + n2 + n3 + n4 + n5 > 0 ORDER BY 1, 2"


@pytest.mark.postgres
@pytest.mark.slow
def test_monthly_partitions_keep_every_rating_whole(
    pg_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, egov: Any
) -> None:
    from fastapi.testclient import TestClient

    from egov.app import create_app
    from egov.db import dispose_engines, get_engine, init_db, session_scope
    from egov.settings import reset_settings
    from egov.store import ensure_period
    from surveys.privacy import purge_ratings
    from tests.helpers.register import fix_service_clock, setup_register

    monkeypatch.chdir(tmp_path)
    for name, value in {
        "DATABASE_URL": pg_url,
        "SECRET_KEY": SECRET,
        "OPERATOR": "pytest",
        "MIN_RATINGS": "1",
        "RATE_LIMIT_CLIENT": "100000",
        "TOKEN_TTL_DAYS": "200",  # the story uses January tokens until May (on the service clock)
    }.items():
        monkeypatch.setenv(f"EGOV_{name}", value)
    reset_settings()
    keys = setup_register(pg_url)
    clock = {"now": _moment(date(2026, 1, 15))}
    fix_service_clock(monkeypatch, clock)
    client = TestClient(create_app())
    rt = Rater(client, keys, clock)

    # an installation that has been running: ratings in January, before partitioning
    rt.issue(*[f"A{i}" for i in range(8)])
    for i, level in enumerate((5, 1, 4, 3, 5, 2)):
        assert rt.rate(f"A{i}", level).status_code == 200
    before = _rows(pg_url, RATING_ROWS)
    cases_before = _rows(
        pg_url, "SELECT c.rating_id, r.transaction_ref FROM rating_case c JOIN rating r ON r.id = c.rating_id"
    )
    assert len(before) == 6 and len(cases_before) == 2

    _apply_sql(pg_url, PARTITION_SQL)
    # the workers are restarted after the migration: connections that prepared the rating
    # statements before it would fail ("cached plan must not change result type": id is bigint)
    dispose_engines()
    assert _rows(pg_url, "SELECT relkind FROM pg_class WHERE relname = 'rating'") == [("p",)]
    assert _rows(pg_url, RATING_ROWS) == before  # ids, days, everything kept
    assert (
        _rows(
            pg_url,
            "SELECT c.rating_id, r.transaction_ref FROM rating_case c JOIN rating r ON r.id = c.rating_id",
        )
        == cases_before
    )
    partitions = _rows(
        pg_url,
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'rating'::regclass ORDER BY 1",
    )
    names = [p[0] for p in partitions]
    today = date.today()
    assert names[0] == "rating_default" and "rating_y2026m01" in names
    ahead = today.year * 12 + today.month - 1 + 3  # three months ahead are made in advance
    assert _partition_of(date(ahead // 12, ahead % 12 + 1, 1)) in names
    assert init_db(pg_url) == []  # egov db init on the partitioned schema: nothing to do
    pool = get_engine(pg_url).pool  # per worker process: 5 kept + 10 overflow (docs/deployment.md)
    assert isinstance(pool, QueuePool)
    assert (pool.size(), getattr(pool, "_max_overflow", None)) == (5, 10)
    _apply_sql(pg_url, PARTITION_SQL)  # running it again is harmless
    assert _rows(pg_url, RATING_ROWS) == before
    pk = _rows(
        pg_url,
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = 'rating'::regclass AND contype IN ('p', 'u') ORDER BY 1",
    )
    assert pk == [
        ("rating_pkey", "PRIMARY KEY (id, day)"),
        ("uq_rating_transaction", "UNIQUE (object_id, transaction_ref, day)"),
    ]

    # February: single ratings on the fast path (one of a token issued in January), a replay
    rt.at(_moment(date(2026, 2, 10)))
    rt.issue(*[f"B{i}" for i in range(5)])
    for ref, level in (("A6", 4), ("B0", 5), ("B1", 2), ("B2", 3), ("B3", 4)):
        assert rt.rate(ref, level).status_code == 200
    replay = rt.rate("A0", 5)
    assert replay.status_code == 200 and replay.headers.get("Idempotent-Replay") == "true"

    # March: a batch (with a bad rating and a replay of February's B0 inside)
    rt.at(_moment(date(2026, 3, 5)))
    rt.issue(*[f"C{i}" for i in range(10)])
    items = [rt.body(f"C{i}", lv) for i, lv in enumerate((5, 4, 1, 5, 3, 4, 5, 2, 4, 5))] + [rt.body("B0", 5)]
    res = client.post("/api/v1/ratings/batch", json={"items": items})
    assert res.status_code == 200 and res.json()["accepted"] == 10, res.text
    assert all(it["ok"] for it in res.json()["items"])
    n_batch = len(_rows(pg_url, RATING_ROWS))
    again = client.post("/api/v1/ratings/batch", json={"items": items})  # the whole batch again
    assert again.status_code == 200 and again.json()["accepted"] == 0
    assert len(_rows(pg_url, RATING_ROWS)) == n_batch

    # May: follow-ups amend January's and March's ratings in place; the same transaction again
    # (token re-issued: the same token) with another level is refused, not stored twice
    rt.at(_moment(date(2026, 5, 20)))
    assert rt.rate("A2", 1, follow_up=True).json()["amended"] is True
    assert rt.rate("C1", 5, follow_up=True).status_code == 200
    old_token = rt.tokens["A3"]
    rt.issue("A3")
    assert rt.tokens["A3"] == old_token
    assert rt.rate("A3", 1).status_code == 409

    # beyond the partitions made ahead: the default partition takes it; the monthly job moves it
    far = date(today.year + 1, today.month, 1)
    rt.at(_moment(far))
    rt.issue("E0")
    assert rt.rate("E0", 4).status_code == 200
    assert _rows(pg_url, "SELECT transaction_ref FROM rating_default") == [("E0",)]
    rows_before_move = _rows(pg_url, RATING_ROWS)
    assert _rows(pg_url, "SELECT egov_create_rating_partitions(:d, :d)", d=far) == [(1,)]
    assert _rows(pg_url, "SELECT COUNT(*) FROM rating_default") == [(0,)]
    assert _rows(pg_url, RATING_ROWS) == rows_before_move
    rt.issue("E1")  # the running workers' connections go on after the monthly job
    assert rt.rate("E1", 2).status_code == 200

    # every rating in the partition of its month; one row per (object, transaction)
    placed = _rows(pg_url, "SELECT tableoid::regclass::text, day FROM rating")
    assert len(placed) == 6 + 5 + 10 + 2
    assert all(part == _partition_of(day) for part, day in placed), placed
    assert {_partition_of(d) for _, d in placed} >= {"rating_y2026m01", "rating_y2026m02", "rating_y2026m03"}
    assert _rows(pg_url, "SELECT COUNT(*), COUNT(DISTINCT (object_id, transaction_ref)) FROM rating") == [
        (23, 23)
    ]
    amended = dict((r[2], r[3]) for r in _rows(pg_url, RATING_ROWS))
    assert amended["A2"] == 1 and amended["C1"] == 5 and amended["A3"] == 3
    # cases: January's two, February's B1, March's C2 and C7, A2 turned bad by its follow-up, E1
    case_refs = _rows(
        pg_url, "SELECT r.transaction_ref FROM rating_case c JOIN rating r ON r.id = c.rating_id ORDER BY 1"
    )
    assert [c[0] for c in case_refs] == ["A1", "A2", "A5", "B1", "C2", "C7", "E1"]
    assert _rows(pg_url, ROLLUPS) == _rows(pg_url, RECOUNT)  # roll-ups equal a recount

    # the database alone no longer stops the same (object, transaction) on another day
    with session_scope(pg_url) as s:
        obj, ref, day = s.execute(
            text("SELECT object_id, transaction_ref, day FROM rating WHERE transaction_ref = 'B0'")
        ).one()
        dup = (
            "INSERT INTO rating (object_id, level, drivers, comment, channel, language, created_at, day, "
            "pseudonym, transaction_ref, flags, question_version) "
            "VALUES (:o, 5, '', '', 'app', 'en', now(), :d, '', :x, '', '')"
        )
        with pytest.raises(Exception, match="duplicate key"), s.begin_nested():
            s.execute(text(dup), {"o": obj, "d": day, "x": ref})
        savepoint = s.begin_nested()
        s.execute(text(dup), {"o": obj, "d": date(2026, 4, 1), "x": ref})
        savepoint.rollback()

    # retention purge: January and February anonymised in their partitions, roll-ups unchanged
    rollups = _rows(pg_url, ROLLUPS)
    with session_scope(pg_url) as s:
        done = purge_ratings(s, before=date(2026, 3, 1))
    assert done["anonymised"] == 11
    purged = _rows(
        pg_url,
        "SELECT tableoid::regclass::text, pseudonym, transaction_ref FROM rating WHERE day < '2026-03-01'",
    )
    assert len(purged) == 11 and all(p[1] == "" and p[2].startswith("purged-") for p in purged)
    assert {p[0] for p in purged} == {"rating_y2026m01", "rating_y2026m02"}
    assert _rows(pg_url, ROLLUPS) == rollups == _rows(pg_url, RECOUNT)

    # egov score reads the roll-ups of the partitioned table: the mean rating per object equals
    # the mean of the counted raw ratings of 2026
    with session_scope(pg_url) as s:
        ensure_period(s, "2026", date(2026, 1, 1), date(2026, 12, 31))
    res = egov(["score", "--period", "2026"])
    assert res.code == 0, res.err
    scored = dict(
        _rows(
            pg_url,
            "SELECT unit, value FROM run_input WHERE indicator = 'app_mean_rating' AND part = 'data'",
        )
    )
    raw = dict(
        _rows(
            pg_url,
            "SELECT o.code, AVG(r.level) FROM rating r JOIN assessed_object o ON o.id = r.object_id "
            "WHERE r.flags = '' AND r.day BETWEEN '2026-01-01' AND '2026-12-31' GROUP BY o.code",
        )
    )
    assert set(scored) == set(raw) and len(raw) >= 4
    assert all(abs(scored[k] - float(raw[k])) < 1e-9 for k in raw), (scored, raw)
    assert init_db(pg_url) == []

    # the key changes citus_distribute.sql makes (object_id in every unique constraint), without
    # Citus itself: the service goes on storing ratings, cases and roll-ups the same way
    citus = CITUS_SQL.read_text(encoding="utf-8")
    plain = "\n".join(
        line for line in citus.splitlines() if not line.startswith(("CREATE EXTENSION", "SELECT create_"))
    )
    assert plain.count("ALTER TABLE") == 8 and citus.count("SELECT create_") == 9
    with session_scope(pg_url) as s:
        cur = s.connection().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        cur.execute(plain)
    dispose_engines()  # as after any migration: the workers are restarted
    rt.at(_moment(date(2026, 6, 2)))
    rt.issue("F0", "F1", "F2")
    assert rt.rate("F0", 1).status_code == 200
    res = client.post(
        "/api/v1/ratings/batch", json={"items": [rt.body("F1", 2), rt.body("F2", 5), rt.body("F0", 1)]}
    )
    assert [it["code"] for it in res.json()["items"]] == [200, 200, 200] and res.json()["accepted"] == 2
    assert rt.rate("F2", 1, follow_up=True).json()["amended"] is True
    assert _rows(pg_url, ROLLUPS) == _rows(pg_url, RECOUNT)
    case_refs = _rows(
        pg_url, "SELECT r.transaction_ref FROM rating_case c JOIN rating r ON r.id = c.rating_id"
    )
    assert {"F0", "F1", "F2"} <= {c[0] for c in case_refs}


@pytest.mark.postgres
def test_backup_dump_restores_into_a_fresh_database(
    pg_url: str, pg_server: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The restore drill of docs/deployment.md: deploy/backup/egov-backup.sh dump, pg_restore
    into an empty database; everything is back, the partitions and the generated secret too, so
    a token issued before the backup is still valid after the restore."""
    import os

    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from egov.db import dispose_engines, session_scope
    from egov.settings import reset_settings
    from surveys.security import forget_secrets, server_secret, verify_token
    from tests.helpers.register import setup_register

    for tool in ("pg_dump", "pg_restore"):
        if shutil.which(tool) is None:
            skip_or_fail(f"{tool} is not installed (PostgreSQL client tools)")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EGOV_DATABASE_URL", pg_url)
    monkeypatch.delenv("EGOV_SECRET_KEY", raising=False)  # the secret generated in the database
    reset_settings()
    try:
        keys = setup_register(pg_url)
        _apply_sql(pg_url, PARTITION_SQL)
        dispose_engines()
        from fastapi.testclient import TestClient

        from egov.app import create_app

        client = TestClient(create_app())
        auth = {"Authorization": f"Bearer {keys['department']}"}
        tokens = [
            client.post(
                "/api/v1/tokens", json={"object": "ONE_ACCOUNT", "transaction_ref": f"K{i}"}, headers=auth
            ).json()["token"]
            for i in range(3)
        ]
        for tok, level in zip(tokens[:2], (5, 1), strict=True):
            assert (
                client.post(
                    "/api/v1/ratings", json={"token": tok, "level": level, "better": ["ease"]}
                ).status_code
                == 200
            )
        tables = [
            t
            for (t,) in _rows(
                pg_url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            )
        ]
        counts = {t: _rows(pg_url, f'SELECT COUNT(*) FROM "{t}"')[0][0] for t in tables}
        secret = _rows(pg_url, "SELECT value FROM app_secret")

        url = make_url(pg_url)
        env = {
            **os.environ,
            "PGHOST": str(url.host),
            "PGPORT": str(url.port or 5432),
            "PGUSER": str(url.username),
        }
        env.update(PGDATABASE=str(url.database), EGOV_BACKUP_DIR=str(tmp_path / "backups"))
        proc = subprocess.run(
            ["sh", str(DEPLOY / "backup" / "egov-backup.sh"), "dump"], env=env, capture_output=True, text=True
        )
        assert proc.returncode == 0, proc.stderr
        dump = Path(proc.stdout.strip())
        assert dump.is_file() and (dump.stat().st_mode & 0o077) == 0  # owner only
        digest = (dump.parent / f"{dump.name}.sha256").read_text(encoding="utf-8").split()[0]
        assert len(digest) == 64

        restored = f"{url.database}_restored"
        admin = create_engine(pg_server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{restored}"'))
        try:
            proc = subprocess.run(
                ["pg_restore", "--no-owner", "--exit-on-error", "--dbname", restored, str(dump)],
                env=env,
                capture_output=True,
                text=True,
            )
            assert proc.returncode == 0, proc.stderr
            back = url.set(database=restored).render_as_string(hide_password=False)
            assert {t: _rows(back, f'SELECT COUNT(*) FROM "{t}"')[0][0] for t in tables} == counts
            assert _rows(back, "SELECT value FROM app_secret") == secret
            assert _rows(back, "SELECT relkind FROM pg_class WHERE relname = 'rating'") == [("p",)]
            assert _rows(back, "SELECT egov_create_rating_partitions(current_date, current_date)") == [(0,)]
            forget_secrets()
            with session_scope(back) as s:
                claims = verify_token(server_secret(s), tokens[2])  # issued before the backup
            assert (
                claims.token_id
                == _rows(back, "SELECT id FROM rating_token WHERE transaction_ref = 'K2'")[0][0]
            )
        finally:
            dispose_engines()
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{restored}" WITH (FORCE)'))
            admin.dispose()
    finally:
        forget_secrets()
        reset_settings()


def test_previous_secret_keeps_old_tokens_valid_during_a_rotation(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from fastapi.testclient import TestClient
    from pydantic import ValidationError

    from egov.app import create_app
    from egov.settings import Settings, reset_settings
    from surveys.security import TokenError, verify_token
    from tests.helpers.register import setup_register

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EGOV_DATABASE_URL", sqlite_url)
    monkeypatch.delenv("EGOV_SECRET_KEY", raising=False)
    monkeypatch.delenv("EGOV_PREVIOUS_SECRET_KEY", raising=False)
    reset_settings()
    keys = setup_register(sqlite_url)
    auth = {"Authorization": f"Bearer {keys['department']}"}

    def app(**env: str) -> Any:
        for name in ("SECRET_KEY", "PREVIOUS_SECRET_KEY"):
            if name in env:
                monkeypatch.setenv(f"EGOV_{name}", env[name])
            else:
                monkeypatch.delenv(f"EGOV_{name}", raising=False)
        reset_settings()
        return TestClient(create_app())

    def issue(client: Any, *refs: str) -> list[str]:
        items = [{"object": "ONE_ACCOUNT", "transaction_ref": r, "citizen_id": "5123456(7)"} for r in refs]
        res = client.post("/api/v1/tokens/batch", json={"items": items}, headers=auth)
        assert res.status_code == 200, res.text
        return [t["token"] for t in res.json()["items"]]

    def pseudonym(ref: str) -> str:
        return str(
            _rows(sqlite_url, "SELECT pseudonym FROM rating_token WHERE transaction_ref = :x", x=ref)[0][0]
        )

    try:
        # 1. the secret generated in the database, moved out with hex:, rotated to a configured one
        client = app()
        (t0,) = issue(client, "R0")
        stored = _rows(sqlite_url, "SELECT value FROM app_secret WHERE name = 'signing'")[0][0]
        client = app(SECRET_KEY="new-secret-one", PREVIOUS_SECRET_KEY=f"hex:{stored}")
        assert client.post("/api/v1/ratings", json={"token": t0, "level": 5}).status_code == 200
        # 2. rotate again: tokens of the last secret stay valid, older ones do not
        (t1, t2, t3) = issue(client, "R1", "R2", "R3")
        client = app(SECRET_KEY="new-secret-two", PREVIOUS_SECRET_KEY="new-secret-one")
        assert client.post("/api/v1/ratings", json={"token": t1, "level": 4}).status_code == 200
        (t4,) = issue(client, "R4")
        assert client.post("/api/v1/ratings", json={"token": t4, "level": 4}).status_code == 200
        # asking again for a transaction re-signs its token with the current secret
        (t2_new,) = issue(client, "R2")
        assert t2_new != t2 and t2_new.split(".")[1] == t2.split(".")[1]
        # pseudonyms follow the secret of the moment they were made: a rotation changes them
        assert len({pseudonym("R0"), pseudonym("R1"), pseudonym("R4")}) == 3
        # 3. the grace period over: only the current secret counts
        client = app(SECRET_KEY="new-secret-two")
        bad = client.post("/api/v1/ratings", json={"token": t3, "level": 4})
        assert bad.status_code == 401 and "signature" in bad.json()["detail"]
        assert client.post("/api/v1/ratings", json={"token": t2_new, "level": 3}).status_code == 200
        r = client.post("/api/v1/ratings/batch", json={"items": [{"token": t3, "level": 4}]})
        assert r.json()["items"][0]["code"] == 401
    finally:
        reset_settings()
    # an old secret does not extend a token's life
    monkeypatch.setenv("EGOV_PREVIOUS_SECRET_KEY", "new-secret-one")
    reset_settings()
    try:
        with pytest.raises(TokenError) as exc:
            verify_token(b"new-secret-two", t3, now=time.time() + 400 * 86400)
        assert exc.value.status == 410
        with pytest.raises(TokenError, match="signature"):
            verify_token(b"new-secret-two", t0)  # two rotations ago
    finally:
        reset_settings()
    with pytest.raises(ValidationError, match="previous_secret_key"):
        Settings(previous_secret_key="hex:not-hex")


def test_serve_behind_a_local_proxy_sees_the_forwarded_client(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, egov: Any
) -> None:
    """uvicorn as `egov serve` configures it trusts X-Forwarded-For from 127.0.0.1 (its
    default; FORWARDED_ALLOW_IPS widens it): the stored IP and the per-client limit use the
    forwarded address; in a chain, the entry the proxy appended (the last) counts."""
    import httpx
    import uvicorn

    from egov.settings import reset_settings
    from tests.helpers.register import setup_register

    monkeypatch.chdir(tmp_path)
    for name, value in {
        "DATABASE_URL": sqlite_url,
        "SECRET_KEY": SECRET,
        "STORE_IP": "true",
        "RATE_LIMIT_CLIENT": "4",
    }.items():
        monkeypatch.setenv(f"EGOV_{name}", value)
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    reset_settings()
    keys = setup_register(sqlite_url)
    captured: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: captured.update(app=app, **kw))
    port = free_port()
    assert egov(["serve", "--port", port, "--workers", "2"]).code == 0
    kwargs = {k: v for k, v in captured.items() if k not in ("app", "workers")}
    server = uvicorn.Server(uvicorn.Config(captured["app"], **kwargs))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "server did not start"
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}/api/v1"
        with httpx.Client(timeout=10) as http:

            def rate(ref: str, xff: str) -> httpx.Response:
                tok = http.post(
                    f"{base}/tokens",
                    json={"object": "ONE_ACCOUNT", "transaction_ref": ref},
                    headers={
                        "Authorization": f"Bearer {keys['department']}",
                        "X-Forwarded-For": f"192.0.2.{ref[-1]}",
                    },
                ).json()["token"]
                return http.post(
                    f"{base}/ratings", json={"token": tok, "level": 5}, headers={"X-Forwarded-For": xff}
                )

            assert rate("P1", "198.51.100.7").status_code == 200
            assert rate("P2", "203.0.113.9, 198.51.100.8").status_code == 200  # spoofed left part ignored
            ips = _rows(sqlite_url, "SELECT transaction_ref, ip FROM rating ORDER BY transaction_ref")
            assert ips == [("P1", "198.51.100.7"), ("P2", "198.51.100.8")]
            codes = Counter(
                http.get(f"{base}/questions", headers={"X-Forwarded-For": "198.51.100.20"}).status_code
                for _ in range(6)
            )
            assert codes == Counter({200: 4, 429: 2})  # the bucket of 4 of that client
            other = http.get(f"{base}/questions", headers={"X-Forwarded-For": "198.51.100.21"})
            assert other.status_code == 200  # another client, its own bucket
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        reset_settings()


NGINX_CONF = DEPLOY / "nginx" / "egov.conf"


def _body_limits(conf: str) -> dict[str, int]:
    """client_max_body_size per location block (`server` for the server level)."""
    out: dict[str, int] = {}
    where = "server"
    for line in conf.splitlines():
        line = line.split("#", 1)[0].strip()
        if m := re.match(r"location\s+(.+?)\s*\{", line):
            where = m.group(1)
        elif line == "}":
            where = "server"
        elif m := re.match(r"client_max_body_size\s+(\d+);", line):
            out[where] = int(m.group(1))
    return out


def test_nginx_example_matches_the_app() -> None:
    from egov.settings import Settings

    conf = NGINX_CONF.read_text(encoding="utf-8")
    fields = Settings.model_fields
    limits = _body_limits(conf)
    assert limits["server"] == fields["max_body_bytes"].default, limits
    batch = [v for k, v in limits.items() if "batch" in k]
    assert batch and all(v == fields["max_batch_body_bytes"].default for v in batch), limits
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in conf
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in conf  # Secure cookie of the reports
    assert re.search(r"server 127\.0\.0\.1:8000", conf)  # the address `egov serve` listens on


def test_nginx_accepts_the_example(tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
    )
    if nginx is None or shutil.which("openssl") is None:
        # .ci/run installs both: in CI (EGOV_REQUIRE_SERVICES=1) nothing is skipped
        skip_or_fail("nginx (and openssl) not installed: `nginx -t` of deploy/nginx/egov.conf not run")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=rating.example.gov.mo",
         "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    site = NGINX_CONF.read_text(encoding="utf-8")
    site = site.replace("/etc/ssl/egov/fullchain.pem", str(tmp_path / "cert.pem"))
    site = site.replace("/etc/ssl/egov/privkey.pem", str(tmp_path / "key.pem"))
    site = site.replace("/var/log/nginx/", f"{tmp_path}/")
    (tmp_path / "egov.conf").write_text(site, encoding="utf-8")
    temp = "".join(
        f"  {kind}_temp_path {tmp_path}/{kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  access_log off;\n{temp}  include {tmp_path}/egov.conf;\n}}\n",
        encoding="utf-8",
    )
    proc = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
