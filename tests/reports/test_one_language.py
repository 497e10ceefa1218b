"""One language per output (issue 14): every command's language comes from `--lang`, else
the setting EGOV_LANG (default zh-Hant); the zh-Hant outputs of `egov demo` (the assessor's
report and workbook, every department report) hold no English sentence."""

from __future__ import annotations

import html
import re
from pathlib import Path

import openpyxl
import pytest

from egov.notices import DEMO_NOTICE
from evaluation.alternatives import Alternatives, valid_alternatives
from evaluation.coherence import COLLINEAR
from reports.i18n import t
from reports.texts import flag_text, note_text, run_note
from tests.helpers.cli import EgovCli
from tests.helpers.demo import DemoBuild

# Latin words a zh-Hant page may show: proper names and the names of statistics, units and
# abbreviations, and the codes of the framework, methods and template status values (codes
# with "_" or digits are never counted).
ALLOWED = {
    "cronbach",
    "pearson",
    "spearman",
    "monte",
    "carlo",
    "mop",
    "vcpu",
    "app",
    "apps",
    "api",
    "macau",
    "macao",
    "egov",
    "eval",
    "gov",
    "mo",
    "data",
    "www",
    "http",
    "https",
    "xlsx",
    "csv",
    "wcag",
    "pdf",
    "id",
    "it",
    "ict",
    "ssl",
    "tls",
    # method codes of the engine's registries (evaluation.methods), shown as code
    "minmax",
    "goalposts",
    "zscore",
    "rank",
    "none",
    "manual",
    "arithmetic",
    "geometric",
    "mean",
    "median",
    "winsorise",
    "winsorize",
    "clip",
    "scale",
    "min",
    "max",
    "lower",
    "upper",
    "equal",
    "pca",
    "knn",
    "hotdeck",
    "ecdf",
    "distance",
    "target",
    "mixed",
    # the template's status codes (typed in cells) and the import command
    "reported",
    "verified",
    "disputed",
    "import",
    "metrics",
    "period",
    "na",
}
WORD = re.compile(r"[A-Za-z][A-Za-z'’]*")
PHRASE = re.compile(r"[A-Za-z][A-Za-z'’]*(?:[ ,;:()\-]+[A-Za-z][A-Za-z'’]*)+")


def english_phrases(text: str) -> list[str]:
    """Runs of two or more Latin words (beyond the allowed names and codes) in `text`: what
    reads as English to a zh-Hant reader."""
    found = []
    for match in PHRASE.finditer(text):
        words = [w for w in WORD.findall(match.group()) if w.lower() not in ALLOWED and len(w) > 1]
        if len(words) >= 2:
            found.append(match.group())
    return found


def visible_text(page: str) -> str:
    """The text a reader sees in an HTML page (no scripts, styles, tags or attributes)."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "\n", page))


def test_the_scanner_finds_english_and_passes_codes_and_names() -> None:
    assert english_phrases("本部門 Your department 的分數") == ["Your department"]
    assert english_phrases("'app_csat' and 'app_bad_rate' correlate at r = 0.9") != []
    assert english_phrases("minmax (lower=0, upper=100)") == []
    assert english_phrases("Cronbach α · Monte Carlo · 政府數據開放平台（data.gov.mo）") == []
    assert english_phrases("infra_uptime 72 MOP") == []


@pytest.mark.parametrize("lang", ["zh-Hant", "pt", "en"])
def test_engine_texts_are_said_in_the_report_language(lang: str) -> None:
    names = {"a1": "甲", "a2": "乙", "agg": "丙"}.get
    row = {"aggregate": "agg", "node": "a1", "other": "a2", "r": 0.9761, "flag": "collinear"}
    text = flag_text(row, lang, lambda c: names(c) or c)
    assert "甲" in text and "乙" in text and "丙" in text and "0.976" in text and f"{COLLINEAR:g}" in text
    negative = flag_text({**row, "other": "agg", "r": -0.25, "flag": "negative with parent"}, lang, str)
    assert "-0.250" in negative and negative != text
    note = run_note(f"{DEMO_NOTICE}; seed=2023", lang)
    assert DEMO_NOTICE not in note and "2023" in note and "seed=" not in note
    assert run_note("my own note", lang) == "my own note"  # an operator's text as written
    if lang == "zh-Hant":
        assert english_phrases(text) == english_phrases(negative) == english_phrases(note) == []


@pytest.mark.parametrize("lang", ["zh-Hant", "pt"])
def test_command_notes_are_said_in_the_language(lang: str) -> None:
    """The notes `egov demo`, `score` and `change` print after their tables (issue 14: no
    English sentence in a zh-Hant output): codes and numbers kept, the words translated."""
    few = "3 object(s) with fewer than 30 ratings have no rating-derived values (insufficient): A_X, B_Y"
    gap = (
        "37 of 43 indicators have no data in period 2024 and are left out of every aggregate: "
        "infra_uptime, app_csat, … (+27 more)"
    )
    for note, kept in ((few, ("3", "30", "A_X, B_Y")), (gap, ("37", "43", "2024", "infra_uptime", "27"))):
        text = note_text(note, lang)
        assert all(k in text for k in kept), text
        assert "fewer than" not in text and "no data" not in text and "more" not in text
        if lang == "zh-Hant":
            assert english_phrases(text) == [], text
    assert note_text(few, "en") == f"note: {few}"  # English as the engine writes it
    assert note_text("an operator's own note", lang).endswith("an operator's own note")


@pytest.mark.parametrize("lang", ["zh-Hant", "pt"])
def test_alternatives_left_out_are_said_in_the_language(lang: str) -> None:
    """`egov uncertainty`'s notes of an alternative the data rules out (issue 18 point 5), as
    evaluation.alternatives writes them: the method names and the number kept."""
    alts = Alternatives.of(["minmax", "zscore"], ["arithmetic", "geometric"], [])
    lowest = {1: 1.0, 2: -1.649}.get
    _, norm_notes = valid_alternatives(alts, lambda j: lowest(j, 1.0), lambda a: a == 2)
    only_z = Alternatives.of(["zscore"], ["arithmetic", "geometric"], [])
    _, agg_notes = valid_alternatives(only_z, lambda j: -1.649, lambda a: a == 2)
    assert len(norm_notes) == len(agg_notes) == 1
    for note in (*norm_notes, *agg_notes):
        text = note_text(note, lang)
        assert "-1.649" in text and "geometric" in text and "left out" not in text, text
        if lang == "zh-Hant":
            assert english_phrases(text) == [], text
    assert "zscore(mean=10, sd=2)" in note_text(norm_notes[0], lang)


@pytest.mark.slow
def test_zh_hant_demo_outputs_have_no_english_sentence(demo_build_zh: DemoBuild) -> None:
    """`egov demo` without --lang: the assessor's report, every department report and the
    assessor's workbook hold no English sentence."""
    out = demo_build_zh.out
    pages = sorted(out.glob("assessor-report-*-zh-Hant.html")) + sorted(out.glob("department-*.html"))
    assert len(pages) == 21
    problems: dict[str, list[str]] = {}
    for page in pages:
        found = english_phrases(visible_text(page.read_text(encoding="utf-8")))
        if found:
            problems[page.name] = sorted(set(found))[:10]
    (book,) = sorted(out.glob("assessor-report-*-zh-Hant.xlsx"))
    wb = openpyxl.load_workbook(book, read_only=True)
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            for value in row:
                if isinstance(value, str) and (found := english_phrases(value)):
                    problems.setdefault(f"{book.name}:{ws.title}", []).extend(found)
    assert problems == {}


@pytest.mark.slow
def test_egov_lang_sets_the_language_and_lang_overrides_it(
    demo_url: str, egov: EgovCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    from egov.settings import reset_settings

    monkeypatch.setenv("EGOV_LANG", "pt")
    reset_settings()
    pt = egov(["rank", "--node", "egov_index"])
    assert pt.code == 0, pt.err
    for key in ("col.rank", "col.score", "col.peer_rank"):  # a long header folds: word by word
        assert all(word in pt.out for word in t(key, "pt").split()), key
    assert "Classificação, execução" in pt.out
    en = egov(["rank", "--node", "egov_index", "--lang", "en"])
    assert en.code == 0 and "Ranking, run" in en.out and "Peer-group rank" in en.out
    assert "Classificação" not in en.out
    monkeypatch.delenv("EGOV_LANG")
    reset_settings()
    zh = egov(["rank", "--node", "egov_index"])
    assert (
        zh.code == 0 and "排名，運行" in zh.out and t("col.score", "zh-Hant") in zh.out
    )  # the default: zh-Hant


def test_a_bad_egov_lang_is_a_clear_error(egov: EgovCli, monkeypatch: pytest.MonkeyPatch) -> None:
    from egov.settings import reset_settings

    monkeypatch.setenv("EGOV_LANG", "fr")
    reset_settings()
    try:
        res = egov(["framework", "show", "macau"])
        assert res.code == 1
        assert "EGOV_LANG 'fr'" in res.err and "zh-Hant, pt, en" in res.err
        assert "Traceback" not in res.err + res.out
        ok = egov(["framework", "show", "macau", "--lang", "en"])  # --lang wins over the setting
        assert ok.code == 0, ok.err
    finally:
        monkeypatch.delenv("EGOV_LANG")
        reset_settings()


def test_every_lang_option_defaults_to_the_setting() -> None:
    """No command fixes its own default language: each --lang is None until given."""
    import typer.main

    from cli import app

    command = typer.main.get_command(app)
    seen = 0

    def visit(cmd: object, path: str) -> None:
        nonlocal seen
        for param in getattr(cmd, "params", []):
            if "--lang" in getattr(param, "opts", []):
                seen += 1
                assert param.default is None, path
        for name, sub in (getattr(cmd, "commands", None) or {}).items():
            visit(sub, f"{path} {name}")

    visit(command, "egov")
    assert seen >= 12


def test_template_units_are_in_the_language(tmp_path: Path) -> None:
    from egov.template import TemplateObject, build_template
    from indicators.framework import resolve_framework

    fw = resolve_framework("macau")
    objects = [TemplateObject("OBJ", "對象", "SAFP", "application", None)]
    wb = build_template(fw, objects, "2024", "zh-Hant", "pytest")
    headers = [str(c.value) for ws in wb.worksheets if ws.sheet_state == "visible" for c in ws[3] if c.value]
    assert any("[小時]" in h or "[天]" in h for h in headers), headers
    assert not any(re.search(r"\[(hours|days|count|score 1-5)\]", h) for h in headers), headers


def test_value_sources_are_translated_but_stay_exact_in_english() -> None:
    from reports.texts import source_text

    paper = "demo:paper 婁勝華、趙友〈澳門特區電子政務建設〉§三(三)(3): 654 open data sets"
    assert source_text(paper, "en") == paper  # provenance as stored
    assert source_text(paper, "zh-Hant") == t(
        "src.paper", "zh-Hant", where="婁勝華、趙友〈澳門特區電子政務建設〉§三(三)(3)"
    )
    assert source_text("demo:synthetic seed=7", "pt") == t("src.synthetic", "pt", seed="7")
    assert source_text("metrics-2024.xlsx", "zh-Hant") == "metrics-2024.xlsx"
    assert source_text(None, "zh-Hant") is None


def test_report_pages_default_to_egov_lang(monkeypatch: pytest.MonkeyPatch) -> None:
    from starlette.requests import Request

    from egov.settings import reset_settings
    from reports.web.pages import lang_of

    def request(query: str) -> Request:
        return Request({"type": "http", "query_string": query.encode(), "headers": []})

    assert lang_of(request("")) == "zh-Hant"
    monkeypatch.setenv("EGOV_LANG", "pt")
    reset_settings()
    try:
        assert lang_of(request("")) == "pt" and lang_of(request("lang=en")) == "en"
    finally:
        monkeypatch.delenv("EGOV_LANG")
        reset_settings()


def test_not_comparable_and_report_warnings_are_said_in_the_language() -> None:
    from evaluation.trend import NOT_COMPARABLE
    from reports.texts import note_body, scale_text

    assert scale_text(NOT_COMPARABLE, "en") == NOT_COMPARABLE
    assert scale_text(NOT_COMPARABLE, "zh-Hant").startswith("不可比較")
    assert "não comparável" in scale_text(NOT_COMPARABLE, "pt")
    one = "1 of 53 indicators has no data and is left out of every aggregate: app_service_check"
    assert note_body(one, "en") == one
    zh = note_body(one, "zh-Hant")
    assert "app_service_check" in zh and "left out" not in zh and not zh.startswith("注意")
