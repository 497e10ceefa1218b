"""Issue 16's done-when test: a cycle walked end to end through the command line and the web
pages, on SQLite and PostgreSQL, with a real `egov serve` and headless Chromium (Debian's,
through Playwright). The lead opens the cycle (CLI); department D1 logs in and submits a value
with an evidence file through the web form; the assessor adjusts it and verifies another on the
verify page; the sample audit, scoring and the moves to draft and review on the CLI; D1 reads its
draft and raises an objection on the review page (and is refused D2's draft); the assessor
accepts it with a new value on the objections page; the final run and the publication on the
CLI; /public/2025/ then shows the published run without credentials. Screenshots under
test-artifacts/reports/."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.helpers.cli import run_cli
from tests.helpers.cycle_world import PERIOD, build_world
from tests.helpers.servers import CHROMIUM_ARGS, serve

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "reports"
PDF = b"%PDF-1.4\n% uptime log\n"


def egov(*args: str) -> None:
    code = run_cli(args)
    assert code == 0, f"egov {' '.join(args)} exited {code}"


def latest_run(url: str) -> str:
    from egov.db import session_scope
    from egov.store import get_run

    with session_scope(url) as s:
        return get_run(s).run_key


def value_id(url: str, obj: str, indicator: str) -> int:
    from egov.db import session_scope
    from egov.values import find_value

    with session_scope(url) as s:
        return int(find_value(s, None, PERIOD, obj, indicator).id or 0)


def login(browser: Browser, base: str, key: str) -> Page:
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.goto(f"{base}/reports/login?lang=en")
    page.get_by_label("Access key").fill(key)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/reports/?lang=en")
    return page


def shot(page: Page, name: str, engine: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"cycle-{name}-{engine}.png"), full_page=True)


@pytest.mark.slow
def test_a_cycle_end_to_end(
    db_url: str, chromium: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playwright.sync_api import sync_playwright

    from egov.settings import reset_settings

    engine = "sqlite" if db_url.startswith("sqlite") else "postgresql"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    evidence = tmp_path / "evidence"
    for name, value in {
        "EGOV_DATABASE_URL": db_url,
        "EGOV_OPERATOR": "e2e",
        "EGOV_EVIDENCE_DIR": str(evidence),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    reset_settings()
    keys = build_world(db_url, cycle=False)
    egov("cycle", "open", PERIOD, "--as", "lead", "--review-days", "10", "--reason", "the 2025 round")
    env = {"EGOV_SECRET_KEY": "e2e-secret", "EGOV_EVIDENCE_DIR": str(evidence)}
    with serve(db_url, tmp_path, **env) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            # the department submits a value with its evidence file
            d1 = login(browser, base, keys["d1"])
            d1.get_by_role("link", name="Assessment cycles").first.click()
            d1.get_by_role("link", name="Values and evidence").click()
            d1.get_by_label("Object").select_option("APP1")
            d1.get_by_label("Indicator").select_option("app_takeup")
            d1.get_by_label("Value", exact=True).fill("42")
            d1.locator("#submit-file").set_input_files(
                {"name": "uptime.pdf", "mimeType": "application/pdf", "buffer": PDF}
            )
            d1.get_by_role("button", name="Submit").click()
            d1.get_by_role("status").filter(has_text="The value was submitted.").wait_for()
            assert d1.locator("td", has_text="42 %").count() == 1
            shot(d1, "department-values", engine)
            assert len(list(evidence.rglob("*"))) >= 2  # its folder and the file

            # the assessor adjusts it and verifies another
            egov("cycle", "advance", PERIOD, "--to", "verifying", "--reason", "values in", "--as", "assessor")
            assessor = login(browser, base, keys["assessor"])
            assessor.goto(f"{base}/reports/cycle/{PERIOD}/verify?lang=en")
            mine, other = value_id(db_url, "APP1", "app_takeup"), value_id(db_url, "APP2", "app_takeup")
            assessor.select_option(f"#act-{mine}", "adjust")
            assessor.fill(f"#val-{mine}", "44")
            assessor.fill(f"#why-{mine}", "the counter log says 44 %")
            assessor.get_by_role("button", name=f"Apply {mine}").click()
            assessor.get_by_role("status").filter(has_text="The value was adjusted.").wait_for()
            assessor.select_option(f"#act-{other}", "verify")
            assessor.get_by_role("button", name=f"Apply {other}").click()
            assessor.get_by_role("status").filter(has_text="The value was verified.").wait_for()
            shot(assessor, "assessor-verify", engine)

            # the sample audit, the draft and the review on the command line
            egov("audit", "sample", PERIOD, "--n", "2", "--seed", "7", "--as", "assessor")
            egov("score", "--period", PERIOD)
            draft = latest_run(db_url)
            egov(
                "cycle",
                "advance",
                PERIOD,
                "--to",
                "draft",
                "--run",
                draft,
                "--reason",
                "verified",
                "--as",
                "assessor",
            )
            egov(
                "cycle",
                "advance",
                PERIOD,
                "--to",
                "review",
                "--reason",
                "to the departments",
                "--as",
                "assessor",
            )

            # the department reads its draft, objects; another department's draft is refused,
            # and so is the whole unpublished run (its ranking, the assessor's report)
            d1.goto(f"{base}/reports/cycle/{PERIOD}/review?lang=en")
            assert d1.get_by_role("link", name="Department report of the draft").count() == 1
            refused = d1.goto(f"{base}/reports/{draft}/departments/D2?lang=en")
            assert refused is not None and refused.status == 403
            for path in (f"{draft}/ranking", f"{draft}/assessor", "latest/ranking"):
                other = d1.goto(f"{base}/reports/{path}?lang=en")
                assert other is not None and other.status in (403, 404), path
            own = d1.goto(f"{base}/reports/{draft}/departments/D1?lang=en")
            assert own is not None and own.status == 200
            # nothing of an unpublished period is public
            assert httpx.get(f"{base}/public/{PERIOD}/?lang=en", timeout=60).status_code == 404
            d1.goto(f"{base}/reports/cycle/{PERIOD}/review?lang=en")
            d1.get_by_label("Object to").select_option("value")
            d1.get_by_label("Object", exact=True).select_option("APP1")
            d1.get_by_label("Indicator").select_option("app_wcag")
            d1.get_by_label("Objection", exact=True).fill("the accessibility audit missed the new version")
            d1.get_by_label("Evidence", exact=True).fill("https://example.org/wcag-2025")
            d1.get_by_role("button", name="Raise the objection").click()
            d1.get_by_role("status").filter(has_text="The objection was raised.").wait_for()
            shot(d1, "department-review", engine)

            # the assessor accepts it with a new value
            assessor.goto(f"{base}/reports/cycle/{PERIOD}/objections?lang=en")
            assessor.get_by_label("Decision").select_option("accept")
            assessor.get_by_label("New value").fill("95")
            assessor.get_by_label("Reason").fill("the new version passes")
            assessor.get_by_role("button", name="Answer").click()
            assessor.get_by_role("status").filter(has_text="The objection was accepted.").wait_for()
            shot(assessor, "assessor-objections", engine)

            # the final run and the publication
            egov("score", "--period", PERIOD)
            final = latest_run(db_url)
            assert final != draft
            egov(
                "cycle",
                "advance",
                PERIOD,
                "--to",
                "final",
                "--run",
                final,
                "--reason",
                "review closed",
                "--as",
                "assessor",
            )
            egov("cycle", "publish", PERIOD, "--reason", "approved", "--as", "lead")

            public = httpx.get(f"{base}/public/{PERIOD}/?lang=en", timeout=60)
            assert public.status_code == 200 and final in public.text and "First bureau" in public.text
            assert "the new version passes" in httpx.get(f"{base}/public/{PERIOD}/?lang=en", timeout=60).text
            anonymous = browser.new_page()
            anonymous.goto(f"{base}/public/{PERIOD}/?lang=en")
            shot(anonymous, "public", engine)
        finally:
            browser.close()
    # the open-data package of the published run verifies
    egov("publish", "package", PERIOD, "--out", str(tmp_path / "open-data"), "--lang", "en")
    egov("runs", "verify", str(tmp_path / "open-data" / "bundle"), "--lang", "en")
    reset_settings()
