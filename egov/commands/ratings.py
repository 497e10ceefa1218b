"""Citizen ratings: `egov ratings` (purge, export, roll-ups, statistics) and `egov cases`
(bad-rating follow-up cases)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from egov.analysis import compare_period_ratings, period_case_metrics
from egov.cells import write_csv
from egov.clock import local_day
from egov.commands.common import LangOpt, check_lang, console, out_option, parse_date
from egov.commands.labels import t
from egov.commands.stored import database
from egov.errors import EgovError
from egov.settings import get_settings
from egov.store import get_period
from reports.ledger import ledger_scope, write_ledger
from reports.questions import category_name, item_name
from reports.services import level_text, one_channel, service_name, share_texts
from surveys.answers import driver_scores, reason_counts
from surveys.privacy import export_csv, purge_ratings
from surveys.rollup import rebuild_rollups
from surveys.services import catalogue, service_ratings
from surveys.stats import RatingComparison
from surveys.subjects import subject_ratings

ratings_app = typer.Typer(help="Citizen ratings: export, purge, roll-ups.", no_args_is_help=True)
cases_app = typer.Typer(help="Bad-rating follow-up cases.", no_args_is_help=True)

FromOpt = Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD.")]
ToOpt = Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD.")]


@ratings_app.command("purge")
def ratings_purge(
    before: Annotated[
        str | None,
        typer.Option(
            help="Anonymise ratings of days before this date (default: today − EGOV_RATING_RETENTION_DAYS)."
        ),
    ] = None,
    lang: LangOpt = None,
) -> None:
    """Anonymise old raw ratings (comment, pseudonym, IP, transaction reference) and delete
    their tokens; the daily roll-ups do not change.

    Example: egov ratings purge --before 2024-01-01
    """
    lang = check_lang(lang)
    with database() as session:
        cutoff = parse_date(before, "--before") if before else None
        counts = purge_ratings(session, cutoff)
    done = t(
        "cli.purge.done",
        lang,
        n=counts["anonymised"],
        tokens=counts["tokens_deleted"],
        before=cutoff or t("cli.purge.limit", lang),
        today=date.today(),
    )
    console.print(done, markup=False)


@ratings_app.command("export")
def ratings_export(
    out: Annotated[Path, out_option("CSV file to write.")],
    start: FromOpt,
    end: ToOpt,
    lang: LangOpt = None,
) -> None:
    """Export ratings as CSV with comments scrubbed of ID-card numbers, phones and e-mails
    (no pseudonym, IP or transaction reference).

    Example: egov ratings export --from 2026-01-01 --to 2026-03-31 --out ratings.csv
    """
    lang = check_lang(lang)
    with database() as session, out.open("w", encoding="utf-8", newline="") as fh:
        for chunk in export_csv(session, parse_date(start, "--from"), parse_date(end, "--to")):
            fh.write(chunk)
    console.print(t("cli.wrote_file", lang, out=out), markup=False)


@ratings_app.command("rollup")
def ratings_rollup(start: FromOpt, end: ToOpt, lang: LangOpt = None) -> None:
    """Rebuild the daily roll-ups of days [from, to] from the counted ratings (they are
    otherwise kept up to date incrementally by the API).

    Example: egov ratings rollup --from 2026-01-01 --to 2026-12-31
    """
    lang = check_lang(lang)
    with database() as session:
        n = rebuild_rollups(session, parse_date(start, "--from"), parse_date(end, "--to"))
    console.print(t("cli.rollup.done", lang, n=n), markup=False)


@ratings_app.command("services")
def ratings_services(
    period: Annotated[str, typer.Option("--period", help="Period code, e.g. 2026.")],
    department: Annotated[
        str | None, typer.Option("--department", help="Only the service items this department owns.")
    ] = None,
    by: Annotated[
        str,
        typer.Option(
            help="service (a row per item), department (per owner) or channel (item × object × channel)."
        ),
    ] = "service",
    out: Annotated[Path | None, out_option("Also write the table to this CSV file.")] = None,
    lang: LangOpt = None,
) -> None:
    """Ratings of a period by service item (事項), counted for the department that owns the item
    whatever object they were given through (a DSF service rated inside Macao One Account counts
    for DSF): counts by level, share satisfied with its Wilson 95 % interval (none below
    EGOV_MIN_RATINGS ratings).

    Example: egov ratings services --period 2026 --department DSF --lang en
    """
    lang = check_lang(lang)
    min_n = get_settings().min_ratings
    with database() as session:
        p = get_period(session, period)
        df = service_ratings(session, p.start, p.end, by=by, department=department, min_ratings=min_n)
        names = catalogue(session, department=department)
    title = "services.ratings.by_department" if by == "department" else "services.ratings.title"
    if df.empty:
        console.print(t("services.ratings.none", lang, period=period), markup=False)
        return
    table = Table(title=t(title, lang, period=period), caption=t("services.ratings.note", lang, min=min_n))
    lead = ["department"] if by == "department" else ["service", "department"]
    lead += ["object", "channel"] if by == "channel" else []
    for c in (*lead, "count", "levels", "share", "interval"):
        table.add_column(t(f"services.col.{c}", lang), overflow="fold")
    for r in df.to_dict("records"):
        cells = []
        if by != "department":
            item = names.loc[r["service"]] if r["service"] in names.index else {}
            cells.append(f"{r['service']} {service_name(item, lang) if len(item) else ''}".strip())
        cells.append(str(r["department"]))
        if by == "channel":
            cells += [str(r["object"]), one_channel(str(r["channel"]), lang)]
        share, interval = share_texts(r, lang, min_n)
        table.add_row(*cells, str(r["count"]), level_text(r), share, interval)
    console.print(table)
    if out is not None:
        write_csv(df, out, index=False)
        console.print(t("cli.wrote_file", lang, out=out), markup=False)


@ratings_app.command("subjects")
def ratings_subjects(
    period: Annotated[str, typer.Option("--period", help="Period code, e.g. 2026.")],
    department: Annotated[str, typer.Option("--department", help="The department (its own figures only).")],
    by: Annotated[str, typer.Option(help="window (object × window) or staff (staff code).")] = "window",
    out: Annotated[Path | None, out_option("Also write the table to this CSV file.")] = None,
    lang: LangOpt = None,
) -> None:
    """A department's counted ratings by the rated subject its tokens named: the window or the
    staff member (the department's staff code; never published): counts by level, share
    satisfied with its Wilson 95 % interval (none below EGOV_MIN_RATINGS ratings).

    Example: egov ratings subjects --period 2026 --department SAFP --by staff --lang en
    """
    lang = check_lang(lang)
    min_n = get_settings().min_ratings
    with database() as session:
        p = get_period(session, period)
        df = subject_ratings(session, p.start, p.end, department=department, by=by, min_ratings=min_n)
    if df.empty:
        console.print(t("subjects.none", lang, period=period, department=department), markup=False)
        return
    title = t(f"subjects.title.{by}", lang, period=period, department=department)
    table = Table(title=title, caption=t("subjects.note", lang, min=min_n))
    lead = ["object", "window"] if by == "window" else ["staff"]
    for c in lead:
        table.add_column(
            t(f"services.col.{c}" if c == "object" else f"subjects.col.{c}", lang), overflow="fold"
        )
    for c in ("count", "levels", "share", "interval"):
        table.add_column(t(f"services.col.{c}", lang), overflow="fold")
    for r in df.to_dict("records"):
        share, interval = share_texts(r, lang, min_n)
        table.add_row(*(str(r[c]) for c in lead), str(r["count"]), level_text(r), share, interval)
    console.print(table)
    if out is not None:
        write_csv(df, out, index=False)
        console.print(t("cli.wrote_file", lang, out=out), markup=False)


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
    lang: LangOpt = None,
) -> None:
    """Bad-rating case metrics of a period: rectified on time, return-visit rate, appeals.

    Example: egov cases metrics --period 2026 --store
    """
    lang = check_lang(lang)
    with database() as session:
        df, stored = period_case_metrics(session, period, by, store)
    by_t = t(f"cli.by.{by}", lang)
    table = Table(title=t("cli.cases.title", lang, period=period, by=by_t))
    columns = ("cases", "on_time", "return_visits", "appeals", "upheld", "removed")
    for c in (by_t, *(t(f"cli.cases.col.{c}", lang) for c in columns)):
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
        console.print(t("cli.cases.stored", lang, n=stored), markup=False)


@cases_app.command("ledger")
def cases_ledger(
    out: Annotated[Path, out_option("The Excel workbook to write (.xlsx).")],
    period: Annotated[str | None, typer.Option("--period", help="Period code, e.g. 2026 or 2026Q1.")] = None,
    start: Annotated[
        str | None, typer.Option("--from", help="First day a case was opened, YYYY-MM-DD.")
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day a case was opened, YYYY-MM-DD.")] = None,
    department: Annotated[
        str | None, typer.Option("--department", help="Department code (default: all).")
    ] = None,
    lang: LangOpt = None,
) -> None:
    """The bad-rating ledger (台賬) as Excel: one row per case opened in the period, with its
    deadline, tier, state, on time or overdue, public answer, return visit and appeal.

    Example: egov cases ledger --period 2026 --department SAFP --out ledger.xlsx
    """
    lang = check_lang(lang)
    first = parse_date(start, "--from") if start else None
    last = parse_date(end, "--to") if end else None
    with database() as session:
        s, e = ledger_scope(session, period, first, last, department)
        n = write_ledger(session, s, e, department, out, lang, local_day())
    console.print(t("cli.ledger.written", lang, n=n, out=str(out)), markup=False)


def _print_pairs(cmp: RatingComparison, pairwise: str, alpha: float, limit: int, lang: str) -> None:
    pairs = cmp.pairs.sort_values(["p_holm", "p"], kind="mergesort")
    significant = pairs[pairs["p_holm"] < alpha]
    test = "Dunn" if pairwise == "dunn" else "Mann–Whitney"
    table = Table(
        title=t("cli.ratings.pairs", lang, test=test, k=len(significant), n=len(pairs), alpha=f"{alpha:g}")
    )
    heads = ["a", "b", t("cli.ratings.n", lang, x="a"), t("cli.ratings.n", lang, x="b")]
    heads += [t("cli.ratings.mean", lang, x="a"), t("cli.ratings.mean", lang, x="b"), "z", "p", "p (Holm)"]
    for c in (*heads, "Cliff's δ", t("cli.ratings.size", lang)):
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
            t(f"cli.size.{r.magnitude!s}", lang) if r.magnitude else "",
        )
    console.print(table)


def _write_comparison(cmp: RatingComparison, by: str, period: str | None, out: Path, lang: str) -> None:
    assert cmp.kruskal is not None
    out.mkdir(parents=True, exist_ok=True)
    write_csv(cmp.counts, out / "counts.csv", float_format="%.17g")
    kruskal = pd.DataFrame([asdict(cmp.kruskal) | {"by": by, "period": period or ""}])
    write_csv(kruskal, out / "kruskal.csv", index=False, float_format="%.17g")
    write_csv(cmp.pairs, out / "pairwise.csv", index=False, float_format="%.17g")
    console.print(t("cli.wrote_file", lang, out=f"{out}/counts.csv, kruskal.csv, pairwise.csv"), markup=False)


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
    out: Annotated[Path | None, out_option("Folder for counts.csv, kruskal.csv and pairwise.csv.")] = None,
    lang: LangOpt = None,
) -> None:
    """Do rating distributions differ? Kruskal–Wallis across departments or apps, then
    every pair (Dunn or Mann–Whitney, Holm-corrected) with Cliff's delta, from the daily
    roll-up counts. Methods and sources: surveys/stats.py.

    Example: egov ratings compare --period 2023 --by object --out rating-stats/
    """
    lang = check_lang(lang)
    if not 0 < alpha < 1:
        raise EgovError(f"--alpha {alpha}: use a level between 0 and 1, e.g. 0.05")
    with database() as session:
        cmp = compare_period_ratings(session, period, by, pairwise, min_ratings)
    where = t("cli.ratings.period", lang, period=period) if period else t("cli.ratings.all", lang)
    if cmp.excluded:
        items = ", ".join(cmp.excluded[:10]) + (" …" if len(cmp.excluded) > 10 else "")
        left_out = t(
            "cli.ratings.left_out",
            lang,
            n=len(cmp.excluded),
            by=t(f"cli.by.{by}", lang),
            min=min_ratings,
            items=items,
        )
        console.print(left_out, markup=False)
    kw, groups = cmp.kruskal, t(f"cli.by.{by}.plural", lang)
    if kw is None:
        console.print(t("cli.ratings.too_few", lang, where=where, min=min_ratings, by=groups), markup=False)
        return
    values = {"h": f"{kw.h:.3f}", "df": kw.df, "p": f"{kw.p:.3g}", "e2": f"{kw.epsilon2:.4f}"}
    line = t("cli.ratings.kruskal", lang, groups=kw.groups, by=groups, n=kw.n, where=where, **values)
    verdict = t("cli.ratings.differ" if kw.p < alpha else "cli.ratings.same", lang)
    console.print(line + verdict, markup=False)
    _print_pairs(cmp, pairwise, alpha, limit, lang)
    if out is not None:
        _write_comparison(cmp, by, period, out, lang)


PeriodOpt = Annotated[
    str | None, typer.Option("--period", help="Period code (its days); default: every rating.")
]


def _days(period: str | None) -> tuple[date, date]:
    if not period:
        return date(1, 1, 1), date(9999, 12, 31)
    with database() as session:
        p = get_period(session, period)
    return p.start, p.end


def _where(period: str | None, department: str | None, lang: str) -> str:
    where = t("questions.where.period", lang, period=period) if period else t("questions.where.all", lang)
    return where + (t("questions.where.department", lang, department=department) if department else "")


@ratings_app.command("reasons")
def ratings_reasons(
    period: PeriodOpt = None,
    department: Annotated[str | None, typer.Option(help="Only this department's objects (its code).")] = None,
    lang: LangOpt = None,
) -> None:
    """Count counted bad ratings (levels 1–2) by the SAFP complaint category of their reasons
    (人員服務 … 其他, SAFP's published categories; the mapping is the `overall` question set's).

    Example: egov ratings reasons --period 2026 --department SAFP
    """
    lang = check_lang(lang)
    start, end = _days(period)
    with database() as session:
        df, total = reason_counts(session, start, end, department)
    table = Table(title=t("questions.reasons.title", lang, where=_where(period, department, lang)))
    for key in ("category", "ratings", "share"):
        table.add_column(t(f"questions.reasons.{key}", lang))
    for code, n, share in zip(df.index, df["ratings"].tolist(), df["share"].tolist(), strict=True):
        table.add_row(category_name(str(code), lang), str(n), f"{share:.1f}" if total else "—")
    console.print(table)
    console.print(t("questions.reasons.total", lang, n=total), markup=False)


@ratings_app.command("drivers")
def ratings_drivers(
    period: PeriodOpt = None,
    by: Annotated[str, typer.Option(help="department, object or all.")] = "department",
    lang: LangOpt = None,
) -> None:
    """Driver scores of the question sets' 5-point items: per item and department (or object)
    the answers, the mean and the share agreeing or satisfied (4–5, the top-2 box of OMB
    Circular A-11 reporting) with its Wilson 95 % interval; below EGOV_MIN_RATINGS answers no
    mean or share.

    Example: egov ratings drivers --period 2026 --by department
    """
    lang = check_lang(lang)
    start, end = _days(period)
    with database() as session:
        df = driver_scores(session, start, end, by)
    if df.empty:
        console.print(t("questions.drivers.none", lang), markup=False)
        return
    table = Table(title=t("questions.drivers.title", lang, where=_where(period, None, lang)))
    for key in ("set", "item", "unit", "n", "mean", "agree", "interval"):
        table.add_column(t(f"questions.drivers.{key}", lang))
    for r in df.to_dict("records"):
        few = bool(pd.isna(r["mean"]))
        table.add_row(
            f"{r['question_set']} {r['set_version']}",
            item_name(str(r["question_set"]), str(r["set_version"]), str(r["item"]), lang),
            str(r["unit"]) or t("questions.drivers.all", lang),
            str(r["n"]),
            "—" if few else f"{r['mean']:.2f}",
            "—" if few else f"{r['agree_share']:.1f}",
            "—" if few else f"{r['agree_low']:.1f}–{r['agree_high']:.1f}",
        )
    console.print(table)
    console.print(t("questions.drivers.few", lang, min=get_settings().min_ratings), markup=False)
