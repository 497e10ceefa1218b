"""Fixtures of the rating-service tests: a database with the Macau register, one key per
role, and a FastAPI TestClient on it (SQLite and PostgreSQL through `use_db`). The helpers
(Env, setup_register, make_client) are in tests/helpers/register.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers.register import Env, setup_register


@pytest.fixture
def api(use_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    """A TestClient on a fresh database with the register and keys."""
    from fastapi.testclient import TestClient

    from egov.settings import reset_settings

    monkeypatch.setenv("EGOV_SECRET_KEY", "test-secret-not-for-production")
    reset_settings()
    keys = setup_register()
    from egov.app import create_app

    with TestClient(create_app()) as client:
        yield Env(client, keys)
