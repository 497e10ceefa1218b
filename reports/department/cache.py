"""What the department reports of one run share (`ReportCache`), and the reads done once
per run for all of them: every department's names, the run's flagged values split by
department, the register's objects by department. A department report of a province
register made these reads per department (2,000 times); here they are made once and each
department takes its part (the same rows, in the same order).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlmodel import Session, col

from egov.models import AssessedObject, Department, EvaluationRun
from egov.values import FLAG_COLUMNS, run_flags
from evaluation.change import Change
from evaluation.engine import EvaluationResult
from indicators.framework import Framework

NAME_COLUMN = {"zh-Hant": "name_zh", "pt": "name_pt", "en": "name_en"}

__all__ = [
    "NAME_COLUMN",
    "RegisterObject",
    "ReportCache",
    "all_names",
    "names_of",
    "object_names",
    "objects_of",
    "run_flags_of",
]


def names_of(row: Any) -> dict[str, str]:
    """The names of a department, peer group or object row by language."""
    return {lang: str(getattr(row, column) or "") for lang, column in NAME_COLUMN.items()}


@dataclass(frozen=True)
class RegisterObject:
    """An assessed object as the department report shows it."""

    code: str
    kind: str
    names: dict[str, str]
    context: list[dict[str, Any]]


@dataclass
class ReportCache:
    """What the department reports of one run share, kept across its departments: the
    parsed framework, the previous run (looked up once), its result, the change between
    the two runs (and the two runs on one scale), the ranking's Monte Carlo intervals (run
    once, `reports.intervals`: the assessor's report shows the same), every department's
    improvement priorities and indicator standing (one pass, on the first report that needs
    them, when `many`), the reads made once for all departments and the rating measures
    of the period (`forget_measures` when ratings may have arrived since)."""

    # the cache serves the reports of every department of a run: the work
    # that can be shared is done once for all departments (priorities, standing); for one
    # report alone only that department's is computed
    many: bool = False

    framework: Framework | None = None
    previous_looked_up: bool = False
    previous_run: tuple[str, str] | None = None  # (run key, period code): ORM rows do not outlive a session
    previous: EvaluationResult | None = None
    change: Change | None = None
    scaled: tuple[EvaluationResult, EvaluationResult] | None = None  # the two runs on one scale
    measures: pd.DataFrame | None = None
    intervals: pd.DataFrame | None = None  # per department: score_p05, score_p95, rank_p05, rank_p95
    intervals_error: str | None = None  # None: not computed yet; "": computed
    # every department's improvement priorities (`evaluation.priorities.priorities_all`, one
    # pass for all departments), or why they could not be computed; None: not computed yet
    priorities: dict[str, pd.DataFrame] | str | None = None
    # every department's indicator standing (`evaluation.compare.standing_all`, one pass); None: not yet
    standing: dict[str, pd.DataFrame] | None = None

    # the register's objects by department id, in code order (`objects_of`)
    objects: dict[int, list[RegisterObject]] | None = None
    object_names: dict[str, dict[str, str]] | None = None  # every object's names by code
    # every department's names (code → language → name) and the run's flagged values by
    # department, read once per run
    all_names: dict[str, dict[str, str]] | None = None
    groups: pd.Series | None = None  # department → peer group (`department_groups`)
    flags: dict[str, pd.DataFrame] | None = None
    flags_run: int | None = None
    # the period's service-item ratings by channel of every department and the service
    # catalogue, read once (each department's rows are filtered from them)
    services: pd.DataFrame | None = None
    services_catalogue: pd.DataFrame | None = None

    def forget_measures(self) -> None:
        """Forget what may change while the cache is kept (a web server keeps it across
        pages): the ratings, the names and the register's objects."""
        self.measures = None
        self.services = None
        self.services_catalogue = None
        self.all_names = None
        self.objects = None
        self.object_names = None


def all_names(session: Session, cache: ReportCache) -> dict[str, dict[str, str]]:
    """Every department's names, read once per cache."""
    if cache.all_names is None:
        cache.all_names = {str(d.code): names_of(d) for d in session.execute(select(Department)).scalars()}
    return cache.all_names


def run_flags_of(session: Session, run: EvaluationRun, department: str, cache: ReportCache) -> pd.DataFrame:
    """The department's values the run flagged or left out (`egov.values.run_flags`): the
    run's flags read once per cache and split by department (the same rows, in the same order)."""
    if cache.flags is None or cache.flags_run != run.id:
        every = run_flags(session, run.id)
        cache.flags = {
            str(d): part.reset_index(drop=True) for d, part in every.groupby("department", sort=False)
        }
        cache.flags_run = run.id
    found = cache.flags.get(department)
    return found if found is not None else pd.DataFrame([], columns=FLAG_COLUMNS)


def objects_of(session: Session, department_id: int, cache: ReportCache) -> list[RegisterObject]:
    """The department's objects in code order, from the register read once per cache."""
    if cache.objects is None:
        rows = session.execute(
            select(
                col(AssessedObject.code),
                col(AssessedObject.department_id),
                col(AssessedObject.kind),
                col(AssessedObject.name_zh),
                col(AssessedObject.name_pt),
                col(AssessedObject.name_en),
                col(AssessedObject.context),
            ).order_by(col(AssessedObject.code))
        ).all()
        cache.objects, cache.object_names = {}, {}
        for row in rows:
            obj = RegisterObject(str(row.code), str(row.kind), names_of(row), list(row.context or []))
            cache.objects.setdefault(int(row.department_id or 0), []).append(obj)
            cache.object_names[obj.code] = obj.names
    return cache.objects.get(department_id, [])


def object_names(session: Session, cache: ReportCache) -> dict[str, dict[str, str]]:
    """Every object's names by code, from the register read once per cache."""
    objects_of(session, 0, cache)
    assert cache.object_names is not None
    return cache.object_names
