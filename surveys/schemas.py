"""Request and response schemas of the rating API (strict: unknown fields are rejected)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from egov.inputs import Code, FreeText, safe_text
from egov.langs import Language
from surveys.question_sets import answer_problems

Driver = Literal["effectiveness", "ease", "efficiency", "transparency", "staff", "other"]
Channel = Literal["app", "web", "kiosk", "counter", "hotline"]
CaseState = Literal[
    "open",
    "verified",
    "rectifying",
    "rectified",
    "explained",
    "return_visit_done",
    "closed",
    "appealed",
    "upheld",
    "removed",
]
CASE_STATES: tuple[str, ...] = get_args(CaseState)
# how a department handles a bad rating (國辦發〔2019〕51號): 立行立改, 限期整改, 解釋說明
CaseTier = Literal["immediate", "deadline", "explain"]
CASE_TIERS: tuple[str, ...] = get_args(CaseTier)
VisitOutcome = Literal["satisfied", "unsatisfied", "unreachable"]  # the return visit (回訪)
VISIT_OUTCOMES: tuple[str, ...] = get_args(VisitOutcome)
OPEN_CASE_STATES = tuple(s for s in CASE_STATES if s not in ("closed", "removed"))
MAX_BATCH = 500
BAD_LEVELS = (1, 2)  # bad ratings (差評): they need a reason and open a follow-up case
MAX_ID = 2**31 - 1  # the largest row id every id column holds (PostgreSQL INTEGER, the narrowest)

# the rated subjects of a counter or hotline token (surveys.subjects): a window (counter number)
# and the staff member, by the department's own staff code — letters, digits, '.', '-', '_' with
# at least one digit, so that a name cannot be given in its place
WINDOW_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9-]{0,19}$"
STAFF_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,19}$"
KIOSK_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$"
MAX_ANSWERS = 20  # items a question set may have answered in one rating
ItemCode = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]  # a question set's item code
Likert = Annotated[int, Field(strict=True, ge=1, le=5)]  # 5 (best) … 1, a JSON integer

EXAMPLE_TOKEN = "v1.eyJqIjoiOWYxYyIsIm8iOjcsImsiOjIsImUiOjE3OTk5OTk5OTl9.Zm9vYmFyYmF6"


def _utc(value: datetime) -> datetime:
    """SQLite gives timestamps back without their zone; they are stored in UTC, so the API
    always answers with an offset (RFC 3339 `date-time`, as the schema says)."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_utc)]


class Problem(BaseModel):
    """Every refusal: a JSON object with a `detail` text."""

    detail: str = Field(description="What was refused and why.")


class ValidationIssue(BaseModel):
    """One invalid part of a request (FastAPI's validation error item)."""

    loc: list[str | int] = Field(description="Where: body, query or path, then the field path.")
    msg: str
    type: str


class ValidationProblem(BaseModel):
    """422: the issues of an invalid request (a list), or one explanation (a text) when the
    request is well formed but cannot be accepted (e.g. an object that is not an application)."""

    detail: str | list[ValidationIssue]


class Strict(BaseModel):
    """A request: unknown fields refused, texts stripped, no NaN or infinity; every text field
    is `Code` or `FreeText` (egov.inputs: no control characters, no lone surrogates)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)


class TokenRequest(Strict):
    """A completed transaction for which the citizen is offered a rating."""

    object: Code = Field(
        min_length=1, max_length=80, description="Code of the rated object (an application)."
    )
    transaction_ref: Code = Field(
        min_length=1, max_length=80, description="The department's reference of the completed transaction."
    )
    citizen_id: Code = Field(
        default="",
        max_length=200,
        description="Optional citizen identifier (e.g. One Account id); stored only as a keyed hash.",
    )
    service: Code | None = Field(
        default=None,
        min_length=1,
        max_length=50,
        description="Optional code of the service item (事項) the transaction was (`egov services list`): "
        "known, active and offered through the object. Its rating then counts for the item's owning "
        "department too (e.g. a DSF service done inside Macao One Account).",
    )
    window: Code | None = Field(
        default=None,
        pattern=WINDOW_PATTERN,
        description="Optional rated subject: the window (counter number) that served, e.g. `3` or `A12`. "
        "Shown to the department; never on a public page.",
    )
    staff: Code | None = Field(
        default=None,
        pattern=STAFF_PATTERN,
        description="Optional rated subject: the staff member who served, by the department's own staff code "
        "(1–20 letters, digits, `.`, `-`, `_`, at least one digit; never a name). Never shown on a public "
        "page or in an export; its figures only to the department's own keys, above the minimum count.",
    )
    kiosk: Code | None = Field(
        default=None,
        pattern=KIOSK_PATTERN,
        description="Optional: the code of the counter kiosk (a device of this object) that shows the rating "
        "form for this ticket; the window defaults to the kiosk's.",
    )

    @field_validator("staff")
    @classmethod
    def _staff_code(cls, value: str | None) -> str | None:
        if value is not None and not any(c.isdigit() for c in value):
            raise ValueError(
                "a staff code must contain a digit: give the department's staff code, never a name"
            )
        return value

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {"object": "ONE_ACCOUNT", "transaction_ref": "SAFP-2026-000123"},
                {
                    "object": "SAFP_SERVICE_COUNTER",
                    "transaction_ref": "A023-20260315",
                    "window": "3",
                    "staff": "S1042",
                    "kiosk": "SAFP-C-03",
                },
                {
                    "object": "ONE_ACCOUNT",
                    "transaction_ref": "SAFP-2026-000124",
                    "service": "DSF_VEHICLE_TAX",
                },
            ]
        },
    )


class TokenBatch(Strict):
    items: list[TokenRequest] = Field(min_length=1, max_length=MAX_BATCH)


class TokenIssued(BaseModel):
    token: str
    object: str
    transaction_ref: str
    service: str | None = Field(default=None, description="The service item the token names, if any.")
    window: str | None = Field(default=None, description="The window the token names, if any.")
    kiosk: str | None = Field(default=None, description="The counter kiosk that shows the ticket, if any.")
    expires_at: UtcDatetime
    widget_path: str = Field(
        description="Path of the widget for this token (add &lang=pt|en to change language)."
    )


class TokenBatchResult(BaseModel):
    items: list[TokenIssued]


class RatingCreate(Strict):
    """One citizen's rating, submitted with the token issued for the transaction."""

    token: Code = Field(min_length=10, max_length=600, description="The single-use rating token.")
    level: int = Field(
        ge=1,
        le=5,
        strict=True,  # a JSON integer: "5", 5.0 and true are refused, as a strict schema promises
        description="5 非常滿意 · 4 滿意 · 3 基本滿意 · 2 不滿意 · 1 非常不滿意 (a JSON integer).",
    )
    good: list[Driver] = Field(default_factory=list, max_length=6, description="What went well (optional).")
    better: list[Driver] = Field(
        default_factory=list, max_length=6, description="What could be better; at least one for levels 1–2."
    )
    comment: FreeText = Field(
        default="", max_length=1000, description="Optional comment, at most 1,000 characters."
    )
    channel: Channel = "app"
    language: Language = "zh-Hant"
    question_version: Code | None = Field(
        default=None, max_length=20, description="Version of the question texts shown (default: current)."
    )
    question_set: Code | None = Field(
        default=None,
        max_length=40,
        description="The question set whose items `answers` answers (GET /api/v1/questions); none: the "
        "overall rating only.",
    )
    question_set_version: Code | None = Field(
        default=None,
        max_length=20,
        description="Version of the question set shown (default: its current one).",
    )
    answers: dict[ItemCode, Likert] = Field(
        default_factory=dict,
        max_length=MAX_ANSWERS,
        validate_default=True,  # a set's required items are checked when no answer is sent too
        description="Answers to the question set's 5-point Likert items, item code → 1 … 5 (JSON integers); "
        "every required item of the set must be answered, an item it does not have is refused.",
    )
    follow_up: bool = Field(
        default=False, description="True for the one follow-up that amends an earlier rating with this token."
    )
    website: FreeText = Field(default="", max_length=200, description="Honeypot: must stay empty.")

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "token": EXAMPLE_TOKEN,
                    "level": 2,
                    "better": ["efficiency"],
                    "comment": "The form timed out twice.",
                    "channel": "app",
                    "language": "en",
                }
            ]
        },
    )

    @field_validator("question_set")
    @classmethod
    def _known_set(cls, value: str | None) -> str | None:
        found = [m for f, m in answer_problems(value, None, {}) if f == "question_set"]
        if found:
            raise ValueError("; ".join(found))
        return value

    @field_validator("question_set_version")
    @classmethod
    def _known_version(cls, value: str | None, info: ValidationInfo) -> str | None:
        if "question_set" in info.data:  # else the set itself was refused
            code = info.data["question_set"]
            found = [m for f, m in answer_problems(code, value, {}) if f == "question_set_version"]
            if found:
                raise ValueError("; ".join(found))
        return value

    @field_validator("answers")
    @classmethod
    def _known_items(cls, value: dict[str, int], info: ValidationInfo) -> dict[str, int]:
        if "question_set" in info.data and "question_set_version" in info.data:
            code, version = info.data["question_set"], info.data["question_set_version"]
            found = [f"{f}: {m}" for f, m in answer_problems(code, version, value) if f.startswith("answers")]
            if found:
                raise ValueError("; ".join(found))
        return value

    @model_validator(mode="after")
    def _reason_for_bad(self) -> RatingCreate:
        if self.level in BAD_LEVELS and not self.better:
            raise ValueError("a bad rating (level 1 or 2) needs a reason: at least one 'better' driver")
        if len(set(self.good)) != len(self.good) or len(set(self.better)) != len(self.better):
            raise ValueError("drivers must not repeat")
        return self


class RatingBatch(Strict):
    """Ratings queued offline. An invalid item does not refuse the batch: it is refused alone
    (its result has code 422 and an error naming `items.N.field`) and the other items are
    handled; a batch that is itself invalid (no items, too many, unknown fields) is refused."""

    items: list[RatingCreate] = Field(min_length=1, max_length=MAX_BATCH)
    _refused: dict[int, str] = PrivateAttr(default_factory=dict)  # position → the item's problems

    @model_validator(mode="wrap")
    @classmethod
    def _items_one_by_one(cls, data: Any, handler: ModelWrapValidatorHandler[RatingBatch]) -> RatingBatch:
        try:
            return handler(data)
        except ValidationError as exc:
            refused = item_problems(exc)
            if refused is None or not isinstance(data, dict) or not isinstance(data.get("items"), list):
                raise
        kept = [item for i, item in enumerate(data["items"]) if i not in refused]
        batch = handler({**data, "items": kept}) if kept else cls.model_construct(items=[])
        batch._refused = refused
        return batch

    def answers(self, results: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The answer of every submitted item in order: `results` (one per valid item, in
        order) and the refused items (code 422), each with its position in the batch."""
        out: list[dict[str, Any]] = []
        kept = iter(results)
        for index in range(len(self.items) + len(self._refused)):
            error = self._refused.get(index)
            if error is None:
                out.append({**next(kept), "index": index})
            else:
                out.append({"index": index, "ok": False, "receipt": None, "error": error, "code": 422})
        return out


def item_problems(exc: ValidationError) -> dict[int, str] | None:
    """The problems of a batch's items by position (`items.3.comment: …`), or None when an
    error is not inside one item."""
    problems: dict[int, list[str]] = {}
    for error in exc.errors():
        loc = error["loc"]
        if len(loc) < 2 or loc[0] != "items" or not isinstance(loc[1], int):
            return None
        where = ".".join(str(x) for x in loc)
        problems.setdefault(loc[1], []).append(safe_text(f"{where}: {error['msg']}"))
    return {index: "; ".join(texts) for index, texts in problems.items()}


class RatingReceipt(BaseModel):
    receipt: str = Field(description="Receipt of the rating (the token id).")
    status: Literal["accepted", "held"] = Field(description="accepted; or held for review (burst detection).")
    amended: bool = False
    question_version: str


class BatchItemResult(BaseModel):
    index: int
    ok: bool
    receipt: RatingReceipt | None = None
    error: str | None = None
    code: int = 200


class RatingBatchResult(BaseModel):
    accepted: int
    items: list[BatchItemResult]


class ReviewRequest(Strict):
    decision: Literal["accept", "reject"]
    note: FreeText = Field(default="", max_length=500)

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"decision": "accept", "note": "campaign day, genuine"}]},
    )


class ReviewResult(BaseModel):
    id: int
    flags: str = Field(description="Empty when accepted (the rating counts), `rejected` otherwise.")


class FlaggedRating(BaseModel):
    id: int
    object: str
    day: date
    level: int
    flags: str
    created_at: UtcDatetime


class CaseTransition(Strict):
    to: CaseState
    note: FreeText = Field(
        default="", max_length=500, description="Internal note: kept on the case and in the audit trail."
    )
    handler: FreeText = Field(
        default="", max_length=100, description="Who takes the case (to `verified`): a staff label."
    )
    tier: CaseTier | None = Field(
        default=None, description="To `rectifying`: immediate or deadline (default deadline)."
    )
    answer: FreeText = Field(
        default="",
        max_length=2000,
        description="The answer for the public (to `rectified` or `explained`; required for `explained`).",
    )
    outcome: VisitOutcome | None = Field(
        default=None, description="The return visit's outcome (to `return_visit_done`)."
    )

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"to": "verified", "note": "called the citizen"}]}
    )


class CasePublic(BaseModel):
    id: int
    object: str
    department: str
    state: str
    level: int
    reason: list[str]
    opened_day: date
    rectify_due: date
    rectified_day: date | None
    return_visit_due: date | None
    return_visit_day: date | None
    appeal_outcome: str
    tier: str = ""
    handler: str = ""
    answer: str = ""
    internal_note: str = ""
    visit_outcome: str = ""


class KeyCreate(Strict):
    role: Literal["department", "assessor", "lead", "admin"]
    department: Code | None = Field(default=None, max_length=50)
    label: FreeText = Field(default="", max_length=100)

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"role": "department", "department": "SAFP", "label": "SAFP back end"}]
        },
    )


class KeyPublic(BaseModel):
    id: int
    prefix: str
    role: str
    department: str | None
    label: str
    created_at: UtcDatetime
    revoked_at: UtcDatetime | None


class KeyCreated(KeyPublic):
    key: str = Field(description="The key; shown once, only its hash is stored.")


class Principal(BaseModel):
    key_id: int
    role: str
    department: str | None


class AuditEntry(BaseModel):
    id: int
    at: UtcDatetime
    actor: str
    action: str
    target_type: str
    target_id: str
    detail: str


class KioskCreate(Strict):
    """A counter kiosk to register: a tablet at a service counter of one of the department's objects."""

    code: Code = Field(pattern=KIOSK_PATTERN, description="The device's code, e.g. `SAFP-C-03`.")
    object: Code = Field(min_length=1, max_length=80, description="The counter object it stands at.")
    window: Code | None = Field(default=None, pattern=WINDOW_PATTERN, description="The window it stands at.")
    label: FreeText = Field(default="", max_length=100)

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [{"code": "SAFP-C-03", "object": "SAFP_SERVICE_COUNTER", "window": "3"}]
        },
    )


class KioskPublic(BaseModel):
    code: str
    object: str
    window: str | None
    label: str
    prefix: str
    created_at: UtcDatetime
    revoked_at: UtcDatetime | None


class KioskCreated(KioskPublic):
    key: str = Field(description="The device's key; shown once, only its hash is stored.")
    setup_path: str = Field(
        description="Open this once on the tablet: the key travels in the fragment (never sent to a server "
        "or logged); the page keeps it on the device and removes it from the address."
    )


class KioskTicket(BaseModel):
    """The served ticket a kiosk shows the rating form for."""

    token: str
    receipt: str = Field(description="The rating's receipt once rated (the token id).")
    object: str
    object_name: dict[str, str] = Field(description="The counter's name by language.")
    window: str | None
    service_name: dict[str, str] | None = Field(description="The service item's name by language, if named.")
    expires_at: UtcDatetime
