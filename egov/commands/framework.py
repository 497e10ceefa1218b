"""`egov framework`: check, show and import indicator frameworks (no database)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from egov.commands.common import LangOpt, check_lang, console, out_option
from egov.commands.labels import t
from egov.errors import EgovError
from indicators.framework import load_framework, resolve_framework
from indicators.importer import import_table
from indicators.writer import framework_to_toml
from reports.i18n import unit_label
from reports.texts import note_text

app = typer.Typer(help="Check, show and import indicator frameworks.", no_args_is_help=True)


@app.command("check")
def framework_check(
    file: Annotated[Path, typer.Argument(help="Framework TOML file.")], lang: LangOpt = None
) -> None:
    """Validate a framework file and report every problem with its key path.

    Example: egov framework check indicators/frameworks/macau.toml
    """
    lang = check_lang(lang)
    fw = load_framework(file)
    values = {"code": fw.code, "version": fw.version, "hash": fw.content_hash[:12]}
    said = t(
        "cli.fw.valid",
        lang,
        file=file,
        categories=len(fw.categories),
        indicators=len(fw.indicators),
        **values,
    )
    console.print(said, markup=False)


@app.command("show")
def framework_show(
    file: Annotated[str, typer.Argument(help="Framework TOML file, or a built-in name (macau).")] = "macau",
    lang: LangOpt = None,
) -> None:
    """Print the framework tree with weights and effective weights.

    Example: egov framework show macau --lang zh-Hant
    """
    lang = check_lang(lang)
    fw = resolve_framework(file)
    eff = fw.effective_weights()
    table = Table(title=f"{fw.name.get(lang, fw.code)} ({fw.code} {fw.version})", show_lines=False)
    for key in (
        "col.node",
        "col.name",
        "fw.weight",
        "fw.share",
        "fw.effective",
        "fw.direction",
        "fw.unit",
        "fw.method",
    ):
        table.add_column(t(f"cli.{key}", lang), overflow="fold")
    depth = {fw.index_code: 0}

    def add(code: str) -> None:
        node = fw.nodes[code]
        d = depth[code]
        parent_share = fw.sibling_weights(node.parent)[code] if node.parent else 1.0
        method = fw.method_of(code, "normalisation" if node.is_indicator else "aggregation")["method"]
        table.add_row(
            "  " * d + code,
            node.label(lang),
            f"{node.weight:g}",
            f"{parent_share:.3f}",
            f"{eff[code]:.4f}",
            (f"{node.direction:+d}" if node.is_indicator else ""),
            _unit(node.unit, lang),
            method,
        )
        for child in node.children:
            depth[child] = d + 1
            add(child)

    add(fw.index_code)
    console.print(table)
    total = sum(eff[n.code] for n in fw.indicators)
    console.print(t("cli.fw.sum", lang, n=len(fw.indicators), total=f"{total:.6f}"))


def _unit(unit: str, lang: str) -> str:
    """An indicator's unit in `lang` ("小時", "horas"); a plain count named, not left blank."""
    return unit_label(unit, lang) or (t("cli.fw.count", lang) if unit == "count" else unit)


ColumnOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--column",
        help="FIELD=COLUMN: read a field (code, name, parent, weight, direction, unit, min, max, "
        "source, description, …) from COLUMN; FIELD= reads it from no column. Repeatable.",
    ),
]
CodeFirstWordOpt = Annotated[
    bool,
    typer.Option(
        "--code-first-word",
        help="The code is the first word of the code column ('1a1 At least basic digital skills' "
        "→ 1a1); the rest is the name unless a name column is read.",
    ),
]
ParentsFromCodeOpt = Annotated[
    bool,
    typer.Option(
        "--parents-from-code",
        help="A row without a parent hangs under its code minus the last segment (1a1 → 1a → 1, "
        "2.3.1 → 2.3); aggregates no row defines are created.",
    ),
]
IndexCodeOpt = Annotated[
    str | None,
    typer.Option(help="With --parents-from-code: the index that one-segment codes hang under."),
]
StructureOpt = Annotated[
    Path | None,
    typer.Option(
        help="Table of the aggregates (code, name, parent, weight; CSV or XLSX) added to the "
        "indicator rows: dimensions and sub-dimensions with their names and weights."
    ),
]
ClipOpt = Annotated[
    bool,
    typer.Option(
        "--clip/--no-clip",
        help="Clip goalpost scores (from min/max columns) to [0, 100]; --no-clip keeps values "
        "beyond the goalposts (as DESI does).",
    ),
]


def parse_columns(items: list[str]) -> dict[str, str]:
    """--column FIELD=COLUMN options as {field: column} ('' for FIELD=: no column)."""
    columns: dict[str, str] = {}
    for item in items:
        field_name, sep, col = item.partition("=")
        if not sep or not field_name.strip():
            raise EgovError(f"--column {item!r}: write FIELD=COLUMN (or FIELD= for no column)")
        columns[field_name.strip()] = col.strip()
    return columns


@app.command("import")
def framework_import(
    table: Annotated[Path, typer.Argument(help="Indicator table, CSV or XLSX (COINr-style columns).")],
    out: Annotated[Path, out_option("Framework TOML file to write.")],
    code: Annotated[str | None, typer.Option(help="Framework code (default: the file name).")] = None,
    version: Annotated[str, typer.Option(help="Framework version.")] = "1",
    column: ColumnOpt = None,
    code_first_word: CodeFirstWordOpt = False,
    parents_from_code: ParentsFromCodeOpt = False,
    index_code: IndexCodeOpt = None,
    structure: StructureOpt = None,
    clip: ClipOpt = True,
    lang: LangOpt = None,
) -> None:
    """Turn an indicator table (code, parent, level, direction, weight, unit, target, min,
    max, …) into a framework file.

    Example: egov framework import ASEM_iMeta.csv --out asem.toml
    Example (DESI, see examples/desi2022/README.md): egov framework import metadata.csv
    --column code=Indicator --column source= --code-first-word --parents-from-code
    --structure examples/desi2022/structure.csv --no-clip --out desi.toml
    """
    lang = check_lang(lang)
    report = import_table(
        table,
        code=code,
        version=version,
        columns=parse_columns(column or []),
        code_first_word=code_first_word,
        parents_from_code=parents_from_code,
        index_code=index_code,
        structure=structure,
        goalposts_clip=clip,
    )
    text = framework_to_toml(
        report.framework, header=f"Imported from {table.name} by `egov framework import`."
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    for note in report.notes:
        console.print(note_text(note, lang), markup=False)
    fw = report.framework
    said = t(
        "cli.fw.imported",
        lang,
        out=out,
        categories=len(fw.categories),
        indicators=len(fw.indicators),
        hash=fw.content_hash[:12],
    )
    console.print(said, markup=False)
