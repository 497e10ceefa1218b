"""Validation of framework files: every bad file is reported with key path and message.

Each case starts from the small valid framework VALID below, applies one mutation and
checks that the expected "key.path: message" problem is among the reported problems.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from egov.errors import EgovError
from indicators.framework import load_framework, parse_framework

NAMES = '{ zh-Hant = "名稱", pt = "Nome", en = "Name" }'

VALID = """\
# a small framework: 2 categories, 3 dimensions, 5 indicators
[framework]
code = "test-fw"
version = "1"
name = { zh-Hant = "測試框架", pt = "Quadro de teste", en = "Test framework" }
rollup = "mean"
normalisation = { method = "minmax", lower = 0, upper = 100 }

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
rationale = "§2 take-up"
"""

INFRA = "[categories.infra]\n"
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
    assert fw.index_code == "index"


def test_helpers_touch_the_intended_table() -> None:
    text = set_key(CSAT, "weight", "0")(VALID)
    assert "weight = 2\nsource" not in text.split(CSAT)[1].split("\n[")[0]
    assert text.count("weight = 0") == 1
    assert drop_key(MTTR, "unit")(VALID).count('unit = "hours"') == 0


# --- one problem per case -----------------------------------------------------------------
CASES: list[tuple[str, Mutation, str, str]] = [
    # unknown keys
    ("unknown top-level key", append('[metadata]\nauthor = "x"\n'), "metadata", "unknown key"),
    ("unknown framework key", after("[framework]\n", 'author = "x"'), "framework.author", "unknown key"),
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
        after("[framework]\n", 'index_code = "application"'),
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
        "code starting with a digit",
        sub("indicators.takeup]", "indicators.9lives]"),
        "categories.application.dimensions.uptake.indicators.9lives",
        "is not a valid code (start with a letter",
    ),
    (
        "invalid index code",
        after("[framework]\n", 'index_code = "the index"'),
        "framework.index_code",
        "'the index' is not a valid code",
    ),
    # names
    ("missing names of an indicator", drop_key(MTTR, "name"), f"{P_MTTR}.name", "missing names"),
    (
        "missing names of a dimension",
        drop_key(AVAIL, "name"),
        "categories.infra.dimensions.avail.name",
        "missing names",
    ),
    ("missing framework name", drop_key("[framework]\n", "name"), "framework.name", "missing names"),
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
        "categories.infra.aggregation",
        "unknown aggregation method 'median' (known: arithmetic, geometric, harmonic)",
    ),
    (
        "unknown index aggregation",
        after("[framework]\n", 'aggregation = "sum"'),
        "framework.aggregation",
        "unknown aggregation method 'sum'",
    ),
    ("unknown rollup", set_key("[framework]\n", "rollup", '"avg"'), "framework.rollup", "unknown roll-up"),
    (
        "unknown normalisation method",
        set_key(MTTR, "normalisation", '{ method = "zscore" }'),
        f"{P_MTTR}.normalisation.method",
        "unknown normalisation method 'zscore'",
    ),
    (
        "unknown default normalisation method",
        set_key("[framework]\n", "normalisation", '"rank"'),
        "framework.normalisation.method",
        "unknown normalisation method 'rank'",
    ),
    (
        "normalisation without method",
        set_key(MTTR, "normalisation", "{ lower = 0 }"),
        f"{P_MTTR}.normalisation.method",
        "missing",
    ),
    (
        "normalisation not a table",
        set_key(MTTR, "normalisation", "5"),
        f"{P_MTTR}.normalisation",
        "must be a table",
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
        set_key("[framework]\n", "normalisation", '{ method = "minmax", lower = 1, upper = 1 }'),
        "framework.normalisation.upper",
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
        "unknown source 'survey' (known: metric, rating)",
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
        set_key(INFRA, "applies_to", '"infrastructure.cloud"'),
        "categories.infra.applies_to",
        "unknown subkind 'cloud' of 'infrastructure' (known: none)",
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
    ("missing framework code", drop_key("[framework]\n", "code"), "framework.code", "missing"),
    ("missing framework version", drop_key("[framework]\n", "version"), "framework.version", "missing"),
    (
        "framework version of the wrong type",
        set_key("[framework]\n", "version", "[1]"),
        "framework.version",
        "must be a string",
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
    fw = parse_framework(set_key("[framework]\n", "version", "2026.1")(VALID))
    assert fw.version == "2026.1"


def test_string_normalisation_shorthand_is_accepted() -> None:
    fw = parse_framework(set_key(MTTR, "normalisation", '"none"')(VALID))
    assert fw.nodes["mttr"].normalisation == {"method": "none"}


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
    )(VALID)
    with pytest.raises(EgovError) as info:
        parse_framework(text, origin="bad.toml")
    problems = info.value.problems
    assert sorted(problems) == sorted(
        [
            "metadata: unknown key (allowed at the top level: categories, framework)",
            f"{P_CSAT}.weight: must be > 0",
            f"{P_MTTR}.direction: must be 1 or -1, not 'up'",
            f"{P_TAKEUP}.rationale: missing",
            "categories.infra.aggregation: unknown aggregation method 'median' "
            "(known: arithmetic, geometric, harmonic)",
            f"{P_UPTIME}.normalisation.max: must be greater than min (use direction = -1 to reverse)",
            f"{P_MTTR}.name.fr: unknown language (allowed: zh-Hant, pt, en)",
            f"{P_MTTR}.name.pt: missing name",
        ]
    )
    assert len(problems) == 8
    assert info.value.message == "bad.toml: invalid framework (8 problems)"
    # str() lists every problem, one a line
    assert str(info.value).count("\n  - ") == 8
