"""What the commands on stored data share: the database session (schema created or upgraded
first) and the department ranking table of `egov demo` and `egov score`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pandas as pd
from rich.table import Table
from sqlmodel import Session

from egov.commands.common import console
from egov.commands.labels import t
from egov.db import init_db, session_scope
from reports.i18n import coverage_text, overall_rank_text


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
