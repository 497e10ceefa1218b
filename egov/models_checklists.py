"""The table of the assessor's service checks (issue 16 point 4, egov.checklists): one answer
per (period, object, checklist, item), with who answered it, when, from which file and cell,
and an optional note and evidence reference. A re-import supersedes the current answer
(`superseded_at` set) and keeps it for the history, like a metric value. Registered with
the kernel's tables by `egov.db` (imported there), so `egov db init` creates it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, Index, Text
from sqlmodel import Field, SQLModel

from egov.models import utcnow


class ChecklistAnswer(SQLModel, table=True):
    """One answer of a checklist item for an object in a period: `answer` as written (yes, no,
    n/a or a number of points), `points` (yes 1, no 0, a score; None: not applicable)."""

    __tablename__ = "checklist_answer"
    __table_args__ = (
        Index("ix_checklist_answer_current", "period_id", "checklist", "object_id", "item", "superseded_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    period_id: int = Field(foreign_key="period.id")
    object_id: int = Field(foreign_key="assessed_object.id")
    checklist: str = Field(max_length=80)
    item: str = Field(max_length=80)
    answer: str = Field(max_length=10)
    points: float | None = None
    note: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    evidence: str = Field(default="", max_length=500)
    framework_hash: str = Field(default="", max_length=64)
    source_file: str = Field(default="", max_length=500)
    source_hash: str = Field(default="", max_length=64)
    sheet: str = Field(default="", max_length=100)
    cell: str = Field(default="", max_length=20)
    answered_by: str = Field(max_length=100)
    role: str = Field(max_length=12)
    answered_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    superseded_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
