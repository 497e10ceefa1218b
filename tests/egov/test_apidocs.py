"""The API documentation works offline (a government intranet reaches no CDN): /docs (Swagger
UI) loads its JavaScript, CSS and icon from the service itself, from the files of an installed
package; in headless Chromium with every request off this machine blocked, it lists the
operations. There is no /redoc (ReDoc fetches its logo from a CDN)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.helpers.servers import CHROMIUM_ARGS, serve

OFFLINE_ARGS = [*CHROMIUM_ARGS, "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]


def test_docs_pages_name_only_local_assets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from egov.app import create_app
    from egov.settings import reset_settings

    monkeypatch.setenv("EGOV_DATABASE_URL", f"sqlite:///{tmp_path / 'egov.db'}")
    reset_settings()
    with TestClient(create_app()) as client:
        r = client.get("/docs")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        urls = re.findall(r"""(?:src|href|url)\s*[=:(]\s*['"]([^'"]+)['"]""", r.text)
        assert urls and all(u.startswith("/") for u in urls), urls
        assert "cdn" not in r.text.lower()
        assert client.get("/redoc").status_code == 404
        for asset, kind in (
            ("swagger-ui-bundle.js", "javascript"),
            ("swagger-ui.css", "css"),
            ("favicon.png", "png"),
        ):
            r = client.get(f"/docs-assets/{asset}")
            assert r.status_code == 200 and kind in r.headers["content-type"], asset
        assert client.get("/docs/oauth2-redirect").status_code == 200
        assert "/docs" not in client.get("/openapi.json").json()["paths"]
    reset_settings()


@pytest.mark.slow
def test_docs_render_in_a_browser_without_network(tmp_path: Path, chromium: str) -> None:
    from playwright.sync_api import Route, sync_playwright

    with serve(f"sqlite:///{tmp_path / 'egov.db'}", tmp_path) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=OFFLINE_ARGS)
        try:
            page = browser.new_page()
            blocked: list[str] = []

            def local_only(route: Route) -> None:
                if route.request.url.startswith(base) or route.request.url.startswith("data:"):
                    route.continue_()
                else:
                    blocked.append(route.request.url)
                    route.abort()

            page.route("**/*", local_only)
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))

            page.goto(f"{base}/docs")
            page.locator(".opblock").first.wait_for(timeout=20_000)
            assert page.locator(".opblock").count() >= 20  # every operation of the rating API
            assert page.locator(".opblock-summary-path", has_text="/api/v1/ratings/batch").count() == 1
            assert blocked == [], blocked
            assert errors == [], errors
        finally:
            browser.close()
