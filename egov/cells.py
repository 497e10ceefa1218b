"""Text in the cells the project writes and reads: one definition of what is unsafe.

- **Formula injection** (OWASP "CSV injection"): a text cell beginning with `=`, `+`, `-`,
  `@`, tab or carriage return is run as a formula by a spreadsheet. Every CSV file the
  project writes goes through `neutral_frame`/`neutral_row` (such text gets a leading `'`,
  which spreadsheets show as text), every XLSX text cell through `write_text` (Excel's quote
  prefix and the string type). Numbers are never changed: only text is (a float column's
  -0.5 stays a number). The database keeps the original text.
- **Control characters**: XML 1.0, so an XLSX workbook, cannot hold C0 controls other than
  tab, line feed and carriage return; openpyxl raises `IllegalCharacterError` on them.
  `excel_text` replaces them (U+FFFD) so that a writer never crashes on stored text, and
  `control_problem` is the import-side refusal of names holding any control character.
- **Ranks are whole numbers**: `write_csv` writes every rank column (`is_rank_label`: a label
  with the word `rank`, e.g. `rank`, `Rank`, `peer_rank`, `rank_p05`, and `tier`) whose values
  are whole numbers as integers, an empty cell where there is none (`integer_ranks`).
- **Numbers people read** (CLI tables, diffs, verification messages): `plain_number` gives
  plain text, 12 significant digits (72.7, not 72.700000000000003 or np.float64(72.7));
  `plain_pair` shows two numbers that differ with as many digits as it takes to see it.

A kernel module: it imports only the standard library and pandas (openpyxl for types only).
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from openpyxl.cell.cell import Cell, MergedCell

# text a spreadsheet would run as a formula (formula injection, OWASP "CSV injection")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def control_pattern(allowed: str = "", surrogates: bool = False) -> re.Pattern[str]:
    """The one definition of the characters refused in text the project takes in: C0
    controls, DEL and C1 controls, except those in `allowed` (free text: tab and line
    breaks); with `surrogates`, lone surrogate code points too (text from JSON: not Unicode)."""
    refused = [chr(c) for c in (*range(0x20), *range(0x7F, 0xA0)) if chr(c) not in allowed]
    body = "".join(re.escape(c) for c in refused)
    return re.compile(f"[{body}{chr(0xD800)}-{chr(0xDFFF)}]" if surrogates else f"[{body}]")


# never part of a one-line name or code
CONTROL_CHARACTERS = control_pattern()
# free text may span lines: tab, line feed and carriage return pass
CONTROL_IN_FREE_TEXT = control_pattern("\t\n\r")
REPLACEMENT = "\ufffd"
# what XML 1.0, so XLSX, cannot hold: C0 controls but tab, line feed and carriage return (the
# characters of openpyxl's ILLEGAL_CHARACTERS_RE, on which it raises IllegalCharacterError;
# written out here so that writing a CSV does not import openpyxl)
XLSX_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def neutralise(text: str) -> str:
    """`text` with a leading `'` when a spreadsheet would run it as a formula, else unchanged."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def _neutral_value(value: Any) -> Any:
    return neutralise(value) if isinstance(value, str) else value


def neutral_row(values: Iterable[Any]) -> list[Any]:
    """A CSV record with every text field neutralised (numbers and None unchanged)."""
    return [_neutral_value(v) for v in values]


def has_bare_cr(values: Iterable[Any]) -> bool:
    """Whether a text field holds a carriage return. Python's csv writer quotes a field only
    for the characters of its line terminator, so with "\n" a field holding a lone CR would be
    written unquoted and split the record in a reader; such a record is written fully quoted."""
    return any(isinstance(v, str) and "\r" in v for v in values)


def _neutral_index(index: pd.Index) -> pd.Index:
    if isinstance(index, pd.MultiIndex):
        levels = [list(_neutral_index(level)) for level in index.levels]
        return index.set_levels(levels, verify_integrity=False)
    if _is_plain(index.dtype):
        return index
    return index.map(_neutral_value)


def neutral_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of `df` safe to write as CSV: text cells, column labels and index labels
    neutralised; numeric and date columns untouched (so -0.5 stays the number -0.5)."""
    out = df.copy()
    for i, dtype in enumerate(out.dtypes):  # the dtypes first: a column is taken out only to change it
        if not _is_plain(dtype):
            out.isetitem(i, out.iloc[:, i].map(_neutral_value).array)
    out.columns = _neutral_index(out.columns)
    out.index = _neutral_index(out.index)
    return out


def is_rank_label(label: Any) -> bool:
    """A column holding ranks: a label with the word `rank` (`rank`, `Rank`, `peer_rank`,
    `rank_p05`, `rank change`) or `tier`."""
    words = re.split(r"[\s_]+", str(label).strip().lower())
    return "rank" in words or "tier" in words


def integer_ranks(df: pd.DataFrame, ranks: Iterable[Any] | None = None) -> pd.DataFrame:
    """`df` with its rank columns (`is_rank_label`, and the labels in `ranks`) as nullable
    integers (pandas Int64: 1, not 1.0; missing stays missing) where every value is a
    whole number; other columns untouched."""
    extra = set(ranks if ranks is not None else ())
    out = df
    for i, (label, dtype) in enumerate(zip(df.columns, df.dtypes, strict=True)):
        if not (label in extra or is_rank_label(label)) or not pd.api.types.is_float_dtype(dtype):
            continue
        column = df.iloc[:, i]
        values = column.to_numpy(dtype=float)
        present = values[~pd.isna(values)]
        if (present != present.round()).any() or (abs(present) > 2**53).any():
            continue
        if out is df:
            out = df.copy()
        out.isetitem(i, column.astype("Int64").array)
    return out


def write_csv(df: pd.DataFrame, path: Any, *, ranks: Iterable[Any] | None = None, **to_csv: Any) -> None:
    """`df.to_csv(path, **to_csv)` with formula-injection-safe text (`neutral_frame`) and
    ranks as integers (`integer_ranks`; `ranks`: more columns holding ranks); text holding a
    carriage return is quoted (`has_bare_cr`)."""
    out = neutral_frame(integer_ranks(df, ranks))
    text_columns = [out.iloc[:, i] for i, dtype in enumerate(out.dtypes) if not _is_plain(dtype)]
    if any(has_bare_cr(c) for c in text_columns) or has_bare_cr(out.index) or has_bare_cr(out.columns):
        to_csv.setdefault("quoting", csv.QUOTE_NONNUMERIC)
    out.to_csv(path, **to_csv)


def _is_plain(dtype: Any) -> bool:
    """Numbers and dates: never text to neutralise."""
    return bool(pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_datetime64_any_dtype(dtype))


def excel_text(text: str) -> str:
    """`text` with the characters an XLSX file cannot hold (C0 controls other than tab, line
    feed and carriage return) replaced by U+FFFD, so that a workbook is always written."""
    return XLSX_ILLEGAL.sub(REPLACEMENT, text)


def write_text(cell: Cell | MergedCell, value: str) -> None:
    """Write `value` into an XLSX cell as text: characters XLSX cannot hold replaced
    (`excel_text`), and text a spreadsheet could run as a formula kept with Excel's quote
    prefix and the string type (formula-injection safety)."""
    value = excel_text(value)
    cell.value = value
    if value.startswith(FORMULA_PREFIXES):
        cell.data_type = "s"
        cell.quotePrefix = True


def control_problem(text: str, what: str = "a name", free_text: bool = False) -> str | None:
    """The problem of a text holding a control character (C0, DEL, C1; with `free_text`
    tab and line breaks are allowed), naming the first one and where it is; else None."""
    m = (CONTROL_IN_FREE_TEXT if free_text else CONTROL_CHARACTERS).search(text)
    if m is None:
        return None
    ch = m.group()
    name = unicodedata.name(ch, "") or _CONTROL_NAMES.get(ord(ch), "control character")
    allowed = "tab and line breaks are allowed" if free_text else "it must be one line of printable text"
    return (
        f"control character U+{ord(ch):04X} ({name.lower()}) at character {m.start() + 1} of "
        f"{what}; remove it ({allowed})"
    )


_CONTROL_NAMES = {
    0x00: "null",
    0x07: "bell",
    0x08: "backspace",
    0x09: "tab",
    0x0A: "line feed",
    0x0D: "carriage return",
    0x1B: "escape",
    0x7F: "delete",
    0x85: "next line",
    0x9B: "control sequence introducer",
}


def plain_number(value: Any, missing: str = "—", digits: int = 12) -> str:
    """A number as a person reads it: whole numbers without a decimal point, others with
    `digits` significant digits and no trailing zeros (72.7, 654, 0.125); `missing` for
    None or NaN. Never a numpy repr."""
    if value is None or (not isinstance(value, str) and bool(pd.isna(value))):
        return missing
    number = float(value)
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return format(number, f".{digits}g")


def plain_pair(a: Any, b: Any, missing: str = "—") -> tuple[str, str]:
    """`plain_number` of two numbers, with every digit (the shortest text that reads back
    as the same float) when they differ but would print the same."""
    x, y = plain_number(a, missing), plain_number(b, missing)
    if x == y and x != missing and float(a) != float(b):
        return repr(float(a)), repr(float(b))
    return x, y
