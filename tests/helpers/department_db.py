"""A demo database for the department-report, web and role-matrix tests (built once per
session by the fixture `department_template` and copied per use): the Macau demo (its cycles:
2022 published, 2023's draft in department review), one key per role (lead too), two bad-rating
cases of SAFP (one open, one closed) and one of DSAT, and DSAT renamed to text that looks
like HTML."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from tests.helpers.demo import copy_sqlite

EVIL_NAME = '<script>alert("x")</script> & Co'
EVIL_OBJECT = "<img src=x onerror=alert(1)>"


@dataclass
class DemoDb:
    path: Path
    keys: dict[str, str] = field(default_factory=dict)  # who -> key
    # period -> the run its cycle names: 2022's published final run, 2023's draft in review
    runs: dict[str, str] = field(default_factory=dict)
    # department -> ids of its open cases: the demo's still open at its end and these tests'
    cases: dict[str, list[int]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}"

    def save(self, folder: Path) -> DemoDb:
        """Write what the build made (keys, runs, cases) beside it, for the other workers."""
        (folder / "demo_db.json").write_text(
            json.dumps({"keys": self.keys, "runs": self.runs, "cases": self.cases}), encoding="utf-8"
        )
        return self

    @classmethod
    def load(cls, folder: Path) -> DemoDb:
        """The build another worker made in `folder` (`save`)."""
        saved = json.loads((folder / "demo_db.json").read_text(encoding="utf-8"))
        return cls(folder / "egov.db", saved["keys"], saved["runs"], saved["cases"])

    def copy(self, to: Path) -> DemoDb:
        copy_sqlite(self.path, to)
        return DemoDb(to, dict(self.keys), dict(self.runs), dict(self.cases))


def _bad_rating(s: Session, object_code: str, ref: str, day: date) -> int:
    from sqlalchemy import insert, select
    from sqlmodel import col

    from egov.models import AssessedObject, Rating

    oid = s.execute(
        select(col(AssessedObject.id)).where(col(AssessedObject.code) == object_code)
    ).scalar_one()
    s.execute(
        insert(Rating).values(
            object_id=oid,
            level=1,
            drivers="-efficiency",
            comment="<b>slow</b>",
            day=day,
            transaction_ref=ref,
            flags="",
        )
    )
    return int(s.execute(select(col(Rating.id)).where(col(Rating.transaction_ref) == ref)).scalar_one())


def build(path: Path) -> DemoDb:
    """Build the demo database at `path` (SQLite) with keys, cases and the renamed DSAT."""
    db = DemoDb(path)
    populate(db, db.url)
    return db


def populate(db: DemoDb, url: str, ratings_per_period: int = 6000) -> DemoDb:
    """Load the demo, keys, cases and the renamed DSAT into the database at `url`."""
    from sqlalchemy import text

    from egov.auth import create_key
    from egov.db import dispose_engines, init_db, session_scope
    from egov.demo import build_demo
    from surveys.cases import open_cases
    from surveys.security import forget_secrets

    forget_secrets()
    init_db(url)
    with session_scope(url) as s:
        demo = build_demo(s, seed=2023, ratings_per_period=ratings_per_period)
        db.runs = {period: outcome.run.run_key for period, outcome in demo.outcomes.items()}
        db.keys["department"], _ = create_key(s, "department", "SAFP", "SAFP head")
        db.keys["other_department"], _ = create_key(s, "department", "DSAT", "DSAT head")
        db.keys["assessor"], _ = create_key(s, "assessor")
        db.keys["admin"], _ = create_key(s, "admin")
        db.keys["lead"], _ = create_key(s, "lead", label="SAFP as lead")
        revoked, row = create_key(s, "department", "SAFP", "revoked")
        row.revoked_at = row.created_at
        s.add(row)
        db.keys["revoked"] = revoked
        day = date(2023, 6, 1)
        ids = [
            _bad_rating(s, "ONE_ACCOUNT", "case-1", day),
            _bad_rating(s, "ONE_ACCOUNT", "case-2", day),
            _bad_rating(s, "BUS_REPORT", "case-3", day),
        ]
        s.flush()
        open_cases(s, ids, day)
        s.execute(text("UPDATE rating_case SET state = 'closed' WHERE rating_id = :r"), {"r": ids[1]})
        rows = s.execute(
            text(
                "SELECT d.code, c.id FROM rating_case c JOIN department d ON d.id = c.department_id "
                "WHERE c.state NOT IN ('closed', 'removed') ORDER BY c.id"
            )
        ).all()
        for dept, case_id in rows:
            db.cases.setdefault(str(dept), []).append(int(case_id))
        s.execute(
            text("UPDATE department SET name_en = :n, name_zh = :n, name_pt = :n WHERE code = 'DSAT'"),
            {"n": EVIL_NAME},
        )
        s.execute(
            text("UPDATE assessed_object SET name_en = :n WHERE code = 'BUS_REPORT'"), {"n": EVIL_OBJECT}
        )
    dispose_engines()
    return db


@contextlib.contextmanager
def serving(db: DemoDb, cwd: Path) -> Iterator[Any]:
    """The web app (`egov.app.create_app`) in a FastAPI TestClient on `db`, working in `cwd`;
    settings and engines restored afterwards."""
    from fastapi.testclient import TestClient

    from egov.app import create_app
    from egov.db import dispose_engines
    from egov.settings import reset_settings

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EGOV_DATABASE_URL", db.url)
        mp.setenv("EGOV_SECRET_KEY", "test-secret-not-for-production")
        mp.chdir(cwd)
        reset_settings()
        try:
            with TestClient(create_app()) as client:
                yield client
        finally:
            dispose_engines()
    reset_settings()
