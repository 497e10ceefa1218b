"""`priorities_all` (evaluation/priorities.py): every department's priorities in one pass
give the tables of `priorities` called department by department (known answer:
the per-department computation; bit for bit with arithmetic aggregation, to 1e-9 otherwise), on a small world with peer groups too small to count,
a department without a peer group, missing values, ties, and aggregations that are unit by
unit (the one-pass path) or compare units (Copeland: the per-department path)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.engine import evaluate
from evaluation.priorities import priorities, priorities_all
from indicators.framework import parse_framework
from tests.evaluation.test_compare import framework_toml


def small_world(seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """24 departments of 1–3 objects; peer groups G1 (10), G2 (8), G3 (2: too small), none (4);
    values on a 10-point grid (ties) with some missing, and an object with none of x."""
    rng = np.random.default_rng(seed)
    groups = ["G1"] * 10 + ["G2"] * 8 + ["G3"] * 2 + [None] * 4
    rows = []
    for d, group in enumerate(groups):
        for o in range(int(rng.integers(1, 4))):
            rows.append({"unit": f"u{d}_{o}", "department": f"D{d:02d}", "peer_group": group})
    units = pd.DataFrame(rows).set_index("unit")
    data = pd.DataFrame(
        rng.integers(0, 11, size=(len(units), 4)) * 10.0, index=units.index, columns=["x", "y", "z", "w"]
    )
    data = data.mask(rng.random(data.shape) < 0.15).clip(lower=1.0)
    data.loc[units.index[units["department"] == "D03"], "x"] = np.nan  # D03 has no value of x
    return units, data


@pytest.mark.parametrize("aggregation", ["arithmetic", "geometric", "copeland"])
@pytest.mark.parametrize(("step", "within"), [("median", None), ("next", None), ("median", "all")])
def test_priorities_all_equals_priorities_department_by_department(
    aggregation: str, step: str, within: str | None
) -> None:
    fw = parse_framework(framework_toml(c1_weight=2, aggregation=aggregation))
    units, data = small_world()
    result = evaluate(data, fw, units=units)
    assert result.department_scores is not None
    everyone = priorities_all(result, step, framework=fw, within=within)  # type: ignore[arg-type]
    assert sorted(everyone) == sorted(map(str, result.department_scores.index))
    moved = 0
    for department, table in everyone.items():
        one = priorities(result, department, step, framework=fw, within=within)  # type: ignore[arg-type]
        if aggregation == "arithmetic":  # the same arithmetic, bit for bit
            pd.testing.assert_frame_equal(table, one, check_exact=True)
        else:  # numpy's log and power on a longer array may round the last bits differently
            pd.testing.assert_frame_equal(table, one, check_exact=False, rtol=0, atol=1e-9)
        moved += int((one["step"] > 0).sum()) if len(one) else 0
    assert moved > 20  # the world has steps to take, not only departments at the target


def test_priorities_all_checks_its_arguments() -> None:
    from egov.errors import EgovError

    fw = parse_framework(framework_toml())
    units, data = small_world()
    result = evaluate(data, fw, units=units)
    with pytest.raises(EgovError, match="step"):
        priorities_all(result, "mean", framework=fw)  # type: ignore[arg-type]
    with pytest.raises(EgovError, match="within"):
        priorities_all(result, "median", framework=fw, within="some")  # type: ignore[arg-type]
