"""Metric collection: `egov template` (the Excel workbook departments fill in), `egov import`
(validated, all-or-nothing imports of metric values and the register) and `egov metrics
history` (every stored value with its provenance)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from egov.commands.common import LangOpt, check_lang, console, out_option
from egov.commands.labels import t
from egov.commands.labels_ops import counted
from egov.commands.stored import database
from egov.imports import framework_for_import, import_metrics, import_register
from egov.imports.services import import_services
from egov.store import check_period_code, metric_history, operator_name
from egov.template import build_template, template_objects, write_template
from reports.texts import note_text

import_app = typer.Typer(
    help="Validated, all-or-nothing imports: metric values, the register and the service-item catalogue.",
    no_args_is_help=True,
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
    values = {"code": fw.code, "version": fw.version, "period": period, "objects": len(objects)}
    console.print(t("cli.template.wrote", lang, out=out, sheets=", ".join(sheets), **values), markup=False)


@import_app.command("metrics")
def import_metrics_cmd(
    file: Annotated[Path, typer.Argument(help="The filled template (.xlsx) or a CSV, long or wide.")],
    period: Annotated[str, typer.Option("--period", help="Period code of the values, e.g. 2024.")],
    framework: Annotated[
        str | None,
        typer.Option(help="Framework file or built-in name (default: the latest stored one, else macau)."),
    ] = None,
    dry_run: DryRunOpt = False,
    lang: LangOpt = None,
) -> None:
    """Import metric values after validating the whole file; any problem → nothing is written.

    A re-import supersedes the current values and keeps them in the history.
    Example: egov import metrics metrics-2024.xlsx --period 2024 --dry-run
    """
    lang = check_lang(lang)
    with database() as session:
        fw = framework_for_import(session, framework)
        report = import_metrics(session, file, period, fw, dry_run=dry_run)
    for note in report.notes:
        console.print(note_text(note, lang), markup=False)
    n_obj = len({v["object"] for v in report.values})
    what = t(
        "cli.import.what",
        lang,
        n=len(report.values),
        objects=n_obj,
        layout=report.layout,
        sha=report.sha256[:12],
    )
    said = {"file": report.file, "what": what, "period": report.period, "superseded": report.superseded}
    key = "cli.import.dry_metrics" if report.dry_run else "cli.import.metrics"
    console.print(t(key, lang, **said), markup=False)


@import_app.command("departments")
def import_departments_cmd(
    file: Annotated[
        Path, typer.Argument(help="Register: TOML (like macau_register.toml), or a CSV/XLSX table.")
    ],
    dry_run: DryRunOpt = False,
    lang: LangOpt = None,
) -> None:
    """Import the register of peer groups, departments and assessed objects (kind, subkind)
    after validating the whole file; any problem → nothing is written.

    Table columns: type (peer_group|department|object), code, name_zh-Hant, name_pt, name_en,
    peer_group, department, kind, subkind, note.
    Example: egov import departments register.csv
    """
    lang = check_lang(lang)
    with database() as session:
        report = import_register(session, file, dry_run=dry_run)
    parts = ", ".join(
        t("cli.import.part", lang, counted=counted(k, n, lang), new=report.new[k])
        for k, n in report.counts.items()
    )
    key = "cli.import.dry_register" if report.dry_run else "cli.import.register"
    console.print(t(key, lang, file=report.file, parts=parts), markup=False)


@import_app.command("services")
def import_services_cmd(
    file: Annotated[Path, typer.Argument(help="Catalogue file: .toml, .csv or .xlsx.")],
    dry_run: DryRunOpt = False,
    lang: LangOpt = None,
) -> None:
    """Import the service-item catalogue (事項) after validating the whole file; any problem →
    nothing is written. Items named again are edited in place; items not named stay as they are
    (set active = false to withdraw one). The register must be imported first.

    Table columns: code, name_zh-Hant, name_pt, name_en, department, channels (app web counter
    kiosk hotline, separated by , ; or spaces), objects, active, note.
    Example: egov import services egov/data/macau_services.toml --dry-run
    """
    lang = check_lang(lang)
    with database() as session:
        r = import_services(session, file, dry_run=dry_run)
    key = "services.import.dry" if r.dry_run else "services.import.done"
    console.print(t(key, lang, file=r.file, count=r.count, new=r.new, changed=r.changed), markup=False)


@metrics_app.command("history")
def metrics_history_cmd(
    obj: Annotated[str, typer.Argument(metavar="OBJECT", help="Assessed object code, e.g. ONE_ACCOUNT.")],
    indicator: Annotated[str, typer.Argument(help="Indicator code, e.g. app_takeup.")],
    period: Annotated[str | None, typer.Option("--period", help="Only this period.")] = None,
    lang: LangOpt = None,
) -> None:
    """Every value ever stored for an object's indicator — current and superseded — with its
    provenance (file, SHA-256, sheet, cell, importer, time).

    Example: egov metrics history ONE_ACCOUNT app_takeup --period 2023
    """
    lang = check_lang(lang)
    with database() as session:
        rows = metric_history(session, obj, indicator, period)
    if rows.empty:
        where = t("cli.history.in_period", lang, period=period) if period else ""
        console.print(t("cli.history.none", lang, obj=obj, indicator=indicator, where=where), markup=False)
        return
    table = Table(title=t("cli.history.title", lang, obj=obj, indicator=indicator))
    heads = [t("cli.runs.col.period", lang), t("cli.col.value", lang)]
    heads += [t(f"cli.history.col.{c}", lang) for c in ("status", "state", "file")]
    heads += ["sha256", *(t(f"cli.history.col.{c}", lang) for c in ("cell", "imported_by", "imported_at"))]
    for c in heads:
        table.add_column(c, overflow="fold")
    for rec in rows.to_dict("records"):
        state = (
            t("cli.history.current", lang)
            if rec["current"]
            else t("cli.history.superseded", lang, at=f"{rec['superseded_at']:%Y-%m-%d %H:%M:%S}")
        )
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
