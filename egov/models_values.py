"""Tables of values with evidence (issue 16, point 3): evidence of metric values and its links,
the assessor's reviews of values (append-only), the sample audits and their outcomes, and the
values a run used under the framework's rule for unverified and disputed values (`run_value_flag`).

They sit beside egov.models (the kernel's tables) and are registered with the same metadata, so
`egov db init` creates them (egov.db imports this module). A metric value's status lives on the
`metric_value` row; every change of it appends a `ValueReview` and a line of the audit trail.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from egov.models import utcnow


def _cascade(target: str, index: bool = False) -> Column[int]:
    """A required reference to `target` whose rows go with it: a run's flags with the run, the
    links, reviews and sample items of a metric value with the value (what `egov demo` removes
    when it is run again)."""
    return Column(Integer, ForeignKey(target, ondelete="CASCADE"), nullable=False, index=index)


class Evidence(SQLModel, table=True):
    """One piece of evidence: a file stored once by its SHA-256 (`kind` = file), or a reference
    (`kind` = url | document). Attached to metric values through `EvidenceLink`."""

    __tablename__ = "value_evidence"
    __table_args__ = (Index("ix_value_evidence_sha256", "sha256"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=10)  # file | url | document
    sha256: str = Field(default="", max_length=64)  # files: the content's hash (the stored name)
    filename: str = Field(default="", max_length=200)  # files: the sanitised name as given
    media_type: str = Field(default="", max_length=100)
    size: int = Field(default=0)
    reference: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    note: str = Field(default="", max_length=500)
    department_id: int | None = Field(default=None, foreign_key="department.id")
    added_by: str = Field(max_length=100)
    added_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class EvidenceLink(SQLModel, table=True):
    """Evidence attached to one metric value."""

    __tablename__ = "value_evidence_link"
    __table_args__ = (UniqueConstraint("evidence_id", "value_id", name="uq_value_evidence_link"),)

    id: int | None = Field(default=None, primary_key=True)
    evidence_id: int = Field(foreign_key="value_evidence.id")
    value_id: int = Field(sa_column=_cascade("metric_value.id", index=True))


class ValueReview(SQLModel, table=True):
    """One decision of the assessor on a metric value, appended and never changed: verify,
    adjust (the new value's row in `new_value_id`, the original kept), reject or dispute."""

    __tablename__ = "value_review"
    __table_args__ = (Index("ix_value_review_value", "value_id"),)

    id: int | None = Field(default=None, primary_key=True)
    value_id: int = Field(sa_column=_cascade("metric_value.id"))
    action: str = Field(max_length=10)  # verify | adjust | reject | dispute
    from_status: str = Field(max_length=20)
    to_status: str = Field(max_length=20)
    new_value_id: int | None = Field(default=None)
    actor: str = Field(max_length=100)
    role: str = Field(max_length=12)
    at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class AuditSample(SQLModel, table=True):
    """A seeded random sample of a period's submitted values drawn for checking."""

    __tablename__ = "audit_sample"

    id: int | None = Field(default=None, primary_key=True)
    period_id: int = Field(foreign_key="period.id", index=True)
    n: int
    seed: int
    population: int  # submitted values the sample was drawn from
    algorithm: str = Field(max_length=200)
    drawn_by: str = Field(max_length=100)
    drawn_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class AuditItem(SQLModel, table=True):
    """One value of a sample, in draw order, and the outcome of its check."""

    __tablename__ = "audit_item"
    __table_args__ = (UniqueConstraint("sample_id", "value_id", name="uq_audit_item"),)

    id: int | None = Field(default=None, primary_key=True)
    sample_id: int = Field(foreign_key="audit_sample.id", index=True)
    position: int
    value_id: int = Field(sa_column=_cascade("metric_value.id"))
    outcome: str = Field(default="", max_length=16)  # "" | confirmed | corrected | not_checkable
    note: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    recorded_by: str = Field(default="", max_length=100)
    recorded_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class RunValueFlag(SQLModel, table=True):
    """A metric value a run used or left out under the framework's `[assessment]` rule: its
    status (submitted, disputed) and what the rule did (`flag`: used and flagged; `exclude`:
    left out as missing). Stored with the run, so its reports show them."""

    __tablename__ = "run_value_flag"
    __table_args__ = (Index("ix_run_value_flag_run", "run_id"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(sa_column=_cascade("evaluation_run.id"))
    value_id: int | None = Field(default=None)
    unit: str = Field(max_length=80)
    department: str = Field(default="", max_length=50)
    indicator: str = Field(max_length=80)
    value: float | None = None
    status: str = Field(max_length=20)
    rule: str = Field(max_length=10)  # flag | exclude
