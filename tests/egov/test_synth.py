"""`egov synth` (issue 8): synthetic scales on SQLite and PostgreSQL, small --ratings."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import text

import egov.synth as synth


def _scalar(sql: str) -> int:
    from egov.db import session_scope

    with session_scope() as session:
        return int(session.execute(text(sql)).scalar_one())


def test_synth_city_counts_rollups_and_score(use_db, egov, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(synth, "CHUNK", 1_000)  # several chunks: one transaction each
    res = egov(["synth", "--scale", "city", "--seed", "7", "--ratings", "3500"])
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
    res = egov(["synth", "--scale", "planet", "--seed", "1"])
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
    lines = synth.copy_buffer(a).decode().splitlines()
    assert len(lines) == 1000
    first = lines[0].split("\t")
    assert len(first) == 12  # the RATING_COLUMNS
    assert first[2] == first[3] == first[10] == first[11] == ""
    assert first[6].startswith(first[7]) and first[6].endswith("+00")
    # pseudonyms: a function of the citizen, 16 hex digits
    p = synth.pseudonyms(np.array([1, 2, 1]), key=99)
    assert p[0] == p[2] and p[0] != p[1] and len(p[0]) == 16
    int(p[1].decode(), 16)
