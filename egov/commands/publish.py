"""`egov publish`: what the public receives of a published period — the open-data package
(CSV and JSON of the published results, a data dictionary, a README with the licence note,
the verifiable run bundle and a manifest of SHA-256 checksums). Publishing itself is the
lead's move of the cycle: `egov cycle publish PERIOD`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from egov.commands.common import LangOpt, check_lang, console, database, out_option
from reports.i18n import t
from reports.public import write_package

app = typer.Typer(help="The open-data package of a published period.", no_args_is_help=True)


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
