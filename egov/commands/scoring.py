"""`egov score`: evaluate a stored period and store the run (`egov evaluate`, from files, is
in `egov.commands.evaluate`)."""

from __future__ import annotations

from typing import Annotated

import typer

from egov.analysis import score_stored_period
from egov.commands.common import LangOpt, SpecOpt, check_lang, console
from egov.commands.labels import t
from egov.commands.stored import database, print_ranking
from egov.demo import ranking_table
from egov.notices import DEMO_NOTICE
from evaluation.spec import load_spec
from reports.texts import note_text


def score_cmd(
    period: Annotated[str, typer.Option("--period", help="Period code, e.g. 2023.")],
    framework: Annotated[
        str | None, typer.Option(help="Framework file (default: the latest stored one).")
    ] = None,
    spec: SpecOpt = None,
    lang: LangOpt = None,
) -> None:
    """Evaluate a period from the stored metric values and rating roll-ups; store the run.

    Example: egov score --period 2023
    """
    lang = check_lang(lang)
    with database() as session:
        scored = score_stored_period(session, period, framework, load_spec(spec) if spec else None)
    outcome, fw = scored.outcome, scored.framework
    ranking = ranking_table(outcome, scored.names, fw, lang).drop(columns=["data_status"])
    if DEMO_NOTICE in outcome.notes:
        console.print(f"[bold yellow]{t('report.demo_banner', lang)}[/]")
    print_ranking(
        ranking,
        [c.code for c in fw.categories],
        t("cli.ranking_title", lang, period=period, run=outcome.run.run_key),
        lang,
    )
    for note in outcome.notes:
        if note != DEMO_NOTICE:
            console.print(note_text(note, lang), markup=False)
