"""Database tables (SQLModel) for everything that is stored.

Frameworks are versioned and content-hashed; departments own assessed objects of one kind;
metric values carry their provenance and are superseded, never overwritten; evaluation
runs are immutable once stored and hold every score and rank they produced.
Citizen ratings and their daily roll-ups live in `surveys.models`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class FrameworkVersion(SQLModel, table=True):
    """A framework file as stored: one row per distinct content (code, version, hash)."""

    __tablename__ = "framework"
    __table_args__ = (UniqueConstraint("code", "content_hash", name="uq_framework_code_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, max_length=100)
    version: str = Field(max_length=50)
    name_en: str = Field(default="", max_length=300)
    content_hash: str = Field(max_length=64)
    toml_text: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class PeerGroup(SQLModel, table=True):
    __tablename__ = "peer_group"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=50)
    name_zh: str = Field(default="", max_length=300)
    name_pt: str = Field(default="", max_length=300)
    name_en: str = Field(default="", max_length=300)


class Department(SQLModel, table=True):
    """The unit that is ranked (a bureau)."""

    __tablename__ = "department"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=50)
    name_zh: str = Field(default="", max_length=300)
    name_pt: str = Field(default="", max_length=300)
    name_en: str = Field(default="", max_length=300)
    peer_group_id: int | None = Field(default=None, foreign_key="peer_group.id")


class AssessedObject(SQLModel, table=True):
    """Something assessed: an infrastructure, an application service or a management body."""

    __tablename__ = "assessed_object"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=80)
    department_id: int = Field(foreign_key="department.id", index=True)
    kind: str = Field(max_length=20)  # infrastructure | application | management
    subkind: str | None = Field(default=None, max_length=30)  # administrative | security
    name_zh: str = Field(default="", max_length=300)
    name_pt: str = Field(default="", max_length=300)
    name_en: str = Field(default="", max_length=300)
    note: str = Field(default="", max_length=300)


class Period(SQLModel, table=True):
    """An evaluation period (a year, a quarter)."""

    __tablename__ = "period"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=20)  # e.g. 2023, 2023Q4
    start: date
    end: date


class MetricValue(SQLModel, table=True):
    """(object, indicator, period) → value with provenance. A re-import supersedes the old
    value (`superseded_at` set) and keeps it for the history."""

    __tablename__ = "metric_value"
    __table_args__ = (Index("ix_metric_current", "period_id", "object_id", "indicator", "superseded_at"),)

    id: int | None = Field(default=None, primary_key=True)
    object_id: int = Field(foreign_key="assessed_object.id")
    indicator: str = Field(max_length=80)
    period_id: int = Field(foreign_key="period.id")
    value: float | None = None
    status: str = Field(default="reported", max_length=20)  # reported | verified | disputed
    source_file: str = Field(default="", max_length=500)
    source_hash: str = Field(default="", max_length=64)
    sheet: str = Field(default="", max_length=100)
    cell: str = Field(default="", max_length=20)
    imported_by: str = Field(default="", max_length=100)
    imported_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    superseded_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class EvaluationRun(SQLModel, table=True):
    """An immutable evaluation: framework version + period + spec + hash of the inputs."""

    __tablename__ = "evaluation_run"

    id: int | None = Field(default=None, primary_key=True)
    run_key: str = Field(unique=True, max_length=40)
    framework_id: int = Field(foreign_key="framework.id")
    period_id: int = Field(foreign_key="period.id")
    spec: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    inputs_hash: str = Field(max_length=64)
    results_hash: str = Field(max_length=64)
    software_version: str = Field(max_length=30)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    created_by: str = Field(default="", max_length=100)
    note: str = Field(default="", max_length=500)
    warnings: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    stages: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class RunScore(SQLModel, table=True):
    """One score of a run: an object's or a department's score and rank at one node."""

    __tablename__ = "run_score"
    __table_args__ = (Index("ix_run_score_run", "run_id", "entity_type", "node"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="evaluation_run.id")
    entity_type: str = Field(max_length=12)  # object | department
    entity: str = Field(max_length=80)
    node: str = Field(max_length=80)
    level: int
    score: float
    rank: int | None = None
    peer_rank: int | None = None


class RunInput(SQLModel, table=True):
    """One input value of a run: (unit, indicator, value) of the period scored (`part` =
    "data") or of an earlier period used as history (`part` = "history:0", oldest first).
    With `run_unit`, the framework version and the spec, a run can be recomputed anywhere."""

    __tablename__ = "run_input"
    __table_args__ = (Index("ix_run_input_run", "run_id", "part"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="evaluation_run.id")
    part: str = Field(max_length=20)
    unit: str = Field(max_length=80)
    indicator: str = Field(max_length=80)
    value: float | None = None


class RunUnit(SQLModel, table=True):
    """The attributes of a unit (an assessed object) as they were when the run was made."""

    __tablename__ = "run_unit"
    __table_args__ = (Index("ix_run_unit_run", "run_id"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="evaluation_run.id")
    unit: str = Field(max_length=80)
    kind: str | None = Field(default=None, max_length=20)
    subkind: str | None = Field(default=None, max_length=30)
    department: str | None = Field(default=None, max_length=50)
    peer_group: str | None = Field(default=None, max_length=50)


class SchemaInfo(SQLModel, table=True):
    """The schema version this database was last initialised or upgraded to."""

    __tablename__ = "schema_info"

    id: int | None = Field(default=None, primary_key=True)
    version: int
    upgraded_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
