"""`egov framework check | show | import` through the command line (in-process)."""

from __future__ import annotations

from pathlib import Path

import pytest

from indicators.framework import builtin_path, load_framework

ROOT = Path(__file__).resolve().parents[2]
MACAU_FILE = ROOT / "indicators" / "frameworks" / "macau.toml"

COINR_TABLE = """\
Level,iCode,iName,Direction,Weight,Unit,Target,Denominator,Parent,Type
1,uptime,Service uptime,1,1,%,99.9,NA,avail,Indicator
1,mttr,Mean time to recover,-1,1,hours,NA,NA,avail,Indicator
1,csat,Satisfaction rate,1,2,%,NA,NA,satis,Indicator
2,avail,Availability,1,1,Score,NA,NA,infra,Aggregate
2,satis,Satisfaction,1,1,Score,NA,NA,apps,Aggregate
3,infra,Infrastructure,1,1,Score,NA,NA,Index,Aggregate
3,apps,Applications,1,2,Score,NA,NA,Index,Aggregate
4,Index,Test index,1,1,Score,NA,NA,NA,Aggregate
NA,Population,Population,NA,NA,Thousands,NA,NA,NA,Denominator
"""


def assert_no_traceback(result) -> None:
    assert "Traceback" not in result.out + result.err
    assert "internal error" not in result.err


# --- check --------------------------------------------------------------------------------
def test_check_builtin_file(egov) -> None:
    result = egov(["framework", "check", MACAU_FILE, "--lang", "en"])
    assert result.code == 0, result.err
    assert "valid" in result.out
    fw = load_framework(MACAU_FILE)
    assert f"{len(fw.indicators)} indicators" in result.out
    assert fw.content_hash[:12] in result.out
    assert result.err == ""


def test_check_bad_file_reports_every_problem(egov, tmp_path: Path) -> None:
    text = builtin_path("macau").read_text(encoding="utf-8")
    header = "[categories.application.dimensions.satisfaction.indicators.app_csat]\n"
    start = text.index(header)
    end = text.index("\n[", start)
    block = (
        text[start:end]
        .replace("\nweight = 2\n", "\nweight = 0\n")
        .replace("\ndirection = 1\n", "\ndirection = 2\n")
    )
    bad = text[:start] + block + text[end:]
    assert text.count('rollup = "mean"') == 1  # in [methods]
    bad = bad.replace('rollup = "mean"', 'rollup = "avg"', 1) + "\n[extra]\nx = 1\n"
    path = tmp_path / "bad.toml"
    path.write_text(bad, encoding="utf-8")

    result = egov(["framework", "check", path])
    assert result.code == 1
    assert_no_traceback(result)
    assert "valid —" not in result.out
    assert "invalid framework (4 problems)" in result.err
    csat = "categories.application.dimensions.satisfaction.indicators.app_csat"
    for problem in (
        f"{csat}.weight: must be > 0",
        f"{csat}.direction: must be 1 or -1, not 2",
        "methods.rollup.method: unknown roll-up method 'avg'",
        "extra: unknown key",
    ):
        assert problem in result.err
    assert result.err.count("\n  - ") == 4


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"[framework\ncode = 1\n", "not valid TOML"),
        (b'[framework]\ncode = "caf\xe9"\n', "not UTF-8"),
    ],
    ids=["not TOML", "not UTF-8"],
)
def test_check_unreadable_file(egov, tmp_path: Path, content: bytes, fragment: str) -> None:
    path = tmp_path / "broken.toml"
    path.write_bytes(content)
    result = egov(["framework", "check", path])
    assert result.code == 1
    assert fragment in result.err
    assert str(path) in result.err
    assert_no_traceback(result)


def test_check_missing_file(egov, tmp_path: Path) -> None:
    result = egov(["framework", "check", tmp_path / "nope.toml"])
    assert result.code == 1
    assert "no such framework file" in result.err
    assert_no_traceback(result)


# --- show ---------------------------------------------------------------------------------
def test_show_macau_in_english(egov) -> None:
    result = egov(["framework", "show", "macau", "--lang", "en"])
    assert result.code == 0, result.err
    out = result.out
    assert "effective weight" in out
    assert "share of parent" in out
    for code in ("egov_index", "infrastructure", "application", "management", "infra_uptime", "app_csat"):
        assert code in out
    assert "Infrastructure" in out
    assert "Macao SAR E-Government Performance Evaluation Framework" in out
    assert "effective weights of the indicators sum to 1.000000" in out
    fw = load_framework(builtin_path("macau"))
    eff = fw.effective_weights()
    uptime_line = next(line for line in out.splitlines() if " infra_uptime " in line)
    assert f"{eff['infra_uptime']:.4f}" in uptime_line
    assert "goalposts" in uptime_line
    assert f"{len(fw.indicators)} indicators" in out


def test_show_macau_in_chinese(egov) -> None:
    result = egov(["framework", "show", "macau", "--lang", "zh-Hant"])
    assert result.code == 0, result.err
    for name in ("基礎設施", "應用服務", "管理機構", "電子政務績效指數"):
        assert name in result.out
    assert "有效權重" in result.out and "佔上層比例" in result.out
    assert "effective weight" not in result.out and "Infrastructure " not in result.out
    assert "各指標的有效權重合計 1.000000" in result.out


def test_show_by_file_path(egov) -> None:
    result = egov(["framework", "show", MACAU_FILE, "--lang", "pt"])
    assert result.code == 0, result.err
    assert "Infra-estruturas" in result.out


def test_show_default_is_macau(egov) -> None:
    result = egov(["framework", "show"])
    assert result.code == 0, result.err
    assert "egov_index" in result.out


def test_show_bad_language(egov) -> None:
    result = egov(["framework", "show", "macau", "--lang", "fr"])
    assert result.code == 1
    assert "--lang 'fr'" in result.err
    assert_no_traceback(result)


def test_show_unknown_builtin(egov) -> None:
    result = egov(["framework", "show", "atlantis"])
    assert result.code == 1
    assert "no built-in framework 'atlantis'" in result.err
    assert_no_traceback(result)


# --- import -------------------------------------------------------------------------------
def test_import_writes_a_valid_framework(egov, tmp_path: Path) -> None:
    table = tmp_path / "coinr.csv"
    table.write_text(COINR_TABLE, encoding="utf-8")
    out = tmp_path / "out" / "fw.toml"
    result = egov(
        ["framework", "import", table, "--out", out, "--code", "test-fw", "--version", "7", "--lang", "en"]
    )
    assert result.code == 0, result.err
    assert f"wrote {out}" in result.out
    assert "2 categories, 3 indicators" in result.out
    assert "note: skipped rows" in result.out
    assert out.is_file()
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Imported from coinr.csv")

    check = egov(["framework", "check", out, "--lang", "en"])
    assert check.code == 0, check.err
    assert "valid" in check.out
    assert "framework test-fw 7" in check.out
    fw = load_framework(out)
    assert fw.content_hash[:12] in result.out  # import and check report the same hash
    assert fw.content_hash[:12] in check.out

    show = egov(["framework", "show", out])
    assert show.code == 0, show.err
    assert "csat" in show.out


def test_import_bad_table_reports_the_line(egov, tmp_path: Path) -> None:
    table = tmp_path / "bad.csv"
    table.write_text(COINR_TABLE.replace("1,mttr,Mean time to recover,-1,", "1,mttr,Mean time to recover,3,"))
    out = tmp_path / "fw.toml"
    result = egov(["framework", "import", table, "--out", out])
    assert result.code == 1
    assert "bad.csv line 3 (mttr): must be 1 or -1, not 3" in result.err
    assert_no_traceback(result)
    assert not out.exists()


def test_import_orphan_reports_the_line(egov, tmp_path: Path) -> None:
    table = tmp_path / "orphan.csv"
    table.write_text(COINR_TABLE.replace(",avail,Indicator\n1,mttr", ",nowhere,Indicator\n1,mttr"))
    result = egov(["framework", "import", table, "--out", tmp_path / "fw.toml"])
    assert result.code == 1
    assert "orphan.csv line 2: orphan 'uptime': parent 'nowhere' is not defined" in result.err
    assert_no_traceback(result)


def test_import_unsupported_file(egov, tmp_path: Path) -> None:
    table = tmp_path / "table.json"
    table.write_text("{}")
    result = egov(["framework", "import", table, "--out", tmp_path / "fw.toml"])
    assert result.code == 1
    assert "unsupported file type '.json'" in result.err
    assert_no_traceback(result)


def test_import_infinite_target_is_a_user_error(egov, tmp_path: Path) -> None:
    table = tmp_path / "inf.csv"
    table.write_text(COINR_TABLE.replace("%,99.9,", "%,Inf,"))
    result = egov(["framework", "import", table, "--out", tmp_path / "fw.toml"])
    assert result.code == 1
    assert "inf.csv line 2 (uptime): must be a finite number" in result.err
    assert_no_traceback(result)


def test_import_asem_then_check(egov, tmp_path: Path, reference_dir: Path) -> None:
    table = reference_dir / "coinr-asem" / "ASEM_iMeta.csv"
    if not table.is_file():
        pytest.skip(f"{table} is absent")
    out = tmp_path / "asem.toml"
    result = egov(["framework", "import", table, "--out", out, "--lang", "en"])
    assert result.code == 0, result.err
    assert "2 categories, 49 indicators" in result.out
    check = egov(["framework", "check", out, "--lang", "en"])
    assert check.code == 0, check.err
    assert "valid" in check.out


def test_evaluate_reads_the_indicator_table_as_framework_import_would(
    egov, tmp_path: Path, reference_dir: Path
) -> None:
    """`egov evaluate TABLE DATA` (one command, COINr's new_coin(iData, iMeta)) writes exactly
    what `egov framework import TABLE` then `egov evaluate FRAMEWORK DATA` write."""
    table = reference_dir / "coinr-asem" / "ASEM_iMeta.csv"
    data = reference_dir / "coinr-asem" / "ASEM_iData.csv"
    if not (table.is_file() and data.is_file()):
        pytest.skip(f"{table} or {data} is absent")
    framework = tmp_path / "asem.toml"
    assert egov(["framework", "import", table, "--out", framework, "--lang", "en"]).code == 0
    two = egov(["evaluate", framework, data, "--out", tmp_path / "two", "--lang", "en"])
    one = egov(["evaluate", table, data, "--out", tmp_path / "one", "--lang", "en"])
    assert two.code == 0 and one.code == 0, two.err + one.err
    assert "note: skipped rows that are not part of the tree" in one.out  # the import's notes
    files = sorted(p.name for p in (tmp_path / "two").iterdir())
    assert files == sorted(p.name for p in (tmp_path / "one").iterdir()) and "scores.csv" in files
    for name in files:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), name


# --- the [index] / [methods] format through the command line -------------------------------
NAMES = '{ zh-Hant = "名", pt = "N", en = "N" }'
SMALL = f"""
[framework]
code = "small"
version = "1"
name = {NAMES}

[index]
code = "0index"
aggregation = "geometric"

[methods]
normalisation = {{ method = "minmax", lower = 1, upper = 100 }}
rollup = "min"

[categories.1c]
name = {NAMES}

[categories.1c.indicators.2i]
name = {NAMES}
unit = "%"
direction = 1
normalisation = "rank"
rationale = "§1"

[categories.1c.indicators.3i]
name = {NAMES}
unit = "count"
direction = -1
denominator = "population"
denomination = {{ method = "divide", scale = 1000 }}
rationale = "§2"
"""


def test_check_and_show_a_framework_in_the_new_format(egov, tmp_path: Path) -> None:
    path = tmp_path / "small.toml"
    path.write_text(SMALL, encoding="utf-8")
    check = egov(["framework", "check", path, "--lang", "en"])
    assert check.code == 0, check.err
    assert "framework small 1, 1 categories, 2 indicators" in check.out
    show = egov(["framework", "show", path])
    assert show.code == 0, show.err
    lines = show.out.splitlines()
    assert "geometric" in next(line for line in lines if "0index" in line)  # [index]
    assert "rank" in next(line for line in lines if " 2i " in line)  # its own
    assert "minmax" in next(line for line in lines if " 3i " in line)  # from [methods]


def test_check_reports_problems_of_the_new_keys(egov, tmp_path: Path) -> None:
    bad = (
        SMALL.replace('code = "0index"\n', 'code = "0index"\nweight = 2\nmin_coverage = 2\n')
        .replace('rollup = "min"\n', 'rollup = "min"\nscreening = { min_cov = 0.5 }\n')
        .replace('normalisation = "rank"\n', 'normalisation = "rank"\naggregation = "geometric"\n')
        .replace('denominator = "population"', 'denominator = "3i"')
    )
    path = tmp_path / "bad.toml"
    path.write_text(bad, encoding="utf-8")
    result = egov(["framework", "check", path])
    assert result.code == 1
    assert_no_traceback(result)
    assert "invalid framework (5 problems)" in result.err
    for problem in (
        "index.weight: unknown key (allowed: aggregation, code, min_categories, min_coverage, name, trend_scale, weighting)",
        "index.min_coverage: must be between 0 and 1",
        "methods.screening.min_cov: unknown key (allowed: min_coverage)",
        "categories.1c.indicators.2i.aggregation: unknown key",
        "categories.1c.indicators.3i.denominator: an indicator cannot be divided by itself",
    ):
        assert problem in result.err
