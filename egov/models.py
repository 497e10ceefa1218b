"""Database tables (SQLModel) for everything that is stored.

Frameworks are versioned and content-hashed; departments own assessed objects of one kind;
metric values carry their provenance and are superseded, never overwritten; evaluation
runs are immutable once stored and hold every score and rank they produced.
Citizen ratings and their daily roll-ups, rating tokens and bad-rating cases, API keys,
the server secret, the audit log, report sessions and the assessment cycles are here too: every table is part of
the kernel, so `egov db init` creates them all and no feature package owns another's rows.
A stored state (a held rating, a case, a key) changes only through `compare_and_set`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, Text, UniqueConstraint, inspect, update
from sqlmodel import Field, Session, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


def compare_and_set(
    session: Session, model: type[SQLModel], row_id: Any, field: str, expected: Any, new: Any, **more: Any
) -> bool:
    """The one way a stored state changes (a review decision, a case move, a rating removed, a
    key revoked): `UPDATE <table> SET <field> = new, <more> WHERE id = row_id AND <field> =
    expected` (`IS NULL` for None) in the caller's transaction. True when this call made the
    change (exactly one row); False when the row is gone or another request changed the state
    first: the caller then answers 409 and changes nothing else. Whatever follows from the
    change (roll-up counts, audit entries) is written only by the caller that got True, in the
    same transaction, so a concurrent request can never apply it twice. On PostgreSQL a second
    UPDATE of the row waits for the first to commit and then re-checks its condition; on SQLite
    writers are serialised. The session's copy of the row, if any, is expired (read again from
    the database on its next use: after True the row is this transaction's to read)."""
    column = getattr(model, field)
    state = column.is_(None) if expected is None else column == expected
    result = session.execute(
        update(model)
        .where(inspect(model).primary_key[0] == row_id, state)
        .values({field: new, **more})
        .execution_options(synchronize_session=False)
    )
    stored = session.identity_map.get(Session.identity_key(model, row_id))
    if stored is not None:
        session.expire(stored)
    return int(getattr(result, "rowcount", 0) or 0) == 1


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
    # an application service citizens use (and rate); false for internal systems (G2G, G2E,
    # analytics), which get no rating tokens
    citizen_facing: bool = Field(default=True)
    # published figures about the object that are not scored ("context figures" of the
    # register: value, unit, name, quote, paper section, period), shown in its department's
    # report; None when the register gives none
    context: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


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
    # submitted (a department's, unverified; "reported" in older databases) | verified | adjusted
    # (the assessor's new value, `replaces_id` the original) | rejected | disputed (egov.values)
    status: str = Field(default="submitted", max_length=20)
    source_file: str = Field(default="", max_length=500)
    source_hash: str = Field(default="", max_length=64)
    sheet: str = Field(default="", max_length=100)
    cell: str = Field(default="", max_length=20)
    imported_by: str = Field(default="", max_length=100)
    imported_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    superseded_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    replaces_id: int | None = Field(default=None)  # an adjusted value: the value it replaces


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


# --- citizen ratings ----------------------------------------------------------------------
# Citizen ratings and their daily roll-ups.
#
# A rating is one citizen's rating of one application/service interaction. No citizen
# identifier is stored in clear: `pseudonym` is a keyed hash. Raw ratings never travel into
# pandas; they are rolled up per object and day in SQL (`RatingDaily`), and rating-derived
# indicators read the roll-ups.


class Rating(SQLModel, table=True):
    __tablename__ = "rating"
    __table_args__ = (
        UniqueConstraint("object_id", "transaction_ref", name="uq_rating_transaction"),
        Index("ix_rating_object_day", "object_id", "day"),
        Index("ix_rating_object_created", "object_id", "created_at"),
        Index("ix_rating_issuer_created", "issuer_key_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    object_id: int = Field(foreign_key="assessed_object.id")
    level: int = Field(ge=1, le=5)  # 5 非常滿意 … 1 非常不滿意; 1–2 are bad ratings
    drivers: str = Field(default="", max_length=200)  # comma-separated driver codes
    comment: str = Field(default="", max_length=1000)
    channel: str = Field(default="app", max_length=10)  # app | web | kiosk | counter | hotline
    language: str = Field(default="zh-Hant", max_length=8)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    day: date
    pseudonym: str = Field(default="", max_length=64)  # keyed hash, never the identifier
    transaction_ref: str = Field(max_length=80)
    flags: str = Field(default="", max_length=100)  # moderation flags; flagged ratings do not count
    # Added by the rating API (issue 5). drivers: "+code" went well, "-code" could be better.
    question_version: str = Field(default="", max_length=20)
    issuer_key_id: int | None = Field(default=None)  # the department key that issued the token
    ip: str | None = Field(default=None, max_length=45)  # only when EGOV_STORE_IP is on
    amended_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    # the service item (事項, egov.models_services) the rating is about, from its token; None:
    # none named (the rating counts for its object only)
    service_id: int | None = Field(default=None)


class RatingDaily(SQLModel, table=True):
    """Roll-up of counted (unflagged) ratings per object and day, by level."""

    __tablename__ = "rating_daily"

    object_id: int = Field(foreign_key="assessed_object.id", primary_key=True)
    day: date = Field(primary_key=True)
    n1: int = 0
    n2: int = 0
    n3: int = 0
    n4: int = 0
    n5: int = 0


class OfferDaily(SQLModel, table=True):
    """Transactions offered a rating per object and day (the denominator of the response
    rate): counted when a rating token is issued for a completed transaction."""

    __tablename__ = "offer_daily"

    object_id: int = Field(foreign_key="assessed_object.id", primary_key=True)
    day: date = Field(primary_key=True)
    n_offered: int = 0


# --- the rating API (issue 5) ------------------------------------------------------------------
class ApiKey(SQLModel, table=True):
    """An API key: only the SHA-256 of the key is stored; `prefix` identifies it in lists."""

    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    prefix: str = Field(max_length=16)
    key_hash: str = Field(max_length=64, unique=True)
    role: str = Field(max_length=12)  # department | assessor | lead | admin
    department_id: int | None = Field(default=None, foreign_key="department.id")
    label: str = Field(default="", max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    revoked_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class AppSecret(SQLModel, table=True):
    """Server secrets generated once (when EGOV_SECRET_KEY is not set)."""

    __tablename__ = "app_secret"

    name: str = Field(primary_key=True, max_length=40)
    value: str = Field(max_length=128)


class RatingToken(SQLModel, table=True):
    """A single-use rating token issued for one completed transaction of one object."""

    __tablename__ = "rating_token"
    __table_args__ = (UniqueConstraint("object_id", "transaction_ref", name="uq_token_transaction"),)

    id: str = Field(primary_key=True, max_length=32)  # the token's random id (jti)
    object_id: int = Field(foreign_key="assessed_object.id")
    transaction_ref: str = Field(max_length=80)
    issuer_key_id: int = Field(foreign_key="api_key.id")
    pseudonym: str = Field(default="", max_length=64)  # keyed hash of the citizen id, if given
    issued_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    expires_at: datetime = Field(sa_type=DateTime(timezone=True))
    state: str = Field(default="issued", max_length=10)  # issued | used | discarded
    body_hash: str = Field(default="", max_length=64)  # of the first accepted submission
    amend_hash: str = Field(default="", max_length=64)  # of the one follow-up, if any
    response_status: str = Field(default="", max_length=10)  # accepted | flagged (first answer)
    service_id: int | None = Field(default=None)  # the service item named at issue (egov.models_services)


class RatingCase(SQLModel, table=True):
    """The follow-up case of a bad rating, owned by the rated object's department."""

    __tablename__ = "rating_case"
    __table_args__ = (Index("ix_case_department_day", "department_id", "opened_day"),)

    id: int | None = Field(default=None, primary_key=True)
    rating_id: int = Field(foreign_key="rating.id", unique=True)
    object_id: int = Field(foreign_key="assessed_object.id")
    department_id: int = Field(foreign_key="department.id")
    state: str = Field(default="open", max_length=20)
    opened_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    opened_day: date
    rectify_due: date
    rectified_day: date | None = None
    return_visit_due: date | None = None
    return_visit_day: date | None = None
    appealed_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    appeal_outcome: str = Field(default="", max_length=10)  # "" | upheld | removed
    closed_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    # The case desk (issue 17, point 3): how the department handles it and what it tells the
    # public. Server defaults, so the rating paths' INSERTs need not name them.
    # tier: immediate (立行立改) | deadline (限期整改) | explain (解釋說明); handler: a staff label
    tier: str = Field(default="", max_length=10, sa_column_kwargs={"server_default": ""})
    handler: str = Field(default="", max_length=100, sa_column_kwargs={"server_default": ""})
    answer: str = Field(default="", sa_column=Column(Text, nullable=False, default="", server_default=""))
    internal_note: str = Field(
        default="", sa_column=Column(Text, nullable=False, default="", server_default="")
    )
    # the return visit's outcome: satisfied | unsatisfied | unreachable
    visit_outcome: str = Field(default="", max_length=12, sa_column_kwargs={"server_default": ""})


class AuditLog(SQLModel, table=True):
    """Who did what: flag reviews, rating removals, case transitions, keys, purges."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_target", "target_type", "target_id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    actor: str = Field(max_length=100)
    action: str = Field(max_length=40)
    target_type: str = Field(max_length=20)
    target_id: str = Field(max_length=40)
    detail: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class ReportSession(SQLModel, table=True):
    """A browser session of the report pages: only the SHA-256 of the session id is stored."""

    __tablename__ = "report_session"

    id_hash: str = Field(primary_key=True, max_length=64)
    key_id: int = Field(foreign_key="api_key.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    expires_at: datetime = Field(sa_type=DateTime(timezone=True))


# --- the assessment cycle (issue 16) ---------------------------------------------------------
class AssessmentCycle(SQLModel, table=True):
    """The assessment cycle of a period (egov.cycle): its state, the run it names (the draft,
    then the final and published run) and the department review window. Its state changes
    only through `compare_and_set`; every change appends a `CycleEvent`."""

    __tablename__ = "assessment_cycle"

    id: int | None = Field(default=None, primary_key=True)
    period_id: int = Field(foreign_key="period.id", unique=True)
    # collecting | verifying | draft | review | final | published
    state: str = Field(default="collecting", max_length=12)
    run_id: int | None = Field(default=None, foreign_key="evaluation_run.id")  # the current run
    draft_run_id: int | None = Field(default=None, foreign_key="evaluation_run.id")
    review_days: int = Field(default=10)  # Macau working days of the department review
    review_opened: date | None = None
    review_deadline: date | None = None
    opened_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    opened_by: str = Field(default="", max_length=100)


class CycleEvent(SQLModel, table=True):
    """One transition of a cycle, appended, never changed or deleted: who (key or operator and
    role), when, from which state to which, the run it names and why."""

    __tablename__ = "cycle_event"
    __table_args__ = (Index("ix_cycle_event_cycle", "cycle_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="assessment_cycle.id")
    at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    actor: str = Field(max_length=100)
    role: str = Field(max_length=12)
    from_state: str = Field(default="", max_length=12)  # "" when the cycle is opened
    to_state: str = Field(max_length=12)
    run_id: int | None = Field(default=None)
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class CalendarDay(SQLModel, table=True):
    """A day of the working-day calendar added by an administrator (surveys.calendar_days): an
    ad-hoc closure (typhoon signal 8 or above), or a day of a year's table imported before the
    built-in calendar has it. `kind`: public_holiday | compensatory_day | half_day | closure."""

    __tablename__ = "calendar_day"

    id: int | None = Field(default=None, primary_key=True)
    day: date = Field(unique=True)
    kind: str = Field(max_length=20)
    name: str = Field(default="", max_length=200)
    source: str = Field(max_length=200)
    added_by: str = Field(max_length=100)
    added_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
