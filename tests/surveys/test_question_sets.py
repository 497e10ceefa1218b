"""Question sets (issue 17, point 6): versioned, trilingual sets chosen per channel; their 5-point
answers validated against the set and stored with the rating (general path); bad-rating reasons
counted in SAFP's published complaint categories; driver scores (mean, top-2 box with its Wilson
interval, minimum count) on a hand-computed example; the widget shows a channel's items."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any, get_args

import pytest
from sqlalchemy import text

from tests.helpers.register import Env, make_client

COUNTER_SET = 'default = "overall"\n[channels]\ncounter = "omb_a11"\napp = "gbt39735_online"\n'


def _answers(api: Env) -> list[tuple[Any, ...]]:
    from egov.db import session_scope

    with session_scope() as s:
        rows = s.execute(
            text(
                "SELECT r.transaction_ref, a.question_set, a.set_version, a.item, a.value FROM rating_answer a "
                "JOIN rating r ON r.id = a.rating_id ORDER BY r.transaction_ref, a.item"
            )
        ).all()
    return [tuple(r) for r in rows]


def test_the_shipped_sets_load_and_name_known_channels_and_categories() -> None:
    from surveys.question_sets import KNOWN_CHANNELS, channel_sets, current_sets, safp_categories
    from surveys.schemas import Channel

    assert set(get_args(Channel)) <= set(KNOWN_CHANNELS)
    sets = current_sets()
    assert set(sets) == {"overall", "omb_a11", "gbt39735_online", "gbt39735_offline"}
    assert sets["overall"].version == "2026.1" and not sets["overall"].items  # 2026.1 answers stay valid
    a11 = sets["omb_a11"]
    assert [i.code for i in a11.items if i.required] == ["trust"] and a11.scale == "agree"
    assert {i.code for i in sets["gbt39735_online"].items} == {"guide_accuracy", "convenience", "usability"}
    assert channel_sets() == dict.fromkeys(KNOWN_CHANNELS, "overall")  # the built-in default
    names = [texts["zh-Hant"] for texts in safp_categories().values()]
    assert names == [
        "人員服務",
        "環境",
        "配套設施",
        "程序手續",
        "服務資訊",
        "服務保證",
        "電子服務",
        "績效信息",
        "服務整合",
        "其他",
    ]


def test_a_set_is_chosen_per_channel(api: Env, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    r = api.client.get("/api/v1/questions")
    assert r.status_code == 200
    body = r.json()
    assert body["version"] == "2026.1" and "5" in body["levels"]  # the old answer, unchanged
    assert {s["code"] for s in body["sets"]} >= {"overall", "omb_a11"} and body["channels"][
        "counter"
    ] == "overall"
    assert api.client.get("/api/v1/questions?channel=fax").status_code == 422
    config = tmp_path / "channels.toml"
    config.write_text(COUNTER_SET, encoding="utf-8")
    tok = api.token()
    with make_client(monkeypatch, question_channels_file=str(config)) as client:
        chosen = {
            ch: client.get(f"/api/v1/questions?channel={ch}").json()["set"]["code"]
            for ch in ("counter", "app", "web")
        }
        assert chosen == {"counter": "omb_a11", "app": "gbt39735_online", "web": "overall"}
        counter = client.get(f"/widget/ONE_ACCOUNT?token={tok}&lang=en&channel=counter").text
        app = client.get(f"/widget/ONE_ACCOUNT?token={tok}&lang=pt&channel=app").text
        web = client.get(f"/widget/ONE_ACCOUNT?token={tok}&lang=en&channel=web").text
    # the A-11 items at the counter: one labelled radio group per item, the department named
    assert counter.count('class="levels likert" role="radiogroup"') == 8
    assert "I trust Public Administration and Civil Service Bureau to fulfil" in counter
    assert '<legend id="item-trust">' in counter and "(required)" in counter
    assert re.search(r'<input type="radio" name="a_trust" value="5" required> Strongly agree', counter)
    cfg = json.loads(re.search(r'<script id="cfg"[^>]*>(.*?)</script>', counter).group(1))  # type: ignore[union-attr]
    assert (
        cfg["set"] == "omb_a11"
        and cfg["setVersion"] == "2026.1"
        and cfg["items"][0] == {"code": "trust", "required": True}
    )
    assert (
        "Exactidão do guia" in app and app.count('role="radiogroup"') == 1 + 3 and "Muito satisfeito" in app
    )
    assert "likert" not in web
    web_cfg = json.loads(re.search(r'<script id="cfg"[^>]*>(.*?)</script>', web).group(1))  # type: ignore[union-attr]
    assert web_cfg["set"] is None  # the overall rating alone: no set sent, the fast path stays


def test_answers_are_stored_with_the_rating_and_checked_against_the_set(api: Env) -> None:
    good = {"question_set": "omb_a11", "answers": {"trust": 4, "ease": 2}}
    r = api.rate(api.token(ref="A-1"), 4, channel="counter", **good)
    assert r.status_code == 200, r.text
    assert _answers(api) == [
        ("A-1", "omb_a11", "2026.1", "ease", 2),
        ("A-1", "omb_a11", "2026.1", "trust", 4),
    ]
    # invalid answers are refused with the field named, and nothing is stored
    cases = [
        (
            {"question_set": "omb_a11", "answers": {"trust": 4, "speed": 3}},
            ["body", "answers"],
            "unknown item 'speed'",
        ),
        (
            {"question_set": "omb_a11", "answers": {"ease": 3}},
            ["body", "answers"],
            "missing required item 'trust'",
        ),
        (
            {"question_set": "omb_a11", "answers": {"trust": "4"}},
            ["body", "answers", "trust"],
            "valid integer",
        ),
        (
            {"question_set": "omb_a11", "answers": {"trust": 6}},
            ["body", "answers", "trust"],
            "less than or equal to 5",
        ),
        (
            {"question_set": "nope", "answers": {"trust": 4}},
            ["body", "question_set"],
            "unknown question set 'nope'",
        ),
        (
            {"question_set": "omb_a11", "question_set_version": "1999.1", "answers": {"trust": 4}},
            ["body", "question_set_version"],
            "unknown version '1999.1'",
        ),
        ({"answers": {"trust": 4}}, ["body", "answers"], "answers need a question_set"),
    ]
    for i, (extra, loc, words) in enumerate(cases):
        assert isinstance(extra, dict)
        r = api.rate(api.token(ref=f"B-{i}"), 4, **extra)
        assert r.status_code == 422, (extra, r.text)
        detail = r.json()["detail"]
        assert any(d["loc"] == loc and words in d["msg"] for d in detail), (extra, detail)
    r = api.client.post("/api/v1/ratings", json={"token": api.token(ref="C-1"), "level": "4"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == [
        "body",
        "level",
    ]  # the level stays strict
    assert len(_answers(api)) == 2
    # an identical repeat is a replay; the one follow-up replaces the answers
    tok = api.token(ref="D-1")
    assert api.rate(tok, 5, **good).status_code == 200
    again = api.rate(tok, 5, **good)
    assert again.status_code == 200 and again.headers.get("Idempotent-Replay") == "true"
    changed = {"question_set": "omb_a11", "answers": {"trust": 1}}
    assert api.rate(tok, 5, **changed).status_code == 409
    assert api.rate(tok, 5, follow_up=True, **changed).status_code == 200
    assert [a for a in _answers(api) if a[0] == "D-1"] == [("D-1", "omb_a11", "2026.1", "trust", 1)]
    # in a batch an invalid item is refused alone, naming items.N.answers
    items = [
        {
            "token": api.token(ref="E-1"),
            "level": 4,
            "question_set": "gbt39735_offline",
            "answers": {"service_attitude": 5},
        },
        {
            "token": api.token(ref="E-2"),
            "level": 4,
            "question_set": "gbt39735_offline",
            "answers": {"trust": 5},
        },
    ]
    res = api.client.post("/api/v1/ratings/batch", json={"items": items}).json()
    assert [x["code"] for x in res["items"]] == [200, 422]
    assert res["items"][1]["error"].startswith("items.1.answers:")
    assert ("E-1", "gbt39735_offline", "2026.1", "service_attitude", 5) in _answers(api)


def test_bad_rating_reasons_count_in_safp_categories(api: Env, egov: Any) -> None:
    from egov.clock import local_day
    from egov.db import session_scope
    from egov.errors import EgovError
    from surveys.answers import reason_counts

    for ref, level, better, channel, obj, who in (
        ("R-1", 1, ["ease"], "app", "ONE_ACCOUNT", "department"),  # ease on the app: 電子服務
        ("R-2", 2, ["ease", "effectiveness"], "counter", "ONE_ACCOUNT", "department"),  # 程序手續 once
        ("R-3", 2, ["staff", "transparency"], "counter", "ONE_ACCOUNT", "department"),  # 人員服務, 服務資訊
        ("R-4", 1, ["other"], "web", "BUS_REPORT", "other_department"),  # DSAT's: 其他
        ("R-5", 5, [], "app", "ONE_ACCOUNT", "department"),  # not a bad rating
    ):
        r = api.rate(api.token(obj=obj, ref=ref, who=who), level, better=better, channel=channel)
        assert r.status_code == 200, r.text
    day = local_day()
    with session_scope() as s:
        df, total = reason_counts(s, day, day)
        safp, safp_total = reason_counts(s, day, day, "SAFP")
        with pytest.raises(EgovError, match="unknown department"):
            reason_counts(s, day, day, "NOPE")
    assert total == 4 and safp_total == 3
    counts = df["ratings"].to_dict()
    assert counts == {
        "personnel": 1,
        "environment": 0,
        "facilities": 0,
        "procedures": 1,
        "information": 1,
        "guarantee": 0,
        "electronic": 1,
        "performance": 0,
        "integration": 0,
        "other": 1,
    }
    assert df.loc["electronic", "share"] == pytest.approx(25.0)
    assert safp.loc["other", "ratings"] == 0 and safp.loc["personnel", "share"] == pytest.approx(100 / 3)
    out = egov(["ratings", "reasons", "--department", "SAFP", "--lang", "en"])
    assert out.code == 0, out.err
    assert "Procedures and formalities" in out.out and "3 bad ratings in all" in out.out
    zh = egov(["ratings", "reasons"])
    assert zh.code == 0 and "電子服務" in zh.out and "差評合共 4 宗" in zh.out


def test_driver_scores_known_answer(api: Env, egov: Any) -> None:
    """Five trust answers 5, 4, 4, 2, 1 for SAFP's ONE_ACCOUNT: n 5, mean 16/5 = 3.2, three agree
    (4–5): 60 %, Wilson 95 % interval (z = 1.959964) by hand: centre (0.6 + z²/10)/(1 + z²/5) =
    0.556552, half-width z·√(0.6·0.4/5 + z²/100)/(1 + z²/5) = 0.325827, so 23.07 %–88.24 %."""
    from egov.clock import local_day
    from egov.db import session_scope
    from surveys.answers import driver_scores

    for i, value in enumerate((5, 4, 4, 2, 1)):
        r = api.rate(api.token(ref=f"S-{i}"), 4, question_set="omb_a11", answers={"trust": value})
        assert r.status_code == 200, r.text
    day = local_day()
    with session_scope() as s:
        df = driver_scores(s, day, day, "department", min_count=5)
        few = driver_scores(s, day, day, "object", min_count=6)
    row = df.set_index("item").loc["trust"]
    assert (row["unit"], row["n"], row["agree"]) == ("SAFP", 5, 3)
    assert row["mean"] == pytest.approx(3.2)
    assert row["agree_share"] == pytest.approx(60.0)
    assert row["agree_low"] == pytest.approx(23.0725, abs=1e-3) and row["agree_high"] == pytest.approx(
        88.2379, abs=1e-3
    )
    low = few.set_index("item").loc["trust"].to_dict()
    assert (
        low["unit"] == "ONE_ACCOUNT"
        and low["n"] == 5
        and math.isnan(low["mean"])
        and math.isnan(low["agree_share"])
    )
    out = egov(["ratings", "drivers", "--by", "department", "--lang", "en"])
    assert out.code == 0, out.err
    assert "SAFP" in out.out and "fewer than 30 answers" in out.out  # the default minimum: no mean shown
    assert egov(["ratings", "drivers", "--by", "bureau"]).code == 1


@pytest.mark.slow
def test_in_a_browser_the_counter_asks_the_a11_items(use_db: str, tmp_path: Path, chromium: str) -> None:
    """In headless Chromium, in English, at a counter configured for `omb_a11`: submitting without
    the required trust item says so and sends nothing; with it answered (by its radio group's
    name, the legend), the rating is accepted and its answers are stored."""
    import httpx
    from playwright.sync_api import sync_playwright

    from egov.db import dispose_engines, session_scope
    from tests.helpers.register import setup_register
    from tests.helpers.servers import CHROMIUM_ARGS, serve

    keys = setup_register(use_db)
    dispose_engines()
    config = tmp_path / "channels.toml"
    config.write_text(COUNTER_SET, encoding="utf-8")
    dep = {"Authorization": f"Bearer {keys['department']}"}
    with (
        serve(use_db, tmp_path, EGOV_QUESTION_CHANNELS_FILE=str(config)) as base,
        httpx.Client(base_url=base, timeout=30) as http,
    ):
        r = http.post("/api/v1/tokens", json={"object": "ONE_ACCOUNT", "transaction_ref": "W-1"}, headers=dep)
        assert r.status_code == 200, r.text
        tok = r.json()["token"]
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page()
                page.goto(f"{base}/widget/ONE_ACCOUNT?token={tok}&lang=en&channel=counter")
                page.get_by_label("Satisfied", exact=True).check()
                page.get_by_role("button", name="Submit rating").click()
                status = page.get_by_role("status")
                assert status.inner_text() == "Please answer every required question."
                trust = page.get_by_role("radiogroup", name=re.compile("^I trust Public Administration"))
                trust.get_by_label("Agree", exact=True).check()
                ease = page.get_by_role("radiogroup", name="It was easy to complete what I needed to do.")
                ease.get_by_label("Strongly disagree", exact=True).check()
                page.get_by_role("button", name="Submit rating").click()
                status.filter(has_text="Thank you").wait_for(timeout=10_000)
            finally:
                browser.close()
    with session_scope(use_db) as s:
        rows = s.execute(text("SELECT item, value FROM rating_answer ORDER BY item")).all()
    assert [tuple(x) for x in rows] == [("ease", 1), ("trust", 4)]
