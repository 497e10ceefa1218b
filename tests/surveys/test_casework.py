"""Handling a bad rating (issue 17, point 3): the tiers, the public answer and the return visit's
outcome through the cases API; the citizen's status page by receipt (no personal data; 404 for
an unknown or purged receipt); the ledger (台賬) written by `egov cases ledger`. SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from tests.helpers.cli import EgovCli
from tests.helpers.register import Env

PHONE_COMMENT = "the queue took two hours, call me at 6612 3456"


def _bad(api: Env, ref: str, comment: str = PHONE_COMMENT) -> tuple[str, int]:
    r = api.rate(api.token(ref=ref), 1, comment=comment)
    assert r.status_code == 200, r.text
    cases = api.client.get("/api/v1/cases", headers=api.auth("department")).json()
    return r.json()["receipt"], max(int(c["id"]) for c in cases)


def _move(api: Env, case_id: int, who: str = "department", **body: Any) -> Any:
    return api.client.post(f"/api/v1/cases/{case_id}/transition", json=body, headers=api.auth(who))


def test_tiers_answers_and_return_visits_through_the_api(api: Env) -> None:
    _, fix = _bad(api, "F-1")
    assert _move(api, fix, to="verified", handler="counter team A", note="checked the log").status_code == 200
    assert _move(api, fix, to="rectifying", tier="explain").status_code == 422  # explain is its own move
    assert (
        _move(api, fix, to="rectifying", tier="immediate", answer="x").status_code == 422
    )  # not this move's
    assert _move(api, fix, to="rectifying", tier="immediate").status_code == 200
    assert _move(api, fix, to="rectified", answer="A second counter opens at lunch.").status_code == 200
    assert _move(api, fix, to="return_visit_done", outcome="happy").status_code == 422
    r = _move(api, fix, to="return_visit_done", outcome="satisfied")
    case = r.json()
    assert r.status_code == 200 and case["visit_outcome"] == "satisfied"
    assert (case["tier"], case["handler"], case["internal_note"]) == (
        "immediate",
        "counter team A",
        "checked the log",
    )
    assert case["answer"] == "A second counter opens at lunch."

    _, why = _bad(api, "E-1")
    assert _move(api, why, to="verified").status_code == 200
    assert _move(api, why, to="explained").status_code == 422  # an explanation needs its text
    r = _move(api, why, to="explained", answer="The law requires the original document.")
    case = r.json()
    assert r.status_code == 200 and case["state"] == "explained" and case["tier"] == "explain"
    assert case["rectified_day"] is not None and case["return_visit_due"] >= case["rectified_day"]
    assert _move(api, why, to="rectifying").status_code == 409
    for to, extra in (("return_visit_done", {"outcome": "unreachable"}), ("closed", {})):
        assert _move(api, why, to=to, **extra).status_code == 200
    metrics = api.client.get("/api/v1/case-metrics", headers=api.auth("assessor")).json()["SAFP"]
    assert metrics["rectified_on_time"] == 100.0  # the explanation counts as the answer in time

    _, appealed = _bad(api, "A-1")
    assert _move(api, appealed, to="appealed", note="a test rating").status_code == 200
    assert _move(api, appealed, "assessor", to="upheld", note="it stands").status_code == 200
    assert _move(api, appealed, to="explained", answer="We explain.").status_code == 200


def test_the_status_page_shows_the_case_and_no_personal_data(api: Env, egov: EgovCli) -> None:
    c = api.client
    good = api.rate(api.token(ref="G-1"), 5, comment="fine").json()["receipt"]
    page = c.get(f"/status/{good}?lang=en")
    assert page.status_code == 200 and "Received — thank you." in page.text
    assert page.headers["cache-control"] == "no-store"

    receipt, cid = _bad(api, "B-1")
    _move(api, cid, to="verified", handler="officer 7 Chan", note="internal: citizen was rude")
    _move(api, cid, to="rectifying", tier="deadline")
    answer = "We added a counter. <b>Questions: 2888 1234</b>"
    _move(api, cid, to="rectified", answer=answer)
    _move(api, cid, to="return_visit_done", outcome="satisfied")
    shown = c.get(f"/status/{receipt.upper()}?lang=en").text
    for text in (
        "We added a counter. &lt;b&gt;Questions: [phone]&lt;/b&gt;",
        "Fix by the deadline",
        "Satisfied",
    ):
        assert text in shown, text
    assert "Macao One Account" in shown and "Return visit done" in shown
    for private in ("6612", "queue took", "officer 7", "rude", "B-1", "2888 1234", "<b>"):
        assert private not in shown, private
    pt = c.get(f"/status/{receipt}?lang=pt").text
    assert "Correcção no prazo" in pt and 'lang="pt"' in pt

    typed = "-".join(receipt[i : i + 4] for i in range(0, 32, 4)).upper()
    r = c.get(f"/status/?receipt={typed}&lang=en", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/status/{receipt}?lang=en"
    assert "<form" in c.get("/status/?lang=en").text
    for unknown in ("0" * 32, "not-a-receipt", "%3Cscript%3E"):
        r = c.get(f"/status/{unknown}?lang=en")
        assert r.status_code == 404 and "There is no rating with this receipt" in r.text
        assert "<script>" not in r.text
    assert c.get("/status/?receipt=zz&lang=en").status_code == 404

    widget = c.get(f"/widget/ONE_ACCOUNT?token={api.token(ref='B-1')}&lang=en").text
    assert f'href="/status/{receipt}?lang=en"' in widget  # the used link points to the status page

    tomorrow = (date.today() + timedelta(days=400)).isoformat()
    assert egov(["ratings", "purge", "--before", tomorrow]).code == 0
    assert c.get(f"/status/{receipt}?lang=en").status_code == 404  # purged: its token is gone


def test_the_ledger(api: Env, egov: EgovCli, tmp_path: Path) -> None:
    from egov.db import session_scope
    from reports.ledger import write_ledger

    _, cid = _bad(api, "L-1")
    _move(api, cid, to="verified", handler="team B")
    _move(api, cid, to="explained", answer='=HYPERLINK("http://evil.example","x")')
    _bad(api, "L-2")  # open, and overdue a year later
    out = tmp_path / "ledger.xlsx"
    r = egov(
        [
            "cases",
            "ledger",
            "--from",
            "2000-01-01",
            "--to",
            "2100-01-01",
            "--department",
            "SAFP",
            "--out",
            str(out),
            "--lang",
            "en",
        ]
    )
    assert r.code == 0 and "wrote 2 case(s)" in r.out
    ws = load_workbook(out).active
    assert ws is not None
    assert [ws.cell(i, 1).value for i in (2, 3, 4)] == ["個案編號", "N.º do caso", "Case no."]
    first = {ws.cell(4, j).value: ws.cell(5, j) for j in range(1, ws.max_column + 1)}
    assert first["Handling tier"].value == "Explain" and first["Handled by"].value == "team B"
    assert first["Public answer"].value.startswith("=HYPERLINK") and first["Public answer"].data_type == "s"
    assert first["Public answer"].quotePrefix
    assert first["On time?"].value == "Answered on time"

    with session_scope() as s:
        later = tmp_path / "later.xlsx"
        write_ledger(
            s, date(2000, 1, 1), date(2100, 1, 1), None, later, "en", date.today() + timedelta(days=365)
        )
    ws = load_workbook(later).active
    assert ws is not None
    assert ws.cell(6, 12).value == "Overdue" and ws.cell(6, 2).value == "SAFP"

    for bad, says in (
        (["--period", "2026", "--from", "2026-01-01"], "not both"),
        (["--period", "26"], "--period '26'"),
        (["--from", "2026-02-01", "--to", "2026-01-01"], "is after"),
        (["--period", "2026", "--department", "NOPE"], "--department 'NOPE'"),
        (["--from", "2026-13-01", "--to", "2026-12-31"], "--from"),
    ):
        r = egov(["cases", "ledger", *bad, "--out", str(tmp_path / "x.xlsx")])
        assert r.code == 1 and says in r.out + r.err, (bad, r.out, r.err)
