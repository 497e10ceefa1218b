"""`evaluation.compare.standing_all`: every department's indicator standing in one
pass equals `evaluation.compare.indicator_standing` department by department, bit for bit
(known answer), on a small world with peer groups too small to count, departments without a
peer group, missing values and ties."""

from __future__ import annotations

import pandas as pd
import pytest

from evaluation.compare import indicator_standing, standing_all
from evaluation.engine import evaluate
from indicators.framework import parse_framework
from tests.evaluation.test_compare import framework_toml
from tests.evaluation.test_priorities_all import small_world


@pytest.mark.parametrize("seed", [3, 11])
def test_standing_all_equals_indicator_standing_department_by_department(seed: int) -> None:
    fw = parse_framework(framework_toml(c1_weight=2))
    units, data = small_world(seed)
    result = evaluate(data, fw, units=units)
    assert result.department_scores is not None
    everyone = standing_all(result, fw)
    assert sorted(everyone) == sorted(map(str, result.department_scores.index))
    fallbacks = 0
    for department, table in everyone.items():
        one = indicator_standing(result, department, framework=fw)
        pd.testing.assert_frame_equal(table, one, check_exact=True)
        fallbacks += int(one["peer_fallback"].sum())
    assert fallbacks > 0  # G3 is too small: its departments are compared with everyone
