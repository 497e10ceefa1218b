"""Rank tests on rating distributions from roll-up counts: known answers from scipy on the
expanded ratings, Holm's adjustment, Cliff's delta, the SQL counts and `egov ratings compare`."""

from __future__ import annotations

from datetime import date
from itertools import combinations
from pathlib import Path
from typing import cast

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from surveys.stats import (
    LEVEL_COLUMNS,
    cliffs_delta,
    holm,
    kruskal_wallis,
    level_counts,
    magnitude,
    pairwise,
)

counts_tables = st.integers(2, 5).flatmap(
    lambda g: st.lists(st.lists(st.integers(0, 6), min_size=5, max_size=5), min_size=g, max_size=g)
)


def _expand(row: npt.ArrayLike) -> np.ndarray:
    return np.repeat(np.arange(1, 6), np.asarray(row, dtype=int))


def _frame(table: list[list[int]]) -> pd.DataFrame:
    return pd.DataFrame(table, index=[f"G{i}" for i in range(len(table))], columns=LEVEL_COLUMNS)


def _usable(table: list[list[int]]) -> bool:
    c = np.asarray(table)
    return (c.sum(axis=1) > 0).sum() >= 2 and (c.sum(axis=0) > 0).sum() >= 2


@settings(derandomize=True, database=None, max_examples=60, deadline=None)
@given(counts_tables)
def test_kruskal_wallis_from_counts_equals_scipy_on_expanded_ratings(table: list[list[int]]) -> None:
    if not _usable(table):
        return
    kw = kruskal_wallis(table)
    ref = stats.kruskal(*[_expand(r) for r in table if sum(r)])
    assert kw.h == pytest.approx(ref.statistic, rel=1e-9, abs=1e-12)
    assert kw.p == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-12)
    assert kw.epsilon2 == pytest.approx(kw.h / (kw.n - 1))
    assert kw.df == sum(1 for r in table if sum(r)) - 1


def test_kruskal_wallis_known_answer() -> None:
    # three groups of ratings; scipy.stats.kruskal on the expanded data gives the reference
    table = [[2, 3, 5, 10, 4], [8, 6, 4, 2, 1], [0, 1, 3, 9, 12]]
    kw = kruskal_wallis(table)
    ref = stats.kruskal(*[_expand(r) for r in table])
    assert (kw.h, kw.p) == pytest.approx((ref.statistic, ref.pvalue), rel=1e-12)
    assert kw.p < 1e-4 and kw.groups == 3 and kw.n == 70


def test_kruskal_wallis_edge_cases() -> None:
    from egov.errors import EgovError

    everyone_at_4 = kruskal_wallis([[0, 0, 0, 5, 0], [0, 0, 0, 7, 0]])
    assert np.isnan(everyone_at_4.h) and np.isnan(everyone_at_4.p)
    with pytest.raises(EgovError, match="at least two groups"):
        kruskal_wallis([[1, 2, 3, 4, 5], [0, 0, 0, 0, 0]])
    with pytest.raises(EgovError, match="whole numbers"):
        kruskal_wallis([[1, -2, 3, 4, 5], [1, 1, 1, 1, 1]])


@settings(derandomize=True, database=None, max_examples=40, deadline=None)
@given(counts_tables)
def test_mann_whitney_from_counts_equals_scipy(table: list[list[int]]) -> None:
    if not _usable(table):
        return
    got = pairwise(_frame(table), "mannwhitney").set_index(["a", "b"])
    groups = {f"G{i}": _expand(r) for i, r in enumerate(table) if sum(r)}
    for a, b in combinations(groups, 2):
        x, y = groups[a], groups[b]
        if len(np.unique(np.concatenate([x, y]))) < 2:
            continue  # no ranking information: scipy gives nan too
        ref = stats.mannwhitneyu(x, y, method="asymptotic", use_continuity=True)
        row = cast(pd.Series, got.loc[(a, b)])
        assert row["statistic"] == pytest.approx(ref.statistic, abs=1e-9)
        assert row["p"] == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-12)


def _dunn_reference(groups: list[np.ndarray]) -> dict[tuple[int, int], tuple[float, float]]:
    """Dunn (1964) computed the long way: rank the expanded ratings, mean ranks, tie term."""
    pooled = np.concatenate(groups)
    ranks = stats.rankdata(pooled)
    n = len(pooled)
    _, t = np.unique(pooled, return_counts=True)
    var = n * (n + 1) / 12 - (t**3 - t).sum() / (12 * (n - 1))
    bounds = np.cumsum([0, *map(len, groups)])
    means = [ranks[bounds[k] : bounds[k + 1]].mean() for k in range(len(groups))]
    out = {}
    for i, j in combinations(range(len(groups)), 2):
        z = (means[i] - means[j]) / np.sqrt(var * (1 / len(groups[i]) + 1 / len(groups[j])))
        out[(i, j)] = (z, 2 * stats.norm.sf(abs(z)))
    return out


def test_dunn_matches_the_long_computation_and_a_hand_worked_case() -> None:
    table = [[2, 3, 5, 10, 4], [8, 6, 4, 2, 1], [0, 1, 3, 9, 12], [1, 1, 1, 1, 1]]
    got = pairwise(_frame(table), "dunn")
    ref = _dunn_reference([_expand(r) for r in table])
    for r in got.itertuples():
        z, p = ref[(int(cast(str, r.a)[1:]), int(cast(str, r.b)[1:]))]
        assert (r.z, r.p) == pytest.approx((z, p), rel=1e-10)
    # by hand: A = {1, 2}, B = {3, 4}: mean ranks 1.5 and 3.5, no ties, σ² = 4·5/12 (1/2 + 1/2)
    hand = pairwise(_frame([[1, 1, 0, 0, 0], [0, 0, 1, 1, 0]]), "dunn").iloc[0]
    assert hand["z"] == pytest.approx(-2 / np.sqrt(5 / 3))
    assert hand["p"] == pytest.approx(0.121335, abs=1e-6)
    assert hand["cliffs_delta"] == -1.0 and hand["magnitude"] == "large"


def test_holm_known_answers() -> None:
    # sorted 0.005, 0.01, 0.03, 0.04 × 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04 → running max 0.06
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.6]) == pytest.approx([1.0, 1.0])  # capped at 1
    assert holm([0.02]) == pytest.approx([0.02])
    out = holm([0.01, float("nan"), 0.02])  # NaN is not a test: m = 2
    assert out[0] == pytest.approx(0.02) and np.isnan(out[1]) and out[2] == pytest.approx(0.02)
    assert holm([]).size == 0


@settings(derandomize=True, database=None, max_examples=40, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=12))
def test_holm_equals_its_definition(p: list[float]) -> None:
    m = len(p)
    order = sorted(range(m), key=lambda k: p[k])
    expected = [0.0] * m
    running = 0.0
    for rank, k in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[k]))
        expected[k] = running
    assert holm(p) == pytest.approx(expected)


@settings(derandomize=True, database=None, max_examples=40, deadline=None)
@given(
    st.lists(st.integers(0, 5), min_size=5, max_size=5), st.lists(st.integers(0, 5), min_size=5, max_size=5)
)
def test_cliffs_delta_equals_counting_pairs(a: list[int], b: list[int]) -> None:
    if not sum(a) or not sum(b):
        return
    x, y = _expand(np.array(a)), _expand(np.array(b))
    greater = (x[:, None] > y[None, :]).sum()
    less = (x[:, None] < y[None, :]).sum()
    assert cliffs_delta(np.array(a), np.array(b)) == pytest.approx((greater - less) / (len(x) * len(y)))


def test_magnitude_labels_follow_romano_2006() -> None:
    assert list(magnitude([0.1, -0.2, 0.4, -0.5, float("nan")])) == [
        "negligible",
        "small",
        "medium",
        "large",
        "",
    ]


def test_pairwise_has_every_pair_and_a_bad_method_is_refused() -> None:
    from egov.errors import EgovError

    table = _frame([[1, 2, 3, 4, 5], [5, 4, 3, 2, 1], [1, 1, 1, 1, 1], [0, 0, 0, 0, 0]])
    got = pairwise(table)
    assert list(zip(got["a"], got["b"], strict=True)) == [("G0", "G1"), ("G0", "G2"), ("G1", "G2")]
    assert (got["p_holm"] >= got["p"]).all()
    with pytest.raises(EgovError, match="dunn or mannwhitney"):
        pairwise(table, "ttest")


# --- from the database and the CLI ---------------------------------------------------------------
REGISTER = {
    "departments": {"D1": {"name": {"en": "D1"}}, "D2": {"name": {"en": "D2"}}, "D3": {"name": {"en": "D3"}}},
    "objects": {
        "APP1": {"name": {"en": "A1"}, "department": "D1", "kind": "application"},
        "APP2": {"name": {"en": "A2"}, "department": "D1", "kind": "application"},
        "APP3": {"name": {"en": "A3"}, "department": "D2", "kind": "application"},
        "APP4": {"name": {"en": "A4"}, "department": "D3", "kind": "application"},
    },
}
DAILY = [  # object, day, n1…n5
    ("APP1", date(2023, 3, 1), [1, 2, 5, 20, 30]),
    ("APP1", date(2023, 3, 2), [0, 1, 4, 10, 20]),
    ("APP2", date(2023, 5, 1), [2, 2, 6, 15, 10]),
    ("APP3", date(2023, 6, 1), [15, 12, 10, 8, 5]),
    ("APP3", date(2024, 1, 5), [0, 0, 0, 0, 40]),  # another period
    ("APP4", date(2023, 7, 1), [1, 0, 1, 1, 1]),  # too few for the default minimum
]


def _load(url: str) -> None:
    from sqlalchemy import text

    from egov.db import init_db, session_scope
    from egov.models import RatingDaily
    from egov.store import ensure_period, load_register

    init_db(url)
    with session_scope(url) as s:
        load_register(s, REGISTER)
        ensure_period(s, "2023", date(2023, 1, 1), date(2023, 12, 31))
        ids = dict(s.execute(text("SELECT code, id FROM assessed_object")).all())
        for obj, day, n in DAILY:
            s.add(RatingDaily(object_id=ids[obj], day=day, **{f"n{k + 1}": v for k, v in enumerate(n)}))


def test_level_counts_are_sql_sums(db_url: str) -> None:
    from egov.db import session_scope

    _load(db_url)
    with session_scope(db_url) as s:
        by_dept = level_counts(s, date(2023, 1, 1), date(2023, 12, 31), "department")
        by_obj = level_counts(s, by="object")
    assert cast(pd.Series, by_dept.loc["D1"]).tolist() == [3, 5, 15, 45, 60]
    assert cast(pd.Series, by_dept.loc["D2"]).tolist() == [15, 12, 10, 8, 5]  # the 2024 day is outside
    assert cast(pd.Series, by_obj.loc["APP3"]).tolist() == [15, 12, 10, 8, 45]
    assert list(by_obj.columns) == LEVEL_COLUMNS and by_obj.dtypes.eq("int64").all()


def test_cli_ratings_compare(use_db: str, egov, tmp_path: Path) -> None:
    _load(use_db)
    r = egov(["ratings", "compare", "--period", "2023", "--out", tmp_path / "st", "--lang", "en"])
    assert r.code == 0, r.err
    assert "D3" in r.out and "left out" in r.out  # 4 ratings < 30
    assert "Kruskal–Wallis across 2 departments" in r.out and "the distributions differ" in r.out
    kw = pd.read_csv(tmp_path / "st" / "kruskal.csv")
    expected = kruskal_wallis([[3, 5, 15, 45, 60], [15, 12, 10, 8, 5]])
    assert kw.loc[0, "h"] == pytest.approx(expected.h) and kw.loc[0, "n"] == 178
    pairs = pd.read_csv(tmp_path / "st" / "pairwise.csv")
    assert cast(pd.Series, pairs.loc[0, ["a", "b"]]).tolist() == ["D1", "D2"]
    assert cast(float, pairs.loc[0, "cliffs_delta"]) > 0.5
    r = egov(
        [
            "ratings",
            "compare",
            "--by",
            "object",
            "--pairwise",
            "mannwhitney",
            "--min-ratings",
            "1",
            "--lang",
            "en",
        ]
    )
    assert r.code == 0 and "Kruskal–Wallis across 4 objects" in r.out, r.err
    r = egov(["ratings", "compare", "--by", "app"])
    assert r.code == 1 and "--by 'app'" in r.err
