"""`egov demo` (the built-in Macau demo, scored and reported) and `egov synth` (a synthetic
scale for benchmarks)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from egov.commands.common import LangOpt, check_lang, console, err, lang_option, out_option
from egov.commands.labels import t
from egov.commands.labels_ops import counted
from egov.commands.stored import database, print_ranking
from egov.db import describe_url, session_scope
from egov.demo import NOTICE, build_demo, forget_outputs, ranking_table, record_outputs, write_outputs
from egov.errors import EgovError
from egov.settings import get_settings
from egov.store import department_names, get_run
from egov.synth import SCALES, synthesise
from indicators.framework import resolve_framework
from reports.assessor import write_reports
from reports.cycle import state_label
from reports.department import write_department_reports
from reports.texts import note_text


def demo_cmd(
    out: Annotated[Path, out_option("Folder for the result files.")] = Path("egov-output"),
    lang: Annotated[
        str | None,
        lang_option("Language of names and reports: zh-Hant, pt or en (default: EGOV_LANG, else zh-Hant)."),
    ] = None,
) -> None:
    """Create or refresh the database with the built-in Macau demo, evaluate it, store the
    runs, print the department ranking and write the results to --out.

    Example: egov demo --out egov-output --lang zh-Hant
    """
    lang = check_lang(lang)
    settings = get_settings()
    with database() as session, err.status(t("cli.demo.loading", lang)):
        demo = build_demo(
            session, seed=settings.demo_seed, ratings_per_period=settings.demo_ratings_per_period
        )
        names = department_names(session)
    fw = resolve_framework("macau")
    latest = demo.outcomes[max(demo.outcomes)]
    ranking = ranking_table(latest, names, fw, lang)
    console.print(f"[bold yellow]{t('report.demo_banner', lang)}[/]", markup=True, highlight=False)
    console.print(t("cli.demo_counts", lang, url=describe_url(), **demo.counts), markup=False)
    for period, cycle in sorted(demo.cycles.items()):
        state = state_label(cycle.state, lang)
        if cycle.state == "published":
            line = t(
                "cli.demo.published",
                lang,
                period=period,
                state=state,
                run=cycle.run_key,
                draft=cycle.draft_run_key,
            )
        else:
            deadline = cycle.review_deadline.isoformat() if cycle.review_deadline else "—"
            line = t(
                "cli.demo.in_review", lang, period=period, state=state, deadline=deadline, run=cycle.run_key
            )
        console.print(line, markup=False)
    cats = [c.code for c in fw.categories]
    print_ranking(
        ranking,
        cats,
        t("cli.ranking_title", lang, period=max(demo.outcomes), run=latest.run.run_key)
        + f" — {t('cli.illustrative', lang)}",
        lang,
    )
    for note in latest.notes:
        if note != NOTICE:  # already printed as the banner
            console.print(note_text(note, lang), markup=False)
    forget_outputs(out)  # the previous demo's files: replaced, not left stale
    written = write_outputs(out, latest, ranking, demo.cycles)
    # the reports (issue 7) of the latest run: the assessor's report (HTML + Excel), then
    # one department report per department
    with session_scope() as session, err.status(t("cli.demo.assessor", lang)):
        written += write_reports(session, get_run(session, latest.run.run_key), out, lang)
    with session_scope() as session, err.status(t("cli.demo.departments", lang)):
        written += write_department_reports(session, get_run(session, latest.run.run_key), out, lang)
    record_outputs(out, written)
    console.print(t("cli.wrote", lang, n=len(written), out=f"{out}/"), markup=False)


def synth_cmd(
    scale: Annotated[
        str,
        typer.Option("--scale", help="city (1M ratings), province (10M) or nation (100M, PostgreSQL only)."),
    ],
    seed: Annotated[int, typer.Option("--seed", help="Seed of the random generator (same seed, same data).")],
    ratings: Annotated[
        int | None,
        typer.Option("--ratings", help="Number of ratings instead of the scale's (e.g. small for tests)."),
    ] = None,
    lang: LangOpt = None,
) -> None:
    """Generate a synthetic scale for benchmarks: departments, peer groups, objects, metric
    values of the Macau framework for period SYN2025, rating offers and ratings (loaded in
    bulk: COPY on PostgreSQL, batched executemany on SQLite), then the daily roll-ups.
    Use a fresh database (EGOV_DATABASE_URL). Synthetic data, not an evaluation.

    Example: egov synth --scale city --seed 1 && egov score --period SYN2025
    """
    lang = check_lang(lang)
    if scale not in SCALES:
        raise EgovError(t("cli.synth.bad_scale", lang, scale=scale, scales=", ".join(SCALES)))
    total = SCALES[scale].ratings if ratings is None else ratings
    columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with (
        database() as session,
        Progress(*columns, console=err, disable=not err.is_terminal) as bar,
    ):
        task = bar.add_task(t("cli.synth.ratings", lang), total=total)
        out = synthesise(session, scale, seed=seed, ratings=ratings, progress=lambda n: bar.advance(task, n))
    console.print(f"[bold yellow]{t('cli.synth.notice', lang)}[/]")
    counts = ", ".join(counted(k, f"{v:,}", lang) for k, v in out.counts.items())
    where = {"url": describe_url(), "scale": scale, "seed": seed, "period": out.period}
    console.print(t("cli.synth.counts", lang, counts=counts, **where), markup=False)
    times = ", ".join(f"{k} {v:.1f}" for k, v in out.seconds.items())
    console.print(t("cli.synth.seconds", lang, times=times), markup=False)
    console.print(t("cli.synth.next", lang, command=f"egov score --period {out.period}"), markup=False)
