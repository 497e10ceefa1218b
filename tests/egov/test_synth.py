"""`egov synth` (issue 8): synthetic scales on SQLite and PostgreSQL, small --ratings."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import text

import egov.synth as synth
import egov.synth_bulk as synth_bulk


def _scalar(sql: str) -> int:
    from egov.db import session_scope

    with session_scope() as session:
        return int(session.execute(text(sql)).scalar_one())


def test_synth_city_counts_rollups_and_score(use_db, egov, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(synth, "CHUNK", 1_000)  # several chunks: one transaction each
    res = egov(["synth", "--scale", "city", "--seed", "7", "--ratings", "3500", "--lang", "en"])
    assert res.code == 0, res.err
    assert "3,500 ratings" in res.out and "SYNTHETIC DATA" in res.out
    assert _scalar("SELECT COUNT(*) FROM department WHERE code LIKE 'SYN-%'") == 40
    assert _scalar("SELECT COUNT(*) FROM assessed_object WHERE code LIKE 'SYN-%'") == 300
    assert _scalar("SELECT COUNT(DISTINCT kind) FROM assessed_object") == 3
    assert _scalar("SELECT COUNT(*) FROM rating") == 3500
    assert _scalar("SELECT COUNT(DISTINCT transaction_ref) FROM rating") == 3500
    assert _scalar("SELECT COUNT(*) FROM rating WHERE LENGTH(pseudonym) <> 16") == 0
    assert _scalar("SELECT COUNT(*) FROM rating WHERE level NOT BETWEEN 1 AND 5") == 0
    assert _scalar("SELECT COUNT(*) FROM metric_value") > 3000
    # every department has at least one object
    assert _scalar("SELECT COUNT(DISTINCT department_id) FROM assessed_object") == 40
    # roll-ups equal a recount of the raw ratings, row by row
    mismatches = _scalar(
        "SELECT COUNT(*) FROM ("
        " SELECT object_id, day, SUM(CASE WHEN level = 1 THEN 1 ELSE 0 END) AS a1,"
        " SUM(CASE WHEN level = 2 THEN 1 ELSE 0 END) AS a2, SUM(CASE WHEN level = 3 THEN 1 ELSE 0 END) AS a3,"
        " SUM(CASE WHEN level = 4 THEN 1 ELSE 0 END) AS a4, SUM(CASE WHEN level = 5 THEN 1 ELSE 0 END) AS a5"
        " FROM rating GROUP BY object_id, day) r"
        " FULL OUTER JOIN rating_daily d ON d.object_id = r.object_id AND d.day = r.day"
        " WHERE d.object_id IS NULL OR r.object_id IS NULL"
        " OR d.n1 <> r.a1 OR d.n2 <> r.a2 OR d.n3 <> r.a3 OR d.n4 <> r.a4 OR d.n5 <> r.a5"
    )
    assert mismatches == 0
    assert _scalar("SELECT SUM(n1 + n2 + n3 + n4 + n5) FROM rating_daily") == 3500
    # offers: one row per object-day with ratings, never fewer offers than ratings
    assert _scalar("SELECT COUNT(*) FROM offer_daily") == _scalar("SELECT COUNT(*) FROM rating_daily")
    assert (
        _scalar(
            "SELECT COUNT(*) FROM offer_daily f JOIN rating_daily d ON d.object_id = f.object_id "
            "AND d.day = f.day WHERE f.n_offered < d.n1 + d.n2 + d.n3 + d.n4 + d.n5"
        )
        == 0
    )
    # the synthetic period scores
    res = egov(["score", "--period", synth.PERIOD_CODE])
    assert res.code == 0, res.err
    assert _scalar("SELECT COUNT(*) FROM evaluation_run") == 1
    assert (
        _scalar(
            "SELECT COUNT(DISTINCT entity) FROM run_score WHERE entity_type = 'department' AND node = 'egov_index'"
        )
        == 40
    )
    # a second run into the same database is refused with a clear message
    res = egov(["synth", "--scale", "city", "--seed", "7", "--ratings", "10"])
    assert res.code == 1 and "already holds synthetic data" in res.err


def test_synth_nation_refuses_sqlite(sqlite_url, monkeypatch: pytest.MonkeyPatch, egov) -> None:
    from egov.settings import reset_settings

    monkeypatch.setenv("EGOV_DATABASE_URL", sqlite_url)
    reset_settings()
    try:
        res = egov(["synth", "--scale", "nation", "--seed", "1", "--ratings", "10"])
    finally:
        reset_settings()
    assert res.code == 1
    assert "needs PostgreSQL" in res.err


def test_synth_unknown_scale(egov) -> None:
    res = egov(["synth", "--scale", "planet", "--seed", "1", "--lang", "en"])
    assert res.code == 1 and "use one of city, province, nation" in res.err


def test_rating_chunk_is_seeded_and_copy_buffer_has_a_line_per_rating() -> None:
    from datetime import date

    ids = np.array([11, 12, 13])

    def chunk() -> dict[str, np.ndarray]:
        rng = np.random.default_rng(5)
        model = synth.rating_model(ids, rng, seed=5, ratings=1000)
        return synth.rating_chunk(model, rng, 1000, first_seq=1, start=date(2025, 1, 1), days=365)

    a, b = chunk(), chunk()
    for k in a:
        assert (a[k] == b[k]).all(), k
    assert set(np.unique(a["object_id"])) <= {11, 12, 13}
    assert set(np.unique(a["level"])) <= {1, 2, 3, 4, 5}
    assert len(set(a["transaction_ref"].tolist())) == 1000
    lines = synth_bulk.copy_buffer(a).decode().splitlines()
    assert len(lines) == 1000
    first = lines[0].split("\t")
    assert len(first) == 12  # the RATING_COLUMNS
    assert first[2] == first[3] == first[10] == first[11] == ""
    assert first[6].startswith(first[7]) and first[6].endswith("+00")
    # pseudonyms: a function of the citizen, 16 hex digits
    p = synth.pseudonyms(np.array([1, 2, 1]), key=99)
    assert p[0] == p[2] and p[0] != p[1] and len(p[0]) == 16
    int(p[1].decode(), 16)


# --- the bulk path on PostgreSQL (indexes and constraints recreated after the load) ---------------
def _catalog(session) -> dict[str, list[tuple[str, ...]]]:
    """Every index and constraint of the public schema, by definition."""
    rows = {
        "indexes": session.execute(
            text(
                "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1, 2"
            )
        ).all(),
        "constraints": session.execute(
            text(
                "SELECT conrelid::regclass::text, conname, contype::text, pg_get_constraintdef(oid), "
                "convalidated::text, condeferrable::text FROM pg_constraint "
                "WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2"
            )
        ).all(),
    }
    return {k: [tuple(str(x) for x in r) for r in v] for k, v in rows.items()}


def _fingerprint(session) -> dict[str, object]:
    """The generated rows of rating, its roll-ups and offers (ids included), as md5 digests."""
    out: dict[str, object] = {}
    for table, order in (
        ("rating", "id"),
        ("rating_daily", "object_id, day"),
        ("offer_daily", "object_id, day"),
    ):
        out[table] = session.execute(
            text(f"SELECT COUNT(*), md5(string_agg(t::text, '|' ORDER BY {order})) FROM {table} t")
        ).one()
    return out


def _reset_schema(url: str) -> None:
    from egov.db import dispose_engines, init_db, session_scope

    with session_scope(url) as session:
        session.execute(text("DROP SCHEMA public CASCADE"))
        session.execute(text("CREATE SCHEMA public"))
    dispose_engines()
    init_db(url)


@pytest.mark.postgres
def test_bulk_path_same_rows_and_schema_as_the_normal_path(pg_url, monkeypatch: pytest.MonkeyPatch) -> None:
    from egov.db import init_db, session_scope

    monkeypatch.setattr(synth, "CHUNK", 700)  # several chunks in the one COPY stream
    init_db(pg_url)
    with session_scope(pg_url) as session:
        fresh = _catalog(session)
        assert synth_bulk.bulk_path_applies(session, synth_bulk.BULK_MIN_RATINGS)
        assert not synth_bulk.bulk_path_applies(session, synth_bulk.BULK_MIN_RATINGS - 1)
        assert synth_bulk.bulk_path_applies(session, 10, bulk=True)
        assert not synth_bulk.bulk_path_applies(session, 10**9, bulk=False)
        normal = synth.synthesise(session, "city", seed=11, ratings=3_000, bulk=False)
        assert not normal.bulk
        expected = _fingerprint(session)
        assert _catalog(session) == fresh
    _reset_schema(pg_url)
    sent: list[int] = []
    with session_scope(pg_url) as session:
        assert _catalog(session) == fresh
        bulk = synth.synthesise(session, "city", seed=11, ratings=3_000, bulk=True, progress=sent.append)
        assert bulk.bulk and "rating indexes" in bulk.seconds
        assert sent == [700, 700, 700, 700, 200]
        assert bulk.counts == normal.counts
        assert _fingerprint(session) == expected
        # the schema is exactly what init_db makes: same indexes, constraints, validated FK
        after = _catalog(session)
    assert after == fresh
    assert any(name == "uq_rating_transaction" for _, name, *_ in after["constraints"])
    assert any(name == "ix_rating_object_day" for _, name, _ in after["indexes"])
    # and init_db has nothing to add
    assert init_db(pg_url) == []


@pytest.mark.postgres
def test_bulk_path_not_taken_on_a_table_with_ratings(pg_url, monkeypatch: pytest.MonkeyPatch) -> None:
    from egov.db import init_db, session_scope

    init_db(pg_url)
    with session_scope(pg_url) as session:
        fresh = _catalog(session)
        synth.synthesise(session, "city", seed=2, ratings=500, bulk=False)
        assert synth_bulk.bulk_begin(session) is None  # ratings present: nothing dropped, rolled back
        assert _catalog(session) == fresh
        assert session.execute(text("SELECT COUNT(*) FROM rating")).scalar_one() == 500


@pytest.mark.postgres
def test_bulk_path_refuses_a_table_in_use_and_rolls_back_a_failed_load(
    pg_url, monkeypatch: pytest.MonkeyPatch
) -> None:
    from egov.db import init_db, session_scope

    init_db(pg_url)
    monkeypatch.setattr(synth_bulk, "BULK_LOCK_TIMEOUT", "300ms")
    with session_scope(pg_url) as other, session_scope(pg_url) as session:
        fresh = _catalog(session)
        # an open transaction holding the lock an API insert takes
        other.execute(text("LOCK TABLE rating IN ROW EXCLUSIVE MODE"))
        with pytest.raises(synth.EgovError, match="rating table is in use"):
            synth.synthesise(session, "city", seed=3, ratings=100, bulk=True)
        other.rollback()
    _reset_schema(pg_url)
    # a load that fails half-way leaves no ratings and every index and constraint in place
    real = synth_bulk.copy_buffer
    calls = []

    def failing(chunk: dict[str, np.ndarray]) -> bytes:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(chunk)

    monkeypatch.setattr(synth, "CHUNK", 100)
    monkeypatch.setattr(synth_bulk, "copy_buffer", failing)
    with session_scope(pg_url) as session, pytest.raises(RuntimeError, match="disk full"):
        synth.synthesise(session, "city", seed=3, ratings=300, bulk=True)
    with session_scope(pg_url) as session:
        assert session.execute(text("SELECT COUNT(*) FROM rating")).scalar_one() == 0
        assert _catalog(session) == fresh
