"""Every comparison between periods on the demo uses the one common scale
(evaluation.trend.common_scale, issue 14 point 3): `egov change` (which names the scale),
the assessor's trend chart data and the department report's "change since last period";
and a change between runs of different framework versions is labelled not comparable.
SQLite only, like the other comparison-command tests: the stored runs are read the same way
on both engines."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
import pytest

from indicators.framework import builtin_path
from reports.i18n import t


def _runs() -> list[Any]:
    from sqlmodel import col, select

    from egov.db import session_scope
    from egov.models import EvaluationRun

    with session_scope() as s:
        rows = s.exec(select(EvaluationRun).order_by(col(EvaluationRun.id))).all()
        return [(r.run_key, r.id) for r in rows]


def _loaded(run_key: str) -> tuple[Any, Any]:
    from egov.db import session_scope
    from egov.record import load_inputs, load_result
    from egov.store import get_run

    with session_scope() as s:
        run = get_run(s, run_key)
        return load_result(s, run), load_inputs(s, run).framework


@pytest.mark.slow
def test_change_trend_and_department_change_share_the_common_scale(
    demo_url: str, egov: Any, tmp_path: Path
) -> None:
    from egov.db import session_scope
    from egov.store import get_run
    from evaluation.trend import common_scale
    from reports.assessor import render_html
    from reports.assessor_data import gather
    from reports.department import department_report, render_department_report

    (k0, _), (k1, _) = _runs()[-2:]
    prev, fw = _loaded(k0)
    cur, _ = _loaded(k1)
    cs = common_scale([prev, cur], fw)
    idx = fw.index_code
    assert all(r.department_scores is not None and r.department_ranks is not None for r in cs.results)
    scaled0, scaled1 = (cast(pd.DataFrame, r.department_scores)[idx] for r in cs.results)
    # the demo's per-period scores are not already on the common scale (else nothing is tested)
    assert not np.allclose(scaled0.to_numpy(), prev.department_scores[idx].to_numpy())

    r = egov(["change", "--out", tmp_path / "change.csv", "--lang", "en"])
    assert r.code == 0, r.err
    out = " ".join(r.out.split())
    assert "scale: common scale: fixed goalposts for" in out and "pooled values of the 2 periods" in out
    summary = pd.read_csv(tmp_path / "change.csv").set_index("department")
    np.testing.assert_allclose(summary["score_previous"], scaled0.reindex(summary.index))
    np.testing.assert_allclose(summary["score_current"], scaled1.reindex(summary.index))
    ranks1 = cast(pd.DataFrame, cs.results[1].department_ranks)[idx]
    np.testing.assert_array_equal(summary["rank_current"], ranks1.reindex(summary.index))

    with session_scope() as s:
        data = gather(s, get_run(s, k1), "en", mc_n=0)
        rep = department_report(s, get_run(s, k1), "SAFP")
    trend = data.trend.pivot(index="entity", columns="period", values="score")
    periods = list(trend.columns)
    np.testing.assert_allclose(trend[periods[-2]], scaled0.reindex(trend.index))
    np.testing.assert_allclose(trend[periods[-1]], scaled1.reindex(trend.index))
    ranks = data.trend.pivot(index="entity", columns="period", values="rank")
    np.testing.assert_array_equal(ranks[periods[-1]], ranks1.reindex(ranks.index))
    assert data.trend_left_out == []
    page = render_html(data)
    for key in ("method.trend_scale", "method.trend_scale.pooled", "trend.note"):
        assert html.escape(t(key, "en")) in page, key

    table = rep.change.table
    assert table is not None
    assert rep.change.extra["comparable"] is True
    assert table.at[idx, "score_previous"] == pytest.approx(scaled0["SAFP"])
    assert table.at[idx, "change"] == pytest.approx(scaled1["SAFP"] - scaled0["SAFP"])
    assert rep.change.extra["summary"]["change"] == pytest.approx(scaled1["SAFP"] - scaled0["SAFP"])
    with session_scope() as s:
        page = render_department_report(department_report(s, get_run(s, k1), "SAFP"), "en")
    assert html.escape(t("dr.common_scale", "en")) in page


@pytest.mark.slow
def test_a_change_across_framework_versions_is_labelled_not_comparable(
    demo_url: str, egov: Any, tmp_path: Path
) -> None:
    from egov.db import session_scope
    from egov.store import get_run
    from reports.assessor_data import gather
    from reports.department import department_report

    text = builtin_path("macau").read_text(encoding="utf-8")
    head, tail = text.split("[categories.management]\n", 1)
    tail = tail.replace("weight = 1\n", "weight = 3\n", 1)
    (tmp_path / "macau-v2.toml").write_text(head + "[categories.management]\n" + tail, encoding="utf-8")
    assert egov(["score", "--period", "2023", "--framework", tmp_path / "macau-v2.toml"]).code == 0
    r = egov(["change", "--lang", "en"])
    assert r.code == 0, r.err
    assert "scale: not comparable" in " ".join(r.out.split())
    key = _runs()[-1][0]
    with session_scope() as s:
        rep = department_report(s, get_run(s, key), "SAFP")
        data = gather(s, get_run(s, key), "en", mc_n=0)
    assert rep.change.extra["comparable"] is False
    # the earlier periods were run with the other version: no common scale, left out
    assert data.trend_left_out and data.trend.empty
