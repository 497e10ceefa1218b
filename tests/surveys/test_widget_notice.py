"""The widget tells the citizen what happens to the rating and answers a used link (issue 17,
point 7): the personal-data collection notice of Law 8/2005 in the three languages (who, purpose,
what, retention from the setting, rights; the IP sentence only when IP addresses are stored); a
used token shows "already rated — thank you" with the receipt instead of the form, an expired
one says it expired, each only in the page's language; a level sent as a string, a float or a
boolean is refused as the strict schema promises (single and batch)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import pytest
from sqlmodel import col, select

from tests.helpers.register import Env, make_client, setup_register
from tests.helpers.servers import CHROMIUM_ARGS, serve


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


def test_the_notice_in_three_languages(api: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    tok = api.token()
    expected = {
        "zh-Hant": ("個人資料收集聲明", "行政公職局", "730 日", "第8/2005號法律", "個人資料保護局"),
        "pt": ("Declaração de recolha de dados pessoais", "730 dias", "Lei n.º 8/2005", "Protecção de Dados"),
        "en": (
            "Personal data collection notice",
            "730 days",
            "Law 8/2005",
            "Personal Data Protection Bureau",
        ),
    }
    for lang, words in expected.items():
        page = api.client.get(f"/widget/ONE_ACCOUNT?token={tok}&lang={lang}").text
        assert '<details class="notice"><summary>' in page
        for word in words:
            assert word in page, (lang, word)
        assert "(IP)" not in page  # not stored, so not announced
    en = api.client.get(f"/widget/ONE_ACCOUNT?token={tok}&lang=en").text
    assert "Public Administration and Civil Service Bureau" in en  # the collecting department
    client = make_client(monkeypatch, store_ip="1", rating_retention_days="365")
    with client:
        page = client.get(f"/widget/ONE_ACCOUNT?token={tok}&lang=en").text
    assert "records your network (IP) address" in page and "kept for 365 days" in page


def test_a_used_token_says_already_rated_with_the_receipt(api: Env) -> None:
    tok = api.token()
    receipt = api.rate(tok, 4).json()["receipt"]
    for lang, words in (
        ("zh-Hant", ("您已評價這次服務，多謝！", "評價收據編號")),
        ("pt", ("Já avaliou este serviço — obrigado!", "N.º do recibo da avaliação")),
        ("en", ("You have already rated this service — thank you!", "Rating receipt")),
    ):
        page = api.client.get(f"/widget/ONE_ACCOUNT?token={tok}&lang={lang}")
        assert page.status_code == 200
        assert 'id="rating"' not in page.text and 'type="radio"' not in page.text  # no form
        for word in words:
            assert word in page.text
        assert receipt in page.text
        if lang != "en":  # nothing in English on a Chinese or Portuguese page
            assert not re.search(r"\b(rated|token|thank)\b", _text(page.text), re.I), lang


def test_an_expired_token_says_so_and_a_used_expired_one_still_thanks(api: Env) -> None:
    from egov.db import session_scope
    from egov.models import AssessedObject, RatingToken
    from surveys.security import TokenClaims, server_secret, sign_token

    used = api.token(ref="T-used")
    api.rate(used, 5)
    with session_scope() as s:
        secret = server_secret(s)
        obj = s.exec(select(AssessedObject).where(col(AssessedObject.code) == "ONE_ACCOUNT")).one()
        row = s.exec(select(RatingToken).where(col(RatingToken.state) == "used")).one()
        past = int(time.time()) - 60
        assert obj.id is not None
        stale = sign_token(secret, TokenClaims("0" * 32, obj.id, row.issuer_key_id, past))
        stale_used = sign_token(secret, TokenClaims(row.id, obj.id, row.issuer_key_id, past))
    page = api.client.get(f"/widget/ONE_ACCOUNT?token={stale}&lang=pt")
    assert page.status_code == 410 and "A ligação de avaliação expirou." in page.text
    assert 'id="rating"' not in page.text
    page = api.client.get(f"/widget/ONE_ACCOUNT?token={stale_used}&lang=en")
    assert page.status_code == 200 and "already rated" in page.text and row.id in page.text
    forged = stale[:-4] + ("AAAA" if not stale.endswith("AAAA") else "BBBB")
    assert api.client.get(f"/widget/ONE_ACCOUNT?token={forged}").status_code == 400


@pytest.mark.parametrize("level", ["5", 5.0, True, "five"])
def test_a_level_that_is_not_a_json_integer_is_refused(api: Env, level: object) -> None:
    tok = api.token()
    r = api.client.post("/api/v1/ratings", json={"token": tok, "level": level})
    assert r.status_code == 422 and "level" in r.text
    batch = api.client.post(
        "/api/v1/ratings/batch", json={"items": [{"token": tok, "level": level}, {"token": tok, "level": 5}]}
    )
    assert batch.status_code == 200, batch.text
    items = batch.json()["items"]
    assert items[0]["ok"] is False and items[0]["code"] == 422 and "items.0.level" in items[0]["error"]
    assert items[1]["ok"] is True  # the invalid item is refused alone


@pytest.mark.slow
def test_in_a_browser_a_second_submission_and_a_reload_say_already_rated(
    use_db: str, tmp_path: Path, chromium: str
) -> None:
    """In headless Chromium, in Portuguese: the citizen rates and sees the receipt; the same link
    opened again shows "already rated" and the receipt, not the form; a form left open while the
    token was used elsewhere answers the 409 in Portuguese, with no English detail."""
    from playwright.sync_api import sync_playwright

    from egov.db import dispose_engines

    keys = setup_register(use_db)
    dispose_engines()
    dep = {"Authorization": f"Bearer {keys['department']}"}
    with serve(use_db, tmp_path) as base, httpx.Client(base_url=base, timeout=30) as http:
        items = [{"object": "ONE_ACCOUNT", "transaction_ref": f"W-{i}"} for i in range(2)]
        r = http.post("/api/v1/tokens/batch", json={"items": items}, headers=dep)
        assert r.status_code == 200, r.text
        first, second = (t["token"] for t in r.json()["items"])
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page()
                page.goto(f"{base}/widget/ONE_ACCOUNT?token={first}&lang=pt&channel=app")
                page.get_by_label("Satisfeito", exact=True).check()
                page.get_by_role("button", name="Enviar avaliação").click()
                page.get_by_role("status").filter(has_text="Obrigado").wait_for(timeout=10_000)
                receipt = page.locator("#receipt").inner_text()
                assert (
                    receipt.startswith("N.º do recibo da avaliação: ") and len(receipt.split(": ")[1]) == 32
                )
                # the thank-you links to the citizen's status page of the rating (reports.status)
                link = page.get_by_role("link", name="Ver o estado da avaliação")
                assert link.get_attribute("href") == f"/status/{receipt.split(': ')[1]}?lang=pt"
                again = page.goto(f"{base}/widget/ONE_ACCOUNT?token={first}&lang=pt&channel=app")
                assert again is not None and again.status == 200
                assert page.get_by_role("status").inner_text() == "Já avaliou este serviço — obrigado!"
                assert page.locator("#receipt").inner_text() == receipt and page.locator("form").count() == 0
                # the form of the second token stays open while the token is used elsewhere
                page.goto(f"{base}/widget/ONE_ACCOUNT?token={second}&lang=pt&channel=app")
                assert http.post("/api/v1/ratings", json={"token": second, "level": 3}).status_code == 200
                page.get_by_label("Muito satisfeito", exact=True).check()
                page.get_by_role("button", name="Enviar avaliação").click()
                status = page.get_by_role("status")
                status.filter(has_text="Já avaliou").wait_for(timeout=10_000)
                assert status.inner_text() == "Já avaliou este serviço — obrigado!"
                assert page.locator("form#rating").is_hidden()
                notice = page.locator("details.notice")
                assert notice.locator("summary").inner_text() == "Declaração de recolha de dados pessoais"
                notice.locator("summary").click()
                assert "Lei n.º 8/2005" in notice.inner_text()
            finally:
                browser.close()
