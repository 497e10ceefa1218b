"""End to end against a real `egov serve` process, on SQLite and PostgreSQL: a department
key gets tokens, a citizen rates in the widget in headless Chromium (keyboard only), more
ratings arrive in a batch, the roll-up feeds `egov score`; and a duplicate, a replay, an
oversized body, unknown fields, a wrong-role request and a flood each behave as specified."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from tests.helpers.register import setup_register
from tests.helpers.servers import CHROMIUM_ARGS, serve


def _levels_body(token: str, level: int) -> dict[str, Any]:
    return {"token": token, "level": level, **({"better": ["ease"]} if level <= 2 else {})}


@pytest.mark.slow
def test_end_to_end(use_db: str, tmp_path: Path, chromium: str, egov: Any) -> None:
    from playwright.sync_api import sync_playwright

    from egov.clock import local_day
    from egov.db import dispose_engines, session_scope
    from egov.record import load_inputs
    from egov.store import ensure_period, get_run

    keys = setup_register(use_db)
    year = local_day().year
    with session_scope() as s:
        ensure_period(s, str(year), date(year, 1, 1), date(year, 12, 31))
    dispose_engines()
    dep = {"Authorization": f"Bearer {keys['department']}"}

    with (
        serve(use_db, tmp_path, EGOV_RATE_LIMIT_CLIENT="150") as base,
        httpx.Client(base_url=base, timeout=30) as http,
    ):
        # 1. the department's back end gets a token per completed transaction
        items = [{"object": "ONE_ACCOUNT", "transaction_ref": f"E-{i}"} for i in range(36)]
        items += [{"object": "OPEN_DATA_PLATFORM", "transaction_ref": f"D-{i}"} for i in range(30)]
        r = http.post("/api/v1/tokens/batch", json={"items": items}, headers=dep)
        assert r.status_code == 200, r.text
        toks = [t["token"] for t in r.json()["items"]]

        # 2. the citizen rates in the widget, with the keyboard only, in English
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page()
                external: list[str] = []
                page.on("request", lambda req: None if req.url.startswith(base) else external.append(req.url))
                page.goto(f"{base}/widget/ONE_ACCOUNT?token={toks[0]}&lang=en&channel=app")
                assert page.get_by_role("radiogroup").count() == 1
                page.focus("input[name=level][value='5']")
                page.keyboard.press("ArrowDown")  # arrow keys move within the radio group: 5 → 4
                assert page.get_by_label("Satisfied", exact=True).is_checked()
                page.get_by_role("group", name="What went well? (optional)").get_by_label("Ease").focus()
                page.keyboard.press("Space")
                page.get_by_label("Comment (optional, up to 1,000 characters)").fill(
                    "Quick, call me on 6612 3456"
                )
                page.get_by_role("button", name="Submit rating").focus()
                page.keyboard.press("Enter")
                page.get_by_role("status").filter(has_text="Thank you").wait_for(timeout=10_000)
                assert external == []  # no external resource
            finally:
                browser.close()
        with session_scope() as s:
            stored = s.execute(text("SELECT level, drivers, channel, language, comment FROM rating")).one()
        assert tuple(stored) == (4, "+ease", "app", "en", "Quick, call me on 6612 3456")

        # 3. the rest arrive in a batch (an app's offline queue)
        one_levels = [5, 4, 3, 5, 2, 5, 4, 4, 5, 1] * 3  # 30 more of ONE_ACCOUNT (E-1 … E-30)
        doc_levels = [3, 4, 2, 3, 5] * 6
        batch = [_levels_body(t, lv) for t, lv in zip(toks[1:31], one_levels, strict=True)]
        batch += [_levels_body(t, lv) for t, lv in zip(toks[36:], doc_levels, strict=True)]
        r = http.post("/api/v1/ratings/batch", json={"items": batch})
        assert r.status_code == 200 and r.json()["accepted"] == 60

        # 4. a duplicate is idempotent; a replay with other content is refused
        dup_tok = toks[31]
        first = http.post("/api/v1/ratings", json=_levels_body(dup_tok, 5))
        dup = http.post("/api/v1/ratings", json=_levels_body(dup_tok, 5))
        assert (
            dup.status_code == 200
            and dup.json() == first.json()
            and dup.headers["Idempotent-Replay"] == "true"
        )
        replay = http.post("/api/v1/ratings", json=_levels_body(dup_tok, 1))
        assert replay.status_code == 409
        # 5. an oversized body, unknown fields, wrong roles
        big = http.post(
            "/api/v1/ratings",
            content=b'{"token": "' + b"x" * 70_000 + b'"}',
            headers={"Content-Type": "application/json"},
        )
        assert big.status_code == 413
        unknown = http.post("/api/v1/ratings", json={**_levels_body(toks[32], 5), "admin": True})
        assert unknown.status_code == 422 and "extra_forbidden" in unknown.text
        assessor = {"Authorization": f"Bearer {keys['assessor']}"}
        assert http.post("/api/v1/tokens", json=items[0], headers=assessor).status_code == 403
        assert http.get("/api/v1/keys", headers=dep).status_code == 403
        assert http.get("/api/v1/cases").status_code == 401
        # 6. the roll-up, through the API
        m = http.get("/api/v1/measures", headers=assessor).json()
        one = m["ONE_ACCOUNT"]
        levels_one = [4, *one_levels, 5]
        assert one["count"] == len(levels_one) == 32
        expected_csat = sum(lv >= 4 for lv in levels_one) / len(levels_one) * 100
        assert one["share_satisfied"] == pytest.approx(expected_csat)
        assert one["response_rate"] == pytest.approx(32 / 36 * 100)
        # 7. a flood from one client: 429 with Retry-After
        codes: list[httpx.Response] = []
        for _ in range(300):
            resp = http.get("/api/v1/questions")
            codes.append(resp)
            if resp.status_code == 429:
                break
        assert codes[-1].status_code == 429 and int(codes[-1].headers["Retry-After"]) >= 1

    # 8. the indicator value in `egov score`
    result = egov(["score", "--period", str(year)])
    assert result.code == 0, result.out + result.err
    with session_scope() as s:
        run = get_run(s)
        inputs = load_inputs(s, run)
    raw = inputs.data.pivot(index="unit", columns="indicator", values="value")
    assert raw.loc["ONE_ACCOUNT", "app_csat"] == pytest.approx(expected_csat)
    assert raw.loc["ONE_ACCOUNT", "app_mean_rating"] == pytest.approx(sum(levels_one) / len(levels_one))
    assert raw.loc["OPEN_DATA_PLATFORM", "app_bad_rate"] == pytest.approx(100 * 6 / 30)
