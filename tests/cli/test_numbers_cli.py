"""Issue 14, output hygiene on the Macau demo: ranks are integers in every CSV file, a
partial period gives one summary note instead of two notes per missing indicator, and
arguments (departments, indicators) are checked before any output, an unknown one exiting 1
with a message."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text

from egov.db import get_engine
from tests.helpers.demo import DemoBuild

INDICATORS = [
    "app_registered_users",
    "app_completion",
    "app_cost_per_txn",
    "app_digital_docs",
    "mgmt_api_share",
    "mgmt_datasets",
]


def rank_cells(path: Path, index: bool = True) -> list[str]:
    """Every cell of the rank columns (a label with the word rank) of a CSV file, as text."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    columns = [c for c in table.columns if "rank" in c.lower().replace("_", " ").split()]
    assert columns, path
    return [str(v) for c in columns for v in table[c]]


def assert_integer_ranks(path: Path, some: bool = True) -> None:
    cells = rank_cells(path)
    assert all(v == "" or v.lstrip("-").isdigit() for v in cells), (path.name, sorted(set(cells))[:10])
    assert any(v for v in cells) or not some


@pytest.mark.slow
def test_the_demo_writes_ranks_as_integers(demo_build: DemoBuild) -> None:
    for name in ("department_ranking.csv", "department_scores.csv", "object_scores.csv", "results_long.csv"):
        assert_integer_ranks(demo_build.out / name)


def import_partial_period(url: str, folder: Path, egov) -> None:
    """Period 2024 with values of 6 of the 53 indicators only (those of 2023)."""
    with get_engine(url).connect() as conn:
        rows = conn.execute(
            text(
                "SELECT o.code, m.indicator, m.value FROM metric_value m "
                "JOIN assessed_object o ON o.id = m.object_id JOIN period p ON p.id = m.period_id "
                "WHERE p.code = '2023' AND m.superseded_at IS NULL AND m.indicator IN "
                f"({', '.join(repr(i) for i in INDICATORS)})"
            )
        ).all()
    path = folder / "p2024.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["object", "indicator", "value"])
        w.writerows(rows)
    r = egov(["import", "metrics", path, "--period", "2024"])
    assert r.code == 0, r.err


def notes(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("note:")]


def assert_one_summary(lines: list[str], where: str) -> None:
    summary = [n for n in lines if "indicators have no data" in n]
    assert len(summary) == 1, lines
    assert summary[0].startswith(f"note: 47 of 53 indicators have no data{where} and are left out")
    assert "infra_uptime" in summary[0] and "(+37 more)" in summary[0]
    assert not [n for n in lines if "no data column" in n or "no values for any unit" in n]
    assert len(lines) == len(set(lines))


@pytest.mark.slow
def test_a_partial_period_gives_one_summary_note(demo_url: str, egov, tmp_path: Path) -> None:
    import_partial_period(demo_url, tmp_path, egov)
    r = egov(["score", "--period", "2024", "--lang", "en"])
    assert r.code == 0, r.err
    assert_one_summary(notes(r.out), " in period 2024")
    assert len(notes(r.out)) <= 3  # objects without data, the indicators, the ratings

    r = egov(["uncertainty", "--n", "20", "--sensitivity-n", "0", "--out", tmp_path / "u", "--lang", "en"])
    assert r.code == 0, r.err
    assert_one_summary(notes(r.out), "")
    # with 6 of 43 indicators no department is scored on 2 of the 3 categories the Macau
    # rule asks for: none has an overall rank, nor a rank interval (issue 14)
    assert_integer_ranks(tmp_path / "u" / "uncertainty_summary.csv", some=False)
    draws = (tmp_path / "u" / "uncertainty_ranks.csv").read_text(encoding="utf-8").splitlines()
    assert "." not in "".join(draws[1:])

    r = egov(["report", "latest", "--out", tmp_path / "rep", "--lang", "en", "--mc", "0"])
    assert r.code == 0, r.err
    page = next((tmp_path / "rep").glob("*.html")).read_text(encoding="utf-8")
    assert page.count("indicators have no data") == 1 and "no data column" not in page

    r = egov(["change", "--out", tmp_path / "change.csv"])
    assert r.code == 0, r.err
    assert_integer_ranks(tmp_path / "change.csv")


@pytest.mark.slow
def test_change_checks_the_department_before_any_output(demo_url: str, egov) -> None:
    r = egov(["change", "--department", "XYZ"])
    assert r.code == 1 and "unknown department 'XYZ'" in r.err
    assert r.out == "" and "Traceback" not in r.err


@pytest.mark.slow
def test_an_unknown_indicator_in_the_history_exits_1(demo_url: str, egov) -> None:
    r = egov(["metrics", "history", "ONE_ACCOUNT", "nope"])
    assert r.code == 1 and "unknown indicator 'nope'" in r.err and r.out == ""
    r = egov(["metrics", "history", "ONE_ACCOUNT", "app_takeup", "--lang", "en"])
    assert r.code == 0 and "History of ONE_ACCOUNT / app_takeup" in r.out


@pytest.mark.slow
def test_unknown_codes_exit_1_with_a_message(demo_url: str, egov) -> None:
    for args in (
        ["gaps", "XYZ"],
        ["priorities", "XYZ"],
        ["compare", "SAFP", "XYZ"],
        ["rank", "--node", "nope"],
    ):
        r = egov(args)
        assert r.code == 1 and "unknown" in r.err and r.out == "", args
