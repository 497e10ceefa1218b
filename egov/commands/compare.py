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
from egov.commands.common import LangOpt, OutCsvOpt, RunOpt, check_lang, console, err
from egov.commands.labels import t as label
from egov.commands.stored import database
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
from reports.texts import note_text, scale_text


def _load(key: str | None, lang: str) -> tuple[EvaluationRun, EvaluationResult, Framework, pd.DataFrame]:
    """A stored run recomputed (and checked against its results hash), its framework and the
    department names: (run, result, framework, names)."""
    with database() as session, err.status(label("cli.status.recompute", lang)):
        stored = load_stored_run(session, key)
    return stored.run, stored.result, stored.framework, stored.names


def _name(names: pd.DataFrame, lang: str, dept: str) -> str:
    return str(names[lang].get(dept, "")) if lang in names else ""


def _num(v: Any, fmt: str = ".2f") -> str:
    return "—" if v is None or pd.isna(v) else format(float(v), fmt)


def _rank(v: Any) -> str:
    return "—" if v is None or pd.isna(v) else str(int(v))


def _write_csv(table: pd.DataFrame, out: Path | None, lang: str) -> None:
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_csv(table, out, index=False)
        console.print(label("cli.wrote_file", lang, out=out), markup=False)


def _columns(table: Table, lang: str, *keys: str) -> None:
    """Columns headed by the labels `cli.col.KEY` (or any label key with a dot), folded."""
    for key in keys:
        table.add_column(label(key if "." in key else f"cli.col.{key}", lang), overflow="fold")


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
    r, result, fw, names = _load(run, lang)
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
    _write_csv(pd.concat([table, overall], ignore_index=True) if default else table, out, lang)
    title = (
        label("cli.rank_title_group", lang, run=r.run_key, group=peer_group)
        if peer_group
        else label("cli.rank_title", lang, run=r.run_key)
    )
    wide_rank = "peer_rank" if peer_group else "rank"
    if node:
        console.print(
            _node_table(table, f"{title}: {fw.nodes[node].label(lang)} ({node})", node, result, names, lang)
        )
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


def _node_table(
    table: pd.DataFrame, title: str, node: str, result: EvaluationResult, names: pd.DataFrame, lang: str
) -> Table:
    """`egov rank --node N`: one node's ranking, with coverage and peer ranks."""
    tab = Table(title=title)
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
            rank, str(row.entity), name, _num(row.score), coverage, str(row.peer_group), _rank(row.peer_rank)
        )
    return tab


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
    r, result, fw, names = _load(run, lang)
    h2h = head_to_head(result, department_a, department_b, framework=fw)
    _write_csv(h2h, out, lang)
    a, b = department_a, department_b
    name_a, name_b = _name(names, lang, a), _name(names, lang, b)
    t = Table(title=label("cli.h2h.title", lang, a=a, name_a=name_a, b=b, name_b=name_b, run=r.run_key))
    _columns(t, lang, "node", "name")
    for c in (label("cli.h2h.score_rank", lang, d=a), label("cli.h2h.score_rank", lang, d=b), f"{a} − {b}"):
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
    t = Table(title=label("cli.h2h.indicators", lang, n=len(ind)))
    _columns(t, lang, "indicator", "name")
    for c in (
        label("cli.h2h.value_score", lang, d=a),
        label("cli.h2h.value_score", lang, d=b),
        label("cli.h2h.difference_score", lang, a=a, b=b),
    ):
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
    r, result, fw, names = _load(run, lang)
    table = gaps(result, department)
    sw = strengths_weaknesses(result, department, n=n, framework=fw)
    _write_csv(table, out, lang)
    group = table["peer_group"].iloc[0]
    t = Table(
        title=label(
            "cli.gaps.title", lang, dept=department, name=_name(names, lang, department), run=r.run_key
        )
    )
    _columns(t, lang, "node", "name", "score", "rank", "cli.gaps.best", "median", "cli.gaps.to_best")
    _columns(t, lang, "cli.gaps.to_median", "cli.gaps.peer_best", "peer_median", "learn_from")
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
        label("cli.gaps.note", lang, group=group or label("cli.all_departments", lang)), markup=False
    )
    _print_strengths(sw, fw, lang)


def _print_strengths(sw: pd.DataFrame, fw: Framework, lang: str) -> None:
    """`egov gaps`: the strengths and weaknesses table."""
    t = Table(title=label("cli.sw.title", lang))
    t.add_column("", overflow="fold")
    _columns(t, lang, "indicator", "name", "value", "score", "peer_median", "cli.sw.percentile", "rank")
    _columns(t, lang, "learn_from")
    everyone = " " + label("cli.all_departments", lang)
    for row in sw.itertuples():
        unit = str(row.unit)
        t.add_row(
            label(f"cli.sw.{row.side}", lang),
            str(row.indicator),
            fw.nodes[str(row.indicator)].label(lang),
            value_text(row.value, unit, lang),
            _num(row.score, ".1f"),
            f"{value_text(row.median_value, unit, lang)} ({_num(row.median, '.1f')})",
            f"{row.percentile:.2f}",
            label("cli.sw.rank_of", lang, rank=_rank(row.rank), n=row.n)
            + (everyone if row.peer_fallback else ""),
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
    r, result, fw, names = _load(run, lang)
    table = priorities(result, department, step, framework=fw)  # type: ignore[arg-type]
    _write_csv(table, out, lang)
    first = table.iloc[0] if len(table) else None
    if first is not None:
        head = label(
            "cli.prio.head",
            lang,
            dept=department,
            name=_name(names, lang, department),
            run=r.run_key,
            score=f"{first['score']:.2f}",
            rank=_rank(first["rank"]),
            peer_rank=_rank(first["peer_rank"]),
        )
        console.print(head, markup=False)
    shown = table[table["step"] > 0].head(top) if len(table) else table
    if shown.empty:
        target = label(f"cli.prio.nothing.{step}", lang)
        console.print(label("cli.prio.nothing", lang, dept=department, target=target), markup=False)
        return
    _print_priorities(shown, fw, step, lang)


def _print_priorities(shown: pd.DataFrame, fw: Framework, step: str, lang: str) -> None:
    """`egov priorities`: the table of the steps to take, best gain first."""
    target = label(f"cli.prio.target.{step}", lang)
    t = Table(title=label("cli.prio.title", lang, target=target))
    _columns(t, lang, "indicator", "name", "cli.prio.value_score")
    t.add_column(label("cli.prio.target_score", lang, target=target), overflow="fold")
    _columns(t, lang, "cli.prio.step", "cli.prio.gain", "cli.prio.new_score", "cli.prio.new_rank")
    _columns(t, lang, "cli.prio.new_peer_rank")
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
        console.print(label("cli.prio.fallback", lang), markup=False)


def _print_change(ch: Change, pair: RunPair, lang: str) -> None:
    prev_in, cur_in = pair.previous_inputs, pair.current_inputs
    title = label(
        "cli.change.title",
        lang,
        a=pair.from_run.run_key,
        pa=prev_in.period.code,
        b=pair.to_run.run_key,
        pb=cur_in.period.code,
    ) + (label("cli.change.method_changed", lang) if ch.method_changed else "")
    split = "data_effect" in ch.summary.columns
    t = Table(title=title)
    columns = ["rank", "department", "name", "cli.change.score_before", "cli.change.score_now"]
    columns += ["cli.change.change", "cli.change.rank_change"]
    columns += ["cli.change.data_effect", "cli.change.method_effect"] if split else []
    _columns(t, lang, *columns, "cli.change.largest", "cli.change.residual")
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
    scale = label("cli.change.scale", lang, scale=scale_text(ch.scale, lang)) if ch.scale else None
    console.print(scale or label("cli.change.own_scale", lang), markup=False)


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
    t = Table(title=label("cli.contrib.title", lang, dept=department))
    _columns(t, lang, "indicator", "name", "cli.contrib.value_before", "cli.contrib.value_now")
    _columns(t, lang, "cli.contrib.value_effect", "cli.contrib.weight_effect", "cli.contrib.contribution")
    for row in mine.head(top).itertuples():
        node = pair.current_inputs.framework.nodes.get(
            str(row.indicator)
        ) or pair.previous_inputs.framework.nodes.get(str(row.indicator))
        t.add_row(
            str(row.indicator),
            node.label(lang) if node else "",
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
    with database() as session, err.status(label("cli.status.recompute_both", lang)):
        pair = load_run_pair(session, start, end)
    with err.status(label("cli.status.decompose", lang)):
        ch, swap_notes = decompose_change(pair)
    _check_department(ch, department)
    for note in swap_notes:
        console.print(note_text(note, lang), markup=False)
    _write_csv(ch.summary, out, lang)
    if out is not None:
        _write_csv(ch.contributions, out.with_name(out.stem + "_contributions.csv"), lang)
    for note in ch.notes:
        console.print(note_text(note, lang), markup=False)
    _print_change(ch, pair, lang)
    if department is not None:
        _print_contributions(ch, pair, department, top, lang)
