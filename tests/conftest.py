"""Shared fixtures: the reference data folder, the CLI runner, and databases on both
engines (an SQLite file, and a throw-away database on the local PostgreSQL server)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT.parent / "shared" / "reference"
PG_ADMIN_URL = os.environ.get("EGOV_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def skip_or_fail(reason: str) -> None:
    """Skip a test whose service or system package is missing; under
    EGOV_REQUIRE_SERVICES=1 (set by .ci/run) fail instead, so CI cannot go green by skipping."""
    if os.environ.get("EGOV_REQUIRE_SERVICES") == "1":
        pytest.fail(f"required by EGOV_REQUIRE_SERVICES=1: {reason}")
    pytest.skip(reason)


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


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def egov(capsys: pytest.CaptureFixture[str]):
    """Run the `egov` command in-process: egov(["demo", "--out", d]) -> CliResult."""
    from cli import main

    def run(args: list[str]) -> CliResult:
        capsys.readouterr()
        code = 0
        try:
            main([str(a) for a in args])
        except SystemExit as exc:
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


def _pg_available() -> str | None:
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # server down, driver missing
        return str(exc).splitlines()[0]


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The admin URL of the local PostgreSQL. Skips when it is down, unless
    EGOV_REQUIRE_SERVICES=1 (CI), where a missing server is a failure."""
    problem = _pg_available()
    if problem:
        skip_or_fail(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {problem}")
    return PG_ADMIN_URL


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"egov_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(pg_server).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        from egov.db import dispose_engines

        dispose_engines()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


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

    monkeypatch.setenv("EGOV_DATABASE_URL", db_url)
    monkeypatch.setenv("EGOV_OPERATOR", "pytest")
    monkeypatch.chdir(tmp_path)
    reset_settings()
    yield db_url
    reset_settings()
