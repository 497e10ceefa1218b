"""Shared fixtures: the reference data folder, the CLI runner, databases on both engines (an
SQLite file, and a throw-away database on the local PostgreSQL server), and the Macau demo
built once per session and copied per test. The helpers are in tests/helpers/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.cli import EgovCli
from tests.helpers.databases import configure, create_pg_database, finish, release
from tests.helpers.demo import DemoBuild, copy_sqlite, egov_demo, point_settings, sqlite_url_of
from tests.helpers.department_db import DemoDb, build
from tests.helpers.services import PG_ADMIN_URL, pg_problem, skip_or_fail
from tests.helpers.shared import built_once

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT.parent / "shared" / "reference"


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of Debian's headless Chromium (package `chromium`)."""
    import shutil

    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        skip_or_fail("Chromium is not installed (apt-get install chromium)")
    return str(path)


@pytest.fixture(scope="session")
def soffice() -> str:
    """Path of LibreOffice (package `libreoffice-calc-nogui`), for headless conversions."""
    import shutil

    path = shutil.which("soffice") or shutil.which("libreoffice")
    if not path:
        skip_or_fail("LibreOffice is not installed (apt-get install libreoffice-calc-nogui)")
    return str(path)


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """../shared/reference (public data sets with published results); skip if absent."""
    if not REFERENCE.is_dir():
        pytest.skip(f"reference data folder {REFERENCE} is absent")
    return REFERENCE


@pytest.fixture
def egov(capsys: pytest.CaptureFixture[str]) -> EgovCli:
    """Run the `egov` command in-process: egov(["demo", "--out", d]) -> CliResult."""
    return EgovCli(capsys)


@pytest.fixture(scope="session", autouse=True)
def test_databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """This test process's world templates (tests/helpers/databases.py); at the end of the
    session, the PostgreSQL databases still being dropped are waited for."""
    configure(tmp_path_factory.mktemp("templates"))
    yield
    finish()


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The admin URL of the local PostgreSQL. Skips when it is down, unless
    EGOV_REQUIRE_SERVICES=1 (CI), where a missing server is a failure."""
    problem = pg_problem()
    if problem:
        skip_or_fail(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {problem}")
    return PG_ADMIN_URL


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A fresh (empty) PostgreSQL database for one test, emptied afterwards for the next one
    (tests/helpers/databases.py: reused rather than dropped)."""
    url = create_pg_database(pg_server)
    try:
        yield url
    finally:
        from egov.db import dispose_engines

        dispose_engines()
        release(url, pg_server)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'egov.db'}"
    yield url
    from egov.db import dispose_engines

    dispose_engines()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """The same test on both engines."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def use_db(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """Point the settings (EGOV_DATABASE_URL) at the test database and work in tmp_path."""
    from egov.settings import reset_settings

    point_settings(monkeypatch, db_url, tmp_path)
    yield db_url
    reset_settings()


# --- the Macau demo, built once per session ---------------------------------------------------------
@pytest.fixture(scope="session")
def demo_build(tmp_path_factory: pytest.TempPathFactory) -> DemoBuild:
    """`egov demo --lang en` once per test run (shared by the workers) into a new SQLite
    database: the database (copy it with `demo_url` before changing it) and the files the
    command wrote (read only)."""
    with built_once(tmp_path_factory, "demo-en") as (folder, done):
        return DemoBuild(folder / "egov.db", folder / "demo") if done else egov_demo(folder, "--lang", "en")


@pytest.fixture(scope="session")
def demo_build_zh(demo_build: DemoBuild, tmp_path_factory: pytest.TempPathFactory) -> DemoBuild:
    """`egov demo` without --lang (Traditional Chinese) run again on a copy of the session's
    demo database (the demo refreshes it): its files, read only. Once per test run."""
    with built_once(tmp_path_factory, "demo-zh") as (folder, done):
        if done:
            return DemoBuild(folder / "egov.db", folder / "demo")
        return egov_demo(folder, db=copy_sqlite(demo_build.db, folder / "egov.db"))


@pytest.fixture
def demo_url(demo_build: DemoBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A copy of the session's demo database for one test, set as EGOV_DATABASE_URL (operator
    `pytest`, working in tmp_path)."""
    from egov.db import dispose_engines
    from egov.settings import reset_settings

    url = sqlite_url_of(copy_sqlite(demo_build.db, tmp_path / "egov.db"))
    point_settings(monkeypatch, url, tmp_path)
    yield url
    dispose_engines()
    reset_settings()


@pytest.fixture(scope="session")
def department_template(tmp_path_factory: pytest.TempPathFactory) -> DemoDb:
    """The department-report world once per test run (tests/helpers/department_db.py: the
    demo with keys, bad-rating cases and DSAT renamed to HTML-like text); use `.copy(path)`."""
    with built_once(tmp_path_factory, "department") as (folder, done):
        return DemoDb.load(folder) if done else build(folder / "egov.db").save(folder)
