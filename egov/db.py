"""Database engine, sessions and `egov db init` (create or upgrade the schema, idempotent).

SQLite is the embedded default (WAL journal, foreign keys on, a busy timeout so that
readers and one writer coexist); PostgreSQL is used by URL (connections checked before use,
so a database restart costs no request more than the outage itself).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event, inspect, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlmodel import Session, SQLModel, create_engine, select

import egov.models
import egov.models_checklists  # registers the checklist_answer table with the kernel's
import egov.models_counter  # the counter channel: rated subjects and kiosks
import egov.models_objections
import egov.models_questions  # registers the rating_answer table
import egov.models_services  # the service-item catalogue and its roll-up
import egov.models_values
from egov.errors import EgovError
from egov.settings import get_settings

SCHEMA_VERSION = 1

_engines: dict[str, Engine] = {}
_unpinged: dict[str, Engine] = {}


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _pg_connect_args(_dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
    """Every new PostgreSQL connection: give up connecting after 10 s (a server that does not
    answer at all), and name the process in pg_stat_activity (`egov-eval[pid]`: which API
    worker holds which connection). Values given in the URL win."""
    cparams.setdefault("connect_timeout", 10)
    cparams.setdefault("application_name", f"egov-eval[{os.getpid()}]")


def get_engine(url: str | None = None) -> Engine:
    """The engine for `url` (default: the `EGOV_DATABASE_URL` setting), created once."""
    url = url or get_settings().database_url
    if url in _engines:
        return _engines[url]
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise EgovError(f"EGOV_DATABASE_URL {url!r} is not a database URL: {exc}") from exc
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    try:
        if parsed.get_backend_name() == "sqlite":
            engine = create_engine(parsed, connect_args={"timeout": 30})
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            # pre-ping: a pooled connection broken by a database restart is discarded at its
            # next checkout (with every older one) instead of failing a request
            engine = create_engine(parsed, pool_pre_ping=True, pool_timeout=10)
            event.listen(engine, "do_connect", _pg_connect_args)
    except Exception as exc:  # missing driver, bad options
        raise EgovError(f"cannot use database {parsed.render_as_string(hide_password=True)}: {exc}") from exc
    _engines[url] = engine
    return engine


def get_unpinged_engine(url: str | None = None) -> Engine:
    """For a hot path that finds a broken connection by itself (its first statement fails,
    nothing was committed, and it falls back to `get_engine`'s connections): the same
    database without the pool's check before each checkout (one round trip each time on
    PostgreSQL: 14 % of a group commit's time in the rating bench) and with a small pool (one
    worker's group commit holds at most two connections). On SQLite: `get_engine` (which does
    not check)."""
    url = url or get_settings().database_url
    engine = get_engine(url)
    if engine.dialect.name == "sqlite":
        return engine
    if url not in _unpinged:
        unpinged = create_engine(
            engine.url, pool_pre_ping=False, pool_size=2, max_overflow=2, pool_timeout=10
        )
        event.listen(unpinged, "do_connect", _pg_connect_args)
        _unpinged[url] = unpinged
    return _unpinged[url]


# SQLite errors that mean "not now" rather than a fault of the program or the request
_SQLITE_UNAVAILABLE = (
    "database is locked",
    "database table is locked",
    "unable to open database file",
    "disk i/o error",
    "database or disk is full",
)


def _driver_unavailable() -> tuple[type[BaseException], ...]:
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return ()
    return (psycopg.OperationalError, psycopg.InterfaceError)


_PG_UNAVAILABLE = _driver_unavailable()
# SQLSTATE classes: 08 connection exception, 40 transaction rollback (serialization failure,
# deadlock: retrying succeeds), 53 insufficient resources (disk full, too many connections),
# 57 operator intervention (shutdown, starting up, query cancelled), 58 system error (I/O);
# 55P03: lock not available
_PG_UNAVAILABLE_CLASSES = frozenset({"08", "40", "53", "57", "58"})


def is_unavailable(exc: BaseException) -> bool:
    """Whether an error means the database cannot be used right now — the server is down or
    restarting, the connection was lost, no pooled connection came free in time, SQLite stayed
    locked past its busy timeout — rather than a fault of the request or of the program.
    The API answers such errors with 503 and Retry-After (the client sends the request again;
    ratings and tokens are idempotent). Looks through SQLAlchemy's wrapper (`.orig`) and
    explicit causes (`raise … from`), so an `EgovError` made from one counts too."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, sa_exc.DisconnectionError | sa_exc.TimeoutError):
            return True  # TimeoutError: the pool had no connection to give in time
        orig = current.orig if isinstance(current, DBAPIError) else current
        if isinstance(orig, sqlite3.OperationalError):
            message = str(orig).lower()
            return any(m in message for m in _SQLITE_UNAVAILABLE)
        if _PG_UNAVAILABLE and isinstance(orig, _PG_UNAVAILABLE):
            # no SQLSTATE: a failure on the client's side of the connection (refused, lost,
            # closed); else only the classes that say "not now", not e.g. 54 program limits
            state = getattr(orig, "sqlstate", None)
            return state is None or state[:2] in _PG_UNAVAILABLE_CLASSES or state == "55P03"
        current = current.__cause__
    return False


def dispose_engines() -> None:
    """Close every pooled connection (tests, and before forking workers)."""
    for engine in [*_engines.values(), *_unpinged.values()]:
        engine.dispose()
    _engines.clear()
    _unpinged.clear()


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    engine = get_engine(url)
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except DBAPIError as exc:
        session.rollback()
        raise EgovError(
            f"database error: {str(exc.orig).strip().splitlines()[0] if exc.orig else exc}"
        ) from exc
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def init_db(url: str | None = None) -> list[str]:
    """Create missing tables and add missing columns; idempotent. Returns what it changed.

    Upgrades are additive: a column that a newer version of a table declares and the
    database lacks is added (nullable or with its default). Destructive changes would need
    an explicit migration and are refused here.
    """
    engine = get_engine(url)
    changes: list[str] = []
    try:
        with engine.begin() as conn:
            existing = set(inspect(conn).get_table_names())
            SQLModel.metadata.create_all(conn)
            created = [t for t in SQLModel.metadata.sorted_tables if t.name not in existing]
            changes += [f"created table {t.name}" for t in created]
            insp = inspect(conn)
            for table in SQLModel.metadata.sorted_tables:
                if table.name not in existing:
                    continue
                have = {c["name"] for c in insp.get_columns(table.name)}
                for col in table.columns:
                    if col.name in have:
                        continue
                    coltype = col.type.compile(dialect=conn.dialect)
                    ddl = f'ALTER TABLE "{table.name}" ADD COLUMN "{col.name}" {coltype}'
                    default = getattr(col.default, "arg", None) if col.default is not None else None
                    if callable(default):
                        default = None
                    if default is not None:
                        literal = f"'{default}'" if isinstance(default, str) else str(default)
                        ddl += f" DEFAULT {literal}"
                    conn.execute(text(ddl))
                    changes.append(f"added column {table.name}.{col.name}")
            indexed = {t: {i["name"] for i in insp.get_indexes(t)} for t in existing}
            for table in SQLModel.metadata.sorted_tables:
                if table.name not in existing:
                    continue
                for index in table.indexes:
                    if index.name not in indexed[table.name]:
                        index.create(conn, checkfirst=True)
                        changes.append(f"added index {index.name}")
    except OperationalError as exc:
        raise EgovError(f"cannot open database: {str(exc.orig).strip() or exc}") from exc
    with session_scope(url) as session:
        info = session.exec(select(egov.models.SchemaInfo)).first()
        if info is None:
            session.add(egov.models.SchemaInfo(version=SCHEMA_VERSION))
            changes.append(f"schema version {SCHEMA_VERSION}")
        elif info.version < SCHEMA_VERSION or changes:
            info.version = SCHEMA_VERSION
            info.upgraded_at = egov.models.utcnow()
            session.add(info)
    return changes


def describe_url(url: str | None = None) -> str:
    """The database URL without a password, for messages."""
    return make_url(url or get_settings().database_url).render_as_string(hide_password=True)
