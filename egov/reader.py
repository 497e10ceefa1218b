"""The one hardened spreadsheet reader: every CSV or XLSX file the project reads goes through it
(`egov import metrics`, `egov import departments`, `egov framework import`, `egov evaluate`).

Reading a file takes two steps: (1) the file itself is checked — size, that it is what its
name claims (an XLSX is a zip holding a workbook, a CSV is UTF-8 text), and for an XLSX the
zip directory (member count, uncompressed sizes, compression ratios: a zip bomb is refused
before anything is decompressed), then every XML part streamed with namespaces by
`egov.sheetscan` (the extent of every sheet, merged ranges, hyperlinks and comments, the
bytes decompressed, the XML elements: a huge sheet is refused before openpyxl or pandas
loads it); (2) the content is read with its locations — sheet and cell, or line and column
— so that a caller can report every problem where it is (`Problems`).

A kernel module: it imports only `egov.errors`, `egov.settings`, `egov.sheetscan`, the
standard library, openpyxl (imported when a workbook is opened) and pandas.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import warnings
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from egov.errors import EgovError
from egov.settings import get_settings
from egov.sheetscan import MAX_COLUMNS, scan_parts

if TYPE_CHECKING:
    from openpyxl.cell.cell import Cell, MergedCell
    from openpyxl.workbook.workbook import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

MAX_ZIP_MEMBERS = 2_000
BOMB_RATIO = 100  # a member expanding more than this …
BOMB_MIN_BYTES = 1_000_000  # … and to more than this is treated as a zip bomb
MAX_PROBLEMS_SHOWN = 1_000
WORKBOOK_PARTS = ("xl/workbook.xml", "xl/_rels/workbook.xml.rels")  # read for the sheet names …
NAMES_PART_BYTES = 2_000_000  # … when no larger than this
EXCEL_ERRORS = ("#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#SPILL!", "#CALC!")
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
LIKE_XLSX = {".xlsx"}
LIKE_CSV = {".csv", ".txt"}
REFUSED_SUFFIXES = {
    ".xls": "a legacy Excel 97-2003 workbook",
    ".xlsm": "a macro-enabled workbook",
    ".xlsb": "a binary Excel workbook",
    ".ods": "an OpenDocument spreadsheet",
}


# --- problems and the file itself ------------------------------------------------------------
@dataclass
class Problems:
    """Every problem found, each prefixed with where it is (sheet and cell, or line and column)."""

    items: list[str] = field(default_factory=list)

    def add(self, where: str, message: str) -> None:
        self.items.append(f"{where}: {message}" if where else message)

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self, name: str) -> None:
        if not self.items:
            return
        shown = self.items[:MAX_PROBLEMS_SHOWN]
        if len(self.items) > len(shown):
            shown.append(f"… and {len(self.items) - len(shown)} more problems")
        n = len(self.items)
        raise EgovError(f"{name}: {n} problem{'s' if n != 1 else ''} found; nothing was imported", shown)


@dataclass(frozen=True)
class SourceFile:
    """A file read for import: its bytes, SHA-256 and what it is (xlsx, csv or toml)."""

    path: Path
    data: bytes
    sha256: str
    kind: str

    @property
    def name(self) -> str:
        return self.path.name


def size_text(n: float) -> str:
    """A byte count for a message: '512 bytes', '3.0 MB', '1.2 GB'."""
    if n < 1_000_000:
        return f"{int(n)} bytes"
    return f"{n / 1_000_000:.1f} MB" if n < 1e9 else f"{n / 1e9:.1f} GB"


def _either(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def read_source(path: Path, kinds: Iterable[str]) -> SourceFile:
    """Read a file for import after checking its size and that it is what its name claims."""
    kinds = tuple(kinds)
    if not path.exists():
        raise EgovError(f"{path}: no such file")
    if not path.is_file():
        raise EgovError(f"{path}: not a file")
    limit = get_settings().max_import_bytes
    size = path.stat().st_size
    if size > limit:
        raise EgovError(
            f"{path.name}: the file is {size_text(size)}; the import limit is {size_text(limit)} "
            "(setting EGOV_MAX_IMPORT_BYTES)"
        )
    suffix = path.suffix.lower()
    allowed = _either([f".{k}" for k in kinds])
    if suffix in REFUSED_SUFFIXES:
        raise EgovError(
            f"{path.name}: {REFUSED_SUFFIXES[suffix]} ({suffix}) is not accepted; save it as .xlsx "
            f"(unsupported file type '{suffix}'; use {allowed})"
        )
    kind = "xlsx" if suffix in LIKE_XLSX else "csv" if suffix in LIKE_CSV else suffix.lstrip(".")
    if kind not in kinds:
        raise EgovError(f"{path.name}: unsupported file type '{suffix or '(none)'}'; use {allowed}")
    data = path.read_bytes()
    if not data:
        raise EgovError(f"{path.name}: the file is empty")
    if kind == "xlsx":
        _check_workbook_bytes(path.name, data)
    else:
        _check_text_bytes(path.name, data, kind)
    return SourceFile(path=path, data=data, sha256=hashlib.sha256(data).hexdigest(), kind=kind)


def _check_workbook_bytes(name: str, data: bytes) -> None:
    if data.startswith(OLE_MAGIC):
        raise EgovError(
            f"{name}: not an XLSX workbook but an OLE2 file — a legacy .xls renamed .xlsx, or a "
            "password-protected (encrypted) workbook; remove the password and save as .xlsx"
        )
    if not data.startswith(ZIP_MAGIC):
        looks = "text (a CSV renamed .xlsx?)" if _looks_like_text(data) else "binary data"
        raise EgovError(
            f"{name}: cannot read as XLSX: not an XLSX workbook — an .xlsx file is a zip archive, "
            f"this one starts with {looks}"
        )


def _check_text_bytes(name: str, data: bytes, kind: str) -> None:
    if data.startswith(ZIP_MAGIC):
        raise EgovError(
            f"{name}: a zip archive (an XLSX workbook?) named .{kind}; a .{kind} file must be text"
        )
    nul = data.find(b"\x00", 0, 65536)
    if nul >= 0 or data.startswith(OLE_MAGIC):
        where = nul if nul >= 0 else 0
        raise EgovError(f"{name}: binary data (a NUL byte at byte offset {where}), not a .{kind} text file")


def _looks_like_text(data: bytes) -> bool:
    head = data[:2048]
    return b"\x00" not in head and sum(32 <= b < 127 or b in (9, 10, 13) for b in head) > 0.9 * len(head)


def decode_text(src: SourceFile) -> str:
    """The file as text: UTF-8 (a byte-order mark is allowed), else a precise error."""
    try:
        return src.data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        offset = exc.start
        line = src.data.count(b"\n", 0, offset) + 1
        column = offset - (src.data.rfind(b"\n", 0, offset) + 1) + 1
        raise EgovError(
            f"{src.name}: not UTF-8 text — byte 0x{src.data[offset]:02X} at byte offset {offset} "
            f"(line {line}, column {column}) is not valid UTF-8; save the file as 'CSV UTF-8'"
        ) from exc


# --- XLSX container checks (before openpyxl sees the file) -----------------------------------
def check_xlsx_container(src: SourceFile) -> dict[str, str]:
    """Check the zip directory (zip bomb, encryption, macros, workbook parts), then stream
    every XML part with namespaces (`egov.sheetscan`: the extent of every worksheet — rows,
    columns, cells, merged ranges, hyperlinks, comments —, the decompressed bytes, the
    number of XML elements, no DTD) without loading it. Returns {worksheet part: sheet name}."""
    settings = get_settings()
    try:
        zf = zipfile.ZipFile(io.BytesIO(src.data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise EgovError(
            f"{src.name}: not a readable XLSX workbook — the zip archive is damaged ({exc})"
        ) from exc
    with zf:
        infos = zf.infolist()
        _check_zip_directory(src.name, infos, settings.max_import_unpacked_bytes)
        names = {i.filename for i in infos}
        if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
            raise EgovError(
                f"{src.name}: a zip archive but not an Excel workbook (no xl/workbook.xml); "
                "is it a Word or other Office file renamed .xlsx?"
            )
        if "xl/vbaProject.bin" in names:
            raise EgovError(
                f"{src.name}: the workbook contains macros (xl/vbaProject.bin); save it as a plain .xlsx"
            )
        sheets = _sheet_parts(zf, names)
        problems = Problems()
        found = scan_parts(src.name, zf, sheets, settings.max_import_rows, settings.max_import_unpacked_bytes)
        for where, message in found:
            problems.add(where, message)
        problems.raise_if_any(src.name)
    return sheets


def _check_zip_directory(name: str, infos: list[zipfile.ZipInfo], unpacked_limit: int) -> None:
    """Member count, total and per-member uncompressed sizes (zip bomb), encryption."""
    if len(infos) > MAX_ZIP_MEMBERS:
        raise EgovError(
            f"{name}: the zip archive has {len(infos)} members (limit {MAX_ZIP_MEMBERS}); not a workbook"
        )
    total = sum(i.file_size for i in infos)
    if total > unpacked_limit:
        raise EgovError(
            f"{name}: refused as a zip bomb — its members would unpack to {size_text(total)} "
            f"({total} bytes; limit {unpacked_limit}, setting EGOV_MAX_IMPORT_UNPACKED_BYTES)"
        )
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > BOMB_MIN_BYTES and ratio > BOMB_RATIO:
            raise EgovError(
                f"{name}: refused as a zip bomb — member {info.filename} expands {ratio:.0f}-fold "
                f"to {size_text(info.file_size)} (a workbook part compresses at most ~{BOMB_RATIO}-fold)"
            )
        if info.flag_bits & 0x1:
            raise EgovError(f"{name}: member {info.filename} is encrypted; remove the password")


def _sheet_parts(zf: zipfile.ZipFile, names: set[str]) -> dict[str, str]:
    """{worksheet part: sheet name} from xl/workbook.xml and its relationships."""
    parts = sorted(n for n in names if re.fullmatch(r"xl/worksheets/[^/]+\.xml", n))
    titles: dict[str, str] = {}
    if any(zf.getinfo(n).file_size > NAMES_PART_BYTES for n in WORKBOOK_PARTS if n in names):
        return {p: p for p in parts}  # too large to read for names: the scan judges it
    try:
        rels_ns = "{http://schemas.openxmlformats.org/package/2006/relationships}"
        r_ns = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
        rels = ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
        targets = {
            r.get("Id"): "xl/" + str(r.get("Target", "")).lstrip("/").removeprefix("xl/")
            for r in rels.iter(f"{rels_ns}Relationship")
        }
        for sheet in ET.fromstring(zf.read("xl/workbook.xml")).iter():
            if sheet.tag.endswith("}sheet"):
                target = targets.get(sheet.get(f"{r_ns}id"))
                if target:
                    titles[target] = str(sheet.get("name", ""))
    except (KeyError, ET.ParseError):
        pass  # openpyxl will report a broken workbook; keep the part names
    # a sheet may live anywhere its relationship points: those parts are sheets too
    return {p: titles.get(p, p) for p in parts} | {p: t for p, t in titles.items() if p in names}


def open_workbook(src: SourceFile) -> Workbook:
    """Check the container, then load the workbook with formulas kept as formulas. openpyxl is
    imported here, when a workbook is read: a CSV, `egov evaluate`'s usual input, never pays
    for it (about 50 ms)."""
    from openpyxl import load_workbook

    check_xlsx_container(src)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return load_workbook(io.BytesIO(src.data), data_only=False, rich_text=False)
    except Exception as exc:  # openpyxl raises many types for broken parts
        raise EgovError(f"{src.name}: not a readable XLSX workbook ({type(exc).__name__}: {exc})") from exc


# --- cells of a workbook ---------------------------------------------------------------------
def formula_injection(text: str) -> str:
    """The problem of a text that a spreadsheet would run as a formula."""
    shown = text if len(text) <= 40 else text[:37] + "…"
    return (
        f"text {shown!r} begins with {text[:1]!r} and a spreadsheet would run it as a formula "
        "(formula injection); enter a plain value"
    )


def cell_problem(cell: Cell | MergedCell) -> str | None:
    """A formula or an Excel error value in a cell (openpyxl keeps both as they are)."""
    if cell.data_type == "f":
        formula = str(getattr(cell.value, "text", cell.value))
        shown = formula if len(formula) <= 40 else formula[:37] + "…"
        return f"a formula ({shown}); type the value itself, formulas are not imported"
    if cell.data_type == "e":
        return f"the Excel error value {cell.value} instead of a value; fix the source of the error"
    return None


def cell_where(ws: Worksheet, cell: Cell | MergedCell | str) -> str:
    """Where a cell is, for a problem: "sheet 'Title' cell B4"."""
    coord = cell if isinstance(cell, str) else cell.coordinate
    return f"sheet '{ws.title}' cell {coord}"


def merged_problems(ws: Worksheet, problems: Problems) -> None:
    """Report every merged range of a sheet (one value per cell is read)."""
    for merged in ws.merged_cells.ranges:
        problems.add(
            f"sheet '{ws.title}' cells {merged.coord}", "merged cells; unmerge them (one value per cell)"
        )


# --- CSV records -----------------------------------------------------------------------------
def csv_rows(src: SourceFile) -> list[tuple[int, list[str]]]:
    """(line number, fields) of every record, checked for size; raises on unreadable text."""
    text = decode_text(src)
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[tuple[int, list[str]]] = []
    limit = get_settings().max_import_rows
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise EgovError(f"{src.name} line {reader.line_num}: malformed CSV ({exc})") from exc
        if len(rows) > limit:
            raise EgovError(_too_many_rows(src.name, limit))
        if len(row) > MAX_COLUMNS:
            raise EgovError(f"{src.name} line {line}: {len(row)} columns; the limit is {MAX_COLUMNS}")
        rows.append((line, row))
    return rows


def _too_many_rows(name: str, limit: int) -> str:
    return f"{name}: huge file — more than {limit} rows (setting EGOV_MAX_IMPORT_ROWS); split it"


# --- a whole table as a DataFrame (framework import, evaluate) -------------------------------
TABLE_KINDS = ("csv", "xlsx")


def read_table(path: Path, keep_blank_lines: bool = False) -> pd.DataFrame:
    """Read a CSV or XLSX table (the first sheet) as strings-or-numbers, after the file checks.

    With `keep_blank_lines` a blank CSV line stays an (empty) row, so that row i is on
    line i + 2 of the file, as in a spreadsheet."""
    src = read_source(path, TABLE_KINDS)
    limit = get_settings().max_import_rows
    try:
        if src.kind == "csv":
            text = io.StringIO(decode_text(src))
            df = pd.read_csv(text, skip_blank_lines=not keep_blank_lines, nrows=limit + 1)
        else:
            check_xlsx_container(src)
            df = pd.read_excel(io.BytesIO(src.data), sheet_name=0, engine="openpyxl")
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise EgovError(f"{path}: cannot read as {src.kind.upper()}: {exc}") from exc
    except EgovError:
        raise
    except Exception as exc:  # openpyxl raises several unrelated types for broken files
        raise EgovError(f"{path}: cannot read as {src.kind.upper()}: {exc}") from exc
    if len(df) > limit:
        raise EgovError(_too_many_rows(src.name, limit))
    if len(df.columns) > MAX_COLUMNS:
        raise EgovError(f"{src.name}: {len(df.columns)} columns; the limit is {MAX_COLUMNS}")
    return df
