"""The three ways a rating is stored leave the same rows: one seeded mix of ratings (good and
bad, drivers, comments, several objects, issuers and days, burst detection with low limits,
replays, refusals, the honeypot, follow-ups) submitted (a) one by one to POST /ratings (the
DBAPI fast path where it applies), (b) as batches to POST /ratings/batch, (c) one by one to
POST /ratings with the fast path declining every time (the general path,
`submit_ratings`), (d) each phase's single ratings as one group of POST /ratings requests
arriving together (group commit: surveys.routes.ratings.rate_group, the fast path of several
ratings in one transaction, the declined ones on the general path after it), each into its
own fresh database, on SQLite and PostgreSQL.

The clock of the rating service (utcnow, local_day in surveys.tokens, .ratings, .ratings_fast, .review) is fixed per phase so that days, burst
windows and the stored rating times are the same in every run (a batch shares one moment:
each phase is one batch; the second starts exactly at the first's window edge). Compared:
rating (all but the surrogate id; times too, as the clock is fixed; the service item it names),
rating_token (all but id and its times), rating_case (all but ids and times), rating_daily,
rating_service_daily (some transactions name a service item), offer_daily, the rated subjects
(window, staff code) some tokens name and each department's figures by them, the
audit entries (actor, action, target by object and transaction, detail; counted), and each
run's roll-ups against `rebuild_rollups`.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tests.helpers.databases import create_pg_database, release

PATHS = ("single", "batch", "general", "group")
SAFP = ("ONE_ACCOUNT", "OPEN_DATA_PLATFORM")
DSAT = ("BUS_REPORT", "MACAU_TRAVEL")
# the service items (事項) some transactions name (egov/data/macau_services.toml): DSF's and DSI's
# services done inside SAFP's One Account, a DSAT service in DSAT's app; the others name none
SERVICES = {
    "ONE_ACCOUNT": ("DSF_VEHICLE_TAX", "DSI_ID_CARD_APPOINTMENT", "DSF_VEHICLE_TAX", None),
    "OPEN_DATA_PLATFORM": (
        None,
        "SAFP_ONE_ACCOUNT_REGISTRATION",
    ),  # an item offered through its owner's objects
    "MACAU_TRAVEL": (None, "DSAT_VEHICLE_INSPECTION"),
}
DRIVERS = ("effectiveness", "ease", "efficiency", "transparency", "staff", "other")
COMMENTS = (
    "",
    "快捷",
    "Demorou muito: 45 minutos",
    'form said "error" \\ twice',
    "界面清楚\nbut slow",
    "x" * 1000,
)
# Thu, Fri, Sat and the Monday after (Sunday 20 Dec is a holiday): rectify_due crosses both
DAYS = (date(2026, 12, 17), date(2026, 12, 18), date(2026, 12, 19), date(2026, 12, 21))
# minutes after 04:00 UTC (12:00 in Macau) of each phase; the window is 10 minutes, so the
# second phase sees the first exactly at the window's edge and the third no longer does
PHASE_MINUTES = (0, 10, 21, 31)

Tx = tuple[str, str]  # (object code, transaction_ref)
Item = tuple[Tx, dict[str, Any]]


# --- the scenario ------------------------------------------------------------------------------------
def _body(rng: random.Random, level: int | None = None) -> dict[str, Any]:
    level = level or rng.choice((1, 2, 2, 3, 4, 4, 5, 5, 5))
    body: dict[str, Any] = {"level": level}
    better = rng.sample(DRIVERS, rng.randint(1, 3) if level <= 2 else rng.randint(0, 1))
    good = rng.sample(DRIVERS, rng.randint(0, 2) if level >= 3 else rng.randint(0, 1))
    if better:
        body["better"] = better
    if good:
        body["good"] = good
    if comment := rng.choice(COMMENTS):
        body["comment"] = comment
    if rng.random() < 0.5:
        body["channel"] = rng.choice(("app", "web", "kiosk", "counter", "hotline"))
    if rng.random() < 0.5:
        body["language"] = rng.choice(("zh-Hant", "pt", "en"))
    if rng.random() < 0.2:
        body["question_version"] = "2026.1"  # the current version, named explicitly
    return body


def _scenario(seed: int = 20261217) -> tuple[list[tuple[str, str, str, str]], list[list[list[Item]]]]:
    """The transactions (issuer role, object, ref, citizen id) and, per day, its phases: lists
    of (transaction, body) in which every transaction appears at most once (one batch)."""
    rng = random.Random(seed)
    txs = []
    for i in range(110):
        role, objs = ("department", SAFP) if i % 3 else ("other_department", DSAT)
        citizen = f"{rng.randint(1000000, 1000030)}(3)" if rng.random() < 0.7 else ""
        txs.append((role, rng.choice(objs), f"TX-{i:03d}", citizen))
    unrated: list[Tx] = [(o, x) for _, o, x, _ in txs]
    rng.shuffle(unrated)
    first: dict[Tx, dict[str, Any]] = {}  # rated once (state used)
    amended: dict[Tx, dict[str, Any]] = {}
    discarded: list[Tx] = []
    days: list[list[list[Item]]] = []
    for d in range(len(DAYS)):
        phases: list[list[Item]] = [[], [], [], []]
        for p, n in ((0, rng.randint(9, 12)), (1, rng.randint(5, 8)), (2, rng.randint(2, 4))):
            for _ in range(n):
                tx = unrated.pop()
                first[tx] = _body(rng)
                phases[p].append((tx, first[tx]))
        if d == 1:  # the widget's honeypot: an ordinary receipt, nothing stored
            tx = unrated.pop()
            phases[1].append((tx, {**_body(rng, 4), "website": "https://spam.example"}))
            discarded.append(tx)
        # phase 2 also holds follow-ups, replays and refusals of earlier ratings
        busy = {tx for tx, _ in phases[2]}
        earlier = [tx for tx in first if tx not in busy and tx not in amended]
        for tx in rng.sample(earlier, min(len(earlier), 7)):
            old = first[tx]
            kind = rng.choice(("amend", "amend", "amend", "replay", "conflict"))
            if kind == "amend":
                lv = old["level"]
                new = _body(rng, rng.choice((4, 5)) if lv <= 2 else rng.choice((1, 2, 3, lv)))
                amended[tx] = {**new, "follow_up": True}
                phases[2].append((tx, amended[tx]))
            elif kind == "replay":  # identical: the same receipt, nothing stored
                phases[2].append((tx, old))
            else:  # a different submission without follow_up: 409
                phases[2].append((tx, {**_body(rng, 3 if old["level"] != 3 else 4)}))
        phases[2].append((unrated[0], {**_body(rng, 5), "follow_up": True}))  # nothing to follow up: 409
        for tx in discarded:  # the honeypot's token is spent
            phases[2].append((tx, _body(rng, 5)))
        # phase 3: the follow-up repeated (replay), a second follow-up (409), first replays
        for tx in list(amended)[-4:]:
            if rng.random() < 0.5:
                phases[3].append((tx, amended[tx]))
            else:
                phases[3].append((tx, {**_body(rng, 3), "follow_up": True}))
        for tx in rng.sample(sorted(set(first) - set(amended)), 2):
            phases[3].append((tx, first[tx]))
        days.append(phases)
    return txs, days


# --- running one path -----------------------------------------------------------------------------
@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fresh_dbs(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """A fresh database per path on one engine."""

    from egov.db import dispose_engines

    if request.param == "sqlite":
        yield {p: f"sqlite:///{tmp_path / p}.db" for p in PATHS}
        dispose_engines()
        return
    server = str(request.getfixturevalue("pg_server"))
    urls = {p: create_pg_database(server) for p in PATHS}
    try:
        yield urls
    finally:
        dispose_engines()
        for url in urls.values():
            release(url, server)


Outcome = tuple[int, str | None, bool | None]


def _run(path: str, url: str, monkeypatch: pytest.MonkeyPatch) -> tuple[list[Outcome], Counter[str], int]:
    """Issue the tokens and submit the scenario along `path` into `url`. Returns each
    submission's (code, status, amended), the fast-path spy's counts and the audit id
    before the first token."""
    from fastapi.testclient import TestClient

    import surveys.ratings_fast
    import surveys.routes.ratings
    from egov.app import create_app
    from egov.db import session_scope
    from egov.settings import reset_settings
    from tests.helpers.register import fix_service_clock, setup_register, setup_services

    monkeypatch.setenv("EGOV_DATABASE_URL", url)
    reset_settings()
    keys = setup_register(url)
    setup_services(url)
    with session_scope(url) as s:
        audit_base = int(s.execute(text("SELECT COALESCE(MAX(id), 0) FROM audit_log")).scalar() or 0)
    client = TestClient(create_app())
    txs, days = _scenario()

    def auth(role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {keys[role]}"}

    # the service's clock (rating times, days, burst windows; the day of offers and of a case
    # opened by a follow-up): fixed per phase, the same in every run
    clock = {"now": datetime(DAYS[0].year, DAYS[0].month, DAYS[0].day, 3, tzinfo=UTC)}
    fix_service_clock(monkeypatch, clock)
    tokens: dict[Tx, str] = {}
    for role in ("department", "other_department"):
        mine = [(o, x, c) for r, o, x, c in txs if r == role]
        items = [
            {"object": o, "transaction_ref": x, "citizen_id": c, **_service(o, x)} for o, x, c in mine[:-3]
        ]
        r = client.post("/api/v1/tokens/batch", json={"items": items}, headers=auth(role))
        assert r.status_code == 200, r.text
        tokens.update({(t["object"], t["transaction_ref"]): t["token"] for t in r.json()["items"]})
        for o, x, c in mine[-3:] + mine[:1]:  # single requests; the last one a re-issue
            r = client.post(
                "/api/v1/tokens",
                json={"object": o, "transaction_ref": x, "citizen_id": c, **_service(o, x)},
                headers=auth(role),
            )
            assert r.status_code == 200, r.text
            assert tokens.setdefault((o, x), r.json()["token"]) == r.json()["token"]

    spy: Counter[str] = Counter()
    real_fast = surveys.ratings_fast.submit_one_fast

    def fast(*args: Any, **kwargs: Any) -> Any:
        spy["called"] += 1
        if path == "general":  # declines, as it does for whatever it does not handle
            return None
        out = real_fast(*args, **kwargs)
        spy["fast" if out is not None else "declined"] += 1
        return out

    real_group = surveys.routes.ratings.submit_group_fast

    def group(*args: Any, **kwargs: Any) -> Any:
        try:
            out = real_group(*args, **kwargs)
        except Exception:  # the group would be stored again one by one: must not happen here
            spy["group failed"] += 1
            raise
        spy["fast"] += sum(1 for x in out if x is not None)
        spy["grouped"] += sum(1 for x in out if x is not None)
        return out

    monkeypatch.setattr(surveys.routes.ratings, "submit_one_fast", fast)
    monkeypatch.setattr(surveys.routes.ratings, "submit_group_fast", group)
    outcomes: list[Outcome] = []
    for day, phases in zip(DAYS, days, strict=True):
        for minutes, phase in zip(PHASE_MINUTES, phases, strict=True):
            clock["now"] = datetime(day.year, day.month, day.day, 4, tzinfo=UTC) + timedelta(minutes=minutes)
            bodies = [{"token": tokens[tx], **body} for tx, body in phase]
            if path == "group":
                outcomes += _group(bodies)
            elif path == "batch":
                r = client.post("/api/v1/ratings/batch", json={"items": bodies})
                assert r.status_code == 200, r.text
                for it in r.json()["items"]:
                    rec = it["receipt"] or {}
                    outcomes.append((it["code"], rec.get("status"), rec.get("amended")))
            else:
                for b in bodies:
                    r = client.post("/api/v1/ratings", json=b)
                    got = r.json()
                    outcomes.append((r.status_code, got.get("status"), got.get("amended")))
    return outcomes, spy, audit_base


def _group(bodies: list[dict[str, Any]]) -> list[Outcome]:
    """Single ratings arriving together: one group commit (refused bodies answered 422 first,
    as the endpoint's validation does)."""
    import orjson
    from pydantic import ValidationError

    from surveys.routes.ratings import rate_group
    from surveys.schemas import RatingCreate

    out: list[Outcome | None] = []
    valid: list[tuple[RatingCreate, str | None]] = []
    for b in bodies:
        try:
            valid.append((RatingCreate(**b), "testclient"))
            out.append(None)
        except ValidationError:
            out.append((422, None, None))
    answers = iter(rate_group(valid))
    for k, o in enumerate(out):
        if o is None:
            r = next(answers)
            assert not isinstance(r, Exception), r
            got = orjson.loads(bytes(r.body))
            out[k] = (r.status_code, got.get("status"), got.get("amended"))
    return [o for o in out if o is not None]


def _service(obj: str, ref: str) -> dict[str, str]:
    """The service item a transaction names, if any (by its number)."""
    choices, n = SERVICES.get(obj, (None,)), int(ref.removeprefix("TX-"))
    code = choices[(n // 3 if obj == "ONE_ACCOUNT" else n) % len(choices)]
    named: dict[str, str] = {"service": code} if code else {}
    if n % 4 == 0:  # the rated subjects of a counter (surveys.subjects): a window, a staff code
        named.update({"window": str(n % 5 + 1), "staff": f"S{n % 3}0"} if n % 8 else {"staff": "S77"})
    return named


def _rows(url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    from egov.db import session_scope

    with session_scope(url) as s:
        return [tuple(r) for r in s.execute(text(sql), params).all()]


RATING_SQL = (
    "SELECT o.code, r.transaction_ref, r.level, r.drivers, r.comment, r.channel, r.language, r.day, "
    "r.pseudonym, r.flags, r.question_version, k.label, r.ip, r.created_at, r.amended_at, s.code "
    "FROM rating r JOIN assessed_object o ON o.id = r.object_id LEFT JOIN api_key k ON k.id = r.issuer_key_id "
    "LEFT JOIN service_item s ON s.id = r.service_id "
    "ORDER BY o.code, r.transaction_ref"
)
TOKEN_SQL = (
    "SELECT o.code, t.transaction_ref, k.label, t.pseudonym, t.state, t.body_hash, t.amend_hash, "
    "t.response_status, s.code FROM rating_token t JOIN assessed_object o ON o.id = t.object_id "
    "JOIN api_key k ON k.id = t.issuer_key_id LEFT JOIN service_item s ON s.id = t.service_id "
    "ORDER BY o.code, t.transaction_ref"
)
SUBJECT_SQL = (
    "SELECT o.code, t.transaction_ref, s.window_code, s.staff_code, s.kiosk_state FROM rating_subject s "
    "JOIN rating_token t ON t.id = s.token_id JOIN assessed_object o ON o.id = t.object_id "
    "ORDER BY o.code, t.transaction_ref"
)
CASE_SQL = (
    "SELECT o.code, r.transaction_ref, d.code, c.state, c.opened_day, c.rectify_due, c.rectified_day, "
    "c.return_visit_due, c.return_visit_day, c.appeal_outcome, c.closed_at IS NULL, c.appealed_at IS NULL "
    "FROM rating_case c JOIN rating r ON r.id = c.rating_id JOIN assessed_object o ON o.id = c.object_id "
    "JOIN department d ON d.id = c.department_id ORDER BY o.code, r.transaction_ref"
)
DAILY_SQL = (
    "SELECT o.code, d.day, d.n1, d.n2, d.n3, d.n4, d.n5 FROM rating_daily d "
    "JOIN assessed_object o ON o.id = d.object_id {where} ORDER BY o.code, d.day"
)
SERVICE_DAILY_SQL = (
    "SELECT s.code, o.code, d.channel, d.day, d.n1, d.n2, d.n3, d.n4, d.n5 FROM rating_service_daily d "
    "JOIN service_item s ON s.id = d.service_id JOIN assessed_object o ON o.id = d.object_id "
    "WHERE d.n1 + d.n2 + d.n3 + d.n4 + d.n5 > 0 ORDER BY s.code, o.code, d.channel, d.day"
)
OFFER_SQL = (
    "SELECT o.code, d.day, d.n_offered FROM offer_daily d JOIN assessed_object o ON o.id = d.object_id "
    "ORDER BY o.code, d.day"
)


def _audit(url: str, base: int) -> Counter[tuple[str, ...]]:
    """The audit entries after `base`, their targets named by (object, transaction_ref)."""
    named: dict[tuple[str, str], tuple[str, str]] = {}
    for kind, sql in (
        ("rating", "SELECT r.id, o.code, r.transaction_ref FROM rating r"),
        ("rating_token", "SELECT r.id, o.code, r.transaction_ref FROM rating_token r"),
        (
            "rating_case",
            "SELECT c.id, o.code, r.transaction_ref FROM rating_case c JOIN rating r ON r.id = c.rating_id",
        ),
    ):
        for i, code, ref in _rows(url, sql + " JOIN assessed_object o ON o.id = r.object_id"):
            named[(kind, str(i))] = (code, ref)
    out: Counter[tuple[str, ...]] = Counter()
    for actor, action, ttype, tid, detail in _rows(
        url, "SELECT actor, action, target_type, target_id, detail FROM audit_log WHERE id > :b", b=base
    ):
        out[(actor, action, ttype, *named.get((ttype, tid), ("?", tid)), detail)] += 1
    return out


def _snapshot(url: str, audit_base: int) -> dict[str, Any]:
    return {
        "rating": _rows(url, RATING_SQL),
        "rating_token": _rows(url, TOKEN_SQL),
        "rating_case": [(*r[:10], bool(r[10]), bool(r[11])) for r in _rows(url, CASE_SQL)],
        "rating_daily": _rows(url, DAILY_SQL.format(where="")),
        "offer_daily": _rows(url, OFFER_SQL),
        "rating_service_daily": _rows(url, SERVICE_DAILY_SQL),
        "audit_log": _audit(url, audit_base),
        "rating_subject": _rows(url, SUBJECT_SQL),
        "subject_figures": _subject_figures(url),
    }


def _subject_figures(url: str) -> list[Any]:
    """Each department's figures by window and by staff code (surveys.subjects)."""
    from egov.db import session_scope
    from surveys.subjects import subject_ratings

    with session_scope(url) as s:
        frames = [
            subject_ratings(s, DAYS[0], DAYS[-1], department=d, by=by, min_ratings=3)
            for d in ("SAFP", "DSAT")
            for by in ("window", "staff")
        ]
    return [f.astype(object).where(f.notna(), None).to_dict("records") for f in frames]  # NaN ≠ NaN


def _counted_rollups(url: str) -> list[tuple[Any, ...]]:
    """The counted roll-ups: per object, then per service item."""
    by_object = _rows(url, DAILY_SQL.format(where="WHERE d.n1 + d.n2 + d.n3 + d.n4 + d.n5 > 0"))
    return by_object + _rows(url, SERVICE_DAILY_SQL)


# --- the test --------------------------------------------------------------------------------------
@pytest.mark.slow
def test_single_batch_and_general_paths_store_the_same(
    fresh_dbs: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from egov.db import session_scope
    from egov.settings import reset_settings
    from surveys.rollup import rebuild_rollups

    monkeypatch.chdir(tmp_path)
    for name, value in {
        "SECRET_KEY": "test-secret-not-for-production",
        "OPERATOR": "pytest",
        "BURST_OBJECT_MAX": "3",
        "BURST_ISSUER_MAX": "6",
        "BURST_WINDOW_MINUTES": "10",
        "STORE_IP": "true",
        "RATE_LIMIT_CLIENT": "100000",
    }.items():
        monkeypatch.setenv(f"EGOV_{name}", value)
    outcomes: dict[str, list[Outcome]] = {}
    snaps: dict[str, dict[str, Any]] = {}
    spies: dict[str, Counter[str]] = {}
    try:
        for path in PATHS:
            url = fresh_dbs[path]
            with monkeypatch.context() as m:
                outcomes[path], spies[path], base = _run(path, url, m)
            snaps[path] = _snapshot(url, base)
            incremental = _counted_rollups(url)
            with session_scope(url) as s:
                rebuild_rollups(s, date(2000, 1, 1), date(2100, 12, 31))
            assert _counted_rollups(url) == incremental, f"{path}: roll-ups differ from a rebuild"
    finally:
        reset_settings()

    # the paths really were taken: every first submission on the fast path in (a), none in (b),
    # the general path for all in (c)
    _, days = _scenario()
    claimed: set[Tx] = set()
    firsts = 0
    for phases in days:
        for phase in phases:
            for tx, body in phase:
                if not body.get("follow_up") and tx not in claimed:
                    claimed.add(tx)
                    firsts += 0 if body.get("website") else 1
    assert spies["batch"]["called"] == 0
    assert spies["general"]["called"] == len(outcomes["general"])
    assert spies["single"]["fast"] == firsts, spies["single"]
    assert spies["group"]["fast"] == firsts, spies["group"]  # in groups (a phase's group of one: alone)
    assert spies["group"]["group failed"] == 0 and spies["group"]["grouped"] >= firsts // 2, spies["group"]
    assert spies["single"]["called"] == len(outcomes["single"])

    single = snaps["single"]
    for path in ("batch", "general", "group"):
        assert outcomes[path] == outcomes["single"], f"{path}: different answers"
        for table, rows in single.items():
            assert snaps[path][table] == rows, f"{path}: table {table} differs from the single path"

    # the scenario covers what it means to cover
    flags = Counter(r[9] for r in single["rating"])
    assert flags["burst"] >= 5 and flags[""] >= 20, flags
    amended = Counter(r[9] for r in single["rating"] if r[14] is not None)
    assert amended[""] >= 5 and amended["burst"] >= 1, amended
    states = Counter(r[3] for r in single["rating_case"])
    assert states["open"] >= 3 and states["closed"] >= 1, states
    held: Counter[int] = Counter()  # held first submissions by phase
    answers = iter(outcomes["single"])
    for phases in days:
        for p, phase in enumerate(phases):
            held[p] += sum(1 for _ in phase if next(answers)[1] == "held")
    assert held[0] >= 1 and held[1] >= 1 and held[2] >= 1, held  # within a phase; across phases
    codes = Counter(o[0] for o in outcomes["single"])
    assert codes[409] >= 5 and codes[200] >= 50, codes
    assert Counter(r[4] for r in single["rating_token"])["discarded"] == 1
    # ratings naming service items, counted (and amended) on every path
    named = Counter(r[15] for r in single["rating"] if not r[9])
    assert named["DSF_VEHICLE_TAX"] >= 3 and named["DSAT_VEHICLE_INSPECTION"] >= 1 and named[None] >= 10, (
        named
    )
    assert sum(1 for r in single["rating"] if r[15] and r[14] is not None) >= 2  # amended
    assert len({r[2] for r in single["rating_service_daily"]}) >= 3  # several channels
    # ratings naming rated subjects, counted by window and by staff code on every path
    assert len(single["rating_subject"]) >= 20
    safp_staff = single["subject_figures"][1]
    assert sum(r["count"] for r in safp_staff) >= 5 and any(
        r["share_satisfied"] is not None for r in safp_staff
    )
    assert any(r[5] == "hotline" for r in single["rating"])
    actions = Counter(k[1] for k in single["audit_log"].elements())
    assert {"rating.flag", "rating.amend", "rating.honeypot", "case.withdrawn"} <= set(actions), actions
