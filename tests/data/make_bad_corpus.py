"""Generate the malformed-input corpus in tests/data/bad/ (one small file per failure class).

Run from the project root:  python3 tests/data/make_bad_corpus.py

Template-based files start from a real `egov template` workbook for four objects of the built-in
Macau register (GOV_CLOUD, ONE_ACCOUNT, SAFP_EGOV_DEPT, CYBER_SUPERVISOR_PUBLIC) and the
built-in Macau framework, period 2024, then break one thing. tests/egov/test_bad_corpus.py
holds the expected message of every file; regenerate after changing the template layout.
Hostile files stay small: the zip bomb is a few KB that would expand to 5 MB, the
declared-size bomb is a few KB whose zip directory claims 3 GB, the huge sheet holds one cell
on row 1,000,000.
"""

from __future__ import annotations

import io
import re
import shutil
import struct
import sys
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from egov.template import TemplateObject, build_template  # noqa: E402
from indicators.framework import resolve_framework  # noqa: E402

OUT = Path(__file__).resolve().parent / "bad"
FIXED = datetime(2024, 1, 1)
OBJECTS = [
    TemplateObject("GOV_CLOUD", "Government Cloud Computing Centre", "SAFP", "infrastructure", None),
    TemplateObject("ONE_ACCOUNT", "Macao One Account", "SAFP", "application", None),
    TemplateObject("SAFP_EGOV_DEPT", "E-Government Department", "SAFP", "management", "administrative"),
    TemplateObject("CYBER_SUPERVISOR_PUBLIC", "Cybersecurity supervisor", "SAFP", "management", "security"),
]


def template() -> Workbook:
    wb = build_template(resolve_framework("macau"), OBJECTS, "2024", "en", "corpus")
    wb.properties.created = wb.properties.modified = FIXED
    meta = wb["_meta"]
    for row in meta.iter_rows(max_col=2):
        if row[0].value == "generated_at":
            row[1].value = "2024-01-01T00:00:00Z"
    return wb


def filled() -> Workbook:
    """The template with a valid value in the first input cell of every data sheet."""
    wb = template()
    infra, app, mgmt = wb.worksheets[1:4]
    infra["F4"] = 99.5  # GOV_CLOUD infra_uptime (%)
    app["F4"] = 80  # ONE_ACCOUNT app_takeup (%)
    mgmt["F4"] = 90  # SAFP_EGOV_DEPT mgmt_plan_on_time (%)
    return wb


def stable(wb: Workbook) -> bytes:
    """The workbook's bytes with fixed zip and document timestamps, so that regenerating the
    corpus does not change files that did not change."""
    buf = io.BytesIO()
    wb.save(buf)
    with zipfile.ZipFile(buf) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    core = members.get("docProps/core.xml")
    if core is not None:
        members["docProps/core.xml"] = re.sub(
            rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(<)", rb"\g<1>2024-01-01T00:00:00Z\g<2>", core
        )
    return zip_bytes(members)


def save(wb: Workbook, name: str) -> None:
    (OUT / name).write_bytes(stable(wb))


def variant(name: str, change: Callable[[Workbook], None]) -> None:
    wb = filled()
    change(wb)
    save(wb, name)


def register_xlsx(name: str, department_name: str) -> None:
    """A one-department register workbook whose English name is `department_name`."""
    reg = Workbook()
    rws = reg.active
    assert rws is not None
    rws.append(["type", "code", "name_en"])
    rws.append(["department", "NEWD", department_name])
    reg.properties.created = reg.properties.modified = FIXED
    save(reg, name)


def sheet(wb: Workbook, i: int) -> Worksheet:
    return wb.worksheets[i]


def zip_bytes(members: dict[str, bytes], level: int = 9) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return buf.getvalue()


def template_members() -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(stable(filled()))) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def write(name: str, data: bytes | str) -> None:
    path = OUT / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


def set_formula_text(ws: Worksheet, coord: str, text: str) -> None:
    """A text cell whose content starts like a formula (not a formula cell)."""
    cell = ws[coord]
    cell.value = text
    cell.data_type = "s"


def main() -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)

    # --- files that are not what they claim ----------------------------------------------
    write("xlsx_not_zip.xlsx", "object,indicator,value\nGOV_CLOUD,infra_uptime,99\n")
    write("xlsx_legacy_ole.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
    write("xlsx_damaged_zip.xlsx", b"PK\x03\x04" + b"\x14\x00\x00\x00\x08\x00" + b"garbage" * 20)
    write(
        "xlsx_docx_renamed.xlsx",
        zip_bytes({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"}),
    )
    members = template_members()
    write("xlsx_macros.xlsx", zip_bytes({**members, "xl/vbaProject.bin": b"\x00" * 64}))
    broken = dict(members)
    broken["xl/workbook.xml"] = b"<workbook><this is not xml"
    write("xlsx_broken_parts.xlsx", zip_bytes(broken))
    write("csv_is_zip.csv", zip_bytes(members))
    write("csv_binary.csv", b"object,indicator,value\n\x00\x01\x02\xff\xfe binary\n")
    write("csv_empty.csv", b"")
    write("metrics.json", '{"object": "GOV_CLOUD"}\n')
    write("legacy_workbook.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)

    # --- hostile files ----------------------------------------------------------------------
    shell = {n: members[n] for n in ("[Content_Types].xml", "xl/workbook.xml")}
    sheet_xml = members["xl/worksheets/sheet2.xml"]
    head, sep, tail = sheet_xml.partition(b"<sheetData>")
    # 5 MB of whitespace inside a worksheet deflates to ~5 KB (ratio ~1000)
    write(
        "xlsx_zip_bomb.xlsx",
        zip_bytes({**shell, "xl/worksheets/sheet1.xml": head + sep + b" " * 5_000_000 + tail}),
    )
    declared = bytearray(zip_bytes({**shell, "xl/worksheets/sheet1.xml": sheet_xml}))
    # claim 3 GB of uncompressed data for the last member in the central directory (offset 24)
    cd = declared.rfind(b"PK\x01\x02")
    struct.pack_into("<I", declared, cd + 24, 3_000_000_000)
    write("xlsx_declared_huge.xlsx", bytes(declared))
    variant("xlsx_huge_sheet.xlsx", lambda wb: sheet(wb, 1).cell(1_000_000, 6, 1))
    variant("xlsx_wide_sheet.xlsx", lambda wb: sheet(wb, 1).cell(4, 2_000, 1))
    variant("xlsx_huge_extent.xlsx", lambda wb: sheet(wb, 1).cell(19_000, 400, 1))
    write("metrics_oversized.csv", "object,indicator,value\n" + "GOV_CLOUD,infra_uptime,99\n" * 20)
    write("csv_huge.csv", "object,indicator,value\n" + "GOV_CLOUD,infra_uptime,99\n" * 120)
    write("csv_non_utf8.csv", "object,indicator,value\nGOV_CLOUD,infra_uptime,99\n# café\n".encode("latin-1"))
    write("csv_formula_injection.csv", "object,indicator,value\n=cmd|' /C calc'!A0,infra_uptime,99\n")
    variant(
        "xlsx_formula_injection.xlsx",
        lambda wb: set_formula_text(sheet(wb, 1), "G4", '=HYPERLINK("http://evil")'),
    )
    write("csv_malformed_quote.csv", 'object,indicator,value\nGOV_CLOUD,"infra_uptime,99\n')

    # --- not an egov template / the wrong one ----------------------------------------------
    def drop_meta(wb: Workbook) -> None:
        del wb["_meta"]

    variant("xlsx_no_meta.xlsx", drop_meta)
    plain = Workbook()
    ws = plain.active
    assert ws is not None
    ws.append(["object", "infra_uptime"])
    ws.append(["GOV_CLOUD", 99])
    plain.properties.created = plain.properties.modified = FIXED
    save(plain, "xlsx_plain_workbook.xlsx")

    def meta_value(key: str, value: str) -> Callable[[Workbook], None]:
        def change(wb: Workbook) -> None:
            for row in wb["_meta"].iter_rows(max_col=2):
                if row[0].value == key:
                    row[1].value = value

        return change

    variant("xlsx_wrong_period.xlsx", meta_value("period", "2023"))
    variant("xlsx_wrong_framework.xlsx", meta_value("framework_code", "other-framework"))

    def drop_codes(wb: Workbook) -> None:
        for i in (1, 2, 3):
            sheet(wb, i).cell(1, 1).value = None

    variant("xlsx_no_codes.xlsx", drop_codes)

    # --- cell contents ----------------------------------------------------------------------
    variant("xlsx_formula.xlsx", lambda wb: sheet(wb, 1).cell(4, 7, "=1+1"))

    def error_value(wb: Workbook) -> None:
        cell = sheet(wb, 1)["G4"]
        cell.value = "#DIV/0!"
        cell.data_type = "e"

    variant("xlsx_error_value.xlsx", error_value)
    variant("xlsx_merged_cells.xlsx", lambda wb: sheet(wb, 2).merge_cells("F4:G4"))
    variant("xlsx_wrong_type.xlsx", lambda wb: sheet(wb, 1).cell(4, 7, "abc"))
    variant("xlsx_thousands_text.xlsx", lambda wb: sheet(wb, 2).cell(4, 7, "1,234"))
    variant("xlsx_boolean.xlsx", lambda wb: sheet(wb, 1).cell(4, 7, True))
    variant("xlsx_date.xlsx", lambda wb: sheet(wb, 1).cell(4, 7, datetime(2024, 3, 1)))
    variant("xlsx_out_of_range.xlsx", lambda wb: sheet(wb, 1).cell(4, 6, 150))
    variant("xlsx_unknown_object.xlsx", lambda wb: sheet(wb, 1).cell(4, 1, "NO_SUCH_OBJECT"))
    variant("xlsx_unknown_indicator.xlsx", lambda wb: sheet(wb, 1).cell(1, 7, "no_such_indicator"))
    variant("xlsx_rating_indicator.xlsx", lambda wb: sheet(wb, 2).cell(1, 7, "app_csat"))
    variant("xlsx_duplicate_column.xlsx", lambda wb: sheet(wb, 1).cell(1, 7, "infra_uptime"))
    variant(
        "xlsx_not_applicable.xlsx", lambda wb: sheet(wb, 3).cell(5, 6, 50)
    )  # security body, admin indicator
    variant("xlsx_duplicate_row.xlsx", lambda wb: sheet(wb, 3).cell(5, 1, "SAFP_EGOV_DEPT"))

    def empty_required(wb: Workbook) -> None:
        sheet(wb, 1).cell(4, 1).value = None

    variant("xlsx_empty_required.xlsx", empty_required)
    variant("xlsx_unit_mismatch.xlsx", lambda wb: sheet(wb, 1).cell(2, 7, "minutes"))
    variant("xlsx_bad_status.xlsx", lambda wb: sheet(wb, 1).cell(4, 5, "approved"))

    def inserted_column(wb: Workbook) -> None:
        ws = sheet(wb, 1)
        ws.cell(4, ws.max_column + 1, 42)

    variant("xlsx_inserted_column.xlsx", inserted_column)

    # --- CSV contents -----------------------------------------------------------------------
    write("csv_long_unknown_object.csv", "object,indicator,value\nNO_SUCH_OBJECT,infra_uptime,99\n")
    write("csv_long_unknown_indicator.csv", "object,indicator,value\nGOV_CLOUD,infra_nonsense,99\n")
    write("csv_long_not_applicable.csv", "object,indicator,value\nONE_ACCOUNT,infra_uptime,99\n")
    write(
        "csv_long_duplicate.csv",
        "object,indicator,value\nGOV_CLOUD,infra_uptime,99\nGOV_CLOUD,infra_uptime,98\n",
    )
    write("csv_long_empty_value.csv", "object,indicator,value\nGOV_CLOUD,infra_uptime,\n")
    write("csv_long_wrong_type.csv", "object,indicator,value\nGOV_CLOUD,infra_uptime,ninety\n")
    write("csv_long_out_of_range.csv", "object,indicator,value\nGOV_CLOUD,infra_uptime,-5\n")
    write("csv_long_nan.csv", "object,indicator,value\nGOV_CLOUD,infra_uptime,nan\n")
    write("csv_long_excel_error.csv", "object,indicator,value\nGOV_CLOUD,infra_uptime,#REF!\n")
    write("csv_long_unit_mismatch.csv", "object,indicator,value,unit\nGOV_CLOUD,infra_mttr,2,minutes\n")
    write("csv_long_bad_status.csv", "object,indicator,value,status\nGOV_CLOUD,infra_uptime,99,final\n")
    write("csv_ragged.csv", "object,indicator,value\nGOV_CLOUD,infra_uptime,99,extra\n")
    write("csv_unknown_layout.csv", "thing,number\nGOV_CLOUD,99\n")
    write("csv_wide_duplicate_column.csv", "object,infra_uptime,infra_uptime\nGOV_CLOUD,99,98\n")
    write("csv_wide_unknown_indicator.csv", "object,infra_uptime,bogus\nGOV_CLOUD,99,1\n")
    write("csv_wide_unit_mismatch.csv", "object,infra_uptime [hours]\nGOV_CLOUD,99\n")
    write("csv_wide_duplicate_row.csv", "object,infra_uptime\nGOV_CLOUD,99\nGOV_CLOUD,98\n")
    write("csv_wide_empty_object.csv", "object,infra_uptime\n,99\n")

    # --- the register (egov import departments) ---------------------------------------------
    reg_head = "type,code,name_en,peer_group,department,kind,subkind\n"
    write("register_bad_toml.toml", '[departments.X]\nname = { en = "unterminated }\n')
    write("register_unknown_table.toml", '[bureaus.X]\nname = { en = "X" }\n')
    write(
        "register_unknown_peer_group.toml",
        '[departments.NEWDEPT]\nname = { en = "New" }\npeer_group = "no_such_group"\n',
    )
    write("register_bad_kind.csv", reg_head + "object,NEW_OBJ,New object,,SAFP,server,\n")
    write("register_bad_subkind.csv", reg_head + "object,NEW_OBJ,New object,,SAFP,management,finance\n")
    write("register_unknown_department.csv", reg_head + "object,NEW_OBJ,New object,,NOPE,application,\n")
    write("register_duplicate.csv", reg_head + "department,NEWD,New,,,,\ndepartment,NEWD,Newer,,,,\n")
    write("register_injection.csv", reg_head + 'department,NEWD,"=HYPERLINK(""http://evil"")",,,,\n')
    write("register_bad_code.csv", reg_head + "department,1-bad code,New,,,,\n")
    write("register_missing_name.csv", reg_head + "department,NEWD,,,,,\n")
    write("register_unknown_type.csv", reg_head + "bureau,NEWD,New,,,,\n")
    write("register_missing_kind.csv", reg_head + "object,NEW_OBJ,New object,,SAFP,,\n")
    register_xlsx("register_formula.xlsx", '=CONCAT("a","b")')
    # control characters in names (issue 13, point 13): a bell in CSV, an escape in TOML, a DEL
    # in XLSX (XML cannot hold most C0 controls, but DEL and the C1 controls it can)
    write("register_control_character.csv", reg_head + "department,NEWD,New\x07Dept,,,,\n")
    write("register_control_character.toml", '[departments.NEWD]\nname = { en = "New\\u001bDept" }\n')
    register_xlsx("register_control_character.xlsx", "New\x7fDept")

    print(f"wrote {len(list(OUT.iterdir()))} files to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
