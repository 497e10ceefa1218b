"""The `egov` command line: thin commands that load, call the library and write.

Library code raises `EgovError`; `main()` turns it into a message and exit code 1, and any
unexpected error into a short message and exit code 2 (set EGOV_DEBUG=1 for a traceback).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from egov.errors import EgovError
from egov.langs import LANGUAGES

app = typer.Typer(
    name="egov",
    help="egov-eval: evaluate e-government performance — layered classification of what is "
    "assessed (infrastructure, application services, management bodies) and horizontal "
    "comparison of departments.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Create or upgrade the database.", no_args_is_help=True)
framework_app = typer.Typer(help="Check, show and import indicator frameworks.", no_args_is_help=True)
runs_app = typer.Typer(
    help="List, show, compare, export and verify stored evaluation runs.", no_args_is_help=True
)
app.add_typer(db_app, name="db")
app.add_typer(framework_app, name="framework")
app.add_typer(runs_app, name="runs")

console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, soft_wrap=True)

LangOpt = Annotated[str, typer.Option("--lang", help="Language of names: zh-Hant, pt or en.")]


def _check_lang(lang: str) -> str:
    if lang not in LANGUAGES:
        raise EgovError(f"--lang {lang!r}: use zh-Hant, pt or en")
    return lang


# --- db ------------------------------------------------------------------------------------
@db_app.command("init")
def db_init() -> None:
    """Create the schema, or upgrade it in place; safe to run again.

    Example: EGOV_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/egov egov db init
    """
    from egov.db import describe_url, init_db

    changes = init_db()
    console.print(f"database {describe_url()}: " + ("; ".join(changes) if changes else "schema up to date"))


# --- framework -------------------------------------------------------------------------------
@framework_app.command("check")
def framework_check(file: Annotated[Path, typer.Argument(help="Framework TOML file.")]) -> None:
    """Validate a framework file and report every problem with its key path.

    Example: egov framework check indicators/frameworks/macau.toml
    """
    from indicators.framework import load_framework

    fw = load_framework(file)
    console.print(
        f"{file}: valid — framework {fw.code} {fw.version}, {len(fw.categories)} categories, "
        f"{len(fw.indicators)} indicators, hash {fw.content_hash[:12]}"
    )


@framework_app.command("show")
def framework_show(
    file: Annotated[str, typer.Argument(help="Framework TOML file, or a built-in name (macau).")] = "macau",
    lang: LangOpt = "en",
) -> None:
    """Print the framework tree with weights and effective weights.

    Example: egov framework show macau --lang zh-Hant
    """
    from indicators.framework import resolve_framework

    lang = _check_lang(lang)
    fw = resolve_framework(file)
    eff = fw.effective_weights()
    table = Table(title=f"{fw.name.get(lang, fw.code)} ({fw.code} {fw.version})", show_lines=False)
    for col_name in (
        "node",
        "name",
        "weight",
        "share of parent",
        "effective weight",
        "direction",
        "unit",
        "method",
    ):
        table.add_column(col_name, overflow="fold")
    depth = {fw.index_code: 0}

    def add(code: str) -> None:
        node = fw.nodes[code]
        d = depth[code]
        parent_share = fw.sibling_weights(node.parent)[code] if node.parent else 1.0
        method = fw.method_of(code, "normalisation" if node.is_indicator else "aggregation")["method"]
        table.add_row(
            "  " * d + code,
            node.label(lang),
            f"{node.weight:g}",
            f"{parent_share:.3f}",
            f"{eff[code]:.4f}",
            (f"{node.direction:+d}" if node.is_indicator else ""),
            node.unit,
            method,
        )
        for child in node.children:
            depth[child] = d + 1
            add(child)

    add(fw.index_code)
    console.print(table)
    console.print(
        f"{len(fw.indicators)} indicators; effective weights of the indicators sum to "
        f"{sum(eff[n.code] for n in fw.indicators):.6f}"
    )


@framework_app.command("import")
def framework_import(
    table: Annotated[Path, typer.Argument(help="Indicator table, CSV or XLSX (COINr-style columns).")],
    out: Annotated[Path, typer.Option("--out", help="Framework TOML file to write.")],
    code: Annotated[str | None, typer.Option(help="Framework code (default: the file name).")] = None,
    version: Annotated[str, typer.Option(help="Framework version.")] = "1",
    column: Annotated[
        list[str] | None,
        typer.Option(
            "--column",
            help="FIELD=COLUMN: read a field (code, name, parent, weight, direction, unit, min, max, "
            "source, description, …) from COLUMN; FIELD= reads it from no column. Repeatable.",
        ),
    ] = None,
    code_first_word: Annotated[
        bool,
        typer.Option(
            "--code-first-word",
            help="The code is the first word of the code column ('1a1 At least basic digital skills' "
            "→ 1a1); the rest is the name unless a name column is read.",
        ),
    ] = False,
    parents_from_code: Annotated[
        bool,
        typer.Option(
            "--parents-from-code",
            help="A row without a parent hangs under its code minus the last segment (1a1 → 1a → 1, "
            "2.3.1 → 2.3); aggregates no row defines are created.",
        ),
    ] = False,
    index_code: Annotated[
        str | None,
        typer.Option(help="With --parents-from-code: the index that one-segment codes hang under."),
    ] = None,
    structure: Annotated[
        Path | None,
        typer.Option(
            help="Table of the aggregates (code, name, parent, weight; CSV or XLSX) added to the "
            "indicator rows: dimensions and sub-dimensions with their names and weights."
        ),
    ] = None,
    clip: Annotated[
        bool,
        typer.Option(
            "--clip/--no-clip",
            help="Clip goalpost scores (from min/max columns) to [0, 100]; --no-clip keeps values "
            "beyond the goalposts (as DESI does).",
        ),
    ] = True,
) -> None:
    """Turn an indicator table (code, parent, level, direction, weight, unit, target, min,
    max, …) into a framework file.

    Example: egov framework import ASEM_iMeta.csv --out asem.toml
    Example (DESI, see examples/desi2022/README.md): egov framework import metadata.csv
    --column code=Indicator --column source= --code-first-word --parents-from-code
    --structure examples/desi2022/structure.csv --no-clip --out desi.toml
    """
    from indicators.importer import import_table
    from indicators.writer import framework_to_toml

    columns: dict[str, str] = {}
    for item in column or []:
        field_name, sep, col = item.partition("=")
        if not sep or not field_name.strip():
            raise EgovError(f"--column {item!r}: write FIELD=COLUMN (or FIELD= for no column)")
        columns[field_name.strip()] = col.strip()
    report = import_table(
        table,
        code=code,
        version=version,
        columns=columns,
        code_first_word=code_first_word,
        parents_from_code=parents_from_code,
        index_code=index_code,
        structure=structure,
        goalposts_clip=clip,
    )
    text = framework_to_toml(
        report.framework, header=f"Imported from {table.name} by `egov framework import`."
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    for note in report.notes:
        console.print(f"note: {note}")
    fw = report.framework
    console.print(
        f"wrote {out}: {len(fw.categories)} categories, {len(fw.indicators)} indicators, "
        f"hash {fw.content_hash[:12]}"
    )


# --- evaluate (no database) ------------------------------------------------------------------
@app.command("evaluate")
def evaluate_cmd(
    framework: Annotated[str, typer.Argument(help="Framework TOML file, or a built-in name.")],
    data: Annotated[Path, typer.Argument(help="Data, CSV or XLSX: long (unit,indicator,value) or wide.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the results.")],
    spec: Annotated[Path | None, typer.Option(help="Method spec TOML overriding the framework.")] = None,
    unit_column: Annotated[
        str | None, typer.Option(help="Unit column of wide data (default: unit/uCode/code/id/first).")
    ] = None,
    units: Annotated[
        Path | None, typer.Option(help="Table of unit attributes (kind, department, groups, denominators).")
    ] = None,
    supplied: Annotated[
        Path | None, typer.Option(help="Table of supplied values for imputation method 'supplied'.")
    ] = None,
    period_column: Annotated[
        str | None, typer.Option(help="Column naming the period; each period is evaluated on its own.")
    ] = None,
    period: Annotated[
        str | None, typer.Option(help="Evaluate only this period (with --period-column).")
    ] = None,
    match_first_word: Annotated[
        bool,
        typer.Option(
            "--match-first-word",
            help="Match data columns (and supplied ones) to indicators by the first word of their "
            "header: '1a1 At least basic digital skills' → indicator 1a1.",
        ),
    ] = False,
    last_row: Annotated[
        int | None,
        typer.Option(
            help="Last row of the data table (row 1 is the header); rows below it, such as other "
            "tables further down the same sheet, are ignored."
        ),
    ] = None,
) -> None:
    """Score and rank units from files, with no database.

    Columns of wide data that are not indicators are unit attributes (groups, denominators,
    kind, department). Writes scores.csv (rank and every level, best first), ranks.csv,
    every stage (raw, denominated, imputed, treated, normalised, flags, treatment,
    weights), results_long.csv, coherence_*.csv (correlations, Cronbach's alpha, PCA
    variance, collinearity and negative-correlation flags) and warnings.txt.
    Example: egov evaluate asem.toml ASEM_iData.csv --out results/ --spec spec.toml
    """
    from egov.files import evaluate_files, write_results
    from evaluation.spec import load_spec
    from indicators.framework import resolve_framework

    fw = resolve_framework(framework)
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
    for note in evaluation.notes:
        console.print(f"note: {note}")
    write_results(evaluation, out)
    for label, result in evaluation.results.items():
        prefix = f"period {label}: " if label is not None else ""
        for w in result.warnings:
            console.print(f"warning: {prefix}{w}")
        top = result.table().head(10)
        console.print(
            f"{prefix}scored {len(result.scores)} units on {len(fw.indicators)} indicators; top {len(top)}:"
        )
        for unit, row in top.iterrows():
            console.print(f"  {int(row['Rank']):>3}  {unit}  {row[fw.index_code]:.3f}")
    console.print(f"results written to {out}/")


# --- the stored pipeline ------------------------------------------------------------------------
def _print_ranking(ranking: pd.DataFrame, fw_categories: list[str], title: str) -> None:
    table = Table(title=title)
    columns = ("rank", "department", "name", "score", "coverage", *[f"{c} (rank)" for c in fw_categories])
    for c in (*columns, "peer rank"):
        table.add_column(c, overflow="fold")
    for dept, r in ranking.iterrows():
        cells = []
        for c in fw_categories:
            s, rk = r[f"{c}_score"], r[f"{c}_rank"]
            cells.append("—" if pd.isna(s) else f"{s:.1f} ({int(rk)})")
        peer = "" if pd.isna(r.get("peer_rank")) else f"{int(r['peer_rank'])} in {r['peer_group']}"
        coverage = f"{int(r['categories_assessed'])}/{len(fw_categories)}"
        table.add_row(
            f"{int(r['rank'])}", str(dept), str(r["name"]), f"{r['score']:.1f}", coverage, *cells, peer
        )
    console.print(table)


@app.command("demo")
def demo_cmd(
    out: Annotated[Path, typer.Option("--out", help="Folder for the result files.")] = Path("egov-output"),
    lang: Annotated[
        str, typer.Option("--lang", help="Language of names and reports: zh-Hant (default), pt or en.")
    ] = "zh-Hant",
) -> None:
    """Create or refresh the database with the built-in Macau demo, evaluate it, store the
    runs, print the department ranking and write the results to --out.

    Example: egov demo --out egov-output --lang zh-Hant
    """
    from egov.db import describe_url, init_db, session_scope
    from egov.demo import NOTICE, build_demo, ranking_table, write_outputs
    from egov.settings import get_settings
    from egov.store import department_names
    from indicators.framework import resolve_framework

    lang = _check_lang(lang)
    settings = get_settings()
    init_db()
    with session_scope() as session, err.status("loading the Macau demo and scoring it…"):
        demo = build_demo(
            session, seed=settings.demo_seed, ratings_per_period=settings.demo_ratings_per_period
        )
        names = department_names(session)
    fw = resolve_framework("macau")
    latest = demo.outcomes[max(demo.outcomes)]
    ranking = ranking_table(latest, names, fw, lang)
    console.print(f"[bold yellow]{NOTICE}[/]")
    console.print(
        f"database {describe_url()}: {demo.counts['departments']} departments, "
        f"{demo.counts['objects']} objects, {demo.counts['metric_values']} metric values, "
        f"{demo.counts['ratings']} citizen ratings"
    )
    cats = [c.code for c in fw.categories]
    _print_ranking(
        ranking,
        cats,
        f"Department ranking, period {max(demo.outcomes)} (run {latest.run.run_key}) — illustrative",
    )
    for note in latest.notes:
        if note != NOTICE:  # already printed as the banner
            console.print(f"note: {note}")
    written = write_outputs(out, latest, ranking)
    # --- reports (issue 7): the assessor's report (HTML + Excel) of the latest run
    from egov.store import get_run
    from reports.assessor import write_reports

    with session_scope() as session, err.status("writing the assessor's report…"):
        written += write_reports(session, get_run(session, latest.run.run_key), out, lang)
    # --- end of the assessor's report
    # --- reports (issue 7): one department report per department of the latest run
    from reports.department import write_department_reports

    with session_scope() as session, err.status("writing one report per department…"):
        written += write_department_reports(session, get_run(session, latest.run.run_key), out, lang)
    # --- end of the department reports
    console.print(f"wrote {len(written)} files to {out}/")


@app.command("score")
def score_cmd(
    period: Annotated[str, typer.Option("--period", help="Period code, e.g. 2023.")],
    framework: Annotated[
        str | None, typer.Option(help="Framework file (default: the latest stored one).")
    ] = None,
    spec: Annotated[Path | None, typer.Option(help="Method spec TOML overriding the framework.")] = None,
    lang: LangOpt = "en",
) -> None:
    """Evaluate a period from the stored metric values and rating roll-ups; store the run.

    Example: egov score --period 2023
    """
    from egov.db import init_db, session_scope
    from egov.demo import ranking_table
    from egov.scoring import score_period
    from egov.store import department_names, get_period, latest_framework, store_framework
    from evaluation.engine import load_spec
    from indicators.framework import resolve_framework

    lang = _check_lang(lang)
    init_db()
    with session_scope() as session:
        if framework:
            fw = resolve_framework(framework)
            path = Path(framework) if Path(framework).exists() else None
            from indicators.framework import builtin_path

            text = (path or builtin_path(framework)).read_text(encoding="utf-8")
            fw_row = store_framework(session, fw, text)
        else:
            fw_row, fw = latest_framework(session)
        outcome = score_period(
            session, fw_row, fw, get_period(session, period), load_spec(spec) if spec else None
        )
        names = department_names(session)
    from egov.store import DEMO_NOTICE

    ranking = ranking_table(outcome, names, fw, lang).drop(columns=["data_status"])
    if DEMO_NOTICE in outcome.notes:
        console.print(f"[bold yellow]{DEMO_NOTICE}[/]")
    _print_ranking(
        ranking,
        [c.code for c in fw.categories],
        f"Department ranking, period {period} (run {outcome.run.run_key})",
    )
    for note in outcome.notes:
        if note != DEMO_NOTICE:
            console.print(f"note: {note}")


# --- runs -------------------------------------------------------------------------------------
@runs_app.command("list")
def runs_list() -> None:
    """List stored evaluation runs, newest first.

    Example: egov runs list
    """
    from sqlmodel import col, select

    from egov.db import init_db, session_scope
    from egov.models import EvaluationRun, FrameworkVersion, Period

    init_db()
    with session_scope() as session:
        rows = session.exec(
            select(EvaluationRun, FrameworkVersion.code, FrameworkVersion.version, Period.code)
            .join(FrameworkVersion, col(FrameworkVersion.id) == col(EvaluationRun.framework_id))
            .join(Period, col(Period.id) == col(EvaluationRun.period_id))
            .order_by(col(EvaluationRun.id).desc())
        ).all()
    table = Table(title="Evaluation runs")
    for c in ("run", "period", "framework", "created", "by", "inputs", "results"):
        table.add_column(c)
    for run, fcode, fver, pcode in rows:
        table.add_row(
            run.run_key,
            pcode,
            f"{fcode} {fver}",
            run.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            run.created_by,
            run.inputs_hash[:12],
            run.results_hash[:12],
        )
    console.print(table)


@runs_app.command("show")
def runs_show(
    run: Annotated[str | None, typer.Argument(help="Run key (default: the latest run).")] = None,
    lang: LangOpt = "en",
) -> None:
    """Show a stored run: its identity and the department ranking.

    Example: egov runs show 3f2a9c1b7d4e
    """
    from egov.db import init_db, session_scope
    from egov.store import department_names, get_run, run_scores

    lang = _check_lang(lang)
    init_db()
    with session_scope() as session:
        r = get_run(session, run)
        scores = run_scores(session, r, "department")
        names = department_names(session)
    console.print(
        f"run {r.run_key}: created {r.created_at:%Y-%m-%d %H:%M:%S} by {r.created_by}; "
        f"inputs {r.inputs_hash[:12]}, results {r.results_hash[:12]}, software {r.software_version}"
    )
    if r.note:
        console.print(f"note: {r.note}")
    if scores.empty:
        console.print("no department scores in this run")
        return
    top = scores[scores["level"] == scores["level"].max()].sort_values("rank")
    table = Table(title="Overall department ranking")
    for c in ("rank", "department", "name", "score", "peer rank"):
        table.add_column(c)
    for row in top.itertuples():
        peer = "" if pd.isna(row.peer_rank) else str(int(row.peer_rank))
        table.add_row(
            str(int(row.rank)), row.entity, str(names[lang].get(row.entity, "")), f"{row.score:.2f}", peer
        )
    console.print(table)


def _num(v: Any, fmt: str) -> str:
    return "—" if v is None or pd.isna(v) else format(v, fmt)


@runs_app.command("diff")
def runs_diff(
    run_a: Annotated[str, typer.Argument(help="Run key of the earlier (or reference) run.")],
    run_b: Annotated[str, typer.Argument(help="Run key of the run to compare with it.")],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Folder for identity.csv, spec.csv, inputs.csv, results.csv, framework.diff."
        ),
    ] = None,
    limit: Annotated[int, typer.Option(help="Rows shown per table on screen (the files hold all).")] = 30,
) -> None:
    """What differs between two stored runs: framework (code, version, hash and the file line
    by line), the method spec key by key, input values (added, removed, changed, with unit
    and indicator) and the department scores and ranks.

    Example: egov runs diff 3f2a9c1b7d4e 8c0d5e6f7a1b --out diff/
    """
    from egov.db import init_db, session_scope
    from egov.record import diff_runs
    from egov.store import get_run

    init_db()
    with session_scope() as session:
        d = diff_runs(session, get_run(session, run_a), get_run(session, run_b))
    changed = d.identity[d.identity["differs"]]
    console.print(f"run {d.a.run_key} → run {d.b.run_key}")
    for note in d.notes:
        console.print(f"note: {note}")
    table = Table(title="Identity")
    for c in ("field", run_a, run_b, ""):
        table.add_column(c, overflow="fold")
    for r in d.identity.itertuples():
        table.add_row(str(r.field), str(r.a), str(r.b), "differs" if r.differs else "")
    console.print(table)
    if d.framework_text:
        console.print(f"framework files differ ({len(d.framework_text)} diff lines):")
        for line in d.framework_text[: limit * 2]:
            console.print(line, markup=False, highlight=False)
    if d.spec.empty:
        console.print("spec: the same")
    else:
        table = Table(title="Spec (key by key)")
        for c in ("key", run_a, run_b):
            table.add_column(c, overflow="fold")
        for r in d.spec.itertuples():
            table.add_row(str(r.key), "—" if r.a is None else str(r.a), "—" if r.b is None else str(r.b))
        console.print(table)
    if d.inputs.empty:
        console.print("inputs: the same values")
    else:
        counts = d.inputs["change"].value_counts().to_dict()
        table = Table(
            title="Inputs of the scored period: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
        )
        for c in ("unit", "department", "indicator", "change", run_a, run_b):
            table.add_column(c, overflow="fold")
        for r in d.inputs.head(limit).itertuples():
            table.add_row(
                str(r.unit),
                str(r.department or ""),
                str(r.indicator),
                str(r.change),
                _num(r.a, ".17g"),
                _num(r.b, ".17g"),
            )
        console.print(table)
    if d.results.empty:
        console.print("results: every department score and rank is the same")
    else:
        top = d.results[d.results["level"] == d.results["level"].max()]
        table = Table(title=f"Department results that differ: {len(d.results)} (department, node); overall:")
        for c in ("department", "node", "score a", "score b", "change", "rank a", "rank b", "rank change"):
            table.add_column(c)
        for r in top.head(limit).itertuples():
            table.add_row(
                str(r.department),
                str(r.node),
                _num(r.score_a, ".3f"),
                _num(r.score_b, ".3f"),
                _num(r.score_change, "+.3f"),
                _num(r.rank_a, ".0f"),
                _num(r.rank_b, ".0f"),
                _num(r.rank_change, "+.0f"),
            )
        console.print(table)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        d.identity.to_csv(out / "identity.csv", index=False)
        d.spec.to_csv(out / "spec.csv", index=False)
        d.inputs.to_csv(out / "inputs.csv", index=False, float_format="%.17g")
        d.results.to_csv(out / "results.csv", index=False, float_format="%.17g")
        (out / "framework.diff").write_text("\n".join(d.framework_text) + "\n", encoding="utf-8")
        console.print(f"wrote {out}/")
    if not changed["field"].isin(["created at", "created by"]).all() or not d.results.empty:
        return
    console.print("same framework, spec, inputs and results: the runs differ only in when and by whom")


@runs_app.command("export")
def runs_export(
    run: Annotated[str, typer.Argument(help="Run key (see `egov runs list`).")],
    out: Annotated[
        Path, typer.Option("--out", help="Bundle to write: a new folder, or a file ending in .zip.")
    ],
) -> None:
    """Write a self-contained bundle of a run: manifest.json (identity, spec, hashes, the
    SHA-256 of every file), framework.toml, the inputs, the results and a README on how
    to verify it. See docs/record.md.

    Example: egov runs export 3f2a9c1b7d4e --out run-3f2a9c1b7d4e.zip
    """
    from egov.db import init_db, session_scope
    from egov.record import export_bundle
    from egov.store import get_run

    init_db()
    with session_scope() as session:
        path, digest = export_bundle(session, get_run(session, run), out)
    console.print(f"wrote bundle {path}")
    console.print(f"manifest.json SHA-256 (publish it with the report): {digest}")


@runs_app.command("verify")
def runs_verify(
    bundle: Annotated[Path, typer.Argument(help="Bundle folder or .zip written by `egov runs export`.")],
    digest: Annotated[
        str | None,
        typer.Option(help="The published SHA-256 of manifest.json; the bundle must carry exactly it."),
    ] = None,
) -> None:
    """Recompute a bundle from its files alone (no database): check every file's SHA-256,
    the framework's content hash and the inputs hash, re-evaluate, and compare the results
    hash and every score and rank. Prints VERIFIED, or what differs (exit code 1).

    Example: egov runs verify run-3f2a9c1b7d4e.zip --digest 9c1b…
    """
    from egov.record import verify_bundle

    check = verify_bundle(bundle, digest)
    m = check.manifest
    fw = m.get("framework") or {}
    console.print(
        f"bundle {bundle}: run {m.get('run_key')}, period {(m.get('period') or {}).get('code')}, "
        f"framework {fw.get('code')} {fw.get('version')}, made by {m.get('created_by')} at "
        f"{m.get('created_at')} with egov-eval {m.get('software_version')}"
    )
    console.print(f"manifest.json SHA-256: {check.digest}")
    for note in check.notes:
        console.print(f"note: {note}")
    if check.ok:
        console.print(f"VERIFIED: results hash {check.recomputed_results_hash} recomputed from the bundle")
        return
    console.print(f"NOT VERIFIED: {len(check.problems)} difference(s)")
    for p in check.problems:
        console.print(f"  {p}", markup=False, highlight=False)
    raise typer.Exit(1)


# --- metric collection: template, imports, history (issue 4) ---------------------------------
import_app = typer.Typer(
    help="Validated, all-or-nothing imports: metric values and the register.", no_args_is_help=True
)
metrics_app = typer.Typer(help="Stored metric values and their provenance.", no_args_is_help=True)
app.add_typer(import_app, name="import")
app.add_typer(metrics_app, name="metrics")

DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Validate and report everything, but write nothing.")
]


@app.command("template")
def template_cmd(
    period: Annotated[str, typer.Option("--period", help="Period code the values are for, e.g. 2024.")],
    out: Annotated[Path, typer.Option("--out", help="Workbook to write (.xlsx).")],
    framework: Annotated[
        str | None,
        typer.Option(help="Framework file or built-in name (default: the latest stored one, else macau)."),
    ] = None,
    lang: LangOpt = "en",
) -> None:
    """Write the Excel workbook in which departments report metric values: one sheet per
    category, a row per assessed object, a validated column per metric indicator.

    Example: egov template --period 2024 --lang zh-Hant --out metrics-2024.xlsx
    """
    from egov.db import init_db, session_scope
    from egov.imports import framework_for_import
    from egov.store import check_period_code, operator_name
    from egov.template import build_template, template_objects, write_template

    lang = _check_lang(lang)
    init_db()
    with session_scope() as session:
        check_period_code(session, period)
        fw = framework_for_import(session, framework)
        objects = template_objects(session, lang)
    wb = build_template(fw, objects, period, lang, operator_name())
    write_template(wb, out)
    sheets = [ws.title for ws in wb.worksheets if ws.sheet_state == "visible"][1:]
    console.print(
        f"wrote {out}: framework {fw.code} {fw.version}, period {period}, {len(objects)} objects, "
        f"sheets: {', '.join(sheets)}"
    )


@import_app.command("metrics")
def import_metrics_cmd(
    file: Annotated[Path, typer.Argument(help="The filled template (.xlsx) or a CSV, long or wide.")],
    period: Annotated[str, typer.Option("--period", help="Period code of the values, e.g. 2024.")],
    framework: Annotated[
        str | None,
        typer.Option(help="Framework file or built-in name (default: the latest stored one, else macau)."),
    ] = None,
    dry_run: DryRunOpt = False,
) -> None:
    """Import metric values after validating the whole file; any problem → nothing is written.

    A re-import supersedes the current values and keeps them in the history.
    Example: egov import metrics metrics-2024.xlsx --period 2024 --dry-run
    """
    from egov.db import init_db, session_scope
    from egov.imports import framework_for_import, import_metrics

    init_db()
    with session_scope() as session:
        fw = framework_for_import(session, framework)
        report = import_metrics(session, file, period, fw, dry_run=dry_run)
    for note in report.notes:
        console.print(f"note: {note}")
    n_obj = len({v["object"] for v in report.values})
    what = f"{len(report.values)} values for {n_obj} objects ({report.layout}, sha256 {report.sha256[:12]})"
    if report.dry_run:
        console.print(
            f"dry run: {report.file} is valid — {what} would be imported into period {report.period}, "
            f"superseding {report.superseded} current values; nothing was written"
        )
    else:
        console.print(
            f"imported {report.file}: {what} into period {report.period}; "
            f"{report.superseded} earlier values superseded (kept in the history)"
        )


@import_app.command("departments")
def import_departments_cmd(
    file: Annotated[
        Path, typer.Argument(help="Register: TOML (like macau_register.toml), or a CSV/XLSX table.")
    ],
    dry_run: DryRunOpt = False,
) -> None:
    """Import the register of peer groups, departments and assessed objects (kind, subkind)
    after validating the whole file; any problem → nothing is written.

    Table columns: type (peer_group|department|object), code, name_zh-Hant, name_pt, name_en,
    peer_group, department, kind, subkind, note.
    Example: egov import departments register.csv
    """
    from egov.db import init_db, session_scope
    from egov.imports import import_register

    init_db()
    with session_scope() as session:
        report = import_register(session, file, dry_run=dry_run)
    parts = ", ".join(f"{n} {k.replace('_', ' ')} ({report.new[k]} new)" for k, n in report.counts.items())
    if report.dry_run:
        console.print(f"dry run: {report.file} is valid — {parts}; nothing was written")
    else:
        console.print(f"imported {report.file}: {parts}")


@metrics_app.command("history")
def metrics_history_cmd(
    obj: Annotated[str, typer.Argument(metavar="OBJECT", help="Assessed object code, e.g. ONE_ACCOUNT.")],
    indicator: Annotated[str, typer.Argument(help="Indicator code, e.g. app_takeup.")],
    period: Annotated[str | None, typer.Option("--period", help="Only this period.")] = None,
) -> None:
    """Every value ever stored for an object's indicator — current and superseded — with its
    provenance (file, SHA-256, sheet, cell, importer, time).

    Example: egov metrics history ONE_ACCOUNT app_takeup --period 2023
    """
    from egov.db import init_db, session_scope
    from egov.store import metric_history

    init_db()
    with session_scope() as session:
        rows = metric_history(session, obj, indicator, period)
    if rows.empty:
        console.print(
            f"no values stored for {obj} / {indicator}" + (f" in period {period}" if period else "")
        )
        return
    table = Table(title=f"History of {obj} / {indicator}")
    for c in (
        "period",
        "value",
        "status",
        "state",
        "file",
        "sha256",
        "sheet!cell",
        "imported by",
        "imported at",
    ):
        table.add_column(c, overflow="fold")
    for rec in rows.to_dict("records"):
        state = "current" if rec["current"] else f"superseded {rec['superseded_at']:%Y-%m-%d %H:%M:%S}"
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


# === citizen ratings: egov serve, keys, ratings, cases (surveys/, issue 5) =====================
if TYPE_CHECKING:
    from datetime import date

keys_app = typer.Typer(help="API keys of the rating service (stored hashed).", no_args_is_help=True)
ratings_app = typer.Typer(help="Citizen ratings: export, purge, roll-ups.", no_args_is_help=True)
cases_app = typer.Typer(help="Bad-rating follow-up cases.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(ratings_app, name="ratings")
app.add_typer(cases_app, name="cases")


@app.command("serve")
def serve_cmd(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes (rate limits are per worker).")] = 1,
) -> None:
    """Serve the rating API, the widget, the OpenAPI docs (/docs) and the report pages
    (/reports/, login with a department, assessor or admin key) with uvicorn.

    Example: egov serve --host 0.0.0.0 --port 8000 --workers 4
    """
    import uvicorn

    from egov.db import dispose_engines, init_db

    if workers < 1:
        raise EgovError("--workers must be at least 1")
    init_db()
    dispose_engines()  # no pooled connection may cross into the workers
    console.print(
        f"serving the rating API on http://{host}:{port} (docs: /docs, reports: /reports/), {workers} worker(s)"
    )
    uvicorn.run(
        "egov.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
    )


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option("--role", help="department, assessor or admin.")],
    department: Annotated[
        str | None, typer.Option("--department", help="Department code (department keys only).")
    ] = None,
    label: Annotated[str, typer.Option(help="A note saying what the key is for.")] = "",
) -> None:
    """Create an API key and print it once (only its hash is stored).

    Example: egov keys create --role department --department SAFP --label "SAFP back end"
    """
    from egov.auth import create_key
    from egov.db import init_db, session_scope

    init_db()
    with session_scope() as session:
        key, row = create_key(session, role, department, label)
    console.print(f"key {row.id} ({role}{' ' + department if department else ''}); shown once, store it now:")
    typer.echo(key)


@keys_app.command("list")
def keys_list() -> None:
    """List API keys: id, prefix, role, department, created, revoked (never the keys).

    Example: egov keys list
    """
    from sqlmodel import col, select

    from egov.db import init_db, session_scope
    from egov.models import ApiKey, Department

    init_db()
    with session_scope() as session:
        rows = session.exec(
            select(ApiKey, Department.code)
            .join(Department, col(Department.id) == col(ApiKey.department_id), isouter=True)
            .order_by(col(ApiKey.id))
        ).all()
    table = Table(title="API keys")
    for c in ("id", "prefix", "role", "department", "label", "created", "revoked"):
        table.add_column(c)
    for key, dept in rows:
        table.add_row(
            str(key.id),
            key.prefix + "…",
            key.role,
            dept or "",
            key.label,
            f"{key.created_at:%Y-%m-%d %H:%M}",
            f"{key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "",
        )
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[int, typer.Argument(help="Id of the key (see `egov keys list`).")]) -> None:
    """Revoke an API key; it stops working at once.

    Example: egov keys revoke 3
    """
    from egov.auth import revoke_key
    from egov.db import init_db, session_scope

    init_db()
    with session_scope() as session:
        revoke_key(session, key_id)
    console.print(f"key {key_id} revoked")


@ratings_app.command("purge")
def ratings_purge(
    before: Annotated[
        str | None,
        typer.Option(
            help="Anonymise ratings of days before this date (default: today − EGOV_RATING_RETENTION_DAYS)."
        ),
    ] = None,
) -> None:
    """Anonymise old raw ratings (comment, pseudonym, IP, transaction reference) and delete
    their tokens; the daily roll-ups do not change.

    Example: egov ratings purge --before 2024-01-01
    """
    from datetime import date as _date

    from egov.db import init_db, session_scope
    from surveys.privacy import purge_ratings

    init_db()
    cutoff = _parse_date(before, "--before") if before else None
    with session_scope() as session:
        counts = purge_ratings(session, cutoff)
    console.print(
        f"anonymised {counts['anonymised']} rating(s), deleted {counts['tokens_deleted']} token(s)"
        f" (before {cutoff or 'the retention limit'}; today {_date.today()})"
    )


@ratings_app.command("export")
def ratings_export(
    out: Annotated[Path, typer.Option("--out", help="CSV file to write.")],
    start: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD.")],
) -> None:
    """Export ratings as CSV with comments scrubbed of ID-card numbers, phones and e-mails
    (no pseudonym, IP or transaction reference).

    Example: egov ratings export --from 2026-01-01 --to 2026-03-31 --out ratings.csv
    """
    from egov.db import init_db, session_scope
    from surveys.privacy import export_csv

    init_db()
    with session_scope() as session, out.open("w", encoding="utf-8", newline="") as fh:
        for chunk in export_csv(session, _parse_date(start, "--from"), _parse_date(end, "--to")):
            fh.write(chunk)
    console.print(f"wrote {out}")


@ratings_app.command("rollup")
def ratings_rollup(
    start: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD.")],
) -> None:
    """Rebuild the daily roll-ups of days [from, to] from the counted ratings (they are
    otherwise kept up to date incrementally by the API).

    Example: egov ratings rollup --from 2026-01-01 --to 2026-12-31
    """
    from egov.db import init_db, session_scope
    from surveys.rollup import rebuild_rollups

    init_db()
    with session_scope() as session:
        n = rebuild_rollups(session, _parse_date(start, "--from"), _parse_date(end, "--to"))
    console.print(f"rebuilt {n} roll-up row(s)")


@cases_app.command("metrics")
def cases_metrics(
    period: Annotated[str, typer.Option("--period", help="Period code, e.g. 2026.")],
    by: Annotated[str, typer.Option(help="department or object.")] = "department",
    store: Annotated[
        bool,
        typer.Option(
            help="Also store mgmt_rectify_on_time and mgmt_return_visit as metric values of each "
            "department's administrative management objects."
        ),
    ] = False,
) -> None:
    """Bad-rating case metrics of a period: rectified on time, return-visit rate, appeals.

    Example: egov cases metrics --period 2026 --store
    """
    from egov.db import init_db, session_scope
    from egov.store import add_metric_values, get_period
    from surveys.cases import case_metrics, management_indicator_values

    init_db()
    with session_scope() as session:
        p = get_period(session, period)
        df = case_metrics(session, p.start, p.end, by)
        stored = 0
        if store:
            values = management_indicator_values(session, p.start, p.end)
            stored = add_metric_values(session, p, values, source_file=f"ratings:cases {period}")
    table = Table(title=f"Bad-rating cases opened in period {period}, by {by}")
    for c in (by, "cases", "rectified on time %", "return visits %", "appeals", "upheld", "removed"):
        table.add_column(c)
    for unit, r in df.iterrows():
        table.add_row(
            str(unit),
            str(r["cases"]),
            "—" if pd.isna(r["rectified_on_time"]) else f"{r['rectified_on_time']:.1f}",
            "—" if pd.isna(r["return_visit_rate"]) else f"{r['return_visit_rate']:.1f}",
            str(r["appeals"]),
            str(r["appeals_upheld"]),
            str(r["appeals_removed"]),
        )
    console.print(table)
    if store:
        console.print(f"stored {stored} management indicator value(s)")


def _parse_date(text: str, option: str) -> date:
    from datetime import date as _date

    try:
        return _date.fromisoformat(text)
    except ValueError as exc:
        raise EgovError(f"{option} {text!r}: use a date YYYY-MM-DD") from exc


# === end of the citizen ratings section =============================================================


# === uncertainty and sensitivity: egov uncertainty (evaluation/uncertainty.py, issue 6) ==========
@app.command("uncertainty")
def uncertainty_cmd(
    run: Annotated[
        str | None, typer.Option("--run", help="Key of a stored run (default: the latest run).")
    ] = None,
    period: Annotated[
        str | None,
        typer.Option("--period", help="Period code: use the period's stored data instead of a run's inputs."),
    ] = None,
    n: Annotated[int, typer.Option("--n", help="Monte Carlo replications.")] = 1000,
    seed: Annotated[
        int, typer.Option("--seed", help="Seed of the random numbers (same seed, same output).")
    ] = 1,
    weight_noise: Annotated[
        float, typer.Option("--weight-noise", help="Relative noise on every weight: w × (1 + U(−x, x)).")
    ] = 0.25,
    normalisations: Annotated[
        str,
        typer.Option(
            "--normalisations",
            help="Normalisation alternatives, comma-separated, each `name[:key=value]…`; a bare minmax "
            "is [1, 100] and zscore mean 10, sd 2 (positive, for the geometric mean); empty: the framework's.",
        ),
    ] = "minmax,zscore,rank",
    aggregations: Annotated[
        str,
        typer.Option(
            "--aggregations", help="Aggregation alternatives, comma-separated; empty: the framework's."
        ),
    ] = "arithmetic,geometric",
    imputations: Annotated[
        str,
        typer.Option("--imputations", help="Imputation alternatives, comma-separated (e.g. mean,median)."),
    ] = "",
    ratings: Annotated[
        bool,
        typer.Option(
            "--rating-draws/--no-rating-draws",
            help="Include the sampling error of rating-derived indicators (posterior draws from the roll-ups).",
        ),
    ] = True,
    confidence: Annotated[
        float, typer.Option("--confidence", help="P(A above B) needed to tell neighbours apart (tiers).")
    ] = 0.95,
    sensitivity_n: Annotated[
        int | None,
        typer.Option(
            "--sensitivity-n", help="Base sample of the sensitivity analysis (default --n; 0 skips it)."
        ),
    ] = None,
    top: Annotated[int, typer.Option("--top", help="Number of sensitivity indices printed.")] = 8,
    out: Annotated[Path, typer.Option("--out", help="Folder for the CSV files.")] = Path("egov-output"),
    lang: LangOpt = "en",
) -> None:
    """Rank intervals, P(A above B), tiers and sensitivity indices of a stored run (Monte Carlo
    over weights, normalisation, aggregation, imputation and the rating sampling error).

    Example: egov uncertainty --n 1000 --seed 1 --normalisations minmax,zscore,rank --out egov-output
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from egov.db import init_db, session_scope
    from egov.record import load_inputs
    from egov.scoring import assemble_inputs, earlier_periods
    from egov.settings import get_settings
    from egov.store import (
        DEMO_NOTICE,
        department_names,
        get_period,
        get_run,
        has_demo_values,
        latest_framework,
        units_table,
    )
    from evaluation.uncertainty import monte_carlo, parse_alternatives
    from surveys.uncertainty import indicator_draws, posterior_draws, rating_counts

    lang = _check_lang(lang)
    if run and period:
        raise EgovError("give --run or --period, not both")
    alts = {
        "normalisations": parse_alternatives("normalisation", normalisations),
        "aggregations": parse_alternatives("aggregation", aggregations),
        "imputations": parse_alternatives("imputation", imputations),
    }
    init_db()
    with session_scope() as session:
        if period:
            per = get_period(session, period)
            _, fw = latest_framework(session)
            data, _ = assemble_inputs(session, fw, per)
            if data.empty:
                raise EgovError(f"period {per.code} has no metric values or ratings")
            units = units_table(session)
            units = units[units.index.isin(data["unit"].unique())]
            history = [assemble_inputs(session, fw, p)[0] for p in earlier_periods(session, per)]
            spec, source = None, f"period {per.code} (latest framework {fw.code} {fw.version})"
        else:
            inputs = load_inputs(session, get_run(session, run))
            per, fw, spec = inputs.period, inputs.framework, inputs.spec
            data, units, history = inputs.data, inputs.units, inputs.history
            source = f"run {inputs.run.run_key}, period {per.code}"
        draws = None
        if ratings and any(node.source == "rating" for node in fw.indicators):
            counts = rating_counts(session, per.start, per.end)
            if not counts.empty:
                draws = indicator_draws(
                    fw, posterior_draws(counts, n, seed=seed, min_ratings=get_settings().min_ratings)
                )
        demo = has_demo_values(session, per)
        names = department_names(session)

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

        res = monte_carlo(
            data,
            fw,
            spec,
            units,
            n=n,
            seed=seed,
            weight_noise=weight_noise,
            rating_draws=draws,
            confidence=confidence,
            sensitivity_n=sensitivity_n,
            history=history,
            progress=step,
            normalisations=alts["normalisations"],
            aggregations=alts["aggregations"],
            imputations=alts["imputations"],
        )
    if demo:
        console.print(f"[bold yellow]{DEMO_NOTICE}[/]")
    s = res.settings
    console.print(
        f"{source}: {s['n']} replications (seed {s['seed']}), weights ±{s['weight_noise']:.0%}; "
        f"normalisation: {', '.join(s['normalisations']) or 'as in the framework'}; aggregation: "
        f"{', '.join(s['aggregations']) or 'as in the framework'}; imputation: "
        f"{', '.join(s['imputations']) or 'as in the framework'}; rating draws: {s['rating_draws'] or 'none'}"
    )
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
    if not res.sensitivity.empty:
        sens = Table(title=f"Sensitivity of the ranks (Saltelli/Jansen, base sample {s['sensitivity_n']})")
        for c in ("input", "first order", "total order", "total order (score)"):
            sens.add_column(c)
        for factor, r in res.sensitivity.head(top).iterrows():
            sens.add_row(
                str(factor),
                f"{r['first_order']:.3f}",
                f"{r['total_order']:.3f}",
                f"{r['total_order_score']:.3f}",
            )
        console.print(sens)
    for note in res.warnings:
        console.print(f"note: {note}")
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
        frame.to_csv(out / fname, index=fname not in ("uncertainty_sensitivity_by_entity.csv",))
    console.print(f"wrote {len(files)} files to {out}/")


# === end of the uncertainty section ================================================================


# === horizontal comparison: rank, compare, gaps, priorities, change (evaluation/compare.py, issue 6) ===
if TYPE_CHECKING:
    from typing import Any

    from sqlmodel import Session

    from egov.models import EvaluationRun
    from egov.record import RunInputs
    from evaluation.engine import EvaluationResult
    from indicators.framework import Framework

RunOpt = Annotated[str | None, typer.Option("--run", help="Run key (default: the latest run).")]
OutCsvOpt = Annotated[Path | None, typer.Option("--out", help="Also write the full table to this CSV file.")]


def _cmp_load(key: str | None) -> tuple[EvaluationRun, EvaluationResult, Framework, pd.DataFrame]:
    """A stored run recomputed (and checked against its results hash), its framework and the
    department names: (run, result, framework, names)."""
    from egov.db import init_db, session_scope
    from egov.record import load_inputs, load_result
    from egov.store import department_names, get_run

    init_db()
    with session_scope() as session, err.status("recomputing the run from its stored inputs…"):
        run = get_run(session, key)
        result = load_result(session, run)
        framework = load_inputs(session, run).framework
        names = department_names(session)
    return run, result, framework, names


def _cmp_name(names: pd.DataFrame, lang: str, dept: str) -> str:
    return str(names[lang].get(dept, "")) if lang in names else ""


def _cmp_num(v: Any, fmt: str = ".2f") -> str:
    return "—" if v is None or pd.isna(v) else format(float(v), fmt)


def _cmp_rank(v: Any) -> str:
    return "—" if v is None or pd.isna(v) else str(int(v))


def _cmp_csv(table: pd.DataFrame, out: Path | None) -> None:
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(out, index=False)
        console.print(f"wrote {out}")


@app.command("rank")
def rank_cmd(
    run: RunOpt = None,
    level: Annotated[
        str | None,
        typer.Option("--level", help="Rank at every node of a level: category, dimension or indicator."),
    ] = None,
    node: Annotated[str | None, typer.Option("--node", help="Rank at one node (any code).")] = None,
    peer_group: Annotated[
        str | None, typer.Option("--peer-group", help="Only the departments of this peer group.")
    ] = None,
    out: OutCsvOpt = None,
    lang: LangOpt = "en",
) -> None:
    """Department rankings of a stored run: overall (default), at one node, or at every
    category, dimension or indicator; ties take the lowest rank number; peer-group ranks.

    Example: egov rank --level category --peer-group security --lang pt
    """
    from evaluation.compare import node_kinds, rankings

    lang = _check_lang(lang)
    if level is not None and level not in ("category", "dimension", "indicator"):
        raise EgovError(f"--level {level!r}: use category, dimension or indicator")
    r, result, fw, names = _cmp_load(run)
    kinds = node_kinds(result)
    nodes = [node] if node else [c for c, k in kinds.items() if k == level] if level else [result.index_code]
    table = rankings(result, nodes=nodes)
    if peer_group is not None:
        groups = sorted(set(table["peer_group"]))
        if peer_group not in groups:
            raise EgovError(
                f"unknown peer group '{peer_group}' (peer groups of this run: {', '.join(groups)})"
            )
        table = table[table["peer_group"] == peer_group]
    _cmp_csv(table, out)
    title = f"Ranking, run {r.run_key}" + (f", peer group {peer_group}" if peer_group else "")
    if len(nodes) == 1:
        t = Table(title=f"{title}: {fw.nodes[nodes[0]].label(lang)} ({nodes[0]})")
        for c in ("rank", "department", "name", "score", "peer group", "peer rank"):
            t.add_column(c, overflow="fold")
        for row in table.itertuples():
            t.add_row(
                _cmp_rank(row.rank),
                str(row.entity),
                _cmp_name(names, lang, str(row.entity)),
                _cmp_num(row.score),
                str(row.peer_group),
                _cmp_rank(row.peer_rank),
            )
        console.print(t)
        return
    wide_rank = "peer_rank" if peer_group else "rank"
    order = rankings(result, nodes=[result.index_code]).set_index("entity")
    t = Table(title=f"{title}: every {level}, score ({'peer ' if peer_group else ''}rank)")
    for c in ("overall", "department", "name", *nodes):
        t.add_column(c, overflow="fold")
    by_node = {n: part.set_index("entity") for n, part in table.groupby("node")}
    for dept in [d for d in order.index if d in set(table["entity"])]:
        cells = []
        for n in nodes:
            part = by_node.get(n)
            if part is None or dept not in part.index:
                cells.append("—")
            else:
                score = _cmp_num(part.at[dept, "score"], ".1f")
                cells.append(f"{score} ({_cmp_rank(part.at[dept, wide_rank])})")
        t.add_row(_cmp_rank(order.at[dept, wide_rank]), dept, _cmp_name(names, lang, dept), *cells)
    console.print(t)


@app.command("compare")
def compare_cmd(
    department_a: Annotated[str, typer.Argument(metavar="DEPT_A", help="First department code.")],
    department_b: Annotated[str, typer.Argument(metavar="DEPT_B", help="Second department code.")],
    run: RunOpt = None,
    top: Annotated[int, typer.Option("--top", help="How many indicators that differ most to show.")] = 10,
    out: OutCsvOpt = None,
    lang: LangOpt = "en",
) -> None:
    """Two departments side by side: score and rank per category and dimension, then the
    indicators (rolled-up normalised values) on which they differ most.

    Example: egov compare SAFP DSAT --top 8
    """
    from evaluation.compare import head_to_head

    lang = _check_lang(lang)
    r, result, fw, names = _cmp_load(run)
    h2h = head_to_head(result, department_a, department_b)
    _cmp_csv(h2h, out)
    a, b = department_a, department_b
    t = Table(
        title=f"{a} ({_cmp_name(names, lang, a)}) vs {b} ({_cmp_name(names, lang, b)}), run {r.run_key}"
    )
    for c in ("node", "name", f"{a} score (rank)", f"{b} score (rank)", f"{a} − {b}"):
        t.add_column(c, overflow="fold")
    aggregates = h2h[(h2h["kind"] != "indicator") & (h2h["score_a"].notna() | h2h["score_b"].notna())]
    for row in aggregates.itertuples():
        indent = {"index": "", "category": "  ", "dimension": "    "}[str(row.kind)]
        t.add_row(
            indent + str(row.node),
            fw.nodes[str(row.node)].label(lang),
            f"{_cmp_num(row.score_a, '.1f')} ({_cmp_rank(row.rank_a)})",
            f"{_cmp_num(row.score_b, '.1f')} ({_cmp_rank(row.rank_b)})",
            _cmp_num(row.difference, "+.1f"),
        )
    console.print(t)
    ind = h2h[(h2h["kind"] == "indicator") & h2h["difference"].notna()]
    ind = ind.reindex(ind["difference"].abs().sort_values(ascending=False, kind="mergesort").index).head(top)
    t = Table(title=f"Indicators on which they differ most (normalised values; {len(ind)} shown)")
    for c in ("indicator", "name", a, b, f"{a} − {b}"):
        t.add_column(c, overflow="fold")
    for row in ind.itertuples():
        t.add_row(
            str(row.node),
            fw.nodes[str(row.node)].label(lang),
            f"{row.score_a:.1f}",
            f"{row.score_b:.1f}",
            f"{row.difference:+.1f}",
        )
    console.print(t)


@app.command("gaps")
def gaps_cmd(
    department: Annotated[str, typer.Argument(metavar="DEPT", help="Department code.")],
    run: RunOpt = None,
    n: Annotated[int, typer.Option("--n", help="How many strengths and weaknesses to show.")] = 5,
    out: OutCsvOpt = None,
    lang: LangOpt = "en",
) -> None:
    """A department's distance to the best and to the median (overall and in its peer
    group) per category and dimension, and its strengths and weaknesses: the indicators
    where its percentile among the departments is highest and lowest.

    Example: egov gaps SAFP --n 3 --out safp-gaps.csv
    """
    from evaluation.compare import gaps, strengths_weaknesses

    lang = _check_lang(lang)
    r, result, fw, names = _cmp_load(run)
    table = gaps(result, department)
    sw = strengths_weaknesses(result, department, n=n)
    _cmp_csv(table, out)
    group = table["peer_group"].iloc[0]
    t = Table(title=f"Gaps of {department} ({_cmp_name(names, lang, department)}), run {r.run_key}")
    for c in (
        "node",
        "name",
        "score",
        "rank",
        "best",
        "median",
        "to best",
        "to median",
        "peer best",
        "peer median",
    ):
        t.add_column(c, overflow="fold")
    for row in table[table["kind"] != "indicator"].itertuples():
        t.add_row(
            str(row.node),
            fw.nodes[str(row.node)].label(lang),
            _cmp_num(row.score, ".1f"),
            _cmp_rank(row.rank),
            _cmp_num(row.best, ".1f"),
            _cmp_num(row.median, ".1f"),
            _cmp_num(row.gap_best, ".1f"),
            _cmp_num(row.gap_median, "+.1f"),
            _cmp_num(row.peer_best, ".1f"),
            _cmp_num(row.peer_median, ".1f"),
        )
    console.print(t)
    console.print(f"peer group: {group}; 'to median' > 0 means below the median")
    t = Table(title="Strengths and weaknesses (percentile among departments: 1 = the best)")
    for c in ("", "indicator", "name", "value", "median", "percentile", "rank"):
        t.add_column(c, overflow="fold")
    for row in sw.itertuples():
        t.add_row(
            str(row.side),
            str(row.indicator),
            fw.nodes[str(row.indicator)].label(lang),
            f"{row.value:.1f}",
            f"{row.median:.1f}",
            f"{row.percentile:.2f}",
            f"{_cmp_rank(row.rank)} of {row.n}",
        )
    console.print(t)


@app.command("priorities")
def priorities_cmd(
    department: Annotated[str, typer.Argument(metavar="DEPT", help="Department code.")],
    run: RunOpt = None,
    step: Annotated[
        str,
        typer.Option(
            "--step",
            help="median: reach the peer group's median value; next: reach the value of the next "
            "department above on the indicator.",
        ),
    ] = "median",
    top: Annotated[int, typer.Option("--top", help="How many indicators to show.")] = 10,
    out: OutCsvOpt = None,
    lang: LangOpt = "en",
) -> None:
    """Improvement priorities: the indicators where a realistic step would raise the
    department's overall score most, with the score and rank it would then have (computed
    exactly by re-aggregating with the run's weights).

    Example: egov priorities SAFP --step next --top 5
    """
    from evaluation.compare import priorities

    lang = _check_lang(lang)
    if step not in ("median", "next"):
        raise EgovError(f"--step {step!r}: use median or next")
    r, result, fw, names = _cmp_load(run)
    table = priorities(result, department, step, framework=fw)  # type: ignore[arg-type]
    _cmp_csv(table, out)
    first = table.iloc[0] if len(table) else None
    if first is not None:
        console.print(
            f"{department} ({_cmp_name(names, lang, department)}), run {r.run_key}: score "
            f"{first['score']:.2f}, rank {_cmp_rank(first['rank'])}, peer rank {_cmp_rank(first['peer_rank'])}"
        )
    shown = table[table["step"] > 0].head(top) if len(table) else table
    if shown.empty:
        console.print(f"no step to take: {department} is at or above the {step} value on every indicator")
        return
    target = "peer median" if step == "median" else "next above"
    t = Table(title=f"Improvement priorities ({target}; normalised values)")
    for c in ("indicator", "name", "value", target, "step", "gain", "new score", "new rank", "new peer rank"):
        t.add_column(c, overflow="fold")
    for row in shown.itertuples():
        t.add_row(
            str(row.indicator),
            fw.nodes[str(row.indicator)].label(lang),
            f"{row.value:.1f}",
            f"{row.target:.1f}",
            f"{row.step:+.1f}",
            f"{row.gain:+.3f}",
            f"{row.new_score:.2f}",
            _cmp_rank(row.new_rank),
            _cmp_rank(row.new_peer_rank),
        )
    console.print(t)


def _cmp_previous_run(session: Session, run: EvaluationRun) -> EvaluationRun:
    """The latest run of the same framework code for the latest earlier period that has one."""
    from egov.models import FrameworkVersion, Period
    from egov.store import previous_run

    found = previous_run(session, run)
    fw_row = session.get(FrameworkVersion, run.framework_id)
    period = session.get(Period, run.period_id)
    if fw_row is None or period is None:
        raise EgovError(f"run {run.run_key}: its framework or period is missing from the database")
    if found is None:
        raise EgovError(
            f"run {run.run_key} (period {period.code}, framework {fw_row.code}) has no run of the same "
            "framework for an earlier period; give --from RUN"
        )
    return found


def _cmp_swapped(data_of: RunInputs, method_of: RunInputs) -> EvaluationResult | None:
    """Evaluate one run's data with another run's framework and spec (None when impossible)."""
    from evaluation.engine import evaluate

    try:
        return evaluate(
            data_of.data, method_of.framework, method_of.spec, units=data_of.units, history=data_of.history
        )
    except EgovError as exc:
        console.print(f"note: cannot evaluate run {data_of.run.run_key}'s data with the other method: {exc}")
        return None


@app.command("change")
def change_cmd(
    start: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="Earlier run (default: the latest run of the same framework code "
            "for the period before --to's).",
        ),
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="Later run (default: the latest run).")] = None,
    department: Annotated[
        str | None, typer.Option("--department", help="Show this department's per-indicator contributions.")
    ] = None,
    top: Annotated[int, typer.Option("--top", help="How many indicators to show with --department.")] = 10,
    out: OutCsvOpt = None,
    lang: LangOpt = "en",
) -> None:
    """Score and rank change of every department between two runs, decomposed into
    per-indicator contributions; when the framework or spec changed, split into "the data
    changed" and "the method changed" (Shapley average of both orders).

    Example: egov change --department SAFP --out change.csv
    """
    from egov.db import init_db, session_scope
    from egov.record import load_inputs, load_result
    from egov.store import department_names, get_run
    from evaluation.compare import change

    lang = _check_lang(lang)
    init_db()
    with session_scope() as session:
        to_run = get_run(session, end)
        from_run = get_run(session, start) if start else _cmp_previous_run(session, to_run)
        with err.status("recomputing both runs from their stored inputs…"):
            prev, cur = load_result(session, from_run), load_result(session, to_run)
            prev_in, cur_in = load_inputs(session, from_run), load_inputs(session, to_run)
        names = department_names(session)
    swapped: dict[str, Any] = {}
    with err.status("decomposing the change…"):
        if prev.framework_hash != cur.framework_hash or prev.spec != cur.spec:
            swapped = {
                "current_data_previous_method": _cmp_swapped(cur_in, prev_in),
                "previous_data_current_method": _cmp_swapped(prev_in, cur_in),
            }
        ch = change(prev, cur, **swapped)
    _cmp_csv(ch.summary, out)
    if out is not None:
        _cmp_csv(ch.contributions, out.with_name(out.stem + "_contributions.csv"))
    for note in ch.notes:
        console.print(f"note: {note}")
    title = (
        f"Change from run {from_run.run_key} (period {prev_in.period.code}) to run {to_run.run_key} "
        f"(period {cur_in.period.code})" + ("; the method changed" if ch.method_changed else "")
    )
    split = "data_effect" in ch.summary.columns
    t = Table(title=title)
    columns = ["rank", "department", "name", "score before", "score now", "change", "rank change"]
    columns += ["data effect", "method effect"] if split else []
    for c in (*columns, "largest contributions", "residual"):
        t.add_column(c, overflow="fold")
    contrib = ch.contributions
    for row in ch.summary.itertuples():
        mine = contrib[contrib["department"] == row.department]
        biggest = mine.reindex(mine["contribution"].abs().sort_values(ascending=False).index).head(2)
        parts = ", ".join(f"{c.indicator} {c.contribution:+.2f}" for c in biggest.itertuples())
        cells = [
            _cmp_rank(row.rank_current),
            str(row.department),
            _cmp_name(names, lang, str(row.department)),
            _cmp_num(row.score_previous),
            _cmp_num(row.score_current),
            _cmp_num(row.change, "+.2f"),
            _cmp_num(row.rank_change, "+.0f"),
        ]
        if split:
            cells += [_cmp_num(row.data_effect, "+.2f"), _cmp_num(row.method_effect, "+.2f")]
        t.add_row(*cells, parts, _cmp_num(row.residual, "+.3f"))
    console.print(t)
    if department is not None:
        if department not in set(ch.summary["department"]):
            raise EgovError(
                f"unknown department '{department}' (departments: {', '.join(ch.summary['department'])})"
            )
        mine = contrib[contrib["department"] == department]
        mine = mine.reindex(mine["contribution"].abs().sort_values(ascending=False, kind="mergesort").index)
        t = Table(title=f"{department}: per-indicator contributions (normalised values × effective weights)")
        for c in (
            "indicator",
            "name",
            "value before",
            "value now",
            "value effect",
            "weight effect",
            "contribution",
        ):
            t.add_column(c, overflow="fold")
        for row in mine.head(top).itertuples():
            label = cur_in.framework.nodes.get(str(row.indicator)) or prev_in.framework.nodes.get(
                str(row.indicator)
            )
            t.add_row(
                str(row.indicator),
                label.label(lang) if label else "",
                _cmp_num(row.value_previous, ".1f"),
                _cmp_num(row.value_current, ".1f"),
                _cmp_num(row.value_effect, "+.3f"),
                _cmp_num(row.weight_effect, "+.3f"),
                _cmp_num(row.contribution, "+.3f"),
            )
        console.print(t)


# === end of the horizontal comparison section ========================================================


# === reports: egov report (reports/, issue 7) ======================================================
@app.command("report")
def report_cmd(
    run: Annotated[str, typer.Argument(help="Run key, or 'latest' for the most recent run.")],
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the HTML report and the Excel workbook.")
    ] = Path("egov-output"),
    lang: Annotated[
        str, typer.Option("--lang", help="Language of every label, heading and chart: zh-Hant, pt or en.")
    ] = "zh-Hant",
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
    from egov.db import init_db, session_scope
    from egov.store import get_run
    from reports.assessor import write_reports

    lang = _check_lang(lang)
    init_db()
    with session_scope() as session, err.status("writing the report…"):
        found = get_run(session, None if run == "latest" else run)
        if department:  # --- the department report (reports/department.py)
            from reports.department import write_department_report, write_department_reports

            if department == "all":
                paths = write_department_reports(session, found, out, lang)
            else:
                paths = [write_department_report(session, found, department, out, lang)]
        else:
            paths = write_reports(session, found, out, lang, mc_n=mc, seed=seed)
    for p in paths:
        console.print(f"wrote {p}")


# === end of the reports section ====================================================================


# === rating statistics: egov ratings compare (surveys/stats.py, issue 6) ===========================
@ratings_app.command("compare")
def ratings_compare(
    period: Annotated[
        str | None, typer.Option("--period", help="Period code (its days); default: every rating.")
    ] = None,
    by: Annotated[str, typer.Option(help="Compare departments or objects (apps): department or object.")] = (
        "department"
    ),
    pairwise: Annotated[
        str, typer.Option(help="Pairwise test: dunn (joint ranking) or mannwhitney (pair by pair).")
    ] = "dunn",
    min_ratings: Annotated[
        int, typer.Option(help="Leave out groups with fewer ratings (as scoring does).")
    ] = 30,
    alpha: Annotated[float, typer.Option(help="Significance level for the Holm-adjusted p-values.")] = 0.05,
    limit: Annotated[int, typer.Option(help="Pairs shown on screen (the files hold all).")] = 20,
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder for counts.csv, kruskal.csv and pairwise.csv.")
    ] = None,
) -> None:
    """Do rating distributions differ? Kruskal–Wallis across departments or apps, then
    every pair (Dunn or Mann–Whitney, Holm-corrected) with Cliff's delta, from the daily
    roll-up counts. Methods and sources: surveys/stats.py.

    Example: egov ratings compare --period 2023 --by object --out rating-stats/
    """
    from dataclasses import asdict

    from egov.db import init_db, session_scope
    from egov.store import get_period
    from surveys.stats import compare_ratings

    if not 0 < alpha < 1:
        raise EgovError(f"--alpha {alpha}: use a level between 0 and 1, e.g. 0.05")
    init_db()
    with session_scope() as session:
        start = end = None
        if period:
            p = get_period(session, period)
            start, end = p.start, p.end
        cmp = compare_ratings(session, start, end, by, pairwise, min_ratings)
    where = f"period {period}" if period else "all ratings"
    if cmp.excluded:
        console.print(
            f"note: {len(cmp.excluded)} {by}(s) with fewer than {min_ratings} ratings left out: "
            + ", ".join(cmp.excluded[:10])
            + (" …" if len(cmp.excluded) > 10 else "")
        )
    kw = cmp.kruskal
    if kw is None:
        console.print(
            f"{where}: fewer than two {by}s with at least {min_ratings} ratings; nothing to compare"
        )
        return
    console.print(
        f"Kruskal–Wallis across {kw.groups} {by}s ({kw.n} ratings, {where}): H = {kw.h:.3f}, "
        f"df = {kw.df}, p = {kw.p:.3g}, ε² = {kw.epsilon2:.4f}"
        + (" — the distributions differ" if kw.p < alpha else " — no evidence that they differ")
    )
    pairs = cmp.pairs.sort_values(["p_holm", "p"], kind="mergesort")
    significant = pairs[pairs["p_holm"] < alpha]
    table = Table(
        title=f"Pairs ({'Dunn' if pairwise == 'dunn' else 'Mann–Whitney'}, Holm): "
        f"{len(significant)} of {len(pairs)} differ at {alpha:g}"
    )
    for c in ("a", "b", "n a", "n b", "mean a", "mean b", "z", "p", "p (Holm)", "Cliff's δ", "size"):
        table.add_column(c)
    for r in pairs.head(limit).itertuples():
        table.add_row(
            str(r.a),
            str(r.b),
            str(r.n_a),
            str(r.n_b),
            f"{r.mean_level_a:.2f}",
            f"{r.mean_level_b:.2f}",
            f"{r.z:+.2f}",
            f"{r.p:.3g}",
            f"{r.p_holm:.3g}",
            f"{r.cliffs_delta:+.3f}",
            str(r.magnitude),
        )
    console.print(table)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        cmp.counts.to_csv(out / "counts.csv", float_format="%.17g")
        pd.DataFrame([asdict(kw) | {"by": by, "period": period or ""}]).to_csv(
            out / "kruskal.csv", index=False, float_format="%.17g"
        )
        cmp.pairs.to_csv(out / "pairwise.csv", index=False, float_format="%.17g")
        console.print(f"wrote {out}/counts.csv, kruskal.csv, pairwise.csv")


# === end of the rating statistics section ===========================================================


# === synthetic scales: egov synth (egov/synth.py, issue 8) ========================================
@app.command("synth")
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
) -> None:
    """Generate a synthetic scale for benchmarks: departments, peer groups, objects, metric
    values of the Macau framework for period SYN2025, rating offers and ratings (loaded in
    bulk: COPY on PostgreSQL, batched executemany on SQLite), then the daily roll-ups.
    Use a fresh database (EGOV_DATABASE_URL). Synthetic data, not an evaluation.

    Example: egov synth --scale city --seed 1 && egov score --period SYN2025
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from egov.db import describe_url, init_db, session_scope
    from egov.synth import NOTICE, SCALES, synthesise

    if scale not in SCALES:
        raise EgovError(f"--scale {scale!r}: use one of {', '.join(SCALES)}")
    total = SCALES[scale].ratings if ratings is None else ratings
    init_db()
    columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with (
        session_scope() as session,
        Progress(*columns, console=err, disable=not err.is_terminal) as bar,
    ):
        task = bar.add_task("ratings", total=total)
        out = synthesise(session, scale, seed=seed, ratings=ratings, progress=lambda n: bar.advance(task, n))
    console.print(f"[bold yellow]{NOTICE}[/]")
    console.print(
        f"database {describe_url()}: scale {scale}, seed {seed}, period {out.period}: "
        + ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in out.counts.items())
    )
    console.print("seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in out.seconds.items()))
    console.print(f"next: egov score --period {out.period}")


# === end of the synthetic scales section ===========================================================


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `egov` console script (`argv`: arguments, for tests)."""
    try:
        rc = app(args=argv, prog_name="egov", standalone_mode=False)
    except EgovError as exc:
        err.print(f"error: {exc}", markup=False, highlight=False)
        sys.exit(1)
    except (typer.Abort, KeyboardInterrupt):
        err.print("aborted")
        sys.exit(130)
    except Exception as exc:  # usage errors (Typer's click) and anything unexpected
        code = getattr(exc, "exit_code", None)
        if isinstance(code, int):  # a usage error or an explicit exit: click knows how to say it
            show = getattr(exc, "show", None)
            if callable(show) and type(exc).__name__ != "NoArgsIsHelpError":  # help already shown
                show()
            sys.exit(code)
        if os.environ.get("EGOV_DEBUG"):
            raise
        err.print(f"internal error: {type(exc).__name__}: {exc} (set EGOV_DEBUG=1 for details)", markup=False)
        sys.exit(2)
    if isinstance(rc, int) and rc:
        sys.exit(rc)


if __name__ == "__main__":
    main()
