"""Issue 14, point 2: a department's standing on an indicator in its own units. The department
report, `egov gaps`, `egov priorities`, `egov compare` and the web page show the value with
its unit and the 0–100 score beside it, and the medians and bests as values; they name whom
to learn from; strengths are above the peer median and weaknesses below it, never both; a
peer group of fewer than 3 departments with a score falls back to all departments and says
so. On the session's demo (tests/conftest.py: `demo_build`, `demo_url`, `department_template`)."""

from __future__ import annotations

import html as htmlmod
import math
import re
from pathlib import Path
from typing import Any

import pytest

from evaluation.compare import (
    MIN_PEERS,
    NO_GROUP,
    gaps,
    head_to_head,
    indicator_standing,
    priorities,
    strengths_weaknesses,
)
from indicators.framework import builtin_path, load_framework
from reports.i18n import LANGS, UNITS, unit_label, value_text
from tests.helpers.demo import DemoBuild
from tests.helpers.department_db import DemoDb, serving


def _f(x: Any) -> float:
    """A pandas scalar as a float (pandas-stubs type cells loosely)."""
    return float(x)


def _text(page: str) -> str:
    """The visible text of a page (scripts and styles removed, tags as " | ")."""
    page = re.sub(r"<(script|style)\b.*?</\1>", "", page, flags=re.S)
    return htmlmod.unescape(re.sub(r"\s*(<[^>]+>\s*)+", " | ", page))


def _row(page: str, label: str, after: str = "") -> str:
    """The text of the first table row of `page` (after the heading `after`) whose cells
    include `label`."""
    page = page[page.index(f"<h2>{after}</h2>") :] if after else page
    for row in re.findall(r"<tr>.*?</tr>", page, flags=re.S):
        text = _text(row)
        if f"| {label} |" in text:
            return text
    raise AssertionError(f"no row {label!r}")


def _stored(url: str) -> Any:
    from egov.analysis import load_stored_run
    from egov.db import session_scope

    with session_scope(url) as s:
        return load_stored_run(s, None)


def _safp_datasets(url: str) -> float:
    """SAFP's open data sets (its administrative object's value) in the latest run."""
    result = _stored(url).result
    return float(result.denominated.loc[result.units["department"] == "SAFP", "mgmt_datasets"].mean())


@pytest.fixture(scope="module")
def stored(demo_build: DemoBuild) -> Any:
    """The demo's latest run recomputed, with its framework (read only)."""
    return _stored(demo_build.url)


def _comparison_median(result: Any, department: str, indicator: str) -> float:
    """The median the department is compared with, computed here independently: its peer
    group's when at least 3 of it have a score, else all departments'."""
    scores = result.department_scores[indicator].dropna()
    groups = result.units.groupby("department")["peer_group"].first()
    mine = scores[scores.index.isin(groups.index[groups == groups[department]])]
    return float((mine if len(mine) >= 3 else scores).median())


# --- the department report ----------------------------------------------------------------------
def test_safp_report_shows_data_sets_as_a_count_and_uptime_in_percent(
    demo_build: DemoBuild, stored: Any
) -> None:
    page = (demo_build.out / "department-SAFP.html").read_text(encoding="utf-8")
    fw = stored.framework
    # open data is a department attribute, on its one administrative object (the demo leaves 3 %
    # of values missing at random: the first department that has one)
    res = stored.result
    counts = res.denominated["mgmt_datasets"].groupby(res.units["department"]).count()
    dept = str(counts[counts == 1].index[0])
    own = (demo_build.out / f"department-{dept}.html").read_text(encoding="utf-8")
    datasets = _row(own, fw.nodes["mgmt_datasets"].label("en"), after="Every indicator")
    score = res.department_scores.at[dept, "mgmt_datasets"]
    values = res.denominated.loc[res.units["department"] == dept, "mgmt_datasets"]
    assert f"{value_text(values.mean(), 'count', 'en')} ({score:.1f})" in datasets  # value, score beside
    uptime = _row(page, fw.nodes["infra_uptime"].label("en"), after="Every indicator")
    assert re.search(r"\b99\.\d+%", uptime), uptime
    assert f"({stored.result.department_scores.at['SAFP', 'infra_uptime']:.1f})" in uptime
    hours = _row(page, fw.nodes["sec_incident_response"].label("en"), after="Every indicator")
    own = stored.result.denominated.at["CYBER_SUPERVISOR_PUBLIC", "sec_incident_response"]
    assert f"Cybersecurity supervisory entity for public operators: {value_text(own, 'hours', 'en')}" in hours


def test_report_names_whom_to_learn_from(demo_build: DemoBuild, stored: Any) -> None:
    page = (demo_build.out / "department-SAFP.html").read_text(encoding="utf-8")
    assert "Learn from" in page
    scores = stored.result.department_scores["infra_uptime"].dropna()
    best = str(scores.idxmax())
    row = _row(page, stored.framework.nodes["infra_uptime"].label("en"), after="Every indicator")
    assert f"({best})" in row


def test_a_peer_group_of_one_falls_back_to_all_departments_with_a_note(demo_build: DemoBuild) -> None:
    # SAFP is the only department of its peer group (administration_justice) with infrastructure
    page = (demo_build.out / "department-SAFP.html").read_text(encoding="utf-8")
    text = _text(page)
    assert not re.search(r"\b1 of 1\b", text)
    assert "fewer than 3 departments of the peer group have a score" in text
    assert "(all departments)" in _row(page, "Infrastructure")


@pytest.mark.slow
def test_report_in_every_language_has_units(department_template: DemoDb, tmp_path: Path) -> None:
    from egov.db import dispose_engines, session_scope
    from egov.store import get_run
    from reports.department import department_report, render_department_report

    db = department_template.copy(tmp_path / "egov.db")
    with session_scope(db.url) as s:
        rep = department_report(s, get_run(s, db.runs["2023"]), "SAFP")
    dispose_engines()
    datasets = _safp_datasets(db.url)
    words = {"zh-Hant": ("小時", "學習對象"), "pt": ("horas", "Aprender com"), "en": ("hours", "Learn from")}
    for lang, (hours, learn) in words.items():
        text = _text(render_department_report(rep, lang))
        assert hours in text and learn in text and value_text(datasets, "count", lang) in text, lang


def test_web_department_page_shows_values_in_units(department_template: DemoDb, tmp_path: Path) -> None:
    db = department_template.copy(tmp_path / "egov.db")
    with serving(db, tmp_path) as client:
        r = client.get(
            "/reports/latest/departments/SAFP?lang=zh-Hant",
            headers={"Authorization": f"Bearer {db.keys['department']}"},
        )
    assert r.status_code == 200
    text = _text(r.text)
    datasets = value_text(_safp_datasets(db.url), "count", "zh-Hant")
    assert datasets.endswith(" 個") and datasets in text
    assert re.search(r"99\.\d+%", text) and "學習對象" in text


# --- strengths and weaknesses: one rule --------------------------------------------------------
def test_strengths_above_and_weaknesses_below_the_peer_median_never_both(stored: Any) -> None:
    result = stored.result
    for dept in result.department_scores.index:
        sw = strengths_weaknesses(result, dept, n=50)
        strong = set(sw.loc[sw["side"] == "strength", "indicator"])
        weak = set(sw.loc[sw["side"] == "weakness", "indicator"])
        assert not strong & weak, (dept, strong & weak)
        for row in sw.itertuples():
            median = _comparison_median(result, dept, str(row.indicator))
            score = result.department_scores.at[dept, row.indicator]
            if row.side == "weakness":
                assert score < median and _f(row.rank) > 1, (dept, row.indicator)
            else:
                assert score > median, (dept, row.indicator)


@pytest.mark.slow
def test_gaps_cli_lists_no_indicator_as_both(demo_url: str, egov: Any) -> None:
    for dept in ("SAFP", "DSAMA"):
        r = egov(["gaps", dept, "--n", "40", "--lang", "en"])
        assert r.code == 0, r.err
        sides: dict[str, set[str]] = {"strength": set(), "weakness": set()}
        for line in r.out.splitlines():
            m = re.match(r"│ (strength|weakness) +│ (\w+)", line)
            if m:
                sides[m.group(1)].add(m.group(2))
        assert sides["strength"] and (sides["weakness"] or dept == "DSAMA")
        assert not sides["strength"] & sides["weakness"], dept
        assert "learn from" in r.out


def test_learn_from_is_the_best_department(stored: Any) -> None:
    result, fw = stored.result, stored.framework
    table = indicator_standing(result, "SAFP", framework=fw).set_index("indicator")
    for code, row in table.iterrows():
        scores = result.department_scores[code].dropna()
        best = set(scores.index[scores.round(9) == round(scores.max(), 9)])
        assert set(str(row["best_department"]).split(", ")) == best, code
        tied = [stored_value(stored, d, str(code)) for d in best]  # tied bests: their values' mean
        assert row["best_value"] == pytest.approx(sum(tied) / len(tied))


def stored_value(stored: Any, dept: str, code: str) -> float:
    """The mean of a department's objects' own values of an indicator (the demo rolls up by
    the mean), computed here from the result's denominated values."""
    r = stored.result
    mine = r.units.index[r.units["department"] == dept]
    values = r.denominated.loc[mine, code].where(r.normalised.loc[mine, code].notna())
    return float(values.mean())


def test_priorities_give_values_and_targets_in_own_units(stored: Any) -> None:
    result, fw = stored.result, stored.framework
    scores = result.department_scores["sec_incident_response"].dropna()
    groups = result.units.groupby("department")["peer_group"].first()
    peers = scores[scores.index.isin(groups.index[groups == groups["SAFP"]])].sort_values()
    dept = str(peers.index[0])  # the weakest of SAFP's peer group: below its median
    p = priorities(result, dept, "median", framework=fw).set_index("indicator")
    row = p.loc["sec_incident_response"]
    assert row["unit"] == "hours"
    assert row["raw_value"] == pytest.approx(stored_value(stored, dept, "sec_incident_response"))
    # SAFP's secretariat (Administration and Justice): SAFP, DSI, IAM, an odd number, so the
    # target score is the middle department's: its value
    assert len(peers) == 3
    assert row["raw_target"] == pytest.approx(
        stored_value(stored, str(peers.index[1]), "sec_incident_response")
    )
    assert row["raw_target"] < row["raw_value"]  # fewer hours is better


@pytest.mark.slow
def test_priorities_and_compare_cli_print_units(demo_url: str, egov: Any) -> None:
    r = egov(["priorities", "SAFP", "--lang", "zh-Hant", "--top", "60"])
    assert r.code == 0, r.err
    assert "小時" in r.out and "%" in r.out
    r = egov(["compare", "SAFP", "DSAT", "--top", "40", "--lang", "en"])
    assert r.code == 0, r.err
    assert "hours" in r.out and re.search(r"\d% \(\d+\.\d\)", r.out)


def test_head_to_head_has_values(stored: Any) -> None:
    h = head_to_head(stored.result, "SAFP", "DSAT", framework=stored.framework).set_index("node")
    assert h.loc["infra_uptime", "unit"] == "%" and 99 < _f(h.loc["infra_uptime", "value_a"]) < 100
    assert math.isnan(_f(h.loc["egov_index", "value_a"]))


def test_gaps_fall_back_and_name_the_best(stored: Any) -> None:
    g = gaps(stored.result, "SAFP").set_index("node")
    infra = g.loc["infrastructure"]
    assert bool(infra["peer_fallback"]) and infra["peer_n"] == infra["n"] and infra["peer_group"] == ""
    # IAM, the third of SAFP's secretariat, has no application: only the management category
    # has enough peers
    assert bool(g.loc["application", "peer_fallback"])
    assert not g.loc["management", "peer_fallback"] and _f(g.loc["management", "peer_n"]) >= MIN_PEERS
    scores = stored.result.department_scores["application"].dropna()
    assert g.loc["application", "best_department"] == scores.idxmax()
    assert NO_GROUP not in set(g["peer_group"])


# --- units in every language --------------------------------------------------------------------
def test_every_macau_unit_is_translated() -> None:
    fw = load_framework(builtin_path("macau"))
    for node in fw.indicators:
        assert node.unit in UNITS, node.code
    for labels in UNITS.values():
        assert len(labels) == len(LANGS)
    assert unit_label("hours", "zh-Hant") == "小時" and unit_label("unknown thing", "pt") == "unknown thing"
    assert value_text(654.0, "count", "en") == "654" and value_text(99.62475, "%", "pt") == "99.62%"
    assert value_text(float("nan"), "%") == "—" and value_text(None, "%") == "—"
