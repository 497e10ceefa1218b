"""`egov rank`, `egov compare`, `egov gaps`, `egov priorities` and `egov change` on the
demo data (SQLite only: the commands read stored runs the same way on both engines). The
demo's database is a copy of the one `egov demo` stored once per session (the fixture
`demo_url`, tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from indicators.framework import builtin_path


@pytest.mark.slow
def test_comparison_commands_on_the_demo(
    demo_url: str, egov, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from egov.settings import reset_settings

    monkeypatch.setenv("EGOV_LANG", "en")  # this test reads the English output
    reset_settings()
    # rank: the categories then overall, by category within a peer group, one node; CSV
    # agrees with the screen
    r = egov(["rank", "--out", tmp_path / "rank.csv"])
    assert r.code == 0, r.err
    ranking = pd.read_csv(tmp_path / "rank.csv")
    assert set(ranking["node"]) == {"egov_index", "infrastructure", "application", "management"}
    ranking = ranking[ranking["node"] == "egov_index"]
    assert len(ranking) == 20  # departments under the coverage rule have no overall rank
    assert ranking["rank"].dropna().is_monotonic_increasing and ranking["rank"].iloc[0] == 1
    assert ranking["rank"].isna().sum() == (ranking["categories_scored"] < 2).sum() > 0
    assert ranking["score"][ranking["rank"].notna()].is_monotonic_decreasing
    top = ranking["entity"].iloc[0]
    assert top in r.out
    r = egov(["rank", "--level", "category", "--peer-group", "security", "--out", tmp_path / "cat.csv"])
    assert r.code == 0, r.err
    cats = pd.read_csv(tmp_path / "cat.csv")
    assert set(cats["node"]) == {"infrastructure", "application", "management"}
    assert (cats["peer_group"] == "security").all() and "Infrastructure" in r.out
    r = egov(["rank", "--node", "app_csat", "--lang", "zh-Hant"])
    assert r.code == 0 and "滿意率" in r.out

    # clear errors for an unknown run, node, peer group, department, level or step
    for args, message in [
        (["rank", "--run", "nope"], "no evaluation run 'nope'"),
        (["rank", "--node", "nope"], "unknown node(s) nope"),
        (["rank", "--peer-group", "nope"], "unknown peer group 'nope'"),
        (["rank", "--level", "nope"], "--level 'nope'"),
        (["priorities", "NOPE"], "unknown department 'NOPE'"),
        (["priorities", "SAFP", "--step", "best"], "--step 'best'"),
        (["change", "--from", "nope"], "no evaluation run 'nope'"),
    ]:
        bad = egov(args)
        assert bad.code == 1 and message in bad.err and "Traceback" not in bad.err, (args, bad.err)

    # compare: side by side per category and dimension, indicators that differ most
    r = egov(["compare", "SAFP", "DSI", "--top", "4", "--out", tmp_path / "h2h.csv"])
    assert r.code == 0, r.err
    assert "application" in r.out and "satisfaction" in r.out and "differ most" in r.out
    h2h = pd.read_csv(tmp_path / "h2h.csv")
    assert (h2h["difference"].dropna() == (h2h["score_a"] - h2h["score_b"]).dropna()).all()

    # gaps, strengths and weaknesses
    r = egov(["gaps", "SAFP", "--n", "3", "--out", tmp_path / "gaps.csv"])
    assert r.code == 0, r.err
    assert "strength" in r.out and "weakness" in r.out
    gaps = pd.read_csv(tmp_path / "gaps.csv").set_index("node")
    assert (gaps["gap_best"] >= 0).all() and gaps.loc["egov_index", "peer_group"] == "administration_justice"

    # priorities: sorted by gain, new score = score + gain, a new rank no worse
    r = egov(["priorities", "SAFP", "--top", "5", "--out", tmp_path / "prio.csv"])
    assert r.code == 0, r.err
    assert "peer median" in r.out
    prio = pd.read_csv(tmp_path / "prio.csv")
    assert prio["gain"].is_monotonic_decreasing and (prio["gain"] >= 0).all()
    assert (prio["new_score"] - prio["score"] - prio["gain"]).abs().max() < 1e-9
    assert (prio["new_rank"] <= prio["rank"]).all()
    r = egov(["priorities", "SAFP", "--step", "next"])
    assert r.code == 0 and "next above" in r.out

    # change between the demo's two periods: contributions add up, no method change
    r = egov(["change", "--department", "SAFP", "--out", tmp_path / "change.csv"])
    assert r.code == 0, r.err
    assert "period 2022" in r.out and "period 2023" in r.out and "method changed" not in r.out
    summary = pd.read_csv(tmp_path / "change.csv")
    parts = pd.read_csv(tmp_path / "change_contributions.csv")
    total = parts.groupby("department")["contribution"].sum() + summary.set_index("department")["residual"]
    pd.testing.assert_series_equal(
        total.sort_index(), summary.set_index("department")["change"].sort_index(), check_names=False
    )

    # a new framework version for 2023: change splits into data and method (Shapley)
    text = builtin_path("macau").read_text(encoding="utf-8")
    marker = "[categories.management]\n"
    assert marker in text
    head, tail = text.split(marker, 1)
    tail = tail.replace("weight = 1\n", "weight = 3\n", 1)
    (tmp_path / "macau-v2.toml").write_text(head + marker + tail, encoding="utf-8")
    assert egov(["score", "--period", "2023", "--framework", tmp_path / "macau-v2.toml"]).code == 0
    r = egov(["change", "--out", tmp_path / "change2.csv"])
    assert r.code == 0, r.err
    assert "method changed" in r.out and "data effect" in r.out
    split = pd.read_csv(tmp_path / "change2.csv")
    assert ((split["data_effect"] + split["method_effect"] - split["change"]).abs() < 1e-9).all()
    assert (split["method_effect"].abs() > 1e-6).any()
