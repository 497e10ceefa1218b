"""The counter channel (issue 17 point 2): a queue system asks for a token per served ticket
naming the window and the staff member and the kiosk that shows it; the kiosk, with its own
device key, reads the ticket and the citizen's rating goes the usual way (channel `counter`),
once per ticket; the department reads its figures by window and staff code, nobody else does,
and no public page or export shows a staff code; the purge deletes the subjects; the hotline is
a channel of the API."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers.register import COUNTER, Env, setup_counter


@pytest.fixture
def counter(api: Env) -> Env:
    setup_counter()
    return api


def _kiosk(env: Env, code: str = "SAFP-C-03", window: str | None = "3") -> str:
    body: dict[str, Any] = {"code": code, "object": COUNTER, "label": "tablet"}
    if window:
        body["window"] = window
    r = env.client.post("/api/v1/kiosks", json=body, headers=env.auth("department"))
    assert r.status_code == 200, r.text
    assert r.json()["setup_path"] == f"/kiosk/{COUNTER}#key={r.json()['key']}"
    return str(r.json()["key"])


def _served(env: Env, ticket: str, **extra: Any) -> dict[str, Any]:
    body = {"object": COUNTER, "transaction_ref": ticket, "service": "SAFP_COUNTER_ID_RENEWAL", **extra}
    r = env.client.post("/api/v1/tokens", json=body, headers=env.auth("department"))
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_a_served_ticket_reaches_its_kiosk_and_is_rated_once(counter: Env) -> None:
    key = _kiosk(counter)
    dev = {"Authorization": f"Bearer {key}"}
    assert counter.client.get("/api/v1/kiosk/ticket", headers=dev).status_code == 204
    issued = _served(counter, "A023", staff="S1042", kiosk="SAFP-C-03")
    assert issued["window"] == "3" and issued["kiosk"] == "SAFP-C-03"  # the kiosk's window
    ticket = counter.client.get("/api/v1/kiosk/ticket", headers=dev).json()
    assert ticket["token"] == issued["token"] and ticket["window"] == "3"
    assert ticket["service_name"]["en"] == "Identity card renewal appointment"
    assert "S1042" not in str(ticket)  # the kiosk never learns the staff code
    r = counter.rate(ticket["token"], 2, channel="counter")
    assert r.status_code == 200 and r.json()["receipt"] == ticket["receipt"]
    assert counter.client.get("/api/v1/kiosk/ticket", headers=dev).status_code == 204  # back to waiting
    assert counter.rate(ticket["token"], 5, channel="counter").status_code == 409  # one rating a ticket
    # asking again for the ticket gives the same token; other subjects are refused
    assert _served(counter, "A023", staff="S1042", kiosk="SAFP-C-03")["token"] == issued["token"]
    r = counter.client.post(
        "/api/v1/tokens",
        json={
            "object": COUNTER,
            "transaction_ref": "A023",
            "service": "SAFP_COUNTER_ID_RENEWAL",
            "staff": "S9",
        },
        headers=counter.auth("department"),
    )
    assert r.status_code == 409


def test_a_newer_ticket_supersedes_and_a_dismissed_one_is_not_shown_again(counter: Env) -> None:
    key = _kiosk(counter)
    dev = {"Authorization": f"Bearer {key}"}
    first = _served(counter, "A1", kiosk="SAFP-C-03")
    second = _served(counter, "A2", kiosk="SAFP-C-03")
    shown = counter.client.get("/api/v1/kiosk/ticket", headers=dev).json()
    assert shown["token"] == second["token"] != first["token"]
    r = counter.client.post(f"/api/v1/kiosk/ticket/{shown['receipt']}/dismiss", headers=dev)
    assert r.status_code == 204
    assert counter.client.get("/api/v1/kiosk/ticket", headers=dev).status_code == 204  # not A1 either
    assert (
        counter.client.post(f"/api/v1/kiosk/ticket/{shown['receipt']}/dismiss", headers=dev).status_code
        == 404
    )


def test_the_device_key_opens_the_kiosk_routes_and_nothing_else(counter: Env) -> None:
    key = _kiosk(counter)
    dev = {"Authorization": f"Bearer {key}"}
    assert counter.client.get("/api/v1/me", headers=dev).status_code == 401
    r = counter.client.post("/api/v1/tokens", json={"object": COUNTER, "transaction_ref": "X"}, headers=dev)
    assert r.status_code == 401
    assert counter.client.get("/api/v1/kiosk/ticket", headers=counter.auth("department")).status_code == 401
    # a kiosk of another department's object, or another department's kiosk: refused
    r = counter.client.post(
        "/api/v1/kiosks", json={"code": "DSAT-1", "object": COUNTER}, headers=counter.auth("other_department")
    )
    assert r.status_code == 403
    r = counter.client.post("/api/v1/kiosks/SAFP-C-03/revoke", headers=counter.auth("other_department"))
    assert r.status_code == 404
    r = counter.client.post("/api/v1/kiosks/SAFP-C-03/revoke", headers=counter.auth("department"))
    assert r.status_code == 200 and r.json()["revoked_at"]
    assert counter.client.get("/api/v1/kiosk/ticket", headers=dev).status_code == 401  # at once
    r = counter.client.post(
        "/api/v1/tokens",
        json={"object": COUNTER, "transaction_ref": "Y", "kiosk": "SAFP-C-03"},
        headers=counter.auth("department"),
    )
    assert r.status_code == 422 and "kiosk" in r.text


@pytest.mark.parametrize("staff", ["ChanTaiMan", "陳大文", "S 1", "S1;drop"])
def test_a_staff_name_is_refused(counter: Env, staff: str) -> None:
    r = counter.client.post(
        "/api/v1/tokens",
        json={"object": COUNTER, "transaction_ref": "N1", "staff": staff},
        headers=counter.auth("department"),
    )
    assert r.status_code == 422 and "staff" in r.text


def test_figures_by_window_and_staff_for_the_department_only(
    counter: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    from egov.settings import reset_settings

    monkeypatch.setenv("EGOV_MIN_RATINGS", "3")
    reset_settings()
    for i, (window, staff, level) in enumerate(
        [("3", "S1042", 5), ("3", "S1042", 4), ("3", "S1042", 2), ("5", "S2001", 5)]
    ):
        tok = _served(counter, f"F{i}", window=window, staff=staff)["token"]
        assert counter.rate(tok, level, channel="counter").status_code == 200
    r = counter.client.get("/api/v1/subjects?by=staff", headers=counter.auth("department"))
    assert r.status_code == 200, r.text
    rows = {row["staff"]: row for row in r.json()}
    assert rows["S1042"]["count"] == 3 and rows["S1042"]["share_satisfied"] == pytest.approx(200 / 3)
    assert rows["S2001"]["count"] == 1 and rows["S2001"]["share_satisfied"] is None  # below the minimum
    windows = counter.client.get("/api/v1/subjects?by=window", headers=counter.auth("department")).json()
    assert [(w["object"], w["window"], w["count"]) for w in windows] == [(COUNTER, "3", 3), (COUNTER, "5", 1)]
    assert (
        counter.client.get("/api/v1/subjects?by=staff", headers=counter.auth("other_department")).json() == []
    )
    for who in ("assessor", "admin", None):
        assert counter.client.get("/api/v1/subjects?by=staff", headers=counter.auth(who)).status_code in (
            401,
            403,
        )


def test_a_staff_code_is_never_public_and_the_purge_deletes_it(counter: Env) -> None:
    from datetime import date, timedelta

    from sqlmodel import select

    from egov.db import session_scope
    from egov.models_counter import RatingSubject
    from surveys.privacy import purge_ratings

    tok = _served(counter, "P1", window="7", staff="S7777")["token"]
    receipt = counter.rate(tok, 1, channel="counter", better=["staff"]).json()["receipt"]
    status = counter.client.get(f"/status/{receipt}?lang=en")
    assert status.status_code == 200 and "S7777" not in status.text
    export = counter.client.get("/api/v1/ratings/export", headers=counter.auth("assessor"))
    assert export.status_code == 200 and "S7777" not in export.text and "counter" in export.text
    cases = counter.client.get("/api/v1/cases", headers=counter.auth("department"))
    assert "S7777" not in cases.text
    with session_scope() as s:
        assert len(s.exec(select(RatingSubject)).all()) == 1
        purge_ratings(s, before=date.today() + timedelta(days=2))
    with session_scope() as s:
        assert s.exec(select(RatingSubject)).all() == []


def test_the_hotline_is_a_channel(counter: Env) -> None:
    tok = counter.token(ref="H-1")
    r = counter.client.post(
        "/api/v1/ratings/batch", json={"items": [{"token": tok, "level": 4, "channel": "hotline"}]}
    )
    assert r.status_code == 200 and r.json()["accepted"] == 1
    assert counter.client.get("/api/v1/questions?channel=hotline").status_code == 200


def test_the_kiosk_page_is_self_contained_and_trilingual(counter: Env) -> None:
    r = counter.client.get(f"/kiosk/{COUNTER}?lang=pt")
    assert r.status_code == 200
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "Avaliação do atendimento" in r.text and "現場服務評價" in r.text  # the switch's texts
    assert "http://" not in r.text and "https://" not in r.text  # no external resource
    assert "Declaração de recolha de dados pessoais" in r.text  # the notice
    assert counter.client.get("/kiosk/NO_SUCH").status_code == 404


def test_the_command_shows_a_department_its_subjects(counter: Env, egov: Any, tmp_path: Any) -> None:
    from datetime import date

    from egov.db import session_scope
    from egov.models import Period

    for i, staff in enumerate(("S1042", "S1042", "S2001")):
        tok = _served(counter, f"C{i}", window=str(i + 1), staff=staff)["token"]
        assert counter.rate(tok, 4 + (i == 0), channel="counter").status_code == 200
    today = date.today()
    with session_scope() as s:
        s.add(Period(code="P", start=today.replace(month=1, day=1), end=today.replace(month=12, day=31)))
    out = tmp_path / "staff.csv"
    r = egov(
        [
            "ratings",
            "subjects",
            "--period",
            "P",
            "--department",
            "SAFP",
            "--by",
            "staff",
            "--out",
            out,
            "--lang",
            "en",
        ]
    )
    assert r.code == 0, r.err
    assert "Ratings by staff code — SAFP, period P (for the department only)" in r.out and "S1042" in r.out
    assert "1/1/0/0/0" in r.out and "fewer than 30 ratings" in r.out
    assert out.read_text(encoding="utf-8").splitlines()[1].startswith("S1042,0,0,0,1,1,2")
    windows = egov(["ratings", "subjects", "--period", "P", "--department", "SAFP", "--lang", "zh-Hant"])
    assert "按窗口的評價" in windows.out and COUNTER in windows.out
    none = egov(["ratings", "subjects", "--period", "P", "--department", "DSAT", "--lang", "pt"])
    assert none.code == 0 and "Não há avaliações" in none.out
    bad = egov(
        ["ratings", "subjects", "--period", "P", "--department", "SAFP", "--by", "name", "--lang", "en"]
    )
    assert bad.code == 1 and "by 'name'" in bad.err


def test_kiosks_on_the_command_line(counter: Env, egov: Any) -> None:
    r = egov(
        [
            "kiosks",
            "add",
            "SAFP-C-09",
            "--department",
            "SAFP",
            "--object",
            COUNTER,
            "--window",
            "9",
            "--lang",
            "en",
        ]
    )
    assert r.code == 0, r.err
    link = r.out.strip().splitlines()[-1]
    assert link.startswith(f"/kiosk/{COUNTER}#key=egq_")
    dev = {"Authorization": f"Bearer {link.split('#key=')[1]}"}
    assert counter.client.get("/api/v1/kiosk/ticket", headers=dev).status_code == 204
    listed = egov(["kiosks", "list", "--department", "SAFP", "--lang", "pt"])
    assert "Terminais de avaliação" in listed.out and "SAFP-C-09" in listed.out
    assert link.split("#key=")[1] not in listed.out  # never the key again
    again = egov(["kiosks", "add", "SAFP-C-09", "--department", "SAFP", "--object", COUNTER, "--lang", "en"])
    assert again.code == 1 and "exists already" in again.err
    other = egov(["kiosks", "add", "DSAT-1", "--department", "DSAT", "--object", COUNTER, "--lang", "en"])
    assert other.code == 1 and "another department" in other.err
    assert (
        egov(["kiosks", "revoke", "SAFP-C-09", "--lang", "zh-Hant"]).out.strip() == "評價機 SAFP-C-09 已撤銷"
    )
    assert counter.client.get("/api/v1/kiosk/ticket", headers=dev).status_code == 401
