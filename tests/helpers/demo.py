"""The Macau demo of the tests, built once per session and copied per test: `egov demo` (the
same code path as the command) into a new SQLite database, the files it writes, and a
consistent copy of an SQLite database for a test that changes it."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from egov.db import dispose_engines
from egov.settings import reset_settings
from tests.helpers.cli import run_cli


@dataclass(frozen=True)
class DemoBuild:
    """What `egov demo --out OUT` left: the SQLite database and the folder of result files
    (the ranking CSVs, the assessor's report, one report per department)."""

    db: Path
    out: Path

    @property
    def url(self) -> str:
        return sqlite_url_of(self.db)


def sqlite_url_of(path: Path) -> str:
    return f"sqlite:///{path}"


def copy_sqlite(src: Path, dst: Path) -> Path:
    """A consistent copy of the SQLite database `src` at `dst` (SQLite's backup API, so that
    pages still in the write-ahead log are included), for a test to change freely."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    with (
        contextlib.closing(sqlite3.connect(src)) as source,
        contextlib.closing(sqlite3.connect(dst)) as target,
    ):
        source.backup(target)
    return dst


def point_settings(mp: pytest.MonkeyPatch, url: str, cwd: Path) -> None:
    """Settings on the database `url` (EGOV_DATABASE_URL), operator `pytest`, working in `cwd`."""
    mp.setenv("EGOV_DATABASE_URL", url)
    mp.setenv("EGOV_OPERATOR", "pytest")
    mp.chdir(cwd)
    reset_settings()


@contextlib.contextmanager
def settings_on(url: str, cwd: Path) -> Iterator[None]:
    """`point_settings` for a block (a fixture wider than one test); restored afterwards."""
    with pytest.MonkeyPatch.context() as mp:
        point_settings(mp, url, cwd)
        try:
            yield
        finally:
            dispose_engines()
    reset_settings()


def egov_demo(folder: Path, *args: str, db: Path | None = None) -> DemoBuild:
    """`egov demo --out FOLDER/demo ARGS` on the SQLite database `db` (default: a new
    FOLDER/egov.db), the way a user runs it; fails unless it exits 0."""
    built = DemoBuild(db or folder / "egov.db", folder / "demo")
    with settings_on(built.url, folder):
        code = run_cli(["demo", "--out", built.out, *args])
    assert code == 0, f"egov demo {' '.join(args)} exited {code}"
    return built
