"""`egov db`: create or upgrade the database."""

from __future__ import annotations

import typer

from egov.commands.common import LangOpt, check_lang, console
from egov.commands.labels import t
from egov.db import describe_url, init_db

app = typer.Typer(help="Create or upgrade the database.", no_args_is_help=True)


@app.command("init")
def db_init(lang: LangOpt = None) -> None:
    """Create the schema, or upgrade it in place; safe to run again.

    Example: EGOV_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/egov egov db init
    """
    lang = check_lang(lang)
    changes = init_db()
    said = "; ".join(changes) if changes else t("cli.db.up_to_date", lang)
    console.print(t("cli.db.head", lang, url=describe_url(), changes=said), markup=False)
