"""The rating-service commands through the CLI: keys, ratings export/purge/rollup, case metrics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers.register import Env


@pytest.mark.slow
def test_keys_cli(use_db: str, egov: Any) -> None:
    from tests.helpers.register import setup_register

    setup_register()
    r = egov(["keys", "create", "--role", "department", "--department", "SAFP", "--label", "back end"])
    assert r.code == 0, r.err
    key = r.out.strip().splitlines()[-1]
    assert key.startswith("egk_")
    listed = egov(["keys", "list"])
    assert listed.code == 0 and key[:12] in listed.out and key not in listed.out
    assert egov(["keys", "create", "--role", "department"]).code == 1  # needs a department
    assert egov(["keys", "create", "--role", "assessor", "--department", "SAFP"]).code == 1
    assert egov(["keys", "create", "--role", "king"]).code == 1
    from egov.auth import authenticate
    from egov.db import session_scope

    with session_scope() as s:
        who = authenticate(s, key)
        assert who is not None and who.department_code == "SAFP"
    kid = str(who.key_id)
    assert egov(["keys", "revoke", kid]).code == 0
    with session_scope() as s:
        assert authenticate(s, key) is None
    assert egov(["keys", "revoke", "9999"]).code == 1


@pytest.mark.slow
def test_ratings_and_cases_cli(api: Env, egov: Any, tmp_path: Path) -> None:
    from datetime import date

    from egov.clock import local_day
    from egov.db import session_scope
    from egov.store import ensure_period

    api.rate(api.token(ref="X1"), 1, comment="mail me: a@b.mo")
    api.rate(api.token(ref="X2"), 5)
    today = local_day()
    out = tmp_path / "r.csv"
    r = egov(["ratings", "export", "--from", str(today), "--to", str(today), "--out", out])
    assert r.code == 0 and "[email]" in out.read_text() and "a@b.mo" not in out.read_text()
    assert egov(["ratings", "export", "--from", "nope", "--to", str(today), "--out", out]).code == 1
    assert egov(["ratings", "rollup", "--from", str(today), "--to", str(today)]).code == 0
    with session_scope() as s:
        ensure_period(s, "P", date(today.year, 1, 1), date(today.year, 12, 31))
    cases = api.client.get("/api/v1/cases", headers=api.auth("department")).json()
    cid = cases[0]["id"]
    for to in ("verified", "rectifying", "rectified", "return_visit_done"):
        api.client.post(f"/api/v1/cases/{cid}/transition", json={"to": to}, headers=api.auth("department"))
    r = egov(["cases", "metrics", "--period", "P", "--store", "--lang", "en"])
    assert r.code == 0, r.err
    assert "SAFP" in r.out and "100.0" in r.out and "stored 2" in r.out
    assert egov(["cases", "metrics", "--period", "P", "--by", "object"]).code == 0
    purged = egov(["ratings", "purge", "--before", "2100-01-01", "--lang", "en"])
    assert purged.code == 0 and "anonymised 2" in purged.out
