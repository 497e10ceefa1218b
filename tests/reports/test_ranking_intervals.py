"""The ranking chart's Monte Carlo intervals (issue 14, "the ranking chart shows scores with
uncertainty intervals and highlights the reader's department") in the department reports
and on the web ranking page: the same intervals as the assessor's report (one definition,
reports.intervals), for the departments ranked overall only, computed once per run."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import reports.intervals
from egov.db import session_scope
from egov.record import load_result
from egov.store import get_run
from reports.department import ReportCache, department_report
from reports.i18n import t
from reports.web.results import forget_results
from tests.helpers.demo import DemoBuild
from tests.helpers.department_db import DemoDb, serving

COLUMNS = ("score_p05", "score_p95", "rank_p05", "rank_p95")
CODE = re.compile(r"\(([A-Za-z0-9_-]+)\)$")


def chart_specs(page: str) -> list[dict[str, Any]]:
    """The Vega-Lite specs of the charts of a page."""
    decoder = json.JSONDecoder()
    return [decoder.raw_decode(page, m.end())[0] for m in re.finditer(r"vegaEmbed\(el,", page)]


def ranking_rows(page: str, lang: str) -> dict[str, dict[str, Any]]:
    """The rows of the page's ranking chart by label."""
    title = t("chart.ranking.title", lang)
    found = [s for s in chart_specs(page) if (s.get("title") or {}).get("text") == title]
    assert len(found) == 1, f"{len(found)} ranking charts"
    rows = [row for data in found[0].get("datasets", {}).values() for row in data]
    return {str(row["label"]): row for row in rows}


def by_code(rows: dict[str, dict[str, Any]], names: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Rows keyed by department code: a label "Name (CODE)", or a name of `names` (code → name)."""
    codes = {name: code for code, name in names.items()}
    out = {}
    for label, row in rows.items():
        m = CODE.search(label)
        out[m.group(1) if m else codes[label]] = row
    return out


def assert_same_intervals(mine: dict[str, dict[str, Any]], assessor: dict[str, dict[str, Any]]) -> None:
    with_interval = {c for c, r in assessor.items() if r.get("score_p05") is not None}
    assert with_interval and {c for c, r in mine.items() if r.get("score_p05") is not None} == with_interval
    for code in with_interval:
        for column in COLUMNS:
            assert mine[code][column] == pytest.approx(assessor[code][column], abs=1e-9), (code, column)


def english_names(url: str) -> dict[str, str]:
    from egov.store import department_names

    with session_scope(url) as s:
        return {str(k): str(v) for k, v in department_names(s)["en"].items()}


def test_department_reports_show_the_assessor_reports_intervals_for_ranked_departments_only(
    demo_build: DemoBuild,
) -> None:
    out = demo_build.out
    assessor = ranking_rows(next(out.glob("assessor-report-*-en.html")).read_text(encoding="utf-8"), "en")
    names = english_names(demo_build.url)
    assessor_rows = by_code(assessor, names)
    with session_scope(demo_build.url) as s:
        result = load_result(s, get_run(s, None), verify=False)
    ranked = result.ranked_overall("department")
    unranked = sorted(str(d) for d in ranked.index[~ranked])
    assert unranked, "the demo has departments under the coverage rule"
    for path in sorted(out.glob("department-*.html")):
        page = path.read_text(encoding="utf-8")
        mine = by_code(ranking_rows(page, "en"), names)
        assert_same_intervals(mine, assessor_rows)
        for code in unranked:  # no rank, no interval: not on the chart (as in the assessor's)
            assert code not in mine or mine[code].get("score_p05") is None
        code = path.stem.removeprefix("department-")
        own = "Rank interval (5th to 95th percentile)" in page
        assert own == (code not in unranked), code
        if own:
            row = assessor_rows[code]
            assert f"{int(row['rank_p05'])} to {int(row['rank_p95'])}; score {row['score_p05']:.1f}" in page


def test_the_department_reports_of_a_run_run_the_monte_carlo_once(
    demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real = reports.intervals.monte_carlo

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(reports.intervals, "monte_carlo", counted)
    cache = ReportCache()
    with session_scope() as s:
        run = get_run(s, None)
        result = load_result(s, run, verify=False)
        reports_ = [department_report(s, run, d, result, cache) for d in ("SAFP", "DSAT", "DSAMA")]
    assert len(calls) == 1
    safp, _dsat, dsama = reports_
    assert not math.isnan(float(safp.ranking["score_p05"]["SAFP"]))
    assert math.isnan(float(dsama.ranking["score_p05"]["DSAMA"]))  # not ranked overall


@pytest.fixture(scope="module")
def site(
    department_template: DemoDb, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Any, DemoDb]]:
    tmp: Path = tmp_path_factory.mktemp("web-intervals")
    db = department_template.copy(tmp / "egov.db")
    with serving(db, tmp) as client:
        yield client, db


def test_the_web_ranking_page_shows_the_assessor_reports_intervals(
    site: tuple[Any, DemoDb], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, db = site
    forget_results()
    calls: list[int] = []
    real = reports.intervals.monte_carlo

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(reports.intervals, "monte_carlo", counted)
    run = db.runs["2022"]  # published: its ranking is every department's to read (2023's draft is not)
    department = {"Authorization": f"Bearer {db.keys['department']}"}
    page = client.get(f"/reports/{run}/ranking?lang=en", headers=department)
    assert page.status_code == 200
    again = client.get(f"/reports/{run}/ranking?lang=en", headers=department).text
    report = client.get(f"/reports/{run}/departments/SAFP?lang=en", headers=department)
    assert report.status_code == 200
    assert len(calls) == 1  # once per run, shared by the pages and the department reports
    assessor = client.get(
        f"/reports/{run}/assessor?lang=en", headers={"Authorization": f"Bearer {db.keys['assessor']}"}
    ).text
    names = english_names(db.url)
    assessor_rows = by_code(ranking_rows(assessor, "en"), names)
    for text in (page.text, again, report.text):
        assert_same_intervals(by_code(ranking_rows(text, "en"), names), assessor_rows)
    assert t("rank.interval", "en") in page.text
    safp = assessor_rows["SAFP"]
    assert f"<td>{int(safp['rank_p05'])}–{int(safp['rank_p95'])}</td>" in page.text
