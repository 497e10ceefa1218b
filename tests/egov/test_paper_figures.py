"""The paper's figures in the Macau demo and framework (issue 15, "the paper's figures"):
every figure the demo enters (egov/demo.py PUBLISHED) is the paper's, quoted verbatim,
dated in its period and stored under an indicator that measures what it measures; the
README's lists of used and unused figures match; the framework states the share of a
department's score that ratings carry, as computed on the demo. The paper is read from
../shared/seed/ (skipped with the reason when absent)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlmodel import col, select

from egov.cycle import all_cycles
from egov.db import session_scope
from egov.demo import PERIODS, PUBLISHED, load_toml
from egov.models import EvaluationRun
from egov.record import load_result
from evaluation.structure import source_share
from indicators.framework import Framework, builtin_path, load_framework
from reports.i18n import value_text
from tests.helpers.demo import DemoBuild

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT.parent / "shared" / "seed"
QUOTED = re.compile(r"「([^」]+)」")
# a number, not a date: "654", "1,701", "16.3萬", "28 萬", "67%"; "2023年", "3月", "31日" are dates
NUMBER = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s*(萬|億)?(?!\s*[\d年月日])")
UNIT = {"": 1, "萬": 10_000, "億": 100_000_000}


@pytest.fixture(scope="module")
def paper() -> str:
    papers = sorted(SEED.glob("*.txt")) if SEED.is_dir() else []
    if not papers:
        pytest.skip(f"the paper is not at {SEED}")
    return "".join(p.read_text(encoding="utf-8") for p in papers)


@pytest.fixture(scope="module")
def macau() -> Framework:
    return load_framework(builtin_path("macau"))


def numbers(quote: str) -> list[float]:
    return [float(n.replace(",", "")) * UNIT[u] for n, u in NUMBER.findall(quote)]


def quotes_of(where: str) -> list[str]:
    found = QUOTED.findall(where)
    assert found, f"no quotation of the paper in {where!r}"
    return found


def derivations(quotes: list[str], where: str) -> list[float]:
    """What a published value may be: a number the paper gives, a percentage of two of
    them, or one per 1,000 of the residents the `where` names."""
    ns = [n for q in quotes for n in numbers(q)]
    out = ns + [100 * a / b for a in ns for b in ns if b]
    residents = re.search(r"per 1,000 of ([\d,]+) residents", where)
    if residents:
        pop = float(residents.group(1).replace(",", ""))
        out += [1000 * n / pop for n in ns]
    return out


def test_every_published_figure_is_the_papers_words(paper: str) -> None:
    for period, obj, ind, value, where in PUBLISHED:
        quotes = quotes_of(where)
        missing = [q for q in quotes if q not in paper]
        assert not missing, f"{obj} {ind}: not the paper's words: {missing}"
        candidates = derivations(quotes, where)
        assert any(abs(value - c) <= 0.05 for c in candidates), (
            f"{period} {obj} {ind} = {value} follows from no number quoted in {where!r}"
        )


def test_every_published_figure_is_dated_in_its_own_period(paper: str) -> None:
    """The year the quoted passage names is the period the value is entered for; a passage
    that names none says 目前 (now), i.e. the paper's own year (its latest access date)."""
    written = max(int(y) for y in re.findall(r"(\d{4})\s*年\s*\d+\s*月\s*\d+\s*日讀取", paper))
    for period, obj, ind, _value, where in PUBLISHED:
        assert period in PERIODS
        for q in quotes_of(where):
            years = {int(y) for y in re.findall(r"(\d{4})\s*年", q)}
            if not years:
                assert "目前" in q, f"{obj} {ind}: the quotation {q!r} names no date"
                years = {written}
            assert years == {int(period)}, f"{obj} {ind}: entered for {period}, the paper dates it {years}"


def test_the_police_data_centre_plan_and_its_2019_doubling_are_no_achievements(
    paper: str, macau: Framework
) -> None:
    assert "2019年保安部隊事務局將原有數據機房擴容一倍" in paper  # the doubling is the paper's, of 2019
    assert "計劃按照每年約60%的速度" in paper  # the 60 % is a plan
    assert not [p for p in PUBLISHED if p[1] == "POLICE_DATA_CENTRE"]
    growth = macau.nodes["infra_growth"]
    goalposts = macau.normalisation_of(growth)
    assert not (goalposts.get("method") == "goalposts" and goalposts.get("max") == 60), (
        "the paper's 60 % a year is a plan; it does not make full marks"
    )
    assert "plan, not an achievement" in growth.rationale and "2019" in growth.rationale


def test_shares_of_the_electronic_volume_are_channel_shares_not_take_up(paper: str, macau: Framework) -> None:
    channel = {(o, v) for _p, o, i, v, _w in PUBLISHED if i == "app_channel_share"}
    assert channel == {("PROOF_OF_LIFE_ONLINE", 67), ("VEHICLE_TAX_ONLINE", 85)}
    for _p, obj, ind, _v, where in PUBLISHED:
        if any("電子辦理量" in q or "電子方式" in q for q in quotes_of(where)):
            assert ind == "app_channel_share", f"{obj}: a share of the electronic volume under {ind}"
    assert "佔年度整體電子辦理量的67%" in paper and "佔電子方式的近85%" in paper
    # the take-up of life certificates through One Account: 9.2萬 of the 16.3萬 who did theirs
    passage = re.search(r"有逾([\d.]+)萬人已辦理該年度再生證明，其中([\d.]+)萬人通過“一戶通”線上辦理", paper)
    assert passage
    total, online = (float(g) for g in passage.groups())
    takeup = {o: v for _p, o, i, v, _w in PUBLISHED if i == "app_takeup"}
    assert takeup == {"PROOF_OF_LIFE_ONLINE": pytest.approx(online / total * 100, abs=0.05)}
    names = macau.nodes["app_channel_share"].name
    assert "電子辦理量" in names["zh-Hant"] and "electrónicos" in names["pt"] and "electronic" in names["en"]
    assert "all transactions" in macau.nodes["app_takeup"].name["en"]


def test_accounts_opened_are_not_active_users(macau: Framework) -> None:
    codes = {n.code for n in macau.indicators}
    assert "app_active_users" not in codes
    node = macau.nodes["app_registered_users"]
    assert "活躍" not in node.name["zh-Hant"] and "activ" not in node.name["pt"] + node.name["en"].lower()
    users = [w for _p, o, i, _v, w in PUBLISHED if i == "app_registered_users"]
    assert len(users) == 2 and any("開戶人數已逾52萬人" in w for w in users)


def readme_rows(heading: str) -> list[list[str]]:
    """The rows of the first table under a README heading, as lists of cells."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split(f"### {heading}\n", 1)[1].split("\n#", 1)[0]
    rows = [
        [c.strip() for c in line.strip("|").split("|")]
        for line in section.splitlines()
        if line.startswith("|")
    ]
    return rows[2:]  # without the header and the rule


def test_the_readme_lists_the_figures_the_demo_uses_and_those_it_does_not() -> None:
    used = readme_rows("Figures of the paper the demo uses")
    listed = {(r[0], r[1], r[2]): float(r[3].split()[0].replace(",", "")) for r in used}
    published = {(p, o, i): v for p, o, i, v, _w in PUBLISHED}
    assert listed.keys() == published.keys()
    for key, value in published.items():
        assert listed[key] == pytest.approx(value, abs=0.05), key
    unused = " ".join(r[0] for r in readme_rows("Figures of the paper the demo does not use, and why"))
    for figure in ("42 public departments", "650,000", "130,000", "164,000", "MOP 350 million", "107,000",
                   "1,701", "about 40 traffic lights", "11 of the 52", "16.1 %", "MOP 100 million",
                   "doubled in 2019", "60 % a year"):  # fmt: skip
        assert figure in unused, f"{figure} is neither used nor listed as unused"


def test_no_text_claims_the_paper_gives_more_than_it_does() -> None:
    files = [
        ROOT / "README.md",
        ROOT / "egov" / "demo.py",
        builtin_path("macau"),
        *(ROOT / "docs").glob("*.md"),
    ]
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert "where it gives one" not in text, path  # not every figure is used
        assert "main basis" not in text, path  # the paper says 重要依據, an important basis


@pytest.mark.slow
def test_the_framework_states_the_share_of_the_score_ratings_carry_in_the_demo(
    demo_build: DemoBuild, macau: Framework
) -> None:
    shares = []
    with session_scope(demo_build.url) as session:
        # the run each period's cycle names: 2022's published final, 2023's draft in review (the
        # superseded 2022 draft differs from the final by one accepted objection)
        for cycle in all_cycles(session):
            run = session.exec(select(EvaluationRun).where(col(EvaluationRun.run_key) == cycle.run_key)).one()
            shares.append(source_share(load_result(session, run), macau))
    assert len(shares) == len(PERIODS)
    with_apps = [s[s > 0] for s in shares]
    lo = min(float(s.min()) for s in with_apps) * 100
    hi = max(float(s.max()) for s in with_apps) * 100
    without = {int((s == 0).sum()) for s in shares}
    assert len(without) == 1
    text = macau.nodes["satisfaction"].description or ""
    assert f"{lo:.1f}–{hi:.1f} % of the overall score of a department with apps" in text, (lo, hi)
    assert f"0 % for the {without.pop()} departments without rated apps" in text, without
    assert "「重要依據」" in text and "not the main one" in text


def context_figures() -> list[tuple[str, dict[str, object]]]:
    """(object code, figure) of every context figure of the demo's register."""
    objects = load_toml("macau_register.toml")["objects"]
    return [(code, f) for code, o in objects.items() for f in o.get("context", [])]


def test_every_context_figure_is_the_papers_words_and_dated(paper: str) -> None:
    """The register's context figures (published, not scored): each quotation verbatim in the
    paper, its value a number the quotation gives, its period the one the quotation names
    (目前: the paper's own year)."""
    figures = context_figures()
    assert {(o, f["value"]) for o, f in figures} == {("OPEN_DATA_PLATFORM", 654), ("OPEN_DATA_PLATFORM", 55)}
    written = max(int(y) for y in re.findall(r"(\d{4})\s*年\s*\d+\s*月\s*\d+\s*日讀取", paper))
    for obj, f in figures:
        quote = str(f["quote"])
        assert quote in paper, f"{obj}: not the paper's words: {quote!r}"
        assert float(f["value"]) in numbers(quote), (obj, f["value"], quote)  # type: ignore[arg-type]
        assert "目前" in quote and f["period"] == str(written), (obj, f["period"])
        section = str(f["paper"])
        assert re.fullmatch(r"§[一二三四五六七八九十]+(\([一二三四五六七八九十]+\))*(\(\d+\))?", section), (
            section
        )
    assert not [p for p in PUBLISHED if p[1] == "OPEN_DATA_PLATFORM"], "context figures are not scored"


@pytest.mark.parametrize("lang", ["en", "zh-Hant"])
def test_safps_report_shows_the_open_data_figures_as_context(
    lang: str, demo_build: DemoBuild, demo_build_zh: DemoBuild
) -> None:
    from reports.i18n import t

    build = demo_build if lang == "en" else demo_build_zh
    page = (build.out / "department-SAFP.html").read_text(encoding="utf-8")
    assert t("dr.context", lang) in page
    context = page.split(t("dr.context", lang), 1)[1]
    assert value_text(654, "data sets", lang) in context and value_text(55, "data sets", lang) in context
    assert {"en": "654 data sets", "zh-Hant": "654 個數據集"}[lang] in context
    for _obj, f in context_figures():
        assert str(f["quote"]) in context and str(f["paper"]) in context
    other = (build.out / "department-DSAT.html").read_text(encoding="utf-8")
    assert t("dr.context", lang) not in other  # its objects have no context figures


def test_the_readme_says_the_open_data_totals_are_context_in_safps_report() -> None:
    rows = readme_rows("Figures of the paper the demo does not use, and why")
    row = next(r for r in rows if "654 open data sets" in r[0])
    assert "context" in row[1] and "SAFP" in row[1] and "not scored" in row[1]
