"""The counter kiosk in headless Chromium (issue 17 point 2): set up once with its device link
(the key leaves the address), it waits; a ticket served at its window appears; the citizen rates
it by touch in English (a bad rating with its reason), sees the receipt and the kiosk waits
again; the same ticket cannot be rated twice; a ticket nobody rates is dismissed after the idle
time."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.helpers.register import COUNTER, setup_counter, setup_register
from tests.helpers.servers import CHROMIUM_ARGS, serve


@pytest.mark.slow
def test_a_kiosk_shows_the_served_ticket_and_takes_one_rating(
    use_db: str, tmp_path: Path, chromium: str
) -> None:
    from playwright.sync_api import expect, sync_playwright

    from egov.db import dispose_engines

    keys = setup_register(use_db)
    setup_counter(use_db)
    dispose_engines()
    dep = {"Authorization": f"Bearer {keys['department']}"}
    with serve(use_db, tmp_path) as base, httpx.Client(base_url=base, timeout=30) as http:
        r = http.post(
            "/api/v1/kiosks", json={"code": "SAFP-C-03", "object": COUNTER, "window": "3"}, headers=dep
        )
        assert r.status_code == 200, r.text
        setup = r.json()["setup_path"]

        def served(ticket: str) -> str:
            body = {"object": COUNTER, "transaction_ref": ticket, "staff": "S1042", "kiosk": "SAFP-C-03"}
            answer = http.post("/api/v1/tokens", json=body, headers=dep)
            assert answer.status_code == 200, answer.text
            return str(answer.json()["token"])

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(has_touch=True)
                page.goto(f"{base}{setup.replace('#', '?idle=5&thanks=2#')}")
                assert "#key" not in page.url  # the key is kept on the device, not in the address
                page.get_by_role("button", name="English").tap()
                waiting = page.locator("#waiting")
                expect(waiting).to_contain_text("When you have been served")
                token = served("A023")
                page.get_by_label("Dissatisfied", exact=True).tap(timeout=15_000)
                expect(page.locator("#where")).to_contain_text("Window 3")
                assert "S1042" not in page.content()  # the staff code never reaches the kiosk
                page.get_by_label("Efficiency", exact=True).tap()
                page.get_by_role("button", name="Submit rating").tap()
                expect(page.locator("#thanks-text")).to_have_text("Thank you for your rating!")
                receipt = page.locator("#receipt").get_attribute("data-receipt")
                assert receipt and len(receipt) == 32
                expect(waiting).to_be_visible(timeout=10_000)  # back to waiting
                assert http.post("/api/v1/ratings", json={"token": token, "level": 5}).status_code == 409
                status = http.get(f"/status/{receipt}?lang=en")
                assert status.status_code == 200 and "S1042" not in status.text
                served("A024")  # nobody rates it: after the idle time the kiosk waits again
                expect(page.locator("#form-screen")).to_be_visible(timeout=15_000)
                expect(waiting).to_be_visible(timeout=15_000)
                kiosk_key = page.evaluate("localStorage.getItem('egov-kiosk-key')")
                ticket = http.get("/api/v1/kiosk/ticket", headers={"Authorization": f"Bearer {kiosk_key}"})
                assert ticket.status_code == 204  # dismissed
            finally:
                browser.close()
