"""`egov audit`: the sample audit of a period's submitted values — draw a seeded random sample
(sample), record each check's outcome (record), show the samples and their summary (show).
The assessor's: `--as assessor`, else EGOV_ROLE."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from egov.cells import plain_number
from egov.commands.common import LangOpt, check_lang, console
from egov.commands.stored import database
from egov.cycle import Actor
from egov.sample import OUTCOMES, SampleSummary, draw_sample, record_outcome, samples, summary_of
from reports.i18n import t
from reports.values import outcome_label

app = typer.Typer(
    help="The sample audit: a seeded random sample of submitted values, checked.", no_args_is_help=True
)

AsOpt = Annotated[
    str | None, typer.Option("--as", help="The role you act in (default: the setting EGOV_ROLE).")
]


@app.command("sample")
def sample_cmd(
    period: Annotated[str, typer.Argument(help="The period, e.g. 2025.")],
    n: Annotated[int, typer.Option("--n", help="How many submitted values to draw.")],
    seed: Annotated[int, typer.Option("--seed", help="The seed: the same seed draws the same values.")],
    acting: AsOpt = None,
    lang: LangOpt = None,
) -> None:
    """Draw a seeded random sample of a period's submitted values and store it.

    Example: egov audit sample 2025 --n 20 --seed 7 --as assessor
    """
    lang = check_lang(lang)
    with database() as session:
        sample = draw_sample(session, period, n, seed, Actor.of_cli(acting))
        summary = summary_of(session, sample)
    _print(summary, lang)


@app.command("record")
def record_cmd(
    item_id: Annotated[int, typer.Argument(help="The sampled item's id (egov audit show).")],
    outcome: Annotated[str, typer.Option("--outcome", help=f"One of {', '.join(OUTCOMES)}.")],
    note: Annotated[str, typer.Option("--note", help="What was checked.")] = "",
    acting: AsOpt = None,
    lang: LangOpt = None,
) -> None:
    """Record the outcome of checking one sampled value.

    Example: egov audit record 3 --outcome confirmed --note "matches the monitoring log" --as assessor
    """
    lang = check_lang(lang)
    with database() as session:
        item = record_outcome(session, item_id, outcome, note, Actor.of_cli(acting))
        shown = t("audit.recorded", lang, id=item.id, outcome=outcome_label(item.outcome, lang))
    console.print(shown)


@app.command("show")
def show_cmd(
    period: Annotated[str, typer.Argument(help="The period, e.g. 2025.")],
    lang: LangOpt = None,
) -> None:
    """Show a period's samples: the values drawn, their outcomes and the summary.

    Example: egov audit show 2025
    """
    lang = check_lang(lang)
    with database() as session:
        found = samples(session, period)
    if not found:
        console.print(t("audit.none", lang))
    for summary in found:
        _print(summary, lang)


def _print(summary: SampleSummary, lang: str) -> None:
    s = summary.sample
    table = Table(
        title=t("audit.drawn", lang, id=s.id, n=len(summary.items), population=s.population, seed=s.seed)
    )
    for key in (
        "audit.item",
        "audit.position",
        "values.id",
        "values.object",
        "values.indicator",
        "values.value",
    ):
        table.add_column(t(key, lang))
    table.add_column(t("audit.outcome", lang))
    table.add_column(t("audit.note", lang))
    for i in summary.items:
        shown = "" if i.value is None else plain_number(i.value)
        table.add_row(
            str(i.item_id),
            str(i.position),
            str(i.value_id),
            i.object,
            i.indicator,
            shown,
            outcome_label(i.outcome, lang),
            i.note,
        )
    console.print(table)
    rate = summary.correction_rate
    console.print(
        t(
            "audit.summary",
            lang,
            n=len(summary.items),
            confirmed=summary.confirmed,
            corrected=summary.corrected,
            not_checkable=summary.not_checkable,
            pending=summary.pending,
            rate=t("audit.rate_na", lang) if rate is None else f"{rate:.0%}",
        )
    )
