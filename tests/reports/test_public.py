"""The public site (/public/) and the open-data package (`egov publish package`) of issue 16
point 6: a published run is served without credentials, in zh-Hant and pt (en on request),
escaped, cached with an ETag; everything unpublished or unknown answers 404; no internal
section, key or person shows; the package's files, data dictionary and manifest hold, and its
bundle verifies with `egov runs verify`. On SQLite and PostgreSQL; a small world (the Macau
register, a few values per object), not the demo."""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
import random
import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import col, select

from egov.cycle import Actor, advance, open_cycle, publish
from egov.models import Department, EvaluationRun, Period
from tests.helpers.cli import EgovCli, run_cli
from tests.helpers.demo import copy_sqlite, point_settings, settings_on, sqlite_url_of
from tests.helpers.department_db import EVIL_NAME

MC_N = 40  # Monte Carlo replications in these tests
EVIL = "DSAT"  # its name is set to text that looks like HTML


@functools.lru_cache(maxsize=16)
def _indicators(kind: str, subkind: str | None) -> list[tuple[str, float, float]]:
    """The first three metric indicators of the framework that apply to an object, with
    their valid range."""
    from indicators.framework import builtin_path, load_framework
    from indicators.model import applies

    fw = load_framework(builtin_path("macau"))
    out = []
    for node in fw.indicators:
        where, up = node.applies_to, node
        while where is None and up.parent:
            up = fw.nodes[up.parent]
            where = up.applies_to
        if node.source == "metric" and applies(where, kind, subkind):
            low, high = node.valid_range or (0.0, 100.0)
            out.append((node.code, max(low, 0.0), min(high, 100.0)))
    return out[:3]


def _values(path: Path, seed: int, skip_kinds: dict[str, set[str]]) -> Path:
    """A seeded CSV of values: every object, three metric indicators that apply to it; the
    departments in `skip_kinds` get none for those kinds (so they are scored on fewer)."""
    from egov.demo import load_toml

    rng = random.Random(seed)
    objects = load_toml("macau_register.toml")["objects"]
    lines = ["object,indicator,value"]
    for code, obj in objects.items():
        if obj["kind"] in skip_kinds.get(obj["department"], set()):
            continue
        for indicator, low, high in _indicators(obj["kind"], obj.get("subkind")):
            lines.append(f"{code},{indicator},{rng.uniform(low, high):.2f}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _move(url: str, period: str, to: str, run: str | None = None) -> None:
    from egov.db import session_scope

    with session_scope(url) as s:
        if to == "collecting":
            open_cycle(s, period, Actor("test:lead", "lead"), "programme")
        elif to == "published":
            publish(s, period, Actor("cli:alice-secret-operator", "lead"), "approved for publication")
        else:
            advance(s, period, to, Actor("test:assessor", "assessor"), f"to {to}", run)


def _score(url: str, period: str, csv_path: Path) -> str:
    from egov.db import session_scope

    assert run_cli(["import", "metrics", csv_path, "--period", period]) == 0
    assert run_cli(["score", "--period", period]) == 0
    with session_scope(url) as s:
        pid = s.exec(select(Period.id).where(Period.code == period)).one()
        return str(s.exec(select(EvaluationRun.run_key).where(EvaluationRun.period_id == pid)).one())


def _build(url: str, folder: Path) -> dict[str, Any]:
    """2025 published (SAFP scored on one category only); 2024 scored, its cycle in draft."""
    from egov.db import session_scope
    from tests.helpers.register import setup_register

    with settings_on(url, folder):
        keys = setup_register(url)
        with session_scope(url) as s:
            s.execute(
                update(Department)
                .where(col(Department.code) == EVIL)
                .values(name_zh=EVIL_NAME, name_pt=EVIL_NAME)
            )
        only_one = {"SAFP": {"infrastructure", "management"}}
        runs = {}
        for period, seed in (("2025", 1), ("2024", 2)):
            _move(url, period, "collecting")
            runs[period] = _score(url, period, _values(folder / f"v{period}.csv", seed, only_one))
            _move(url, period, "verifying")
            _move(url, period, "draft", runs[period])
        for to in ("review", "final", "published"):
            _move(url, "2025", to)
    return {"url": url, "runs": runs, "keys": keys}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The world on SQLite, built once for this module (copied per test)."""
    folder = tmp_path_factory.mktemp("public-world")
    return _build(sqlite_url_of(folder / "egov.db"), folder)


def _world(
    url: str, template: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> dict[str, Any]:
    import reports.public.data
    from reports.public import forget_public_runs

    forget_public_runs()
    monkeypatch.setattr(reports.public.data, "MC_N", MC_N)  # the intervals, not their precision
    if url.startswith("sqlite"):
        copy_sqlite(Path(template["url"].removeprefix("sqlite:///")), tmp_path / "world.db")
        url = sqlite_url_of(tmp_path / "world.db")
        world = {**template, "url": url}
    else:
        world = _build(url, tmp_path)
    point_settings(monkeypatch, url, tmp_path)
    return world


@pytest.fixture
def world(
    db_url: str, template: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> dict[str, Any]:
    """The world on SQLite (a copy of the template) and on PostgreSQL (built)."""
    return _world(db_url, template, monkeypatch, tmp_path)


@pytest.fixture
def sqlite_world(template: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    """A copy of the SQLite world (for what does not depend on the database engine)."""
    return _world("sqlite", template, monkeypatch, tmp_path)


def _client() -> Any:
    from fastapi.testclient import TestClient

    from egov.app import create_app

    return TestClient(create_app())


def test_the_public_site_serves_the_published_run_and_nothing_else(world: dict[str, Any]) -> None:
    run, keys = world["runs"]["2025"], world["keys"]
    with _client() as c:
        home = c.get("/public/")
        assert home.status_code == 200 and "/public/2025/" in home.text and "/public/2024/" not in home.text
        page = c.get("/public/2025/")  # no key, no cookie
        assert page.status_code == 200, page.text
        text = page.text
        # both languages by default, each marked
        assert '<html lang="zh-Hant"' in text and 'lang="pt"' in text
        assert "按類別排名" in text and "Classificação por categoria" in text
        assert "整體排名" in text and "Classificação geral" in text
        assert text.index("按類別排名") < text.index("整體排名")  # categories first
        # coverage rule in words, rank intervals, results hash, the history without persons
        assert "sem posição na classificação geral: avaliado em 1 de 3 categorias" in text
        assert "Monte Carlo" in text and "–" in text
        assert run in text and "approved for publication" in text
        assert "alice" not in text and "test:lead" not in text
        # escaping: DSAT's name is HTML-looking text
        assert EVIL_NAME not in text and "&lt;script&gt;" in text
        # accessible: headings, header cells, table scopes
        assert "<h1>" in text and "<h2" in text and '<th scope="col">' in text and '<th scope="row">' in text
        # cache headers and a conditional request
        assert "max-age=86400" in page.headers["cache-control"] and "public" in page.headers["cache-control"]
        etag = page.headers["etag"]
        assert c.get("/public/2025/", headers={"If-None-Match": etag}).status_code == 304
        english = c.get("/public/2025/?lang=en")
        assert english.status_code == 200 and '<html lang="en"' in english.text
        assert "not ranked overall: scored on 1 of 3 categories" in english.text
        assert "按類別排名" not in english.text
        assert "No objection was raised during the department review." in english.text  # the hook: empty
        for path in ("methodology", "departments/SAFP", f"departments/{EVIL}"):
            other = c.get(f"/public/2025/{path}")
            assert other.status_code == 200, (path, other.text[:300])
            assert 'lang="pt"' in other.text and EVIL_NAME not in other.text
        dept = c.get("/public/2025/departments/DSI?lang=en").text
        assert "Indicators (in their own units)" in dept and "Standing overall and by category" in dept
        # no internal section, no key, no personal data
        for leak in ("case", "Case", "egk_", *keys.values(), "Log in", "/reports/"):
            assert leak not in dept and leak not in english.text, leak
        method = c.get("/public/2025/methodology?lang=en").text
        assert "Coverage rule" in method and "Methods per stage" in method
        # everything unpublished, unknown or not scored: 404, the same page, not cached
        for path in (
            "/public/2024/",
            "/public/2024/methodology",
            "/public/2024/departments/SAFP",
            "/public/2024/open-data.zip",
            "/public/1999/",
            "/public/nonsense/",
            "/public/2025/departments/NOPE",
        ):
            refused = c.get(path)
            assert refused.status_code == 404, path
            assert (
                refused.headers["cache-control"] == "no-store" and world["runs"]["2024"] not in refused.text
            )
        assert c.get("/public/2025/", headers={"Authorization": "Bearer nonsense"}).status_code == 200
        # the open-data package as a zip, cached (its files: test_the_open_data_package)
        z = c.get("/public/2025/open-data.zip")
        assert z.status_code == 200 and z.headers["content-type"] == "application/zip"
        assert "etag" in z.headers and "max-age=86400" in z.headers["cache-control"]
        names = zipfile.ZipFile(io.BytesIO(z.content)).namelist()
        assert "egov-open-data-2025/bundle/manifest.json" in names
        assert "egov-open-data-2025/manifest.json" in names
        # 2024 in draft, review and final: 404, the same page as an unknown period; published: 200
        unknown = c.get("/public/2023/")
        for state in ("draft", "review", "final"):
            if state != "draft":
                _move(world["url"], "2024", state)
            answer = c.get("/public/2024/")
            assert answer.status_code == 404 and answer.text == unknown.text, state
        _move(world["url"], "2024", "published")
        assert world["runs"]["2024"] in c.get("/public/2024/").text


def test_the_open_data_package(sqlite_world: dict[str, Any], egov: EgovCli, tmp_path: Path) -> None:
    out = tmp_path / "open-data"
    made = egov(["publish", "package", "2025", "--out", out, "--lang", "en"])
    assert made.code == 0, made.err
    assert "Open-data package" in made.out
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert sorted([*manifest["files"], "manifest.json"]) == files
    for name, sha in manifest["files"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == sha, name
    for table in ("departments", "objects", "indicator-values", "objections", "data-dictionary"):
        assert (out / f"{table}.csv").is_file() and (out / f"{table}.json").is_file()
    # the dictionary describes every column of every table, in three languages
    dictionary = list(csv.DictReader(io.StringIO((out / "data-dictionary.csv").read_text(encoding="utf-8"))))
    described = {(d["file"], d["column"]) for d in dictionary}
    for table in ("departments", "objects", "indicator-values", "objections", "data-dictionary"):
        with (out / f"{table}.csv").open(encoding="utf-8") as f:
            header = next(csv.reader(f))
        assert {(f"{table}.csv", column) for column in header} <= described, table
    assert all(d["description_zh"] and d["description_pt"] and d["description_en"] for d in dictionary)
    # the published results with coverage, units and status; formula-safe text
    departments = list(csv.DictReader((out / "departments.csv").open(encoding="utf-8")))
    safp = [d for d in departments if d["department"] == "SAFP" and d["node"] == "egov_index"]
    assert safp and safp[0]["ranked_overall"] == "False" and safp[0]["categories_scored"] == "1"
    assert safp[0]["rank"] == "" and departments[0]["node"] == "egov_index" and departments[0]["rank_p05"]
    evil = [d for d in departments if d["department"] == EVIL]
    assert evil and evil[0]["department_name_zh"] == EVIL_NAME  # starts with "<": no formula
    values = list(csv.DictReader((out / "indicator-values.csv").open(encoding="utf-8")))
    assert {v["status"] for v in values} == {"submitted"} and all(v["unit"] for v in values)
    assert manifest["results_hash"] == world_run_hash(sqlite_world)
    objections_header = "period,department,subject,outcome,answer\n"
    assert (out / "objections.csv").read_text(encoding="utf-8") == objections_header  # no objection table yet
    # the bundle verifies
    verified = egov(["runs", "verify", out / "bundle", "--lang", "en"])
    assert verified.code == 0, verified.out + verified.err
    assert "VERIFIED" in verified.out


def world_run_hash(world: dict[str, Any]) -> str:
    from egov.db import session_scope

    with session_scope(world["url"]) as s:
        run = s.exec(select(EvaluationRun).where(EvaluationRun.run_key == world["runs"]["2025"])).one()
        return str(run.results_hash)


def test_formula_text_is_neutralised_in_the_package(sqlite_world: dict[str, Any]) -> None:
    from egov.db import session_scope
    from reports.public import forget_public_runs, package_files

    with session_scope(sqlite_world["url"]) as s:
        s.execute(update(Department).where(col(Department.code) == "DSI").values(name_pt="=HYPERLINK(1)"))
    forget_public_runs()
    with session_scope(sqlite_world["url"]) as s:
        files = package_files(s, "2025")
    assert b"'=HYPERLINK(1)" in files["departments.csv"]
    assert b'"=HYPERLINK(1)"' in files["departments.json"]  # JSON keeps the text as it is
    assert b"'=HYPERLINK" not in files["bundle/results/scores.csv"]


def test_the_public_site_is_rate_limited_per_client(
    sqlite_world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """/public is one of the rate-limited paths (per client address, egov.limits), like the API."""
    from tests.helpers.register import make_client

    with make_client(monkeypatch, rate_limit_client="3") as c:
        codes = [c.get("/public/").status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[-1] == 429, codes


@pytest.mark.slow
def test_a_public_page_in_a_browser(sqlite_world: dict[str, Any], chromium: str) -> None:
    """Headless Chromium reads the published period's page (served by the app through a routed
    origin, with its real headers): headings by role, both languages marked, a table with
    header cells, no console error (the CSP allows the page as it is), no outside request."""
    from playwright.sync_api import Route, sync_playwright

    from tests.helpers.servers import CHROMIUM_ARGS

    base = "http://public.test"
    with _client() as c, sync_playwright() as p:

        def answer(route: Route) -> None:
            r = c.get(route.request.url.removeprefix(base))
            route.fulfill(status=r.status_code, headers=dict(r.headers), body=r.content)

        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            errors: list[str] = []
            outside: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("request", lambda r: None if r.url.startswith(base) else outside.append(r.url))
            page.route(f"{base}/**", answer)
            shown = page.goto(f"{base}/public/2025/")
            assert shown is not None and shown.status == 200
            assert page.get_by_role("heading", level=1).count() == 1
            assert page.get_by_role("heading", name="Classificação geral").count() == 1
            assert (
                page.locator('[lang="pt"]').count() > 10 and page.locator("html[lang=zh-Hant]").count() == 1
            )
            assert page.get_by_role("columnheader").count() > 5 and page.get_by_role("rowheader").count() > 5
            assert page.locator("script").count() == 0
            page.get_by_role("link", name="Metodologia").first.click()
            page.wait_for_url(f"{base}/public/2025/methodology")
            assert page.get_by_role("heading", name="Regras").count() == 1
            assert errors == [] and outside == [], (errors, outside)
        finally:
            browser.close()
