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
from egov.commands.common import LangOpt, check_lang, console, database, err, out_option, run_option
from egov.errors import EgovError
from egov.store import DEMO_NOTICE
from evaluation.uncertainty import UncertaintyResult, monte_carlo, parse_alternatives

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


def _monte_carlo(inputs: UncertaintyInputs, **settings: Any) -> UncertaintyResult:
    """The Monte Carlo over `inputs`, with a progress bar on stderr."""
    with Progress(
        TextColumn("Monte Carlo"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} model runs"),
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
    table = Table(title=f"Rank uncertainty per {res.entity_type} (tiers at {confidence:.0%} confidence)")
    for c in (
        "rank",
        res.entity_type,
        "name",
        "score",
        "median rank",
        "5–95 % interval",
        "mean shift",
        "tier",
    ):
        table.add_column(c)
    label_col = lang if lang in names.columns else "en"
    for entity, r in res.table().iterrows():
        name = str(names[label_col].get(entity, "")) if res.entity_type == "department" else ""
        table.add_row(
            "—" if pd.isna(r["nominal_rank"]) else f"{int(r['nominal_rank'])}",
            str(entity),
            name,
            "—" if pd.isna(r["nominal_score"]) else f"{r['nominal_score']:.1f}",
            "—" if pd.isna(r["median_rank"]) else f"{r['median_rank']:.0f}",
            "—" if pd.isna(r["rank_p05"]) else f"{r['rank_p05']:.0f}–{r['rank_p95']:.0f}",
            "—" if pd.isna(r["mean_shift"]) else f"{r['mean_shift']:.2f}",
            "—" if pd.isna(r["tier"]) else f"{int(r['tier'])}",
        )
    console.print(table)


def _print_sensitivity(res: UncertaintyResult, top: int) -> None:
    if res.sensitivity.empty:
        return
    sens = Table(
        title=f"Sensitivity of the ranks (Saltelli/Jansen, base sample {res.settings['sensitivity_n']})"
    )
    for c in ("input", "first order", "total order", "total order (score)"):
        sens.add_column(c)
    for factor, r in res.sensitivity.head(top).iterrows():
        sens.add_row(
            str(factor), f"{r['first_order']:.3f}", f"{r['total_order']:.3f}", f"{r['total_order_score']:.3f}"
        )
    console.print(sens)


def _write_files(res: UncertaintyResult, out: Path) -> None:
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
    console.print(f"wrote {len(files)} files to {out}/")


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
    over weights, normalisation, aggregation, imputation and the rating sampling error).

    Example: egov uncertainty --n 1000 --seed 1 --normalisations minmax,zscore,rank --out egov-output
    """
    lang = check_lang(lang)
    if run and period:
        raise EgovError("give --run or --period, not both")
    alternatives = {
        "normalisations": parse_alternatives("normalisation", normalisations),
        "aggregations": parse_alternatives("aggregation", aggregations),
        "imputations": parse_alternatives("imputation", imputations),
    }
    with database() as session:
        inputs = uncertainty_inputs(session, run, period, n=n, seed=seed, rating_draws=ratings)
    res = _monte_carlo(
        inputs,
        n=n,
        seed=seed,
        weight_noise=weight_noise,
        confidence=confidence,
        sensitivity_n=sensitivity_n,
        **alternatives,
    )
    if inputs.demo:
        console.print(f"[bold yellow]{DEMO_NOTICE}[/]")
    s = res.settings
    console.print(
        f"{inputs.source}: {s['n']} replications (seed {s['seed']}), weights ±{s['weight_noise']:.0%}; "
        f"normalisation: {', '.join(s['normalisations']) or 'as in the framework'}; aggregation: "
        f"{', '.join(s['aggregations']) or 'as in the framework'}; imputation: "
        f"{', '.join(s['imputations']) or 'as in the framework'}; rating draws: {s['rating_draws'] or 'none'}"
    )
    _print_ranks(res, inputs.names, confidence, lang)
    _print_sensitivity(res, top)
    for note in res.warnings:
        console.print(f"note: {note}")
    _write_files(res, out)
