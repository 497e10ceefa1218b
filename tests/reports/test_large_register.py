"""The assessor's report of a register too large for one chart row per department
(issue 18): 150 synthetic departments × the Macau framework's indicators is more cells than
altair's 5,000-row limit, which made `egov report` fail with "internal error". Above
`MAX_CHART_DEPARTMENTS` the heat map shows the median of each peer group (or of each band
of the overall ranking) and the best and the worst departments, the ranking charts the best
and the worst, each with a note; the tables keep every department. On SQLite and PostgreSQL
(the report reads the run, names and ratings from the database)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from egov import synth
from egov.db import init_db, session_scope
from egov.scoring import score_period
from egov.store import get_period, get_run, latest_framework
from egov.synth import Scale, synthesise
from reports import assessor
from reports.assessor import gather, render_html, write_reports
from reports.i18n import t

DEPARTMENTS = 150


@pytest.fixture
def wide(use_db: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A register of 150 departments in 8 peer groups, 300 objects, 3,000 ratings, scored:
    the run's key."""
    wide = Scale(departments=DEPARTMENTS, objects=300, ratings=3_000, peer_groups=8)
    monkeypatch.setitem(synth.SCALES, "wide", wide)
    init_db(use_db)
    with session_scope() as session:
        synthesise(session, "wide", seed=4)
    with session_scope() as session:
        fw_row, fw = latest_framework(session)
        return str(score_period(session, fw_row, fw, get_period(session, "SYN2025")).run.run_key)


def _charts(page: str) -> list[dict[str, object]]:
    """The chart specs of a page (the JSON passed to vegaEmbed)."""
    specs = re.findall(r"vegaEmbed\(el,(\{.*?\}),\{\"renderer\"", page)
    return [json.loads(s.replace("<\\/", "</")) for s in specs]


def _rows(spec: dict[str, object]) -> int:
    datasets = spec.get("datasets")
    return max((len(v) for v in datasets.values()), default=0) if isinstance(datasets, dict) else 0


def test_assessor_report_of_many_departments_shows_aggregated_charts(wide: str, tmp_path: Path) -> None:
    with session_scope() as session:
        paths = write_reports(session, get_run(session, wide), tmp_path, "en", mc_n=20)
    page = next(p for p in paths if p.suffix == ".html").read_text(encoding="utf-8")
    assert "internal error" not in page
    k = assessor.SHOWN_AT_EACH_END
    assert t("heatmap.many_groups", "en", n=DEPARTMENTS, k=k).replace("'", "&#x27;") in page
    assert t("chart.many", "en", n=DEPARTMENTS, k=k) in page
    titles = json.dumps([c.get("title") for c in _charts(page)], ensure_ascii=False)
    assert t("chart.heatmap.groups_title", "en") in titles
    assert t("chart.heatmap.ends_title", "en", k=k) in titles
    assert all(_rows(c) <= 5_000 for c in _charts(page))
    # the groups' heat map: one row per peer group, named with its number of departments
    assert re.search(r"\(\d+ departments\)", page)
    # every department is still in the tables
    with session_scope() as session:
        data = gather(session, get_run(session, wide), "en", mc_n=0)
    assert all(label in page for label in list(data.department_names.values())[:DEPARTMENTS:10])


def test_assessor_report_above_the_limit_in_rank_bands(wide: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # more peer groups than rows: the heat map groups the departments by overall rank instead
    monkeypatch.setattr(assessor, "MAX_CHART_DEPARTMENTS", 5)
    with session_scope() as session:
        page = render_html(gather(session, get_run(session, wide), "pt", mc_n=0))
    assert t("heatmap.many_bands", "pt", n=DEPARTMENTS, k=2) in page
    bands = re.findall(t("heatmap.band", "pt", a=r"(\d+)", b=r"(\d+)"), page)
    assert bands and ("1", bands[0][1]) == bands[0] and 4 <= len(set(bands)) <= 5  # at most limit − 1


def test_department_report_of_many_departments_shows_its_neighbours(wide: str, tmp_path: Path) -> None:
    from reports.department import write_department_report
    from reports.department.labels import LABELS

    with session_scope() as session:
        run = get_run(session, wide)
        data = gather(session, run, "en", mc_n=0)
        code = sorted(data.department_names)[DEPARTMENTS // 2]
        page = write_department_report(session, run, code, tmp_path, "en").read_text(encoding="utf-8")
    assert "internal error" not in page
    assert LABELS["dr.ranking_many"][2].format(n=DEPARTMENTS, k=10, m=5) in page
    ranking = [c for c in _charts(page) if 20 <= _rows(c) <= 31]
    assert ranking, "the ranking chart shows the best, the worst and the neighbours only"


def test_funnel_of_more_objects_than_a_chart_holds_keeps_the_outliers() -> None:
    import numpy as np
    import pandas as pd

    from reports.charts import FUNNEL_MAX_POINTS, funnel_chart

    rng = np.random.default_rng(0)
    n = rng.integers(1, 500, 9_000)
    df = pd.DataFrame(
        {"label": [f"o{i}" for i in range(9_000)], "n": n, "share": rng.binomial(n, 0.7) / n * 100}
    )
    df.loc[0, ["n", "share"]] = [400, 5.0]  # far outside the limits
    spec = funnel_chart(df, "en").to_dict()
    points = max(spec["datasets"].values(), key=len)
    assert len(points) <= FUNNEL_MAX_POINTS
    assert any(p["label"] == "o0" for p in points)
    assert spec["title"]["subtitle"].startswith("9000 objects:")


def test_department_reports_written_together_equal_one_written_alone(wide: str) -> None:
    # the reports of every department share one pass (priorities, standing, reads); one
    # report alone computes its own: the same sections
    import pandas as pd

    from egov.record import load_result
    from reports.department import ReportCache, department_report

    with session_scope() as session:
        run = get_run(session, wide)
        result = load_result(session, run, verify=False)
        cache = ReportCache(many=True)
        assert result.department_scores is not None
        codes = sorted(map(str, result.department_scores.index))[::37]
        for code in codes:
            alone = department_report(session, run, code)
            together = department_report(session, run, code, result, cache)
            for name in ("standing", "indicators", "strengths", "priorities", "ratings", "cases", "flags"):
                a, b = getattr(alone, name), getattr(together, name)
                a, b = (a.table, b.table) if hasattr(a, "table") else (a, b)
                if a is None or b is None:
                    assert a is b, name
                else:
                    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=0, atol=1e-9, obj=name)
            assert alone.indicators.extra["objects"] == together.indicators.extra["objects"]
            assert alone.context == together.context and alone.all_names == together.all_names
