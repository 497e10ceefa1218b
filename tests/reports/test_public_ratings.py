"""The public rating results (/public/ratings/, issue 17 point 5) and their open data (`egov
publish ratings`): the figures per department and per service item are known answers on a small
hand-made set of ratings and one case taken through the case API (a rating given inside One
Account, SAFP's object, for a DSF service counts for DSF); below the minimum count the estimates
are withheld and the page says why; no comment, phone number, staff label or transaction
reference appears anywhere; ETag 304; 404 for an unknown period, department or service item; no
key; three languages. On SQLite and PostgreSQL (the `api` world of tests/surveys)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.cli import EgovCli
from tests.helpers.register import Env, setup_register, setup_services

SECRET_REF = "TX-SECRET-4471"  # a transaction reference
STAFF = "counter team 3 STAFF-X9"  # a staff label
COMMENT = "two hours queue, call me at 6612 3456"
LEAKS = (SECRET_REF, STAFF, "6612 3456", "6612", "call me", "internal-note-77", "egk_")


@pytest.fixture
def api(use_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    """A TestClient on a fresh database with the register, the service catalogue and keys."""
    from fastapi.testclient import TestClient

    from egov.app import create_app
    from egov.settings import reset_settings

    monkeypatch.setenv("EGOV_SECRET_KEY", "test-secret-not-for-production")
    monkeypatch.setenv("EGOV_MIN_RATINGS", "5")
    reset_settings()
    keys = setup_register()
    setup_services()
    with TestClient(create_app()) as client:
        yield Env(client, keys)


@pytest.fixture
def world(api: Env, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """SAFP's One Account: four ratings naming DSF_VEHICLE_TAX (5, 5, 4 and a bad 1 from a kiosk,
    whose case SAFP puts right on the day and calls the citizen back: satisfied) and one naming no
    item (3). Minimum count 5: One Account's five ratings are shown, DSF's four withheld."""
    from egov.clock import local_day
    from reports.public.ratings_data import forget_public_ratings

    forget_public_ratings()
    for i, level in enumerate((5, 5, 4)):
        assert api.rate(api.token(ref=f"G-{i}", service="DSF_VEHICLE_TAX"), level).status_code == 200
    bad = api.rate(api.token(ref=SECRET_REF, service="DSF_VEHICLE_TAX"), 1, comment=COMMENT, channel="kiosk")
    assert bad.status_code == 200, bad.text
    assert api.rate(api.token(ref="N-1"), 3).status_code == 200
    case = max(int(c["id"]) for c in api.client.get("/api/v1/cases", headers=api.auth("department")).json())
    for body in (
        {"to": "verified", "handler": STAFF, "note": "internal-note-77"},
        {"to": "rectifying", "tier": "immediate"},
        {"to": "rectified", "answer": "A second kiosk was opened."},
        {"to": "return_visit_done", "outcome": "satisfied"},
    ):
        r = api.client.post(f"/api/v1/cases/{case}/transition", json=body, headers=api.auth("department"))
        assert r.status_code == 200, r.text
    today = local_day()
    return {"year": str(today.year), "quarter": f"{today.year}Q{(today.month - 1) // 3 + 1}", "today": today}


def _no_leak(text: str) -> None:
    for leak in LEAKS:
        assert leak not in text, leak


def test_the_figures_per_department_and_service_item(api: Env, world: dict[str, Any]) -> None:
    from egov.db import session_scope
    from reports.public.ratings_data import public_ratings

    with session_scope() as s:
        pr = public_ratings(s, world["quarter"])
    safp, dsf = pr.departments.loc["SAFP"], pr.departments.loc["DSF"]
    # SAFP's object, One Account: 5 ratings (5, 5, 4, 3, 1): 60 % satisfied, mean 3.6, one bad
    assert (safp["objects_count"], safp["objects_bad"], bool(safp["objects_withheld"])) == (5, 1, False)
    assert safp["objects_share_satisfied"] == pytest.approx(60.0)
    assert safp["objects_mean_level"] == pytest.approx(3.6) and safp["objects_bad_share"] == pytest.approx(
        20.0
    )
    # Wilson (1927) 95 % interval of 3/5: 23.07 %–88.24 %
    assert safp["objects_share_satisfied_low"] == pytest.approx(23.07, abs=0.01)
    assert safp["objects_share_satisfied_high"] == pytest.approx(88.24, abs=0.01)
    # the four ratings naming a DSF service count for DSF (below the minimum: withheld), not SAFP
    assert (dsf["services_count"], dsf["services_bad"], bool(dsf["services_withheld"])) == (4, 1, True)
    assert dsf["services_share_satisfied"] != dsf["services_share_satisfied"]  # NaN
    assert safp["services_count"] == 0 and dsf["objects_count"] == 0
    # the case belongs to SAFP (the rated object's department), answered on the day, on time
    assert (safp["cases_cases"], safp["cases_rectified"], safp["cases_on_time"], safp["cases_due"]) == (
        1,
        1,
        1,
        1,
    )
    assert safp["cases_on_time_rate"] == 100.0 and safp["cases_median_days"] == 0.0
    assert (safp["cases_visits_satisfied"], safp["cases_visit_satisfaction"]) == (1, 100.0)
    assert dsf["cases_cases"] == 0
    item = pr.services.loc["DSF_VEHICLE_TAX"]
    assert (item["department"], item["rating_count"], item["rating_bad"], item["cases_cases"]) == (
        "DSF",
        4,
        1,
        1,
    )
    kiosk = pr.channels[(pr.channels["service"] == "DSF_VEHICLE_TAX") & (pr.channels["channel"] == "kiosk")]
    assert list(kiosk["count"]) == [1] and list(kiosk["bad"]) == [1]


def test_the_pages_need_no_key_show_no_personal_data_and_are_cached(api: Env, world: dict[str, Any]) -> None:
    c, q = api.client, world["quarter"]
    home = c.get("/public/")
    assert home.status_code == 200 and "/public/ratings/" in home.text
    index = c.get("/public/ratings/")
    assert index.status_code == 200 and f"/public/ratings/{q}/" in index.text
    assert f"/public/ratings/{world['year']}/" in index.text
    page = c.get(f"/public/ratings/{q}/")  # no key
    assert page.status_code == 200, page.text
    assert '<html lang="zh-Hant"' in page.text and 'lang="pt"' in page.text
    assert "各部門" in page.text and "Serviços públicos" in page.text
    assert "max-age=300" in page.headers["cache-control"] and "public" in page.headers["cache-control"]
    assert "<script" not in page.text
    assert c.get(f"/public/ratings/{q}/", headers={"If-None-Match": page.headers["etag"]}).status_code == 304
    en = c.get(f"/public/ratings/{q}/departments/SAFP?lang=en")
    assert en.status_code == 200 and '<html lang="en"' in en.text and "各部門" not in en.text
    assert "60.0 % (23.1–88.2 %)" in en.text and "Bad ratings put right" in en.text
    assert "1 of 1 · 100.0 %" in en.text  # answered on time; satisfied at the return visit
    dsf = c.get(f"/public/ratings/{q}/departments/DSF?lang=en").text
    assert "withheld: fewer than 5 ratings" in dsf and "DSF_VEHICLE_TAX" in dsf
    pt = c.get(f"/public/ratings/{q}/services/DSF_VEHICLE_TAX?lang=pt")
    assert (
        pt.status_code == 200 and "não publicado: menos de 5 avaliações" in pt.text and "quiosque" in pt.text
    )
    zh = c.get(f"/public/ratings/{q}/services/DSF_VEHICLE_TAX?lang=zh-Hant").text
    assert "不公佈：少於 5 個評價" in zh and "差評整改情況" in zh
    for text in (page.text, en.text, dsf, pt.text, zh, index.text):
        _no_leak(text)
    assert c.get(f"/public/ratings/{q}/", headers={"Authorization": "Bearer nonsense"}).status_code == 200
    for path in (
        "/public/ratings/1999/",
        "/public/ratings/2999/",
        "/public/ratings/nonsense/",
        "/public/ratings/0000/",
        "/public/ratings/%D9%A2%D9%A0%D9%A2%D9%A6/",  # Arabic-Indic digits
        f"/public/ratings/{world['year']}Q5/",
        f"/public/ratings/{q}/departments/NOPE",
        f"/public/ratings/{q}/services/NOPE",
        "/public/ratings/1999/open-data.zip",
    ):
        refused = c.get(path)
        assert refused.status_code == 404 and refused.headers["cache-control"] == "no-store", path
    z = c.get(f"/public/ratings/{q}/open-data.zip")
    assert z.status_code == 200 and z.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(z.content)).namelist()
    assert f"egov-ratings-{q}/departments.csv" in names and f"egov-ratings-{q}/manifest.json" in names


def test_the_open_data_command(api: Env, world: dict[str, Any], egov: EgovCli, tmp_path: Path) -> None:
    from sqlalchemy import update
    from sqlmodel import col

    from egov.db import session_scope
    from egov.models import Department
    from reports.public.ratings_data import forget_public_ratings

    with session_scope() as s:
        s.execute(update(Department).where(col(Department.code) == "DSF").values(name_pt="=HYPERLINK(1)"))
    forget_public_ratings()
    out = tmp_path / "ratings"
    made = egov(["publish", "ratings", "--period", world["year"], "--out", out, "--lang", "en"])
    assert made.code == 0, made.err
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    for name, sha in manifest["files"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == sha, name
    dictionary = list(csv.DictReader((out / "data-dictionary.csv").open(encoding="utf-8")))
    described = {(d["file"], d["column"]) for d in dictionary}
    assert all(d["description_zh"] and d["description_pt"] and d["description_en"] for d in dictionary)
    for table in ("departments", "services", "service-channels", "objects", "data-dictionary"):
        with (out / f"{table}.csv").open(encoding="utf-8") as f:
            header = next(csv.reader(f))
        assert {(f"{table}.csv", column) for column in header} <= described, table
        _no_leak((out / f"{table}.csv").read_text(encoding="utf-8"))
        _no_leak((out / f"{table}.json").read_text(encoding="utf-8"))
    rows = {d["department"]: d for d in csv.DictReader((out / "departments.csv").open(encoding="utf-8"))}
    assert rows["DSF"]["name_pt"] == "'=HYPERLINK(1)" and rows["DSF"]["services_count"] == "4"
    assert rows["DSF"]["services_withheld"] == "True" and rows["DSF"]["services_share_satisfied"] == ""
    assert rows["SAFP"]["objects_share_satisfied"] == "60" and rows["SAFP"]["cases_on_time_rate"] == "100"
    as_json = {d["department"]: d for d in json.loads((out / "departments.json").read_text(encoding="utf-8"))}
    assert as_json["DSF"]["name_pt"] == "=HYPERLINK(1)" and as_json["DSF"]["services_share_satisfied"] is None
    refused = egov(["publish", "ratings", "--period", "1999", "--out", tmp_path / "none", "--lang", "en"])
    assert refused.code == 1 and "1999" in refused.err + refused.out


def test_the_ratings_pages_are_rate_limited(
    api: Env, world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.helpers.register import make_client

    with make_client(monkeypatch, rate_limit_client="3") as c:
        codes = [c.get("/public/ratings/").status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[-1] == 429, codes


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # what the browser sees is the same on both
def test_a_ratings_page_in_a_browser(api: Env, world: dict[str, Any], chromium: str) -> None:
    """Headless Chromium reads a department's rating results (served by the app through a routed
    origin, with its real headers) and follows the link to its service item: headings, both
    languages marked, header cells, no script, no console error, no outside request."""
    from playwright.sync_api import Route, sync_playwright

    from tests.helpers.servers import CHROMIUM_ARGS

    base, q = "http://public.test", world["quarter"]
    with sync_playwright() as p:

        def answer(route: Route) -> None:
            r = api.client.get(route.request.url.removeprefix(base))
            route.fulfill(status=r.status_code, headers=dict(r.headers), body=r.content)

        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            errors: list[str] = []
            outside: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("request", lambda r: None if r.url.startswith(base) else outside.append(r.url))
            page.route(f"{base}/**", answer)
            shown = page.goto(f"{base}/public/ratings/{q}/departments/DSF")
            assert shown is not None and shown.status == 200
            assert page.get_by_role("heading", level=1).count() == 1
            assert page.get_by_role("heading", name="Rectificação das avaliações negativas").count() == 1
            assert page.locator('[lang="pt"]').count() > 5 and page.locator("html[lang=zh-Hant]").count() == 1
            assert page.get_by_role("columnheader").count() > 3 and page.get_by_role("rowheader").count() > 3
            assert page.locator("script").count() == 0
            page.get_by_role("link", name="DSF_VEHICLE_TAX").first.click()
            page.wait_for_url(f"{base}/public/ratings/{q}/services/DSF_VEHICLE_TAX")
            assert "não publicado: menos de 5 avaliações" in page.content()
            assert SECRET_REF not in page.content() and STAFF not in page.content()
            assert errors == [] and outside == [], (errors, outside)
        finally:
            browser.close()


def test_a_page_is_rendered_once_while_its_figures_are_kept(
    api: Env, world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rendered page is kept with the figures (CACHE_SECONDS): a second request, 304 or not,
    renders nothing; when the figures are recomputed the page is rendered again."""
    import reports.public.ratings_routes as routes
    from reports.public.ratings_data import forget_public_ratings

    calls: list[str] = []
    real = routes.department_page

    def counting(*args: Any) -> str:
        calls.append(args[1])
        return real(*args)

    monkeypatch.setattr(routes, "department_page", counting)
    forget_public_ratings()
    c, q = api.client, world["quarter"]
    first = c.get(f"/public/ratings/{q}/departments/SAFP?lang=en")
    again = c.get(f"/public/ratings/{q}/departments/SAFP?lang=en")
    assert first.status_code == again.status_code == 200 and first.content == again.content
    tag = {"If-None-Match": first.headers["etag"]}
    assert c.get(f"/public/ratings/{q}/departments/SAFP?lang=en", headers=tag).status_code == 304
    assert calls == ["SAFP"]
    c.get(f"/public/ratings/{q}/departments/SAFP?lang=pt")  # another language: its own page
    assert calls == ["SAFP", "SAFP"]
    forget_public_ratings()
    c.get(f"/public/ratings/{q}/departments/SAFP?lang=en")
    assert calls == ["SAFP", "SAFP", "SAFP"]
