"""The scan of an XLSX workbook's XML before openpyxl loads it (used by `egov.reader`).

Every XML member of the zip is streamed through expat with namespaces resolved — so
`<x:row>`/`<x:c>` with a prefix, `<row>` in the default namespace, single-quoted attributes
and lower-case references are all seen — and refused before anything is built when it
would make openpyxl or pandas allocate without bound:

- the extent of every sheet: rows (`EGOV_MAX_IMPORT_ROWS`), columns (`MAX_COLUMNS`), cells
  (`MAX_CELLS`, counted and as rows × columns). The positions are those openpyxl gives: a
  row without `r` is the next row, a cell without `r` the next column, a row number may be
  written `1e6`; the `<dimension>` element is a claim and is not read;
- merged ranges, hyperlinks and comments, for which openpyxl creates every cell they cover
  (`A1:XFD1048576` would be 17 billion cells): they must stay inside the same limits;
- the decompressed bytes actually read (`EGOV_MAX_IMPORT_UNPACKED_BYTES`, besides the zip
  directory's declared sizes) and the XML elements of all parts together
  (`MAX_XML_ELEMENTS`: a shared-strings or styles part of millions of tiny elements);
- a document type declaration (`<!DOCTYPE>`: entity expansion), which no workbook has.

A sheet is found by name (`xl/worksheets/*.xml`) and through the workbook's relationships;
any other XML member is scanned too and named as a part. A kernel module: it imports only
`egov.errors`, the standard library and openpyxl.
"""

from __future__ import annotations

import pyexpat
import re
import zipfile
import zlib
from dataclasses import dataclass, field

from egov.errors import EgovError

MAX_COLUMNS = 500  # columns of a sheet or CSV file
MAX_CELLS = 500_000  # cells, and rows × columns of the extent, of one worksheet (checked before loading)
MAX_XML_ELEMENTS = 4_000_000  # XML elements of all the parts of one workbook together
MAX_RANGES_SHOWN = 3  # merged ranges, hyperlinks or comments out of bounds named per part
EXCEL_ROWS, EXCEL_COLUMNS = 1_048_576, 16_384
CHUNK = 1 << 16
RANGE_LABELS = {"mergeCell": "merged range", "hyperlink": "hyperlink", "comment": "comment"}
# a cell reference as openpyxl reads it (letters, digits, optional $), or half of a range
CELL_REF = re.compile(r"\$?([A-Za-z]{0,8})\$?([0-9]{0,12})")

Found = list[tuple[str, str]]  # (where, problem)


class Refused(Exception):
    """Stops the scan of a workbook: the reason is already in the problems found."""


@dataclass
class Budget:
    """What the scan of one workbook may still read: decompressed bytes and XML elements."""

    bytes_left: int
    elements_left: int
    found: Found = field(default_factory=list)


@dataclass
class PartScan:
    """The extent of one XML part (the handler of expat's element starts)."""

    where: str
    max_rows: int
    budget: Budget
    row: int = 0
    col: int = 0
    max_row: int = 0
    max_col: int = 0
    cells: int = 0
    covered: int = 0  # cells covered by merged ranges, hyperlinks and comments
    bad_ranges: int = 0

    def refuse(self, message: str) -> None:
        self.budget.found.append((self.where, message))
        raise Refused

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.budget.elements_left -= 1
        if self.budget.elements_left < 0:
            self.refuse(
                f"too many XML elements — the workbook's parts hold more than {MAX_XML_ELEMENTS}; "
                "not a workbook this reader accepts"
            )
        local = name.rpartition("}")[2]
        if local == "row":
            number = row_number(attrs["r"]) if attrs.get("r") else None
            self.row = number if number is not None else self.row + 1
            self.col = 0
            self.max_row = max(self.max_row, self.row)
        elif local == "c":
            self.cell(attrs.get("r"))
        elif local in RANGE_LABELS and attrs.get("ref"):
            self.range(local, attrs["ref"])

    def cell(self, ref: str | None) -> None:
        at = cell_ref(ref) if ref else None
        if at is None:
            self.col += 1
        else:
            self.row, self.col = at
        self.max_row, self.max_col = max(self.max_row, self.row), max(self.max_col, self.col)
        self.cells += 1
        if self.cells > MAX_CELLS:
            self.refuse(f"huge sheet — more than {MAX_CELLS} cells (the limit)")

    def range(self, what: str, ref: str) -> None:
        extent = range_extent(ref)
        if extent is None:
            return  # not a reference: openpyxl refuses the workbook itself
        last_row, last_col, cells = extent
        self.covered += cells
        if last_row <= self.max_rows and last_col <= MAX_COLUMNS and self.covered <= MAX_CELLS:
            return
        self.bad_ranges += 1
        if self.bad_ranges <= MAX_RANGES_SHOWN:
            shown = ref if len(ref) <= 40 else ref[:37] + "…"
            self.budget.found.append(
                (
                    self.where,
                    f"huge sheet — a {RANGE_LABELS[what]} at {shown} reaches row {last_row} and "
                    f"column {last_col} and covers {cells} cell{'s' if cells != 1 else ''} (limits: {self.max_rows} rows, "
                    f"{MAX_COLUMNS} columns, {MAX_CELLS} cells)",
                )
            )

    def extent_problems(self) -> Found:
        rows, cols, max_rows = self.max_row, self.max_col, self.max_rows
        found: Found = []
        if rows > max_rows:
            found.append(
                (
                    self.where,
                    f"huge sheet — it reaches row {rows}; the limit is {max_rows} rows "
                    "(setting EGOV_MAX_IMPORT_ROWS)",
                )
            )
        if cols > MAX_COLUMNS:
            found.append(
                (
                    self.where,
                    f"huge sheet — it reaches column {column_letter(min(cols, EXCEL_COLUMNS))} "
                    f"({cols}); the limit is {MAX_COLUMNS} columns",
                )
            )
        if rows <= max_rows and cols <= MAX_COLUMNS and rows * cols > MAX_CELLS:
            found.append(
                (
                    self.where,
                    f"huge sheet — it spans {rows} rows × {cols} columns = {rows * cols} cells; "
                    f"the limit is {MAX_CELLS}",
                )
            )
        return found


def row_number(text: str) -> int | None:
    """A row's `r` as openpyxl reads it (`int`, else an integral float such as `1e6`)."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
        return int(number) if number.is_integer() else None
    except (ValueError, OverflowError):
        return None


def column_index(letters: str) -> int:
    """1 for A, 26 for Z, 16384 for XFD (any case)."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - 64)
    return n


def column_letter(index: int) -> str:
    """A for 1, Z for 26, XFD for 16384 (the inverse of `column_index`)."""
    letters = ""
    while index > 0:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def cell_ref(text: str) -> tuple[int, int] | None:
    """(row, column) of a cell reference such as `B7`, `$b$7` or `XFD1048576`."""
    m = CELL_REF.fullmatch(text.strip())
    if m is None or not m.group(1) or not m.group(2):
        return None
    return int(m.group(2)), column_index(m.group(1))


def range_extent(ref: str) -> tuple[int, int, int] | None:
    """(last row, last column, cells) of a reference: `A1`, `A1:B2`, whole columns `A:C` or
    whole rows `3:5` (which reach Excel's last row or column); None if not a reference."""
    parts = ref.strip().split(":")
    if len(parts) > 2:
        return None
    corners = []
    for i, part in enumerate(parts):
        m = CELL_REF.fullmatch(part.strip())
        if m is None or not (m.group(1) or m.group(2)):
            return None
        last = i == 1
        row = int(m.group(2)) if m.group(2) else (EXCEL_ROWS if last else 1)
        col = column_index(m.group(1)) if m.group(1) else (EXCEL_COLUMNS if last else 1)
        corners.append((row, col))
    (r1, c1), (r2, c2) = corners[0], corners[-1]
    return max(r1, r2), max(c1, c2), (abs(r2 - r1) + 1) * (abs(c2 - c1) + 1)


def looks_like_xml(chunk: bytes, first: bool) -> bool | None:
    """Whether a member is one openpyxl could parse as XML (UTF-8 with or without a
    byte-order mark, or UTF-16), from its first bytes that are not white space (any number of
    them: XML may begin with white space); None while only white space has been seen. Images
    and other binary members are not scanned."""
    if first and chunk.startswith((b"\xff\xfe", b"\xfe\xff", b"<\x00", b"\x00<")):
        return True
    rest = (chunk.removeprefix(b"\xef\xbb\xbf") if first else chunk).lstrip(b" \t\r\n")
    return rest.startswith(b"<") if rest else None


def _parse(parser: pyexpat.XMLParserType, chunk: bytes, final: bool, name: str, part: str) -> None:
    try:
        parser.Parse(chunk, final)
    except pyexpat.ExpatError as exc:
        raise EgovError(f"{name}: not a readable XLSX workbook (ParseError in {part}: {exc})") from exc


def scan_part(name: str, zf: zipfile.ZipFile, info: zipfile.ZipInfo, scan: PartScan) -> None:
    """Stream one member through expat (namespaces resolved, no DTD) into `scan`; the bytes
    read count against the budget. Raises `Refused` to stop the whole scan."""
    parser = pyexpat.ParserCreate(namespace_separator="}")
    parser.StartElementHandler = scan.start

    def no_dtd(*_: object) -> None:
        scan.refuse("a document type declaration (<!DOCTYPE>); a workbook never has one")

    parser.StartDoctypeDeclHandler = no_dtd
    parser.EntityDeclHandler = no_dtd
    xml: bool | None = None
    started = False
    with zf.open(info) as fh:
        while chunk := fh.read(CHUNK):
            if xml is None:
                xml = looks_like_xml(chunk, first=not started)
                if xml is False:
                    return  # an image or other binary member: openpyxl does not parse it
            started = True
            scan.budget.bytes_left -= len(chunk)
            if scan.budget.bytes_left < 0:
                scan.refuse(
                    "refused as a zip bomb — the workbook unpacks to more than the limit "
                    "(setting EGOV_MAX_IMPORT_UNPACKED_BYTES)"
                )
            _parse(parser, chunk, False, name, info.filename)
    if started:
        _parse(parser, b"", True, name, info.filename)
        scan.budget.found.extend(scan.extent_problems())


def scan_parts(name: str, zf: zipfile.ZipFile, sheets: dict[str, str], max_rows: int, unpacked: int) -> Found:
    """Scan every member of the workbook `name` (`PartScan`); stop at the first budget
    refusal. Returns (where, problem) for every problem found; raises `EgovError` for a
    member that does not unpack or parse."""
    budget = Budget(bytes_left=unpacked, elements_left=MAX_XML_ELEMENTS)
    for info in zf.infolist():
        if info.is_dir():
            continue
        title = sheets.get(info.filename)
        where = f"sheet '{title}'" if title is not None else f"part {info.filename}"
        try:
            scan_part(name, zf, info, PartScan(where=where, max_rows=max_rows, budget=budget))
        except Refused:
            break
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as exc:
            raise EgovError(
                f"{name}: not a readable XLSX workbook — member {info.filename} does not unpack ({exc})"
            ) from exc
    return budget.found
