"""Test databases made fast, with the same contents as before.

- PostgreSQL databases are reused instead of dropped (PostgreSQL 15 makes a checkpoint for
  every DROP DATABASE: one to several seconds on this machine). A test's database goes back to
  this test process's pool once it is empty again (`release`, by a background thread: its
  connections ended, the `public` schema dropped and made anew, checked to hold nothing
  else); a database that cannot be made empty so is dropped. `finish` (end of the session) drops the pool.
- A world (the schema and the rows a helper such as `setup_register` loads) is built once per
  test process into a template and copied into a test's database when that database is still
  empty (`from_template`): SQLite through its backup API, PostgreSQL by replaying `pg_dump`'s
  script of the template. A database that has tables already gets the world built into it as
  before.
"""

from __future__ import annotations

import contextlib
import copy
import queue
import sqlite3
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from egov.db import dispose_engines
from egov.settings import get_settings
from tests.helpers.demo import copy_sqlite
from tests.helpers.services import PG_ADMIN_URL

T = TypeVar("T")
_DONE = "done"  # the cleaner's stop signal


class _Cleaner:
    """One thread that empties (into the pool) or drops the databases queued to it, in order,
    so that a test does not wait for it."""

    def __init__(self) -> None:
        self.queue: queue.Queue[tuple[str, str, str]] = queue.Queue()
        self.thread: threading.Thread | None = None
        self.errors: list[str] = []

    def put(self, what: str, admin_url: str, url: str) -> None:
        if self.thread is None or not self.thread.is_alive():
            self.thread = threading.Thread(target=self._run, name="pg-cleaner", daemon=True)
            self.thread.start()
        self.queue.put((what, admin_url, url))

    def _run(self) -> None:
        while True:
            what, admin_url, url = self.queue.get()
            if what == _DONE:
                self.queue.task_done()
                return
            name = str(make_url(url).database)
            try:
                if what == "empty" and _emptied(url, admin_url):
                    _pool.append(url)
                else:
                    _admin_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            except DBAPIError as exc:  # reported by `finish`
                self.errors.append(f"{name}: {str(exc.orig).strip().splitlines()[0]}")
            finally:
                self.queue.task_done()

    def wait(self) -> list[str]:
        if self.thread is not None and self.thread.is_alive():
            self.queue.put((_DONE, "", ""))
            self.thread.join()
        self.thread = None
        errors, self.errors = self.errors, []
        return errors


_cleaner = _Cleaner()
_pool: list[str] = []  # URLs of empty PostgreSQL databases of this test process
_templates: dict[tuple[str, str], tuple[str, Any]] = {}  # (engine, world) -> (template, data)
_folder: list[Path] = []  # where SQLite templates are written (set by `configure`)
# a reused database holds nothing but an empty `public` schema, as CREATE DATABASE makes it
_RESET = (
    "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public AUTHORIZATION pg_database_owner; "
    "GRANT USAGE ON SCHEMA public TO PUBLIC; COMMENT ON SCHEMA public IS 'standard public schema'"
)
_LEFT_OVER = """
SELECT (SELECT count(*) FROM pg_namespace WHERE nspname NOT IN ('public', 'information_schema')
            AND nspname NOT LIKE 'pg\\_%')
     + (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public')
     + (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'public')
     + (SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
            WHERE n.nspname = 'public')
     + (SELECT count(*) FROM pg_extension WHERE extname <> 'plpgsql')
     + (SELECT count(*) FROM pg_largeobject_metadata)
     + (SELECT count(*) FROM pg_publication)
     + (SELECT count(*) FROM pg_event_trigger)
     + (SELECT count(*) FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase
            WHERE d.datname = current_database())
"""


def _admin_execute(admin_url: str, sql: str) -> Any:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with engine.connect() as conn:
            result = conn.execute(text(sql))
            return result.all() if result.returns_rows else None
    finally:
        engine.dispose()


def create_pg_database(admin_url: str = PG_ADMIN_URL) -> str:
    """An empty PostgreSQL database: one of this process's pool, else a new one; its URL.
    Give it back with `release`."""
    if not _pool and _cleaner.queue.unfinished_tasks:  # a database is being emptied: wait for it
        _cleaner.queue.join()
    if _pool and make_url(_pool[-1]).set(database="postgres") == make_url(admin_url).set(database="postgres"):
        return _pool.pop()
    name = f"egov_test_{uuid.uuid4().hex[:10]}"
    _admin_execute(admin_url, f'CREATE DATABASE "{name}" TEMPLATE template0')
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def release(url: str, admin_url: str = PG_ADMIN_URL) -> None:
    """A test is done with the PostgreSQL database of `url`: it is emptied into the pool in the
    background (its connections ended, the `public` schema dropped and made anew); when it
    cannot be emptied so (something outside `public` is left), it is dropped."""
    name = str(make_url(url).database)
    assert name.startswith("egov_test_"), f"not a test database: {name}"
    dispose_engines()
    _cleaner.put("empty", admin_url, url)


def _emptied(url: str, admin_url: str) -> bool:
    """End the connections to the database of `url` and empty it; whether it is empty now."""
    name = str(make_url(url).database)
    ending = (
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    )
    for _ in range(100):  # ended connections leave within a moment
        if not _admin_execute(admin_url, ending):
            break
        time.sleep(0.05)
    engine = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(text(_RESET))
            return int(conn.execute(text(_LEFT_OVER)).scalar_one()) == 0
    except DBAPIError:
        return False
    finally:
        engine.dispose()


def configure(folder: Path) -> None:
    """Write this test process's SQLite templates into `folder`."""
    _folder[:] = [folder]


def finish() -> None:
    """End of the test session: drop the pooled databases and wait for every drop."""
    _templates.clear()
    errors = _cleaner.wait()
    while _pool:
        url = _pool.pop()
        _cleaner.put(
            "drop", make_url(url).set(database="postgres").render_as_string(hide_password=False), url
        )
    errors += _cleaner.wait()
    assert not errors, f"test databases not dropped: {errors}"


def _is_empty(url: str) -> bool:
    """Whether the database of `url` has no table yet (an SQLite file may not exist yet)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        if not path.exists():
            return True
        with contextlib.closing(sqlite3.connect(path)) as conn:
            return int(conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]) == 0
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(_LEFT_OVER)).scalar_one()) == 0
    finally:
        engine.dispose()


def _pg_script(url: str) -> str:
    """`pg_dump`'s plain script of the database of `url` (schema and rows), without psql's
    meta-commands, to replay through one connection."""
    parsed = make_url(url)
    command = [
        "pg_dump",
        "--no-owner",
        "--no-privileges",
        "--inserts",
        "--rows-per-insert=500",
        "-h",
        str(parsed.host or "127.0.0.1"),
        "-p",
        str(parsed.port or 5432),
        "-U",
        str(parsed.username or "postgres"),
        str(parsed.database),
    ]
    out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=120).stdout
    return "\n".join(line for line in out.splitlines() if not line.startswith("\\"))


def _template(engine: str, world: str, build: Callable[[str], T]) -> tuple[str, T]:
    """The template of `world` on `engine` (built on first use: an SQLite file, or the
    PostgreSQL script) and what its build returned (a copy)."""
    key = (engine, world)
    if key not in _templates:
        if engine == "sqlite":
            if not _folder:
                _folder.append(Path(tempfile.mkdtemp(prefix="egov-templates-")))
            where = f"sqlite:///{_folder[0] / f'{world}-{uuid.uuid4().hex[:6]}.db'}"
            try:
                data = build(where)
            finally:
                dispose_engines()
        else:
            scratch = create_pg_database()
            try:
                data = build(scratch)
                dispose_engines()
                where = _pg_script(scratch)
            finally:
                release(scratch)
        _templates[key] = (where, data)
    where, data = _templates[key]
    return where, copy.deepcopy(data)


def from_template(url: str | None, world: str, build: Callable[[str], T]) -> T:
    """Fill the database of `url` (default: the settings' database) with `world`: a copy of
    the template that `build(template_url)` made once, when the database is empty; else
    `build(url)` itself. Returns what `build` returned (a copy)."""
    target = url or get_settings().database_url
    engine = make_url(target).get_backend_name()
    if engine not in ("sqlite", "postgresql") or not _is_empty(target):
        return build(target)
    where, data = _template(engine, world, build)
    if engine == "sqlite":
        dispose_engines()  # no pooled connection may hold the file being replaced
        copy_sqlite(Path(make_url(where).database or ""), Path(make_url(target).database or ""))
        return data
    replay = create_engine(target, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with replay.connect() as conn:
            conn.connection.driver_connection.execute(where)  # type: ignore[union-attr]
    finally:
        replay.dispose()
    return data
