"""`egov uncertainty`: rank intervals, P(A above B), tiers and sensitivity indices of a
stored run or a period (Monte Carlo of evaluation/uncertainty.py, issue 6)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from egov.analysis import UncertaintyInputs, uncertainty_inputs
from egov.cells import write_csv
from egov.commands.common import LangOpt, check_lang, console, err, out_option, run_option
from egov.commands.labels import t
from egov.commands.stored import database
from egov.errors import EgovError
from egov.notices import DEMO_NOTICE
from evaluation.uncertainty import UncertaintyResult, monte_carlo, parse_alternatives
from reports.i18n import overall_rank_text
from reports.texts import note_text, run_note

PeriodOpt = Annotated[
    str | None,
    typer.Option("--period", help="Period code: use the period's stored data instead of a run's inputs."),
]
NormalisationsOpt = Annotated[
    str,
    typer.Option(
        "--normalisations",
        help="Normalisation alternatives, comma-separated, each `name[:key=value]…`; a bare minmax "
        "is [1, 100] and zscore mean 10, sd 2 (positive, for the geometric mean); empty: the framework's.",
    ),
]
AggregationsOpt = Annotated[
    str,
    typer.Option("--aggregations", help="Aggregation alternatives, comma-separated; empty: the framework's."),
]
ImputationsOpt = Annotated[
    str,
    typer.Option("--imputations", help="Imputation alternatives, comma-separated (e.g. mean,median)."),
]
TreatmentsOpt = Annotated[
    str,
    typer.Option(
        "--treatments",
        help="Outlier-treatment alternatives, comma-separated, each `name[:key=value]…` (e.g. "
        "coinr:winmax=1,coinr:winmax=5 for COINr's winsorisation points); empty: the framework's.",
    ),
]
RatingDrawsOpt = Annotated[
    bool,
    typer.Option(
        "--rating-draws/--no-rating-draws",
        help="Include the sampling error of rating-derived indicators (posterior draws from the roll-ups).",
    ),
]
SensitivityNOpt = Annotated[
    int | None,
    typer.Option(
        "--sensitivity-n", help="Base sample of the sensitivity analysis (default --n; 0 skips it)."
    ),
]


def _monte_carlo(inputs: UncertaintyInputs, lang: str, **settings: Any) -> UncertaintyResult:
    """The Monte Carlo over `inputs`, with a progress bar on stderr (its words in `lang`)."""
    with Progress(
        TextColumn("Monte Carlo"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} " + t("cli.unc.model_runs", lang)),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task("mc", total=None)

        def step(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return monte_carlo(
            inputs.data,
            inputs.framework,
            inputs.spec,
            inputs.units,
            rating_draws=inputs.rating_draws,
            history=inputs.history,
            progress=step,
            **settings,
        )


def _print_ranks(res: UncertaintyResult, names: pd.DataFrame, confidence: float, lang: str) -> None:
    entity = t(f"cli.col.{res.entity_type}", lang)
    table = Table(title=t("cli.unc.title", lang, entity=entity, confidence=f"{confidence:.0%}"))
    table.add_column(t("cli.col.rank", lang))
    table.add_column(entity)
    for key in ("col.name", "col.score", "unc.median_rank", "unc.interval", "unc.mean_shift", "unc.tier"):
        table.add_column(t(f"cli.{key}", lang))
    label_col = lang if lang in names.columns else "en"
    for entity_code, r in res.table().iterrows():
        name = str(names[label_col].get(entity_code, "")) if res.entity_type == "department" else ""
        table.add_row(
            "—" if pd.isna(r["nominal_rank"]) else f"{int(r['nominal_rank'])}",
            str(entity_code),
            name,
            "—" if pd.isna(r["nominal_score"]) else f"{r['nominal_score']:.1f}",
            "—" if pd.isna(r["median_rank"]) else f"{r['median_rank']:.0f}",
            _interval(res, entity_code, r, lang),
            "—" if pd.isna(r["mean_shift"]) else f"{r['mean_shift']:.2f}",
            "—" if pd.isna(r["tier"]) else f"{int(r['tier'])}",
        )
    console.print(table)


def _interval(res: UncertaintyResult, entity: object, r: pd.Series, lang: str) -> str:
    """The 5–95 % rank interval; for a unit the coverage rule leaves out of the overall ranking,
    why it has none ("not ranked overall: scored on 1 of 3 categories"), as `egov rank` says."""
    if not pd.isna(r["rank_p05"]):
        return f"{r['rank_p05']:.0f}–{r['rank_p95']:.0f}"
    cov = res.coverage
    if entity in cov.index and not cov.at[entity, "ranked_overall"]:
        scored, total = cov.at[entity, "categories_scored"], cov.at[entity, "categories_total"]
        return overall_rank_text(None, scored, total, lang)
    return "—"


def _print_sensitivity(res: UncertaintyResult, top: int, lang: str) -> None:
    if res.sensitivity.empty:
        return
    sens = Table(title=t("cli.unc.sensitivity", lang, n=res.settings["sensitivity_n"]))
    for key in ("input", "first_order", "total_order", "total_order_score"):
        sens.add_column(t(f"cli.unc.{key}", lang))
    for factor, r in res.sensitivity.head(top).iterrows():
        sens.add_row(
            str(factor), f"{r['first_order']:.3f}", f"{r['total_order']:.3f}", f"{r['total_order_score']:.3f}"
        )
    console.print(sens)


def _print_settings(inputs: UncertaintyInputs, res: UncertaintyResult, lang: str) -> None:
    """What was simulated: the run or period, replications, seed and the alternatives."""
    if inputs.demo:
        notice = DEMO_NOTICE if lang == "en" else run_note(DEMO_NOTICE, lang)
        console.print(f"[bold yellow]{notice}[/]")
    per, fw = inputs.period.code, inputs.framework
    source = (
        t("cli.unc.source_run", lang, run=inputs.run_key, period=per)
        if inputs.run_key
        else t("cli.unc.source_period", lang, period=per, framework=fw.code, version=fw.version)
    )
    s, framework = res.settings, t("cli.unc.as_framework", lang)
    text = t(
        "cli.unc.settings",
        lang,
        source=source,
        n=s["n"],
        seed=s["seed"],
        noise=f"{s['weight_noise']:.0%}",
        normalisations=", ".join(s["normalisations"]) or framework,
        aggregations=", ".join(s["aggregations"]) or framework,
        imputations=", ".join(s["imputations"]) or framework,
        treatments=", ".join(s.get("treatments", [])) or framework,
        draws=s["rating_draws"] or t("cli.unc.no_draws", lang),
    )
    console.print(text, markup=False)


def _write_files(res: UncertaintyResult, out: Path, lang: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "uncertainty_summary.csv": res.table(),
        "uncertainty_prob_above.csv": res.prob_above,
        "uncertainty_sensitivity.csv": res.sensitivity,
        "uncertainty_sensitivity_by_entity.csv": res.sensitivity_by_entity,
        "uncertainty_ranks.csv": res.ranks,
        "uncertainty_samples.csv": res.samples,
    }
    for fname, frame in files.items():
        write_csv(
            frame,
            out / fname,
            index=fname not in ("uncertainty_sensitivity_by_entity.csv",),
            ranks=frame.columns if fname == "uncertainty_ranks.csv" else None,
        )
    console.print(t("cli.wrote", lang, n=len(files), out=f"{out}/"), markup=False)


def uncertainty_cmd(
    run: Annotated[str | None, run_option("Key of a stored run (default: the latest run).")] = None,
    period: PeriodOpt = None,
    n: Annotated[int, typer.Option("--n", help="Monte Carlo replications.")] = 1000,
    seed: Annotated[
        int, typer.Option("--seed", help="Seed of the random numbers (same seed, same output).")
    ] = 1,
    weight_noise: Annotated[
        float, typer.Option("--weight-noise", help="Relative noise on every weight: w × (1 + U(−x, x)).")
    ] = 0.25,
    normalisations: NormalisationsOpt = "minmax,zscore,rank",
    aggregations: AggregationsOpt = "arithmetic,geometric",
    imputations: ImputationsOpt = "",
    treatments: TreatmentsOpt = "",
    ratings: RatingDrawsOpt = True,
    confidence: Annotated[
        float, typer.Option("--confidence", help="P(A above B) needed to tell neighbours apart (tiers).")
    ] = 0.95,
    sensitivity_n: SensitivityNOpt = None,
    top: Annotated[int, typer.Option("--top", help="Number of sensitivity indices printed.")] = 8,
    out: Annotated[Path, out_option("Folder for the CSV files.")] = Path("egov-output"),
    lang: LangOpt = None,
) -> None:
    """Rank intervals, P(A above B), tiers and sensitivity indices of a stored run (Monte Carlo
    over weights, normalisation, aggregation, imputation, outlier treatment and the rating
    sampling error).

    Example: egov uncertainty --n 1000 --seed 1 --normalisations minmax,zscore,rank --out egov-output
    """
    lang = check_lang(lang)
    if run and period:
        raise EgovError("give --run or --period, not both")
    alternatives = {
        "normalisations": parse_alternatives("normalisation", normalisations),
        "aggregations": parse_alternatives("aggregation", aggregations),
        "imputations": parse_alternatives("imputation", imputations),
        "treatments": parse_alternatives("treatment", treatments),
    }
    with database() as session:
        inputs = uncertainty_inputs(session, run, period, n=n, seed=seed, rating_draws=ratings)
    res = _monte_carlo(
        inputs,
        lang,
        n=n,
        seed=seed,
        weight_noise=weight_noise,
        confidence=confidence,
        sensitivity_n=sensitivity_n,
        **alternatives,
    )
    _print_settings(inputs, res, lang)
    _print_ranks(res, inputs.names, confidence, lang)
    _print_sensitivity(res, top, lang)
    for note in res.warnings:
        console.print(note_text(note, lang), markup=False)
    _write_files(res, out, lang)
