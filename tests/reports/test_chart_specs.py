"""Templated chart specs (reports/chart_specs.py): `ranking_spec` and `category_spec`, filled
from a template built once, equal the spec altair builds for the same chart
(`ranking_chart(…).to_dict()`), whatever the rows, their number, the highlighted label
(quotes, backslashes, none) and the intervals; the filled spec validates against Vega-Lite's
schema."""

from __future__ import annotations

import json
from typing import Any

import altair as alt
import numpy as np
import pandas as pd
import pytest

from reports.charts import category_chart, category_spec, ranking_chart, ranking_spec

LABELS = ['Dept "A"', "Dept \\ B", "Serviço Ç", "部門 D", "E </script>", "F", "G"]


def _named(spec: dict[str, Any]) -> str:
    """The spec as JSON with its one dataset's name (a hash of the data) made neutral."""
    text = json.dumps(spec, sort_keys=True, default=str)
    for name in spec.get("datasets", {}):
        text = text.replace(name, "DATA")
    return text


def _ranking(n: int, intervals: bool, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    score = rng.uniform(20, 90, n).round(1)
    df = pd.DataFrame({"label": LABELS[:n], "score": score})
    df["rank"] = df["score"].rank(ascending=False, method="min")
    if intervals:
        df["score_p05"], df["score_p95"] = score - 5, score + 5
        df["rank_p05"], df["rank_p95"] = 1.0, float(n)
        df.loc[1, ["score_p05", "score_p95"]] = np.nan  # a department without an interval
    return df


@pytest.mark.parametrize("intervals", [True, False])
@pytest.mark.parametrize("lang", ["en", "zh-Hant"])
def test_ranking_spec_equals_the_chart_altair_builds(intervals: bool, lang: str) -> None:
    for seed, (n, highlight) in enumerate(
        [(7, LABELS[0]), (5, LABELS[1]), (7, None), (4, LABELS[4]), (6, "F")]
    ):
        df = _ranking(n, intervals, seed)
        spec = ranking_spec(df, lang, highlight=highlight)
        built = ranking_chart(df, lang, highlight=highlight).to_dict(validate=False)
        assert _named(spec) == _named(built)
    alt.Chart.from_dict(spec, validate=True)  # the filled spec is valid Vega-Lite


def test_category_spec_equals_the_chart_altair_builds() -> None:
    cats = ["Cat 1", "Cat 2", "Cat 3"]
    for n, highlight in [(4, LABELS[0]), (3, LABELS[2]), (4, None), (2, LABELS[1])]:
        frame = pd.DataFrame(
            [
                {"label": label, "category": c, "score": 10.0 * i + j}
                for i, label in enumerate(LABELS[:n])
                for j, c in enumerate(cats)
            ]
        )
        frame.loc[0, "score"] = np.nan
        order = list(reversed(LABELS[:n]))
        spec = category_spec(frame, "pt", order=order, y_title="Série", highlight=highlight)
        built = category_chart(frame, "pt", order=order, y_title="Série", highlight=highlight)
        assert _named(spec) == _named(built.to_dict(validate=False))
    alt.Chart.from_dict(spec, validate=True)
