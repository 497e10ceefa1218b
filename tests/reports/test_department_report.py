"""The department report on the demo database: its numbers are the engine's (ranks, medians,
bests overall and in the peer group), the comparison module's (strengths, priorities,
change), the rating roll-ups' (with the minimum-count rule) and the case table's; it is
trilingual, escaped, marked illustrative for demo runs, degrades when evaluation.compare is
missing; `egov report RUN --department` writes it and `egov demo` writes one per department."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import text

from tests.helpers.demo import DemoBuild, point_settings
from tests.helpers.department_db import EVIL_NAME, EVIL_OBJECT, DemoDb


@pytest.fixture
def db(department_template: DemoDb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DemoDb]:
    """A copy of the session's department demo database for one test, set as EGOV_DATABASE_URL."""
    from egov.db import dispose_engines
    from egov.settings import reset_settings

    mine = department_template.copy(tmp_path / "egov.db")
    point_settings(monkeypatch, mine.url, tmp_path)
    yield mine
    dispose_engines()
    reset_settings()


def _report(run_key: str, department: str, **kw: Any) -> Any:
    from egov.db import session_scope
    from egov.store import get_run
    from reports.department import department_report

    with session_scope() as s:
        return department_report(s, get_run(s, run_key), department, **kw)


def _html(run_key: str, department: str, lang: str = "en") -> str:
    from reports.department import render_department_report

    return render_department_report(_report(run_key, department), lang)


def _result(run_key: str) -> Any:
    from egov.db import session_scope
    from egov.record import load_result
    from egov.store import get_run

    with session_scope() as s:
        return load_result(s, get_run(s, run_key))


def test_standing_is_the_engines(db: DemoDb) -> None:
    run = db.runs["2023"]
    rep = _report(run, "SAFP")
    res = _result(run)
    assert (
        res.department_scores is not None and res.department_ranks is not None and res.peer_ranks is not None
    )
    idx = res.index_code
    assert list(rep.standing.index) == [idx, "infrastructure", "application", "management"]
    peers = res.units.groupby("department")["peer_group"].first()
    members = peers.index[peers == peers["SAFP"]]
    assert rep.peer_group == peers["SAFP"] and rep.group_name("en")
    for node, row in rep.standing.iterrows():
        col = res.department_scores[node].dropna()
        if pd.isna(row["score"]):
            assert "SAFP" not in col.index
            continue
        assert row["score"] == pytest.approx(res.department_scores.at["SAFP", node])
        assert row["rank"] == res.department_ranks.at["SAFP", node]
        # "rank r of n": n departments ranked there (overall, those the coverage rule admits)
        assert row["n"] == res.department_ranks[node].notna().sum() <= len(col)
        assert row["median"] == pytest.approx(col.median()) and row["best"] == pytest.approx(col.max())
        pc = col[col.index.isin(members)]
        if len(pc) < 3:  # too small a peer group: all departments, said by peer_fallback
            assert row["peer_fallback"] and row["peer_rank"] == row["rank"]
            pc = col
        else:
            assert not row["peer_fallback"] and row["peer_rank"] == res.peer_ranks.at["SAFP", node]
        assert row["peer_n"] == len(pc) and row["peer_best"] == pytest.approx(pc.max())
        assert row["peer_median"] == pytest.approx(pc.median())


@pytest.mark.slow
def test_strengths_priorities_and_change_come_from_compare(db: DemoDb) -> None:
    from evaluation import compare

    run = db.runs["2023"]
    rep = _report(run, "SAFP")
    res = _result(run)
    sw = compare.strengths_weaknesses(res, "SAFP", n=5, framework=rep.framework)
    pd.testing.assert_frame_equal(rep.strengths.table.reset_index(drop=True), sw.reset_index(drop=True))
    pr = rep.priorities.table
    assert 0 < len(pr) <= 5 and (pr["gain"] > 0).all()
    assert (pr["new_score"] > pr["score"]).all() and pr["gain"].is_monotonic_decreasing
    ch = rep.change
    assert ch.extra["previous_run"] == db.runs["2022"] and ch.extra["previous_period"] == "2022"
    prev = _result(db.runs["2022"])
    assert prev.department_scores is not None and res.department_scores is not None
    idx = res.index_code
    # the change is on the common scale of the two runs (evaluation.compare.common_scale)
    scaled = compare.common_scale([prev, res], rep.framework).results
    assert scaled[0].department_scores is not None and scaled[1].department_scores is not None
    expected = (scaled[1].department_scores[idx] - scaled[0].department_scores[idx])["SAFP"]
    assert ch.table.at[idx, "change"] == pytest.approx(expected)
    summary = ch.extra["summary"]
    parts = summary["value_effect"] + summary["weight_effect"] + summary["residual"]
    assert parts == pytest.approx(summary["change"])
    assert len(ch.extra["contributions"]) == 5
    page = _html(run, "SAFP")
    first = rep.label(str(pr.iloc[0]["indicator"]), "en")
    assert first in page and "Improvement priorities" in page and "Why it changed" in page


def test_the_first_period_has_no_previous_run(db: DemoDb) -> None:
    rep = _report(db.runs["2022"], "SAFP")
    assert rep.change.table is None and rep.change.missing == "dr.no_previous"
    assert "There is no run of an earlier period with the same framework." in _html(db.runs["2022"], "SAFP")


@pytest.mark.slow
def test_ratings_summary_uses_the_rollups_and_the_minimum_count(
    db: DemoDb, monkeypatch: pytest.MonkeyPatch
) -> None:
    from egov.db import session_scope
    from egov.settings import reset_settings
    from surveys.rollup import rating_measures

    run = db.runs["2023"]
    rep = _report(run, "SAFP")
    with session_scope() as s:
        measures, _ = rating_measures(s, pd.Timestamp("2023-01-01").date(), pd.Timestamp("2023-12-31").date())
    table = rep.ratings.table
    assert set(table.index) <= {"ONE_ACCOUNT", "DOC_FILE_SYSTEM", "G2E_PLATFORM", "OPEN_DATA_PLATFORM"}
    assert "ONE_ACCOUNT" in table.index
    pd.testing.assert_series_equal(table["count"], measures.loc[table.index, "count"])
    page = _html(run, "SAFP")
    share = table.at["ONE_ACCOUNT", "share_satisfied"]
    assert f"{share:.1f}" in page and "fewer than 30 ratings" in page
    # with a minimum above every object's count, every service is "insufficient"
    monkeypatch.setenv("EGOV_MIN_RATINGS", "100000")
    reset_settings()
    page = _html(run, "SAFP")
    # the ratings section only: the run's own values (the "every indicator" section) stay
    ratings = page[
        page.index("<h2>Citizen-rating summary</h2>") : page.index("<h2>Open bad-rating cases</h2>")
    ]
    assert ratings.count("insufficient") >= len(table) and f"{share:.1f}" not in ratings


@pytest.mark.slow
def test_open_cases_of_the_department_only(db: DemoDb) -> None:
    run = db.runs["2023"]
    safp = _report(run, "SAFP").cases.table
    assert list(safp["id"]) == db.cases["SAFP"]  # the closed case is left out
    assert set(safp["department"]) == {"SAFP"}
    page = _html(run, "SAFP")
    assert f"<td>#{db.cases['SAFP'][0]}</td>" in page
    assert f"<td>#{db.cases['DSAT'][0]}</td>" not in page
    assert "<td>Efficiency</td>" in page and "(Overdue)" in page  # due in 2023, not rectified
    dsat = _report(run, "DSAT").cases.table
    assert list(dsat["id"]) == db.cases["DSAT"]


@pytest.mark.slow
def test_escaping_and_illustrative_banner(db: DemoDb) -> None:
    from egov.db import session_scope

    run = db.runs["2023"]
    page = _html(run, "DSAT")
    assert EVIL_NAME not in page and EVIL_OBJECT not in page and "<b>slow</b>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in page
    assert "Illustrative demo data" in page
    with session_scope() as s:
        s.execute(text("UPDATE evaluation_run SET note = 'official' WHERE run_key = :k"), {"k": run})
    assert "Illustrative demo data" not in _html(run, "DSAT")


@pytest.mark.parametrize(
    ("lang", "title", "heading"),
    [
        ("zh-Hant", "部門績效報告", "優勢"),
        ("pt", "Relatório do serviço", "Pontos fortes"),
        ("en", "Department report", "Strengths"),
    ],
)
def test_languages(db: DemoDb, lang: str, title: str, heading: str) -> None:
    from reports.department import render_department_report

    rep = _report(db.runs["2023"], "SAFP")
    page = render_department_report(rep, lang)
    assert f'<html lang="{lang}">' in page and title in page and heading in page
    assert rep.name(lang) in page
    assert rep.label("application", lang) in page


def test_without_the_comparison_module_the_sections_say_so(
    db: DemoDb, monkeypatch: pytest.MonkeyPatch
) -> None:
    # evaluation.compare is part of the project (no optional import any more): the sections
    # degrade the same way when its functions fail
    from egov.errors import EgovError
    from evaluation import compare
    from reports.department import data as department_data

    def fails(*_a: Any, **_k: Any) -> Any:
        raise EgovError("evaluation.compare is not available here")

    for name in ("strengths_weaknesses", "priorities", "comparable_change"):
        monkeypatch.setattr(compare, name, fails)
    # the reports take every department's priorities in one pass (evaluation.priorities)
    monkeypatch.setattr(department_data, "priorities_all", fails)
    rep = _report(db.runs["2023"], "SAFP")
    assert rep.strengths.table is None and "not available" in rep.strengths.missing
    assert rep.priorities.table is None
    assert rep.change.table is not None and "why_missing" in rep.change.extra
    assert rep.change.extra["comparable"] is False  # its own scales, labelled not comparable
    page = _html(db.runs["2023"], "SAFP")
    assert page.count("This section is not available") >= 3
    assert "Standing overall and by category" in page


def test_unknown_department(db: DemoDb) -> None:
    from egov.errors import EgovError

    with pytest.raises(EgovError, match="unknown department 'NOPE'"):
        _report(db.runs["2023"], "NOPE")


def test_cli_report_department(db: DemoDb, egov: Any, tmp_path: Path) -> None:
    out = tmp_path / "out"
    r = egov(["report", "latest", "--department", "SAFP", "--out", out, "--lang", "pt"])
    assert r.code == 0, r.err
    page = (out / "department-SAFP.html").read_text(encoding="utf-8")
    assert '<html lang="pt">' in page and "Relatório do serviço" in page
    assert re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page) is None  # no external resource
    r = egov(["report", "latest", "--department", "NOPE", "--out", out])
    assert r.code == 1 and "unknown department 'NOPE'" in r.err and "Traceback" not in r.err


@pytest.mark.slow
def test_demo_writes_one_department_report_per_department(
    demo_build: DemoBuild, demo_build_zh: DemoBuild
) -> None:  # `egov demo --lang en`, then `egov demo`, run once per session (exit 0 checked there)
    pages = sorted(demo_build.out.glob("department-*.html"))
    assert len(pages) == 20
    assert all("Illustrative demo data" in p.read_text(encoding="utf-8") for p in pages)
    # without --lang the reports are in Traditional Chinese, the default language
    page = (demo_build_zh.out / "department-SAFP.html").read_text(encoding="utf-8")
    assert 'lang="zh-Hant"' in page and "行政公職局" in page


@pytest.mark.slow
def test_overlapping_periods_change_and_report_choose_the_same_previous_run(db: DemoDb, egov: Any) -> None:
    """A quarter inside a year (2023Q4 inside 2023) is neither's previous period: `egov change`
    and the department report both compare 2023 and 2023Q4 with 2022 (egov.store.previous_run)."""
    from datetime import date

    from sqlmodel import col, select

    from egov.db import session_scope
    from egov.models import MetricValue, Period
    from egov.scoring import score_period
    from egov.store import latest_framework

    with session_scope() as s:
        year = s.exec(select(Period).where(Period.code == "2023")).one()
        quarter = Period(code="2023Q4", start=date(2023, 10, 1), end=date(2023, 12, 31))
        s.add(quarter)
        s.flush()
        assert quarter.id is not None
        rows = s.exec(
            select(MetricValue).where(
                MetricValue.period_id == year.id, col(MetricValue.superseded_at).is_(None)
            )
        ).all()
        for mv in rows:
            data = mv.model_dump(exclude={"id", "period_id"})
            s.add(MetricValue(**data, period_id=quarter.id))
        s.flush()
        fw_row, fw = latest_framework(s)
        quarter_run = score_period(s, fw_row, fw, quarter).run.run_key
    runs = {"2022": db.runs["2022"], "2023": db.runs["2023"], "2023Q4": quarter_run}

    def change_from(run_key: str) -> str | None:
        out = egov(["change", "--to", run_key, "--lang", "en"])
        found = re.search(r"Change from run (\S+)", " ".join(out.out.split()))
        return found.group(1) if found else None

    def report_from(run_key: str) -> str | None:
        prev = _report(run_key, "SAFP").change.extra.get("previous_run")
        return str(prev) if prev else None

    chosen = {p: (change_from(k), report_from(k)) for p, k in runs.items()}
    assert chosen == {
        "2022": (None, None),
        "2023": (runs["2022"], runs["2022"]),
        "2023Q4": (runs["2022"], runs["2022"]),
    }
