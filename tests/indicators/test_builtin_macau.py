"""The built-in Macau framework (indicators/frameworks/macau.toml)."""

from __future__ import annotations

from pathlib import Path

import pytest

from egov.langs import LANGUAGES
from evaluation.registry import AGGREGATE_STAGES, INDICATOR_STAGES, STAGES
from indicators.framework import (
    Framework,
    applies,
    builtin_path,
    load_framework,
    parse_framework,
    resolve_framework,
)

REQUIRED_INDICATORS = {
    "infra_uptime",
    "infra_mttr",
    "infra_headroom",
    "infra_growth",
    "infra_offsite_backup",
    "infra_baseline_compliance",
    "infra_cost_per_vcpu",
    "app_csat",
    "app_response_rate",
    "app_takeup",
    "app_registered_users",
    "app_channel_share",
    "app_services_online",
    "app_one_stop",
    "app_completion",
    "app_wcag",
    "app_cost_per_txn",
    "mgmt_api_share",
    "mgmt_plan_on_time",
    "mgmt_plan_on_budget",
    "mgmt_data_sharing",
    "mgmt_opendata_timely",
    "mgmt_rectify_on_time",
    "sec_incident_response",
    "sec_audits",
    "sec_vuln_remediation",
}


def category_of(fw: Framework, code: str) -> str:
    """The category above a node (the ancestor just below the index)."""
    return [code, *fw.ancestors(code)][-2]


@pytest.fixture(scope="module")
def macau() -> Framework:
    return load_framework(builtin_path("macau"))


@pytest.fixture(scope="module")
def macau_text() -> str:
    return builtin_path("macau").read_text(encoding="utf-8")


def test_builtin_path_is_the_shipped_file() -> None:
    path = builtin_path()
    assert path == Path(__file__).resolve().parents[2] / "indicators" / "frameworks" / "macau.toml"
    assert path.is_file()


def test_loads_by_name_and_by_default(macau: Framework) -> None:
    assert resolve_framework("macau").content_hash == macau.content_hash
    assert resolve_framework(None).content_hash == macau.content_hash
    assert macau.code == "macau-egov"
    assert macau.index.kind == "index"


def test_unknown_builtin_name() -> None:
    from egov.errors import EgovError

    with pytest.raises(EgovError, match=r"no built-in framework 'atlantis' \(built-in: .*macau"):
        resolve_framework("atlantis")


def test_categories(macau: Framework) -> None:
    assert [c.code for c in macau.categories] == ["infrastructure", "application", "management"]
    for cat in macau.categories:
        assert cat.kind == "category"
        assert cat.applies_to == cat.code  # each category scores objects of its own kind


def test_management_splits_administrative_and_all_bodies(macau: Framework) -> None:
    mgmt = macau.nodes["management"]
    dims = [macau.nodes[c] for c in mgmt.children]
    assert all(d.kind == "dimension" for d in dims)
    by_scope = {d.applies_to: d.code for d in dims}
    assert "management.administrative" in by_scope  # administrative bodies only
    assert "management" in by_scope  # every management body
    admin_dim = by_scope["management.administrative"]
    all_dim = by_scope["management"]
    admin_inds = [c for c in macau.nodes[admin_dim].children]
    all_inds = [c for c in macau.nodes[all_dim].children]
    # the applies_to is inherited by the indicators
    assert all(macau.nodes[c].applies_to == "management.administrative" for c in admin_inds)
    assert all(macau.nodes[c].applies_to == "management" for c in all_inds)
    # an administrative body is scored on both, a security body only on the shared one
    assert applies(macau.nodes[admin_inds[0]].applies_to, "management", "administrative")
    assert not applies(macau.nodes[admin_inds[0]].applies_to, "management", "security")
    assert applies(macau.nodes[all_inds[0]].applies_to, "management", "security")
    assert applies(macau.nodes[all_inds[0]].applies_to, "management", "administrative")
    assert not applies(macau.nodes[all_inds[0]].applies_to, "application", None)


def test_at_least_30_indicators(macau: Framework) -> None:
    assert len(macau.indicators) >= 30
    assert len(set(macau.indicator_codes)) == len(macau.indicator_codes)


def test_every_indicator_is_complete(macau: Framework) -> None:
    for ind in macau.indicators:
        assert set(ind.name) == set(LANGUAGES), ind.code
        assert all(ind.name[lang].strip() for lang in LANGUAGES), ind.code
        assert ind.unit.strip(), ind.code
        assert ind.direction in (1, -1), ind.code
        assert "§" in ind.rationale, f"{ind.code}: rationale cites no section: {ind.rationale!r}"
        assert ind.applies_to is not None, ind.code
        assert category_of(macau, ind.code) == ind.applies_to.split(".")[0], ind.code
        method = macau.normalisation_of(ind)["method"]
        assert method in ("minmax", "goalposts", "target_band", "none"), ind.code


def test_aggregates_have_names_in_every_language(macau: Framework) -> None:
    for node in macau.nodes.values():
        assert set(node.name) == set(LANGUAGES), node.code
    assert macau.nodes["infrastructure"].name["zh-Hant"] == "基礎設施"


def test_required_coverage(macau: Framework) -> None:
    missing = REQUIRED_INDICATORS - set(macau.indicator_codes)
    assert not missing, f"missing required indicators: {sorted(missing)}"
    csat = macau.nodes["app_csat"]
    assert csat.source == "rating"
    assert csat.measure is not None
    assert category_of(macau, "app_csat") == "application"
    assert macau.nodes["app_response_rate"].source == "rating"
    assert macau.nodes["app_response_rate"].measure == "response_rate"
    for code in REQUIRED_INDICATORS:
        prefix = code.split("_")[0]
        expected = {
            "infra": "infrastructure",
            "app": "application",
            "mgmt": "management",
            "sec": "management",
        }
        assert category_of(macau, code) == expected[prefix], code


def test_rating_indicators_have_measures_and_metrics_do_not(macau: Framework) -> None:
    for ind in macau.indicators:
        if ind.source == "rating":
            assert ind.measure, ind.code
        elif ind.source == "checklist":  # the assessor's service checks (issue 16)
            assert ind.checklist in macau.checklists and ind.measure is None, ind.code
        else:
            assert ind.source == "metric" and ind.measure is None, ind.code


def test_directions_of_some_indicators(macau: Framework) -> None:
    assert macau.nodes["infra_uptime"].direction == 1
    assert macau.nodes["infra_mttr"].direction == -1
    assert macau.nodes["app_cost_per_txn"].direction == -1
    assert macau.nodes["infra_cost_per_vcpu"].direction == -1


def test_effective_weights_sum_to_one(macau: Framework) -> None:
    eff = macau.effective_weights()
    assert sum(eff[c] for c in macau.indicator_codes) == pytest.approx(1.0)
    assert sum(eff[c.code] for c in macau.categories) == pytest.approx(1.0)
    assert eff[macau.index_code] == 1.0
    assert all(eff[c] > 0 for c in macau.indicator_codes)
    # every aggregate's effective weight is the sum of its children's
    for node in macau.aggregates_bottom_up():
        assert sum(eff[c] for c in node.children) == pytest.approx(eff[node.code]), node.code


def test_levels(macau: Framework) -> None:
    levels = macau.levels()
    assert levels[macau.index_code] == 4
    assert all(levels[c] == 1 for c in macau.indicator_codes)
    assert {levels[c.code] for c in macau.categories} == {3}


# --- content hash -------------------------------------------------------------------------
def test_content_hash_is_stable_across_loads(macau: Framework) -> None:
    again = load_framework(builtin_path("macau"))
    assert again.content_hash == macau.content_hash
    assert len(macau.content_hash) == 64


def test_content_hash_ignores_comments_and_blank_lines(macau: Framework, macau_text: str) -> None:
    commented = "# a new comment at the top\n\n" + macau_text.replace(
        "[categories.application]\n", "# another comment\n\n[categories.application]  # trailing\n", 1
    )
    assert commented != macau_text
    assert parse_framework(commented).content_hash == macau.content_hash


def test_content_hash_ignores_key_order(macau_text: str, macau: Framework) -> None:
    header = "[categories.application.dimensions.satisfaction.indicators.app_csat]\n"
    start = macau_text.index(header) + len(header)
    end = macau_text.index("\n[", start)
    body = macau_text[start:end].strip().splitlines()
    reordered = macau_text[:start] + "\n".join(reversed(body)) + "\n" + macau_text[end:]
    assert reordered != macau_text
    assert parse_framework(reordered).content_hash == macau.content_hash


def test_content_hash_changes_with_a_weight(macau: Framework, macau_text: str) -> None:
    header = "[categories.application.dimensions.satisfaction.indicators.app_csat]\n"
    start = macau_text.index(header)
    end = macau_text.index("\n[", start)
    block = macau_text[start:end]
    assert "\nweight = 2\n" in block
    changed = macau_text[:start] + block.replace("\nweight = 2\n", "\nweight = 3\n") + macau_text[end:]
    fw = parse_framework(changed)
    assert fw.nodes["app_csat"].weight == 3
    assert fw.content_hash != macau.content_hash


def test_content_hash_changes_with_a_name(macau: Framework, macau_text: str) -> None:
    changed = macau_text.replace('en = "Infrastructure"', 'en = "Infrastructure services"', 1)
    assert parse_framework(changed).content_hash != macau.content_hash


# --- [index] and [methods] ----------------------------------------------------------------
def test_index_and_default_methods(macau: Framework) -> None:
    assert macau.index_code == "egov_index"
    assert macau.index.name["zh-Hant"] == "電子政務績效指數"
    assert macau.index.methods == {"aggregation": {"method": "arithmetic"}, "weighting": {"method": "manual"}}
    assert macau.default("normalisation") == {"method": "minmax", "lower": 0.0, "upper": 100.0}
    assert macau.default("imputation") == {"method": "none"}
    assert macau.default("treatment") == {"method": "none"}
    assert macau.rollup == "mean"  # object → department
    assert macau.screening is None
    # every aggregate and indicator resolves every stage of its kind to a known method
    for node in macau.nodes.values():
        stages = INDICATOR_STAGES if node.is_indicator else AGGREGATE_STAGES
        for stage in stages:
            assert macau.method_of(node.code, stage)["method"] in STAGES[stage], (node.code, stage)


def test_goalposts_are_set_per_indicator(macau: Framework) -> None:
    assert macau.nodes["infra_uptime"].methods["normalisation"] == {
        "method": "goalposts",
        "min": 99.0,
        "max": 100.0,
        "clip": True,
        "scale": 100.0,
    }
    assert "normalisation" not in macau.nodes["infra_mttr"].methods  # from [methods]
    assert macau.method_of("infra_mttr", "normalisation")["method"] == "minmax"


def test_content_hash_ignores_how_methods_and_numbers_are_written(macau: Framework, macau_text: str) -> None:
    rewritten = (
        macau_text.replace('rollup = "mean"', 'rollup = { method = "mean" }', 1)
        .replace('weighting = "manual"', 'weighting = { method = "manual" }')
        .replace(
            'normalisation = { method = "minmax", lower = 0, upper = 100 }',
            'normalisation = { upper = 100.0, method = "minmax", lower = 0.0 }',
            1,
        )
        .replace("\nweight = 1\n", "\nweight = 1.0\n")
        .replace("range = [0, 100]", "range = [0.0, 1e2]")
    )
    assert rewritten != macau_text
    assert parse_framework(rewritten).content_hash == macau.content_hash


def test_content_hash_changes_with_a_default_method(macau: Framework, macau_text: str) -> None:
    changed = macau_text.replace('rollup = "mean"', 'rollup = "min"', 1)
    assert parse_framework(changed).content_hash != macau.content_hash
