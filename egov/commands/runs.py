"""`egov runs`: list, show, compare, export and verify stored evaluation runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.table import Table

from egov.bundle import export_bundle, verify_bundle
from egov.cells import plain_number, plain_pair, write_csv
from egov.commands.common import LangOpt, check_lang, console, out_option
from egov.commands.labels import t
from egov.commands.labels_ops import identity_field
from egov.commands.stored import database
from egov.langs import unit_name
from egov.record import RunDiff, diff_runs
from egov.store import department_names, framework_of_run, get_run, list_runs, run_scores
from egov.values import flag_counts, run_flags
from indicators.framework import Framework
from reports.i18n import coverage_text, overall_rank_text
from reports.texts import note_text
from reports.values import rule_label, status_label

app = typer.Typer(help="List, show, compare, export and verify stored evaluation runs.", no_args_is_help=True)


@app.command("list")
def runs_list(lang: LangOpt = None) -> None:
    """List stored evaluation runs, newest first.

    Example: egov runs list --lang pt
    """
    lang = check_lang(lang)
    with database() as session:
        rows = list_runs(session)
    table = Table(title=t("cli.runs.title", lang))
    for c in ("run", "period", "framework", "created", "by", "inputs", "results"):
        table.add_column(t(f"cli.runs.col.{c}", lang))
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


@app.command("show")
def runs_show(
    run: Annotated[str | None, typer.Argument(help="Run key (default: the latest run).")] = None,
    lang: LangOpt = None,
) -> None:
    """Show a stored run: its identity and the department ranking.

    Example: egov runs show 3f2a9c1b7d4e
    """
    lang = check_lang(lang)
    with database() as session:
        r = get_run(session, run)
        scores = run_scores(session, r, "department")
        names = department_names(session)
        framework = framework_of_run(session, r)
        flags = run_flags(session, r.id)
    identity = t(
        "cli.run.identity",
        lang,
        run=r.run_key,
        at=f"{r.created_at:%Y-%m-%d %H:%M:%S}",
        by=r.created_by,
        inputs=r.inputs_hash[:12],
        results=r.results_hash[:12],
        software=r.software_version,
    )
    console.print(identity, markup=False)
    if r.note:
        console.print(note_text(r.note, lang), markup=False)
    if scores.empty:
        console.print(t("cli.run.no_scores", lang))
        return
    top = scores[scores["node"] == framework.index_code].sort_values(
        "rank", na_position="last", kind="mergesort"
    )
    cats = list(framework.index.children)
    covered = scores[scores["node"].isin(cats)].groupby("entity")["score"].count()
    table = Table(title=t("cli.run.ranking", lang))
    for key in ("rank", "department", "name", "score", "coverage", "peer_rank"):
        table.add_column(t(f"cli.col.{key}", lang))
    for row in top.to_dict("records"):
        peer = "" if pd.isna(row["peer_rank"]) else str(int(row["peer_rank"]))
        n = int(covered.get(row["entity"], 0))
        rank = overall_rank_text(row["rank"], n, len(cats), lang)
        name = str(names[lang].get(row["entity"], ""))
        table.add_row(
            rank, str(row["entity"]), name, f"{row['score']:.2f}", coverage_text(n, len(cats)), peer
        )
    console.print(table)
    _print_flags(flags, framework, lang)


def _print_flags(flags: pd.DataFrame, framework: Framework, lang: str, limit: int = 50) -> None:
    """The values the run's framework rule flagged or left out: the counts, then the first
    `limit` of them."""
    counts = flag_counts(flags)
    console.print(t("values.flags_count", lang, **counts) if len(flags) else t("values.flags_none", lang))
    if flags.empty:
        return
    table = Table(title=t("values.flags_title", lang))
    for key in ("department", "object", "indicator", "value", "unit", "status", "rule"):
        table.add_column(t(f"values.{key}", lang))
    for f in flags.head(limit).to_dict("records"):
        node = framework.nodes.get(str(f["indicator"]))
        shown = "" if pd.isna(f["value"]) else plain_number(f["value"])
        unit = unit_name(node.unit, lang) if node is not None else ""
        status, rule = status_label(str(f["status"]), lang), rule_label(str(f["rule"]), lang)
        table.add_row(str(f["department"]), str(f["unit"]), str(f["indicator"]), shown, unit, status, rule)
    console.print(table)
    if len(flags) > limit:
        console.print(t("values.flags_more", lang, n=len(flags) - limit))


def _num(v: Any, fmt: str) -> str:
    return "—" if v is None or pd.isna(v) else format(v, fmt)


def _print_identity_and_spec(d: RunDiff, run_a: str, run_b: str, limit: int, lang: str) -> None:
    table = Table(title=t("cli.diff.identity", lang))
    for c in (t("cli.diff.field", lang), run_a, run_b, ""):
        table.add_column(c, overflow="fold")
    differs = t("cli.diff.differs", lang)
    for r in d.identity.itertuples():
        table.add_row(identity_field(str(r.field), lang), str(r.a), str(r.b), differs if r.differs else "")
    console.print(table)
    if d.framework_text:
        console.print(t("cli.diff.framework_files", lang, n=len(d.framework_text)), markup=False)
        for line in d.framework_text[: limit * 2]:
            console.print(line, markup=False, highlight=False)
    if d.spec.empty:
        console.print(t("cli.diff.spec_same", lang))
    else:
        table = Table(title=t("cli.diff.spec_title", lang))
        for c in (t("cli.diff.key", lang), run_a, run_b):
            table.add_column(c, overflow="fold")
        for r in d.spec.itertuples():
            table.add_row(str(r.key), "—" if r.a is None else str(r.a), "—" if r.b is None else str(r.b))
        console.print(table)


def _print_inputs(d: RunDiff, run_a: str, run_b: str, limit: int, lang: str) -> None:
    if d.inputs.empty:
        console.print(t("cli.diff.inputs_same", lang))
        return
    counts = d.inputs["change"].value_counts().to_dict()
    parts = ", ".join(t(f"cli.diff.count.{k}", lang, n=n) for k, n in sorted(counts.items()))
    table = Table(title=t("cli.diff.inputs_title", lang, counts=parts))
    for c in (
        *(t(f"cli.col.{k}", lang) for k in ("unit", "department", "indicator")),
        t("cli.diff.change", lang),
    ):
        table.add_column(c, overflow="fold")
    for c in (run_a, run_b):
        table.add_column(c, overflow="fold")
    for r in d.inputs.head(limit).itertuples():
        table.add_row(
            str(r.unit),
            str(r.department or ""),
            str(r.indicator),
            t(f"cli.diff.change.{r.change}", lang),
            *plain_pair(r.a, r.b),
        )
    console.print(table)


def _print_results(d: RunDiff, limit: int, lang: str) -> None:
    if d.results.empty:
        console.print(t("cli.diff.results_same", lang))
        return
    top = d.results[d.results["level"] == d.results["level"].max()]
    table = Table(title=t("cli.diff.results_title", lang, n=len(d.results)))
    heads = [t("cli.col.department", lang), t("cli.col.node", lang)]
    heads += [t("cli.diff.score_x", lang, x=x) for x in "ab"] + [t("cli.change.change", lang)]
    heads += [t("cli.diff.rank_x", lang, x=x) for x in "ab"] + [t("cli.change.rank_change", lang)]
    for c in heads:
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


def _write_diff(d: RunDiff, out: Path, lang: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    write_csv(d.identity, out / "identity.csv", index=False)
    write_csv(d.spec, out / "spec.csv", index=False)
    write_csv(d.inputs, out / "inputs.csv", index=False, float_format="%.17g")
    write_csv(d.results, out / "results.csv", index=False, float_format="%.17g")
    (out / "framework.diff").write_text("\n".join(d.framework_text) + "\n", encoding="utf-8")
    console.print(t("cli.wrote_file", lang, out=f"{out}/"), markup=False)


@app.command("diff")
def runs_diff(
    run_a: Annotated[str, typer.Argument(help="Run key of the earlier (or reference) run.")],
    run_b: Annotated[str, typer.Argument(help="Run key of the run to compare with it.")],
    out: Annotated[
        Path | None,
        out_option("Folder for identity.csv, spec.csv, inputs.csv, results.csv, framework.diff."),
    ] = None,
    limit: Annotated[int, typer.Option(help="Rows shown per table on screen (the files hold all).")] = 30,
    lang: LangOpt = None,
) -> None:
    """What differs between two stored runs: framework (code, version, hash and the file line
    by line), the method spec key by key, input values (added, removed, changed, with unit
    and indicator) and the department scores and ranks.

    Example: egov runs diff 3f2a9c1b7d4e 8c0d5e6f7a1b --out diff/
    """
    lang = check_lang(lang)
    with database() as session:
        d = diff_runs(session, get_run(session, run_a), get_run(session, run_b))
    changed = d.identity[d.identity["differs"]]
    console.print(t("cli.diff.head", lang, a=d.a.run_key, b=d.b.run_key), markup=False)
    for note in d.notes:
        console.print(note_text(note, lang), markup=False)
    _print_identity_and_spec(d, run_a, run_b, limit, lang)
    _print_inputs(d, run_a, run_b, limit, lang)
    _print_results(d, limit, lang)
    if out is not None:
        _write_diff(d, out, lang)
    if not changed["field"].isin(["created at", "created by"]).all() or not d.results.empty:
        return
    console.print(t("cli.diff.only_when", lang))


@app.command("export")
def runs_export(
    run: Annotated[str, typer.Argument(help="Run key (see `egov runs list`).")],
    out: Annotated[Path, out_option("Bundle to write: a new folder, or a file ending in .zip.")],
    lang: LangOpt = None,
) -> None:
    """Write a self-contained bundle of a run: manifest.json (identity, spec, hashes, the
    SHA-256 of every file), framework.toml, the inputs, the results and a README on how
    to verify it. See docs/record.md.

    Example: egov runs export 3f2a9c1b7d4e --out run-3f2a9c1b7d4e.zip
    """
    lang = check_lang(lang)
    with database() as session:
        path, digest = export_bundle(session, get_run(session, run), out)
    console.print(t("cli.export.wrote", lang, path=path), markup=False)
    console.print(t("cli.export.digest", lang, digest=digest), markup=False)


@app.command("verify")
def runs_verify(
    bundle: Annotated[Path, typer.Argument(help="Bundle folder or .zip written by `egov runs export`.")],
    digest: Annotated[
        str | None,
        typer.Option(help="The published SHA-256 of manifest.json; the bundle must carry exactly it."),
    ] = None,
    lang: LangOpt = None,
) -> None:
    """Recompute a bundle from its files alone (no database): check every file's SHA-256,
    the framework's content hash and the inputs hash, re-evaluate, and compare the results
    hash and every score and rank. Prints VERIFIED (in the chosen language), or what differs
    (exit code 1).

    Example: egov runs verify run-3f2a9c1b7d4e.zip --digest 9c1b…
    """
    lang = check_lang(lang)
    check = verify_bundle(bundle, digest)
    m = check.manifest
    fw = m.get("framework") or {}
    identity = {
        "run": m.get("run_key"),
        "period": (m.get("period") or {}).get("code"),
        "framework": fw.get("code"),
        "version": fw.get("version"),
        "by": m.get("created_by"),
        "at": m.get("created_at"),
        "software": m.get("software_version"),
    }
    console.print(t("cli.verify.bundle", lang, bundle=bundle, **identity), markup=False)
    console.print(t("cli.verify.digest", lang, digest=check.digest), markup=False)
    for note in check.notes:
        console.print(note_text(note, lang), markup=False)
    if check.ok:
        console.print(t("cli.verify.ok", lang, hash=check.recomputed_results_hash), markup=False)
        return
    console.print(t("cli.verify.failed", lang, n=len(check.problems)), markup=False)
    for p in check.problems:
        console.print(f"  {p}", markup=False, highlight=False)
    raise typer.Exit(1)
