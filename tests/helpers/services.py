"""The local services and system packages the tests use: where PostgreSQL is, and how a test
steps aside when one is missing."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest
from sqlalchemy import create_engine, text

PG_ADMIN_URL = os.environ.get("EGOV_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def skip_or_fail(reason: str) -> NoReturn:
    """Skip a test whose service or system package is missing; under
    EGOV_REQUIRE_SERVICES=1 (set by .ci/run) fail instead, so CI cannot go green by skipping."""
    if os.environ.get("EGOV_REQUIRE_SERVICES") == "1":
        pytest.fail(f"required by EGOV_REQUIRE_SERVICES=1: {reason}")
    pytest.skip(reason)


def pg_problem(admin_url: str = PG_ADMIN_URL) -> str | None:
    """Why the PostgreSQL server at `admin_url` cannot be used (first line of the error), or
    None when it answers."""
    try:
        engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # server down, driver missing
        return str(exc).splitlines()[0]
