"""Hostile files built by hand for the hardening tests (issue 13, points 4 and 12): minimal
XLSX workbooks whose sheet XML is written as text (namespace prefixes, single-quoted or
lower-case cell references, a cell at row 1,000,000 or at XFD1048576, a lying `<dimension>`,
a huge merged range, a zip bomb of shared strings), zip archives with crafted member headers,
and the `egov` command run in a subprocess under a memory cap, so that a regression fails
instead of eating the machine."""

from __future__ import annotations

import io
import json
import os
import re
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


def xlsx(
    sheet: str | bytes,
    *,
    shared: bytes | None = None,
    prefix: str = "x",
    title: str = "Data",
    part: str = "worksheets/sheet1.xml",
    extra: dict[str, bytes] | None = None,
) -> bytes:
    """A workbook of one sheet (its part's XML given, stored at xl/`part`), optional shared
    strings and other members."""
    rels = WORKBOOK_RELS.replace("worksheets/sheet1.xml", part)
    members: dict[str, bytes] = {
        "[Content_Types].xml": CONTENT_TYPES.format(shared=SHARED_TYPE if shared else "").encode(),
        "_rels/.rels": ROOT_RELS.encode(),
        "xl/workbook.xml": workbook_xml(prefix, title).encode(),
        "xl/_rels/workbook.xml.rels": rels.format(shared=SHARED_REL if shared else "").encode(),
        f"xl/{part}": sheet.encode() if isinstance(sheet, str) else sheet,
        **(extra or {}),
    }
    if shared is not None:
        members["xl/sharedStrings.xml"] = shared
    return zip_members(members)


def zip_members(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


_UNPREFIXED_TAG = re.compile(rb"<(/?)([A-Za-z][\w.-]*)(?=[\s/>])")


def prefixed(workbook: bytes, prefix: bytes = b"x") -> bytes:
    """The same workbook with every worksheet's SpreadsheetML tags written with a namespace
    prefix (`<x:row>`, `<x:c>`), as some writers do; openpyxl reads it as before."""
    with zipfile.ZipFile(io.BytesIO(workbook)) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    for name, data in members.items():
        if name.startswith("xl/worksheets/") and name.endswith(".xml"):
            data = data.replace(
                f'xmlns="{MAIN_NS}"'.encode(), f'xmlns:{prefix.decode()}="{MAIN_NS}"'.encode()
            )
            members[name] = _UNPREFIXED_TAG.sub(rb"<\1" + prefix + rb":\2", data)
    return zip_members(members)


HEADER = '<{p}row r="1"><{p}c r="A1" t="inlineStr"><{p}is><{p}t>unit</{p}t></{p}is></{p}c></{p}row>'


def hostile_workbooks() -> dict[str, tuple[bytes, str]]:
    """name → (XLSX bytes, the refusal's message) of every hostile workbook the four
    spreadsheet readers must refuse before loading it."""
    far = '<{p}row r="1000000"><{p}c r="B1000000"><{p}v>1</{p}v></{p}c></{p}row>'
    corner = '<{p}row r="1048576"><{p}c r="XFD1048576"><{p}v>1</{p}v></{p}c></{p}row>'
    reaches_row = "sheet 'Data': huge sheet — it reaches row {}; the limit is 20000 rows"
    reaches_xfd = "sheet 'Data': huge sheet — it reaches column XFD (16384); the limit is 500 columns"
    doctype = '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    utf16 = sheet_xml(HEADER + far).replace('encoding="UTF-8"', 'encoding="UTF-16"')
    many_strings = (  # 51 MB of shared strings in a file of 125 KB
        f'<sst xmlns="{MAIN_NS}" count="3000000" uniqueCount="3000000">'.encode()
        + b"<si><t>a</t></si>" * 3_000_000
        + b"</sst>"
    )
    return {
        "prefixed_row_1000000.xlsx": (xlsx(sheet_xml(HEADER + far)), reaches_row.format(1000000)),
        "prefixed_xfd1048576.xlsx": (xlsx(sheet_xml(HEADER + corner)), reaches_xfd),
        "lower_case_single_quotes.xlsx": (
            xlsx(
                sheet_xml(HEADER + "<{p}row r='1048576'><{p}c r='xfd1048576'><{p}v>1</{p}v></{p}c></{p}row>")
            ),
            reaches_xfd,
        ),
        "dimension_lie.xlsx": (
            xlsx(sheet_xml(HEADER + corner, head='<{p}dimension ref="A1:B2"/>')),
            reaches_row.format(1048576),
        ),
        "implied_positions.xlsx": (
            xlsx(sheet_xml(HEADER + '<{p}row r="1e6"/><{p}row><{p}c><{p}v>1</{p}v></{p}c></{p}row>')),
            reaches_row.format(1000001),
        ),
        "merged_sheet.xlsx": (
            xlsx(
                sheet_xml(HEADER, tail='<{p}mergeCells><{p}mergeCell ref="A1:XFD1048576"/></{p}mergeCells>')
            ),
            "sheet 'Data': huge sheet — a merged range at A1:XFD1048576 reaches row 1048576",
        ),
        "hyperlink_columns.xlsx": (
            xlsx(
                sheet_xml(
                    HEADER, tail='<{p}hyperlinks><{p}hyperlink ref="A:XFD" location="A1"/></{p}hyperlinks>'
                )
            ),
            "sheet 'Data': huge sheet — a hyperlink at A:XFD reaches row 1048576 and column 16384",
        ),
        "comment_far.xlsx": (
            xlsx(
                sheet_xml(HEADER),
                extra={
                    "xl/comments1.xml": f'<comments xmlns="{MAIN_NS}"><authors><author>a</author></authors>'
                    '<commentList><comment ref="XFD1048576" authorId="0"><text><t>x</t></text></comment>'
                    "</commentList></comments>".encode()
                },
            ),
            "part xl/comments1.xml: huge sheet — a comment at XFD1048576 reaches row 1048576",
        ),
        "relocated_sheet.xlsx": (
            xlsx(sheet_xml(HEADER + far), part="media/image1.bin"),
            reaches_row.format(1000000),
        ),
        "leading_white_space.xlsx": (  # XML may begin with white space: past any sniffing window
            xlsx(" " * 200_000 + sheet_xml(HEADER + far).split("?>", 1)[1]),
            reaches_row.format(1000000),
        ),
        "utf16_sheet.xlsx": (xlsx(b"\xff\xfe" + utf16.encode("utf-16-le")), reaches_row.format(1000000)),
        "doctype.xlsx": (
            xlsx(sheet_xml(HEADER).replace("?><", "?>" + doctype + "<", 1)),
            "sheet 'Data': a document type declaration (<!DOCTYPE>); a workbook never has one",
        ),
        "shared_strings_bomb.xlsx": (
            xlsx(
                sheet_xml('<{p}row r="1"><{p}c r="A1" t="s"><{p}v>0</{p}v></{p}c></{p}row>'),
                shared=many_strings,
            ),
            "refused as a zip bomb — member xl/sharedStrings.xml expands",
        ),
    }


# --- zip archives with crafted headers ------------------------------------------------------
@dataclass
class Member:
    """A zip member: `data` repeated `repeat` times (deflated cheaply: one block per copy), whose
    headers may claim another uncompressed size (`declared_size`); its CRC is that of the
    declared bytes (a lying writer passing a naive check) unless `honest_crc`."""

    name: str
    data: bytes
    repeat: int = 1
    declared_size: int | None = None
    honest_crc: bool = False
    fixed_crc: int | None = None  # a CRC to write as is (a member refused before it is read)

    def packed(self) -> bytes:
        comp = zlib.compressobj(9, zlib.DEFLATED, -15)
        block = comp.compress(self.data) + comp.flush(zlib.Z_FULL_FLUSH)  # state reset: blocks repeat
        return block * self.repeat + zlib.compressobj(9, zlib.DEFLATED, -15).flush()

    def crc(self) -> int:
        if self.fixed_crc is not None:
            return self.fixed_crc
        size = len(self.data) * self.repeat
        counted = size if self.honest_crc or self.declared_size is None else min(self.declared_size, size)
        crc, left = 0, counted
        while left > 0:
            part = self.data[: min(left, len(self.data))]
            crc = zlib.crc32(part, crc)
            left -= len(part)
        return crc


def crafted_zip(members: Sequence[Member]) -> bytes:
    """A zip archive written byte by byte, so that a member's headers can lie about its size."""
    out = io.BytesIO()
    central = []
    for m in members:
        packed, crc = m.packed(), m.crc()
        size = len(m.data) * m.repeat if m.declared_size is None else m.declared_size
        name = m.name.encode()
        offset = out.tell()
        header = struct.pack(
            "<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc, len(packed), size, len(name), 0
        )
        out.write(header + name + packed)
        entry = (b"PK\x01\x02", 20, 20, 0, 8, 0, 0x21, crc, len(packed), size, len(name), 0, 0, 0, 0)
        central.append(struct.pack("<4s6H3L5H2L", *entry, 0o644 << 16, offset) + name)
    start = out.tell()
    for c in central:
        out.write(c)
    n = len(central)
    out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, n, n, out.tell() - start, start, 0))
    return out.getvalue()


# --- the command in a subprocess under a memory cap -------------------------------------------
@dataclass
class Run:
    code: int
    out: str
    err: str


def _cap_memory() -> None:  # runs in the child before exec
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


MARK = "@@egov-run@@"
RUNNER = f"""
import json, sys
from cli import main
codes = []
for args in json.loads(sys.argv[1]):
    for stream in (sys.stdout, sys.stderr):
        stream.write("{MARK}")
        stream.flush()
    try:
        main(args)
        codes.append(0)
    except SystemExit as exc:
        codes.append(exc.code if isinstance(exc.code, int) else 1)
sys.stdout.write("{MARK}" + json.dumps(codes))
"""


def egov_capped(
    runs: Sequence[Sequence[object]], env: dict[str, str], cwd: Path, timeout: float = 300
) -> list[Run]:
    """`egov ARGS` for every ARGS of `runs`, one after the other in one new Python process
    limited to MEMORY_CAP bytes of address space (one process: the imports are paid once)."""
    full_env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    full_env.pop("EGOV_DEBUG", None)
    p = subprocess.run(
        [sys.executable, "-c", RUNNER, json.dumps([[str(a) for a in args] for args in runs])],
        env=full_env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=_cap_memory,
    )
    outs, errs = p.stdout.split(MARK), p.stderr.split(MARK)
    if p.returncode != 0 or len(outs) != len(runs) + 2:
        raise AssertionError(
            f"the capped process failed (exit {p.returncode}):\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}"
        )
    codes = json.loads(outs[-1])
    return [Run(code, out, err) for code, out, err in zip(codes, outs[1:-1], errs[1:], strict=True)]
