"""The hardened reader (egov.reader) also guards the tables of `egov framework import` and
`egov evaluate` (read_table): the file checks of `egov import` apply to them, and valid files
read as pandas reads them. Hostile workbooks (issue 13, point 4: namespace-prefixed tags, a
cell at row 1,000,000 or XFD1048576, a lying dimension, merged ranges, hyperlinks and
comments covering the sheet, a relocated or UTF-16 sheet, a DTD, a shared-strings zip bomb,
too many XML elements) are refused by the scan before loading, and by each of the four
commands that read spreadsheets, run in a subprocess under a memory cap."""

from __future__ import annotations

import functools
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from egov import sheetscan
from egov.errors import EgovError
from egov.reader import check_xlsx_container, read_source, read_table
from egov.settings import reset_settings
from tests.helpers.hostile_files import egov_capped, hostile_workbooks, prefixed, sheet_xml, xlsx
from tests.helpers.register import setup_register

BAD = Path(__file__).resolve().parents[1] / "data" / "bad"


@pytest.fixture
def limits(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("EGOV_MAX_IMPORT_ROWS", "3")
    monkeypatch.setenv("EGOV_MAX_IMPORT_BYTES", "1000")
    reset_settings()
    yield
    monkeypatch.undo()
    reset_settings()


def test_a_valid_csv_reads_as_pandas_reads_it(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes("\ufeffunit,x,y\nu1,1,NA\n\nu2,2.5,b\n".encode())
    expected = pd.read_csv(path, encoding="utf-8-sig", skip_blank_lines=False)
    pd.testing.assert_frame_equal(read_table(path, keep_blank_lines=True), expected)
    assert len(read_table(path)) == 2


def test_row_and_size_limits(tmp_path: Path, limits: None) -> None:
    path = tmp_path / "long.csv"
    path.write_text("unit,x\n" + "".join(f"u{i},{i}\n" for i in range(4)), encoding="utf-8")
    with pytest.raises(EgovError, match=r"huge file — more than 3 rows \(setting EGOV_MAX_IMPORT_ROWS\)"):
        read_table(path)
    path.write_text("unit,x\n" + "u,1\n" * 300, encoding="utf-8")
    with pytest.raises(EgovError, match="the import limit is 1000 bytes"):
        read_table(path)


def test_binary_csv_and_zip_bomb_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "bin.csv"
    path.write_bytes(b"unit,x\nu1,\x00\n")
    with pytest.raises(EgovError, match="binary data"):
        read_table(path)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
        zf.writestr("xl/worksheets/sheet1.xml", " " * 50_000_000)
    bomb = tmp_path / "bomb.xlsx"
    bomb.write_bytes(buf.getvalue())
    with pytest.raises(EgovError, match="refused as a zip bomb"):
        read_table(bomb)


# --- hostile workbooks (issue 13, point 4) ----------------------------------------------------
# Every one is refused by the scan of the XML before openpyxl or pandas loads anything; the
# scan is called alone here (check_xlsx_container), so a regression fails the test instead of
# loading a sheet of a billion cells. The four commands are run under a memory cap below.
@functools.cache
def hostile() -> dict[str, tuple[bytes, str]]:
    workbooks = hostile_workbooks()
    template = prefixed((BAD / "xlsx_huge_sheet.xlsx").read_bytes())  # the issue's 22 KB workbook
    workbooks["template_prefixed_row_1000000.xlsx"] = (
        template,
        "sheet 'Infrastructure': huge sheet — it reaches row 1000000",
    )
    return workbooks


@pytest.mark.parametrize("name", sorted(hostile()))
def test_hostile_workbook_is_refused_before_it_is_loaded(name: str, tmp_path: Path) -> None:
    data, message = hostile()[name]
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(EgovError) as caught:
        check_xlsx_container(read_source(path, ["xlsx"]))
    assert str(caught.value).startswith(f"{name}: ")
    assert message in str(caught.value)


def test_the_issues_workbook_is_small_and_its_tags_prefixed() -> None:
    data = hostile()["template_prefixed_row_1000000.xlsx"][0]
    assert len(data) < 40_000
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml")
    assert b"<x:row " in sheet and b"<x:c " in sheet and b"<row " not in sheet


def test_a_valid_prefixed_workbook_reads_as_the_plain_one(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["unit", "x", "y"])
    for i in range(30):
        ws.append([f"u{i}", i * 1.5, "=1+1" if i == 3 else f"t{i}"])
    ws.merge_cells("D2:E3")
    plain = tmp_path / "plain.xlsx"
    wb.save(plain)
    prefixed_path = tmp_path / "prefixed.xlsx"
    prefixed_path.write_bytes(prefixed(plain.read_bytes()))
    assert b"<x:row" in zipfile.ZipFile(prefixed_path).read("xl/worksheets/sheet1.xml")
    pd.testing.assert_frame_equal(read_table(prefixed_path), read_table(plain))


def test_too_many_xml_elements_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sheetscan, "MAX_XML_ELEMENTS", 40)
    path = tmp_path / "many.xlsx"
    rows = "".join(
        f'<{{p}}row r="{r}"><{{p}}c r="A{r}"><{{p}}v>1</{{p}}v></{{p}}c></{{p}}row>' for r in range(1, 30)
    )
    path.write_bytes(xlsx(sheet_xml(rows)))
    with pytest.raises(EgovError, match="too many XML elements — the workbook's parts hold more than 40"):
        check_xlsx_container(read_source(path, ["xlsx"]))


def test_references_are_read_as_openpyxl_reads_them() -> None:
    assert sheetscan.cell_ref("$xfd$1048576") == (1048576, 16384)
    assert sheetscan.cell_ref("B") is None and sheetscan.cell_ref("7") is None
    assert sheetscan.row_number("1e6") == 1_000_000 and sheetscan.row_number("1.5") is None
    assert sheetscan.range_extent("A1") == (1, 1, 1)
    assert sheetscan.range_extent("B2:A1") == (2, 2, 4)
    assert sheetscan.range_extent("3:5") == (5, 16384, 3 * 16384)
    assert sheetscan.range_extent("A1:B2:C3") is None and sheetscan.range_extent("A1 B2") is None


@pytest.fixture(scope="module")
def registered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An SQLite database with the Macau register and framework (so that `egov import
    metrics` reaches the file)."""
    from egov.db import dispose_engines

    url = f"sqlite:///{tmp_path_factory.mktemp('hostile') / 'egov.db'}"
    setup_register(url)
    yield url
    dispose_engines()


READERS = {
    "import metrics": ["import", "metrics", "{file}", "--period", "2024"],
    "import departments": ["import", "departments", "{file}"],
    "evaluate": ["evaluate", "macau", "{file}", "--out", "{out}"],
    "framework import": ["framework", "import", "{file}", "--out", "{out}/fw.toml"],
}


@pytest.mark.slow
@pytest.mark.parametrize("command", sorted(READERS))
def test_every_spreadsheet_reader_refuses_hostile_workbooks_under_a_memory_cap(
    command: str, registered: str, tmp_path: Path
) -> None:
    """Each command, in a process limited to 1.5 GB, refuses each hostile workbook: exit code
    1, a message naming the file and what is wrong, no traceback, nothing written."""
    names = sorted(hostile())
    runs = []
    for name in names:
        (tmp_path / name).write_bytes(hostile()[name][0])
        runs.append([a.format(file=tmp_path / name, out=tmp_path / f"out-{name}") for a in READERS[command]])
    results = egov_capped(runs, {"EGOV_DATABASE_URL": registered, "EGOV_OPERATOR": "pytest"}, tmp_path)
    for name, r in zip(names, results, strict=True):
        assert r.code == 1, f"{command} {name}: exit {r.code}\n{r.out}\n{r.err}"
        assert r.err.startswith(f"error: {name}: "), r.err
        assert hostile()[name][1] in r.err, r.err
        assert "Traceback" not in r.err + r.out and "internal error" not in r.err
        out = tmp_path / f"out-{name}"
        assert not out.exists() or not any(out.iterdir())


def test_a_dimension_claiming_the_whole_sheet_is_not_trusted(tmp_path: Path) -> None:
    """The `<dimension>` element is a claim: a small sheet claiming A1:XFD1048576 reads as the
    small sheet it is (and a large one claiming A1:B2 is refused, above)."""
    path = tmp_path / "claims_all.xlsx"
    row = '<{p}row r="2"><{p}c r="A2" t="inlineStr"><{p}is><{p}t>u1</{p}t></{p}is></{p}c></{p}row>'
    header = '<{p}row r="1"><{p}c r="A1" t="inlineStr"><{p}is><{p}t>unit</{p}t></{p}is></{p}c></{p}row>'
    path.write_bytes(xlsx(sheet_xml(header + row, head='<{p}dimension ref="A1:XFD1048576"/>')))
    assert read_table(path).to_dict("list") == {"unit": ["u1"]}
