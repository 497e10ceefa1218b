"""What the command modules share: the consoles, the options several commands take
(--run, --lang, --out), the one language resolution (--lang, else EGOV_LANG, else zh-Hant),
the database session and the ranking table."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from sqlmodel import Session

from egov.commands.labels import t
from egov.db import init_db, session_scope
from egov.errors import EgovError
from egov.langs import LANGUAGES
from egov.settings import get_settings
from reports.i18n import coverage_text, overall_rank_text

console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, soft_wrap=True)


def lang_option(
    help_text: str = "Language of the output: zh-Hant, pt or en (default: EGOV_LANG, else zh-Hant).",
) -> Any:
    """The --lang option (its help says what the language is used for); not given: None, and
    `check_lang` takes the setting EGOV_LANG."""
    return typer.Option("--lang", help=help_text)


def out_option(help_text: str) -> Any:
    """The --out option (its help says what is written there)."""
    return typer.Option("--out", help=help_text)


def run_option(help_text: str = "Run key (default: the latest run).") -> Any:
    """The --run option: the key of a stored run."""
    return typer.Option("--run", help=help_text)


LangOpt = Annotated[str | None, lang_option()]
RunOpt = Annotated[str | None, run_option()]
OutCsvOpt = Annotated[Path | None, out_option("Also write the full table to this CSV file.")]


def check_lang(lang: str | None) -> str:
    """The language of a command's output: `--lang` when given (one of egov.langs.LANGUAGES,
    else an error), else the setting EGOV_LANG (default zh-Hant; an unknown one is an error)."""
    if lang is None:
        try:
            return get_settings().lang
        except ValidationError as exc:
            problems = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
            raise EgovError(f"settings: {problems}") from None
    if lang not in LANGUAGES:
        raise EgovError(f"--lang {lang!r}: use zh-Hant, pt or en")
    return lang


def parse_date(text: str, option: str) -> date:
    """The date YYYY-MM-DD given to `option`, or an error naming it."""
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise EgovError(f"{option} {text!r}: use a date YYYY-MM-DD") from exc


@contextmanager
def database() -> Iterator[Session]:
    """Create or upgrade the schema (egov.db.init_db), then one session, committed when the
    block ends without an error."""
    init_db()
    with session_scope() as session:
        yield session


def print_ranking(ranking: pd.DataFrame, fw_categories: list[str], title: str, lang: str) -> None:
    """The department ranking of `egov demo` and `egov score` (egov.demo.ranking_table), its
    headers in `lang`: the category league tables first, then the overall rank, or why there is
    none."""
    table = Table(title=title)
    rank_t = t("col.rank", lang)
    columns = (
        t("col.department_code", lang),
        t("col.name", lang),
        *[f"{c} ({rank_t})" for c in fw_categories],
        t("cli.coverage", lang),
        rank_t,
        t("col.score", lang),
    )
    for c in (*columns, t("col.peer_rank", lang)):
        table.add_column(c, overflow="fold")
    for dept, r in ranking.iterrows():
        cells = []
        for c in fw_categories:
            s, rk = r[f"{c}_score"], r[f"{c}_rank"]
            cells.append("—" if pd.isna(s) else f"{s:.1f} ({int(rk)})")
        peer = (
            ""
            if pd.isna(r.get("peer_rank"))
            else t("cli.rank_in_group", lang, rank=int(r["peer_rank"]), group=r["peer_group"])
        )
        n, total = int(r["categories_assessed"]), len(fw_categories)
        rank = overall_rank_text(r["rank"], n, total, lang)
        score = "—" if pd.isna(r["score"]) else f"{r['score']:.1f}"
        table.add_row(str(dept), str(r["name"]), *cells, coverage_text(n, total), rank, score, peer)
    console.print(table)
