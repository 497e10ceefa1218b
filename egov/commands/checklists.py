"""`egov checklist`: the assessor's service checks (mystery shopping) — the workbook of a period,
its all-or-nothing import (the assessor only: `--as assessor` or EGOV_ROLE) and the current
answers (docs/assessment.md, "Service checks")."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from egov.checklists import answers, checklist_template, import_checklists
from egov.commands.common import LangOpt, check_lang, console, out_option
from egov.commands.stored import database
from egov.cycle import Actor
from egov.imports import framework_for_import
from egov.store import operator_name
from egov.template import write_template
from reports.checklists import words

app = typer.Typer(
    help="The assessor's service checks (mystery shopping): template, import, show.", no_args_is_help=True
)

PeriodArg = Annotated[str, typer.Argument(help="The period, e.g. 2025 or 2025Q4.")]
FrameworkOpt = Annotated[
    str | None,
    typer.Option(help="Framework file or built-in name (default: the latest stored one, else macau)."),
]


@app.command("template")
def template_cmd(
    period: PeriodArg,
    out: Annotated[Path, out_option("Workbook to write (.xlsx).")],
    framework: FrameworkOpt = None,
    lang: LangOpt = None,
) -> None:
    """Write the checklist workbook of a period: one row per object × item of every checklist
    of the framework, headers in the three languages, answers validated (yes / no / n/a, or points).

    Example: egov checklist template 2025 --out checks-2025.xlsx
    """
    lang = check_lang(lang)
    with database() as session:
        fw = framework_for_import(session, framework)
        wb = checklist_template(session, fw, period, lang, operator_name())
    write_template(wb, out)
    rows = max(ws.max_row - 2 for ws in wb.worksheets if ws.sheet_state == "visible")
    console.print(words("wrote", lang, out=out, framework=fw.code, period=period, rows=rows))


@app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(help="The filled checklist workbook (.xlsx).")],
    period: Annotated[str, typer.Option("--period", help="Period code of the checks, e.g. 2025.")],
    framework: FrameworkOpt = None,
    role: Annotated[
        str | None, typer.Option("--as", help="The role you act in: only the assessor fills checklists.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate and report, but write nothing.")
    ] = False,
    lang: LangOpt = None,
) -> None:
    """Import the assessor's answers after validating the whole workbook; any problem (named
    by sheet and cell) → nothing is written. Refused in a published period.

    Example: egov checklist import checks-2025.xlsx --period 2025 --as assessor
    """
    lang = check_lang(lang)
    actor = Actor.of_cli(role)
    with database() as session:
        fw = framework_for_import(session, framework)
        report = import_checklists(session, file, period, fw, actor, dry_run=dry_run)
    fill = {
        "file": report.file,
        "n": len(report.answers),
        "objects": len({a.object for a in report.answers}),
        "period": report.period,
        "superseded": report.superseded,
    }
    console.print(words("dry_run" if report.dry_run else "imported", lang, **fill))


@app.command("show")
def show_cmd(
    period: PeriodArg,
    obj: Annotated[str | None, typer.Option("--object", help="Only this assessed object.")] = None,
    lang: LangOpt = None,
) -> None:
    """The current checklist answers of a period, with who answered, when and from where.

    Example: egov checklist show 2025 --object ONE_ACCOUNT
    """
    lang = check_lang(lang)
    with database() as session:
        rows = answers(session, period, obj)
    if not rows:
        console.print(words("none", lang, period=period))
        return
    table = Table(title=words("title", lang, period=period))
    for key in ("object", "checklist", "item", "answer", "note", "evidence", "by", "at", "where"):
        table.add_column(words(f"col.{key}", lang), overflow="fold")
    for a in rows:
        when = f"{a.answered_at:%Y-%m-%d %H:%M}"
        table.add_row(
            a.object, a.checklist, a.item, a.answer, a.note, a.evidence, a.answered_by, when, a.where
        )
    console.print(table)
