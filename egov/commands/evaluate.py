"""`egov evaluate`: files in, files out, no database. It imports only what that path needs
(the reader, the engine, the framework model and the texts), so that the command starts fast."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from egov.commands.common import LangOpt, SpecOpt, check_lang, console, out_option
from egov.commands.labels import t
from egov.files import evaluate_files, write_results
from evaluation.spec import load_spec
from indicators.importer import framework_or_table
from reports.texts import note_text

UnitColumnOpt = Annotated[
    str | None, typer.Option(help="Unit column of wide data (default: unit/uCode/code/id/first).")
]
UnitsOpt = Annotated[
    Path | None, typer.Option(help="Table of unit attributes (kind, department, groups, denominators).")
]
SuppliedOpt = Annotated[
    Path | None, typer.Option(help="Table of supplied values for imputation method 'supplied'.")
]
PeriodColumnOpt = Annotated[
    str | None, typer.Option(help="Column naming the period; each period is evaluated on its own.")
]
PeriodOnlyOpt = Annotated[str | None, typer.Option(help="Evaluate only this period (with --period-column).")]
MatchFirstWordOpt = Annotated[
    bool,
    typer.Option(
        "--match-first-word",
        help="Match data columns (and supplied ones) to indicators by the first word of their "
        "header: '1a1 At least basic digital skills' → indicator 1a1.",
    ),
]
LastRowOpt = Annotated[
    int | None,
    typer.Option(
        help="Last row of the data table (row 1 is the header); rows below it, such as other "
        "tables further down the same sheet, are ignored."
    ),
]


def evaluate_cmd(
    framework: Annotated[
        str,
        typer.Argument(
            help="Framework TOML file, a built-in name, or an indicator table (CSV/XLSX, as for "
            "egov framework import)."
        ),
    ],
    data: Annotated[Path, typer.Argument(help="Data, CSV or XLSX: long (unit,indicator,value) or wide.")],
    out: Annotated[Path, out_option("Folder for the results.")],
    spec: SpecOpt = None,
    unit_column: UnitColumnOpt = None,
    units: UnitsOpt = None,
    supplied: SuppliedOpt = None,
    period_column: PeriodColumnOpt = None,
    period: PeriodOnlyOpt = None,
    match_first_word: MatchFirstWordOpt = False,
    last_row: LastRowOpt = None,
    lang: LangOpt = None,
) -> None:
    """Score and rank units from files, with no database.

    Columns of wide data that are not indicators are unit attributes (groups, denominators,
    kind, department). Writes scores.csv (rank and every level, best first), ranks.csv,
    every stage (raw, denominated, imputed, treated, normalised, flags, treatment,
    weights), results_long.csv, coherence_*.csv (correlations, Cronbach's alpha, PCA
    variance, collinearity and negative-correlation flags) and warnings.txt.
    Example: egov evaluate asem.toml ASEM_iData.csv --out results/ --spec spec.toml
    Example (the indicator table read directly): egov evaluate ASEM_iMeta.csv ASEM_iData.csv --out results/
    """
    lang = check_lang(lang)
    imported = framework_or_table(framework)
    fw = imported.framework
    evaluation = evaluate_files(
        fw,
        data,
        spec=load_spec(spec) if spec else None,
        unit_column=unit_column,
        units_path=units,
        supplied_path=supplied,
        period_column=period_column,
        period=period,
        first_word=match_first_word,
        last_row=last_row,
    )
    for note in [*imported.notes, *evaluation.notes]:
        console.print(note_text(note, lang), markup=False)
    write_results(evaluation, out)
    for label, result in evaluation.results.items():
        prefix = t("cli.eval.period", lang, period=label) if label is not None else ""
        for w in result.warnings:
            console.print(t("cli.eval.warning", lang, text=f"{prefix}{w}"), markup=False)
        top = result.table().head(10)
        scored = int(result.scores[fw.index_code].notna().sum())
        of = t("cli.eval.of", lang, total=len(result.scores)) if scored < len(result.scores) else ""
        said = {"prefix": prefix, "scored": scored, "of": of, "n": len(fw.indicators), "top": len(top)}
        console.print(t("cli.eval.scored", lang, **said), markup=False)
        for unit, row in top.iterrows():
            if pd.isna(row["Rank"]) or pd.isna(row[fw.index_code]):
                console.print(f"  {'—':>3}  {unit}  {t('cli.eval.not_scored', lang)}", markup=False)
            else:
                console.print(f"  {int(row['Rank']):>3}  {unit}  {row[fw.index_code]:.3f}", markup=False)
    console.print(t("cli.eval.written", lang, out=out), markup=False)
