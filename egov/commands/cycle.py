"""`egov cycle`: the assessment cycle of a period — open it (lead), move it one state (the role
that owns the move), publish it (lead), and show where it stands with its history.

The command line acts in a declared role: `--as lead|assessor`, else the setting EGOV_ROLE;
its name in the record is `cli:` + EGOV_OPERATOR (else the OS user)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from egov.clock import as_utc
from egov.commands.common import LangOpt, check_lang, console
from egov.commands.stored import database
from egov.cycle import (
    DEFAULT_REVIEW_DAYS,
    STATES,
    Actor,
    CycleStatus,
    advance,
    all_cycles,
    cycle_status,
    open_cycle,
    publish,
)
from egov.review import finalise
from reports.cycle import role_label, state_label
from reports.i18n import t

app = typer.Typer(
    help="The assessment cycle of a period: collecting → verifying → draft → review → final → published.",
    no_args_is_help=True,
)

PeriodArg = Annotated[str, typer.Argument(help="The period, e.g. 2025 or 2025Q4.")]
AsOpt = Annotated[
    str | None,
    typer.Option("--as", help="The role you act in: lead or assessor (default: the setting EGOV_ROLE)."),
]
ReasonOpt = Annotated[str, typer.Option("--reason", help="Why: recorded in the cycle's history.")]


def _moved(status: CycleStatus, frm: str, lang: str) -> None:
    console.print(
        t(
            "cycle.moved",
            lang,
            period=status.period,
            from_state=state_label(frm, lang),
            to_state=state_label(status.state, lang),
        )
    )


@app.command("open")
def open_cmd(
    period: PeriodArg,
    reason: Annotated[str, typer.Option("--reason", help="Why (optional): recorded in the history.")] = "",
    review_days: Annotated[
        int,
        typer.Option("--review-days", help="Macau working days the departments have to review their draft."),
    ] = DEFAULT_REVIEW_DAYS,
    acting: AsOpt = None,
    lang: LangOpt = None,
) -> None:
    """Open the assessment cycle of a period (the lead's): it starts collecting values.

    Example: egov cycle open 2025 --as lead --review-days 10
    """
    lang = check_lang(lang)
    with database() as session:
        open_cycle(session, period, Actor.of_cli(acting), reason, review_days)
    console.print(t("cycle.opened", lang, period=period, state=state_label("collecting", lang)))


@app.command("advance")
def advance_cmd(
    period: PeriodArg,
    to: Annotated[str, typer.Option("--to", help=f"The next state: {', '.join(STATES[1:5])}.")],
    reason: ReasonOpt,
    run: Annotated[
        str | None,
        typer.Option(
            "--run", help="The run the draft names (required with --to draft; with final: a new run)."
        ),
    ] = None,
    acting: AsOpt = None,
    lang: LangOpt = None,
) -> None:
    """Move a period's cycle one state (the assessor's moves; publishing is `egov cycle publish`).

    Example: egov cycle advance 2025 --to draft --run 3f2a9c1b7d4e --reason "all values verified" --as assessor
    """
    lang = check_lang(lang)
    with database() as session:
        frm = cycle_status(session, period).state
        if to == "final":  # closes the review: refused while an objection is open; its record stored
            finalise(session, period, Actor.of_cli(acting), reason, run)
        else:
            advance(session, period, to, Actor.of_cli(acting), reason, run)
        status = cycle_status(session, period)
    _moved(status, frm, lang)
    if status.review_deadline is not None and status.state == "review":
        console.print(f"{t('cycle.deadline', lang)}: {status.review_deadline.isoformat()}")


@app.command("publish")
def publish_cmd(period: PeriodArg, reason: ReasonOpt, acting: AsOpt = None, lang: LangOpt = None) -> None:
    """Approve the final run of a period for publication (the lead's): it becomes immutable.

    Example: egov cycle publish 2025 --reason "approved by the lead" --as lead
    """
    lang = check_lang(lang)
    with database() as session:
        publish(session, period, Actor.of_cli(acting), reason)
        status = cycle_status(session, period)
    _moved(status, "final", lang)


@app.command("status")
def status_cmd(
    period: Annotated[str | None, typer.Argument(help="The period (default: every cycle).")] = None,
    lang: LangOpt = None,
) -> None:
    """Where the cycle of a period stands (state, runs, review deadline, next step) and its
    history; without a period, every cycle.

    Example: egov cycle status 2025 --lang en
    """
    lang = check_lang(lang)
    with database() as session:
        statuses = [cycle_status(session, period)] if period else all_cycles(session)
    if not statuses:
        console.print(t("cycle.none", lang))
    for status in statuses:
        _print_status(status, lang)


def _review_window(status: CycleStatus, lang: str) -> str:
    days = t("cycle.review_days", lang, n=status.review_days)
    if status.review_opened is None or status.review_deadline is None:
        return days
    dates = t("cycle.review_dates", lang, start=status.review_opened, deadline=status.review_deadline)
    return f"{days}: {dates}"


def _print_status(status: CycleStatus, lang: str) -> None:
    table = Table(title=t("cycle.title", lang, period=status.period), show_header=False)
    table.add_column(t("cycle.state", lang))
    table.add_column("", overflow="fold")
    nexts = "; ".join(
        t("cycle.next_move", lang, state=state_label(to, lang), role=role_label(role, lang))
        for to, role in status.next_moves
    )
    for key, value in (
        ("cycle.state", state_label(status.state, lang)),
        ("cycle.run", status.run_key or "—"),
        ("cycle.draft_run", status.draft_run_key or "—"),
        ("cycle.review_window", _review_window(status, lang)),
        ("cycle.next", nexts or t("cycle.no_next", lang)),
    ):
        table.add_row(t(key, lang), value)
    console.print(table)
    if not status.events:
        return
    events = Table(title=t("cycle.history", lang))
    for key in ("when", "who", "role", "from", "to", "run", "reason"):
        events.add_column(t(f"cycle.{key}", lang), overflow="fold")
    for e in status.events:
        events.add_row(
            as_utc(e.at).strftime("%Y-%m-%d %H:%M UTC"),
            e.actor,
            role_label(e.role, lang),
            state_label(e.from_state, lang) if e.from_state else "—",
            state_label(e.to_state, lang),
            e.run_key or "—",
            e.reason or "—",
        )
    console.print(events)
