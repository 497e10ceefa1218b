"""Coverage is a rule (issue 14, point 1): `[index] min_categories` keeps a department scored
on too few categories out of the overall ranking (it keeps its category scores and ranks);
objects are ranked only among objects of their kind; the Monte Carlo gives no rank interval
to a department the rule leaves out; the CLI, CSV and demo say so.

The framework below has three categories, one per kind of assessed object, as the Macau
framework does. The departments cover overlapping subsets of them: A {infra, app},
B {app, mgmt}, C {mgmt}, D {infra, app, mgmt}, E {mgmt}; C and E score highest on
management, so without the rule a management-only department would top the table."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from egov.errors import EgovError
from evaluation.compare import rankings
from evaluation.engine import EvaluationResult, evaluate
from evaluation.rank import rank_desc
from evaluation.uncertainty import monte_carlo
from indicators.framework import Framework, build_framework, resolve_framework

KINDS = {"infra": "infrastructure", "app": "application", "mgmt": "management"}
# department -> (kind of each of its objects); the kinds decide the categories it is scored on
DEPARTMENTS = {
    "A": ("infrastructure", "application", "application"),
    "B": ("application", "management"),
    "C": ("management",),
    "D": ("infrastructure", "application", "management"),
    "E": ("management", "management"),
}


def _names(code: str) -> dict[str, str]:
    return {"zh-Hant": code, "pt": code, "en": code}


def _data(min_categories: Any = None) -> dict[str, Any]:
    cats: dict[str, Any] = {}
    for cat, kind in KINDS.items():
        inds = {
            f"{cat}_{i}": {"name": _names(f"{cat}_{i}"), "unit": "%", "direction": 1, "rationale": "test"}
            for i in (1, 2)
        }
        cats[cat] = {"name": _names(cat), "applies_to": kind, "indicators": inds}
    index: dict[str, Any] = {"code": "index"}
    if min_categories is not None:
        index["min_categories"] = min_categories
    return {
        "framework": {"code": "cov", "version": "1", "name": _names("cov")},
        "index": index,
        "methods": {"normalisation": {"method": "goalposts", "min": 0, "max": 100}},
        "categories": cats,
    }


def _framework(min_categories: Any = None) -> Framework:
    return build_framework(_data(min_categories))


def _inputs() -> tuple[pd.DataFrame, pd.DataFrame]:
    """(wide data, units): every object scored on its kind's two indicators; management
    bodies of C and E score highest, so they would lead an overall table without the rule."""
    rng = np.random.default_rng(14)
    rows, units = {}, {}
    for dept, kinds in DEPARTMENTS.items():
        for i, kind in enumerate(kinds):
            obj = f"{dept}{i}"
            cat = next(c for c, k in KINDS.items() if k == kind)
            high = dept in ("C", "E") and kind == "management"
            values = rng.uniform(90, 100, 2) if high else rng.uniform(20, 80, 2)
            rows[obj] = {f"{cat}_{j}": float(v) for j, v in zip((1, 2), values, strict=True)}
            units[obj] = {"kind": kind, "department": dept, "peer_group": "p" if dept in "ACE" else "q"}
    return pd.DataFrame(rows).T, pd.DataFrame(units).T


def _result(min_categories: Any = None) -> EvaluationResult:
    data, units = _inputs()
    return evaluate(data, _framework(min_categories), units=units)


# --- the framework file ---------------------------------------------------------------------
def test_the_loader_accepts_min_categories_and_hashes_it_only_when_written() -> None:
    fw = _framework(2)
    assert fw.min_categories == 2 and fw.ranking_rule == 2
    assert fw.to_dict()["index"]["min_categories"] == 2
    plain = _framework()
    assert plain.min_categories is None and plain.ranking_rule == 1
    assert "min_categories" not in plain.to_dict()["index"]  # older frameworks hash as before
    assert fw.content_hash != plain.content_hash


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0, "between 1 and 3"),
        (4, "between 1 and 3"),
        (-1, "between 1 and 3"),
        (1.5, "whole number"),
        ("2", "whole number"),
        (True, "whole number"),
    ],
)
def test_the_loader_refuses_bad_min_categories(value: Any, message: str) -> None:
    with pytest.raises(EgovError) as exc:
        _framework(value)
    assert any(p.startswith("index.min_categories") and message in p for p in exc.value.problems), (
        exc.value.problems
    )


def test_the_macau_framework_sets_the_rule_and_says_why() -> None:
    fw = resolve_framework("macau")
    assert fw.min_categories == 2 and len(fw.categories) == 3
    toml = (Path(__file__).parents[2] / "indicators" / "frameworks" / "macau.toml").read_text(
        encoding="utf-8"
    )
    assert "在分層分類基礎上，建立橫向對比績效評估體系" in toml and "min_categories = 2" in toml


# --- the engine -------------------------------------------------------------------------------
def test_the_overlapping_coverage_case() -> None:
    """A {infra, app} and B {app, mgmt} are ranked overall under a rule of 2; C and E
    (management only) are not, though they score highest; their category ranks stay."""
    res = _result(2)
    assert res.department_scores is not None and res.department_ranks is not None
    covered = res.categories_scored("department")
    assert covered.to_dict() == {"A": 2, "B": 2, "C": 1, "D": 3, "E": 1}
    overall = res.department_ranks["index"]
    assert overall[["C", "E"]].isna().all()
    assert res.department_scores.loc[["C", "E"], "index"].notna().all()  # the score is kept
    ranked = overall.dropna().astype(int)
    assert set(ranked.index) == {"A", "B", "D"}
    assert sorted(ranked) == [1, 2, 3], "ranked 1..n without gaps"
    expected = rank_desc(res.department_scores.loc[["A", "B", "D"], "index"])
    assert ranked.to_dict() == expected.astype(int).to_dict()
    # C and E keep their management scores and ranks: they lead that league table
    mgmt = res.department_ranks["mgmt"].dropna().astype(int)
    assert {mgmt["C"], mgmt["E"]} == {1, 2}
    # no peer rank overall either, but peer ranks per category
    assert res.peer_ranks is not None
    assert res.peer_ranks.loc[["C", "E"], "index"].isna().all()
    assert res.peer_ranks.loc[["C", "E"], "mgmt"].notna().all()
    assert res.peer_ranks.loc["A", "index"] == 1  # A is the only ranked department of peer group p


def test_without_the_rule_every_scored_department_is_ranked() -> None:
    """The default (no `min_categories`) ranks every department with an index score: a
    management-only department then tops the table, the artefact the rule removes."""
    res = _result()
    assert res.department_scores is not None and res.department_ranks is not None
    pd.testing.assert_series_equal(res.department_ranks["index"], rank_desc(res.department_scores["index"]))
    assert res.department_ranks["index"].idxmin() in ("C", "E")
    assert res.department_ranks["index"].notna().all()


def test_a_rule_of_one_changes_nothing() -> None:
    a, b = _result(), _result(1)
    assert a.department_ranks is not None and b.department_ranks is not None
    pd.testing.assert_frame_equal(a.department_ranks, b.department_ranks)
    pd.testing.assert_frame_equal(a.ranks, b.ranks)


def test_objects_are_ranked_only_among_objects_of_their_kind() -> None:
    res = _result(2)
    kinds = res.units["kind"]
    for kind in KINDS.values():
        same = kinds == kind
        ranks = res.ranks.loc[same, "index"]
        pd.testing.assert_series_equal(ranks, rank_desc(res.scores.loc[same, "index"]))
        assert ranks.min() == 1
    # a management body is not first of every object: one object per kind is first
    assert int((res.ranks["index"] == 1).sum()) == len(KINDS)
    table = res.table("unit", coverage=True)
    assert list(table.columns[:3]) == ["Kind", "Rank", "Categories scored"]
    assert (table.groupby("Kind")["Rank"].min() == 1).all()


def test_without_kinds_units_are_ranked_all_together_and_under_the_rule() -> None:
    """A framework's units that are not objects of kinds (no departments): all ranked
    together, as before; the rule applies to the units themselves."""
    data, _ = _inputs()
    data = data.fillna(50.0)
    data.loc["C0", ["infra_1", "infra_2", "app_1", "app_2"]] = np.nan  # C0 scored on mgmt only
    for rule in (None, 2):
        res = evaluate(data, _framework(rule))
        ranks = res.ranks["index"]
        if rule is None:
            pd.testing.assert_series_equal(ranks, rank_desc(res.scores["index"]))
        else:
            assert ranks[["C0"]].isna().all() and res.scores.loc[["C0"], "index"].notna().all()
            assert sorted(ranks.dropna().astype(int)) == sorted(
                rank_desc(res.scores["index"].drop("C0")).astype(int)
            )


def test_rankings_carry_the_coverage() -> None:
    res = _result(2)
    table = rankings(res, nodes=["index", "mgmt"])
    assert {"categories_scored", "categories_total"} <= set(table.columns)
    overall = table[table["node"] == "index"].set_index("entity")
    assert overall.loc["C", "categories_scored"] == 1 and (overall["categories_total"] == 3).all()
    assert overall.loc[["C"], "rank"].isna().all()


# --- the Monte Carlo ---------------------------------------------------------------------------
def test_the_monte_carlo_gives_no_rank_interval_to_a_department_under_the_rule() -> None:
    data, units = _inputs()
    res = monte_carlo(data, _framework(2), None, units, n=60, weight_noise=0.3, sensitivity_n=0, seed=1)
    summary = res.summary
    for dept in ("C", "E"):
        row = summary.loc[[dept]]
        assert row["nominal_rank"].isna().all() and row["nominal_score"].notna().all()
        assert row[["rank_p05", "rank_p95", "median_rank", "tier"]].isna().all().all()
        assert res.ranks[dept].isna().all()
        assert (res.prob_above.loc[dept] == 0).all() and (res.prob_above[dept] == 0).all()
    ranked = res.ranks[["A", "B", "D"]]
    assert ranked.notna().all().all() and ranked.max().max() <= 3, "the others are ranked 1..3"


def test_the_monte_carlo_ranks_objects_within_their_kind() -> None:
    data, units = _inputs()
    res = monte_carlo(data, _framework(), None, units, n=30, level="unit", sensitivity_n=0, seed=2)
    for kind in KINDS.values():
        objs = units.index[units["kind"] == kind]
        assert res.ranks[objs].max().max() <= len(objs)
        assert (res.ranks[objs].min(axis=1) == 1).all()


# --- the CLI and the demo -----------------------------------------------------------------------
@pytest.mark.slow
def test_the_demo_ranks_no_department_under_the_macau_rule(demo_build: Any) -> None:
    ranking = pd.read_csv(demo_build.out / "department_ranking.csv", index_col="department")
    rule = resolve_framework("macau").ranking_rule
    under = ranking["categories_assessed"] < rule
    assert under.any(), "the demo has departments scored on one category only (e.g. DSAMA, GSS)"
    assert ranking.loc[under, "rank"].isna().all()
    assert ranking.loc[under, "management_rank"].notna().all()
    ranked = ranking.loc[~under, "rank"]
    assert sorted(ranked.astype(int)) == list(range(1, len(ranked) + 1))
    text = (demo_build.out / "department_ranking.csv").read_text(encoding="utf-8")
    assert ",1.0," not in text.split("\n")[1], "ranks are written as integers"
    columns = list(ranking.columns)
    assert columns.index("infrastructure_rank") < columns.index("categories_assessed") < columns.index("rank")
    objects = pd.read_csv(demo_build.out / "object_scores.csv", index_col="unit")
    assert (objects.groupby("Kind")["Rank"].min() == 1).all() and "Categories scored" in objects


@pytest.mark.slow
def test_egov_rank_says_not_ranked_overall(demo_url: str, egov: Any, tmp_path: Path) -> None:
    r = egov(["rank", "--out", tmp_path / "rank.csv", "--lang", "en"])
    assert r.code == 0, r.err
    flat = " ".join(re.sub(r"[│┃|]", " ", r.out).split())  # the table folds long cells
    assert "not ranked" in flat and "overall:" in flat and "1/3" in flat
    header = next(line for line in r.out.splitlines() if "Infrastructure" in line and "Overall" in line)
    # the category league tables first, then the coverage, then the overall rank
    assert header.index("Infrastructure") < header.index("Categories") < header.index("Overall")
    zh = egov(["rank"])  # the default language (EGOV_LANG, zh-Hant) says it too
    assert zh.code == 0 and "不參與總排名" in zh.out, zh.err
    table = pd.read_csv(tmp_path / "rank.csv")
    assert {"categories_scored", "categories_total"} <= set(table.columns)
    overall = table[table["node"] == "egov_index"].set_index("entity")
    assert overall.loc["DSAMA", "categories_scored"] == 1 and overall.loc[["DSAMA"], "rank"].isna().all()
    assert (overall["rank"].dropna() == overall["rank"].dropna().round()).all()
    r = egov(["rank", "--node", "egov_index", "--lang", "en"])
    assert r.code == 0 and "not ranked overall" in r.out, r.err
    r = egov(["score", "--period", "2023", "--lang", "en"])
    flat = " ".join(re.sub(r"[│┃|]", " ", r.out).split())  # the table folds long cells
    assert r.code == 0 and "not ranked" in flat and "Traceback" not in r.out + r.err, r.err
