"""The case desk (issue 17, point 4) under /reports/desk/: who sees which cases, overdue said in
words, the statistics, the forms' refusals, the ledger's download; and one bad rating taken
through the desk in headless Chromium (take, tier, rectification, return visit, close) and then
read by the citizen on the public status page. SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.helpers.register import Env, setup_register
from tests.helpers.servers import CHROMIUM_ARGS, serve

COMMENT = "rude staff; my phone is 6612 3456"


@pytest.fixture
def api(use_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    """A TestClient on a fresh database with the register and one key per role."""
    from fastapi.testclient import TestClient

    from egov.app import create_app
    from egov.settings import reset_settings

    monkeypatch.setenv("EGOV_SECRET_KEY", "test-secret-not-for-production")
    reset_settings()
    keys = setup_register()
    with TestClient(create_app()) as client:
        yield Env(client, keys)


def _bad(api: Env, ref: str) -> tuple[str, int]:
    r = api.rate(api.token(ref=ref), 2, comment=COMMENT)
    assert r.status_code == 200, r.text
    cases = api.client.get("/api/v1/cases", headers=api.auth("department")).json()
    return r.json()["receipt"], max(int(c["id"]) for c in cases)


def _post(api: Env, case_id: int, who: str = "department", **form: str) -> Any:
    return api.client.post(
        f"/reports/desk/{case_id}?lang=en", data=form, headers=api.auth(who), follow_redirects=False
    )


def _overdue(case_id: int) -> None:
    """Put a case's deadline in the past."""
    from sqlalchemy import update
    from sqlmodel import col

    from egov.db import session_scope
    from egov.models import RatingCase

    with session_scope() as s:
        s.execute(
            update(RatingCase)
            .where(col(RatingCase.id) == case_id)
            .values(rectify_due=date.today() - timedelta(days=3))
        )


def test_the_desk_pages(api: Env) -> None:
    from egov.auth import create_key
    from egov.db import session_scope

    c, dep = api.client, api.auth("department")
    _, late = _bad(api, "D-1")
    _, fresh = _bad(api, "D-2")
    _overdue(late)
    with session_scope() as s:
        lead, _ = create_key(s, "lead")

    desk = c.get("/reports/desk/?lang=en", headers=dep)
    assert desk.status_code == 200 and desk.headers["cache-control"] == "no-store"
    rows = desk.text.split("<tbody>")[1]
    assert rows.index(f">{late}</a>") < rows.index(f">{fresh}</a>")  # deadline first
    assert "⚠ Overdue" in rows and "Within the deadline" in rows
    assert '<dt>Overdue (answer or return visit)</dt><dd><span class="overdue">1</span>' in desk.text
    only = c.get("/reports/desk/?lang=en&overdue=1", headers=dep).text
    assert f">{late}</a>" in only and f">{fresh}</a>" not in only
    assert "Case desk" in c.get("/reports/?lang=en", headers=dep).text  # in the navigation

    # another department sees neither the cases nor one case; a lead key is not a desk key
    other = api.auth("other_department")
    assert f">{late}</a>" not in c.get("/reports/desk/?lang=en", headers=other).text
    assert c.get(f"/reports/desk/{late}?lang=en", headers=other).status_code == 404
    assert _post(api, late, "other_department", action="take", handler="x").status_code == 404
    assert c.get("/reports/desk/?lang=en", headers={"Authorization": f"Bearer {lead}"}).status_code == 403
    assert c.get("/reports/desk/?lang=en").status_code == 401
    assert c.get("/reports/desk/abc?lang=en", headers=dep).status_code == 404

    # the forms: a missing field (400), a move not allowed now (409), another site (403)
    r = _post(api, late, action="take")
    assert r.status_code == 400 and 'role="alert"' in r.text and "Say who handles it." in r.text
    assert _post(api, late, action="close").status_code == 409
    assert _post(api, late, action="take", handler="a\x00b").status_code == 400
    cross = c.post(
        f"/reports/desk/{late}?lang=en",
        data={"action": "take", "handler": "x"},
        headers={**dep, "Sec-Fetch-Site": "cross-site"},
    )
    assert cross.status_code == 403
    r = _post(api, late, action="take", handler="team <A>")
    assert r.status_code == 303 and r.headers["location"] == f"/reports/desk/{late}?lang=en&done=take"
    page = c.get(r.headers["location"], headers=dep).text
    assert 'role="status">The case was taken.' in page and "team &lt;A&gt;" in page
    assert "6612" not in page and "[phone]" in page  # the comment, scrubbed
    assert _post(api, late, action="appeal", note="a test").status_code == 303

    # the assessor: every department, read only but for the appeal
    ass = api.auth("assessor")
    seen = c.get("/reports/desk/?lang=en", headers=ass).text
    assert '<th scope="col">Department</th>' in seen and f">{fresh}</a>" in seen
    assert "Take and verify" not in c.get(f"/reports/desk/{fresh}?lang=en", headers=ass).text
    assert _post(api, fresh, "assessor", action="take", handler="x").status_code == 403
    assert "Reject (the rating stands)" in c.get(f"/reports/desk/{late}?lang=en", headers=ass).text
    r = _post(api, late, "assessor", action="upheld", note="the rating stands")
    assert r.status_code == 303
    assert "Appeal rejected" in c.get(f"/reports/desk/{late}?lang=en", headers=dep).text

    # the ledger
    r = c.get("/reports/desk/ledger.xlsx?lang=en&from=2000-01-01&to=2100-01-01", headers=dep)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(BytesIO(r.content)).active
    assert ws is not None and ws.max_row == 6  # title, three header rows, two cases
    assert (
        c.get("/reports/desk/ledger.xlsx?lang=en&from=2026-02-01&to=2026-01-01", headers=dep).status_code
        == 400
    )


@pytest.mark.slow
def test_a_bad_rating_through_the_desk_to_the_status_page(
    use_db: str, chromium: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("EGOV_SECRET_KEY", "e2e-secret")
    keys = setup_register()
    with serve(use_db, tmp_path, EGOV_SECRET_KEY="e2e-secret") as base, sync_playwright() as p:
        import httpx

        auth = {"Authorization": f"Bearer {keys['department']}"}
        token = httpx.post(
            f"{base}/api/v1/tokens", json={"object": "ONE_ACCOUNT", "transaction_ref": "E2E-1"}, headers=auth
        ).json()["token"]
        body = {"token": token, "level": 1, "better": ["efficiency"], "comment": COMMENT}
        receipt = httpx.post(f"{base}/api/v1/ratings", json=body).json()["receipt"]
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            staff = browser.new_page()
            staff.goto(f"{base}/reports/login?lang=en")
            staff.get_by_label("Access key").fill(keys["department"])
            staff.get_by_role("button", name="Log in").click()
            staff.get_by_role("link", name="Case desk").click()
            staff.locator("#desk-cases tbody a").first.click()
            staff.get_by_label("Handled by (a staff label, not a name)").fill("counter team 3")
            staff.get_by_role("button", name="Take and verify").click()
            staff.get_by_role("status").filter(has_text="The case was taken.").wait_for()
            staff.get_by_label("Fix by the deadline").check()
            staff.get_by_role("button", name="Start putting it right").click()
            staff.get_by_role("status").filter(has_text="Putting it right has started.").wait_for()
            staff.get_by_label("What was put right (public)").fill("A second counter now opens at lunchtime.")
            staff.get_by_role("button", name="Put right").click()
            staff.get_by_role("status").filter(has_text="The rectification was recorded.").wait_for()
            staff.get_by_label("Outcome").select_option("satisfied")
            staff.get_by_role("button", name="Record the return visit").click()
            staff.get_by_role("status").filter(has_text="The return visit was recorded.").wait_for()
            staff.get_by_role("button", name="Close the case").click()
            staff.get_by_role("status").filter(has_text="The case was closed.").wait_for()
            staff.get_by_role("link", name="Back to the desk").click()
            assert "100.0 % (1 of 1)" in staff.locator("#desk-stats").inner_text()

            citizen = browser.new_context().new_page()  # no cookie, no key
            citizen.goto(f"{base}/status/?lang=en")
            citizen.get_by_label("Rating receipt").fill(receipt.upper())
            citizen.get_by_role("button", name="Look it up").click()
            citizen.wait_for_url(f"{base}/status/{receipt}?lang=en")
            text = citizen.locator("main").inner_text()
            for shown in (
                "A second counter now opens at lunchtime.",
                "Closed",
                "Fix by the deadline",
                "Satisfied",
                "Answered on time",
            ):
                assert shown in text, shown
            for private in ("6612", "rude staff", "counter team 3", "E2E-1"):
                assert private not in citizen.content(), private
        finally:
            browser.close()
