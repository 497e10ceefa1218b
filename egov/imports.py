"""Validated, all-or-nothing imports: metric values (the `egov template` workbook, plain CSV
long or wide) and the register of peer groups, departments and assessed objects.

Every import runs in three steps: (1) the file itself is checked — size, that it is what its
name claims (an XLSX is a zip holding a workbook, a CSV is UTF-8 text), and for an XLSX the
zip directory (member count, uncompressed sizes, compression ratios: a zip bomb is refused
before anything is decompressed) and the extent of every sheet (a huge sheet is refused
before openpyxl loads it); (2) the content is validated completely, collecting **every**
problem with its sheet and cell, or line and column; (3) only when there is no problem at
all are the values written, in the caller's single transaction. `dry_run` stops after (2).
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import re
import sys
import tomllib
import warnings
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlmodel import Session, col, select

from egov.errors import EgovError
from egov.langs import LANGUAGES
from egov.models import AssessedObject, Department, MetricValue, PeerGroup
from egov.settings import get_settings
from egov.store import (
    add_metric_values,
    check_period_code,
    find_period,
    latest_framework,
    load_register,
    operator_name,
    period_for_import,
)
from egov.template import (
    CODE_ROW,
    FIRST_DATA_ROW,
    FORMULA_PREFIXES,
    INFO_CODES,
    META_SHEET,
    NOT_APPLICABLE,
    OBJECT_CODE,
    STATUS_CODE,
    STATUSES,
    TEMPLATE_FORMAT,
    TEMPLATE_FORMAT_VERSION,
    UNIT_ROW,
)
from indicators.framework import OBJECT_KINDS, SUBKINDS, Framework, Node, applies, resolve_framework

MAX_COLUMNS = 500  # columns of a sheet or CSV file
MAX_CELLS = 500_000  # cells, and rows × columns of the extent, of one worksheet (checked before loading)
MAX_ZIP_MEMBERS = 2_000
BOMB_RATIO = 100  # a member expanding more than this …
BOMB_MIN_BYTES = 1_000_000  # … and to more than this is treated as a zip bomb
MAX_PROBLEMS_SHOWN = 1_000
EXCEL_ERRORS = ("#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#SPILL!", "#CALC!")
# a number written as text: ASCII digits, an optional sign, decimal point and exponent
PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", re.ASCII)
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


def _mb(n: float) -> str:
    if n < 1_000_000:
        return f"{int(n)} bytes"
    return f"{n / 1_000_000:.1f} MB" if n < 1e9 else f"{n / 1e9:.1f} GB"


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
            f"{path.name}: the file is {_mb(size)}; the import limit is {_mb(limit)} "
            "(setting EGOV_MAX_IMPORT_BYTES)"
        )
    suffix = path.suffix.lower()
    if suffix in REFUSED_SUFFIXES:
        raise EgovError(
            f"{path.name}: {REFUSED_SUFFIXES[suffix]} ({suffix}) is not accepted; save it as .xlsx"
        )
    kind = "xlsx" if suffix in LIKE_XLSX else "csv" if suffix in LIKE_CSV else suffix.lstrip(".")
    if kind not in kinds:
        allowed = ", ".join(f".{k}" for k in kinds)
        raise EgovError(f"{path.name}: unsupported file type '{suffix or '(none)'}'; use {allowed}")
    data = path.read_bytes()
    if not data:
        raise EgovError(f"{path.name}: the file is empty")
    if kind == "xlsx":
        if data.startswith(OLE_MAGIC):
            raise EgovError(
                f"{path.name}: not an XLSX workbook but an OLE2 file — a legacy .xls renamed .xlsx, or a "
                "password-protected (encrypted) workbook; remove the password and save as .xlsx"
            )
        if not data.startswith(ZIP_MAGIC):
            looks = "text (a CSV renamed .xlsx?)" if _looks_like_text(data) else "binary data"
            raise EgovError(
                f"{path.name}: not an XLSX workbook — an .xlsx file is a zip archive, this one starts "
                f"with {looks}"
            )
    else:
        if data.startswith(ZIP_MAGIC):
            raise EgovError(
                f"{path.name}: a zip archive (an XLSX workbook?) named .{kind}; a .{kind} file must be text"
            )
        nul = data.find(b"\x00", 0, 65536)
        if nul >= 0 or data.startswith(OLE_MAGIC):
            where = nul if nul >= 0 else 0
            raise EgovError(
                f"{path.name}: binary data (a NUL byte at byte offset {where}), not a .{kind} text file"
            )
    return SourceFile(path=path, data=data, sha256=hashlib.sha256(data).hexdigest(), kind=kind)


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
    """Check the zip directory (zip bomb, encryption, macros, workbook parts) and the extent of
    every worksheet without loading it. Returns {worksheet part: sheet name}."""
    settings = get_settings()
    try:
        zf = zipfile.ZipFile(io.BytesIO(src.data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise EgovError(
            f"{src.name}: not a readable XLSX workbook — the zip archive is damaged ({exc})"
        ) from exc
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ZIP_MEMBERS:
            raise EgovError(
                f"{src.name}: the zip archive has {len(infos)} members (limit {MAX_ZIP_MEMBERS}); not a workbook"
            )
        total = sum(i.file_size for i in infos)
        if total > settings.max_import_unpacked_bytes:
            raise EgovError(
                f"{src.name}: refused as a zip bomb — its members would unpack to {_mb(total)} "
                f"({total} bytes; limit {settings.max_import_unpacked_bytes}, setting "
                "EGOV_MAX_IMPORT_UNPACKED_BYTES)"
            )
        for info in infos:
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > BOMB_MIN_BYTES and ratio > BOMB_RATIO:
                raise EgovError(
                    f"{src.name}: refused as a zip bomb — member {info.filename} expands {ratio:.0f}-fold "
                    f"to {_mb(info.file_size)} (a workbook part compresses at most ~{BOMB_RATIO}-fold)"
                )
            if info.flag_bits & 0x1:
                raise EgovError(f"{src.name}: member {info.filename} is encrypted; remove the password")
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
        for part, title in sheets.items():
            _scan_sheet(zf, part, title, settings.max_import_rows, problems)
        problems.raise_if_any(src.name)
    return sheets


def _sheet_parts(zf: zipfile.ZipFile, names: set[str]) -> dict[str, str]:
    """{worksheet part: sheet name} from xl/workbook.xml and its relationships."""
    parts = sorted(n for n in names if re.fullmatch(r"xl/worksheets/[^/]+\.xml", n))
    titles: dict[str, str] = {}
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
    return {p: titles.get(p, p) for p in parts}


_ROW_OR_CELL = re.compile(rb'<(row|c)\b[^>]*?\br="([A-Z]*)(\d+)"')
_CELL_TAG = re.compile(rb"<c[\s>/]")


def _scan_sheet(zf: zipfile.ZipFile, part: str, title: str, max_rows: int, problems: Problems) -> None:
    """Stream a worksheet's XML and find its extent (rows, columns, cells) without parsing it."""
    max_row = max_col = cells = 0
    leftover = b""
    with zf.open(part) as fh:
        while True:
            chunk = fh.read(1 << 20)
            buf = leftover + chunk
            cut = buf.rfind(b"<") if chunk else len(buf)
            body, leftover = buf[:cut], buf[cut:]
            cells += len(_CELL_TAG.findall(body))
            for m in _ROW_OR_CELL.finditer(body):
                max_row = max(max_row, int(m.group(3)))
                if m.group(2):
                    max_col = max(max_col, _col_index(m.group(2).decode()))
            if not chunk:
                break
    where = f"sheet '{title}'"
    if max_row > max_rows:
        problems.add(
            where,
            f"huge sheet — it reaches row {max_row}; the limit is {max_rows} rows (setting EGOV_MAX_IMPORT_ROWS)",
        )
    if max_col > MAX_COLUMNS:
        problems.add(
            where,
            f"huge sheet — it reaches column {get_column_letter(min(max_col, 16384))} ({max_col}); "
            f"the limit is {MAX_COLUMNS} columns",
        )
    if max_row <= max_rows and max_col <= MAX_COLUMNS and max_row * max_col > MAX_CELLS:
        problems.add(
            where,
            f"huge sheet — it spans {max_row} rows × {max_col} columns = {max_row * max_col} cells; "
            f"the limit is {MAX_CELLS}",
        )
    if cells > MAX_CELLS:
        problems.add(where, f"huge sheet — {cells} cells; the limit is {MAX_CELLS}")


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n


def open_workbook(src: SourceFile) -> Workbook:
    """Check the container, then load the workbook with formulas kept as formulas."""
    check_xlsx_container(src)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return load_workbook(io.BytesIO(src.data), data_only=False, rich_text=False)
    except Exception as exc:  # openpyxl raises many types for broken parts
        raise EgovError(f"{src.name}: not a readable XLSX workbook ({type(exc).__name__}: {exc})") from exc


# --- cell values -----------------------------------------------------------------------------
def _injection(text: str) -> str:
    shown = text if len(text) <= 40 else text[:37] + "…"
    return (
        f"text {shown!r} begins with {text[:1]!r} and a spreadsheet would run it as a formula "
        "(formula injection); enter a plain value"
    )


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
    text = value.strip()
    if text == "" or text.lower() == NOT_APPLICABLE:
        return None, None
    if text.upper() in EXCEL_ERRORS:
        return None, f"the Excel error value {text.upper()} instead of a number; fix the source of the error"
    try:
        number = float(text)
    except ValueError:
        if text.startswith(FORMULA_PREFIXES):
            return None, _injection(text)
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
        return None, _injection(text)
    return text, None


def _cell_problem(cell: Cell | MergedCell) -> str | None:
    """A formula or an Excel error value in a cell (openpyxl keeps both as they are)."""
    if cell.data_type == "f":
        formula = str(getattr(cell.value, "text", cell.value))
        shown = formula if len(formula) <= 40 else formula[:37] + "…"
        return f"a formula ({shown}); type the value itself, formulas are not imported"
    if cell.data_type == "e":
        return f"the Excel error value {cell.value} instead of a value; fix the source of the error"
    return None


def _where(ws: Worksheet, cell: Cell | MergedCell | str) -> str:
    coord = cell if isinstance(cell, str) else cell.coordinate
    return f"sheet '{ws.title}' cell {coord}"


# --- metric values ---------------------------------------------------------------------------
@dataclass
class MetricImport:
    """The outcome of a metrics import (or of a dry run)."""

    file: str
    sha256: str
    layout: str  # template | csv-long | csv-wide
    period: str
    values: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)
    dry_run: bool = False
    written: int = 0
    superseded: int = 0


@dataclass(frozen=True)
class _Catalogue:
    framework: Framework
    objects: dict[str, tuple[str, str | None]]  # code → (kind, subkind)

    def indicator(self, code: str) -> Node | None:
        node = self.framework.nodes.get(code)
        return node if node is not None and node.is_indicator else None


def framework_for_import(session: Session, spec: str | None) -> Framework:
    """--framework FILE|name, else the latest stored framework, else the built-in Macau one."""
    if spec:
        return resolve_framework(spec)
    try:
        return latest_framework(session)[1]
    except EgovError:
        return resolve_framework("macau")


def import_metrics(
    session: Session,
    path: Path,
    period: str,
    framework: Framework,
    *,
    dry_run: bool = False,
    operator: str | None = None,
) -> MetricImport:
    """Validate a metrics file completely, then (unless `dry_run`) store every value with its
    provenance in the caller's transaction; raise EgovError listing every problem otherwise."""
    src = read_source(path, ("xlsx", "csv"))
    check_period_code(session, period)
    objects = {
        code: (kind, sub)
        for code, kind, sub in session.exec(
            select(AssessedObject.code, AssessedObject.kind, AssessedObject.subkind)
        ).all()
    }
    if not objects:
        raise EgovError("no assessed objects registered; run `egov import departments FILE` first")
    cat = _Catalogue(framework, objects)
    problems = Problems()
    if src.kind == "xlsx":
        wb = open_workbook(src)
        values, notes = _read_template(wb, src.name, period, cat, problems)
        layout = "template"
    else:
        values, notes, layout = _read_metric_csv(src, cat, problems)
    problems.raise_if_any(src.name)
    if not values:
        raise EgovError(f"{src.name}: no values found; nothing was imported")
    report = MetricImport(
        file=src.name,
        sha256=src.sha256,
        layout=layout,
        period=period,
        values=values,
        notes=notes,
        dry_run=dry_run,
    )
    period_row = find_period(session, period)
    if period_row is not None:
        report.superseded = _count_current(session, period_row.id, values)
    if dry_run:
        return report
    period_row = period_for_import(session, period)
    report.written = add_metric_values(
        session,
        period_row,
        values,
        source_file=src.name,
        source_hash=src.sha256,
        imported_by=operator or operator_name(),
    )
    return report


def _count_current(session: Session, period_id: int | None, values: list[dict[str, Any]]) -> int:
    keys = {(v["object"], v["indicator"]) for v in values}
    rows = session.exec(
        select(AssessedObject.code, MetricValue.indicator)
        .join(AssessedObject, col(AssessedObject.id) == col(MetricValue.object_id))
        .where(MetricValue.period_id == period_id, col(MetricValue.superseded_at).is_(None))
    ).all()
    return sum((o, i) in keys for o, i in rows)


def _check_value(
    cat: _Catalogue, obj: str, node: Node, raw: Any, where: str, problems: Problems
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


def _check_indicator_code(cat: _Catalogue, code: str) -> str | None:
    node = cat.framework.nodes.get(code)
    if node is None:
        return f"unknown indicator '{code}' (not in framework {cat.framework.code} {cat.framework.version})"
    if not node.is_indicator:
        return f"'{code}' is a {node.kind} of the framework, not an indicator"
    if node.source != "metric":
        return f"indicator {code} is computed from citizen ratings (source {node.source}), not collected"
    return None


def _check_status(raw: Any, where: str, problems: Problems) -> str:
    text, problem = parse_text(raw)
    if problem:
        problems.add(where, problem)
        return "reported"
    if text is None:
        return "reported"
    if text.lower() not in STATUSES:
        problems.add(where, f"status {text!r} is not one of {', '.join(STATUSES)}")
        return "reported"
    return text.lower()


# --- the template ----------------------------------------------------------------------------
def _meta(wb: Workbook) -> dict[str, str]:
    ws = wb[META_SHEET]
    out: dict[str, str] = {}
    for row in ws.iter_rows(min_row=1, max_row=min(ws.max_row, 40), max_col=2):
        key, value = row[0].value, row[1].value
        if key is None:
            break
        out[str(key)] = "" if value is None else str(value)
    return out


def _read_template(
    wb: Workbook, name: str, period: str, cat: _Catalogue, problems: Problems
) -> tuple[list[dict[str, Any]], list[str]]:
    notes: list[str] = []
    data_sheets = [
        ws for ws in wb.worksheets if ws.title != META_SHEET and ws.cell(CODE_ROW, 1).value == OBJECT_CODE
    ]
    if META_SHEET not in wb.sheetnames:
        raise EgovError(
            f"{name}: not an egov metric template — it has no hidden '{META_SHEET}' sheet"
            + (" (its data sheets are there: was the _meta sheet deleted?)" if data_sheets else "")
            + "; make the template with `egov template`, or import a CSV file"
        )
    meta = _meta(wb)
    fw = cat.framework
    where = f"sheet '{META_SHEET}'"
    if meta.get("format") != TEMPLATE_FORMAT:
        raise EgovError(f"{name}: not an egov metric template ({where} has format {meta.get('format')!r})")
    if meta.get("format_version") != TEMPLATE_FORMAT_VERSION:
        problems.add(
            where,
            f"template format version {meta.get('format_version')!r}; this egov reads {TEMPLATE_FORMAT_VERSION}",
        )
    if meta.get("framework_code") != fw.code:
        problems.add(
            where,
            f"the template was made for framework {meta.get('framework_code')!r}, the import uses "
            f"{fw.code!r} (pass --framework)",
        )
    elif meta.get("framework_hash") != fw.content_hash:
        notes.append(
            f"the template was made from framework version {meta.get('framework_version')} "
            f"({str(meta.get('framework_hash'))[:12]}), the import checks against {fw.version} "
            f"({fw.content_hash[:12]}); indicators and units were checked one by one"
        )
    if meta.get("period") != period:
        problems.add(
            where, f"the template is for period {meta.get('period')!r}, the import is for --period {period}"
        )
    if not data_sheets:
        problems.add("", f"no data sheets: no sheet has the hidden code '{OBJECT_CODE}' in cell A1")
    ignored = [
        ws.title
        for ws in wb.worksheets
        if ws not in data_sheets and ws.title not in (META_SHEET, meta.get("instructions_sheet"))
    ]
    if ignored:
        notes.append(f"sheets without the template's hidden codes were not read: {', '.join(ignored)}")
    values: list[dict[str, Any]] = []
    seen_pairs: dict[tuple[str, str], str] = {}
    seen_columns: dict[str, str] = {}
    for ws in data_sheets:
        _read_data_sheet(ws, cat, problems, values, seen_pairs, seen_columns)
    return values, notes


def _read_data_sheet(
    ws: Worksheet,
    cat: _Catalogue,
    problems: Problems,
    values: list[dict[str, Any]],
    seen_pairs: dict[tuple[str, str], str],
    seen_columns: dict[str, str],
) -> None:
    for merged in ws.merged_cells.ranges:
        problems.add(
            f"sheet '{ws.title}' cells {merged.coord}", "merged cells; unmerge them (one value per cell)"
        )
    columns: dict[int, Node] = {}
    status_col: int | None = None
    object_col: int | None = None
    unmarked: list[int] = []
    for c in range(1, ws.max_column + 1):
        cell = ws.cell(CODE_ROW, c)
        bad = _cell_problem(cell)
        if bad:
            problems.add(_where(ws, cell), bad)
            continue
        code = cell.value
        if code is None:
            unmarked.append(c)
            continue
        code = str(code).strip()
        if code == OBJECT_CODE:
            object_col = c
        elif code == STATUS_CODE:
            status_col = c
        elif code in INFO_CODES or code == "_unit":
            continue
        else:
            problem = _check_indicator_code(cat, code)
            if problem:
                problems.add(_where(ws, cell), f"hidden code: {problem}")
                continue
            if code in seen_columns:
                problems.add(
                    _where(ws, cell), f"duplicate column: indicator {code} is also in {seen_columns[code]}"
                )
                continue
            seen_columns[code] = _where(ws, cell)
            node = cat.framework.nodes[code]
            columns[c] = node
            unit_cell = ws.cell(UNIT_ROW, c)
            unit = "" if unit_cell.value is None else str(unit_cell.value).strip()
            if unit != node.unit:
                problems.add(
                    _where(ws, unit_cell),
                    f"unit mismatch for {code}: the template says {unit!r}, framework {cat.framework.code} "
                    f"{cat.framework.version} says {node.unit!r}; make a new template",
                )
    if object_col is None:
        problems.add(f"sheet '{ws.title}'", f"no hidden '{OBJECT_CODE}' column")
        return
    rows_seen: dict[str, int] = {}
    for r in range(FIRST_DATA_ROW, ws.max_row + 1):
        obj_cell = ws.cell(r, object_col)
        row_cells = {c: ws.cell(r, c) for c in columns}
        filled = [
            c
            for c, cell in row_cells.items()
            if parse_number(cell.value) != (None, None) or cell.data_type in "fe"
        ]
        status_cell = ws.cell(r, status_col) if status_col else None
        for c in unmarked:
            stray = ws.cell(r, c)
            if stray.value is not None:
                problems.add(
                    _where(ws, stray),
                    "a value in a column without a hidden indicator code (an inserted column?); "
                    "use the template's columns",
                )
        bad = _cell_problem(obj_cell)
        if bad:
            problems.add(_where(ws, obj_cell), bad)
            continue
        obj, problem = parse_text(obj_cell.value)
        if problem:
            problems.add(_where(ws, obj_cell), problem)
            continue
        if obj is None:
            if filled or (status_cell is not None and status_cell.value is not None):
                problems.add(
                    _where(ws, obj_cell),
                    f"empty required cell — row {r} has values but no object code in hidden column "
                    f"{get_column_letter(object_col)}",
                )
            continue
        if obj not in cat.objects:
            problems.add(_where(ws, obj_cell), f"unknown object '{obj}' (not in the register)")
            continue
        if obj in rows_seen:
            problems.add(_where(ws, obj_cell), f"duplicate row: object {obj} is also on row {rows_seen[obj]}")
            continue
        rows_seen[obj] = r
        status = "reported"
        if status_cell is not None:
            bad = _cell_problem(status_cell)
            if bad:
                problems.add(_where(ws, status_cell), bad)
            else:
                status = _check_status(status_cell.value, _where(ws, status_cell), problems)
        for c, node in columns.items():
            cell = row_cells[c]
            where = _where(ws, cell)
            bad = _cell_problem(cell)
            if bad:
                problems.add(where, bad)
                continue
            value = _check_value(cat, obj, node, cell.value, where, problems)
            if value is None:
                continue
            key = (obj, node.code)
            if key in seen_pairs:
                problems.add(where, f"duplicate value for {obj} / {node.code} (also at {seen_pairs[key]})")
                continue
            seen_pairs[key] = where
            values.append(
                {
                    "object": obj,
                    "indicator": node.code,
                    "value": value,
                    "status": status,
                    "sheet": ws.title[:100],
                    "cell": cell.coordinate,
                }
            )


# --- CSV (long or wide) ----------------------------------------------------------------------
_HEADER_UNIT = re.compile(r"^(.*?)\s*\[(.*)\]\s*$")


def _csv_rows(src: SourceFile, problems: Problems) -> list[tuple[int, list[str]]]:
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
            raise EgovError(
                f"{src.name}: huge file — more than {limit} rows (setting EGOV_MAX_IMPORT_ROWS); split it"
            )
        if len(row) > MAX_COLUMNS:
            raise EgovError(f"{src.name} line {line}: {len(row)} columns; the limit is {MAX_COLUMNS}")
        rows.append((line, row))
    return rows


def _read_metric_csv(
    src: SourceFile, cat: _Catalogue, problems: Problems
) -> tuple[list[dict[str, Any]], list[str], str]:
    rows = _csv_rows(src, problems)
    rows = [(n, r) for n, r in rows if any(f.strip() for f in r)]
    if not rows:
        raise EgovError(f"{src.name}: no header line; nothing was imported")
    head_line, header = rows[0]
    names: list[str] = []
    units: list[str | None] = []
    for i, h in enumerate(header, start=1):
        text = h.strip()
        if text.startswith(FORMULA_PREFIXES):
            problems.add(f"line {head_line}, column {i}", _injection(text))
        m = _HEADER_UNIT.match(text)
        names.append((m.group(1) if m else text).strip())
        units.append(m.group(2).strip() if m else None)
    lower = [n.lower() for n in names]
    for i, n in enumerate(lower):
        if n and lower.index(n) != i:
            problems.add(
                f"line {head_line}, column {i + 1}",
                f"duplicate column '{names[i]}' (also column {lower.index(n) + 1})",
            )
    if {"object", "indicator", "value"} <= set(lower):
        values = _read_long(src, rows[1:], lower, header, cat, problems)
        return values, [], "csv-long"
    if lower and lower[0] in ("object", "unit", "code"):
        values = _read_wide(src, rows[1:], names, units, cat, problems, head_line)
        return values, [], "csv-wide"
    problems.add(
        f"line {head_line}",
        "cannot tell the layout: a long CSV has the columns object, indicator, value (and optionally "
        "status, unit); a wide CSV has an object column first and one column per indicator code",
    )
    return [], [], "csv"


def _fields_ok(line: int, row: list[str], width: int, problems: Problems) -> bool:
    if len(row) != width:
        problems.add(f"line {line}", f"{len(row)} fields, the header has {width}")
        return False
    return True


def _read_long(
    src: SourceFile,
    rows: list[tuple[int, list[str]]],
    lower: list[str],
    header: list[str],
    cat: _Catalogue,
    problems: Problems,
) -> list[dict[str, Any]]:
    idx: dict[str, int] = {
        n: lower.index(n) for n in ("object", "indicator", "value", "status", "unit") if n in lower
    }
    extra = [header[i] for i, n in enumerate(lower) if n not in idx]
    if extra:
        problems.add(
            "line 1",
            f"unknown column(s) {', '.join(map(repr, extra))}; expected object, indicator, value, status, unit",
        )
    values: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], int] = {}
    for line, row in rows:
        if not _fields_ok(line, row, len(header), problems):
            continue

        def loc(name: str, line: int = line) -> str:
            return f"line {line}, column {idx[name] + 1} ({name})"

        required: dict[str, str] = {}
        for name in ("object", "indicator"):
            text, problem = parse_text(row[idx[name]])
            if problem:
                problems.add(loc(name), problem)
            elif text is None:
                problems.add(loc(name), f"empty required cell — {name} is missing")
            else:
                required[name] = text
        raw_value = row[idx["value"]]
        if not raw_value.strip():
            problems.add(loc("value"), "empty required cell — value is missing")
        if len(required) < 2:
            continue
        obj, code = required["object"], required["indicator"]
        ok = True
        if obj not in cat.objects:
            problems.add(loc("object"), f"unknown object '{obj}' (not in the register)")
            ok = False
        problem = _check_indicator_code(cat, code)
        if problem:
            problems.add(loc("indicator"), problem)
            ok = False
        node = cat.indicator(code)
        if (
            node is not None
            and "unit" in idx
            and row[idx["unit"]].strip()
            and row[idx["unit"]].strip() != node.unit
        ):
            problems.add(
                loc("unit"),
                f"unit mismatch for {code}: the file says {row[idx['unit']].strip()!r}, the framework says {node.unit!r}",
            )
            ok = False
        status = _check_status(row[idx["status"]], loc("status"), problems) if "status" in idx else "reported"
        if not ok or node is None or not raw_value.strip():
            continue
        value = _check_value(cat, obj, node, raw_value, loc("value"), problems)
        if value is None:
            continue
        if (obj, code) in seen:
            problems.add(f"line {line}", f"duplicate: {obj} / {code} is also on line {seen[(obj, code)]}")
            continue
        seen[(obj, code)] = line
        values.append(
            {
                "object": obj,
                "indicator": code,
                "value": value,
                "status": status,
                "sheet": "",
                "cell": f"R{line}C{idx['value'] + 1}",
            }
        )
    return values


def _read_wide(
    src: SourceFile,
    rows: list[tuple[int, list[str]]],
    names: list[str],
    units: list[str | None],
    cat: _Catalogue,
    problems: Problems,
    head_line: int,
) -> list[dict[str, Any]]:
    columns: dict[int, Node] = {}
    status_col: int | None = None
    for i, name in enumerate(names[1:], start=1):
        where = f"line {head_line}, column {i + 1}"
        if name.lower() == "status":
            status_col = i
            continue
        if not name:
            problems.add(where, "empty required cell — a column without an indicator code")
            continue
        problem = _check_indicator_code(cat, name)
        if problem:
            problems.add(where, problem)
            continue
        node = cat.framework.nodes[name]
        if units[i] is not None and units[i] != node.unit:
            problems.add(
                where,
                f"unit mismatch for {name}: the header says {units[i]!r}, the framework says {node.unit!r}",
            )
            continue
        columns[i] = node
    values: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        if not _fields_ok(line, row, len(names), problems):
            continue
        where0 = f"line {line}, column 1 ({names[0]})"
        obj, problem = parse_text(row[0])
        if problem:
            problems.add(where0, problem)
            continue
        if obj is None:
            problems.add(where0, "empty required cell — the object code is missing")
            continue
        if obj not in cat.objects:
            problems.add(where0, f"unknown object '{obj}' (not in the register)")
            continue
        if obj in seen:
            problems.add(where0, f"duplicate row: object {obj} is also on line {seen[obj]}")
            continue
        seen[obj] = line
        status = "reported"
        if status_col is not None:
            status = _check_status(
                row[status_col], f"line {line}, column {status_col + 1} (status)", problems
            )
        for i, node in columns.items():
            where = f"line {line}, column {i + 1} ({node.code})"
            value = _check_value(cat, obj, node, row[i], where, problems)
            if value is not None:
                values.append(
                    {
                        "object": obj,
                        "indicator": node.code,
                        "value": value,
                        "status": status,
                        "sheet": "",
                        "cell": f"R{line}C{i + 1}",
                    }
                )
    return values


# --- the register (peer groups, departments, objects) ----------------------------------------
REGISTER_TYPES = {"peer_group": "peer_groups", "department": "departments", "object": "objects"}
REGISTER_COLUMNS = (
    "type",
    "code",
    "name_zh-Hant",
    "name_pt",
    "name_en",
    "peer_group",
    "department",
    "kind",
    "subkind",
    "note",
)
_NAME_COLUMNS = {"name_zh-hant": "zh-Hant", "name_zh": "zh-Hant", "name_pt": "pt", "name_en": "en"}
_TABLE_KEYS = {
    "peer_groups": {"name"},
    "departments": {"name", "peer_group"},
    "objects": {"name", "department", "kind", "subkind", "paper", "note"},
}
_CODE_LIMITS = {"peer_groups": 50, "departments": 50, "objects": 80}
REGISTER_CODE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")


@dataclass
class RegisterImport:
    file: str
    sha256: str
    counts: dict[str, int]
    new: dict[str, int]
    dry_run: bool = False


def import_register(session: Session, path: Path, *, dry_run: bool = False) -> RegisterImport:
    """Validate a register file (TOML in the shape of egov/data/macau_register.toml, or a CSV /
    XLSX table with the columns of REGISTER_COLUMNS) and, unless `dry_run`, load it."""
    src = read_source(path, ("toml", "csv", "xlsx"))
    problems = Problems()
    if src.kind == "toml":
        register, where = _register_from_toml(src, problems)
    else:
        table = _register_table_csv(src) if src.kind == "csv" else _register_table_xlsx(src, problems)
        register, where = _register_from_table(table, problems)
    _validate_register(session, register, where, problems)
    problems.raise_if_any(src.name)
    if not any(register.values()):
        raise EgovError(f"{src.name}: no peer groups, departments or objects found; nothing was imported")
    existing = {
        "peer_groups": set(session.exec(select(PeerGroup.code)).all()),
        "departments": set(session.exec(select(Department.code)).all()),
        "objects": set(session.exec(select(AssessedObject.code)).all()),
    }
    counts = {k: len(v) for k, v in register.items()}
    new = {k: len(set(v) - existing[k]) for k, v in register.items()}
    report = RegisterImport(file=src.name, sha256=src.sha256, counts=counts, new=new, dry_run=dry_run)
    if not dry_run:
        load_register(session, register, origin=src.name)
    return report


_Where = dict[tuple[str, str, str], str]  # (table, code, field) → location


def _register_from_toml(src: SourceFile, problems: Problems) -> tuple[dict[str, dict[str, Any]], _Where]:
    text = decode_text(src)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise EgovError(f"{src.name}: not valid TOML — {exc}") from exc
    register: dict[str, dict[str, Any]] = {t: {} for t in REGISTER_TYPES.values()}
    where: _Where = {}
    for key, value in raw.items():
        if key not in register:
            problems.add(key, f"unknown table; expected {', '.join(register)}")
            continue
        if not isinstance(value, dict):
            problems.add(key, "must be a table of entries")
            continue
        for code, entry in value.items():
            path = f"{key}.{code}"
            if not isinstance(entry, dict):
                problems.add(path, "must be a table")
                continue
            for k in entry:
                if k not in _TABLE_KEYS[key]:
                    problems.add(
                        f"{path}.{k}", f"unknown key; allowed: {', '.join(sorted(_TABLE_KEYS[key]))}"
                    )
            register[key][code] = entry
            where[(key, code, "")] = path
            for k in _TABLE_KEYS[key]:
                where[(key, code, k)] = f"{path}.{k}"
    return register, where


@dataclass
class _Table:
    header: list[str]
    rows: list[tuple[list[Any], list[str]]]  # (values, location of each value)
    header_where: list[str]


def _register_table_csv(src: SourceFile) -> _Table:
    problems = Problems()
    rows = [(n, r) for n, r in _csv_rows(src, problems) if any(f.strip() for f in r)]
    if not rows:
        raise EgovError(f"{src.name}: no header line; nothing was imported")
    line0, header = rows[0]
    table = _Table(
        [h.strip() for h in header], [], [f"line {line0}, column {i}" for i in range(1, len(header) + 1)]
    )
    for line, row in rows[1:]:
        if len(row) != len(header):
            table.rows.append(([None] * len(header), [f"line {line}"] * len(header)))
            table.rows[-1][0][0] = _FieldCount(len(row), len(header))
            continue
        table.rows.append(
            (list(row), [f"line {line}, column {i} ({h.strip()})" for i, h in enumerate(header, start=1)])
        )
    return table


@dataclass(frozen=True)
class _FieldCount:
    got: int
    want: int


def _register_table_xlsx(src: SourceFile, problems: Problems) -> _Table:
    wb = open_workbook(src)
    ws = wb["register"] if "register" in wb.sheetnames else wb.worksheets[0]
    for merged in ws.merged_cells.ranges:
        problems.add(
            f"sheet '{ws.title}' cells {merged.coord}", "merged cells; unmerge them (one value per cell)"
        )
    header: list[str] = []
    for c in range(1, ws.max_column + 1):
        cell = ws.cell(1, c)
        bad = _cell_problem(cell)
        if bad:
            problems.add(_where(ws, cell), bad)
        header.append("" if cell.value is None or bad else str(cell.value).strip())
    table = _Table(header, [], [_where(ws, ws.cell(1, c)) for c in range(1, len(header) + 1)])
    for r in range(2, ws.max_row + 1):
        vals: list[Any] = []
        locs: list[str] = []
        broken = False
        for c in range(1, len(header) + 1):
            cell = ws.cell(r, c)
            bad = _cell_problem(cell)
            loc = _where(ws, cell)
            if bad:
                problems.add(loc, bad)
                broken = True
            vals.append(cell.value)
            locs.append(loc)
        if not broken:  # a row with a formula or an error value is reported once, above
            table.rows.append((vals, locs))
    return table


def _register_from_table(table: _Table, problems: Problems) -> tuple[dict[str, dict[str, Any]], _Where]:
    register: dict[str, dict[str, Any]] = {t: {} for t in REGISTER_TYPES.values()}
    where: _Where = {}
    cols: dict[str, int] = {}
    for i, h in enumerate(table.header):
        key = h.lower()
        if h.startswith(FORMULA_PREFIXES):
            problems.add(table.header_where[i], _injection(h))
            continue
        known = {c.lower() for c in REGISTER_COLUMNS} | set(_NAME_COLUMNS)
        if key not in known:
            problems.add(
                table.header_where[i], f"unknown column {h!r}; expected {', '.join(REGISTER_COLUMNS)}"
            )
            continue
        if key in cols:
            problems.add(table.header_where[i], f"duplicate column {h!r}")
            continue
        cols[key] = i
    for needed in ("type", "code"):
        if needed not in cols:
            problems.add(
                table.header_where[0] if table.header_where else "line 1",
                f"no '{needed}' column; the register table needs {', '.join(REGISTER_COLUMNS)}",
            )
    if "type" not in cols or "code" not in cols:
        return register, where
    first_seen: dict[tuple[str, str], str] = {}
    for vals, locs in table.rows:
        if isinstance(vals[0], _FieldCount):
            problems.add(locs[0], f"{vals[0].got} fields, the header has {vals[0].want}")
            continue
        texts: dict[str, str | None] = {}
        bad_row = False
        for key, i in cols.items():
            text, problem = parse_text(vals[i])
            if problem:
                problems.add(locs[i], problem)
                bad_row = True
            texts[key] = text
        if all(v is None for v in texts.values()):
            continue
        if bad_row:
            continue
        typ, code = texts["type"], texts["code"]
        if typ is None or code is None:
            missing = "type" if typ is None else "code"
            problems.add(locs[cols[missing]], f"empty required cell — {missing} is missing")
            continue
        if typ.lower() not in REGISTER_TYPES:
            problems.add(locs[cols["type"]], f"type {typ!r} is not one of {', '.join(REGISTER_TYPES)}")
            continue
        tname = REGISTER_TYPES[typ.lower()]
        if (tname, code) in first_seen:
            problems.add(
                locs[cols["code"]], f"duplicate {typ.lower()} '{code}' (also at {first_seen[(tname, code)]})"
            )
            continue
        first_seen[(tname, code)] = locs[cols["code"]]
        entry: dict[str, Any] = {}
        names = {lang: texts[k] for k, lang in _NAME_COLUMNS.items() if k in cols and texts.get(k)}
        if names:
            entry["name"] = names
        for k in ("peer_group", "department", "kind", "subkind", "note"):
            if k in cols and texts[k] is not None:
                entry[k] = texts[k]
        register[tname][code] = entry
        where[(tname, code, "")] = locs[cols["code"]]
        for k, i in cols.items():
            where[(tname, code, k)] = locs[i]
        for k, lang in _NAME_COLUMNS.items():
            if k in cols:
                where[(tname, code, f"name.{lang}")] = locs[cols[k]]
                where.setdefault((tname, code, "name"), locs[cols[k]])
    return register, where


def _validate_register(
    session: Session, register: dict[str, dict[str, Any]], where: _Where, problems: Problems
) -> None:
    def at(table: str, code: str, key: str = "") -> str:
        return where.get((table, code, key)) or where.get((table, code, "")) or f"{table}.{code}"

    known_groups = set(register["peer_groups"]) | set(session.exec(select(PeerGroup.code)).all())
    known_depts = set(register["departments"]) | set(session.exec(select(Department.code)).all())
    for table, entries in register.items():
        for code, entry in entries.items():
            if not REGISTER_CODE_RE.match(str(code)) or len(str(code)) > _CODE_LIMITS[table]:
                problems.add(
                    at(table, code),
                    f"code {code!r} must start with a letter, hold only letters, digits, _ and -, and "
                    f"have at most {_CODE_LIMITS[table]} characters",
                )
            names = entry.get("name")
            if names is None or (isinstance(names, dict) and not any(names.values())):
                problems.add(
                    at(table, code, "name"),
                    "empty required cell — at least one name (zh-Hant, pt or en) is needed",
                )
            elif not isinstance(names, dict):
                problems.add(at(table, code, "name"), "must be a table { zh-Hant = …, pt = …, en = … }")
            else:
                for lang, text in names.items():
                    loc = where.get((table, code, f"name.{lang}")) or at(table, code, "name")
                    if lang not in LANGUAGES:
                        problems.add(loc, f"unknown language {lang!r}; use zh-Hant, pt, en")
                    elif not isinstance(text, str):
                        problems.add(loc, f"wrong type — the {lang} name must be text")
                    elif text.startswith(FORMULA_PREFIXES):
                        problems.add(loc, _injection(text))
                    elif len(text) > 300:
                        problems.add(loc, f"the {lang} name is {len(text)} characters long; the limit is 300")
            for key in ("peer_group", "department", "kind", "subkind", "note", "paper"):
                v = entry.get(key)
                if v is not None and not isinstance(v, str):
                    problems.add(at(table, code, key), f"wrong type — {key} must be text")
                elif isinstance(v, str) and v.startswith(FORMULA_PREFIXES):
                    problems.add(at(table, code, key), _injection(v))
    for code, d in register["departments"].items():
        pg = d.get("peer_group")
        if isinstance(pg, str) and pg not in known_groups:
            problems.add(at("departments", code, "peer_group"), f"unknown peer group '{pg}'")
    for code, o in register["objects"].items():
        dep = o.get("department")
        if dep is None:
            problems.add(
                at("objects", code, "department"), "empty required cell — the object's department is missing"
            )
        elif isinstance(dep, str) and dep not in known_depts:
            problems.add(at("objects", code, "department"), f"unknown department '{dep}'")
        kind, sub = o.get("kind"), o.get("subkind")
        if kind is None:
            problems.add(
                at("objects", code, "kind"),
                f"empty required cell — kind is missing ({', '.join(OBJECT_KINDS)})",
            )
        elif kind not in OBJECT_KINDS:
            problems.add(
                at("objects", code, "kind"), f"kind {kind!r} is not one of {', '.join(OBJECT_KINDS)}"
            )
        elif sub is not None and sub not in SUBKINDS.get(str(kind), ()):
            allowed = ", ".join(SUBKINDS.get(str(kind), ())) or "none"
            problems.add(
                at("objects", code, "subkind"),
                f"subkind {sub!r} is not a subkind of {kind} (allowed: {allowed})",
            )
    for table in ("peer_groups", "departments"):
        for code, entry in register[table].items():
            for key in ("kind", "subkind", "department") if table == "departments" else ("peer_group",):
                if entry.get(key) is not None:
                    problems.add(at(table, code, key), f"a {table[:-1].replace('_', ' ')} has no {key}")
