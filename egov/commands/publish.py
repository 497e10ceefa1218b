"""`egov publish`: what the public receives of a published period — the open-data package
(CSV and JSON of the published results, a data dictionary, a README with the licence note,
the verifiable run bundle and a manifest of SHA-256 checksums), and the open data of the citizen
ratings of a period (`egov publish ratings`). Publishing a run is the lead's move of the cycle:
`egov cycle publish PERIOD`; rating results are public as they come in."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from egov.commands.common import LangOpt, check_lang, console, out_option
from egov.commands.stored import database
from reports.i18n import t
from reports.public import write_package
from reports.public.ratings_open import write_ratings

app = typer.Typer(help="The open data of a published period and of citizen ratings.", no_args_is_help=True)


@app.command("package")
def package_cmd(
    period: Annotated[str, typer.Argument(help="A published period, e.g. 2025.")],
    out: Annotated[Path, out_option("The folder to write the package to (new or empty).")],
    lang: LangOpt = None,
) -> None:
    """Write the open-data package of a published period; its bundle verifies with
    `egov runs verify DIR/bundle`.

    Example: egov publish package 2025 --out open-data-2025
    """
    lang = check_lang(lang)
    with database() as session:
        path, n, results_hash = write_package(session, period, out)
    console.print(t("pub.package_written", lang, path=path, n=n, hash=results_hash), markup=False)


@app.command("ratings")
def ratings_cmd(
    period: Annotated[str, typer.Option("--period", help="A year, half or quarter: 2026, 2026H1, 2026Q3.")],
    out: Annotated[Path, out_option("The folder to write the open data to (new or empty).")],
    lang: LangOpt = None,
) -> None:
    """Write the open data of the citizen ratings of a period (per department and per service
    item: ratings, bad-rating cases, data dictionary), as /public/ratings/PERIOD/open-data.zip.

    Example: egov publish ratings --period 2026Q3 --out ratings-2026Q3
    """
    lang = check_lang(lang)
    with database() as session:
        path, n = write_ratings(session, period, out)
    console.print(t("pubr.written", lang, path=path, n=n), markup=False)
