"""Database engine, sessions and `egov db init` (create or upgrade the schema, idempotent).

SQLite is the embedded default (WAL journal, foreign keys on, a busy timeout so that
readers and one writer coexist); PostgreSQL is used by URL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlmodel import Session, SQLModel, create_engine, select

import egov.models
import surveys.models  # noqa: F401  (registers the rating tables)
from egov.errors import EgovError
from egov.settings import get_settings

SCHEMA_VERSION = 1

_engines: dict[str, Engine] = {}


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


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
            engine = create_engine(parsed, pool_pre_ping=True)
    except Exception as exc:  # missing driver, bad options
        raise EgovError(f"cannot use database {parsed.render_as_string(hide_password=True)}: {exc}") from exc
    _engines[url] = engine
    return engine


def dispose_engines() -> None:
    """Close every pooled connection (tests, and before forking workers)."""
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()


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
