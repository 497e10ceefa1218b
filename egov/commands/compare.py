"""Horizontal comparison of a stored run's departments (evaluation/compare.py, issue 6):
`egov rank`, `compare`, `gaps`, `priorities` and `change`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.table import Table

from egov.analysis import RunPair, decompose_change, load_run_pair, load_stored_run
from egov.cells import write_csv
from egov.commands.common import LangOpt, OutCsvOpt, RunOpt, check_lang, console, database, err
from egov.errors import EgovError
from egov.models import EvaluationRun
from evaluation.compare import (
    Change,
    gaps,
    head_to_head,
    node_kinds,
    priorities,
    rankings,
    strengths_weaknesses,
)
from evaluation.engine import EvaluationResult
from indicators.framework import Framework
from reports.i18n import coverage_text, overall_rank_text, value_text
from reports.i18n import t as label


def _load(key: str | None) -> tuple[EvaluationRun, EvaluationResult, Framework, pd.DataFrame]:
    """A stored run recomputed (and checked against its results hash), its framework and the
    department names: (run, result, framework, names)."""
    with database() as session, err.status("recomputing the run from its stored inputs…"):
        stored = load_stored_run(session, key)
    return stored.run, stored.result, stored.framework, stored.names


def _name(names: pd.DataFrame, lang: str, dept: str) -> str:
    return str(names[lang].get(dept, "")) if lang in names else ""


def _num(v: Any, fmt: str = ".2f") -> str:
    return "—" if v is None or pd.isna(v) else format(float(v), fmt)


def _rank(v: Any) -> str:
    return "—" if v is None or pd.isna(v) else str(int(v))


def _write_csv(table: pd.DataFrame, out: Path | None) -> None:
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_csv(table, out, index=False)
        console.print(f"wrote {out}")


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
    lang: LangOpt = None,
) -> None:
    """Department rankings of a stored run: by default every category's league table, then
    the coverage and the overall rank; or at one node, or at every category, dimension or
    indicator; ties take the lowest rank number; peer-group ranks. A department scored on
    fewer categories than the framework's `min_categories` is not ranked overall.

    Example: egov rank --level category --peer-group security --lang pt
    """
    lang = check_lang(lang)
    if level is not None and level not in ("category", "dimension", "indicator"):
        raise EgovError(f"--level {level!r}: use category, dimension or indicator")
    r, result, fw, names = _load(run)
    kinds = node_kinds(result)
    default = node is None and level is None  # the category league tables, then overall
    level = level or (None if node else "category")
    nodes = [node] if node else [c for c, k in kinds.items() if k == level]
    table, overall = rankings(result, nodes=nodes), rankings(result, nodes=[result.index_code])
    if peer_group is not None:
        groups = sorted(set(table["peer_group"]))
        if peer_group not in groups:
            raise EgovError(
                f"unknown peer group '{peer_group}' (peer groups of this run: {', '.join(groups)})"
            )
        table, overall = (f[f["peer_group"] == peer_group] for f in (table, overall))
    _write_csv(pd.concat([table, overall], ignore_index=True) if default else table, out)
    title = (
        label("cli.rank_title_group", lang, run=r.run_key, group=peer_group)
        if peer_group
        else label("cli.rank_title", lang, run=r.run_key)
    )
    wide_rank = "peer_rank" if peer_group else "rank"
    if node:
        tab = Table(title=f"{title}: {fw.nodes[node].label(lang)} ({node})")
        for key in (
            "col.rank",
            "col.department_code",
            "col.name",
            "col.score",
            "cli.coverage",
            "col.peer_group",
            "col.peer_rank",
        ):
            tab.add_column(label(key, lang), overflow="fold")
        for row in table.itertuples():
            rank = _overall(row.rank, row, lang) if node == result.index_code else _rank(row.rank)
            coverage = coverage_text(row.categories_scored, row.categories_total)
            name = _name(names, lang, str(row.entity))
            tab.add_row(
                rank,
                str(row.entity),
                name,
                _num(row.score),
                coverage,
                str(row.peer_group),
                _rank(row.peer_rank),
            )
        console.print(tab)
        return
    every = label(
        "cli.rank_every_peer" if peer_group else "cli.rank_every", lang, level=label(f"level.{level}", lang)
    )
    tab = Table(title=f"{title}: {every}")
    heads = [
        label("col.department_code", lang),
        label("col.name", lang),
        *(fw.nodes[n].label(lang) for n in nodes),
    ]
    for c in (*heads, label("cli.coverage", lang), label("cli.overall", lang)):
        tab.add_column(c, overflow="fold")
    by_node = {n: part.set_index("entity") for n, part in table.groupby("node")}
    for row in overall.itertuples():
        dept = str(row.entity)
        cells = []
        for n in nodes:
            part = by_node.get(n)
            if part is None or dept not in part.index:
                cells.append("—")
            else:
                score = _num(part.at[dept, "score"], ".1f")
                cells.append(f"{score} ({_rank(part.at[dept, wide_rank])})")
        coverage = coverage_text(row.categories_scored, row.categories_total)
        tab.add_row(
            dept, _name(names, lang, dept), *cells, coverage, _overall(getattr(row, wide_rank), row, lang)
        )
    console.print(tab)


def _overall(rank: Any, row: Any, lang: str) -> str:
    """An overall rank, or why there is none: "not ranked overall: scored on 1 of 3 categories"."""
    return overall_rank_text(rank, row.categories_scored, row.categories_total, lang)


def compare_cmd(
    department_a: Annotated[str, typer.Argument(metavar="DEPT_A", help="First department code.")],
    department_b: Annotated[str, typer.Argument(metavar="DEPT_B", help="Second department code.")],
    run: RunOpt = None,
    top: Annotated[int, typer.Option("--top", help="How many indicators that differ most to show.")] = 10,
    out: OutCsvOpt = None,
    lang: LangOpt = None,
) -> None:
    """Two departments side by side: score and rank per category and dimension, then the
    indicators (rolled-up normalised values) on which they differ most.

    Example: egov compare SAFP DSAT --top 8
    """
    lang = check_lang(lang)
    r, result, fw, names = _load(run)
    h2h = head_to_head(result, department_a, department_b, framework=fw)
    _write_csv(h2h, out)
    a, b = department_a, department_b
    t = Table(title=f"{a} ({_name(names, lang, a)}) vs {b} ({_name(names, lang, b)}), run {r.run_key}")
    for c in ("node", "name", f"{a} score (rank)", f"{b} score (rank)", f"{a} − {b}"):
        t.add_column(c, overflow="fold")
    aggregates = h2h[(h2h["kind"] != "indicator") & (h2h["score_a"].notna() | h2h["score_b"].notna())]
    for row in aggregates.itertuples():
        indent = {"index": "", "category": "  ", "dimension": "    "}[str(row.kind)]
        t.add_row(
            indent + str(row.node),
            fw.nodes[str(row.node)].label(lang),
            f"{_num(row.score_a, '.1f')} ({_rank(row.rank_a)})",
            f"{_num(row.score_b, '.1f')} ({_rank(row.rank_b)})",
            _num(row.difference, "+.1f"),
        )
    console.print(t)
    ind = h2h[(h2h["kind"] == "indicator") & h2h["difference"].notna()]
    ind = ind.reindex(ind["difference"].abs().sort_values(ascending=False, kind="mergesort").index).head(top)
    t = Table(
        title="Indicators on which they differ most (value in the indicator's unit, score 0-100; "
        f"{len(ind)} shown)"
    )
    for c in ("indicator", "name", f"{a} value (score)", f"{b} value (score)", f"{a} − {b} (score)"):
        t.add_column(c, overflow="fold")
    for row in ind.itertuples():
        unit = str(row.unit)
        t.add_row(
            str(row.node),
            fw.nodes[str(row.node)].label(lang),
            f"{value_text(row.value_a, unit, lang)} ({row.score_a:.1f})",
            f"{value_text(row.value_b, unit, lang)} ({row.score_b:.1f})",
            f"{row.difference:+.1f}",
        )
    console.print(t)


def gaps_cmd(
    department: Annotated[str, typer.Argument(metavar="DEPT", help="Department code.")],
    run: RunOpt = None,
    n: Annotated[int, typer.Option("--n", help="How many strengths and weaknesses to show.")] = 5,
    out: OutCsvOpt = None,
    lang: LangOpt = None,
) -> None:
    """A department's distance to the best and to the median (overall and in its peer
    group) per category and dimension, and its strengths and weaknesses: the indicators
    where its percentile among the departments is highest and lowest.

    Example: egov gaps SAFP --n 3 --out safp-gaps.csv
    """
    lang = check_lang(lang)
    r, result, fw, names = _load(run)
    table = gaps(result, department)
    sw = strengths_weaknesses(result, department, n=n, framework=fw)
    _write_csv(table, out)
    group = table["peer_group"].iloc[0]
    t = Table(title=f"Gaps of {department} ({_name(names, lang, department)}), run {r.run_key}")
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
        "learn from",
    ):
        t.add_column(c, overflow="fold")
    for row in table[table["kind"] != "indicator"].itertuples():
        t.add_row(
            str(row.node),
            fw.nodes[str(row.node)].label(lang),
            _num(row.score, ".1f"),
            _rank(row.rank),
            _num(row.best, ".1f"),
            _num(row.median, ".1f"),
            _num(row.gap_best, ".1f"),
            _num(row.gap_median, "+.1f"),
            _num(row.peer_best, ".1f"),
            _num(row.peer_median, ".1f"),
            str(row.peer_best_department),
        )
    console.print(t)
    console.print(
        f"peer group: {group or '(all departments)'}; 'to median' > 0 means below the median; "
        "peer best/median: the peer group, or all departments where fewer than 3 of it have a score"
    )
    t = Table(
        title="Strengths (above the peer median) and weaknesses (below it): value in the indicator's "
        "unit, score 0-100, percentile in the peer group (1 = the best)"
    )
    for c in ("", "indicator", "name", "value", "score", "peer median", "percentile", "rank", "learn from"):
        t.add_column(c, overflow="fold")
    for row in sw.itertuples():
        unit = str(row.unit)
        t.add_row(
            str(row.side),
            str(row.indicator),
            fw.nodes[str(row.indicator)].label(lang),
            value_text(row.value, unit, lang),
            _num(row.score, ".1f"),
            f"{value_text(row.median_value, unit, lang)} ({_num(row.median, '.1f')})",
            f"{row.percentile:.2f}",
            f"{_rank(row.rank)} of {row.n}" + (" (all departments)" if row.peer_fallback else ""),
            f"{row.best_department} ({value_text(row.best_value, unit, lang)})",
        )
    console.print(t)


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
    lang: LangOpt = None,
) -> None:
    """Improvement priorities: the indicators where a realistic step would raise the
    department's overall score most, with the score and rank it would then have (computed
    exactly by re-aggregating with the run's weights).

    Example: egov priorities SAFP --step next --top 5
    """
    lang = check_lang(lang)
    if step not in ("median", "next"):
        raise EgovError(f"--step {step!r}: use median or next")
    r, result, fw, names = _load(run)
    table = priorities(result, department, step, framework=fw)  # type: ignore[arg-type]
    _write_csv(table, out)
    first = table.iloc[0] if len(table) else None
    if first is not None:
        console.print(
            f"{department} ({_name(names, lang, department)}), run {r.run_key}: score "
            f"{first['score']:.2f}, rank {_rank(first['rank'])}, peer rank {_rank(first['peer_rank'])}"
        )
    shown = table[table["step"] > 0].head(top) if len(table) else table
    if shown.empty:
        console.print(f"no step to take: {department} is at or above the {step} value on every indicator")
        return
    target = "peer median" if step == "median" else "next above"
    t = Table(title=f"Improvement priorities ({target}; values in the indicator's unit, score 0-100)")
    for c in ("indicator", "name", "value (score)", f"{target} (score)", "step", "gain", "new score"):
        t.add_column(c, overflow="fold")
    for c in ("new rank", "new peer rank"):
        t.add_column(c, overflow="fold")
    for row in shown.itertuples():
        unit = str(row.unit)
        t.add_row(
            str(row.indicator),
            fw.nodes[str(row.indicator)].label(lang),
            f"{value_text(row.raw_value, unit, lang)} ({row.value:.1f})",
            f"{value_text(row.raw_target, unit, lang)} ({row.target:.1f})"
            + (" *" if row.peer_fallback else ""),
            f"{row.step:+.1f}",
            f"{row.gain:+.3f}",
            f"{row.new_score:.2f}",
            _rank(row.new_rank),
            _rank(row.new_peer_rank),
        )
    console.print(t)
    if shown["peer_fallback"].any():
        console.print(
            "* fewer than 3 departments of the peer group have a value: the target is all departments'"
        )


def _print_change(ch: Change, pair: RunPair, lang: str) -> None:
    prev_in, cur_in = pair.previous_inputs, pair.current_inputs
    title = (
        f"Change from run {pair.from_run.run_key} (period {prev_in.period.code}) to run "
        f"{pair.to_run.run_key} (period {cur_in.period.code})"
        + ("; the method changed" if ch.method_changed else "")
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
            _rank(row.rank_current),
            str(row.department),
            _name(pair.names, lang, str(row.department)),
            _num(row.score_previous),
            _num(row.score_current),
            _num(row.change, "+.2f"),
            _num(row.rank_change, "+.0f"),
        ]
        if split:
            cells += [_num(row.data_effect, "+.2f"), _num(row.method_effect, "+.2f")]
        t.add_row(*cells, parts, _num(row.residual, "+.3f"))
    console.print(t)
    console.print(f"scale: {ch.scale}" if ch.scale else "scale: each run's own")


def _check_department(ch: Change, department: str | None) -> None:
    """--department must be one of the change's departments (checked before any output)."""
    if department is not None and department not in set(ch.summary["department"]):
        raise EgovError(
            f"unknown department '{department}' (departments: {', '.join(ch.summary['department'])})"
        )


def _print_contributions(ch: Change, pair: RunPair, department: str, top: int, lang: str) -> None:
    contrib = ch.contributions
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
        label = pair.current_inputs.framework.nodes.get(
            str(row.indicator)
        ) or pair.previous_inputs.framework.nodes.get(str(row.indicator))
        t.add_row(
            str(row.indicator),
            label.label(lang) if label else "",
            _num(row.value_previous, ".1f"),
            _num(row.value_current, ".1f"),
            _num(row.value_effect, "+.3f"),
            _num(row.weight_effect, "+.3f"),
            _num(row.contribution, "+.3f"),
        )
    console.print(t)


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
    lang: LangOpt = None,
) -> None:
    """Score and rank change of every department between two runs on one scale (the
    framework's trend_scale: fixed goalposts, else min-max over both runs' values pooled),
    decomposed into per-indicator contributions; when the framework or spec changed, labelled
    not comparable and split into "the data changed" and "the method changed" (Shapley
    average of both orders).

    Example: egov change --department SAFP --out change.csv
    """
    lang = check_lang(lang)
    with database() as session, err.status("recomputing both runs from their stored inputs…"):
        pair = load_run_pair(session, start, end)
    with err.status("decomposing the change…"):
        ch, swap_notes = decompose_change(pair)
    _check_department(ch, department)
    for note in swap_notes:
        console.print(f"note: {note}")
    _write_csv(ch.summary, out)
    if out is not None:
        _write_csv(ch.contributions, out.with_name(out.stem + "_contributions.csv"))
    for note in ch.notes:
        console.print(f"note: {note}")
    _print_change(ch, pair, lang)
    if department is not None:
        _print_contributions(ch, pair, department, top, lang)
