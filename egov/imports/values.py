"""Values of a metrics file: a number or a code read from a cell or CSV field, and the checks
every layout shares (indicator code, value against the indicator, status: a department submits,
it never verifies)."""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from egov.cells import FORMULA_PREFIXES
from egov.reader import EXCEL_ERRORS, Problems, formula_injection
from egov.template import NOT_APPLICABLE, STATUSES, SUBMITTED
from indicators.framework import Framework, Node, applies

# a number written as text: ASCII digits, an optional sign, decimal point and exponent
PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", re.ASCII)


def parse_number(value: Any) -> tuple[float | None, str | None]:
    """A value from a cell or CSV field → (number or None for blank, problem or None)."""
    if value is None:
        return None, None
    if isinstance(value, bool):
        return None, f"wrong type — {str(value).upper()} is a logical value, a number is expected"
    if isinstance(value, datetime | date | time):
        return None, f"wrong type — {value} is a date or time, a number is expected"
    if isinstance(value, int) and abs(value) > sys.float_info.max:  # a cell holding a 400-digit integer
        return None, f"wrong type — a {len(str(abs(value)))}-digit integer is not a finite number"
    if isinstance(value, int | float):
        if not math.isfinite(value):
            return None, f"wrong type — {value} is not a finite number"
        return float(value), None
    if not isinstance(value, str):
        return None, f"wrong type — {type(value).__name__} value, a number is expected"
    return _parse_number_text(value.strip())


def _parse_number_text(text: str) -> tuple[float | None, str | None]:
    if text == "" or text.lower() == NOT_APPLICABLE:
        return None, None
    if text.upper() in EXCEL_ERRORS:
        return None, f"the Excel error value {text.upper()} instead of a number; fix the source of the error"
    try:
        number = float(text)
    except ValueError:
        if text.startswith(FORMULA_PREFIXES):
            return None, formula_injection(text)
        shown = text if len(text) <= 40 else text[:37] + "…"
        hint = " (no thousands separators, units or % signs)" if re.search(r"\d", text) else ""
        return None, f"wrong type — {shown!r} is not a number{hint}"
    if not math.isfinite(number):
        return None, f"wrong type — {text!r} is not a finite number"
    if not PLAIN_NUMBER.fullmatch(text):  # float() also reads "1_000", "١٢" and full-width "１２"
        shown = text if len(text) <= 40 else text[:37] + "…"
        return None, f"wrong type — {shown!r} is not a plain number (digits 0-9, '.' as the decimal point)"
    return number, None


def parse_text(value: Any) -> tuple[str | None, str | None]:
    """A code or name from a cell or CSV field → (text or None for blank, problem or None)."""
    if value is None:
        return None, None
    if isinstance(value, bool | datetime | date | time):
        return None, f"wrong type — {value!r} where text is expected"
    if isinstance(value, int | float):
        return (str(int(value)) if float(value).is_integer() else str(value)), None
    text = str(value).strip()
    if not text:
        return None, None
    if text.upper() in EXCEL_ERRORS:
        return None, f"the Excel error value {text.upper()} instead of text"
    if text.startswith(FORMULA_PREFIXES) or str(value).startswith(("\t", "\r")):
        return None, formula_injection(text)
    return text, None


@dataclass(frozen=True)
class Catalogue:
    """What a metrics file is checked against: the framework and the registered objects."""

    framework: Framework
    objects: dict[str, tuple[str, str | None]]  # code → (kind, subkind)

    def indicator(self, code: str) -> Node | None:
        node = self.framework.nodes.get(code)
        return node if node is not None and node.is_indicator else None


def check_value(
    cat: Catalogue, obj: str, node: Node, raw: Any, where: str, problems: Problems
) -> float | None:
    """Parse and check one value of (object, indicator); None when blank or wrong."""
    value, problem = parse_number(raw)
    if problem:
        problems.add(where, problem)
        return None
    if value is None:
        return None
    kind, sub = cat.objects[obj]
    if not applies(node.applies_to, kind, sub):
        what = f"{kind}.{sub}" if sub else kind
        problems.add(
            where,
            f"indicator {node.code} does not apply to {obj} (kind {what}); it applies to "
            f"{node.applies_to} objects only",
        )
        return None
    if node.valid_range is not None:
        lo, hi = node.valid_range
        if not lo <= value <= hi:
            problems.add(
                where, f"out of range — {value:g} is outside [{lo:g}, {hi:g}] ({node.unit}) for {node.code}"
            )
            return None
    return value


def check_indicator_code(cat: Catalogue, code: str) -> str | None:
    """The problem with a column's indicator code, or None for a collected metric."""
    node = cat.framework.nodes.get(code)
    if node is None:
        return f"unknown indicator '{code}' (not in framework {cat.framework.code} {cat.framework.version})"
    if not node.is_indicator:
        return f"'{code}' is a {node.kind} of the framework, not an indicator"
    if node.source != "metric":
        return f"indicator {code} is computed from citizen ratings (source {node.source}), not collected"
    return None


def check_status(raw: Any, where: str, problems: Problems) -> str:
    """A submitted value's status: `submitted` (blank, `submitted`, or `reported`, the word of
    older templates). A department cannot mark its own value verified (or anything else): only
    the assessor decides (egov values verify), so any other status is a problem."""
    text, problem = parse_text(raw)
    if problem:
        problems.add(where, problem)
        return SUBMITTED
    if text is None or text.lower() in (*STATUSES, "reported"):
        return SUBMITTED
    if text.lower() == "verified":
        problems.add(
            where,
            "status 'verified': a department cannot verify its own value; only the assessor does "
            "(egov values verify). Leave the status blank or write submitted",
        )
    else:
        problems.add(where, f"status {text!r} is not one of {', '.join(STATUSES)} (or blank)")
    return SUBMITTED


def value_row(obj: str, code: str, value: float, status: str, sheet: str, cell: str) -> dict[str, Any]:
    """One value to store, with where it was read."""
    return {"object": obj, "indicator": code, "value": value, "status": status, "sheet": sheet, "cell": cell}
