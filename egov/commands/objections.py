"""`egov objections`: the department review of a draft — a department's objections to its own
values or results (raised by an operator acting for it), the assessor's answers, the move to
the final run that records what changed, and the summary the public site shows.

The command line acts in a declared role, as `egov cycle` does: `--as assessor`, or `--as
department --department CODE` for an operator acting for a department, else the setting
EGOV_ROLE; its name in the record is `cli:` + EGOV_OPERATOR (else the OS user)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from egov.commands.common import LangOpt, check_lang, console
from egov.commands.stored import database
from egov.cycle import Actor
from egov.objections import (
    OBJECTION_STATES,
    Caller,
    ObjectionView,
    answer_objection,
    list_objections,
    raise_objection,
)
from egov.review import ReviewSummary, draft_view, finalise, review_summary
from reports.i18n import t
from reports.objections import objection_state, objection_target, objection_what, shown_value

app = typer.Typer(
    help="Objections of the departments to their draft, the assessor's answers and the review's record.",
    no_args_is_help=True,
)

PeriodArg = Annotated[str, typer.Argument(help="The period, e.g. 2025 or 2025Q4.")]
AsOpt = Annotated[
    str | None,
    typer.Option(
        "--as", help="The role you act in: assessor, or department with --department (default: EGOV_ROLE)."
    ),
]
DeptOpt = Annotated[
    str | None, typer.Option("--department", help="The department you act for (with --as department).")
]


@app.command("raise")
def raise_cmd(
    period: PeriodArg,
    text: Annotated[str, typer.Option("--text", help="The objection: what is wrong and why.")],
    object_code: Annotated[str | None, typer.Option("--object", help="A value: the object's code.")] = None,
    indicator: Annotated[
        str | None, typer.Option("--indicator", help="A value: the indicator's code.")
    ] = None,
    node: Annotated[
        str | None, typer.Option("--node", help="A result: the node (index, category, dimension, indicator).")
    ] = None,
    aspect: Annotated[str, typer.Option("--aspect", help="A result: score or rank.")] = "score",
    evidence: Annotated[str, typer.Option("--evidence", help="Evidence: a reference text or URL.")] = "",
    evidence_ref: Annotated[
        str, typer.Option("--evidence-ref", help="A stored evidence file's reference, if any.")
    ] = "",
    acting: AsOpt = None,
    department: DeptOpt = None,
    lang: LangOpt = None,
) -> None:
    """Raise a department's objection to a value or a result of its draft (during the review).

    Example: egov objections raise 2025 --as department --department SAFP --object ONE_ACCOUNT
    --indicator app_takeup --text "the take-up excludes counter visits" --evidence https://example.org/stats
    """
    lang = check_lang(lang)
    caller = Caller.of_cli(acting, department)
    with database() as session:
        view = raise_objection(
            session,
            period,
            caller,
            text,
            object_code=object_code,
            indicator=indicator,
            node=node,
            aspect=aspect if node else None,
            evidence=evidence,
            evidence_ref=evidence_ref,
        )
    what = objection_what(view.target, view.what, view.aspect, lang)
    console.print(
        t("objection.raised", lang, id=view.id, period=period, department=view.department, what=what)
    )


@app.command("list")
def list_cmd(
    period: Annotated[str | None, typer.Argument(help="The period (default: every period).")] = None,
    state: Annotated[
        str | None,
        typer.Option("--state", help=f"Only objections in this state: {'|'.join(OBJECTION_STATES)}."),
    ] = None,
    acting: AsOpt = None,
    department: DeptOpt = None,
    lang: LangOpt = None,
) -> None:
    """List the objections you may see (a department its own; the assessor all), oldest first.

    Example: egov objections list 2025 --state open --as assessor
    """
    lang = check_lang(lang)
    with database() as session:
        views = list_objections(session, Caller.of_cli(acting, department), period, state)
    if not views:
        console.print(t("objection.none", lang))
        return
    table = Table(title=t("objection.list_title", lang, period=period or t("objection.all_periods", lang)))
    for key in ("id", "period", "department", "target", "what", "draft_value", "text", "evidence"):
        table.add_column(t(f"objection.{key}", lang), overflow="fold")
    for key in ("state", "reason", "new_value"):
        table.add_column(t(f"objection.{key}", lang), overflow="fold")
    for v in views:
        table.add_row(*_row(v, lang))
    console.print(table)


def _row(v: ObjectionView, lang: str) -> list[str]:
    evidence = " ".join(x for x in (v.evidence, v.evidence_ref) if x) or "—"
    new = "—"
    if v.new_value is not None:
        new = f"{v.value_object} · {v.value_indicator}: {shown_value(v.new_value, v.unit, 'value', '', lang)}"
    return [
        str(v.id),
        v.period,
        v.department,
        objection_target(v.target, lang),
        objection_what(v.target, v.what, v.aspect, lang),
        shown_value(v.draft_value, v.unit, v.target, v.aspect, lang),
        v.text,
        evidence,
        objection_state(v.state, lang),
        v.reason or "—",
        new,
    ]


@app.command("answer")
def answer_cmd(
    objection_id: Annotated[int, typer.Argument(help="The objection's number (egov objections list).")],
    reason: Annotated[str, typer.Option("--reason", help="Why: recorded with the answer.")],
    accept: Annotated[
        bool, typer.Option("--accept/--reject", help="Accept (the value changes) or reject the objection.")
    ],
    value: Annotated[
        float | None, typer.Option("--value", help="Accepted: the new value, in the indicator's unit.")
    ] = None,
    object_code: Annotated[
        str | None, typer.Option("--object", help="A result objection: the object whose value changes.")
    ] = None,
    indicator: Annotated[
        str | None, typer.Option("--indicator", help="A result objection: the indicator whose value changes.")
    ] = None,
    acting: AsOpt = None,
    lang: LangOpt = None,
) -> None:
    """Answer an objection (the assessor's, during the review): accept it with the new value, or
    reject it; always with a reason. The old value stays in the history.

    Example: egov objections answer 3 --accept --value 61.5 --reason "counter visits counted" --as assessor
    """
    lang = check_lang(lang)
    with database() as session:
        v = answer_objection(
            session, objection_id, Caller.of_cli(acting), accept, reason, value, object_code, indicator
        )
    console.print(t("objection.answered", lang, id=v.id, state=objection_state(v.state, lang)))
    if v.new_value is not None:
        shown = shown_value(v.new_value, v.unit, "value", "", lang)
        console.print(
            t("objection.value_set", lang, object=v.value_object, indicator=v.value_indicator, value=shown)
        )


@app.command("final")
def final_cmd(
    period: PeriodArg,
    reason: Annotated[str, typer.Option("--reason", help="Why: recorded in the cycle's history.")],
    run: Annotated[
        str | None, typer.Option("--run", help="The new final run (default: the draft stays the final).")
    ] = None,
    acting: AsOpt = None,
    lang: LangOpt = None,
) -> None:
    """Close the review (the assessor's): review → final once every objection is answered, and
    record what changed since the draft (the runs' diff) with the objection log.

    Example: egov objections final 2025 --run 9c1b7d4e3f2a --reason "objections answered" --as assessor
    """
    lang = check_lang(lang)
    with database() as session:
        finalise(session, period, Actor.of_cli(acting), reason, run)
        summary = review_summary(session, period)
    console.print(t("objection.finalised", lang, period=period))
    _print_summary(summary, lang)


@app.command("summary")
def summary_cmd(period: PeriodArg, lang: LangOpt = None) -> None:
    """The review of a final or published period as the public site shows it: counts by state,
    each objection (department, what, answer, reason) and how much the final run changed.

    Example: egov objections summary 2025 --lang pt
    """
    lang = check_lang(lang)
    with database() as session:
        summary = review_summary(session, period)
    _print_summary(summary, lang)


def _print_summary(s: ReviewSummary, lang: str) -> None:
    console.print(t("objection.runs", lang, draft=s.draft_run or "—", final=s.final_run or "—"))
    console.print(t("objection.changes", lang, inputs=s.inputs_changed, results=s.results_changed))
    counts = Table(title=t("objection.summary_title", lang, period=s.period))
    counts.add_column(t("objection.state", lang))
    counts.add_column(t("objection.count", lang), justify="right")
    for state, n in s.counts.items():
        counts.add_row(objection_state(state, lang), str(n))
    counts.add_row(t("objection.total", lang), str(sum(s.counts.values())))
    console.print(counts)
    if not s.items:
        return
    table = Table()
    for key in ("department", "target", "what", "answer", "reason"):
        table.add_column(t(f"objection.{key}", lang), overflow="fold")
    for item in s.items:
        table.add_row(
            item.department,
            objection_target(item.target, lang),
            objection_what(item.target, item.what, item.aspect, lang),
            objection_state(item.state, lang),
            item.reason or "—",
        )
    console.print(table)


@app.command("draft")
def draft_cmd(
    period: PeriodArg, department: DeptOpt = None, acting: AsOpt = None, lang: LangOpt = None
) -> None:
    """A department's own draft during the review: its score and rank at every node.

    Example: egov objections draft 2025 --as department --department SAFP
    """
    lang = check_lang(lang)
    with database() as session:
        view = draft_view(session, period, Caller.of_cli(acting, department))
    title = t(
        "objection.draft_title",
        lang,
        department=view.department,
        period=view.period,
        deadline=view.review_deadline or "—",
    )
    table = Table(title=title)
    for key in ("node", "score", "rank"):
        table.add_column(t(f"objection.{key}", lang))
    for r in view.results:
        rank = "—" if r.rank is None else shown_value(r.rank, "", "result", "rank", lang)
        table.add_row(r.node, shown_value(r.score, "", "result", "score", lang), rank)
    console.print(table)
