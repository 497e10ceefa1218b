"""Loading synthetic ratings into the database (`egov synth`, see `egov.synth`): each chunk
as one COPY text buffer built with NumPy byte-string operations (PostgreSQL) or by
`executemany` (SQLite), and the bulk path for large PostgreSQL loads.

The bulk path (`bulk_path_applies`): when the load has at least `BULK_MIN_RATINGS` ratings
and the `rating` table is empty, the whole load is one transaction that locks `rating`
(ACCESS EXCLUSIVE: a running API waits, it never sees the table without its indexes),
drops its secondary indexes, unique constraint and foreign key (the definitions read from
the catalog; `bulk_begin`), truncates the empty table so that one streamed
`COPY … WITH (FREEZE)` writes frozen rows (`copy_stream`), and recreates the indexes and
constraints from the saved definitions before committing (`bulk_finish`). The next chunk
is generated while the previous one streams (psycopg's `QueuedLibpqWriter` sends from a
thread). A failure rolls it all back, indexes included.

SYNTHETIC DATA FOR BENCHMARKS, NOT AN EVALUATION.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import text
from sqlalchemy.exc import NotSupportedError, OperationalError
from sqlmodel import Session

from egov.errors import EgovError

BULK_MIN_RATINGS = 1_000_000  # PostgreSQL loads from this size on take the bulk path
BULK_LOCK_TIMEOUT = "10s"  # how long the bulk path waits for the rating table's lock
BULK_MAINTENANCE_WORK_MEM = "1GB"  # for recreating the indexes (this session only)
RATING_COLUMNS = (
    "object_id, level, drivers, comment, channel, language, created_at, day, pseudonym, "
    "transaction_ref, flags, question_version"
)

Progress = Callable[[int], None]  # called with the number of ratings just loaded or sent


def concat(*parts: np.ndarray | bytes) -> np.ndarray:
    out: Any = parts[0]
    for p in parts[1:]:
        out = np.strings.add(out, p)
    return np.asarray(out)


def copy_buffer(chunk: dict[str, np.ndarray]) -> bytes:
    """The chunk as one COPY text-format buffer (tab-separated, a line per rating), built
    with NumPy byte-string operations; padding NULs of the fixed-width lines removed."""
    lines = concat(
        chunk["object_id"].astype("S20"),
        b"\t",
        chunk["level"].astype("S1"),
        b"\t\t\t",  # drivers, comment: empty
        chunk["channel"],
        b"\t",
        chunk["language"],
        b"\t",
        chunk["created_at"],
        b"+00\t",
        chunk["day"],
        b"\t",
        chunk["pseudonym"],
        b"\t",
        chunk["transaction_ref"],
        b"\t\t\n",  # flags, question_version: empty
    )
    return lines.tobytes().replace(b"\x00", b"")


def load_ratings(session: Session, chunk: dict[str, np.ndarray]) -> int:
    """Insert a chunk of ratings in bulk and commit: COPY on PostgreSQL, executemany on
    SQLite (one transaction per chunk)."""
    conn = session.connection()
    n = len(chunk["level"])
    if conn.dialect.name == "postgresql":
        raw: Any = conn.connection.dbapi_connection
        with raw.cursor() as cur, cur.copy(f"COPY rating ({RATING_COLUMNS}) FROM STDIN") as cp:
            cp.write(copy_buffer(chunk))
    else:
        # SQLAlchemy stores DateTime on SQLite as naive UTC text with microseconds
        created = np.strings.add(chunk["created_at"], b".000000").astype("U").tolist()
        rows = list(
            zip(
                chunk["object_id"].tolist(),
                chunk["level"].tolist(),
                chunk["channel"].astype("U").tolist(),
                chunk["language"].astype("U").tolist(),
                created,
                chunk["day"].astype("U").tolist(),
                chunk["pseudonym"].astype("U").tolist(),
                chunk["transaction_ref"].astype("U").tolist(),
                strict=True,
            )
        )
        conn.exec_driver_sql(
            f"INSERT INTO rating ({RATING_COLUMNS}) VALUES (?, ?, '', '', ?, ?, ?, ?, ?, ?, '', '')", rows
        )
    session.commit()
    return n


def bulk_path_applies(session: Session, n_ratings: int, bulk: bool | None = None) -> bool:
    """Whether a load of n_ratings should take the bulk path (indexes recreated after the
    load): only on PostgreSQL, and from `BULK_MIN_RATINGS` on unless `bulk` forces the
    choice (True: any size; False: never). The other condition, an empty `rating` table
    (and empty tables that reference it), is checked under the lock by `bulk_begin`."""
    if session.connection().dialect.name != "postgresql" or bulk is False:
        return False
    return bulk is True or n_ratings >= BULK_MIN_RATINGS


def rating_schema(session: Session) -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]]:
    """The `rating` table's secondary indexes [(name, CREATE INDEX …)] and its unique and
    foreign-key constraints [(name, type u|f, definition)], from the PostgreSQL catalog;
    the primary key (referenced by `rating_case`) is not among them."""
    indexes = session.execute(
        text(
            "SELECT quote_ident(c.relname), pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = 'rating'::regclass "
            "AND NOT i.indisprimary AND NOT EXISTS (SELECT 1 FROM pg_constraint k "
            "WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid) ORDER BY c.relname"
        )
    ).all()
    constraints = session.execute(
        text(
            "SELECT quote_ident(conname), contype::text, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'rating'::regclass AND contype IN ('u', 'f') ORDER BY contype DESC, conname"
        )
    ).all()
    return [(str(n), str(d)) for n, d in indexes], [(str(n), str(t), str(d)) for n, t, d in constraints]


def bulk_begin(session: Session) -> tuple[list[str], bool] | None:
    """Start the bulk load in the session's (new) transaction: lock `rating` and the tables
    whose foreign keys reference it (ACCESS EXCLUSIVE, waiting at most
    `BULK_LOCK_TIMEOUT`), check they are all empty, drop the secondary indexes, unique
    constraints and foreign keys of `rating`, and truncate the empty tables so that COPY can
    write frozen rows. Returns (the statements recreating what was dropped, whether COPY
    may use FREEZE), or None with the transaction rolled back when a table holds rows."""
    session.execute(text(f"SET LOCAL lock_timeout = '{BULK_LOCK_TIMEOUT}'"))
    referencing = [
        str(t)
        for (t,) in session.execute(
            text(
                "SELECT DISTINCT conrelid::regclass::text FROM pg_constraint WHERE contype = 'f' "
                "AND confrelid = 'rating'::regclass AND conrelid <> 'rating'::regclass ORDER BY 1"
            )
        )
    ]
    tables = ["rating", *referencing]
    try:
        session.execute(text(f"LOCK TABLE {', '.join(tables)} IN ACCESS EXCLUSIVE MODE"))
    except OperationalError as exc:
        session.rollback()
        if getattr(exc.orig, "sqlstate", None) != "55P03":  # lock_not_available
            raise
        raise EgovError(
            f"the rating table is in use (could not lock {', '.join(tables)} within {BULK_LOCK_TIMEOUT}): "
            "is `egov serve` running on this database? Stop it, or generate into a fresh database"
        ) from exc
    session.execute(text("SET LOCAL lock_timeout = 0"))
    for table in tables:
        if session.execute(text(f"SELECT EXISTS (SELECT 1 FROM {table})")).scalar():
            session.rollback()
            return None
    indexes, constraints = rating_schema(session)
    for name, _kind, _ in constraints:
        session.execute(text(f"ALTER TABLE rating DROP CONSTRAINT {name}"))
    for name, _ in indexes:
        session.execute(text(f"DROP INDEX {name}"))
    freeze = True
    try:  # another table referencing a referencing table makes TRUNCATE fail: then no FREEZE
        with session.begin_nested():
            session.execute(text(f"TRUNCATE {', '.join(tables)}"))
    except NotSupportedError:
        freeze = False
    create = (
        [f"ALTER TABLE rating ADD CONSTRAINT {n} {d}" for n, t, d in constraints if t == "u"]
        + [d for _, d in indexes]
        + [f"ALTER TABLE rating ADD CONSTRAINT {n} {d}" for n, t, d in constraints if t == "f"]
    )
    return create, freeze


def copy_stream(
    session: Session, chunks: Iterable[dict[str, np.ndarray]], *, freeze: bool, progress: Progress | None
) -> int:
    """COPY all chunks into `rating` in one statement of the session's transaction (not
    committed). psycopg's `QueuedLibpqWriter` sends the buffers from a thread, so the next
    chunk is generated while the server stores the previous one."""
    raw: Any = session.connection().connection.dbapi_connection
    sql = f"COPY rating ({RATING_COLUMNS}) FROM STDIN" + (" WITH (FREEZE)" if freeze else "")
    n = 0
    with raw.cursor() as cur, cur.copy(sql, writer=QueuedLibpqWriter(cur)) as cp:
        for chunk in chunks:
            cp.write(copy_buffer(chunk))
            k = len(chunk["level"])
            n += k
            if progress:
                progress(k)
    return n


def bulk_finish(session: Session, create: list[str]) -> None:
    """Recreate the dropped indexes and constraints (one sort each, with
    `BULK_MAINTENANCE_WORK_MEM` and one parallel worker), gather the table's statistics
    (`ANALYZE`) and commit the bulk load."""
    session.execute(text(f"SET LOCAL maintenance_work_mem = '{BULK_MAINTENANCE_WORK_MEM}'"))
    session.execute(text("SET LOCAL max_parallel_maintenance_workers = 1"))
    for ddl in create:
        session.execute(text(ddl))
    # autovacuum cannot see the rows before the commit: without statistics the planner takes
    # the new table for empty (the roll-up rebuild then chose an index scan and took minutes)
    session.execute(text("ANALYZE rating"))
    session.commit()
