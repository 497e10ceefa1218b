"""`egov values`: the metric values of a period with their status and evidence (list), the
assessor's decisions (verify, adjust, reject, dispute), and evidence (evidence add, evidence
list). A value is named by `--id`, or by PERIOD with `--object` and `--indicator`.

The command line acts in a declared role (`--as`, else EGOV_ROLE): the decisions are the
assessor's; evidence may be added as the assessor or as a department (`--as department
--department CODE`, its own objects only)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from egov.cells import plain_number
from egov.commands.common import LangOpt, check_lang, console
from egov.commands.stored import database
from egov.cycle import Actor
from egov.evidence import Caller, add_file, add_reference, evidence_of, read_file
from egov.langs import unit_name
from egov.values import STATUSES, find_value, list_values, review
from reports.i18n import t
from reports.values import status_label

app = typer.Typer(
    help="Metric values with their status and evidence; the assessor's decisions.", no_args_is_help=True
)
evidence_app = typer.Typer(
    help="Evidence of metric values: files (stored by SHA-256) or references.", no_args_is_help=True
)
app.add_typer(evidence_app, name="evidence")

PeriodArg = Annotated[
    str | None, typer.Argument(help="The period, e.g. 2025 (with --object and --indicator).")
]
IdOpt = Annotated[int | None, typer.Option("--id", help="The value's id (egov values list).")]
ObjectOpt = Annotated[str | None, typer.Option("--object", help="The assessed object's code.")]
IndicatorOpt = Annotated[str | None, typer.Option("--indicator", help="The indicator's code.")]
AsOpt = Annotated[
    str | None, typer.Option("--as", help="The role you act in (default: the setting EGOV_ROLE).")
]
ReasonOpt = Annotated[
    str, typer.Option("--reason", help="Why: recorded with the decision and in the audit trail.")
]


def _decide(
    action: str,
    period: str | None,
    value_id: int | None,
    obj: str | None,
    indicator: str | None,
    reason: str,
    acting: str | None,
    lang: str | None,
    new_value: float | None = None,
) -> None:
    lang = check_lang(lang)
    with database() as session:
        value = find_value(session, value_id, period, obj, indicator)
        old_id = value.id
        result = review(session, value, action, Actor.of_cli(acting), reason, new_value)
        if action == "adjust":
            shown = t("values.adjusted", lang, id=old_id, value=plain_number(result.value), new_id=result.id)
        else:
            shown = t("values.reviewed", lang, id=result.id, status=status_label(result.status, lang))
    console.print(shown)


@app.command("verify")
def verify_cmd(
    period: PeriodArg = None,
    value_id: IdOpt = None,
    obj: ObjectOpt = None,
    indicator: IndicatorOpt = None,
    reason: Annotated[str, typer.Option("--reason", help="Why (optional): recorded with the decision.")] = "",
    acting: AsOpt = None,
    lang: LangOpt = None,
) -> None:
    """Verify a submitted (or disputed) value (the assessor's).

    Example: egov values verify 2025 --object GOV_CLOUD --indicator infra_uptime --as assessor
    """
    _decide("verify", period, value_id, obj, indicator, reason, acting, lang)


@app.command("adjust")
def adjust_cmd(
    new_value: Annotated[float, typer.Option("--value", help="The value the assessor sets.")],
    reason: ReasonOpt,
    period: PeriodArg = None,
    value_id: IdOpt = None,
    obj: ObjectOpt = None,
    indicator: IndicatorOpt = None,
    acting: AsOpt = None,
    lang: LangOpt = None,
) -> None:
    """Adjust a value (the assessor's): a new value with a reason; the original is kept.

    Example: egov values adjust --id 12 --value 99.5 --reason "log shows 99.5 %" --as assessor
    """
    _decide("adjust", period, value_id, obj, indicator, reason, acting, lang, new_value)


@app.command("reject")
def reject_cmd(
    reason: ReasonOpt,
    period: PeriodArg = None,
    value_id: IdOpt = None,
    obj: ObjectOpt = None,
    indicator: IndicatorOpt = None,
    acting: AsOpt = None,
    lang: LangOpt = None,
) -> None:
    """Reject a value (the assessor's): it is never scored.

    Example: egov values reject --id 12 --reason "no evidence" --as assessor
    """
    _decide("reject", period, value_id, obj, indicator, reason, acting, lang)


@app.command("dispute")
def dispute_cmd(
    reason: ReasonOpt,
    period: PeriodArg = None,
    value_id: IdOpt = None,
    obj: ObjectOpt = None,
    indicator: IndicatorOpt = None,
    acting: AsOpt = None,
    lang: LangOpt = None,
) -> None:
    """Mark a value disputed (the assessor's): scored as the framework's rule says.

    Example: egov values dispute --id 12 --reason "figure contested" --as assessor
    """
    _decide("dispute", period, value_id, obj, indicator, reason, acting, lang)


@app.command("list")
def list_cmd(
    period: Annotated[str, typer.Argument(help="The period, e.g. 2025.")],
    status: Annotated[
        str | None, typer.Option("--status", help=f"Only values of this status: {', '.join(STATUSES)}.")
    ] = None,
    department: Annotated[
        str | None, typer.Option("--department", help="Only this department's values.")
    ] = None,
    lang: LangOpt = None,
) -> None:
    """List a period's current values with their status and evidence count.

    Example: egov values list 2025 --status submitted
    """
    lang = check_lang(lang)
    with database() as session:
        rows = list_values(session, period, status, department)
    if not rows:
        console.print(t("values.none", lang))
        return
    table = Table(title=t("values.title", lang, period=period))
    for key in ("id", "department", "object", "indicator", "value", "unit", "status", "evidence"):
        table.add_column(t(f"values.{key}", lang))
    for r in rows:
        shown = "" if r.value is None else plain_number(r.value)
        table.add_row(
            str(r.id),
            r.department,
            r.object,
            r.indicator,
            shown,
            unit_name(r.unit, lang),
            status_label(r.status, lang),
            str(r.evidence),
        )
    console.print(table)


@evidence_app.command("add")
def evidence_add_cmd(
    ids: Annotated[list[int], typer.Option("--id", help="A value's id (repeat for several values).")],
    file: Annotated[
        Path | None, typer.Option("--file", help="An evidence file (pdf, png, jpg, xlsx, docx, csv, txt).")
    ] = None,
    reference: Annotated[
        str | None, typer.Option("--reference", help="A URL or a document reference.")
    ] = None,
    note: Annotated[str, typer.Option("--note", help="A short note.")] = "",
    acting: AsOpt = None,
    department: Annotated[
        str | None, typer.Option("--department", help="With --as department: its code.")
    ] = None,
    lang: LangOpt = None,
) -> None:
    """Attach evidence (a file or a reference) to one or more values.

    Example: egov values evidence add --id 12 --id 13 --file uptime-2025.pdf --as assessor
    """
    lang = check_lang(lang)
    if (file is None) == (reference is None):
        raise typer.BadParameter("give either --file or --reference")
    with database() as session:
        caller = Caller.of_cli(acting, department)
        values = [find_value(session, i) for i in ids]
        if file is not None:
            row = add_file(session, values, read_file(file), file.name, caller, note)
        else:
            row = add_reference(session, values, reference or "", caller, note)
        shown = t("values.evidence_added", lang, id=row.id, kind=row.kind, n=len(values))
    console.print(shown)


@evidence_app.command("list")
def evidence_list_cmd(
    value_id: Annotated[int, typer.Option("--id", help="The value's id.")],
    lang: LangOpt = None,
) -> None:
    """List the evidence attached to a value.

    Example: egov values evidence list --id 12
    """
    lang = check_lang(lang)
    with database() as session:
        find_value(session, value_id)
        rows = evidence_of(session, [value_id])
    table = Table(title=t("values.evidence_title", lang, id=value_id))
    for key in ("id", "kind", "what", "added_by"):
        table.add_column(t(f"values.{key}", lang))
    for _, e in rows:
        what = f"{e.filename} ({e.size:,} B, sha256 {e.sha256[:12]}…)" if e.kind == "file" else e.reference
        table.add_row(str(e.id), e.kind, what, e.added_by)
    console.print(table)
