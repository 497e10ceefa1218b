"""The report pages as a department head sees them: a real `egov serve` process on the demo
database, headless Chromium (Debian's, through Playwright) logs in through the form with
the SAFP key, opens SAFP's report (it renders: the chart is an SVG, no console error, a
screenshot is saved under test-artifacts/reports/), cannot read the session cookie from
script, is refused DSAT's report and the assessor's, and logs out. And pages of another
origin (another port of the same host, and another site) that auto-submit a form to
/reports/login or /reports/logout change nothing: the session stays the user's."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from reports import theme
from tests.helpers.department_db import DemoDb
from tests.helpers.servers import CHROMIUM_ARGS, serve, static_site

if TYPE_CHECKING:
    from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "reports"


@pytest.mark.slow
def test_department_head_in_a_browser(tmp_path: Path, chromium: str, department_template: DemoDb) -> None:
    from playwright.sync_api import sync_playwright

    db = department_template.copy(tmp_path / "egov.db")
    run = db.runs["2023"]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with serve(db.url, tmp_path, EGOV_SECRET_KEY="browser-test-secret") as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            errors: list[str] = []
            external: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: None if r.url.startswith(base) else external.append(r.url))

            # no session yet: refused, with a way to log in
            first = page.goto(f"{base}/reports/{run}/departments/SAFP?lang=en")
            assert first is not None and first.status == 401
            errors.clear()  # the browser logs the 401 itself

            page.goto(f"{base}/reports/login?lang=en")
            page.get_by_label("Access key").fill(db.keys["department"])
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(f"{base}/reports/?lang=en")
            assert page.get_by_role("link", name="Department report").count() >= 1
            assert page.evaluate("document.cookie") == ""  # HttpOnly: script cannot read it

            resp = page.goto(f"{base}/reports/{run}/departments/SAFP?lang=en")
            assert resp is not None and resp.status == 200
            page.locator("figure.chart svg").first.wait_for(timeout=15_000)
            assert page.get_by_role("heading", name="Standing overall and by category").count() == 1
            assert page.get_by_role("heading", name="Open bad-rating cases").count() == 1
            assert page.locator("text=Illustrative demo data").count() >= 1
            assert page.locator("figure.chart svg").count() >= 1
            page.screenshot(path=str(ARTIFACTS / "department-report-SAFP-en.png"), full_page=True)
            assert errors == [], errors
            assert external == [], external

            other = page.goto(f"{base}/reports/{run}/departments/DSAT?lang=en")
            assert other is not None and other.status == 403
            assert page.locator("text=This key may not see this page.").count() == 1
            page.screenshot(path=str(ARTIFACTS / "department-report-refused.png"))
            assessor = page.goto(f"{base}/reports/{run}/assessor?lang=en")
            assert assessor is not None and assessor.status == 403

            page.goto(f"{base}/reports/?lang=en")
            page.get_by_role("button", name="Log out").click()
            page.wait_for_url(f"{base}/reports/login?lang=en")
            again = page.goto(f"{base}/reports/{run}/departments/SAFP?lang=en")
            assert again is not None and again.status == 401
        finally:
            browser.close()


def _forged(action: str, key: str = "") -> str:
    """A third-party page that posts a form to `action` as soon as it loads."""
    field = f'<input name="key" value="{key}"><input name="lang" value="en">' if key else ""
    return (
        f'<!doctype html><html><body><form method="post" action="{action}">{field}</form>'
        "<script>document.forms[0].submit()</script></body></html>"
    )


@pytest.mark.slow
def test_pages_of_another_origin_cannot_log_in_or_out(
    tmp_path: Path, chromium: str, department_template: DemoDb
) -> None:
    """Login CSRF (a third-party page swaps the assessor's session for a department's) and
    logout CSRF, in a real browser: the forged posts are refused (403) and the assessor's
    session is unchanged."""
    from playwright.sync_api import sync_playwright

    db = department_template.copy(tmp_path / "egov.db")
    run = db.runs["2023"]
    with serve(db.url, tmp_path, EGOV_SECRET_KEY="browser-test-secret") as base:
        pages = {
            "/login.html": _forged(f"{base}/reports/login?lang=en", db.keys["department"]),
            "/logout.html": _forged(f"{base}/reports/logout?lang=en"),
        }
        with static_site(pages) as other, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page()
                page.goto(f"{base}/reports/login?lang=en")
                page.get_by_label("Access key").fill(db.keys["assessor"])
                page.get_by_role("button", name="Log in").click()
                page.wait_for_url(f"{base}/reports/?lang=en")
                port = other.rsplit(":", 1)[1]
                # another port of the same host (the same site: the SameSite cookie is sent),
                # and another site (localhost is not 127.0.0.1)
                for origin in (f"http://127.0.0.1:{port}", f"http://localhost:{port}"):
                    for forged in ("/login.html", "/logout.html"):
                        with page.expect_response(lambda r: r.url.startswith(f"{base}/reports/log")) as sent:
                            page.goto(f"{origin}{forged}")
                        assert sent.value.status == 403, (origin, forged, sent.value.status)
                        page.locator("text=came from another site").wait_for()
                        # still the assessor's session: another department's page (a department
                        # session would get 403; lighter than the assessor's report)
                        mine = page.goto(f"{base}/reports/{run}/departments/DSAT?lang=en")
                        assert mine is not None and mine.status == 200, (origin, forged)
                # the user's own logout still works
                page.goto(f"{base}/reports/?lang=en")
                page.get_by_role("button", name="Log out").click()
                page.wait_for_url(f"{base}/reports/login?lang=en")
                after = page.goto(f"{base}/reports/{run}/assessor?lang=en")
                assert after is not None and after.status == 401
            finally:
                browser.close()


def _pixel(page: Page, png: bytes, x: float, y: float) -> list[int]:
    """The RGB colour at (x, y) of a PNG, decoded by the browser itself (a canvas)."""
    data = "data:image/png;base64," + base64.b64encode(png).decode()
    rgb: list[int] = page.evaluate(
        """async ([src, x, y]) => {
            const img = new Image(); img.src = src; await img.decode();
            const c = document.createElement('canvas'); c.width = img.width; c.height = img.height;
            const g = c.getContext('2d'); g.drawImage(img, 0, 0);
            return Array.from(g.getImageData(Math.floor(x), Math.floor(y), 1, 1).data.slice(0, 3));
        }""",
        [data, x, y],
    )
    return rgb


def _check_highlight(page: Page, department: str, shot: Path) -> None:
    """In the ranking chart (the first chart with dots), the row label of `department` is the
    only bold one and has the highlight colour, exactly one dot has the highlight colour,
    and a screenshot shows that colour at that dot."""
    chart = page.locator("figure.chart svg", has=page.locator("g.mark-symbol.role-mark")).first
    chart.wait_for(timeout=15_000)
    colour = theme.HIGHLIGHT.lower()
    labels = chart.locator("g.role-axis-label text").evaluate_all(
        "els => els.map(e => [e.textContent, e.getAttribute('font-weight'), (e.getAttribute('fill') || '').toLowerCase()])"
    )
    bold = [(text, fill) for text, weight, fill in labels if weight == "bold"]
    assert len(bold) == 1 and bold[0][0].endswith(f"({department})") and bold[0][1] == colour, labels
    dots = chart.locator("g.mark-symbol.role-mark path")  # the dots, not the legend's symbols
    fills = dots.evaluate_all("els => els.map(e => (e.getAttribute('fill') || '').toLowerCase())")
    assert fills.count(colour) == 1 and len(fills) >= 17, (
        fills
    )  # the 17 departments ranked overall (the coverage rule)
    dot = dots.nth(fills.index(colour))
    dot.scroll_into_view_if_needed()
    box = dot.bounding_box()
    assert box is not None
    png = page.screenshot(path=str(shot), full_page=False)
    got = _pixel(page, png, box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    want = [int(theme.HIGHLIGHT[i : i + 2], 16) for i in (1, 3, 5)]
    assert all(abs(a - b) <= 24 for a, b in zip(got, want, strict=True)), (got, want)


@pytest.mark.slow
def test_the_readers_department_is_highlighted(
    tmp_path: Path, chromium: str, department_template: DemoDb
) -> None:
    """Issue 14: a department head (SAFP's key) sees SAFP highlighted in the ranking chart of
    the ranking page and of the department report: bold label, its own colour, and that
    colour on screen (a screenshot's pixel at SAFP's dot)."""
    from playwright.sync_api import sync_playwright

    db = department_template.copy(tmp_path / "egov.db")
    run = db.runs["2022"]  # published: its ranking is every department's to read (2023's draft is not)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with serve(db.url, tmp_path, EGOV_SECRET_KEY="browser-test-secret") as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto(f"{base}/reports/login?lang=en")
            page.get_by_label("Access key").fill(db.keys["department"])
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(f"{base}/reports/?lang=en")
            resp = page.goto(f"{base}/reports/{run}/ranking?lang=en")
            assert resp is not None and resp.status == 200
            _check_highlight(page, "SAFP", ARTIFACTS / "ranking-highlight-SAFP-en.png")
            resp = page.goto(f"{base}/reports/{run}/departments/SAFP?lang=zh-Hant")
            assert resp is not None and resp.status == 200
            _check_highlight(page, "SAFP", ARTIFACTS / "department-report-highlight-SAFP-zh-Hant.png")
        finally:
            browser.close()
