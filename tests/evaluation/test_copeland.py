"""Copeland aggregation: hand examples, COINr's outranking-matrix definition, missing values,
and the aggregator reached from a framework file. (The ASEM known answer is in
tests/conformance/test_coinr_v3_v4_weights.py.)"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from evaluation.aggregate import AGGREGATORS, aggregate, copeland


def _frame(rows: dict[str, list[float]]) -> pd.DataFrame:
    return pd.DataFrame.from_dict(rows, orient="index", columns=["p", "q"])


def test_copeland_by_hand() -> None:
    values = _frame({"A": [3, 3], "B": [2, 2], "C": [1, 4]})
    # A beats B on both; A and C split (tie); B and C split (tie)
    assert copeland(values, pd.Series([1.0, 1.0], index=["p", "q"])).to_dict() == {"A": 1, "B": -1, "C": 0}
    # q counts double: C now beats A and B
    assert copeland(values, pd.Series([1.0, 2.0], index=["p", "q"])).to_dict() == {"A": 0, "B": -2, "C": 2}
    # only the ratio of the weights matters
    assert copeland(values, pd.Series([10.0, 20.0], index=["p", "q"])).to_dict() == {"A": 0, "B": -2, "C": 2}


def test_equal_values_are_a_tie() -> None:
    values = _frame({"A": [1, 1], "B": [1, 1], "C": [0, 0]})
    assert copeland(values, pd.Series(1.0, index=["p", "q"])).to_dict() == {"A": 1, "B": 1, "C": -2}


def test_missing_values() -> None:
    values = _frame({"A": [3, np.nan], "B": [2, 9], "C": [np.nan, np.nan]})
    out = copeland(values, pd.Series(1.0, index=["p", "q"]))
    # A and B are compared on p only; C has no value and no score, and counts for no one
    assert out["A"] == 1 and out["B"] == -1 and np.isnan(out["C"])


def _coinr(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """COINr outrankMatrix + Copeland count, transcribed literally (no missing values):
    orm[i, j] = sum(w[x_i > x_j]) + sum(w[x_i == x_j]) / 2 with w summing to 1, diag 0;
    score = #(orm > 0.5) - #(orm < 0.5) off the diagonal."""
    w = w / w.sum()
    n = len(x)
    orm = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            if i != j:
                orm[i, j] = w[x[i] > x[j]].sum() + w[x[i] == x[j]].sum() / 2
    off = ~np.eye(n, dtype=bool)
    return ((orm > 0.5 + 1e-12) & off).sum(axis=1) - ((orm < 0.5 - 1e-12) & off).sum(axis=1)


@settings(derandomize=True, database=None, max_examples=60, deadline=None)
@given(
    arrays(np.float64, st.tuples(st.integers(2, 12), st.just(4)), elements=st.integers(0, 5).map(float)),
    arrays(np.float64, 4, elements=st.integers(1, 4).map(float)),
)
def test_matches_coinr_outranking_definition(x: np.ndarray, w: np.ndarray) -> None:
    values = pd.DataFrame(x, columns=list("abcd"))
    out = copeland(values, pd.Series(w, index=list("abcd")))
    np.testing.assert_array_equal(out.to_numpy(), _coinr(x, w))
    n = len(x)
    assert out.sum() == 0  # every win is someone's loss
    assert out.between(-(n - 1), n - 1).all()


def test_registered_and_reachable_from_a_spec() -> None:
    assert "copeland" in AGGREGATORS and AGGREGATORS["copeland"].source
    values = _frame({"A": [3, 3], "B": [2, 2]})
    out = aggregate(values, pd.Series(1.0, index=["p", "q"]), {"method": "copeland"})
    assert out.to_dict() == {"A": 1, "B": -1}


def test_copeland_in_the_engine_from_the_framework_file() -> None:
    from evaluation.engine import evaluate
    from indicators.framework import parse_framework

    fw = parse_framework(
        """
[framework]
code = "cop"
version = "1"
name = { zh-Hant = "C", pt = "C", en = "C" }
[index]
code = "idx"
aggregation = "copeland"
"""
        + "".join(
            f'[categories.{c}]\nname = {{ zh-Hant = "{c}", pt = "{c}", en = "{c}" }}\n'
            f'[categories.{c}.indicators.{c}1]\nname = {{ zh-Hant = "{c}", pt = "{c}", en = "{c}" }}\n'
            'unit = "%"\ndirection = 1\nrationale = "t"\n'
            for c in "abc"
        )
    )
    data = pd.DataFrame(
        {"a1": [1.0, 2.0, 3.0], "b1": [3.0, 2.0, 1.0], "c1": [2.0, 3.0, 1.0]}, index=["u1", "u2", "u3"]
    )
    res = evaluate(data, fw)
    # u2 outranks u1 (wins a1 and c1) and u3 (wins b1 and c1); u1 outranks u3 (wins b1 and c1)
    assert res.scores["idx"].to_dict() == {"u1": 0.0, "u2": 2.0, "u3": -2.0}
    assert res.ranks["idx"].to_dict() == {"u1": 2.0, "u2": 1.0, "u3": 3.0}
