"""The built-in demo behaves like a real year (issue 15): department quality persists from one
period to the next, rating volumes follow use, internal systems get no citizen ratings,
ratings go through the token and case path, the case indicators are computed from the cases,
every file is marked illustrative and a second run replaces the first."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection

from egov.cycle import Actor, all_cycles, cycle_status, open_cycle
from egov.db import dispose_engines, get_engine, init_db, session_scope
from egov.demo import DATA_STATUS, DEMO_RUNS, DEMO_TODAY, MANIFEST, PERIODS, build_demo, forget_outputs
from indicators.framework import resolve_framework
from surveys.cases import case_metrics
from tests.helpers.demo import DemoBuild

pytestmark = pytest.mark.slow  # the session's demo is built once (about a minute)


@pytest.fixture
def conn(demo_build: DemoBuild) -> Iterator[Connection]:
    with get_engine(demo_build.url).connect() as c:
        yield c
    dispose_engines()


def department_scores(conn: Connection, period: str) -> pd.Series:
    index = resolve_framework("macau").index_code
    rows = conn.execute(
        text(
            "SELECT s.entity, s.score FROM run_score s JOIN evaluation_run r ON r.id = s.run_id "
            "JOIN period p ON p.id = r.period_id WHERE p.code = :p AND s.entity_type = 'department' "
            "AND s.node = :n"
        ),
        {"p": period, "n": index},
    ).all()
    return pd.Series({e: float(v) for e, v in rows})


def test_department_standing_persists_between_periods(conn: Connection) -> None:
    """A department's quality moves a little from 2022 to 2023; it is not redrawn (on the old
    demo the two years' index scores were unrelated, Spearman near 0)."""
    a, b = (department_scores(conn, p) for p in PERIODS)
    both = a.index.intersection(b.index)
    assert len(both) >= 15
    assert a[both].corr(b[both], method="spearman") > 0.6


def ratings_by_object(conn: Connection) -> pd.DataFrame:
    rows = conn.execute(
        text(
            "SELECT o.code, o.kind, o.citizen_facing, COUNT(r.id) FROM assessed_object o "
            "LEFT JOIN rating r ON r.object_id = o.id GROUP BY o.code, o.kind, o.citizen_facing"
        )
    ).all()
    return pd.DataFrame(rows, columns=["code", "kind", "citizen_facing", "n"]).set_index("code")


def test_one_account_gets_the_most_ratings_and_internal_systems_none(conn: Connection) -> None:
    t = ratings_by_object(conn)
    apps = t[t["kind"] == "application"]
    internal = apps[~apps["citizen_facing"].astype(bool)]
    assert {"DOC_FILE_SYSTEM", "G2E_PLATFORM", "POLICE_INFO_PLATFORM", "VISITOR_INSIGHT"} <= set(
        internal.index
    )
    assert len(internal) >= 8
    assert (internal["n"] == 0).all(), internal[internal["n"] > 0]
    ranked = apps["n"].sort_values(ascending=False)
    assert ranked.index[0] == "ONE_ACCOUNT"
    assert ranked.iloc[0] > 2 * ranked.iloc[1]  # by far
    assert ranked.iloc[0] > 0.3 * apps["n"].sum()


def test_ratings_inside_one_account_count_for_the_bureau_that_owns_the_service(
    demo_build: DemoBuild, conn: Connection
) -> None:
    """The demo names service items on its transactions (egov/data/macau_services.toml): a DSF
    service rated inside One Account (SAFP's app) counts for DSF in the service figures."""
    from surveys.services import service_ratings

    inside = conn.execute(
        text(
            "SELECT d.code, COUNT(*) FROM rating r JOIN assessed_object o ON o.id = r.object_id "
            "JOIN service_item s ON s.id = r.service_id JOIN department d ON d.id = s.department_id "
            "WHERE o.code = 'ONE_ACCOUNT' GROUP BY d.code"
        )
    ).all()
    counts: dict[str, int] = {str(d): int(n) for d, n in inside}
    assert counts.get("DSF", 0) > 100 and counts.get("DSI", 0) > 100  # other bureaus' services
    start, end = PERIODS["2022"]
    with session_scope(demo_build.url) as s:
        owners = service_ratings(s, start, end, by="department").set_index("department")
    dsf = conn.execute(
        text(
            "SELECT COUNT(*) FROM rating r JOIN service_item s ON s.id = r.service_id "
            "JOIN department d ON d.id = s.department_id WHERE d.code = 'DSF' AND r.flags = '' "
            "AND r.day BETWEEN :a AND :b"
        ),
        {"a": start, "b": end},
    ).scalar_one()
    assert owners.at["DSF", "count"] == dsf > 0


def test_ratings_come_with_tokens_and_bad_ones_open_cases(conn: Connection) -> None:
    one = lambda sql: conn.execute(text(sql)).scalar_one()  # noqa: E731
    ratings = one("SELECT COUNT(*) FROM rating")
    assert one("SELECT COUNT(*) FROM rating_token WHERE state = 'used'") == ratings > 0
    assert one("SELECT COUNT(*) FROM rating_token") > ratings  # offered, not all rated
    assert one("SELECT SUM(n_offered) FROM offer_daily") == one("SELECT COUNT(*) FROM rating_token")
    # every rating has its token (same object and transaction)
    assert (
        one(
            "SELECT COUNT(*) FROM rating r JOIN rating_token t ON t.object_id = r.object_id "
            "AND t.transaction_ref = r.transaction_ref"
        )
        == ratings
    )
    # every counted bad rating has its case, and every case is a bad rating's
    bad = one("SELECT COUNT(*) FROM rating WHERE level <= 2 AND (flags = '' OR flags = 'removed')")
    cases = one("SELECT COUNT(*) FROM rating_case")
    assert cases == bad > 100
    assert (
        one("SELECT COUNT(*) FROM rating_case c JOIN rating r ON r.id = c.rating_id WHERE r.level > 2") == 0
    )
    # cases opened on the rating's day, deadlines from the calendar, handled on time or late
    assert (
        one(
            "SELECT COUNT(*) FROM rating_case c JOIN rating r ON r.id = c.rating_id WHERE c.opened_day <> r.day"
        )
        == 0
    )
    assert one("SELECT COUNT(*) FROM rating_case WHERE rectified_day <= rectify_due") > 0
    assert one("SELECT COUNT(*) FROM rating_case WHERE rectified_day > rectify_due") > 0
    assert one("SELECT COUNT(*) FROM rating_case WHERE appealed_at IS NOT NULL") > 0
    assert one("SELECT COUNT(*) FROM rating_case WHERE appeal_outcome = 'removed'") > 0
    assert one("SELECT COUNT(*) FROM rating_case WHERE state = 'closed'") > 0
    # rating days, and case moves up to the demo's today, are within the demo's periods
    first, last = min(s for s, _ in PERIODS.values()), DEMO_TODAY
    days = conn.execute(text("SELECT MIN(day), MAX(day) FROM rating")).one()
    assert str(days[0]) >= str(first) and str(days[1]) <= str(last)
    assert one(f"SELECT COUNT(*) FROM rating_case WHERE rectified_day > '{last}'") == 0
    # the demo's keys are revoked: nobody can issue tokens or move cases with them
    assert one("SELECT COUNT(*) FROM api_key WHERE revoked_at IS NULL AND label LIKE 'egov demo%'") == 0


def case_indicator(conn: Connection, period: str, indicator: str) -> pd.Series:
    rows = conn.execute(
        text(
            "SELECT d.code, m.value FROM metric_value m JOIN assessed_object o ON o.id = m.object_id "
            "JOIN department d ON d.id = o.department_id JOIN period p ON p.id = m.period_id "
            "WHERE p.code = :p AND m.indicator = :i AND m.superseded_at IS NULL"
        ),
        {"p": period, "i": indicator},
    ).all()
    return pd.Series({d: float(v) for d, v in rows}, dtype=float)


def test_case_indicators_are_computed_from_the_cases(demo_build: DemoBuild, conn: Connection) -> None:
    """mgmt_rectify_on_time and mgmt_return_visit are the SQL case metrics (as of the demo's
    today), and missing for departments without rated services (DSAMA has none; on the old
    demo it showed a synthetic 100 % rectified on time)."""
    with session_scope(demo_build.url) as s:
        for period, (start, end) in PERIODS.items():
            metrics = case_metrics(s, start, end, "department", DEMO_TODAY)
            for indicator, column in (
                ("mgmt_rectify_on_time", "rectified_on_time"),
                ("mgmt_return_visit", "return_visit_rate"),
            ):
                stored = case_indicator(conn, period, indicator)
                assert "DSAMA" not in stored.index and "GSS" not in stored.index
                expected = metrics[column].dropna().round(4)
                pd.testing.assert_series_equal(
                    stored.sort_index(), expected.sort_index(), check_names=False, check_index_type=False
                )
                assert (
                    stored.min() >= 0
                    and stored.max() <= 100
                    and stored.nunique() > 3
                    and (stored > 0).mean() > 0.8
                )
    dispose_engines()


def test_every_csv_of_the_demo_is_marked_illustrative(demo_build: DemoBuild) -> None:
    csvs = sorted(demo_build.out.glob("*.csv"))
    assert len(csvs) >= 4
    for path in csvs:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
        assert (table["data_status"] == DATA_STATUS).all(), path.name
    listed = (demo_build.out / MANIFEST).read_text(encoding="utf-8").split()
    assert {p.name for p in demo_build.out.iterdir()} - {MANIFEST} == set(listed)


def test_forget_outputs_removes_only_the_demos_files(tmp_path: Path) -> None:
    (tmp_path / "mine.csv").write_text("keep", encoding="utf-8")
    (tmp_path / "assessor-report-old.html").write_text("stale", encoding="utf-8")
    (tmp_path / MANIFEST).write_text("assessor-report-old.html\n../mine.csv\nmissing.csv\n", encoding="utf-8")
    removed = forget_outputs(tmp_path)
    assert [p.name for p in removed] == ["assessor-report-old.html"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.csv"]


def demo_rows(url: str) -> dict[str, int]:
    with get_engine(url).connect() as c:
        one = lambda sql: int(c.execute(text(sql)).scalar_one())  # noqa: E731
        return {
            "runs": one(f"SELECT COUNT(*) FROM evaluation_run WHERE note LIKE '{DEMO_RUNS}%'"),
            "run_scores": one("SELECT COUNT(*) FROM run_score"),
            "run_inputs": one("SELECT COUNT(*) FROM run_input"),
            "tokens": one("SELECT COUNT(*) FROM rating_token"),
            "ratings": one("SELECT COUNT(*) FROM rating"),
            "cases": one("SELECT COUNT(*) FROM rating_case"),
            "keys": one("SELECT COUNT(*) FROM api_key"),
            "audit": one("SELECT COUNT(*) FROM audit_log"),
            "offers": one("SELECT SUM(n_offered) FROM offer_daily"),
            **{table: one(f"SELECT COUNT(*) FROM {table}") for table in CYCLE_TABLES},
        }


# what the demo's cycles leave (egov.demo_cycle)
CYCLE_TABLES = (
    "assessment_cycle",
    "cycle_event",
    "objection",
    "review_record",
    "audit_sample",
    "audit_item",
    "checklist_answer",
    "value_review",
    "value_evidence",
    "value_evidence_link",
    "metric_value",
    "run_value_flag",
)


def test_building_the_demo_twice_leaves_one_demo(db_url: str) -> None:
    """A second build replaces the first one's runs (with scores and inputs), tokens,
    ratings, cases, keys and their audit entries (on the old demo the runs piled up and
    nothing of the service path existed), and its cycles with everything done in them: events,
    objections, the review record, sample audits, checklist answers, value decisions, evidence
    and the values the assessor set, though 2022 is published (a published period refuses a
    new import and a new score: the demo clears its own cycles first). A cycle the demo did not
    open stays, with its history."""
    init_db(db_url)
    counts = []
    for build in range(2):
        with session_scope(db_url) as s:
            build_demo(s, seed=7, ratings_per_period=600)
            if build == 0:
                open_cycle(s, "2024", Actor("test:lead", "lead"), "not the demo's")
        counts.append(demo_rows(db_url))
    assert counts[0] == counts[1]
    # two runs for the published 2022 (draft, final), the draft of 2023
    assert counts[0]["runs"] == len(PERIODS) + 1 and counts[0]["cases"] > 0
    assert counts[0]["assessment_cycle"] == 3 and counts[0]["objection"] == 2
    assert counts[0]["review_record"] == 1 and counts[0]["audit_sample"] == len(PERIODS)
    # 2022: opened and 5 moves; 2023: opened and 3 moves (to review); 2024: opened
    assert counts[0]["cycle_event"] == 6 + 4 + 1
    with session_scope(db_url) as s:
        assert [e.actor for e in cycle_status(s, "2024").events] == ["test:lead"]
        assert {c.period: c.state for c in all_cycles(s)} == {
            "2022": "published",
            "2023": "review",
            "2024": "collecting",
        }
    dispose_engines()
