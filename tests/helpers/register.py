"""The rating service's test world: a database with the Macau register and the built-in
framework, one key per role, and a FastAPI TestClient with helpers to get tokens and rate."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.helpers.databases import from_template


@dataclass
class Env:
    client: Any
    keys: dict[str, str] = field(default_factory=dict)  # role name → key

    def auth(self, who: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"} if who else {}

    def token(self, obj: str = "ONE_ACCOUNT", ref: str = "T-1", who: str = "department", **extra: Any) -> str:
        r = self.client.post(
            "/api/v1/tokens", json={"object": obj, "transaction_ref": ref, **extra}, headers=self.auth(who)
        )
        assert r.status_code == 200, r.text
        return str(r.json()["token"])

    def rate(self, token: str, level: int = 5, **extra: Any) -> Any:
        body: dict[str, Any] = {"token": token, "level": level, **extra}
        if level <= 2 and "better" not in extra:
            body["better"] = ["efficiency"]
        return self.client.post("/api/v1/ratings", json=body)


def setup_register(url: str | None = None) -> dict[str, str]:
    """Schema, the Macau register and the built-in framework; one key per role (the same
    keys in every test of a test process: an empty database gets a copy of a template built
    once, tests/helpers/databases.py)."""
    from surveys.security import forget_secrets

    forget_secrets()
    keys = from_template(url, "register", _build_register)
    forget_secrets()
    return keys


def _build_register(url: str) -> dict[str, str]:
    from egov.auth import create_key
    from egov.db import init_db, session_scope
    from egov.demo import load_toml
    from egov.store import load_register, store_framework
    from indicators.framework import builtin_path, load_framework

    init_db(url)
    keys: dict[str, str] = {}
    with session_scope(url) as s:
        load_register(s, load_toml("macau_register.toml"))
        path = builtin_path("macau")
        store_framework(s, load_framework(path), path.read_text(encoding="utf-8"))
        keys["department"], _ = create_key(s, "department", "SAFP", "SAFP back end")
        keys["other_department"], _ = create_key(s, "department", "DSAT", "DSAT back end")
        keys["assessor"], _ = create_key(s, "assessor")
        keys["admin"], _ = create_key(s, "admin")
    return keys


def setup_services(url: str | None = None) -> None:
    """The built-in illustrative service-item catalogue (egov/data/macau_services.toml), imported
    as `egov import services` does, into a database that has the register."""
    from egov.db import session_scope
    from egov.demo import DATA_DIR
    from egov.imports.services import import_services

    with session_scope(url) as s:
        import_services(s, DATA_DIR / "macau_services.toml")


def make_client(monkeypatch: pytest.MonkeyPatch, **env: str) -> Any:
    """A TestClient of a new app after changing settings (EGOV_<NAME>=value)."""
    from fastapi.testclient import TestClient

    from egov.app import create_app
    from egov.settings import reset_settings

    for k, v in env.items():
        monkeypatch.setenv(f"EGOV_{k.upper()}", v)
    reset_settings()
    return TestClient(create_app())


def fix_service_clock(monkeypatch: pytest.MonkeyPatch, clock: dict[str, Any]) -> None:
    """The rating service's clock (utcnow, local_day) read from `clock["now"]`, in every module
    that uses it: token issue (the day of offers), both rating paths (rating times, days, burst
    windows) and review."""
    import surveys.ratings
    import surveys.ratings_fast
    import surveys.review
    import surveys.security
    import surveys.tokens
    from egov.clock import local_day

    for module in (surveys.tokens, surveys.ratings, surveys.ratings_fast, surveys.review):
        if hasattr(module, "utcnow"):
            monkeypatch.setattr(module, "utcnow", lambda: clock["now"])
        monkeypatch.setattr(module, "local_day", lambda moment=None: local_day(moment or clock["now"]))
    monkeypatch.setattr(surveys.security, "utcnow", lambda: clock["now"])  # token expiry and checks


COUNTER = "SAFP_SERVICE_COUNTER"  # the test world's service counter (the register has none)


def setup_counter(url: str | None = None) -> None:
    """A service counter of SAFP in the register (an application service rated at the counter,
    as the built-in register lists no counter), with a service item offered through it."""
    from sqlalchemy import select
    from sqlmodel import col

    from egov.db import session_scope
    from egov.models import AssessedObject, Department
    from egov.models_services import ServiceItem, ServiceObject

    with session_scope(url) as s:
        dept = s.execute(select(Department).where(col(Department.code) == "SAFP")).scalar_one()
        obj = AssessedObject(
            code=COUNTER,
            department_id=int(dept.id or 0),
            kind="application",
            name_zh="政府綜合服務大樓櫃檯",
            name_pt="Balcão do Centro de Serviços do Governo",
            name_en="Government Services Centre counter",
        )
        s.add(obj)
        item = ServiceItem(
            code="SAFP_COUNTER_ID_RENEWAL",
            name_zh="續期身份證預約",
            name_pt="Marcação da renovação do BIR",
            name_en="Identity card renewal appointment",
            department_id=int(dept.id or 0),
            channels="counter",
        )
        s.add(item)
        s.flush()
        s.add(ServiceObject(service_id=int(item.id or 0), object_id=int(obj.id or 0)))
