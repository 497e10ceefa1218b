"""Build a framework from an indicator table (CSV or XLSX), COINr style.

Assessors keep indicator lists in spreadsheets. The table has one row per node (indicators
and aggregates) with columns, matched case-insensitively:

    code | iCode, name | iName, parent | Parent, level | Level, direction | Direction,
    weight | Weight, unit | Unit, target | Target, type | Type,
    name_zh | name_zh-Hant, name_pt, name_en, rationale, applies_to, source, measure

Rows whose `type` is `Group` or `Denominator` (COINr's iMeta) are not part of the tree and
are skipped. The node without a parent is the index; its children become categories, their
children dimensions (or indicators), and so on. Every problem is reported with its line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from egov.errors import EgovError
from indicators.framework import LANGUAGES, Framework, build_framework

ALIASES = {
    "code": ("code", "icode"),
    "name": ("name", "iname"),
    "parent": ("parent",),
    "level": ("level",),
    "direction": ("direction",),
    "weight": ("weight",),
    "unit": ("unit",),
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
}
SKIPPED_TYPES = {"group", "denominator", "other"}


@dataclass
class ImportReport:
    """What an import did besides building the framework (shown to the user)."""

    framework: Framework
    notes: list[str] = field(default_factory=list)


def read_table(path: Path, keep_blank_lines: bool = False) -> pd.DataFrame:
    """Read a CSV or XLSX table as strings-or-numbers, with a clear error for other files.

    With `keep_blank_lines` a blank CSV line stays an (empty) row, so that row i is on
    line i + 2 of the file, as in a spreadsheet."""
    suffix = path.suffix.lower()
    if not path.exists():
        raise EgovError(f"{path}: no such file")
    try:
        if suffix in (".csv", ".txt"):
            return pd.read_csv(path, encoding="utf-8-sig", skip_blank_lines=not keep_blank_lines)
        if suffix in (".xlsx", ".xlsm"):
            return pd.read_excel(path, sheet_name=0, engine="openpyxl")
    except UnicodeDecodeError as exc:
        raise EgovError(f"{path}: not UTF-8 text (byte {exc.start}); save the file as UTF-8 CSV") from exc
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise EgovError(f"{path}: cannot read as {suffix[1:].upper()}: {exc}") from exc
    except Exception as exc:  # openpyxl raises several unrelated types for broken files
        raise EgovError(f"{path}: cannot read as {suffix[1:].upper()}: {exc}") from exc
    raise EgovError(f"{path}: unsupported file type '{suffix}' (use .csv or .xlsx)")


def _columns(df: pd.DataFrame) -> dict[str, str]:
    lower = {str(c).strip().lower(): str(c) for c in df.columns}
    found: dict[str, str] = {}
    for field_name, aliases in ALIASES.items():
        for alias in aliases:
            if alias in lower:
                found[field_name] = lower[alias]
                break
    return found


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


def import_table(
    path: str | Path,
    *,
    code: str | None = None,
    version: str = "1",
    methods: dict[str, Any] | None = None,
) -> ImportReport:
    """Turn an indicator table into a validated framework (raises EgovError on problems).

    `methods` becomes the framework's `[methods]` table (defaults for every stage)."""
    p = Path(path)
    df = read_table(p, keep_blank_lines=True)
    cols = _columns(df)
    problems: list[str] = []
    for required in ("code", "parent"):
        if required not in cols:
            problems.append(f"{p.name}: missing column '{required}' (or its COINr name)")
    if problems:
        raise EgovError(f"{p.name}: cannot import the indicator table", problems)

    first_line = 2  # line 1 is the header (spreadsheet row numbers too)
    rows: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    skipped: dict[str, int] = {}
    for i, row in df.iterrows():
        line = first_line + int(str(i))
        if row.isna().all():  # a blank line or spreadsheet row
            continue
        rtype = _cell(row, cols.get("type"))
        if rtype is not None and str(rtype).strip().lower() in SKIPPED_TYPES:
            skipped[str(rtype)] = skipped.get(str(rtype), 0) + 1
            continue
        rcode = _cell(row, cols["code"])
        where = f"{p.name} line {line}"
        if rcode is None:
            problems.append(f"{where}: empty code")
            continue
        rcode = str(rcode)
        if rcode in rows:
            problems.append(f"{where}: duplicate code '{rcode}' (first on line {rows[rcode]['line']})")
            continue
        rows[rcode] = {"line": line, "row": row, "parent": _cell(row, cols["parent"]), "type": rtype}
        order.append(rcode)

    children: dict[str, list[str]] = {c: [] for c in order}
    roots: list[str] = []
    for c in order:
        parent = rows[c]["parent"]
        if parent is None:
            roots.append(c)
        elif str(parent) not in rows:
            problems.append(
                f"{p.name} line {rows[c]['line']}: orphan '{c}': parent '{parent}' is not defined"
            )
        else:
            children[str(parent)].append(c)
    if len(roots) != 1:
        found = ", ".join(f"'{r}' (line {rows[r]['line']})" for r in roots) or "none"
        problems.append(f"{p.name}: exactly one row must have no parent (the index); found {found}")
    if problems:
        raise EgovError(f"{p.name}: cannot import the indicator table", problems)

    # cycles: every node must reach the root
    root = roots[0]
    reached: set[str] = set()
    stack = [root]
    while stack:
        n = stack.pop()
        if n in reached:
            continue
        reached.add(n)
        stack.extend(children[n])
    for c in order:
        if c not in reached:
            problems.append(
                f"{p.name} line {rows[c]['line']}: '{c}' is in a cycle of parents and never reaches the index"
            )
    if problems:
        raise EgovError(f"{p.name}: cannot import the indicator table", problems)

    filled_names = False

    def names(c: str) -> dict[str, str]:
        nonlocal filled_names
        row = rows[c]["row"]
        base = _cell(row, cols.get("name"))
        out: dict[str, str] = {}
        for lang in LANGUAGES:
            v = _cell(row, cols.get(f"name_{lang}"))
            if v is None:
                v = base if base is not None else c
                filled_names = True
            out[lang] = str(v)
        return out

    def number(c: str, field_name: str) -> Any:
        return _cell(rows[c]["row"], cols.get(field_name))

    def node(c: str) -> dict[str, Any]:
        kids = children[c]
        out: dict[str, Any] = {"name": names(c)}
        weight = number(c, "weight")
        out["weight"] = weight if weight is not None else 1
        if not kids:  # an indicator
            direction = number(c, "direction")
            out["unit"] = str(number(c, "unit") or "")
            out["direction"] = (
                int(direction)
                if isinstance(direction, int | float) and float(direction).is_integer()
                else direction
            )
            out["source"] = str(number(c, "source") or "metric")
            measure = number(c, "measure")
            if measure is not None:
                out["measure"] = str(measure)
            denominator = number(c, "denominator")
            if denominator is not None:
                out["denominator"] = str(denominator)
            target = number(c, "target")
            if target is not None:
                out["target"] = target
            applies = number(c, "applies_to")
            if applies is not None:
                out["applies_to"] = str(applies)
            out["rationale"] = str(number(c, "rationale") or f"imported from {p.name} line {rows[c]['line']}")
            return out
        applies = number(c, "applies_to")
        if applies is not None:
            out["applies_to"] = str(applies)
        key = "indicators" if all(not children[k] for k in kids) else "dimensions"
        if key == "dimensions" and any(not children[k] for k in kids):
            problems.append(
                f"{p.name} line {rows[c]['line']}: '{c}' mixes indicators and aggregates as children; "
                "put its indicators under a dimension of their own"
            )
        out[key] = {k: node(k) for k in kids}
        return out

    root_kids = children[root]
    categories: dict[str, Any] = {}
    for k in root_kids:
        if not children[k]:
            problems.append(
                f"{p.name} line {rows[k]['line']}: indicator '{k}' hangs directly under the index; "
                "an index holds categories"
            )
        else:
            categories[k] = node(k)
    if problems:
        raise EgovError(f"{p.name}: cannot import the indicator table", problems)

    data = {
        "framework": {
            "code": code or p.stem,
            "version": version,
            "name": names(root),
            "source": f"imported from {p.name}",
        },
        "index": {"code": root},
        "methods": methods or {},
        "categories": categories,
    }
    try:
        framework = build_framework(data, origin=p.name)
    except EgovError as exc:
        # map key paths back to the table's lines
        mapped = []
        for prob in exc.problems:
            key_path = prob.split(":", 1)[0]
            code_in_path = key_path.split(".")[-2] if key_path.count(".") >= 2 else ""
            leaf = key_path.split(".")
            hit = next((seg for seg in reversed(leaf) if seg in rows), code_in_path)
            at = rows[hit]["line"] if hit in rows else None
            mapped.append(f"{p.name} line {at} ({hit}): {prob.split(': ', 1)[-1]}" if at else prob)
        raise EgovError(f"{p.name}: the table does not make a valid framework", mapped) from exc

    notes: list[str] = []
    if skipped:
        notes.append(
            "skipped rows that are not part of the tree: "
            + ", ".join(f"{n} × {t}" for t, n in sorted(skipped.items()))
        )
    if filled_names:
        notes.append("names missing in some languages were filled with the table's name; translate them")
    return ImportReport(framework=framework, notes=notes)
