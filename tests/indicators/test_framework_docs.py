"""docs/framework-format.md cannot go stale: its example loads and evaluates, and every key
the loader accepts is described."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from evaluation.engine import evaluate
from evaluation.registry import STAGES
from indicators.framework import Framework, parse_framework
from indicators.loader import (
    AGGREGATE_KEYS,
    FRAMEWORK_KEYS,
    INDEX_KEYS,
    INDICATOR_KEYS,
    METHODS_KEYS,
    TOP_KEYS,
)
from indicators.writer import framework_to_toml

DOC = Path(__file__).resolve().parents[2] / "docs" / "framework-format.md"


@pytest.fixture(scope="module")
def doc() -> str:
    return DOC.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def example(doc: str) -> Framework:
    blocks = re.findall(r"```toml\n(.*?)```", doc, flags=re.S)
    full = [b for b in blocks if "[framework]" in b]
    assert len(full) == 1, "the page should hold one complete example"
    return parse_framework(full[0], origin="docs/framework-format.md")


def test_every_key_is_described(doc: str) -> None:
    for table in TOP_KEYS:
        assert f"`[{table}]`" in doc or f"`[{table}.CODE]`" in doc, f"table [{table}] is not described"
    for key in FRAMEWORK_KEYS | INDEX_KEYS | METHODS_KEYS | AGGREGATE_KEYS | INDICATOR_KEYS:
        assert f"`{key}`" in doc, f"key `{key}` is not described in {DOC.name}"
    for stage in STAGES:
        assert f"`{stage}`" in doc
    assert "(methods.md)" in doc  # the methods themselves are documented there


def test_the_example_uses_every_table_and_round_trips(example: Framework) -> None:
    assert example.index_code == "egov_index"
    assert example.screening == {"min_coverage": 0.5}
    assert example.method_of("availability", "aggregation") == {"method": "generalised", "p": 0.5}
    assert example.min_coverage_of("availability") == 1.0
    assert example.method_of("uptake", "weighting") == {"method": "equal"}
    assert example.nodes["active_users"].denominator == "population"
    assert example.method_of("mttr", "normalisation") == example.default("normalisation")
    assert parse_framework(framework_to_toml(example)).content_hash == example.content_hash


def test_the_example_evaluates(example: Framework) -> None:
    data = pd.DataFrame(
        {
            "uptime": [99.9, 99.5, 98.0, None, None, None],
            "mttr": [2.0, 4.0, 8.0, None, None, None],
            "active_users": [None, None, None, 300.0, None, 120.0],
            "csat": [None, None, None, 80.0, 70.0, 90.0],
        },
        index=pd.Index([f"o{i}" for i in range(1, 7)], name="unit"),
    )
    units = pd.DataFrame(
        {
            "kind": ["infrastructure"] * 3 + ["application"] * 3,
            "department": ["D1", "D2", "D3", "D1", "D2", "D3"],
            "peer_group": ["a", "a", "b", "a", "a", "b"],
            "population": [1.0, 1.0, 1.0, 600_000.0, 200_000.0, 100_000.0],
        },
        index=data.index,
    )
    result = evaluate(data, example, units=units)
    # per 1,000 residents: 300 / 600,000 · 1000 = 0.5; 120 / 100,000 · 1000 = 1.2
    assert result.denominated.loc["o4", "active_users"] == pytest.approx(0.5)
    assert result.denominated.loc["o6", "active_users"] == pytest.approx(1.2)
    # o5's missing value is the mean of its peer group "a" (o4 only)
    assert result.imputed.loc["o5", "active_users"] == pytest.approx(0.5)
    assert result.flags().loc["o5", "active_users"] == "imputed"
    # goalposts: 99.5 % is half-way from 99 to 100; 98 % is below 99 and scores 0
    assert result.normalised.loc["o2", "uptime"] == pytest.approx(50.0)
    assert result.normalised.loc["o3", "uptime"] == pytest.approx(0.0)
    assert result.flags().loc["o1", "csat"] == "n/a"
    assert result.department_scores is not None
    assert set(result.department_scores.index) == {"D1", "D2", "D3"}
