"""Every stage's method registry in one place, with the defaults a framework starts from.

The framework loader and the spec loader validate method specs against these registries;
the engine looks methods up here. A stage not configured anywhere uses `DEFAULTS`.
"""

from __future__ import annotations

from typing import Any

from evaluation.aggregate import AGGREGATORS, ROLLUPS
from evaluation.denominate import DENOMINATIONS
from evaluation.impute import IMPUTERS
from evaluation.methods import Method, check_method
from evaluation.normalise import NORMALISERS
from evaluation.treat import TREATMENTS
from evaluation.weights import WEIGHTINGS

STAGES: dict[str, dict[str, Method]] = {
    "denomination": DENOMINATIONS,
    "imputation": IMPUTERS,
    "treatment": TREATMENTS,
    "normalisation": NORMALISERS,
    "weighting": WEIGHTINGS,
    "aggregation": AGGREGATORS,
    "rollup": ROLLUPS,
}
STAGE_NAMES = {
    "denomination": "denomination",
    "imputation": "imputation",
    "treatment": "outlier treatment",
    "normalisation": "normalisation",
    "weighting": "weighting",
    "aggregation": "aggregation",
    "rollup": "roll-up",
}
INDICATOR_STAGES = ("denomination", "imputation", "treatment", "normalisation")
AGGREGATE_STAGES = ("weighting", "aggregation")

DEFAULTS: dict[str, dict[str, Any]] = {
    "denomination": {"method": "none"},
    "imputation": {"method": "none"},
    "treatment": {"method": "none"},
    "normalisation": {"method": "minmax", "lower": 0.0, "upper": 100.0},
    "weighting": {"method": "manual"},
    "aggregation": {"method": "arithmetic"},
    "rollup": {"method": "mean"},
}


def check_stage(stage: str, value: Any) -> tuple[dict[str, Any] | None, list[tuple[str, str]]]:
    """Validate a method spec of `stage`; see `evaluation.methods.check_method`."""
    return check_method(value, STAGES[stage], STAGE_NAMES[stage])


def check_fraction(value: Any) -> str | None:
    """A data-availability threshold: a number in [0, 1]."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"must be a number between 0 and 1, not {value!r}"
    return None if 0 <= value <= 1 else "must be between 0 and 1"


def check_category_count(value: Any, categories: int) -> str | None:
    """`[index] min_categories`: how many categories an entity must be scored on to be
    ranked overall, a whole number from 1 to the number of categories."""
    if isinstance(value, bool) or not isinstance(value, int):
        return f"must be a whole number of categories, not {value!r}"
    top = max(categories, 1)
    return None if 1 <= value <= top else f"must be between 1 and {top} (the number of categories)"


def check_screening(value: Any) -> tuple[dict[str, Any] | None, list[tuple[str, str]]]:
    """`screening = { min_coverage = 0.9 }`: drop units with less data than that share."""
    if not isinstance(value, dict):
        return None, [("", "must be a table such as { min_coverage = 0.9 }")]
    problems = [(k, "unknown key (allowed: min_coverage)") for k in value if k != "min_coverage"]
    cov = value.get("min_coverage", 0.0)
    msg = check_fraction(cov)
    if msg:
        problems.append(("min_coverage", msg))
    if problems:
        return None, problems
    return {"min_coverage": float(cov)}, []
