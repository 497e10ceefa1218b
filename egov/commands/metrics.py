"""Metric collection: `egov template` (the Excel workbook departments fill in), `egov import`
(validated, all-or-nothing imports of metric values and the register) and `egov metrics
history` (every stored value with its provenance)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from egov.commands.common import LangOpt, check_lang, console, database, out_option
from egov.imports import framework_for_import, import_metrics, import_register
from egov.store import check_period_code, metric_history, operator_name
from egov.template import build_template, template_objects, write_template

import_app = typer.Typer(
    help="Validated, all-or-nothing imports: metric values and the register.", no_args_is_help=True
)
metrics_app = typer.Typer(help="Stored metric values and their provenance.", no_args_is_help=True)

DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Validate and report everything, but write nothing.")
]


def template_cmd(
    period: Annotated[str, typer.Option("--period", help="Period code the values are for, e.g. 2024.")],
    out: Annotated[Path, out_option("Workbook to write (.xlsx).")],
    framework: Annotated[
        str | None,
        typer.Option(help="Framework file or built-in name (default: the latest stored one, else macau)."),
    ] = None,
    lang: LangOpt = None,
) -> None:
    """Write the Excel workbook in which departments report metric values: one sheet per
    category, a row per assessed object, a validated column per metric indicator.

    Example: egov template --period 2024 --lang zh-Hant --out metrics-2024.xlsx
    """
    lang = check_lang(lang)
    with database() as session:
        check_period_code(session, period)
        fw = framework_for_import(session, framework)
        objects = template_objects(session, lang)
    wb = build_template(fw, objects, period, lang, operator_name())
    write_template(wb, out)
    sheets = [ws.title for ws in wb.worksheets if ws.sheet_state == "visible"][1:]
    console.print(
        f"wrote {out}: framework {fw.code} {fw.version}, period {period}, {len(objects)} objects, "
        f"sheets: {', '.join(sheets)}"
    )


@import_app.command("metrics")
def import_metrics_cmd(
    file: Annotated[Path, typer.Argument(help="The filled template (.xlsx) or a CSV, long or wide.")],
    period: Annotated[str, typer.Option("--period", help="Period code of the values, e.g. 2024.")],
    framework: Annotated[
        str | None,
        typer.Option(help="Framework file or built-in name (default: the latest stored one, else macau)."),
    ] = None,
    dry_run: DryRunOpt = False,
) -> None:
    """Import metric values after validating the whole file; any problem → nothing is written.

    A re-import supersedes the current values and keeps them in the history.
    Example: egov import metrics metrics-2024.xlsx --period 2024 --dry-run
    """
    with database() as session:
        fw = framework_for_import(session, framework)
        report = import_metrics(session, file, period, fw, dry_run=dry_run)
    for note in report.notes:
        console.print(f"note: {note}")
    n_obj = len({v["object"] for v in report.values})
    what = f"{len(report.values)} values for {n_obj} objects ({report.layout}, sha256 {report.sha256[:12]})"
    if report.dry_run:
        console.print(
            f"dry run: {report.file} is valid — {what} would be imported into period {report.period}, "
            f"superseding {report.superseded} current values; nothing was written"
        )
    else:
        console.print(
            f"imported {report.file}: {what} into period {report.period}; "
            f"{report.superseded} earlier values superseded (kept in the history)"
        )


@import_app.command("departments")
def import_departments_cmd(
    file: Annotated[
        Path, typer.Argument(help="Register: TOML (like macau_register.toml), or a CSV/XLSX table.")
    ],
    dry_run: DryRunOpt = False,
) -> None:
    """Import the register of peer groups, departments and assessed objects (kind, subkind)
    after validating the whole file; any problem → nothing is written.

    Table columns: type (peer_group|department|object), code, name_zh-Hant, name_pt, name_en,
    peer_group, department, kind, subkind, note.
    Example: egov import departments register.csv
    """
    with database() as session:
        report = import_register(session, file, dry_run=dry_run)
    parts = ", ".join(f"{n} {k.replace('_', ' ')} ({report.new[k]} new)" for k, n in report.counts.items())
    if report.dry_run:
        console.print(f"dry run: {report.file} is valid — {parts}; nothing was written")
    else:
        console.print(f"imported {report.file}: {parts}")


@metrics_app.command("history")
def metrics_history_cmd(
    obj: Annotated[str, typer.Argument(metavar="OBJECT", help="Assessed object code, e.g. ONE_ACCOUNT.")],
    indicator: Annotated[str, typer.Argument(help="Indicator code, e.g. app_takeup.")],
    period: Annotated[str | None, typer.Option("--period", help="Only this period.")] = None,
) -> None:
    """Every value ever stored for an object's indicator — current and superseded — with its
    provenance (file, SHA-256, sheet, cell, importer, time).

    Example: egov metrics history ONE_ACCOUNT app_takeup --period 2023
    """
    with database() as session:
        rows = metric_history(session, obj, indicator, period)
    if rows.empty:
        console.print(
            f"no values stored for {obj} / {indicator}" + (f" in period {period}" if period else "")
        )
        return
    table = Table(title=f"History of {obj} / {indicator}")
    for c in (
        "period",
        "value",
        "status",
        "state",
        "file",
        "sha256",
        "sheet!cell",
        "imported by",
        "imported at",
    ):
        table.add_column(c, overflow="fold")
    for rec in rows.to_dict("records"):
        state = "current" if rec["current"] else f"superseded {rec['superseded_at']:%Y-%m-%d %H:%M:%S}"
        where = f"{rec['sheet']}!{rec['cell']}" if rec["sheet"] else str(rec["cell"])
        value = rec["value"]
        table.add_row(
            str(rec["period"]),
            "" if value is None or value != value else f"{value:g}",
            str(rec["status"]),
            state,
            str(rec["source_file"]),
            str(rec["source_hash"])[:12],
            where,
            str(rec["imported_by"]),
            f"{rec['imported_at']:%Y-%m-%d %H:%M:%S}",
        )
    console.print(table)
