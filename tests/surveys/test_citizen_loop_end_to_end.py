"""Issue 17's done-when test: one bad rating followed from a counter kiosk through the case desk
(tier, rectification, return visit) to the citizen's public status page and the department's
public figures, on SQLite and PostgreSQL, with a real `egov serve` and headless Chromium.

A tablet at SAFP's service counter is set up with its device link; the queue system asks for the
served ticket's token (naming the service item, the window and the staff code); the citizen rates
it "very dissatisfied" on the kiosk by touch and keeps the receipt; SAFP's staff take the case on
the desk, choose "fix by the deadline", record what was put right, the return visit and close it;
the citizen, with no key, reads the status page by the receipt; anyone reads SAFP's public figures
and the service item's. No public page shows the staff code, the staff label or the ticket. Screenshots under test-artifacts/surveys/."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.helpers.register import COUNTER, setup_counter, setup_register
from tests.helpers.servers import CHROMIUM_ARGS, serve

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "surveys"
PRIVATE = ("S1042", "A-077", "desk team 2")  # the staff code, the ticket, the staff label


@pytest.mark.slow
def test_a_bad_rating_from_the_counter_to_the_public_figures(
    use_db: str, tmp_path: Path, chromium: str
) -> None:
    from playwright.sync_api import expect, sync_playwright

    from egov.clock import local_day
    from egov.db import dispose_engines, session_scope
    from egov.models_services import ServiceItem

    engine = "sqlite" if use_db.startswith("sqlite") else "postgresql"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    keys = setup_register(use_db)
    setup_counter(use_db)
    with session_scope(use_db) as s:
        service = s.query(ServiceItem).first()
        assert service is not None
        service_code = service.code
    dispose_engines()
    dep = {"Authorization": f"Bearer {keys['department']}"}
    year = local_day().year
    with serve(use_db, tmp_path) as base, httpx.Client(base_url=base, timeout=60) as http:
        r = http.post(
            "/api/v1/kiosks", json={"code": "SAFP-C-02", "object": COUNTER, "window": "2"}, headers=dep
        )
        assert r.status_code == 200, r.text
        setup = r.json()["setup_path"]
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            try:
                # 1. the counter: a served ticket appears on the kiosk, the citizen rates it badly
                kiosk = browser.new_page(has_touch=True)
                kiosk.goto(f"{base}{setup.replace('#', '?thanks=30#')}")
                kiosk.get_by_role("button", name="English").tap()
                expect(kiosk.locator("#waiting")).to_be_visible()
                ticket = {
                    "object": COUNTER,
                    "transaction_ref": "A-077",
                    "service": service_code,
                    "staff": "S1042",
                    "kiosk": "SAFP-C-02",
                }
                assert http.post("/api/v1/tokens", json=ticket, headers=dep).status_code == 200
                kiosk.get_by_label("Very dissatisfied", exact=True).tap(timeout=15_000)
                kiosk.get_by_label("Efficiency", exact=True).tap()
                kiosk.get_by_role("button", name="Submit rating").tap()
                expect(kiosk.locator("#thanks-text")).to_have_text("Thank you for your rating!")
                receipt = kiosk.locator("#receipt").get_attribute("data-receipt")
                assert receipt and len(receipt) == 32
                kiosk.screenshot(path=str(ARTIFACTS / f"loop-kiosk-{engine}.png"))

                # 2. the case desk: take, fix by the deadline, put right, return visit, close
                staff = browser.new_page()
                staff.goto(f"{base}/reports/login?lang=en")
                staff.get_by_label("Access key").fill(keys["department"])
                staff.get_by_role("button", name="Log in").click()
                staff.get_by_role("link", name="Case desk").click()
                staff.locator("#desk-cases tbody a").first.click()
                staff.get_by_label("Handled by (a staff label, not a name)").fill("desk team 2")
                staff.get_by_role("button", name="Take and verify").click()
                staff.get_by_role("status").filter(has_text="The case was taken.").wait_for()
                staff.get_by_label("Fix by the deadline").check()
                staff.get_by_role("button", name="Start putting it right").click()
                staff.get_by_role("status").filter(has_text="Putting it right has started.").wait_for()
                staff.get_by_label("What was put right (public)").fill("Window 2 now opens at 8:30.")
                staff.get_by_role("button", name="Put right").click()
                staff.get_by_role("status").filter(has_text="The rectification was recorded.").wait_for()
                staff.get_by_label("Outcome").select_option("satisfied")
                staff.get_by_role("button", name="Record the return visit").click()
                staff.get_by_role("status").filter(has_text="The return visit was recorded.").wait_for()
                staff.get_by_role("button", name="Close the case").click()
                staff.get_by_role("status").filter(has_text="The case was closed.").wait_for()
                staff.screenshot(path=str(ARTIFACTS / f"loop-desk-{engine}.png"), full_page=True)

                # 3. the citizen's status page, by the receipt, with no key
                citizen = browser.new_context().new_page()
                citizen.goto(f"{base}/status/?lang=en")
                citizen.get_by_label("Rating receipt").fill(receipt)
                citizen.get_by_role("button", name="Look it up").click()
                citizen.wait_for_url(f"{base}/status/{receipt}?lang=en")
                text = citizen.locator("main").inner_text()
                for shown in ("Window 2 now opens at 8:30.", "Closed", "Fix by the deadline", "Satisfied"):
                    assert shown in text, shown
                for private in PRIVATE:
                    assert private not in citizen.content(), private
                citizen.screenshot(path=str(ARTIFACTS / f"loop-status-{engine}.png"), full_page=True)

                # 4. the department's public figures and the service item's, with no key
                public = browser.new_context().new_page()
                answer = public.goto(f"{base}/public/ratings/{year}/departments/SAFP?lang=en")
                assert answer is not None and answer.status == 200
                figures = public.locator("main").inner_text()
                assert "Cases opened\t1" in figures and "Put right\t1" in figures, figures
                assert "Answered on time\t1 of 1" in figures or "Answered on time\t100" in figures, figures
                for private in PRIVATE:
                    assert private not in public.content(), private
                public.screenshot(path=str(ARTIFACTS / f"loop-public-{engine}.png"), full_page=True)
                item = public.goto(f"{base}/public/ratings/{year}/services/{service_code}?lang=en")
                assert item is not None and item.status == 200
                assert "Cases opened\t1" in public.locator("main").inner_text()
            finally:
                browser.close()
