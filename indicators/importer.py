"""Build a framework from an indicator table (CSV or XLSX), COINr style.

Assessors keep indicator lists in spreadsheets. The table has one row per node (indicators
and aggregates) with columns, matched case-insensitively:

    code | iCode, name | iName, parent | Parent, level | Level, direction | Direction,
    weight | Weight, unit | Unit, target | Target, type | Type,
    name_zh | name_zh-Hant, name_pt, name_en, rationale, applies_to, source, measure

Rows whose `type` is `Group` or `Denominator` (COINr's iMeta) are not part of the tree and
are skipped. The node without a parent is the index; its children become categories, their
children dimensions (or indicators), and so on. Every problem is reported with its line.

Tables that are not COINr-shaped (the DESI metadata sheet, an assessor's own list) need a few
options (`import_table` keywords, `egov framework import` flags):

- `columns`: read a field from a named column (`{"code": "Indicator"}`), or from none
  (`{"source": ""}`), instead of the column found by its usual name;
- `code_first_word`: the code is the first word of the code column ("1a1 At least basic
  digital skills" → `1a1`); the rest is the name unless a name column is read;
- `parents_from_code`: a row without a parent hangs under its code minus the last segment
  (`1a1` → `1a` → `1`; `2.3.1` → `2.3`; segments are runs of digits or of letters);
  aggregates that no row defines are created, named by their codes; with `index_code`, codes
  of one segment hang under that index;
- `structure`: a second table (code, name, parent, weight, …) with the aggregates — the
  dimensions and sub-dimensions with their names and weights — added to the indicator rows;
- goalposts: `min` and `max` columns (`Min`, `Max`) give an indicator the normalisation
  `{ method = "goalposts", min, max, clip }`, with `clip` from `goalposts_clip`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from egov.errors import EgovError
from egov.langs import LANGUAGES
from egov.reader import read_table
from indicators.framework import SOURCES, Framework, build_framework, resolve_framework

ALIASES = {
    "code": ("code", "icode"),
    "name": ("name", "iname"),
    "parent": ("parent",),
    "level": ("level",),
    "direction": ("direction",),
    "weight": ("weight",),
    "unit": ("unit", "unit of measure"),
    "target": ("target",),
    "type": ("type",),
    "denominator": ("denominator",),
    "name_zh-Hant": ("name_zh-hant", "name_zh"),
    "name_pt": ("name_pt",),
    "name_en": ("name_en",),
    "rationale": ("rationale",),
    "applies_to": ("applies_to",),
    "source": ("source",),
    "measure": ("measure",),
    "description": ("description", "definition"),
    "min": ("min", "goalpost_min"),
    "max": ("max", "goalpost_max"),
}
# parts of a hierarchical code: runs of digits or of letters ("1a1" → 1, a, 1; "2.3" → 2, 3)
_SEGMENT = re.compile(r"[0-9]+|[^\W\d_]+")
DERIVED = "derived from the codes"
SKIPPED_TYPES = {"group", "denominator", "other"}


@dataclass
class ImportReport:
    """What an import did besides building the framework (shown to the user)."""

    framework: Framework
    notes: list[str] = field(default_factory=list)


def _columns(
    df: pd.DataFrame, mapping: dict[str, str] | None = None, where: str = ""
) -> tuple[dict[str, str], list[str]]:
    """Field → column: by the usual names, then as `mapping` says ("" = read from no column)."""
    lower = {str(c).strip().lower(): str(c) for c in df.columns}
    found: dict[str, str] = {}
    for field_name, aliases in ALIASES.items():
        for alias in aliases:
            if alias in lower:
                found[field_name] = lower[alias]
                break
    problems: list[str] = []
    for field_name, column in (mapping or {}).items():
        if field_name not in ALIASES:
            problems.append(f"{where}: unknown field '{field_name}' (known: {', '.join(ALIASES)})")
        elif not column:
            found.pop(field_name, None)
        elif column in df.columns:
            found[field_name] = column
        elif column.strip().lower() in lower:
            found[field_name] = lower[column.strip().lower()]
        else:
            shown = ", ".join(map(str, df.columns[:15]))
            problems.append(f"{where}: no column '{column}' to read '{field_name}' from (columns: {shown})")
    return found, problems


def _code_text(value: Any) -> str | None:
    """A code as text (a number read from a spreadsheet as 1.0 is the code "1")."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip() or None


def _as_number(value: Any) -> float | None:
    """A finite number from a cell (text such as "0.5" too: one bad cell makes a whole
    column text), else None."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def parent_from_code(code: str) -> str | None:
    """The code minus its last segment: 1a1 → 1a, 1a → 1, 2.3.1 → 2.3, 1 → None."""
    segments = list(_SEGMENT.finditer(code))
    if len(segments) < 2:
        return None
    return code[: segments[-1].start()].rstrip("._- ") or None


def _cell(row: pd.Series, col: str | None) -> Any:
    if col is None:
        return None
    value = row[col]
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value.item() if hasattr(value, "item") else value


def _collect(
    df: pd.DataFrame,
    cols: dict[str, str],
    fname: str,
    first_word: bool,
    tree: _Tree,
) -> None:
    """Add the rows of one table to the tree's rows (code → file, line, cells by field)."""
    rows, problems = tree.rows, tree.problems
    first_line = 2  # line 1 is the header (spreadsheet row numbers too)
    name_from_code = first_word and cols.get("name") in (None, cols.get("code"))
    for i, row in df.iterrows():
        line = first_line + int(str(i))
        if row.isna().all():  # a blank line or spreadsheet row
            continue
        cells = {f: _cell(row, cols.get(f)) for f in ALIASES}
        rtype = cells["type"]
        if rtype is not None and str(rtype).strip().lower() in SKIPPED_TYPES:
            tree.skipped[str(rtype)] = tree.skipped.get(str(rtype), 0) + 1
            continue
        where = f"{fname} line {line}"
        rcode = _code_text(cells["code"])
        if rcode is not None and first_word:
            word, *rest = rcode.split(maxsplit=1)
            rcode = word
            if name_from_code:
                cells["name"] = rest[0].strip() if rest else None
        if rcode is None:
            problems.append(f"{where}: empty code")
            continue
        if rcode in rows:
            first = rows[rcode]
            problems.append(f"{where}: duplicate code '{rcode}' (first on {_place(first, fname)})")
            continue
        cells["parent"] = _code_text(cells["parent"])
        rows[rcode] = {"file": fname, "line": line, "cells": cells}
        tree.order.append(rcode)


def _place(row: dict[str, Any], main: str) -> str:
    """Where a row is: "line 3" in the main table, "structure.csv line 3" in another."""
    if row["line"] is None:
        return DERIVED
    return f"line {row['line']}" if row["file"] == main else f"{row['file']} line {row['line']}"


@dataclass
class _Tree:
    """The rows of the indicator table (and of the structure table), and the tree they make."""

    main: str  # the main table's file name
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)  # code → file, line, cells
    order: list[str] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)  # row type → count
    created: list[str] = field(default_factory=list)  # aggregates derived from the codes
    children: dict[str, list[str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def at(self, c: str) -> str:
        r = self.rows[c]
        return f"{r['file']} line {r['line']}" if r["line"] is not None else f"'{c}' ({DERIVED})"

    def cell(self, c: str, field_name: str) -> Any:
        return self.rows[c]["cells"][field_name]

    def raise_if_problems(self) -> None:
        if self.problems:
            raise EgovError(f"{self.main}: cannot import the indicator table", self.problems)


def import_table(
    path: str | Path,
    *,
    code: str | None = None,
    version: str = "1",
    methods: dict[str, Any] | None = None,
    columns: dict[str, str] | None = None,
    code_first_word: bool = False,
    parents_from_code: bool = False,
    index_code: str | None = None,
    structure: str | Path | None = None,
    goalposts_clip: bool = True,
) -> ImportReport:
    """Turn an indicator table into a validated framework (raises EgovError on problems).

    `methods` becomes the framework's `[methods]` table (defaults for every stage). The other
    options read tables that are not COINr-shaped (see the module docstring)."""
    p = Path(path)
    df, cols, tree, second = _read_tables(p, columns, structure, parents_from_code)
    _collect(df, cols, p.name, code_first_word, tree)
    if second is not None and structure is not None:
        _collect(second[0], second[1], Path(structure).name, False, tree)
    if parents_from_code:
        _derive_parents(tree, index_code)
    _check_source_column(tree, cols.get("source"))
    root = _link(tree)
    builder = _NodeBuilder(tree, goalposts_clip)
    categories = builder.categories(root)
    sources = p.name + (f" and {Path(structure).name}" if structure is not None else "")
    data = {
        "framework": {
            "code": code or p.stem,
            "version": version,
            "name": builder.names(root),
            "source": f"imported from {sources}",
        },
        "index": {"code": root},
        "methods": methods or {},
        "categories": categories,
    }
    framework = _build(data, tree)
    return ImportReport(framework=framework, notes=_notes(tree, df, cols, builder.filled_names))


TABLE_SUFFIXES = (".csv", ".xlsx")


def framework_or_table(spec: str | Path | None) -> ImportReport:
    """The framework a command names: a framework TOML file or a built-in name, or an indicator
    table (CSV or XLSX with COINr-style columns), imported as `egov framework import` would
    with its defaults, so that one command reads the table and the data (COINr's
    `new_coin(iData, iMeta)`). The notes are the import's; a TOML framework has none."""
    if spec is not None and Path(spec).suffix.lower() in TABLE_SUFFIXES and Path(spec).is_file():
        return import_table(spec)
    return ImportReport(framework=resolve_framework(spec), notes=[])


def _read_tables(
    p: Path, columns: dict[str, str] | None, structure: str | Path | None, parents_from_code: bool
) -> tuple[pd.DataFrame, dict[str, str], _Tree, tuple[pd.DataFrame, dict[str, str]] | None]:
    """The main table and its columns, the structure table and its columns (if any), both
    checked for their required columns, and the empty tree to collect their rows into."""
    df = read_table(p, keep_blank_lines=True)
    cols, problems = _columns(df, columns, p.name)
    if "code" not in cols:
        problems.append(f"{p.name}: missing column 'code' (or its COINr name)")
    if "parent" not in cols and not parents_from_code:
        problems.append(f"{p.name}: missing column 'parent' (or its COINr name)")
    second: tuple[pd.DataFrame, dict[str, str]] | None = None
    if structure is not None:
        sp = Path(structure)
        sdf = read_table(sp, keep_blank_lines=True)
        scols, _ = _columns(sdf)
        second = (sdf, scols)
        for required in ("code", *(() if parents_from_code else ("parent",))):
            if required not in scols:
                problems.append(f"{sp.name}: missing column '{required}' (or its COINr name)")
    tree = _Tree(main=p.name, problems=problems)
    tree.raise_if_problems()
    return df, cols, tree, second


def _derive_parents(tree: _Tree, index_code: str | None) -> None:
    """A row without a parent hangs under its code minus the last segment; aggregates that no
    row defines are created."""

    def derived_parent(c: str) -> str | None:
        found = parent_from_code(c)
        return found if found is not None or c == index_code else index_code

    for c in list(tree.order):
        if tree.cell(c, "parent") is not None:
            continue
        parent = derived_parent(c)
        tree.rows[c]["cells"]["parent"] = parent
        while parent is not None and parent not in tree.rows:
            cells: dict[str, Any] = dict.fromkeys(ALIASES)
            cells.update(code=parent, parent=derived_parent(parent))
            tree.rows[parent] = {"file": DERIVED, "line": None, "cells": cells}
            tree.order.append(parent)
            tree.created.append(parent)
            parent = cells["parent"]


def _check_source_column(tree: _Tree, source_col: str | None) -> None:
    """A `source` column that holds something else (a data provider) is a problem."""
    bad_source = next(
        (
            c
            for c in tree.order
            if tree.rows[c]["file"] == tree.main and tree.cell(c, "source") not in (None, *SOURCES)
        ),
        None,
    )
    if source_col is not None and bad_source is not None:
        tree.problems.append(
            f"{tree.at(bad_source)}: column '{source_col}' holds {tree.cell(bad_source, 'source')!r}, but an "
            f"indicator's source is one of {', '.join(SOURCES)}; read 'source' from another column or from "
            "none (egov framework import --column source=)"
        )


def _link(tree: _Tree) -> str:
    """Children of every row, the one root (the index), every row reaching it; returns the root."""
    tree.children = {c: [] for c in tree.order}
    roots: list[str] = []
    for c in tree.order:
        parent = tree.cell(c, "parent")
        if parent is None:
            roots.append(c)
        elif str(parent) not in tree.rows:
            tree.problems.append(f"{tree.at(c)}: orphan '{c}': parent '{parent}' is not defined")
        else:
            tree.children[str(parent)].append(c)
    if len(roots) != 1:
        found = ", ".join(f"'{r}' ({_place(tree.rows[r], tree.main)})" for r in roots) or "none"
        tree.problems.append(f"{tree.main}: exactly one row must have no parent (the index); found {found}")
    tree.raise_if_problems()
    # cycles: every node must reach the root
    root = roots[0]
    reached: set[str] = set()
    stack = [root]
    while stack:
        n = stack.pop()
        if n in reached:
            continue
        reached.add(n)
        stack.extend(tree.children[n])
    for c in tree.order:
        if c not in reached:
            tree.problems.append(f"{tree.at(c)}: '{c}' is in a cycle of parents and never reaches the index")
    tree.raise_if_problems()
    return root


class _NodeBuilder:
    """The framework's categories, dimensions and indicators from the linked rows."""

    def __init__(self, tree: _Tree, goalposts_clip: bool) -> None:
        self.tree = tree
        self.goalposts_clip = goalposts_clip
        self.filled_names = False

    def categories(self, root: str) -> dict[str, Any]:
        tree = self.tree
        categories: dict[str, Any] = {}
        for k in tree.children[root]:
            if not tree.children[k]:
                tree.problems.append(
                    f"{tree.at(k)}: indicator '{k}' hangs directly under the index; an index holds categories"
                )
            else:
                categories[k] = self.node(k)
        tree.raise_if_problems()
        return categories

    def names(self, c: str) -> dict[str, str]:
        cells = self.tree.rows[c]["cells"]
        base = cells["name"]
        out: dict[str, str] = {}
        for lang in LANGUAGES:
            v = cells[f"name_{lang}"]
            if v is None:
                v = base if base is not None else c
                self.filled_names = True
            out[lang] = str(v)
        return out

    def goalposts(self, c: str) -> dict[str, Any] | None:
        tree = self.tree
        lo, hi = tree.cell(c, "min"), tree.cell(c, "max")
        if lo is None and hi is None:
            return None
        if tree.children[c]:
            tree.problems.append(f"{tree.at(c)}: goalposts (min, max) are given for the aggregate '{c}'")
            return None
        lo_n, hi_n = _as_number(lo), _as_number(hi)
        if lo_n is None or hi_n is None:
            tree.problems.append(
                f"{tree.at(c)}: goalposts need two numbers, min and max (found {lo!r}, {hi!r})"
            )
            return None
        return {"method": "goalposts", "min": lo_n, "max": hi_n, "clip": self.goalposts_clip}

    def node(self, c: str) -> dict[str, Any]:
        tree = self.tree
        kids = tree.children[c]
        out: dict[str, Any] = {"name": self.names(c)}
        weight = tree.cell(c, "weight")
        out["weight"] = weight if weight is not None else 1
        description = tree.cell(c, "description")
        if description is not None:
            out["description"] = str(description)
        normalisation = self.goalposts(c)
        if not kids:
            return self.indicator(c, out, normalisation)
        applies = tree.cell(c, "applies_to")
        if applies is not None:
            out["applies_to"] = str(applies)
        key = "indicators" if all(not tree.children[k] for k in kids) else "dimensions"
        if key == "dimensions" and any(not tree.children[k] for k in kids):
            tree.problems.append(
                f"{tree.at(c)}: '{c}' mixes indicators and aggregates as children; "
                "put its indicators under a dimension of their own"
            )
        out[key] = {k: self.node(k) for k in kids}
        return out

    def indicator(self, c: str, out: dict[str, Any], normalisation: dict[str, Any] | None) -> dict[str, Any]:
        tree = self.tree
        direction = tree.cell(c, "direction")
        out["unit"] = str(tree.cell(c, "unit") or "")
        out["direction"] = (
            int(direction)
            if isinstance(direction, int | float) and float(direction).is_integer()
            else direction
        )
        out["source"] = str(tree.cell(c, "source") or "metric")
        for optional in ("measure", "denominator"):
            value = tree.cell(c, optional)
            if value is not None:
                out[optional] = str(value)
        target = tree.cell(c, "target")
        if target is not None:
            out["target"] = target
        applies = tree.cell(c, "applies_to")
        if applies is not None:
            out["applies_to"] = str(applies)
        out["rationale"] = str(tree.cell(c, "rationale") or f"imported from {tree.at(c)}")
        if normalisation is not None:
            out["normalisation"] = normalisation
        return out


def _build(data: dict[str, Any], tree: _Tree) -> Framework:
    """The framework, its problems mapped from key paths back to the table's lines."""
    try:
        return build_framework(data, origin=tree.main)
    except EgovError as exc:
        mapped = []
        for prob in exc.problems:
            key_path = prob.split(":", 1)[0]
            code_in_path = key_path.split(".")[-2] if key_path.count(".") >= 2 else ""
            leaf = key_path.split(".")
            hit = next(
                (seg.strip('"') for seg in reversed(leaf) if seg.strip('"') in tree.rows), code_in_path
            )
            mapped.append(f"{tree.at(hit)} ({hit}): {prob.split(': ', 1)[-1]}" if hit in tree.rows else prob)
        raise EgovError(f"{tree.main}: the table does not make a valid framework", mapped) from exc


def _notes(tree: _Tree, df: pd.DataFrame, cols: dict[str, str], filled_names: bool) -> list[str]:
    notes: list[str] = []
    if tree.skipped:
        notes.append(
            "skipped rows that are not part of the tree: "
            + ", ".join(f"{n} × {t}" for t, n in sorted(tree.skipped.items()))
        )
    if tree.created:
        notes.append(
            f"created {len(tree.created)} aggregate(s) that no row defines, named by their codes and weighing 1 "
            f"(give names and weights in a structure table): {', '.join(tree.created)}"
        )
    unread = [str(c) for c in df.columns if str(c) not in cols.values()]
    if unread:
        shown = ", ".join(unread[:12]) + (f" (+{len(unread) - 12} more)" if len(unread) > 12 else "")
        notes.append(f"columns not read: {shown}")
    if filled_names:
        notes.append("names missing in some languages were filled with the table's name; translate them")
    return notes
