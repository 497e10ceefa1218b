"""Hostile files built by hand for the hardening tests (issue 13, points 4 and 12): minimal
XLSX workbooks whose sheet XML is written as text (namespace prefixes, single-quoted or
lower-case cell references, a cell at row 1,000,000 or at XFD1048576, a lying `<dimension>`,
a huge merged range, a zip bomb of shared strings), zip archives with crafted member headers,
and the `egov` command run in a subprocess under a memory cap, so that a regression fails
instead of eating the machine."""

from __future__ import annotations

import io
import os
import resource
import struct
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
MEMORY_CAP = 1_500_000_000  # bytes of address space for the `egov` subprocess

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "{shared}</Types>"
)
SHARED_TYPE = (
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>{shared}</Relationships>'
)
SHARED_REL = (
    '<Relationship Id="rId2" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
    'Target="sharedStrings.xml"/>'
)


def workbook_xml(prefix: str = "x", sheet: str = "Data") -> str:
    p = f"{prefix}:" if prefix else ""
    ns = f"xmlns{':' + prefix if prefix else ''}"
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><{p}workbook {ns}="{MAIN_NS}" '
        f'xmlns:r="{REL_NS}"><{p}sheets><{p}sheet name="{sheet}" sheetId="1" r:id="rId1"/>'
        f"</{p}sheets></{p}workbook>"
    )


def sheet_xml(body: str, prefix: str = "x", head: str = "", tail: str = "") -> str:
    """A worksheet part: `body` inside <sheetData>, `head` before it (e.g. a <dimension>),
    `tail` after it (e.g. <mergeCells>); `{p}` in them stands for the namespace prefix and
    its colon."""
    p = f"{prefix}:" if prefix else ""
    ns = f"xmlns{':' + prefix if prefix else ''}"
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><{p}worksheet {ns}="{MAIN_NS}">'
        f"{head.replace('{p}', p)}<{p}sheetData>{body.replace('{p}', p)}</{p}sheetData>"
        f"{tail.replace('{p}', p)}</{p}worksheet>"
    )


def xlsx(sheet: str, *, shared: bytes | None = None, prefix: str = "x", title: str = "Data") -> bytes:
    """A workbook of one sheet (its part's XML given) and optional shared strings."""
    members: dict[str, bytes] = {
        "[Content_Types].xml": CONTENT_TYPES.format(shared=SHARED_TYPE if shared else "").encode(),
        "_rels/.rels": ROOT_RELS.encode(),
        "xl/workbook.xml": workbook_xml(prefix, title).encode(),
        "xl/_rels/workbook.xml.rels": WORKBOOK_RELS.format(shared=SHARED_REL if shared else "").encode(),
        "xl/worksheets/sheet1.xml": sheet.encode(),
    }
    if shared is not None:
        members["xl/sharedStrings.xml"] = shared
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


HEADER = '<{p}row r="1"><{p}c r="A1" t="inlineStr"><{p}is><{p}t>unit</{p}t></{p}is></{p}c></{p}row>'


def hostile_workbooks() -> dict[str, bytes]:
    """name → XLSX bytes of every hostile workbook the four spreadsheet readers must refuse."""
    far = '<{p}row r="1000000"><{p}c r="B1000000"><{p}v>1</{p}v></{p}c></{p}row>'
    corner = '<{p}row r="1048576"><{p}c r="XFD1048576"><{p}v>1</{p}v></{p}c></{p}row>'
    many_strings = (
        f'<sst xmlns="{MAIN_NS}" count="3000000" uniqueCount="3000000">'.encode()
        + b"<si><t>a</t></si>" * 3_000_000
        + b"</sst>"
    )
    return {
        "prefixed_row_1000000.xlsx": xlsx(sheet_xml(HEADER + far)),
        "prefixed_xfd1048576.xlsx": xlsx(sheet_xml(HEADER + corner)),
        "lower_case_single_quotes.xlsx": xlsx(
            sheet_xml(HEADER + "<{p}row r='1048576'><{p}c r='xfd1048576'><{p}v>1</{p}v></{p}c></{p}row>")
        ),
        "dimension_lie.xlsx": xlsx(sheet_xml(HEADER + corner, head='<{p}dimension ref="A1:B2"/>'), prefix=""),
        "implied_positions.xlsx": xlsx(
            sheet_xml(HEADER + '<{p}row r="999999"/><{p}row><{p}c><{p}v>1</{p}v></{p}c></{p}row>')
        ),
        "merged_sheet.xlsx": xlsx(
            sheet_xml(
                HEADER, tail='<{p}mergeCells count="1"><{p}mergeCell ref="A1:XFD1048576"/></{p}mergeCells>'
            )
        ),
        "shared_strings_bomb.xlsx": xlsx(
            sheet_xml('<{p}row r="1"><{p}c r="A1" t="s"><{p}v>0</{p}v></{p}c></{p}row>'), shared=many_strings
        ),
    }


# --- zip archives with crafted headers ------------------------------------------------------
@dataclass
class Member:
    name: str
    data: bytes  # the real content (compressed with deflate)
    declared_size: int | None = None  # the uncompressed size the headers claim (default: the real one)


def crafted_zip(members: Sequence[Member]) -> bytes:
    """A zip archive written byte by byte, so that a member's headers can lie about its
    uncompressed size (its CRC is that of the first `declared_size` bytes, as a lying
    writer would make it to pass a naive check)."""
    out = io.BytesIO()
    central = []
    for m in members:
        comp = zlib.compressobj(9, zlib.DEFLATED, -15)
        packed = comp.compress(m.data) + comp.flush()
        size = len(m.data) if m.declared_size is None else m.declared_size
        crc = zlib.crc32(m.data[:size])
        name = m.name.encode()
        offset = out.tell()
        out.write(
            struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc, len(packed), size, len(name), 0)
        )
        out.write(name + packed)
        central.append(
            struct.pack(
                "<4s6H3L5H2L",
                b"PK\x01\x02",
                20,
                20,
                0,
                8,
                0,
                0x21,
                crc,
                len(packed),
                size,
                len(name),
                0,
                0,
                0,
                0,
                0o644 << 16,
                offset,
            )
            + name
        )
    start = out.tell()
    for c in central:
        out.write(c)
    out.write(
        struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(central), len(central), out.tell() - start, start, 0)
    )
    return out.getvalue()


# --- the command in a subprocess under a memory cap -------------------------------------------
@dataclass
class Run:
    code: int
    out: str
    err: str


def _cap_memory() -> None:  # runs in the child before exec
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def egov_capped(args: Sequence[object], env: dict[str, str], cwd: Path, timeout: float = 120) -> Run:
    """`egov ARGS` in a new Python process limited to MEMORY_CAP bytes of address space."""
    full_env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    full_env.pop("EGOV_DEBUG", None)
    p = subprocess.run(
        [sys.executable, "-c", "from cli import main; main()", *[str(a) for a in args]],
        env=full_env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=_cap_memory,
    )
    return Run(p.returncode, p.stdout, p.stderr)
