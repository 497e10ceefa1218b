"""The service-item catalogue (事項): `egov services list` and `egov services show CODE`
(trilingual, --lang). The catalogue is imported with `egov import services FILE`; the ratings of
its items are `egov ratings services`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from egov.commands.common import LangOpt, check_lang, console
from egov.commands.labels import t
from egov.commands.stored import database
from egov.errors import EgovError
from reports.services import channel_names, service_name
from surveys.services import catalogue

app = typer.Typer(help="The service-item catalogue (事項): list and show.", no_args_is_help=True)


def _yes(value: bool, lang: str) -> str:
    return t("services.yes" if value else "services.no", lang)


@app.command("list")
def services_list(
    department: Annotated[
        str | None, typer.Option("--department", help="Only the items this department owns (code).")
    ] = None,
    lang: LangOpt = None,
) -> None:
    """List the service items: code, name, owning department, channels, the objects they are
    offered through, active.

    Example: egov services list --department DSF --lang en
    """
    lang = check_lang(lang)
    with database() as session:
        items = catalogue(session, department=department)
    if items.empty:
        console.print(t("services.list.none", lang), markup=False)
        return
    table = Table(title=t("services.list.title", lang))
    for c in ("code", "service", "department", "channels", "objects", "active"):
        table.add_column(t(f"services.col.{c}", lang), overflow="fold")
    for code, r in items.iterrows():
        objects = ", ".join(r["objects"]) or t("services.own_objects", lang)
        owner = f"{r['department']} {service_name(r, lang, 'department')}"
        table.add_row(
            str(code),
            service_name(r, lang),
            owner,
            channel_names(r["channels"], lang),
            objects,
            _yes(r["active"], lang),
        )
    console.print(table)


@app.command("show")
def services_show(
    code: Annotated[str, typer.Argument(help="Service item code, e.g. DSF_VEHICLE_TAX.")],
    lang: LangOpt = None,
) -> None:
    """One service item: its names in every language, owner, channels, objects, active, note.

    Example: egov services show DSF_VEHICLE_TAX --lang pt
    """
    lang = check_lang(lang)
    with database() as session:
        items = catalogue(session, code=code)
    if items.empty:
        raise EgovError(t("services.unknown", lang, code=code))
    r = items.iloc[0]
    table = Table(title=f"{code} — {service_name(r, lang)}", show_header=False)
    table.add_column("", overflow="fold")
    table.add_column("", overflow="fold")
    for k, language in (("zh", "zh-Hant"), ("pt", "pt"), ("en", "en")):
        table.add_row(f"{t('services.col.service', lang)} ({language})", str(r[f"name_{k}"]))
    table.add_row(
        t("services.col.department", lang), f"{r['department']} {service_name(r, lang, 'department')}"
    )
    table.add_row(t("services.col.channels", lang), channel_names(r["channels"], lang))
    table.add_row(t("services.col.objects", lang), ", ".join(r["objects"]) or t("services.own_objects", lang))
    table.add_row(t("services.col.active", lang), _yes(r["active"], lang))
    if r["note"]:
        table.add_row(t("services.col.note", lang), str(r["note"]))
    console.print(table)
