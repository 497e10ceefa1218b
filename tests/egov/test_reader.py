"""The hardened reader (egov.reader) also guards the tables of `egov framework import` and
`egov evaluate` (read_table): the file checks of `egov import` apply to them, and valid files
read as pandas reads them."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from egov.errors import EgovError
from egov.reader import read_table
from egov.settings import reset_settings


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
