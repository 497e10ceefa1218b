"""The assessment cycle of a period (issue 16): the government leads, an independent assessor
evaluates, the departments review their draft, the lead publishes.

States, in order: collecting → verifying → draft → review → final → published. Each move is
one call, allowed only to the role that owns it (`TRANSITIONS`), with a reason; it changes the
cycle's row with `compare_and_set` and appends a `CycleEvent` (who, when, from, to, the run,
why) in the same transaction. There is no function that changes or deletes an event: the
history is append-only. From `draft` on the cycle names a run (the assessor's draft, then the
final run, which is the one published). Opening the department review (draft → review) fixes
its deadline: `review_days` Macau working days later (surveys.cases.due_after, the calendar of
the case deadlines).

Who may read which run (`RunAccess`, used by the report pages): assessor and admin keys every
run; a lead key runs that are final or published; a department key published runs and, while
the cycle is in review, its own department's report of the draft, never another department's
nor a run before review. Runs outside any cycle (older databases, `egov score` on its own)
follow the rule of a database without cycles as long as it has none (every key reads them as
before); once a cycle exists they are the assessor's working runs, hidden from lead and
department keys. A published period is closed: its values cannot be imported and it cannot
be scored again (`refuse_published`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import insert
from sqlmodel import Session, col, select

from egov.auth import Principal, audit
from egov.clock import local_day
from egov.errors import EgovError
from egov.models import (
    AssessmentCycle,
    CycleEvent,
    EvaluationRun,
    FrameworkVersion,
    Period,
    compare_and_set,
    utcnow,
)
from egov.settings import get_settings
from egov.store import get_run, operator_name, period_for_import, previous_run
from surveys.cases import due_after

STATES = ("collecting", "verifying", "draft", "review", "final", "published")
# (from, to) → the role that owns the move; "" is a cycle not opened yet
TRANSITIONS: dict[tuple[str, str], str] = {
    ("", "collecting"): "lead",
    ("collecting", "verifying"): "assessor",
    ("verifying", "draft"): "assessor",
    ("draft", "review"): "assessor",
    ("review", "final"): "assessor",
    ("final", "published"): "lead",
}
ACTING_ROLES = ("lead", "assessor")  # the roles that move a cycle
RUN_STATES = ("draft", "review", "final", "published")  # the states that name a run
ATTACH = ("draft", "final")  # the moves that take a run (`final`: optional, a new run)
SUPERSEDED = "superseded"  # a draft run replaced by another final run
DEFAULT_REVIEW_DAYS = 10
MAX_REVIEW_DAYS = 60
SEE_ALL = ("assessor", "admin")


@dataclass(frozen=True)
class Actor:
    """Who moves a cycle: a name for the record (a key's `Principal.actor`, or `cli:NAME`)
    and the role it acts in."""

    name: str
    role: str

    @classmethod
    def of_key(cls, principal: Principal) -> Actor:
        return cls(principal.actor, principal.role)

    @classmethod
    def of_cli(cls, role: str | None) -> Actor:
        """The command line as an actor: `cli:NAME` (EGOV_OPERATOR, else the OS user) in the
        role `role` (`--as`), else the setting EGOV_ROLE. The role is declared, not proven:
        whoever runs the command line holds the database already."""
        chosen = role or get_settings().role
        if chosen not in ACTING_ROLES:
            shown = f"{chosen!r}" if chosen else "no role"
            raise EgovError(f"{shown}: act as {' or '.join(ACTING_ROLES)} (--as ROLE or EGOV_ROLE)")
        return cls(f"cli:{operator_name()}", chosen)


@dataclass(frozen=True)
class Event:
    """One recorded transition, as shown."""

    at: datetime
    actor: str
    role: str
    from_state: str
    to_state: str
    run_key: str | None
    reason: str


@dataclass
class CycleStatus:
    """A cycle as `egov cycle status` shows it: its state, runs, review window, what may come
    next (state and the role that moves it) and its history, oldest first."""

    period: str
    state: str
    run_key: str | None
    draft_run_key: str | None
    review_days: int
    review_opened: date | None
    review_deadline: date | None
    next_moves: list[tuple[str, str]]
    events: list[Event] = field(default_factory=list)


# --- the cycle ------------------------------------------------------------------------------------
def find_cycle(session: Session, period: str) -> AssessmentCycle | None:
    """The cycle of period `period`, or None."""
    return session.exec(
        select(AssessmentCycle)
        .join(Period, col(Period.id) == col(AssessmentCycle.period_id))
        .where(col(Period.code) == period)
    ).first()


def get_cycle(session: Session, period: str) -> AssessmentCycle:
    cycle = find_cycle(session, period)
    if cycle is None:
        raise EgovError(
            f"period {period} has no assessment cycle; the lead opens it: egov cycle open {period}"
        )
    return cycle


def _check_actor(actor: Actor, owner: str, move: str) -> None:
    if actor.role != owner:
        raise EgovError(f"{move} is the {owner}'s to do, not the {actor.role}'s")


def _reason(reason: str) -> str:
    text = reason.strip()
    if not text:
        raise EgovError("give the reason of the move (--reason TEXT)")
    if len(text) > 2000:
        raise EgovError("the reason is longer than 2000 characters")
    return text


def _record(
    session: Session,
    cycle_id: int,
    period: str,
    actor: Actor,
    frm: str,
    to: str,
    run_id: int | None,
    reason: str,
) -> None:
    """Append the event, and its line in the general audit trail (same transaction)."""
    session.execute(
        insert(CycleEvent).values(
            cycle_id=cycle_id,
            at=utcnow(),
            actor=actor.name[:100],
            role=actor.role,
            from_state=frm,
            to_state=to,
            run_id=run_id,
            reason=reason,
        )
    )
    detail = f"{frm or '-'} -> {to}" + (f" run={run_id}" if run_id else "") + f" reason={reason}"
    audit(session, actor.name, f"cycle.{to}", "cycle", period, detail)


def open_cycle(
    session: Session, period: str, actor: Actor, reason: str = "", review_days: int = DEFAULT_REVIEW_DAYS
) -> AssessmentCycle:
    """Open the cycle of `period` (the lead's): state `collecting`. The period is created from
    its code (a year, a quarter, a half) when it is new. `review_days`: the Macau working days
    the departments will have to review their draft."""
    _check_actor(actor, TRANSITIONS[("", "collecting")], "opening a cycle")
    if not 1 <= review_days <= MAX_REVIEW_DAYS:
        raise EgovError(f"the review window is 1 to {MAX_REVIEW_DAYS} working days, not {review_days}")
    existing = find_cycle(session, period)
    if existing is not None:
        raise EgovError(f"period {period} has a cycle already (state {existing.state})")
    period_row = period_for_import(session, period)
    cycle = AssessmentCycle(
        period_id=int(period_row.id or 0), review_days=review_days, opened_by=actor.name[:100]
    )
    session.add(cycle)
    session.flush()
    _record(session, int(cycle.id or 0), period, actor, "", "collecting", None, reason.strip())
    return cycle


def advance(
    session: Session,
    period: str,
    to: str,
    actor: Actor,
    reason: str,
    run: str | None = None,
    today: date | None = None,
) -> AssessmentCycle:
    """Move the cycle of `period` one step, to `to`, as `actor` (the role that owns the move),
    for `reason`. `run`: the run key the draft names (required for `draft`; for `final`, a new
    run replacing the draft, else the draft stays). `today`: the day the review opens (default:
    the local day)."""
    if to not in STATES:
        raise EgovError(f"state {to!r}: use one of {', '.join(STATES)}")
    cycle = get_cycle(session, period)
    frm = cycle.state
    owner = TRANSITIONS.get((frm, to))
    if owner is None:
        nexts = ", ".join(t for f, t in TRANSITIONS if f == frm) or "none: it is published"
        raise EgovError(f"the cycle of {period} is {frm}; it cannot move to {to} (next: {nexts})")
    _check_actor(actor, owner, f"moving {frm} → {to}")
    text = _reason(reason)
    more: dict[str, object] = {}
    if run is not None:
        if to not in ATTACH:
            raise EgovError(f"--run names the draft or the final run; moving to {to} takes none")
        row = get_run(session, run)
        if row.period_id != cycle.period_id:
            raise EgovError(f"run {run} is not a run of period {period}")
        more["run_id"] = row.id
        if to == "draft":
            more["draft_run_id"] = row.id
    elif to == "draft":
        raise EgovError("the draft names its run: --run RUN (a run of the period, `egov runs list`)")
    if to == "review":
        opened = today or local_day()
        more["review_opened"] = opened
        more["review_deadline"] = due_after(session, opened, cycle.review_days)
    if not compare_and_set(session, AssessmentCycle, cycle.id, "state", frm, to, **more):
        raise EgovError(f"the cycle of {period} was moved by someone else meanwhile; look again")
    session.refresh(cycle)
    _record(session, int(cycle.id or 0), period, actor, frm, to, cycle.run_id, text)
    return cycle


def publish(session: Session, period: str, actor: Actor, reason: str) -> AssessmentCycle:
    """The lead approves the final run for publication (final → published)."""
    return advance(session, period, "published", actor, reason)


def refuse_published(session: Session, period_id: int | None) -> None:
    """An error when the period's cycle is published: its run is immutable, so its values are
    not imported again and the period is not scored again."""
    if period_id is None:
        return
    state = session.execute(
        select(col(AssessmentCycle.state)).where(col(AssessmentCycle.period_id) == period_id)
    ).scalar()
    if state == "published":
        code = session.execute(select(col(Period.code)).where(col(Period.id) == period_id)).scalar()
        raise EgovError(f"period {code} is published: its values and results can no longer change")


# --- what is shown ------------------------------------------------------------------------------
def _run_keys(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(
        select(col(EvaluationRun.id), col(EvaluationRun.run_key)).where(col(EvaluationRun.id).in_(ids))
    ).all()
    return {int(i): str(k) for i, k in rows}


def history(session: Session, cycle: AssessmentCycle) -> list[Event]:
    """Every event of a cycle, oldest first."""
    events = session.exec(
        select(CycleEvent).where(col(CycleEvent.cycle_id) == cycle.id).order_by(col(CycleEvent.id))
    ).all()
    keys = _run_keys(session, {e.run_id for e in events if e.run_id is not None})
    return [
        Event(e.at, e.actor, e.role, e.from_state, e.to_state, keys.get(e.run_id or -1), e.reason)
        for e in events
    ]


def cycle_status(session: Session, period: str) -> CycleStatus:
    """The cycle of `period` with its history."""
    cycle = get_cycle(session, period)
    keys = _run_keys(session, {i for i in (cycle.run_id, cycle.draft_run_id) if i is not None})
    return CycleStatus(
        period=period,
        state=cycle.state,
        run_key=keys.get(cycle.run_id or -1),
        draft_run_key=keys.get(cycle.draft_run_id or -1),
        review_days=cycle.review_days,
        review_opened=cycle.review_opened,
        review_deadline=cycle.review_deadline,
        next_moves=[(t, role) for (f, t), role in TRANSITIONS.items() if f == cycle.state],
        events=history(session, cycle),
    )


def all_cycles(session: Session) -> list[CycleStatus]:
    """Every cycle, the latest period first (without their histories)."""
    codes = session.execute(
        select(col(Period.code))
        .join(AssessmentCycle, col(AssessmentCycle.period_id) == col(Period.id))
        .order_by(col(Period.start).desc(), col(Period.code))
    ).scalars()
    statuses = [cycle_status(session, str(code)) for code in codes]
    for status in statuses:
        status.events = []
    return statuses


# --- who reads which run -------------------------------------------------------------------------
@dataclass(frozen=True)
class RunAccess:
    """What one key may read: `may_read(run_id)` the whole run (ranking, every department),
    `may_read(run_id, code)` the report of department `code`."""

    role: str
    department: str | None
    any_cycle: bool
    states: dict[int, str]

    def state(self, run_id: int | None) -> str | None:
        """The run's state in its cycle (`superseded` for a replaced draft), None outside."""
        return self.states.get(run_id or -1)

    def may_read(self, run_id: int | None, department: str | None = None) -> bool:
        if self.role in SEE_ALL:
            return True
        state = self.state(run_id)
        if state is None:  # outside any cycle: readable as before until a cycle exists
            if self.any_cycle:
                return False
            return self.role == "lead" or department in (None, self.department)
        if self.role == "lead":
            return state in ("final", "published")
        if self.role == "department" and self.department:
            if state == "published":
                return department in (None, self.department)
            return state == "review" and department == self.department
        return False

    def may_list(self, run_id: int | None) -> bool:
        """Listed for the key: it may read the run or its own department's report of it."""
        return self.may_read(run_id) or (
            self.department is not None and self.may_read(run_id, self.department)
        )


def run_access(session: Session, principal: Principal) -> RunAccess:
    """What `principal` may read (one query)."""
    rows = session.execute(
        select(col(AssessmentCycle.state), col(AssessmentCycle.run_id), col(AssessmentCycle.draft_run_id))
    ).all()
    states: dict[int, str] = {}
    for state, run_id, draft_id in rows:
        if draft_id is not None and draft_id != run_id:
            states[int(draft_id)] = SUPERSEDED
        if run_id is not None:
            states[int(run_id)] = str(state)
    return RunAccess(principal.role, principal.department_code, bool(rows), states)


def previous_published_run(session: Session, run: EvaluationRun) -> EvaluationRun | None:
    """The run a department's report compares a run with: `egov.store.previous_run` while the
    database has no cycle; once it has one, the latest published run of the same framework
    code for a period that ends before this run's period starts, so that an unpublished run
    never shows through a report that departments read."""
    if session.execute(select(col(AssessmentCycle.id)).limit(1)).first() is None:
        return previous_run(session, run)
    framework = session.get(FrameworkVersion, run.framework_id)
    period = session.get(Period, run.period_id)
    if framework is None or period is None:
        return None
    return session.exec(
        select(EvaluationRun)
        .join(AssessmentCycle, col(AssessmentCycle.run_id) == col(EvaluationRun.id))
        .join(FrameworkVersion, col(FrameworkVersion.id) == col(EvaluationRun.framework_id))
        .join(Period, col(Period.id) == col(EvaluationRun.period_id))
        .where(
            col(AssessmentCycle.state) == "published",
            col(FrameworkVersion.code) == framework.code,
            col(Period.end) < period.start,
        )
        .order_by(col(Period.start).desc(), col(EvaluationRun.id).desc())
    ).first()


@dataclass(frozen=True)
class ListedRun:
    """A run as listed: its key, period, framework, when, note and state (None outside a cycle)."""

    run: EvaluationRun
    period: str
    framework: str
    framework_version: str
    state: str | None


def listed_runs(session: Session, access: RunAccess, limit: int = 200) -> list[ListedRun]:
    """The newest runs the key may see (at most `limit`), newest first."""
    rows = session.execute(
        select(EvaluationRun, col(Period.code), col(FrameworkVersion.code), col(FrameworkVersion.version))
        .join(Period, col(Period.id) == col(EvaluationRun.period_id))
        .join(FrameworkVersion, col(FrameworkVersion.id) == col(EvaluationRun.framework_id))
        .order_by(col(EvaluationRun.id).desc())
        .limit(max(limit, 1) * 5)
    ).all()
    shown = [
        ListedRun(run, str(period), str(code), str(version), access.state(run.id))
        for run, period, code, version in rows
        if access.may_list(run.id)
    ]
    return shown[:limit]


def readable_run(
    session: Session, access: RunAccess, key: str, department: str | None = None
) -> EvaluationRun:
    """The run `key` (or the newest readable one for `latest`) if the key may read it (the
    whole run, or `department`'s report); an EgovError otherwise, the same as for a run that
    does not exist, so that an unpublished run is not disclosed."""
    if key == "latest":
        runs = session.exec(select(EvaluationRun).order_by(col(EvaluationRun.id).desc()).limit(1000)).all()
        for run in runs:
            if access.may_read(run.id, department):
                return run
        raise EgovError("no evaluation run stored yet")
    run = get_run(session, key)
    if not access.may_read(run.id, department):
        raise EgovError(f"no evaluation run '{key}'")
    return run
