"""The rating service: `egov serve` (uvicorn), `egov keys` (its API keys, stored hashed) and
`egov kiosks` (the counter kiosks' device keys)."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn
from rich.table import Table

from egov.auth import create_key, revoke_key
from egov.commands.common import LangOpt, check_lang, console
from egov.commands.labels import t
from egov.commands.stored import database
from egov.db import dispose_engines, init_db
from egov.errors import EgovError, ServiceError
from egov.store import list_keys
from surveys.kiosks import create_kiosk, department_of, list_kiosks, revoke_kiosk

# The FastAPI application factory uvicorn imports in every worker.
APP_FACTORY = "egov.app:create_app"

keys_app = typer.Typer(help="API keys of the rating service (stored hashed).", no_args_is_help=True)
kiosks_app = typer.Typer(
    help="Counter kiosks: tablets at a counter with their own device key.", no_args_is_help=True
)


def serve_cmd(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes (rate limits are per worker).")] = 1,
    lang: LangOpt = None,
) -> None:
    """Serve the rating API, the widget, the OpenAPI docs (/docs) and the report pages
    (/reports/, login with a department, assessor, lead or admin key) with uvicorn.

    Example: egov serve --host 0.0.0.0 --port 8000 --workers 4
    """
    lang = check_lang(lang)
    if workers < 1:
        raise EgovError(t("cli.serve.workers", lang))
    init_db()
    dispose_engines()  # no pooled connection may cross into the workers
    console.print(t("cli.serve.start", lang, host=host, port=port, workers=workers), markup=False)
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
    )


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option("--role", help="department, assessor, lead or admin.")],
    department: Annotated[
        str | None, typer.Option("--department", help="Department code (department keys only).")
    ] = None,
    label: Annotated[str, typer.Option(help="A note saying what the key is for.")] = "",
    lang: LangOpt = None,
) -> None:
    """Create an API key and print it once (only its hash is stored).

    Example: egov keys create --role department --department SAFP --label "SAFP back end"
    """
    lang = check_lang(lang)
    with database() as session:
        key, row = create_key(session, role, department, label)
    who = f"{role} {department}" if department else role
    console.print(t("cli.keys.created", lang, id=row.id, who=who), markup=False)
    typer.echo(key)


@keys_app.command("list")
def keys_list(lang: LangOpt = None) -> None:
    """List API keys: id, prefix, role, department, created, revoked (never the keys).

    Example: egov keys list
    """
    lang = check_lang(lang)
    with database() as session:
        rows = list_keys(session)
    table = Table(title=t("cli.keys.title", lang))
    for c in ("id", "prefix", "role", "department", "label", "created", "revoked"):
        table.add_column(t("cli.col.department" if c == "department" else f"cli.keys.col.{c}", lang))
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
def keys_revoke(
    key_id: Annotated[int, typer.Argument(help="Id of the key (see `egov keys list`).")],
    lang: LangOpt = None,
) -> None:
    """Revoke an API key; it stops working at once.

    Example: egov keys revoke 3
    """
    lang = check_lang(lang)
    with database() as session:
        revoke_key(session, key_id)
    console.print(t("cli.keys.revoked", lang, id=key_id), markup=False)


@kiosks_app.command("add")
def kiosks_add(
    code: Annotated[str, typer.Argument(help="The device's code, e.g. SAFP-C-03.")],
    department: Annotated[str, typer.Option("--department", help="The department of the counter object.")],
    obj: Annotated[str, typer.Option("--object", help="The counter object the kiosk stands at.")],
    window: Annotated[str | None, typer.Option(help="The window it stands at.")] = None,
    label: Annotated[str, typer.Option(help="A note saying where it is.")] = "",
    lang: LangOpt = None,
) -> None:
    """Register a counter kiosk and print its device key once with the setup link to open on the
    tablet (docs/ratings.md, "The counter kiosk").

    Example: egov kiosks add SAFP-C-03 --department SAFP --object SAFP_SERVICE_COUNTER --window 3
    """
    lang = check_lang(lang)
    try:
        with database() as session:
            key, _, code_of_object = create_kiosk(
                session, department_of(session, department) or 0, code, obj, window, label
            )
    except ServiceError as exc:
        raise EgovError(exc.message) from exc
    console.print(t("cli.kiosks.created", lang, code=code, object=code_of_object), markup=False)
    typer.echo(f"/kiosk/{code_of_object}#key={key}")


@kiosks_app.command("list")
def kiosks_list(
    department: Annotated[str | None, typer.Option("--department", help="Only this department's.")] = None,
    lang: LangOpt = None,
) -> None:
    """List counter kiosks: code, object, window, prefix, created, revoked (never the keys).

    Example: egov kiosks list --department SAFP
    """
    lang = check_lang(lang)
    try:
        with database() as session:
            rows = list_kiosks(session, department_of(session, department))
    except ServiceError as exc:
        raise EgovError(exc.message) from exc
    table = Table(title=t("cli.kiosks.title", lang))
    for c in ("code", "object", "window", "prefix", "created", "revoked"):
        table.add_column(t(f"cli.kiosks.col.{c}", lang))
    for k, o in rows:
        revoked = f"{k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else ""
        table.add_row(
            k.code, o, k.window_code or "", k.prefix + "…", f"{k.created_at:%Y-%m-%d %H:%M}", revoked
        )
    console.print(table)


@kiosks_app.command("revoke")
def kiosks_revoke(
    code: Annotated[str, typer.Argument(help="The kiosk's code (see `egov kiosks list`).")],
    lang: LangOpt = None,
) -> None:
    """Revoke a counter kiosk; its device key stops working at once.

    Example: egov kiosks revoke SAFP-C-03
    """
    lang = check_lang(lang)
    try:
        with database() as session:
            revoke_kiosk(session, None, code)
    except ServiceError as exc:
        raise EgovError(exc.message) from exc
    console.print(t("cli.kiosks.revoked", lang, code=code), markup=False)
