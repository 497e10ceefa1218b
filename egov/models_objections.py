"""The tables of the department review (egov.objections, issue 16 point 5): a department's
objections to its draft values or results with the assessor's answers, and what the final run
changed since the draft. Registered with the other tables (egov.db imports this module), so
`egov db init` creates them; an objection's state changes only through
`egov.models.compare_and_set` (open → accepted | rejected, one winner)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, Text
from sqlmodel import Field, SQLModel

from egov.models import utcnow


class Objection(SQLModel, table=True):
    """One objection of a department during the review of its draft: to a value (`target` =
    "value": object + indicator) or to a result (`target` = "result": its score or rank at a
    node), with the text and evidence the department gave, and the assessor's answer."""

    __tablename__ = "objection"
    __table_args__ = (Index("ix_objection_cycle_department", "cycle_id", "department_id"),)

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="assessment_cycle.id")
    department_id: int = Field(foreign_key="department.id")
    target: str = Field(max_length=8)  # value | result
    object_id: int | None = Field(default=None, foreign_key="assessed_object.id")
    indicator: str = Field(default="", max_length=80)
    node: str = Field(default="", max_length=80)
    aspect: str = Field(default="", max_length=8)  # score | rank (a result), "" (a value)
    draft_value: float | None = None  # the value, score or rank objected to, as it stood
    text: str = Field(sa_column=Column(Text, nullable=False))
    evidence: str = Field(default="", max_length=1000)  # a reference text or URL
    evidence_ref: str = Field(default="", max_length=200)  # a stored evidence file, when there is one
    raised_by: str = Field(max_length=100)
    raised_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    state: str = Field(default="open", max_length=10)  # open | accepted | rejected
    answer_reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    answered_by: str = Field(default="", max_length=100)
    answered_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    new_value: float | None = None  # the value the assessor set (accepted with a value)
    value_object_id: int | None = Field(default=None, foreign_key="assessed_object.id")
    value_indicator: str = Field(default="", max_length=80)
    metric_value_id: int | None = Field(default=None, foreign_key="metric_value.id")


class ReviewRecord(SQLModel, table=True):
    """What the department review changed, stored with the cycle when it reaches its final run:
    the `egov runs diff` of the draft and the final run (`diff`, JSON) and the objection log
    (`log`, JSON). Written once per cycle."""

    __tablename__ = "review_record"

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="assessment_cycle.id", unique=True)
    draft_run_id: int | None = Field(default=None, foreign_key="evaluation_run.id")
    final_run_id: int | None = Field(default=None, foreign_key="evaluation_run.id")
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    recorded_by: str = Field(default="", max_length=100)
    diff: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    log: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
