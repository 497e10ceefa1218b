"""`egov db`: create or upgrade the database."""

from __future__ import annotations

import typer

from egov.commands.common import console
from egov.db import describe_url, init_db

app = typer.Typer(help="Create or upgrade the database.", no_args_is_help=True)


@app.command("init")
def db_init() -> None:
    """Create the schema, or upgrade it in place; safe to run again.

    Example: EGOV_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/egov egov db init
    """
    changes = init_db()
    console.print(f"database {describe_url()}: " + ("; ".join(changes) if changes else "schema up to date"))
