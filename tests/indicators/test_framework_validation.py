"""Validation of framework files: every bad file is reported with key path and message.

Each case starts from the small valid framework VALID below (docs/framework-format.md:
`[framework]` identity, `[index]`, `[methods]` defaults, categories → dimensions →
indicators with per-node methods), applies one mutation and checks that the expected
"key.path: message" problem is among the reported problems. Lists of known methods are
taken from the registries, so that adding a method does not break these tests.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from egov.errors import EgovError
from evaluation.registry import AGGREGATE_STAGES, DEFAULTS, INDICATOR_STAGES, STAGES
from indicators.framework import load_framework, parse_framework

NAMES = '{ zh-Hant = "名稱", pt = "Nome", en = "Name" }'


def known(stage: str) -> str:
    """The "(known: …)" list of a stage's methods, as the loader writes it."""
    return ", ".join(sorted(STAGES[stage]))


VALID = """\
# a small framework: 2 categories, 3 dimensions, 5 indicators
[framework]
code = "test-fw"
version = "1"
name = { zh-Hant = "測試框架", pt = "Quadro de teste", en = "Test framework" }

[index]
code = "idx"
aggregation = "arithmetic"
weighting = "manual"

[methods]
normalisation = { method = "minmax", lower = 0, upper = 100 }
imputation = "none"
rollup = "mean"

[categories.infra]
name = { zh-Hant = "基礎設施", pt = "Infra-estruturas", en = "Infrastructure" }
weight = 1
applies_to = "infrastructure"

[categories.infra.dimensions.avail]
name = { zh-Hant = "可用性", pt = "Disponibilidade", en = "Availability" }
weight = 1

[categories.infra.dimensions.avail.indicators.uptime]
name = { zh-Hant = "可用率", pt = "Disponibilidade", en = "Uptime" }
unit = "%"
direction = 1
normalisation = { method = "goalposts", min = 99, max = 100 }
range = [0, 100]
rationale = "§1 uptime"

[categories.infra.dimensions.avail.indicators.mttr]
name = { zh-Hant = "恢復時間", pt = "Tempo de reposição", en = "MTTR" }
unit = "hours"
direction = -1
weight = 1
rationale = "§1 recovery"

[categories.application]
name = { zh-Hant = "應用服務", pt = "Aplicações", en = "Applications" }
weight = 2
aggregation = "arithmetic"
min_coverage = 0.5
applies_to = "application"

[categories.application.dimensions.satisfaction]
name = { zh-Hant = "滿意度", pt = "Satisfação", en = "Satisfaction" }
weight = 2

[categories.application.dimensions.satisfaction.indicators.csat]
name = { zh-Hant = "滿意率", pt = "Taxa de satisfação", en = "Satisfaction rate" }
unit = "%"
direction = 1
weight = 2
source = "rating"
measure = "share_satisfied"
rationale = "§2 ratings"

[categories.application.dimensions.satisfaction.indicators.bad_rate]
name = { zh-Hant = "差評率", pt = "Taxa de avaliações negativas", en = "Bad ratings" }
unit = "%"
direction = -1
source = "rating"
measure = "bad_share"
rationale = "§2 ratings"

[categories.application.dimensions.uptake]
name = { zh-Hant = "使用", pt = "Utilização", en = "Uptake" }

[categories.application.dimensions.uptake.indicators.takeup]
name = { zh-Hant = "使用率", pt = "Taxa de utilização", en = "Take-up" }
unit = "%"
direction = 1
source = "metric"
target = 80
denominator = "population"
denomination = { method = "divide", scale = 1000 }
rationale = "§2 take-up"
"""

FRAMEWORK = "[framework]\n"
INDEX = "[index]\n"
METHODS = "[methods]\n"
INFRA = "[categories.infra]\n"
APP = "[categories.application]\n"
AVAIL = "[categories.infra.dimensions.avail]\n"
UPTIME = "[categories.infra.dimensions.avail.indicators.uptime]\n"
MTTR = "[categories.infra.dimensions.avail.indicators.mttr]\n"
SAT = "[categories.application.dimensions.satisfaction]\n"
CSAT = "[categories.application.dimensions.satisfaction.indicators.csat]\n"
TAKEUP = "[categories.application.dimensions.uptake.indicators.takeup]\n"

P_UPTIME = "categories.infra.dimensions.avail.indicators.uptime"
P_MTTR = "categories.infra.dimensions.avail.indicators.mttr"
P_CSAT = "categories.application.dimensions.satisfaction.indicators.csat"
P_TAKEUP = "categories.application.dimensions.uptake.indicators.takeup"

Mutation = Callable[[str], str]


# --- mutations ----------------------------------------------------------------------------
def sub(old: str, new: str) -> Mutation:
    """Replace a text that occurs exactly once in the file."""

    def apply(text: str) -> str:
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in the base file"
        return text.replace(old, new)

    return apply


def after(header: str, lines: str) -> Mutation:
    """Add key lines at the start of a table (right after its header)."""
    return sub(header, header + lines + "\n")


def set_key(header: str, key: str, value: str) -> Mutation:
    """Set `key = value` in the table `header` (replacing the key if the table has it)."""

    def apply(text: str) -> str:
        start = text.index(header) + len(header)
        end = text.find("\n[", start)
        end = len(text) if end < 0 else end + 1
        body = [ln for ln in text[start:end].splitlines() if not ln.startswith(f"{key} =")]
        return text[:start] + f"{key} = {value}\n" + "\n".join(body) + "\n" + text[end:]

    return apply


def drop_key(header: str, key: str) -> Mutation:
    """Remove `key = …` from the table `header`."""

    def apply(text: str) -> str:
        start = text.index(header) + len(header)
        end = text.find("\n[", start)
        end = len(text) if end < 0 else end + 1
        body = [ln for ln in text[start:end].splitlines() if not ln.startswith(f"{key} =")]
        assert len(body) < len(text[start:end].splitlines()), f"no {key} in {header}"
        return text[:start] + "\n".join(body) + "\n" + text[end:]

    return apply


def top_level(line: str, then: Mutation) -> Mutation:
    """Put a key at the top level (before every table), after another mutation."""
    return lambda text: line + "\n" + then(text)


def append(extra: str) -> Mutation:
    return lambda text: text + "\n" + extra


def both(*mutations: Mutation) -> Mutation:
    def apply(text: str) -> str:
        for m in mutations:
            text = m(text)
        return text

    return apply


def indicator(path: str, extra: str = "") -> str:
    return f'[{path}]\nname = {NAMES}\nunit = "%"\ndirection = 1\nrationale = "§9"\n{extra}'


def problems_of(text: str | bytes) -> list[str]:
    with pytest.raises(EgovError) as info:
        parse_framework(text, origin="bad.toml")
    assert "invalid framework" in info.value.message
    return info.value.problems


def split(problem: str) -> tuple[str, str]:
    path, _, message = problem.partition(": ")
    return path, message


# --- the valid base -----------------------------------------------------------------------
def test_base_framework_is_valid() -> None:
    fw = parse_framework(VALID)
    assert [c.code for c in fw.categories] == ["infra", "application"]
    assert fw.indicator_codes == ["uptime", "mttr", "csat", "bad_rate", "takeup"]
    assert fw.nodes["mttr"].applies_to == "infrastructure"  # inherited
    assert fw.nodes["csat"].measure == "share_satisfied"
    assert fw.index_code == "idx"
    assert fw.index.name == fw.name  # [index] without a name takes the framework's
    assert fw.index.methods == {"aggregation": {"method": "arithmetic"}, "weighting": {"method": "manual"}}
    assert fw.methods == {
        "normalisation": {"method": "minmax", "lower": 0.0, "upper": 100.0},
        "imputation": {"method": "none"},
        "rollup": {"method": "mean"},
    }
    assert fw.nodes["application"].min_coverage == 0.5
    assert fw.nodes["takeup"].denominator == "population"
    assert fw.nodes["takeup"].methods == {"denomination": {"method": "divide", "scale": 1000.0}}


def test_helpers_touch_the_intended_table() -> None:
    text = set_key(CSAT, "weight", "0")(VALID)
    assert "weight = 2\nsource" not in text.split(CSAT)[1].split("\n[")[0]
    assert text.count("weight = 0") == 1
    assert drop_key(MTTR, "unit")(VALID).count('unit = "hours"') == 0


# --- one problem per case -----------------------------------------------------------------
CASES: list[tuple[str, Mutation, str, str]] = [
    # unknown keys
    ("unknown top-level key", append('[metadata]\nauthor = "x"\n'), "metadata", "unknown key"),
    ("unknown framework key", after(FRAMEWORK, 'author = "x"'), "framework.author", "unknown key"),
    ("unknown category key", after(INFRA, 'colour = "red"'), "categories.infra.colour", "unknown key"),
    (
        "unknown dimension key",
        after(AVAIL, "weigth = 2"),
        "categories.infra.dimensions.avail.weigth",
        "unknown key (allowed: ",
    ),
    ("unknown indicator key", after(MTTR, "units = 'h'"), f"{P_MTTR}.units", "unknown key"),
    # codes
    (
        "duplicate code in two branches",
        sub("indicators.takeup]", "indicators.uptime]"),
        "categories.application.dimensions.uptake.indicators.uptime",
        f"duplicate code 'uptime': already used at {P_UPTIME}",
    ),
    (
        "duplicate dimension code",
        both(
            sub(
                "[categories.application.dimensions.uptake]\n", "[categories.application.dimensions.avail]\n"
            ),
            sub(TAKEUP, "[categories.application.dimensions.avail.indicators.takeup]\n"),
        ),
        "categories.application.dimensions.avail",
        "duplicate code 'avail': already used at categories.infra.dimensions.avail",
    ),
    (
        "indicator code equal to a category code",
        sub("indicators.takeup]", "indicators.infra]"),
        "categories.application.dimensions.uptake.indicators.infra",
        "duplicate code 'infra': already used at categories.infra",
    ),
    (
        "category code equal to the index code",
        set_key(INDEX, "code", '"application"'),
        "categories.application",
        "duplicate code 'application': it is the index code",
    ),
    (
        "invalid code characters",
        sub("indicators.takeup]", 'indicators."take up"]'),
        "categories.application.dimensions.uptake.indicators.take up",
        "'take up' is not a valid code",
    ),
    (
        # codes may start with a digit (test_code_starting_with_a_digit_is_accepted), not with '-'
        "code starting with a hyphen",
        sub("indicators.takeup]", "indicators.-lives]"),
        "categories.application.dimensions.uptake.indicators.-lives",
        "'-lives' is not a valid code (letters, digits, '_' and '-' only, starting with a letter or digit)",
    ),
    (
        "invalid index code",
        set_key(INDEX, "code", '"the index"'),
        "index.code",
        "'the index' is not a valid code",
    ),
    ("index code not a string", set_key(INDEX, "code", "7"), "index.code", "must be a string, not 7"),
    # names
    ("missing names of an indicator", drop_key(MTTR, "name"), f"{P_MTTR}.name", "missing names"),
    (
        "missing names of a dimension",
        drop_key(AVAIL, "name"),
        "categories.infra.dimensions.avail.name",
        "missing names",
    ),
    ("missing framework name", drop_key(FRAMEWORK, "name"), "framework.name", "missing names"),
    (
        "missing language",
        set_key(MTTR, "name", '{ zh-Hant = "恢復時間", en = "MTTR" }'),
        f"{P_MTTR}.name.pt",
        "missing name",
    ),
    (
        "empty name",
        set_key(MTTR, "name", '{ zh-Hant = "恢復時間", pt = " ", en = "MTTR" }'),
        f"{P_MTTR}.name.pt",
        "must be a non-empty string",
    ),
    (
        "unknown language",
        set_key(INFRA, "name", '{ zh-Hant = "基礎設施", pt = "Infra", en = "Infra", fr = "Infra" }'),
        "categories.infra.name.fr",
        "unknown language (allowed: zh-Hant, pt, en)",
    ),
    ("names not a table", set_key(INFRA, "name", '"Infra"'), "categories.infra.name", "must be a table"),
    # methods
    (
        "unknown aggregation method",
        set_key(INFRA, "aggregation", '"median"'),
        "categories.infra.aggregation.method",
        f"unknown aggregation method 'median' (known: {known('aggregation')})",
    ),
    (
        "unknown index aggregation",
        set_key(INDEX, "aggregation", '"sum"'),
        "index.aggregation.method",
        f"unknown aggregation method 'sum' (known: {known('aggregation')})",
    ),
    (
        "unknown rollup",
        set_key(METHODS, "rollup", '"avg"'),
        "methods.rollup.method",
        f"unknown roll-up method 'avg' (known: {known('rollup')})",
    ),
    (
        "unknown normalisation method",
        set_key(MTTR, "normalisation", '{ method = "zscores" }'),
        f"{P_MTTR}.normalisation.method",
        f"unknown normalisation method 'zscores' (known: {known('normalisation')})",
    ),
    (
        "unknown default normalisation method",
        set_key(METHODS, "normalisation", '"ranking"'),
        "methods.normalisation.method",
        f"unknown normalisation method 'ranking' (known: {known('normalisation')})",
    ),
    (
        "normalisation without method",
        set_key(MTTR, "normalisation", "{ lower = 0 }"),
        f"{P_MTTR}.normalisation.method",
        "missing",
    ),
    (
        "normalisation neither a name nor a table",
        set_key(MTTR, "normalisation", "5"),
        f"{P_MTTR}.normalisation",
        'must be a method name or a table such as { method = "minmax" }',
    ),
    (
        "unknown normalisation parameter",
        set_key(MTTR, "normalisation", '{ method = "minmax", lower = 0, top = 10 }'),
        f"{P_MTTR}.normalisation.top",
        "unknown parameter for method 'minmax' (allowed: lower, upper)",
    ),
    (
        "normalisation parameter of the wrong type",
        set_key(MTTR, "normalisation", '{ method = "minmax", lower = "0" }'),
        f"{P_MTTR}.normalisation.lower",
        "must be a number, not '0'",
    ),
    (
        "normalisation flag of the wrong type",
        set_key(UPTIME, "normalisation", '{ method = "goalposts", min = 99, max = 100, clip = "yes" }'),
        f"{P_UPTIME}.normalisation.clip",
        "must be true or false",
    ),
    (
        "goalposts min > max",
        set_key(UPTIME, "normalisation", '{ method = "goalposts", min = 100, max = 99 }'),
        f"{P_UPTIME}.normalisation.max",
        "must be greater than min",
    ),
    (
        "goalposts min == max",
        set_key(UPTIME, "normalisation", '{ method = "goalposts", min = 5, max = 5 }'),
        f"{P_UPTIME}.normalisation.max",
        "must differ from min",
    ),
    (
        "goalposts scale <= 0",
        set_key(UPTIME, "normalisation", '{ method = "goalposts", min = 0, max = 5, scale = 0 }'),
        f"{P_UPTIME}.normalisation.scale",
        "must be > 0",
    ),
    (
        "minmax lower == upper",
        set_key(METHODS, "normalisation", '{ method = "minmax", lower = 1, upper = 1 }'),
        "methods.normalisation.upper",
        "must be greater than lower",
    ),
    (
        "minmax lower > upper",
        set_key(MTTR, "normalisation", '{ method = "minmax", lower = 100, upper = 0 }'),
        f"{P_MTTR}.normalisation.upper",
        "must be greater than lower",
    ),
    (
        "goalposts without min",
        set_key(UPTIME, "normalisation", '{ method = "goalposts", max = 100 }'),
        f"{P_UPTIME}.normalisation.min",
        "required by method 'goalposts'",
    ),
    # weights
    ("weight 0 (the issue's example)", set_key(CSAT, "weight", "0"), f"{P_CSAT}.weight", "must be > 0"),
    (
        "negative weight",
        set_key(AVAIL, "weight", "-1"),
        "categories.infra.dimensions.avail.weight",
        "must be > 0",
    ),
    ("negative category weight", set_key(INFRA, "weight", "-0.5"), "categories.infra.weight", "must be > 0"),
    ("infinite weight", set_key(CSAT, "weight", "inf"), f"{P_CSAT}.weight", "must be > 0"),
    ("nan weight", set_key(CSAT, "weight", "nan"), f"{P_CSAT}.weight", "must be > 0"),
    ("weight as string", set_key(CSAT, "weight", '"2"'), f"{P_CSAT}.weight", "must be a number, not '2'"),
    ("weight as boolean", set_key(CSAT, "weight", "true"), f"{P_CSAT}.weight", "must be a number"),
    # direction
    ("direction 0", set_key(MTTR, "direction", "0"), f"{P_MTTR}.direction", "must be 1 or -1, not 0"),
    ("direction 2", set_key(MTTR, "direction", "2"), f"{P_MTTR}.direction", "must be 1 or -1, not 2"),
    (
        "direction 'up'",
        set_key(MTTR, "direction", '"up"'),
        f"{P_MTTR}.direction",
        "must be 1 or -1, not 'up'",
    ),
    ("direction true", set_key(MTTR, "direction", "true"), f"{P_MTTR}.direction", "must be 1 or -1"),
    ("direction 1.5", set_key(MTTR, "direction", "1.5"), f"{P_MTTR}.direction", "must be 1 or -1"),
    ("missing direction", drop_key(MTTR, "direction"), f"{P_MTTR}.direction", "missing (1 = higher"),
    # source and measure
    (
        "unknown source",
        set_key(MTTR, "source", '"survey"'),
        f"{P_MTTR}.source",
        "unknown source 'survey' (known: metric, rating, checklist)",
    ),
    (
        "rating source without measure",
        drop_key(CSAT, "measure"),
        f"{P_CSAT}.measure",
        'required for source = "rating"',
    ),
    (
        "unknown rating measure",
        set_key(CSAT, "measure", '"median"'),
        f"{P_CSAT}.measure",
        "unknown rating measure 'median'",
    ),
    (
        "measure on metric source",
        set_key(TAKEUP, "measure", '"count"'),
        f"{P_TAKEUP}.measure",
        'only allowed with source = "rating"',
    ),
    (
        "measure on default (metric) source",
        set_key(MTTR, "measure", '"count"'),
        f"{P_MTTR}.measure",
        'only allowed with source = "rating"',
    ),
    # structure
    (
        "orphan aggregate: dimension with no indicators",
        append(f"[categories.infra.dimensions.empty]\nname = {NAMES}\n"),
        "categories.infra.dimensions.empty",
        "orphan aggregate",
    ),
    (
        "orphan aggregate: empty indicators table",
        append(f"[categories.infra.dimensions.empty]\nname = {NAMES}\nindicators = {{}}\n"),
        "categories.infra.dimensions.empty.indicators",
        "orphan aggregate: must hold at least one child",
    ),
    (
        "orphan category",
        append(f"[categories.mgmt]\nname = {NAMES}\n"),
        "categories.mgmt",
        "orphan aggregate: it has no dimensions or indicators",
    ),
    (
        "category holding both dimensions and indicators",
        append(indicator("categories.infra.indicators.loose")),
        "categories.infra",
        "holds both 'dimensions' and 'indicators'",
    ),
    (
        "indicators not a table",
        append(f"[categories.mgmt]\nname = {NAMES}\nindicators = 3\n"),
        "categories.mgmt.indicators",
        "orphan aggregate: must hold at least one child",
    ),
    (
        "aggregate not a table",
        append('[categories.mgmt.dimensions]\nsub = "x"\n'),
        "categories.mgmt.dimensions.sub",
        "must be a table",
    ),
    (
        "indicator not a table",
        append("[categories.mgmt]\nname = " + NAMES + "\nindicators = { x = 1 }\n"),
        "categories.mgmt.indicators.x",
        "must be a table",
    ),
    (
        "no categories",
        lambda text: text.split("[categories.infra]")[0],
        "categories",
        "at least one category",
    ),
    # range, target
    (
        "range min > max",
        set_key(UPTIME, "range", "[100, 0]"),
        f"{P_UPTIME}.range",
        "min 100 is greater than max 0",
    ),
    ("range of one number", set_key(UPTIME, "range", "[0]"), f"{P_UPTIME}.range", "must be [min, max]"),
    ("range of strings", set_key(UPTIME, "range", '["0", "1"]'), f"{P_UPTIME}.range", "must be [min, max]"),
    ("target not a number", set_key(TAKEUP, "target", '"80%"'), f"{P_TAKEUP}.target", "must be a number"),
    # applies_to
    (
        "applies_to unknown kind",
        set_key(INFRA, "applies_to", '"hardware"'),
        "categories.infra.applies_to",
        "unknown object kind 'hardware' (known: infrastructure, application, management)",
    ),
    (
        "applies_to unknown subkind",
        set_key(INFRA, "applies_to", '"management.finance"'),
        "categories.infra.applies_to",
        "unknown subkind 'finance' of 'management' (known: administrative, security)",
    ),
    (
        "applies_to subkind of a kind without subkinds",
        set_key(APP, "applies_to", '"application.mobile"'),
        "categories.application.applies_to",
        "unknown subkind 'mobile' of 'application' (known: none)",
    ),
    (
        "applies_to outside the parent's",
        set_key(MTTR, "applies_to", '"application"'),
        f"{P_MTTR}.applies_to",
        "'application' is outside its parent's 'infrastructure'",
    ),
    (
        "applies_to not a string",
        set_key(AVAIL, "applies_to", "1"),
        "categories.infra.dimensions.avail.applies_to",
        "must be a string",
    ),
    # required indicator fields
    ("missing unit", drop_key(MTTR, "unit"), f"{P_MTTR}.unit", "missing"),
    ("empty unit", set_key(MTTR, "unit", '""'), f"{P_MTTR}.unit", "must not be empty"),
    ("unit not a string", set_key(MTTR, "unit", "3"), f"{P_MTTR}.unit", "must be a string"),
    ("missing rationale", drop_key(MTTR, "rationale"), f"{P_MTTR}.rationale", "missing"),
    ("blank rationale", set_key(MTTR, "rationale", '"  "'), f"{P_MTTR}.rationale", "must not be empty"),
    # the [framework] table
    (
        "missing [framework] table",
        lambda text: text.replace("[framework]", "[frame]"),
        "framework",
        "missing table [framework]",
    ),
    ("framework not a table", sub("[framework]\n", 'framework = "x"\n[fw]\n'), "framework", "missing table"),
    ("missing framework code", drop_key(FRAMEWORK, "code"), "framework.code", "missing"),
    ("missing framework version", drop_key(FRAMEWORK, "version"), "framework.version", "missing"),
    (
        "framework version of the wrong type",
        set_key(FRAMEWORK, "version", "[1]"),
        "framework.version",
        "must be a string",
    ),
    # --- the old format (before [index] and [methods]) is reported, not silently ignored --
    (
        "old [framework] rollup",
        after(FRAMEWORK, 'rollup = "mean"'),
        "framework.rollup",
        "unknown key (allowed: code, description, name, source, version)",
    ),
    (
        "old [framework] index_code",
        after(FRAMEWORK, 'index_code = "i"'),
        "framework.index_code",
        "unknown key",
    ),
    (
        "old [framework] normalisation",
        after(FRAMEWORK, 'normalisation = "minmax"'),
        "framework.normalisation",
        "unknown key (allowed: ",
    ),
    # --- [index] -------------------------------------------------------------------------
    (
        "unknown key in [index]",
        after(INDEX, "weight = 2"),
        "index.weight",
        "unknown key (allowed: aggregation, code, min_categories, min_coverage, name, trend_scale, weighting)",
    ),
    ("rollup in [index]", after(INDEX, 'rollup = "mean"'), "index.rollup", "unknown key (allowed: "),
    (
        "[index] not a table",
        top_level('index = "idx"', sub(INDEX, "[ix]\n")),
        "index",
        "must be a table",
    ),
    (
        "unknown index weighting",
        set_key(INDEX, "weighting", '"votes"'),
        "index.weighting.method",
        f"unknown weighting method 'votes' (known: {known('weighting')})",
    ),
    (
        "index names incomplete",
        after(INDEX, 'name = { en = "Index" }'),
        "index.name.pt",
        "missing name",
    ),
    (
        "index min_coverage > 1",
        after(INDEX, "min_coverage = 1.5"),
        "index.min_coverage",
        "must be between 0 and 1",
    ),
    # --- [methods] -----------------------------------------------------------------------
    (
        "unknown key in [methods]",
        after(METHODS, 'normalization = "rank"'),
        "methods.normalization",
        "unknown key (allowed: aggregation, denomination, imputation, min_coverage, normalisation, "
        "rollup, screening, treatment, weighting)",
    ),
    (
        "[methods] not a table",
        top_level("methods = 1", sub(METHODS, "[m]\n")),
        "methods",
        "must be a table",
    ),
    (
        "unknown treatment method in [methods]",
        after(METHODS, 'treatment = "x"'),
        "methods.treatment.method",
        f"unknown outlier treatment method 'x' (known: {known('treatment')})",
    ),
    (
        "unknown imputation method in [methods]",
        set_key(METHODS, "imputation", '"hot_deck"'),
        "methods.imputation.method",
        f"unknown imputation method 'hot_deck' (known: {known('imputation')})",
    ),
    (
        "unknown denomination method in [methods]",
        after(METHODS, 'denomination = "per_capita"'),
        "methods.denomination.method",
        f"unknown denomination method 'per_capita' (known: {known('denomination')})",
    ),
    (
        "unknown weighting method in [methods]",
        after(METHODS, 'weighting = { method = "votes" }'),
        "methods.weighting.method",
        f"unknown weighting method 'votes' (known: {known('weighting')})",
    ),
    (
        "unknown aggregation method in [methods]",
        after(METHODS, "aggregation = { method = 3 }"),
        "methods.aggregation.method",
        f"unknown aggregation method 3 (known: {known('aggregation')})",
    ),
    (
        "method table without method in [methods]",
        after(METHODS, "treatment = {}"),
        "methods.treatment.method",
        "missing",
    ),
    (
        "min_coverage in [methods] > 1",
        after(METHODS, "min_coverage = 2"),
        "methods.min_coverage",
        "must be between 0 and 1",
    ),
    (
        "min_coverage in [methods] not a number",
        after(METHODS, 'min_coverage = "90%"'),
        "methods.min_coverage",
        "must be a number between 0 and 1, not '90%'",
    ),
    (
        "screening with an unknown key",
        after(METHODS, "screening = { min_cov = 0.5 }"),
        "methods.screening.min_cov",
        "unknown key (allowed: min_coverage)",
    ),
    (
        "screening min_coverage > 1",
        after(METHODS, "screening = { min_coverage = 1.5 }"),
        "methods.screening.min_coverage",
        "must be between 0 and 1",
    ),
    (
        "screening min_coverage < 0",
        after(METHODS, "screening = { min_coverage = -0.1 }"),
        "methods.screening.min_coverage",
        "must be between 0 and 1",
    ),
    (
        "screening not a table",
        after(METHODS, "screening = 0.9"),
        "methods.screening",
        "must be a table such as { min_coverage = 0.9 }",
    ),
    # --- per-node methods ----------------------------------------------------------------
    (
        "unknown treatment method of an indicator",
        after(MTTR, 'treatment = "x"'),
        f"{P_MTTR}.treatment.method",
        f"unknown outlier treatment method 'x' (known: {known('treatment')})",
    ),
    (
        "unknown imputation method of an indicator",
        after(MTTR, 'imputation = "zero"'),
        f"{P_MTTR}.imputation.method",
        f"unknown imputation method 'zero' (known: {known('imputation')})",
    ),
    (
        "unknown denomination method of an indicator",
        set_key(TAKEUP, "denomination", '"ratio"'),
        f"{P_TAKEUP}.denomination.method",
        f"unknown denomination method 'ratio' (known: {known('denomination')})",
    ),
    (
        "unknown weighting method of a dimension",
        after(AVAIL, 'weighting = "votes"'),
        "categories.infra.dimensions.avail.weighting.method",
        f"unknown weighting method 'votes' (known: {known('weighting')})",
    ),
    (
        "imputation parameter missing",
        after(MTTR, 'imputation = { method = "group_mean" }'),
        f"{P_MTTR}.imputation.by",
        "required by method 'group_mean'",
    ),
    (
        "imputation parameter unknown",
        after(MTTR, 'imputation = { method = "mean", by = "peer_group" }'),
        f"{P_MTTR}.imputation.by",
        "unknown parameter for method 'mean' (allowed: none)",
    ),
    (
        "imputation parameter of the wrong type",
        after(MTTR, 'imputation = { method = "group_median", by = 3 }'),
        f"{P_MTTR}.imputation.by",
        "must be a string, not 3",
    ),
    (
        "treatment parameter unknown",
        after(MTTR, 'treatment = { method = "none", winmax = 3 }'),
        f"{P_MTTR}.treatment.winmax",
        "unknown parameter for method 'none' (allowed: none)",
    ),
    (
        "normalisation parameter out of range",
        set_key(MTTR, "normalisation", '{ method = "zscore", sd = 0 }'),
        f"{P_MTTR}.normalisation.sd",
        "must be > 0",
    ),
    (
        "denomination scale <= 0",
        set_key(TAKEUP, "denomination", '{ method = "divide", scale = -1000 }'),
        f"{P_TAKEUP}.denomination.scale",
        "must be > 0",
    ),
    (
        "aggregation parameter of the wrong type",
        after(AVAIL, 'aggregation = { method = "generalised", p = "2" }'),
        "categories.infra.dimensions.avail.aggregation.p",
        "must be a number, not '2'",
    ),
    (
        "aggregation on an indicator",
        after(MTTR, 'aggregation = "geometric"'),
        f"{P_MTTR}.aggregation",
        "unknown key (allowed: applies_to, checklist, denomination, denominator, description, direction, imputation, "
        "measure, name, normalisation, range, rationale, source, target, treatment, unit, weight)",
    ),
    ("weighting on an indicator", after(MTTR, 'weighting = "equal"'), f"{P_MTTR}.weighting", "unknown key"),
    (
        "min_coverage on an indicator",
        after(MTTR, "min_coverage = 0.5"),
        f"{P_MTTR}.min_coverage",
        "unknown key",
    ),
    (
        "normalisation on a dimension",
        after(AVAIL, 'normalisation = "rank"'),
        "categories.infra.dimensions.avail.normalisation",
        "unknown key (allowed: aggregation, applies_to, description, dimensions, indicators, min_coverage, "
        "name, weight, weighting)",
    ),
    (
        "treatment on a category",
        after(INFRA, 'treatment = "none"'),
        "categories.infra.treatment",
        "unknown key",
    ),
    ("rollup on a category", after(INFRA, 'rollup = "min"'), "categories.infra.rollup", "unknown key"),
    # --- weightings written per child: one entry per child, in their order -------------
    (
        "AHP matrix of the wrong size on a dimension",
        after(AVAIL, 'weighting = { method = "ahp", matrix = [[1, 2, 4], [0.5, 1, 2], [0.25, 0.5, 1]] }'),
        "categories.infra.dimensions.avail.weighting.matrix",
        "3 rows, but 'avail' has 2 children (uptime, mttr)",
    ),
    (
        "AHP matrix in [methods] that does not fit an aggregate",
        after(METHODS, 'weighting = { method = "ahp", matrix = [[1, 3], [0.3333333333, 1]] }'),
        "methods.weighting.matrix",
        "2 rows, but 'uptake' has 1 children (takeup)",
    ),
    (
        "budget allocation of the wrong length on the index",
        set_key(INDEX, "weighting", '{ method = "budget", allocations = [[60, 30, 10], [50, 30, 20]] }'),
        "index.weighting.allocations",
        "each allocation needs 2 numbers, one per child of 'idx' (infra, application)",
    ),
    # --- min_coverage of an aggregate ----------------------------------------------------
    (
        "aggregate min_coverage > 1",
        set_key(APP, "min_coverage", "1.5"),
        "categories.application.min_coverage",
        "must be between 0 and 1",
    ),
    (
        "aggregate min_coverage < 0",
        after(SAT, "min_coverage = -0.5"),
        "categories.application.dimensions.satisfaction.min_coverage",
        "must be between 0 and 1",
    ),
    (
        "aggregate min_coverage as a percentage string",
        set_key(APP, "min_coverage", '"50%"'),
        "categories.application.min_coverage",
        "must be a number between 0 and 1, not '50%'",
    ),
    (
        "aggregate min_coverage true",
        set_key(APP, "min_coverage", "true"),
        "categories.application.min_coverage",
        "must be a number between 0 and 1, not True",
    ),
    # --- denominator ---------------------------------------------------------------------
    (
        "empty denominator",
        set_key(TAKEUP, "denominator", '""'),
        f"{P_TAKEUP}.denominator",
        "must name a unit attribute column or another indicator",
    ),
    (
        "blank denominator",
        set_key(TAKEUP, "denominator", '"  "'),
        f"{P_TAKEUP}.denominator",
        "must name a unit attribute column or another indicator",
    ),
    (
        "denominator not a string",
        set_key(TAKEUP, "denominator", "1000"),
        f"{P_TAKEUP}.denominator",
        "must name a unit attribute column or another indicator",
    ),
    (
        "denominator naming the indicator itself",
        set_key(TAKEUP, "denominator", '"takeup"'),
        f"{P_TAKEUP}.denominator",
        "an indicator cannot be divided by itself",
    ),
    (
        "denominator naming a dimension",
        set_key(TAKEUP, "denominator", '"avail"'),
        f"{P_TAKEUP}.denominator",
        "'avail' is an aggregate, not a variable or indicator",
    ),
    (
        "denominator naming the index",
        set_key(TAKEUP, "denominator", '"idx"'),
        f"{P_TAKEUP}.denominator",
        "'idx' is an aggregate, not a variable or indicator",
    ),
    (
        "denominator naming a denominated indicator",
        after(MTTR, 'denominator = "takeup"'),
        f"{P_MTTR}.denominator",
        "'takeup' is itself denominated; divide by a raw variable",
    ),
]


@pytest.mark.parametrize(("mutate", "path", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_framework_is_reported(mutate: Mutation, path: str, fragment: str) -> None:
    problems = problems_of(mutate(VALID))
    matching = [message for p, message in map(split, problems) if p == path]
    assert matching, f"no problem at {path!r}; got: {problems}"
    assert any(fragment in m for m in matching), f"{fragment!r} not in {matching}"


def test_issue_example_is_reported_verbatim() -> None:
    problems = problems_of(set_key(CSAT, "weight", "0")(VALID))
    assert problems == ["categories.application.dimensions.satisfaction.indicators.csat.weight: must be > 0"]


def test_duplicate_code_names_both_paths() -> None:
    (problem,) = problems_of(sub("indicators.takeup]", "indicators.uptime]")(VALID))
    assert "categories.application.dimensions.uptake.indicators.uptime" in problem
    assert P_UPTIME in problem


def test_numeric_version_is_accepted() -> None:
    fw = parse_framework(set_key(FRAMEWORK, "version", "2026.1")(VALID))
    assert fw.version == "2026.1"


def test_string_normalisation_shorthand_is_accepted() -> None:
    fw = parse_framework(set_key(MTTR, "normalisation", '"none"')(VALID))
    assert fw.nodes["mttr"].methods == {"normalisation": {"method": "none"}}
    assert fw.method_of("mttr", "normalisation") == {"method": "none"}


def test_valid_subkind_inside_parent_is_accepted() -> None:
    text = append(
        f'[categories.mgmt]\nname = {NAMES}\napplies_to = "management"\n'
        f'[categories.mgmt.dimensions.sec]\nname = {NAMES}\napplies_to = "management.security"\n'
        + indicator("categories.mgmt.dimensions.sec.indicators.audits")
    )(VALID)
    fw = parse_framework(text)
    assert fw.nodes["audits"].applies_to == "management.security"
    assert fw.nodes["mgmt"].applies_to == "management"


def test_category_may_hold_indicators_directly() -> None:
    text = append(f"[categories.mgmt]\nname = {NAMES}\n" + indicator("categories.mgmt.indicators.plans"))(
        VALID
    )
    fw = parse_framework(text)
    assert fw.nodes["plans"].parent == "mgmt"
    assert fw.levels()["mgmt"] == 2


# --- files that are not TOML / not UTF-8 -------------------------------------------------
def test_invalid_toml() -> None:
    with pytest.raises(EgovError) as info:
        parse_framework(VALID + "\nthis is = = not toml\n", origin="bad.toml")
    assert "bad.toml: not valid TOML" in str(info.value)


def test_duplicate_table_is_invalid_toml() -> None:
    with pytest.raises(EgovError, match="not valid TOML"):
        parse_framework(VALID + "\n" + INFRA + "weight = 3\n")


def test_non_utf8_bytes() -> None:
    raw = VALID.replace("測試框架", "Teste").encode("utf-8").replace(b"Quadro", "Quadro é".encode("latin-1"))
    with pytest.raises(EgovError) as info:
        parse_framework(raw, origin="bad.toml")
    assert "not UTF-8" in str(info.value)
    assert "bad.toml" in str(info.value)


def test_utf8_bytes_are_accepted() -> None:
    assert parse_framework(VALID.encode("utf-8")).name["zh-Hant"] == "測試框架"


def test_load_framework_missing_file_and_folder(tmp_path) -> None:
    with pytest.raises(EgovError, match="no such framework file"):
        load_framework(tmp_path / "nope.toml")
    with pytest.raises(EgovError, match="is a folder"):
        load_framework(tmp_path)


def test_load_framework_reports_the_file_name(tmp_path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(set_key(CSAT, "weight", "0")(VALID), encoding="utf-8")
    with pytest.raises(EgovError) as info:
        load_framework(path)
    assert info.value.message.startswith(f"{path}: invalid framework (1 problem)")


# --- several problems at once ------------------------------------------------------------
def test_all_problems_are_reported_at_once() -> None:
    text = both(
        append('[metadata]\nauthor = "x"\n'),
        set_key(CSAT, "weight", "0"),
        set_key(MTTR, "direction", '"up"'),
        drop_key(TAKEUP, "rationale"),
        set_key(INFRA, "aggregation", '"median"'),
        set_key(UPTIME, "normalisation", '{ method = "goalposts", min = 100, max = 99 }'),
        set_key(MTTR, "name", '{ zh-Hant = "恢復時間", en = "MTTR", fr = "x" }'),
        after(METHODS, 'treatment = "x"\nscreening = { min_coverage = 2 }'),
        after(INDEX, "min_coverage = -1"),
        set_key(TAKEUP, "denominator", '"takeup"'),
    )(VALID)
    with pytest.raises(EgovError) as info:
        parse_framework(text, origin="bad.toml")
    problems = info.value.problems
    assert sorted(problems) == sorted(
        [
            "metadata: unknown key (allowed at the top level: categories, checklists, framework, index, methods)",
            f"{P_CSAT}.weight: must be > 0",
            f"{P_MTTR}.direction: must be 1 or -1, not 'up'",
            f"{P_TAKEUP}.rationale: missing",
            "categories.infra.aggregation.method: unknown aggregation method 'median' "
            f"(known: {known('aggregation')})",
            f"{P_UPTIME}.normalisation.max: must be greater than min (use direction = -1 to reverse)",
            f"{P_MTTR}.name.fr: unknown language (allowed: zh-Hant, pt, en)",
            f"{P_MTTR}.name.pt: missing name",
            f"methods.treatment.method: unknown outlier treatment method 'x' (known: {known('treatment')})",
            "methods.screening.min_coverage: must be between 0 and 1",
            "index.min_coverage: must be between 0 and 1",
            f"{P_TAKEUP}.denominator: an indicator cannot be divided by itself",
        ]
    )
    assert len(problems) == 12
    assert info.value.message == "bad.toml: invalid framework (12 problems)"
    # str() lists every problem, one a line
    assert str(info.value).count("\n  - ") == 12


# --- what the new format accepts -----------------------------------------------------------
def test_code_starting_with_a_digit_is_accepted() -> None:
    text = both(
        sub("indicators.takeup]", "indicators.9lives]"),
        lambda t: t.replace("[categories.infra", "[categories.1infra"),
        set_key(INDEX, "code", '"2026"'),
    )(VALID)
    fw = parse_framework(text)
    assert "9lives" in fw.indicator_codes
    assert fw.nodes["9lives"].parent == "uptake"
    assert [c.code for c in fw.categories] == ["1infra", "application"]
    assert fw.index_code == "2026"


def test_old_format_is_not_silently_accepted() -> None:
    old = VALID.replace(INDEX, "").replace(METHODS, "").replace('code = "idx"\n', 'index_code = "idx"\n')
    problems = problems_of(old)
    assert "framework.index_code: unknown key (allowed: code, description, name, source, version)" in problems
    assert "framework.rollup: unknown key (allowed: code, description, name, source, version)" in problems


def test_index_and_methods_tables_are_optional() -> None:
    start, end = VALID.index(INDEX), VALID.index(INFRA)
    fw = parse_framework(VALID[:start] + VALID[end:])
    assert fw.index_code == "index"
    assert fw.index.name == fw.name
    assert fw.methods == {}
    for stage, default in DEFAULTS.items():
        assert fw.default(stage) == default
    assert fw.screening is None
    assert fw.min_coverage_of("index") == 0.0
    assert fw.rollup == "mean"


def test_index_table_sets_the_index_node() -> None:
    text = both(
        after(INDEX, f"name = {NAMES}\nmin_coverage = 0.75"),
        set_key(INDEX, "aggregation", '{ method = "generalised", p = 2 }'),
    )(VALID)
    fw = parse_framework(text)
    assert fw.index.name == {"zh-Hant": "名稱", "pt": "Nome", "en": "Name"}
    assert fw.name["en"] == "Test framework"
    assert fw.method_of("idx", "aggregation") == {"method": "generalised", "p": 2.0}
    assert fw.min_coverage_of("idx") == 0.75


def test_methods_table_gives_the_defaults_of_every_node() -> None:
    text = after(
        METHODS,
        'treatment = "none"\ndenomination = { method = "divide", scale = 100 }\n'
        'aggregation = { method = "generalised", p = 0.5 }\nweighting = "equal"\n'
        "screening = { min_coverage = 0.25 }\nmin_coverage = 0.6",
    )(VALID)
    fw = parse_framework(text)
    # a node without its own method takes [methods]; a node with one keeps it
    assert fw.method_of("mttr", "normalisation") == {"method": "minmax", "lower": 0.0, "upper": 100.0}
    assert fw.method_of("uptime", "normalisation")["method"] == "goalposts"
    assert fw.method_of("mttr", "denomination") == {"method": "divide", "scale": 100.0}
    assert fw.method_of("takeup", "denomination") == {"method": "divide", "scale": 1000.0}
    assert fw.method_of("avail", "aggregation") == {"method": "generalised", "p": 0.5}
    assert fw.method_of("application", "aggregation") == {"method": "arithmetic"}
    assert fw.method_of("idx", "aggregation") == {"method": "arithmetic"}  # [index] sets it
    assert fw.method_of("avail", "weighting") == {"method": "equal"}
    assert fw.method_of("idx", "weighting") == {"method": "manual"}
    assert fw.screening == {"min_coverage": 0.25}
    assert fw.min_coverage_of("avail") == 0.6
    assert fw.min_coverage_of("application") == 0.5  # its own
    assert fw.default("treatment") == {"method": "none"}


def test_per_indicator_methods_of_every_indicator_stage() -> None:
    text = after(
        MTTR,
        'denominator = "staff"\n'
        'denomination = "divide"\n'
        'imputation = { method = "group_median", by = "peer_group" }\n'
        'treatment = "none"\n'
        'normalisation = { method = "distance_to_target", target = 2 }',
    )(VALID)
    fw = parse_framework(text)
    assert fw.nodes["mttr"].denominator == "staff"
    assert fw.nodes["mttr"].methods == {
        "denomination": {"method": "divide", "scale": 1.0},
        "imputation": {"method": "group_median", "by": "peer_group"},
        "treatment": {"method": "none"},
        "normalisation": {"method": "distance_to_target", "target": 2.0, "cap": False, "scale": 100.0},
    }


def test_ahp_and_budget_that_fit_their_aggregate_are_accepted() -> None:
    text = both(
        after(AVAIL, 'weighting = { method = "ahp", matrix = [[1, 3], [0.3333333333, 1]] }'),
        set_key(INDEX, "weighting", '{ method = "budget", allocations = [[60, 40], [50, 50]] }'),
    )(VALID)
    fw = parse_framework(text)
    assert fw.method_of("avail", "weighting")["matrix"] == [[1.0, 3.0], [0.3333333333, 1.0]]
    assert fw.method_of("idx", "weighting")["allocations"] == [[60.0, 40.0], [50.0, 50.0]]


def test_denominator_may_name_another_indicator_or_a_unit_column() -> None:
    fw = parse_framework(after(MTTR, 'denominator = "uptime"')(VALID))
    assert fw.nodes["mttr"].denominator == "uptime"
    assert fw.nodes["takeup"].denominator == "population"  # not a node: a unit column


def test_min_coverage_bounds_are_inclusive() -> None:
    text = both(
        set_key(APP, "min_coverage", "1"),
        after(SAT, "min_coverage = 0"),
        after(METHODS, "min_coverage = 1.0"),
    )(VALID)
    fw = parse_framework(text)
    assert fw.min_coverage_of("application") == 1.0
    assert fw.min_coverage_of("satisfaction") == 0.0
    assert fw.min_coverage_of("uptake") == 1.0


# --- canonical form and content hash -------------------------------------------------------
def _written_with_defaults(method: str, stage: str) -> str:
    """A method written as a table with every parameter at its default (TOML inline table)."""
    params = {k: p.default for k, p in STAGES[stage][method].params.items() if p.default is not None}
    cells = [f'method = "{method}"'] + [
        f"{k} = {str(v).lower() if isinstance(v, bool) else repr(v)}" for k, v in params.items()
    ]
    return "{ " + ", ".join(cells) + " }"


WITHOUT_REQUIRED = [
    (stage, name)
    for stage, registry in STAGES.items()
    for name, method in registry.items()
    if not any(p.required for p in method.params.values())
]


@pytest.mark.parametrize(("stage", "method"), WITHOUT_REQUIRED, ids=[f"{s}-{m}" for s, m in WITHOUT_REQUIRED])
def test_hash_ignores_how_a_method_is_written(stage: str, method: str) -> None:
    """`"minmax"` and `{ method = "minmax", lower = 0.0, upper = 100.0 }` are the same
    framework, in [methods] and on a node."""
    table = _written_with_defaults(method, stage)
    as_string, as_table = (set_key(METHODS, stage, v)(VALID) for v in (f'"{method}"', table))
    assert parse_framework(as_string).content_hash == parse_framework(as_table).content_hash
    if stage in INDICATOR_STAGES:
        header = MTTR
    elif stage in AGGREGATE_STAGES:
        header = AVAIL
    else:
        return
    on_node = [set_key(header, stage, v)(VALID) for v in (f'"{method}"', table)]
    assert parse_framework(on_node[0]).content_hash == parse_framework(on_node[1]).content_hash


def test_hash_ignores_1_versus_1_0() -> None:
    ints = both(
        set_key(CSAT, "weight", "2"),
        set_key(APP, "min_coverage", "1"),
        after(METHODS, "screening = { min_coverage = 0 }\nmin_coverage = 0"),
        after(INDEX, "min_coverage = 1"),
        set_key(UPTIME, "range", "[0, 100]"),
        set_key(UPTIME, "normalisation", '{ method = "goalposts", min = 99, max = 100, scale = 10 }'),
        set_key(TAKEUP, "target", "80"),
        set_key(TAKEUP, "denomination", '{ method = "divide", scale = 1000 }'),
        after(AVAIL, 'aggregation = { method = "generalised", p = 2 }'),
    )(VALID)
    floats = both(
        set_key(CSAT, "weight", "2.0"),
        set_key(APP, "min_coverage", "1.0"),
        after(METHODS, "screening = { min_coverage = 0.0 }\nmin_coverage = 0.0"),
        after(INDEX, "min_coverage = 1.0"),
        set_key(UPTIME, "range", "[0.0, 100.0]"),
        set_key(UPTIME, "normalisation", '{ method = "goalposts", min = 99.0, max = 100.0, scale = 10.0 }'),
        set_key(TAKEUP, "target", "80.0"),
        set_key(TAKEUP, "denomination", '{ method = "divide", scale = 1e3 }'),
        after(AVAIL, 'aggregation = { method = "generalised", p = 2.0 }'),
    )(VALID)
    assert ints != floats
    assert parse_framework(ints).content_hash == parse_framework(floats).content_hash


def test_hash_ignores_parameter_order_and_an_unnamed_index() -> None:
    a = set_key(UPTIME, "normalisation", '{ method = "goalposts", min = 99, max = 100 }')(VALID)
    b = set_key(UPTIME, "normalisation", '{ max = 100, clip = true, min = 99, method = "goalposts" }')(VALID)
    assert parse_framework(a).content_hash == parse_framework(b).content_hash
    named = after(INDEX, 'name = { zh-Hant = "測試框架", pt = "Quadro de teste", en = "Test framework" }')(
        VALID
    )
    assert parse_framework(named).content_hash == parse_framework(VALID).content_hash


def test_hash_changes_with_the_order_of_children() -> None:
    """Sibling order is content: AHP matrices and budget allocations are written in it."""
    i, j, k = VALID.index(UPTIME), VALID.index(MTTR), VALID.index(APP)
    swapped = VALID[:i] + VALID[j:k] + VALID[i:j] + VALID[k:]
    fw, other = parse_framework(VALID), parse_framework(swapped)
    assert other.nodes["avail"].children == ("mttr", "uptime")
    assert other.to_dict() == fw.to_dict()  # the same tables…
    assert other.content_hash != fw.content_hash  # …in another order


@pytest.mark.parametrize(
    "mutate",
    [
        set_key(METHODS, "normalisation", '{ method = "minmax", lower = 0, upper = 10 }'),
        set_key(INDEX, "aggregation", '"geometric"'),
        after(MTTR, 'imputation = "mean"'),
        set_key(TAKEUP, "denominator", '"staff"'),
        set_key(APP, "min_coverage", "0.6"),
        after(METHODS, "screening = { min_coverage = 0.5 }"),
        set_key(INDEX, "code", '"index2"'),
    ],
    ids=[
        "default method",
        "index aggregation",
        "node method",
        "denominator",
        "min_coverage",
        "screening",
        "index code",
    ],
)
def test_hash_changes_with_a_method_choice(mutate: Mutation) -> None:
    assert parse_framework(mutate(VALID)).content_hash != parse_framework(VALID).content_hash
