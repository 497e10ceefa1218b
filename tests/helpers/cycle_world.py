"""A small world for the cycle pages: three departments (D1, D2, D3) with one application each,
the built-in Macau framework, a key per role (D1 and D2 departments, assessor, lead, admin), and
the cycle of 2025 opened by the lead (collecting). `to_review` scores the period and moves the
cycle on to the department review, opened today."""

from __future__ import annotations

from sqlmodel import Session

from egov.auth import create_key
from egov.clock import local_day
from egov.cycle import Actor, advance, open_cycle
from egov.db import init_db, session_scope
from egov.scoring import score_period
from egov.store import add_metric_values, latest_framework, load_register, period_for_import, store_framework
from indicators.framework import builtin_path, load_framework
from tests.helpers.databases import from_template

PERIOD = "2025"
REGISTER = {
    "departments": {
        "D1": {"name": {"en": "First bureau"}},
        "D2": {"name": {"en": "Second bureau"}},
        "D3": {"name": {"en": "Third bureau"}},
    },
    "objects": {
        "APP1": {"name": {"en": "App one"}, "department": "D1", "kind": "application"},
        "APP2": {"name": {"en": "App two"}, "department": "D2", "kind": "application"},
        "APP3": {"name": {"en": "App three"}, "department": "D3", "kind": "application"},
    },
}
VALUES = [
    ("APP1", "app_takeup", 40.0),
    ("APP2", "app_takeup", 60.0),
    ("APP3", "app_takeup", 70.0),
    ("APP1", "app_wcag", 90.0),
    ("APP2", "app_wcag", 70.0),
    ("APP3", "app_wcag", 55.0),
]
ASSESSOR = Actor("test:assessor", "assessor")


def build_world(url: str, values: bool = True, cycle: bool = True) -> dict[str, str]:
    """The world; its keys by name (d1, d2, assessor, lead, admin). An empty database gets a
    copy of the world built once per test process and day (tests/helpers/databases.py)."""
    world = f"cycle-{int(values)}{int(cycle)}-{local_day().isoformat()}"
    return from_template(url, world, lambda where: _build_world(where, values, cycle))


def _build_world(url: str, values: bool, cycle: bool) -> dict[str, str]:
    init_db(url)
    path = builtin_path("macau")
    keys: dict[str, str] = {}
    with session_scope(url) as s:
        store_framework(s, load_framework(path), path.read_text(encoding="utf-8"))
        load_register(s, REGISTER)
        keys["d1"], _ = create_key(s, "department", "D1", "D1")
        keys["d2"], _ = create_key(s, "department", "D2", "D2")
        for role in ("assessor", "lead", "admin"):
            keys[role], _ = create_key(s, role, label=role)
        if values:
            rows = [{"object": o, "indicator": i, "value": v} for o, i, v in VALUES]
            add_metric_values(s, period_for_import(s, PERIOD), rows, source_file="collected.xlsx")
        if cycle:
            open_cycle(s, PERIOD, Actor("test:lead", "lead"), "open")
    return keys


def score(s: Session) -> str:
    row, fw = latest_framework(s)
    return score_period(s, row, fw, period_for_import(s, PERIOD)).run.run_key


def to_review(url: str) -> str:
    """Score the period and move its cycle collecting → verifying → draft → review (today)."""
    with session_scope(url) as s:
        run = score(s)
        for to in ("verifying", "draft", "review"):
            advance(s, PERIOD, to, ASSESSOR, f"to {to}", run if to == "draft" else None, local_day())
    return run
