"""`egov report`: the assessor's report of a stored run, or the department reports."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from egov.commands.common import check_lang, console, err, lang_option, out_option
from egov.commands.labels import t
from egov.commands.stored import database
from egov.store import get_run
from reports.assessor import write_reports
from reports.department import write_department_report, write_department_reports


def report_cmd(
    run: Annotated[str, typer.Argument(help="Run key, or 'latest' for the most recent run.")],
    out: Annotated[Path, out_option("Folder for the HTML report and the Excel workbook.")] = Path(
        "egov-output"
    ),
    lang: Annotated[
        str | None,
        lang_option(
            "Language of every label, heading and chart: zh-Hant, pt or en (default: EGOV_LANG, else zh-Hant)."
        ),
    ] = None,
    mc: Annotated[
        int, typer.Option("--mc", help="Monte Carlo replications for the rank intervals (0: none).")
    ] = 200,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the Monte Carlo.")] = 1,
    department: Annotated[
        str | None,
        typer.Option(
            "--department",
            help="Write the department report of this department code instead (or 'all': one per department).",
        ),
    ] = None,
) -> None:
    """Write the assessor's report of a stored run: a self-contained HTML file that opens with
    no network (methodology, weights, data coverage and flags, overall and category rankings
    with rank intervals, coherence) and the Excel workbook (summary, a sheet per category,
    indicator data with provenance and flags, weights, methodology). With --department, the
    one-page department report instead: standing overall and per category against all
    departments and the peer group, strengths and weaknesses, priorities, change since the
    last period and why, citizen ratings and open bad-rating cases.

    Example: egov report latest --out reports/ --lang pt
    Example: egov report latest --department SAFP --out reports/
    """
    lang = check_lang(lang)
    with database() as session, err.status(t("cli.report.writing", lang)):
        found = get_run(session, None if run == "latest" else run)
        if department == "all":
            paths = write_department_reports(session, found, out, lang)
        elif department:
            paths = [write_department_report(session, found, department, out, lang)]
        else:
            paths = write_reports(session, found, out, lang, mc_n=mc, seed=seed)
    for p in paths:
        console.print(t("cli.wrote_file", lang, out=p), markup=False)
