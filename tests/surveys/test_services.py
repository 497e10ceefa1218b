"""Service items (事項, issue 17 point 1) in the rating service, on SQLite and PostgreSQL: a token
names a service item (checked: known, active, offered through the object), the rating carries it
on both paths, a rating given inside Macao One Account (SAFP's object) for a DSF service counts for
DSF in the figures by owning department while the object's own figures stay per object, and the
incremental service-item roll-up equals a rebuild."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tests.helpers.cli import EgovCli
from tests.helpers.register import Env, setup_services

YEAR = (date(2000, 1, 1), date(2100, 12, 31))


@pytest.fixture
def svc(api: Env) -> Env:
    setup_services()
    return api


def _rows(sql: str, **params: Any) -> list[tuple[Any, ...]]:
    from egov.db import session_scope

    with session_scope() as s:
        return [tuple(r) for r in s.execute(text(sql), params).all()]


SERVICE_DAILY = (
    "SELECT s.code, o.code, r.channel, r.day, r.n1, r.n2, r.n3, r.n4, r.n5 FROM rating_service_daily r "
    "JOIN service_item s ON s.id = r.service_id JOIN assessed_object o ON o.id = r.object_id "
    "WHERE r.n1 + r.n2 + r.n3 + r.n4 + r.n5 > 0 ORDER BY 1, 2, 3, 4"
)


def test_rating_inside_one_account_counts_for_the_owning_bureau(svc: Env) -> None:
    from egov.db import session_scope
    from surveys.rollup import rating_measures
    from surveys.services import service_ratings

    r = svc.client.post(
        "/api/v1/tokens",
        json={"object": "ONE_ACCOUNT", "transaction_ref": "T-1", "service": "DSF_VEHICLE_TAX"},
        headers=svc.auth("department"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["service"] == "DSF_VEHICLE_TAX"
    fast = svc.rate(r.json()["token"], 5)  # a single first submission: the fast path
    assert fast.status_code == 200, fast.text
    # a batch (the general path): a bad rating of another DSF service, and one with no service
    t2 = svc.token("ONE_ACCOUNT", "T-2", service="DSF_PROPERTY_TAX")
    t3 = svc.token("ONE_ACCOUNT", "T-3")
    items = [
        {"token": t2, "level": 1, "better": ["ease"], "channel": "web"},
        {"token": t3, "level": 4},
    ]
    b = svc.client.post("/api/v1/ratings/batch", json={"items": items})
    assert [it["code"] for it in b.json()["items"]] == [200, 200], b.text

    stored = _rows(
        "SELECT r.transaction_ref, s.code FROM rating r LEFT JOIN service_item s ON s.id = r.service_id "
        "ORDER BY r.transaction_ref"
    )
    assert stored == [("T-1", "DSF_VEHICLE_TAX"), ("T-2", "DSF_PROPERTY_TAX"), ("T-3", None)]
    with session_scope() as s:
        owners = service_ratings(s, *YEAR, by="department", min_ratings=1)
        items_df = service_ratings(s, *YEAR, by="service", min_ratings=1).set_index("service")
        few = service_ratings(s, *YEAR, by="service", min_ratings=30)
        objects, _ = rating_measures(s, *YEAR, min_ratings=1)
    # DSF owns both services: its figures hold both ratings, though SAFP's app was used
    assert owners[["department", "n1", "n5", "count"]].values.tolist() == [["DSF", 1, 1, 2]]
    assert owners.loc[0, "share_satisfied"] == pytest.approx(50.0)
    low, high = owners[["share_satisfied_low", "share_satisfied_high"]].to_numpy(dtype=float)[0]
    assert 0 < low < 50 < high < 100
    assert items_df.loc["DSF_VEHICLE_TAX", "department"] == "DSF"
    assert items_df.loc["DSF_PROPERTY_TAX", "bad_share"] == pytest.approx(100.0)
    assert few["share_satisfied"].isna().all() and few["count"].tolist() == [1, 1]  # insufficient
    # the object's own figures stay per object: One Account has all three ratings
    assert objects.loc["ONE_ACCOUNT", "count"] == 3
    assert _rows(SERVICE_DAILY)[0][:3] == ("DSF_PROPERTY_TAX", "ONE_ACCOUNT", "web")
    export = svc.client.get("/api/v1/ratings/export", headers=svc.auth("assessor")).text.splitlines()
    assert export[0].endswith(",counted,service")
    assert sorted(line.rsplit(",", 1)[1] for line in export[1:]) == [
        "",
        "DSF_PROPERTY_TAX",
        "DSF_VEHICLE_TAX",
    ]


def test_token_service_is_checked(svc: Env) -> None:
    def ask(body: dict[str, Any], who: str = "department", batch: bool = False) -> Any:
        url, json = ("/api/v1/tokens/batch", {"items": body["items"]}) if batch else ("/api/v1/tokens", body)
        return svc.client.post(url, json=json, headers=svc.auth(who))

    r = ask({"object": "ONE_ACCOUNT", "transaction_ref": "X-1", "service": "NO_SUCH"})
    assert r.status_code == 422 and r.json()["detail"].startswith("service: unknown service item 'NO_SUCH'")
    items = [
        {"object": "ONE_ACCOUNT", "transaction_ref": "X-2", "service": "DSF_VEHICLE_TAX"},
        {"object": "ONE_ACCOUNT", "transaction_ref": "X-3", "service": "NO_SUCH"},
    ]
    r = ask({"items": items}, batch=True)
    assert r.status_code == 422 and r.json()["detail"].startswith("items.1.service: unknown"), r.text
    # DSAT's bus app does not offer a DSF service
    r = ask(
        {"object": "BUS_REPORT", "transaction_ref": "X-4", "service": "DSF_VEHICLE_TAX"}, "other_department"
    )
    assert r.status_code == 422 and "not offered through object 'BUS_REPORT'" in r.json()["detail"]
    # an item that lists no objects is offered through its owner's own objects only
    ok = ask(
        {"object": "OPEN_DATA_PLATFORM", "transaction_ref": "X-5", "service": "SAFP_ONE_ACCOUNT_REGISTRATION"}
    )
    assert ok.status_code == 200, ok.text
    r = ask(
        {"object": "BUS_REPORT", "transaction_ref": "X-6", "service": "SAFP_ONE_ACCOUNT_REGISTRATION"},
        "other_department",
    )
    assert r.status_code == 422
    # the schema: a code, not empty, no control characters
    r = ask({"object": "ONE_ACCOUNT", "transaction_ref": "X-7", "service": "A\u0000B"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "service"]
    # asking again: the same token (naming the service or not), another service refused
    first = ask({"object": "ONE_ACCOUNT", "transaction_ref": "X-8", "service": "DSF_VEHICLE_TAX"}).json()
    again = ask({"object": "ONE_ACCOUNT", "transaction_ref": "X-8"}).json()
    assert again["token"] == first["token"] and again["service"] == "DSF_VEHICLE_TAX"
    r = ask({"object": "ONE_ACCOUNT", "transaction_ref": "X-8", "service": "DSF_PROPERTY_TAX"})
    assert r.status_code == 409, r.text
    assert _rows("SELECT COUNT(*) FROM rating_token WHERE transaction_ref IN ('X-2', 'X-3')") == [(0,)]


def test_inactive_service_gets_no_tokens(svc: Env, tmp_path: Path) -> None:
    from egov.db import session_scope
    from egov.imports.services import import_services

    f = tmp_path / "off.toml"
    f.write_text(
        '[services.DSF_VEHICLE_TAX]\nname = { en = "Vehicle tax" }\ndepartment = "DSF"\n'
        'channels = ["web"]\nobjects = ["ONE_ACCOUNT"]\nactive = false\n',
        encoding="utf-8",
    )
    with session_scope() as s:
        report = import_services(s, f)
    assert (report.count, report.new, report.changed) == (1, 0, 1)
    r = svc.client.post(
        "/api/v1/tokens",
        json={"object": "ONE_ACCOUNT", "transaction_ref": "Y-1", "service": "DSF_VEHICLE_TAX"},
        headers=svc.auth("department"),
    )
    assert r.status_code == 422 and "not active" in r.json()["detail"]


def test_service_rollup_incremental_equals_rebuild(svc: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    """Follow-ups that move a rating to another level and channel, a held rating accepted by the
    assessor, one rejected: the incremental service-item roll-up equals a rebuild."""
    from egov.db import session_scope
    from egov.settings import reset_settings
    from surveys.rollup import rebuild_rollups

    monkeypatch.setenv("EGOV_BURST_OBJECT_MAX", "3")
    reset_settings()
    tokens = [
        svc.token("ONE_ACCOUNT", f"R-{i}", service=("DSF_VEHICLE_TAX", "DSI_EID")[i % 2]) for i in range(5)
    ]
    for i, tok in enumerate(tokens):
        assert svc.rate(tok, 1 + i % 5, channel=("app", "web")[i % 2]).status_code == 200
    amend = svc.rate(tokens[0], 4, channel="kiosk", follow_up=True)
    assert amend.status_code == 200 and amend.json()["amended"], amend.text
    assert svc.rate(tokens[1], 2, better=["staff"], follow_up=True).status_code == 200
    held = _rows("SELECT id FROM rating WHERE flags = 'burst' ORDER BY id")
    assert len(held) == 2
    for (rid,), decision in zip(held, ("accept", "reject"), strict=True):
        r = svc.client.post(
            f"/api/v1/ratings/{rid}/review", json={"decision": decision}, headers=svc.auth("assessor")
        )
        assert r.status_code == 200, r.text
    # the bad rating (token 1, amended to level 2) is removed on appeal: it stops counting
    (case,) = _rows("SELECT c.id FROM rating_case c JOIN rating r ON r.id = c.rating_id WHERE r.level = 2")
    move = {"department": "appealed", "assessor": "removed"}
    for who, to in move.items():
        r = svc.client.post(f"/api/v1/cases/{case[0]}/transition", json={"to": to}, headers=svc.auth(who))
        assert r.status_code == 200, r.text
    incremental = _rows(SERVICE_DAILY)
    assert sum(sum(r[4:]) for r in incremental) == 3  # five ratings, one rejected, one removed
    assert ("DSF_VEHICLE_TAX", "ONE_ACCOUNT", "kiosk") in {r[:3] for r in incremental}
    with session_scope() as s:
        rebuild_rollups(s, *YEAR)
    assert _rows(SERVICE_DAILY) == incremental
    reset_settings()


def test_department_report_shows_the_services_it_owns(svc: Env) -> None:
    """DSF's report lists its service rated inside One Account (SAFP's object), by object and
    channel; SAFP's report does not count it among its services."""
    from sqlmodel import select

    from egov.clock import local_day
    from egov.db import session_scope
    from egov.models import Department, Period
    from reports.department.data import ReportCache, ratings
    from reports.department.html import services_html

    tok = svc.token("ONE_ACCOUNT", "D-1", service="DSF_VEHICLE_TAX")
    assert svc.rate(tok, 4, channel="web").status_code == 200
    today = local_day()
    with session_scope() as s:
        period = Period(code="P", start=date(today.year, 1, 1), end=date(today.year, 12, 31))
        s.add(period)
        s.flush()
        html = {}
        for code in ("DSF", "SAFP"):
            dept = s.exec(select(Department).where(Department.code == code)).one()
            sec = ratings(s, period, int(dept.id or 0), ReportCache())
            html[code] = services_html(sec.extra, "en")
    assert "DSF_VEHICLE_TAX Payment of the vehicle circulation tax" in html["DSF"]
    assert "<td>ONE_ACCOUNT</td>" in html["DSF"] and "web site" in html["DSF"]
    assert "fewer than" in html["DSF"]  # one rating: no share shown
    assert "No ratings named a service item of this department" in html["SAFP"]


def test_ratings_services_command(svc: Env, egov: EgovCli, tmp_path: Path) -> None:
    from egov.clock import local_day
    from egov.db import session_scope
    from egov.models import Period

    for i in range(3):
        tok = svc.token("ONE_ACCOUNT", f"C-{i}", service="DSI_ID_CARD_APPOINTMENT")
        assert svc.rate(tok, 5 - i, channel="app").status_code == 200
    today = local_day()
    with session_scope() as s:
        s.add(Period(code="P", start=today.replace(month=1, day=1), end=today.replace(month=12, day=31)))
    out = tmp_path / "svc.csv"
    r = egov(["ratings", "services", "--period", "P", "--lang", "en", "--out", out])
    assert r.code == 0, r.err
    assert "Ratings by service item — period P" in r.out and "DSI_ID_CARD_APPOINTMENT" in r.out
    assert "1/1/1/0/0" in r.out and "fewer than 30 ratings" in r.out
    assert (
        out.read_text(encoding="utf-8").splitlines()[1].startswith("DSI_ID_CARD_APPOINTMENT,DSI,0,0,1,1,1,3")
    )
    by_owner = egov(["ratings", "services", "--period", "P", "--by", "department", "--lang", "pt"])
    assert "Serviço responsável" in by_owner.out and "DSI" in by_owner.out
    none = egov(["ratings", "services", "--period", "P", "--department", "DSF", "--lang", "zh-Hant"])
    assert none.code == 0 and "沒有指明服務事項的評價" in none.out
    bad = egov(["ratings", "services", "--period", "P", "--by", "colour", "--lang", "en"])
    assert bad.code == 1 and "by 'colour'" in bad.err
