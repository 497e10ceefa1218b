"""The /reports/ pages of `egov serve` (FastAPI TestClient on the demo database): login by form
with an HttpOnly SameSite=Strict session cookie whose id is stored only as a hash, expiry and
logout; languages; escaping of stored text. Who may see which page (every caller on every
page, the refusals) is in the role matrix, tests/test_role_matrix.py."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tests.helpers.department_db import EVIL_NAME, EVIL_OBJECT, DemoDb, populate, serving


@dataclass
class Site:
    client: Any
    db: DemoDb

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.db.keys[who]}"}


@pytest.fixture(scope="module")
def site(department_template: DemoDb, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("web")
    db = department_template.copy(tmp / "egov.db")
    with serving(db, tmp) as client:
        yield Site(client, db)


def test_login_form_sets_a_hashed_httponly_strict_session_and_logout_ends_it(site: Site) -> None:
    from fastapi.testclient import TestClient

    from egov.app import create_app

    with TestClient(create_app()) as browser:
        form = browser.get("/reports/login?lang=en")
        assert form.status_code == 200 and 'type="password"' in form.text
        bad = browser.post("/reports/login", data={"key": "egk_wrong", "lang": "en"}, follow_redirects=False)
        assert bad.status_code == 401 and "Unknown or revoked key" in bad.text
        assert "set-cookie" not in bad.headers
        r = browser.post(
            "/reports/login", data={"key": site.db.keys["department"], "lang": "en"}, follow_redirects=False
        )
        assert r.status_code == 303 and r.headers["location"] == "/reports/?lang=en"
        cookie = r.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/reports" in cookie
        assert "Max-Age=28800" in cookie
        session_id = r.cookies["egov_reports"]
        assert site.db.keys["department"] not in cookie
        # only the hash of the session id is stored, with the key's id and an expiry
        from egov.db import get_engine

        with get_engine().connect() as conn:
            rows = conn.execute(text("SELECT id_hash, key_id, expires_at FROM report_session")).all()
        hashes = {row[0] for row in rows}
        assert hashlib.sha256(session_id.encode()).hexdigest() in hashes
        assert session_id not in hashes
        assert all(row[2] is not None for row in rows)

        run = site.db.runs["2023"]
        assert browser.get(f"/reports/{run}/departments/SAFP?lang=en").status_code == 200
        assert browser.get(f"/reports/{run}/departments/DSAT?lang=en").status_code == 403
        assert browser.get(f"/reports/{run}/assessor?lang=en").status_code == 403
        out = browser.post("/reports/logout", follow_redirects=False)
        assert out.status_code == 303 and "Max-Age=0" in out.headers["set-cookie"]
        browser.cookies.set("egov_reports", session_id, path="/reports")  # a replayed cookie
        assert browser.get(f"/reports/{run}/departments/SAFP?lang=en").status_code == 401
        with get_engine().connect() as conn:
            left = conn.execute(text("SELECT id_hash FROM report_session")).scalars().all()
        assert hashlib.sha256(session_id.encode()).hexdigest() not in left


def test_expired_or_revoked_sessions_are_refused(site: Site) -> None:
    from fastapi.testclient import TestClient

    from egov.app import create_app
    from egov.db import get_engine

    run = site.db.runs["2023"]
    with TestClient(create_app()) as browser:
        r = browser.post("/reports/login", data={"key": site.db.keys["assessor"]}, follow_redirects=False)
        digest = hashlib.sha256(r.cookies["egov_reports"].encode()).hexdigest()
        assert browser.get(f"/reports/{run}/ranking").status_code == 200
        with get_engine().begin() as conn:
            conn.execute(
                text(
                    "UPDATE report_session SET expires_at = '2000-01-01 00:00:00.000000' WHERE id_hash = :h"
                ),
                {"h": digest},
            )
        assert browser.get(f"/reports/{run}/ranking").status_code == 401
    with TestClient(create_app()) as browser:
        browser.post("/reports/login", data={"key": site.db.keys["admin"]}, follow_redirects=False)
        assert browser.get(f"/reports/{run}/ranking").status_code == 200
        with get_engine().begin() as conn:
            conn.execute(text("UPDATE api_key SET revoked_at = created_at WHERE role = 'admin'"))
        try:
            assert browser.get(f"/reports/{run}/ranking").status_code == 401
        finally:
            with get_engine().begin() as conn:
                conn.execute(text("UPDATE api_key SET revoked_at = NULL WHERE role = 'admin'"))


def test_a_revoked_key_cannot_log_in(site: Site) -> None:
    r = site.client.post("/reports/login", data={"key": site.db.keys["revoked"]}, follow_redirects=False)
    assert r.status_code == 401 and "set-cookie" not in r.headers


@pytest.mark.parametrize(
    ("lang", "html_lang", "heading"),
    [
        (None, "zh-Hant", "整體及各類別位置"),
        ("zh-Hant", "zh-Hant", "整體及各類別位置"),
        ("pt", "pt", "Posição geral e por categoria"),
        ("en", "en", "Standing overall and by category"),
    ],
)
def test_languages(site: Site, lang: str | None, html_lang: str, heading: str) -> None:
    query = f"?lang={lang}" if lang else ""
    r = site.client.get(f"/reports/latest/departments/SAFP{query}", headers=site.auth("department"))
    assert r.status_code == 200
    assert f'<html lang="{html_lang}">' in r.text and heading in r.text
    bad = site.client.get("/reports/latest/departments/SAFP?lang=fr", headers=site.auth("department"))
    assert bad.status_code == 400


def test_stored_text_is_escaped_on_every_page(site: Site) -> None:
    h = site.auth("assessor")
    for path in ("/reports/latest/ranking?lang=en", "/reports/latest/departments/DSAT?lang=en"):
        body = site.client.get(path, headers=h).text
        assert EVIL_NAME not in body and '<script>alert("x")' not in body
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in body
    dsat = site.client.get(
        "/reports/latest/departments/DSAT?lang=en", headers=site.auth("other_department")
    ).text
    assert EVIL_OBJECT not in dsat and "&lt;img src=x onerror=alert(1)&gt;" in dsat
    assert "<b>slow</b>" not in dsat  # rating comments are never shown


FORGED: tuple[dict[str, str], ...] = (
    {"Origin": "http://evil.example"},  # another site
    {"Origin": "http://testserver:8001"},  # another port of the same host: the same site
    {"Origin": "null"},  # an opaque origin (a sandboxed frame, a data: page)
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site", "Origin": "http://testserver"},  # the browser's word wins
)
SAME_ORIGIN: tuple[dict[str, str], ...] = (
    {"Origin": "http://testserver"},
    {"Origin": "http://TestServer:80"},
    {"Sec-Fetch-Site": "same-origin"},
    {"Sec-Fetch-Site": "none"},  # typed by the user
    {},  # no browser: a script
)


@pytest.mark.parametrize("headers", FORGED)
def test_a_login_or_logout_posted_from_another_site_is_refused(site: Site, headers: dict[str, str]) -> None:
    """Login CSRF (a third-party page logs the user in with its own key) and logout CSRF:
    refused with 403, the session unchanged."""
    from fastapi.testclient import TestClient

    from egov.app import create_app

    run = site.db.runs["2023"]
    with TestClient(create_app()) as browser:
        mine = browser.post("/reports/login", data={"key": site.db.keys["assessor"]}, follow_redirects=False)
        assert mine.status_code == 303
        forged = browser.post(
            "/reports/login?lang=en",
            data={"key": site.db.keys["department"], "lang": "en"},
            headers=headers,
            follow_redirects=False,
        )
        assert forged.status_code == 403 and "set-cookie" not in forged.headers
        assert "came from another site" in forged.text
        out = browser.post("/reports/logout", headers=headers, follow_redirects=False)
        assert out.status_code == 403 and "set-cookie" not in out.headers
        assert browser.get(f"/reports/{run}/assessor").status_code == 200  # still the assessor


@pytest.mark.parametrize("headers", SAME_ORIGIN)
def test_a_login_and_logout_from_the_site_itself_pass(site: Site, headers: dict[str, str]) -> None:
    from fastapi.testclient import TestClient

    from egov.app import create_app

    run = site.db.runs["2023"]
    with TestClient(create_app()) as browser:
        r = browser.post(
            "/reports/login", data={"key": site.db.keys["assessor"]}, headers=headers, follow_redirects=False
        )
        assert r.status_code == 303
        assert browser.get(f"/reports/{run}/assessor").status_code == 200
        assert browser.post("/reports/logout", headers=headers, follow_redirects=False).status_code == 303
        assert browser.get(f"/reports/{run}/assessor").status_code == 401


def test_a_login_form_with_too_many_fields_is_a_400_page(site: Site) -> None:
    ten = {f"f{i}": "x" for i in range(8)} | {"key": "egk_wrong", "lang": "en"}
    assert site.client.post("/reports/login", data=ten).status_code == 401
    eleven = {**ten, "f8": "x"}
    r = site.client.post("/reports/login?lang=en", data=eleven)
    assert r.status_code == 400 and "Invalid form" in r.text
    assert r.headers["content-type"].startswith("text/html")
    many = "&".join(f"a{i}=1" for i in range(5000))
    r = site.client.post(
        "/reports/login", content=many, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert r.status_code == 400


def test_report_pages_are_not_in_the_api_docs(site: Site) -> None:
    spec = site.client.get("/openapi.json").json()
    assert not any(p.startswith("/reports") for p in spec["paths"])


@pytest.mark.slow
def test_login_and_refusal_on_both_engines(use_db: str, tmp_path: Path) -> None:
    """The session table and the department check on SQLite and PostgreSQL."""
    from fastapi.testclient import TestClient

    from egov.app import create_app
    from egov.db import get_engine

    db = populate(
        DemoDb(tmp_path / "unused.db"), use_db, ratings_per_period=600
    )  # the pages, not the numbers
    run = db.runs["2023"]
    with TestClient(create_app()) as browser:
        r = browser.post(
            "/reports/login", data={"key": db.keys["department"], "lang": "en"}, follow_redirects=False
        )
        assert r.status_code == 303
        assert browser.get(f"/reports/{run}/departments/SAFP?lang=en").status_code == 200
        assert browser.get(f"/reports/{run}/departments/DSAT?lang=en").status_code == 403
        with get_engine().connect() as conn:
            expires = conn.execute(text("SELECT expires_at FROM report_session")).scalar_one()
        from egov.clock import as_utc

        if isinstance(expires, str):  # SQLite through text(): ISO text
            expires = datetime.fromisoformat(expires)
        hours = (as_utc(expires) - datetime.now(UTC)).total_seconds() / 3600
        assert 7.9 < hours <= 8.0
        browser.post("/reports/logout")
        assert browser.get(f"/reports/{run}/departments/SAFP?lang=en").status_code == 401


def test_login_attempts_are_rate_limited(site: Site) -> None:
    from fastapi.testclient import TestClient

    from egov.app import create_app

    with TestClient(create_app()) as browser:
        codes = [
            browser.post("/reports/login", data={"key": f"egk_guess{i}"}, follow_redirects=False).status_code
            for i in range(31)
        ]
    assert codes[:30] == [401] * 30 and codes[30] == 429


def test_ranking_names_peer_groups_in_the_language(site: Site) -> None:
    body = site.client.get("/reports/latest/ranking?lang=pt", headers=site.auth("department")).text
    assert "Secretaria para a Administração e Justiça" in body
    assert "<td>administration_justice</td>" not in body
