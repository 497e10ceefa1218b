"""Comparisons between periods on one scale: every period's scores re-made on a common scale,
and the change between two evaluations on it.

Min-max normalisation runs per period: a department can improve in absolute terms and lose
score because another improved more, or because that period's worst value moved. A change
between periods is a performance change only when both periods are scored on one scale. The
framework's `[index] trend_scale` chooses it (`indicators.model.TREND_SCALES`):

- `pooled` (default): an indicator whose normalisation does not depend on the other values
  (fixed `goalposts`, or `none`) keeps it; every other indicator is min-max scaled over the
  pooled values of all the periods compared (its own `lower`/`upper` when it uses min-max,
  else 0–100), so each period's values are placed between one minimum and one maximum.
  DESI makes its editions comparable the same way: the DESI 2022 workbook scales all six
  editions (y1..y6) between one pair of goalposts per indicator, and its metadata gives
  beside them the actual minimum and maximum of the six editions pooled
  (/work/shared/reference/desi2022; tests/conformance/test_desi2022.py).
- `goalposts`: every indicator has fixed goalposts (the loader checks it); each period's
  own scores are already on the common scale.

The re-scaled normalised values are re-aggregated with each period's own weights and methods
(`evaluation.structure.reaggregate`) and re-ranked (`evaluation.engine.reranked`). Periods
evaluated with different frameworks or specs have no common scale: `common_scale` refuses
them, and `comparable_change` labels their change as not a performance change.

Pure: no database, file or HTTP access.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from egov.errors import EgovError
from evaluation.change import Change, change
from evaluation.engine import EvaluationResult, reranked
from evaluation.normalise import minmax
from evaluation.rank import rank_desc
from evaluation.spec import EvaluationSpec
from evaluation.stages import StageResolver
from evaluation.structure import reaggregate
from indicators.framework import Framework
from indicators.model import FIXED_NORMALISATIONS

__all__ = ["NOT_COMPARABLE", "CommonScale", "common_scale", "comparable_change", "same_method"]

NOT_COMPARABLE = (
    "not comparable: the two evaluations use different methods (framework or spec), so their "
    "scores are on different scales and the difference is not a performance change"
)


@dataclass
class CommonScale:
    """The periods compared, each re-scored on one scale (see `common_scale`)."""

    results: list[EvaluationResult]  # in the order given, scores and ranks on the common scale
    scale: str  # the framework's trend_scale: "pooled" or "goalposts"
    # one row per indicator: rule ("fixed": goalposts or none, kept; "pooled"), pooled_min and
    # pooled_max (the pooled values' range in the indicator's unit)
    rules: pd.DataFrame

    def describe(self) -> str:
        """One line naming the scale, for a person."""
        fixed = int((self.rules["rule"] == "fixed").sum()) if len(self.rules) else 0
        pooled = len(self.rules) - fixed
        n = len(self.results)
        if pooled == 0:
            return f"common scale: fixed goalposts for all {_count(fixed)}"
        return (
            f"common scale: fixed goalposts for {_count(fixed)}, min-max over the pooled values of "
            f"the {n} periods compared for {pooled}"
        )


def _count(n: int) -> str:
    return f"{n} indicator" if n == 1 else f"{n} indicators"


def same_method(results: Sequence[EvaluationResult]) -> bool:
    """Whether the evaluations share one framework (content hash) and one spec."""
    return all(r.framework_hash == results[0].framework_hash and r.spec == results[0].spec for r in results)


def common_scale(results: Sequence[EvaluationResult], framework: Framework) -> CommonScale:
    """Every evaluation of `results` (periods of one framework and spec, any order) re-scored
    on one scale (module docstring): indicators with fixed goalposts keep their scores, the
    others are min-max scaled over the values of all `results` pooled (treated values, after
    the direction), then every aggregate, the roll-up and the ranks are recomputed with each
    period's weights. Raises EgovError when the methods differ or `framework` is not the one
    that made them."""
    if not results:
        raise EgovError("no evaluations to put on a common scale")
    if not same_method(results):
        raise EgovError(NOT_COMPARABLE)
    if framework.content_hash != results[0].framework_hash:
        raise EgovError(
            f"framework {framework.code} {framework.version} is not the one that made these evaluations"
        )
    res = StageResolver(framework, EvaluationSpec(**results[0].spec))
    normalised = [r.normalised.copy() for r in results]
    rows: list[dict[str, Any]] = []
    for node in framework.indicators:
        spec = res.indicator(node.code, "normalisation")
        if str(spec["method"]) in FIXED_NORMALISATIONS:
            rows.append({"indicator": node.code, "rule": "fixed", "pooled_min": None, "pooled_max": None})
            continue
        _pool(node.code, node.direction, spec, results, normalised, rows)
    if framework.scale_of_trends == "goalposts" and any(r["rule"] == "pooled" for r in rows):
        raise EgovError('trend_scale = "goalposts" but some indicators have no fixed goalposts')
    rescored = [_rescored(r, framework, n) for r, n in zip(results, normalised, strict=True)]
    rules = pd.DataFrame(rows, columns=["indicator", "rule", "pooled_min", "pooled_max"])
    return CommonScale(rescored, framework.scale_of_trends, rules)


def _pool(
    code: str,
    direction: int,
    spec: dict[str, Any],
    results: Sequence[EvaluationResult],
    normalised: list[pd.DataFrame],
    rows: list[dict[str, Any]],
) -> None:
    """Min-max scale indicator `code` over the treated values of every period pooled; write
    each period's values into its `normalised` table and the rule into `rows`."""
    parts = [r.treated[code].dropna() for r in results]
    pooled = pd.concat(parts, keys=range(len(parts)))
    lower, upper = (spec["lower"], spec["upper"]) if spec["method"] == "minmax" else (0.0, 100.0)
    z = minmax(pooled, direction=direction, lower=lower, upper=upper) if len(pooled) else pooled
    for i, part in enumerate(parts):
        normalised[i][code] = float("nan")
        if len(part):
            normalised[i].loc[part.index, code] = z.xs(i).to_numpy()
    rows.append(
        {
            "indicator": code,
            "rule": "pooled",
            "pooled_min": float(pooled.min()) if len(pooled) else None,
            "pooled_max": float(pooled.max()) if len(pooled) else None,
        }
    )


def _rescored(result: EvaluationResult, framework: Framework, normalised: pd.DataFrame) -> EvaluationResult:
    """`result` with `normalised` and everything aggregated and ranked from it."""
    scores, dept = reaggregate(result, framework, normalised)
    out = replace(result, normalised=normalised, scores=scores, department_scores=dept)
    return reranked(out, rank_desc)


def comparable_change(
    previous: EvaluationResult,
    current: EvaluationResult,
    framework: Framework,
    **swapped: EvaluationResult | None,
) -> tuple[Change, CommonScale | None]:
    """The change between two evaluations (`evaluation.change.change`) on one scale: with one
    framework and spec, both re-scored by `common_scale` (`framework`: the one that made
    them) and the change's `scale` names it; with different methods, the change of the
    evaluations as they are, with `swapped` (the data/method split), its `scale` saying it is
    `NOT_COMPARABLE`. Returns (change, the common scale or None)."""
    if not same_method([previous, current]):
        ch = change(previous, current, **swapped)
        ch.scale = NOT_COMPARABLE
        return ch, None
    cs = common_scale([previous, current], framework)
    ch = change(cs.results[0], cs.results[1])
    ch.scale = cs.describe()
    return ch, cs
