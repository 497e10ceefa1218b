"""evaluation.structure.source_share: the share of each department's index that indicators
of one source (citizen ratings) carry, on a small hand-made framework.

The framework: index = c1 (weight 3) and c2 (weight 1); c1 = d1 (weight 2: r from ratings
and x, weight 1 each) and d2 (weight 1: z); c2 = w. Normalisation `none`.

By hand (each department's own categories, dimensions and indicators renormalised):
- P (objects p1, p2; p2 has no rating): c1 carries 3/4, each object 1/2 of it, r carries
  1/2 of d1's 2/3 of p1's c1: 3/4 × 1/2 × 1/3 = 1/8;
- Q (q1, no c2 value): c1 is all of Q's index: 1 × 1 × 1/3 = 1/3;
- R (r1, no rating): 0;
- S (s1, only c2): 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.engine import evaluate
from evaluation.structure import source_share
from indicators.framework import parse_framework


def name(code: str) -> str:
    return f"name = {{ zh-Hant = '{code}', pt = '{code}', en = '{code}' }}\n"


def ind(path: str, code: str, source: str = "metric") -> str:
    measure = "measure = 'share_satisfied'\n" if source == "rating" else ""
    return (
        f"[{path}.indicators.{code}]\n{name(code)}unit = '%'\ndirection = 1\n"
        f"source = '{source}'\n{measure}rationale = 'test'\n"
    )


TOML = (
    "[framework]\ncode = 'share'\nversion = '1'\n"
    + name("Source share test")
    + "[methods]\nnormalisation = { method = 'none' }\n"
    + f"[categories.c1]\n{name('c1')}weight = 3\n"
    + f"[categories.c1.dimensions.d1]\n{name('d1')}weight = 2\n"
    + ind("categories.c1.dimensions.d1", "r", "rating")
    + ind("categories.c1.dimensions.d1", "x")
    + f"[categories.c1.dimensions.d2]\n{name('d2')}"
    + ind("categories.c1.dimensions.d2", "z")
    + f"[categories.c2]\n{name('c2')}"
    + f"[categories.c2.dimensions.d3]\n{name('d3')}"
    + ind("categories.c2.dimensions.d3", "w")
)

UNITS = pd.DataFrame(
    {"department": ["P", "P", "Q", "R", "S"]},
    index=pd.Index(["p1", "p2", "q1", "r1", "s1"], name="unit"),
)
NAN = np.nan
DATA = pd.DataFrame(
    {
        "r": [80.0, NAN, 60.0, NAN, NAN],
        "x": [50.0, 40.0, 30.0, 20.0, NAN],
        "z": [70.0, 10.0, 90.0, 40.0, NAN],
        "w": [20.0, 30.0, NAN, 50.0, 60.0],
    },
    index=UNITS.index,
)


def test_the_share_ratings_carry_is_the_hand_computed_one() -> None:
    fw = parse_framework(TOML)
    result = evaluate(DATA, fw, units=UNITS)
    share = source_share(result, fw)
    assert share.to_dict() == pytest.approx({"P": 1 / 8, "Q": 1 / 3, "R": 0.0, "S": 0.0})
    # the metric indicators carry the rest of every department's index
    assert (share + source_share(result, fw, "metric")).to_dict() == pytest.approx(dict.fromkeys("PQRS", 1.0))
