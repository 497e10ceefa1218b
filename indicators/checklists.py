"""Checklists of the framework: the assessor's own service checks, in the manner of mystery
shopping (the EU eGovernment Benchmark's method). docs/framework-format.md, "Checklists".

A checklist (`[checklists.CODE]`) has trilingual names, the object kind it applies to
(`applies_to`, optionally narrowed to named objects with `objects`) and items
(`[checklists.CODE.items.ITEM]`): a yes/no item (no `max`) or a scored item (`max = N`, an
answer 0..N), each with trilingual names and a weight (> 0, default 1). An indicator with
`source = "checklist"` and `checklist = "CODE"` takes its value from the answers: the
weighted share of points over the items checked for the object (`checklist_share`). Parsing
and validation collect `(key path, problem)` pairs; `indicators.loader` reports them with the
framework's other problems.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from egov.langs import LANGUAGES
from indicators.model import CODE_RE, OBJECT_KINDS, SUBKINDS, Checklist, ChecklistItem, Node, kind_within

__all__ = [
    "CHECKLIST_KEYS",
    "ITEM_KEYS",
    "MAX_POINTS",
    "check_checklist_references",
    "read_checklists",
]

CHECKLIST_KEYS = {"name", "applies_to", "objects", "description", "items"}
ITEM_KEYS = {"name", "weight", "max", "description"}
MAX_POINTS = 10  # the highest `max` of a scored item (its answers fit a list in Excel's data validation)
Problem = tuple[str, str]


# --- reading and validation ------------------------------------------------------------------
def read_checklists(data: Any) -> tuple[dict[str, Checklist], list[Problem]]:
    """The `[checklists]` table as parsed from TOML → checklists by code, and every problem."""
    problems: list[Problem] = []
    if data is None:
        return {}, problems
    if not isinstance(data, dict):
        return {}, [("checklists", "must be a table of checklists ([checklists.CODE])")]
    out: dict[str, Checklist] = {}
    for code, table in data.items():
        path = f"checklists.{code}"
        if not CODE_RE.match(code):
            problems.append((path, f"'{code}' is not a valid checklist code (letters, digits, '_' and '-')"))
        if not isinstance(table, dict):
            problems.append((path, "must be a table"))
            continue
        checklist = _checklist(path, code, table, problems)
        if checklist is not None:
            out[code] = checklist
    return out, problems


def _checklist(path: str, code: str, table: dict[str, Any], problems: list[Problem]) -> Checklist | None:
    _unknown(path, table, CHECKLIST_KEYS, problems)
    name = _names(f"{path}.name", table.get("name"), problems)
    applies = table.get("applies_to")
    if not isinstance(applies, str) or not _known_kind(applies):
        problems.append(
            (
                f"{path}.applies_to",
                f"must be an object kind ({', '.join(OBJECT_KINDS)}), "
                'optionally with a subkind such as "infrastructure.data_centre"',
            )
        )
        applies = ""
    objects = table.get("objects", [])
    if not isinstance(objects, list) or not all(isinstance(o, str) and o.strip() for o in objects):
        problems.append((f"{path}.objects", "must be a list of object codes"))
        objects = []
    elif len(set(objects)) != len(objects):
        problems.append((f"{path}.objects", "lists an object more than once"))
    description = table.get("description", "")
    if not isinstance(description, str):
        problems.append((f"{path}.description", "must be a string"))
        description = ""
    items_table = table.get("items")
    if not isinstance(items_table, dict) or not items_table:
        problems.append(
            (f"{path}.items", "a checklist needs at least one item ([checklists.CODE.items.ITEM])")
        )
        items_table = {}
    items = [_item(f"{path}.items.{k}", k, v, problems) for k, v in items_table.items()]
    return Checklist(code, name, applies, tuple(i for i in items if i), tuple(objects), description)


def _item(path: str, code: str, table: Any, problems: list[Problem]) -> ChecklistItem | None:
    if not CODE_RE.match(code):
        problems.append((path, f"'{code}' is not a valid item code (letters, digits, '_' and '-')"))
    if not isinstance(table, dict):
        problems.append((path, "must be a table"))
        return None
    _unknown(path, table, ITEM_KEYS, problems)
    name = _names(f"{path}.name", table.get("name"), problems)
    weight = table.get("weight", 1)
    if (
        isinstance(weight, bool)
        or not isinstance(weight, int | float)
        or not math.isfinite(weight)
        or weight <= 0
    ):
        problems.append((f"{path}.weight", f"must be a number > 0, not {weight!r}"))
        weight = 1.0
    top = table.get("max")
    if top is not None and (isinstance(top, bool) or not isinstance(top, int) or not 1 <= top <= MAX_POINTS):
        problems.append(
            (
                f"{path}.max",
                f"must be a whole number of points from 1 to {MAX_POINTS}, not {top!r} "
                "(leave it out for a yes/no item)",
            )
        )
        top = None
    description = table.get("description", "")
    if not isinstance(description, str):
        problems.append((f"{path}.description", "must be a string"))
        description = ""
    return ChecklistItem(code, name, float(weight), top, description)


def check_checklist_references(
    nodes: Mapping[str, Node], checklists: Mapping[str, Checklist]
) -> list[Problem]:
    """Cross-checks: a checklist code is not a node code; an indicator with source =
    "checklist" names a known checklist that covers the objects it applies to; `checklist` is
    only written with that source."""
    problems: list[Problem] = []
    for code in checklists:
        if code in nodes:
            problems.append(
                (f"checklists.{code}", f"duplicate code '{code}': already used at {nodes[code].path}")
            )
    for node in nodes.values():
        if not node.is_indicator:
            continue
        ref: Any = node.checklist
        path = f"{node.path}.checklist"
        if node.source != "checklist":
            if ref is not None:
                problems.append((path, 'only allowed with source = "checklist"'))
            continue
        known = ", ".join(checklists) or "none defined"
        if not isinstance(ref, str):
            problems.append(
                (path, f'required for source = "checklist": the code of a [checklists] table ({known})')
            )
        elif ref not in checklists:
            problems.append((path, f"unknown checklist {ref!r} (defined: {known})"))
        elif checklists[ref].applies_to and not (
            node.applies_to and kind_within(node.applies_to, checklists[ref].applies_to)
        ):
            problems.append(
                (
                    f"{node.path}.applies_to",
                    f"the indicator applies to {node.applies_to or 'every object'!s}, but checklist {ref!r} "
                    f"to {checklists[ref].applies_to!r} only",
                )
            )
    return problems


def _known_kind(value: str) -> bool:
    kind, _, sub = value.partition(".")
    return kind in OBJECT_KINDS and (not sub or sub in SUBKINDS.get(kind, ()))


def _unknown(path: str, table: dict[str, Any], allowed: set[str], problems: list[Problem]) -> None:
    for key in table:
        if key not in allowed:
            problems.append((f"{path}.{key}", f"unknown key (allowed: {', '.join(sorted(allowed))})"))


def _names(path: str, value: Any, problems: list[Problem]) -> dict[str, str]:
    if not isinstance(value, dict):
        problems.append((path, f"missing names (a table with {', '.join(LANGUAGES)})"))
        return {}
    out: dict[str, str] = {}
    for lang in value:
        if lang not in LANGUAGES:
            problems.append((f"{path}.{lang}", f"unknown language (allowed: {', '.join(LANGUAGES)})"))
    for lang in LANGUAGES:
        text = value.get(lang)
        if not isinstance(text, str) or not text.strip():
            problems.append(
                (f"{path}.{lang}", "missing name" if text is None else "must be a non-empty string")
            )
        else:
            out[lang] = text
    return out
