"""Issue 14, "ties and numbers" in the engine: one tie tolerance shared by the engine's ranks
and the Monte Carlo's, and the warnings of indicators without data summarised in one line."""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.engine import evaluate
from evaluation.rank import TIE_DECIMALS, rank_desc, tie_key
from evaluation.stages import summarise_warnings
from evaluation.vectorised import rank_rows
from indicators.framework import Framework, build_framework

UNITS = ["u1", "u2", "u3", "u4", "u5", "u6"]


def framework() -> Framework:
    """One category, two dimensions of two indicators each."""

    def names(code: str) -> dict[str, str]:
        return {"zh-Hant": code, "pt": code, "en": code}

    def ind() -> dict[str, object]:
        return {"name": names("x"), "unit": "points", "direction": 1, "rationale": "synthetic"}

    dims = {
        "d1": {"name": names("d1"), "indicators": {"i1": ind(), "i2": ind()}},
        "d2": {"name": names("d2"), "indicators": {"i3": ind(), "i4": ind()}},
    }
    return build_framework(
        {
            "framework": {"code": "ties", "version": "1", "name": names("ties")},
            "categories": {"c1": {"name": names("c1"), "dimensions": dims}},
        },
        origin="ties.toml",
    )


def near_tie_data() -> pd.DataFrame:
    """u1 and u2 have the same values but for i1: 0.3 and 0.1 + 0.2 (0.30000000000000004)."""
    return pd.DataFrame(
        {
            "i1": [0.3, 0.1 + 0.2, 1.0, 0.0, 0.5, 0.7],
            "i2": [5.0, 5.0, 1.0, 2.0, 3.0, 4.0],
            "i3": [2.0, 2.0, 6.0, 1.0, 3.0, 4.0],
            "i4": [7.0, 7.0, 1.0, 9.0, 3.0, 4.0],
        },
        index=pd.Index(UNITS, name="unit"),
    )


def test_one_tie_tolerance_for_the_engine_and_the_monte_carlo() -> None:
    scores = pd.Series([50.0, 50.0 + 1e-12, 40.0, np.nan], index=list("abcd"))
    assert TIE_DECIMALS == 9
    assert rank_desc(scores).tolist()[:3] == [1.0, 1.0, 3.0] and np.isnan(rank_desc(scores)["d"])
    mc = rank_rows(scores.to_numpy()[None, :])[0]
    assert mc[:3].tolist() == [1.0, 1.0, 3.0] and np.isnan(mc[3])
    assert tie_key(scores)["a"] == tie_key(scores)["b"]
    # a real difference in the 9th decimal place still ranks
    assert rank_desc(pd.Series([50.0, 50.000000002])).tolist() == [2.0, 1.0]


def test_scores_equal_to_the_tolerance_share_their_rank_in_the_engine() -> None:
    result = evaluate(near_tie_data(), framework())
    scores = result.scores
    i1 = scores["i1"].reindex(["u1", "u2"]).to_numpy(dtype=float)
    gap = abs(i1[0] - i1[1])
    assert 0 < gap < 10.0**-TIE_DECIMALS
    for node in ("i1", "d1", result.index_code):
        ranks = result.ranks[node].reindex(["u1", "u2"]).to_numpy(dtype=float)
        assert ranks[0] == ranks[1], node
    # the Monte Carlo's ranks of the same scores are the engine's
    np.testing.assert_array_equal(rank_rows(scores.to_numpy().T).T, result.ranks.to_numpy())


def test_indicators_without_data_are_one_note() -> None:
    result = evaluate(near_tie_data().drop(columns=["i3", "i4"]), framework())
    # the engine keeps one warning per indicator and stage (stored with the run) ...
    assert len([w for w in result.warnings if "'i3'" in w]) == 2
    # ... people read one line
    assert result.notes(" in period 2024") == [
        "2 of 4 indicators have no data in period 2024 and are left out of every aggregate: i3, i4"
    ]


def test_the_summary_keeps_other_notes_in_order_once() -> None:
    warnings = [
        "first",
        *[f"indicator 'x{i}': no data column; treated as missing for every unit" for i in range(12)],
        "first",
        *[f"indicator 'x{i}': no values for any unit; left out of every aggregate" for i in range(12)],
        "last",
    ]
    out = summarise_warnings(warnings, 43)
    assert out[0] == "first" and out[-1] == "last" and len(out) == 3
    assert out[1].startswith("12 of 43 indicators have no data and are left out of every aggregate: x0, x1")
    assert out[1].endswith("x9, … (+2 more)")
    one = summarise_warnings(["indicator 'z': no values for any unit; left out of every aggregate"], 5)
    assert one == ["1 of 5 indicators has no data and is left out of every aggregate: z"]
