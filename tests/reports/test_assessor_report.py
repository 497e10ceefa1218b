"""The assessor's report as a person sees it: `egov demo` then `egov report`, the HTML opened
in headless Chromium with no network (charts render as SVG, no console error, screenshots in
test-artifacts/), the workbook re-opened with openpyxl cell by cell and converted by
LibreOffice headless."""

from __future__ import annotations

import html
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from reports.i18n import t
from tests.helpers.cli import run_cli
from tests.helpers.demo import DemoBuild, copy_sqlite, settings_on, sqlite_url_of

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "reports"
EVIL = '=HYPERLINK("http://evil.example","<b>x</b>")'
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--proxy-server=127.0.0.1:9",
    "--host-resolver-rules=MAP * ~NOTFOUND",
]


@dataclass
class Built:
    demo_out: Path
    out: Path
    run_key: str
    html: Path
    xlsx: Path
    db_url: str


def _run(args: list[object]) -> tuple[int, str]:
    return run_cli(args), ""


@pytest.fixture(scope="module")
def built(demo_build: DemoBuild, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    """The demo database (SQLite; a copy of the session's `egov demo --lang en`), its outputs,
    and the English report after a department and an object were renamed to text that looks
    like a formula and like HTML."""
    from sqlalchemy import text

    from egov.db import session_scope

    tmp = tmp_path_factory.mktemp("assessor")
    db_url = sqlite_url_of(copy_sqlite(demo_build.db, tmp / "egov.db"))
    with settings_on(db_url, tmp):
        with session_scope() as s:
            s.execute(text("UPDATE department SET name_en = :n WHERE code = 'DSAMA'"), {"n": EVIL})
            s.execute(text("UPDATE assessed_object SET name_en = '@SUM(A1)' WHERE code = 'CARIC'"))
            run_key = s.execute(text("SELECT run_key FROM evaluation_run ORDER BY id DESC")).scalars().first()
        assert run_cli(["report", "latest", "--out", tmp / "out", "--lang", "en"]) == 0
        base = tmp / "out" / f"assessor-report-{run_key}-en"
        yield Built(
            demo_build.out,
            tmp / "out",
            str(run_key),
            base.with_suffix(".html"),
            base.with_suffix(".xlsx"),
            db_url,
        )


@pytest.fixture
def in_db(built: Built, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from egov.db import dispose_engines
    from egov.settings import reset_settings

    monkeypatch.setenv("EGOV_DATABASE_URL", built.db_url)
    reset_settings()
    yield
    dispose_engines()
    reset_settings()


def test_demo_writes_the_assessor_report(built: Built) -> None:
    html_files = sorted(built.demo_out.glob("assessor-report-*-en.html"))
    assert len(html_files) == 1 and html_files[0].stat().st_size > 500_000  # the bundle is inlined
    assert sorted(built.demo_out.glob("assessor-report-*-en.xlsx"))


def test_html_is_self_contained_escaped_and_complete(built: Built) -> None:
    page = built.html.read_text(encoding="utf-8")
    assert '<html lang="en">' in page
    markup = re.sub(r"<script>.*?</script>", "", page, flags=re.S)  # the page without the inlined JS
    assert page.count("<script>") >= 7  # the bundle and one per chart, all inline
    assert not re.search(r"""<(script|link|img|iframe|object|embed)[^>]*(src|href|data)=""", markup)
    assert t("report.demo_banner", "en") in page
    for key in (
        "method.title",
        "method.stages",
        "method.coverage",
        "sec.overall",
        "sec.categories",
        "sec.coherence",
        "sec.framework",
        "sec.ratings",
        "sec.trend",
    ):
        assert t(key, "en") in page, key
    assert html.escape(t("sec.uncertainty_note", "en", n=200, seed=1)) in page
    assert built.run_key in page and "macau" in page
    assert "&lt;b&gt;x&lt;/b&gt;" in markup and "<b>x</b>" not in markup  # a name is text, not HTML


@pytest.mark.parametrize("lang", ["pt", "zh-Hant"])
def test_other_languages(built: Built, in_db: None, tmp_path: Path, lang: str) -> None:
    assert _run(["report", built.run_key, "--out", tmp_path, "--lang", lang, "--mc", "0"])[0] == 0
    page = (tmp_path / f"assessor-report-{built.run_key}-{lang}.html").read_text(encoding="utf-8")
    assert f'<html lang="{lang}">' in page
    for key in (
        "report.assessor.title",
        "method.title",
        "sec.overall",
        "chart.ranking.title",
        "chart.funnel.title",
    ):
        assert t(key, lang) in page, key
    assert t("report.not_available", lang) in page  # --mc 0: no rank intervals, said so
    wb = openpyxl.load_workbook(tmp_path / f"assessor-report-{built.run_key}-{lang}.xlsx")
    assert wb.sheetnames[3] == t("xl.summary", lang)  # after the three category sheets
    assert wb.active is not None and wb.active.title == wb.sheetnames[0]


def test_unknown_run_and_language_are_clear_errors(
    built: Built, in_db: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(["report", "nosuchrun", "--out", tmp_path])[0] == 1
    assert "no evaluation run 'nosuchrun'" in capsys.readouterr().err
    assert _run(["report", "latest", "--out", tmp_path, "--lang", "fr"])[0] == 1
    assert "Traceback" not in capsys.readouterr().err


def test_workbook_cell_by_cell(built: Built, in_db: None) -> None:
    from egov.db import session_scope
    from egov.store import get_run, run_scores

    with session_scope() as s:
        run = get_run(s, built.run_key)
        scores = run_scores(s, run, "department")
    index = scores[scores["level"] == scores["level"].max()].set_index("entity")
    wb = openpyxl.load_workbook(built.xlsx)
    # the category league tables first, then the summary (issue 14), data, the values the
    # framework's rule flagged (issue 16), weights, methodology
    assert wb.sheetnames == [
        "Infrastructure",
        "Application services",
        "Management bodies",
        "Summary",
        "Indicator data",
        "Unverified or disputed",
        "Weights",
        "Methodology",
    ]
    ws = wb["Summary"]
    header = [c.value for c in ws[1]]
    # the category league tables first, then the coverage and the overall rank (issue 14)
    assert header[:2] == ["Department", "Department code"] and header[2].startswith("Infrastructure")
    tail = ["Categories scored", "Rank", "Score", "Peer group", "Peer-group rank"]
    at = header.index("Rank")
    assert header[at - 1 : at + 4] == tail
    assert "Rank 5th percentile" in header and "Rank 95th percentile" in header
    assert ws.freeze_panes == "A2"
    assert ws.max_row == 1 + len(index)
    p05, p95 = header.index("Rank 5th percentile"), header.index("Rank 95th percentile")
    for row in ws.iter_rows(min_row=2):
        code, rank = row[1].value, row[at]
        assert row[at + 1].value == pytest.approx(index.at[code, "score"], abs=1e-9)
        assert row[at + 1].number_format == "0.00"
        if pd.isna(index.at[code, "rank"]):  # under the coverage rule: why, and no interval
            assert rank.value.startswith("not ranked overall: scored on ")
            assert row[at - 1].value == "1/3" and row[p05].value is None
            continue
        assert rank.value == index.at[code, "rank"] and rank.number_format == "0"
        assert row[p05].value <= rank.value <= row[p95].value
    ranks = [r[at].value for r in ws.iter_rows(min_row=2) if isinstance(r[at].value, int)]
    assert ranks == sorted(ranks) and len(ranks) < ws.max_row - 1
    assert len(ws.conditional_formatting) >= 1
    # the department renamed to a formula stays text
    evil = next(r for r in ws.iter_rows(min_row=2) if r[1].value == "DSAMA")[0]
    assert evil.value == EVIL and evil.data_type == "s" and evil.quotePrefix
    # no formula anywhere, every sheet frozen below its header
    for sheet in wb.worksheets:
        assert sheet.freeze_panes == "A2", sheet.title
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
    # category sheet scores equal the run's
    cat = wb["Infrastructure"]
    infra = scores[scores["node"] == "infrastructure"].set_index("entity")
    for row in cat.iter_rows(min_row=2):
        assert row[3].value == pytest.approx(infra.at[row[2].value, "score"], abs=1e-9)
        assert row[0].value == infra.at[row[2].value, "rank"]
    assert len(cat.conditional_formatting) >= 1


def test_workbook_indicator_data_has_provenance_and_flags(built: Built, in_db: None) -> None:
    from sqlalchemy import text

    from egov.db import session_scope

    wb = openpyxl.load_workbook(built.xlsx)
    ws = wb["Indicator data"]
    header = [c.value for c in ws[1]]
    for h in (
        "Raw value",
        "Normalised value",
        "Imputed",
        "Treated",
        "Flag",
        "Source file",
        "Source file hash",
        "Sheet",
        "Cell",
        "Imported by",
        "Imported at",
    ):
        assert h in header, h
    rows = {(r[0].value, r[3].value): r for r in ws.iter_rows(min_row=2)}
    with session_scope() as s:
        stored = s.execute(
            text(
                "SELECT o.code, m.indicator, m.value, m.source_file, m.imported_by, m.status FROM metric_value m "
                "JOIN assessed_object o ON o.id = m.object_id JOIN evaluation_run r ON r.period_id = m.period_id "
                "WHERE r.run_key = :k AND m.superseded_at IS NULL"
            ),
            {"k": built.run_key},
        ).all()
    assert stored
    checked = 0
    for code, ind, value, source, importer, status in stored:
        row = rows.get((code, ind))
        if row is None:  # an indicator that does not apply to the object is not listed
            continue
        assert row[header.index("Source file")].value == source
        assert row[header.index("Imported by")].value == importer
        if status == "disputed":  # the demo's disputed value: left out, the Macau rule's `exclude`
            assert row[header.index("Raw value")].value is None
            assert row[header.index("Status")].value == "Disputed"  # in the workbook's language
        elif value is not None:
            assert row[header.index("Raw value")].value == pytest.approx(value)
        assert row[header.index("Imported at")].number_format == "yyyy-mm-dd hh:mm"
        checked += 1
    assert checked > 500
    assert {r[header.index("Imputed")].value for r in rows.values()} <= {"Yes", "No"}
    obj = next(r for r in rows.values() if r[0].value == "CARIC")[1]
    assert obj.value == "@SUM(A1)" and obj.data_type == "s"
    meth = wb["Methodology"]
    values = [c.value for c in meth["A"]]
    assert t("report.demo_banner", "en") in values and "Framework hash" in values


@pytest.mark.slow
def test_libreoffice_converts_the_workbook(built: Built, soffice: str, tmp_path: Path) -> None:
    out = tmp_path / "lo"
    proc = subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            out,
            built.xlsx,
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    pdf = out / built.xlsx.with_suffix(".pdf").name
    assert pdf.stat().st_size > 10_000


@pytest.mark.slow
def test_browser_renders_the_charts_offline(built: Built, chromium: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)  # a fresh profile
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on(
                "request",
                lambda r: (
                    None
                    if r.url.startswith(("file:", "data:", "blob:", "about:"))
                    else requests.append(r.url)
                ),
            )
            page.goto(built.html.as_uri())
            page.wait_for_function(
                "document.querySelectorAll('figure.chart svg.marks').length >= 6", timeout=20_000
            )
            n_charts = page.locator("figure.chart").count()
            assert n_charts >= 6
            assert page.locator("figure.chart svg.marks").count() == n_charts  # every chart drew its SVG
            assert (
                page.locator(
                    "figure.chart svg.marks .mark-symbol path, figure.chart svg.marks .mark-rect path"
                ).count()
                > 50
            )
            assert page.locator(".banner").inner_text().strip() == t("report.demo_banner", "en")
            assert page.locator("text=chart error").count() == 0
            page.screenshot(path=str(ARTIFACTS / "assessor-report-en.png"), full_page=True)
            page.locator("figure.chart").first.screenshot(path=str(ARTIFACTS / "assessor-framework-en.png"))
            page.emulate_media(media="print")
            page.screenshot(path=str(ARTIFACTS / "assessor-report-en-print.png"), full_page=True)
        finally:
            browser.close()
    assert errors == []
    assert requests == []
    assert (ARTIFACTS / "assessor-report-en.png").stat().st_size > 50_000
