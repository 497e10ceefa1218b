"""`egov runs verify` reads a bundle within bounds (issue 13, point 12): too many files, a
member expanding more than a bundle's files can (a zip bomb: 1.5 GB from 1.5 MB), a total
over EGOV_MAX_BUNDLE_BYTES and a member whose headers lie about its size are refused with
a clear error naming the bundle — never MemoryError. The bombs run in a subprocess limited
to 1.5 GB, so that a regression fails instead of eating the machine; the legitimate
bundles of tests/egov/test_record.py still verify."""

from __future__ import annotations

from pathlib import Path

import pytest

from egov.bundle import MAX_BUNDLE_MEMBERS, read_bundle
from egov.errors import EgovError
from egov.settings import reset_settings
from tests.helpers.hostile_files import Member, crafted_zip, egov_capped

MB = 1 << 20
ZEROS = b"\0" * MB


def test_too_many_members_are_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "many.zip"
    path.write_bytes(crafted_zip([Member(f"f{i}.txt", b"x") for i in range(MAX_BUNDLE_MEMBERS + 1)]))
    with pytest.raises(EgovError, match=f"many.zip: more than {MAX_BUNDLE_MEMBERS} files"):
        read_bundle(path)
    folder = tmp_path / "folder"
    folder.mkdir()
    for i in range(MAX_BUNDLE_MEMBERS + 1):
        (folder / f"f{i}.txt").write_bytes(b"x")
    with pytest.raises(EgovError, match=f"folder: more than {MAX_BUNDLE_MEMBERS} files"):
        read_bundle(folder)


def test_a_huge_zip_directory_is_refused_before_zipfile_reads_it(tmp_path: Path) -> None:
    """zipfile reads the whole central directory whatever number of entries the end record
    claims: its size is checked first (here 25,000 entries claimed as 1)."""
    data = bytearray(crafted_zip([Member(f"inputs/history_{i:08d}.csv", b"") for i in range(25_000)]))
    data[-22 + 8 : -22 + 12] = (1).to_bytes(2, "little") * 2
    path = tmp_path / "directory.zip"
    path.write_bytes(bytes(data))
    with pytest.raises(EgovError, match=r"directory.zip: the zip directory is 1.8 MB \(limit 1.0 MB\)"):
        read_bundle(path)


def test_the_total_size_is_bounded_by_the_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EGOV_MAX_BUNDLE_BYTES", "5000")
    reset_settings()
    try:
        path = tmp_path / "big.zip"
        text = bytes(range(256)) * 12  # 3072 bytes that hardly compress
        path.write_bytes(crafted_zip([Member("a.csv", text), Member("b.csv", text)]))
        with pytest.raises(
            EgovError,
            match=r"would unpack to more than 5000 bytes \(at b.csv; setting EGOV_MAX_BUNDLE_BYTES\)",
        ):
            read_bundle(path)
        folder = tmp_path / "folder"
        folder.mkdir()
        (folder / "a.csv").write_bytes(text)
        (folder / "b.csv").write_bytes(text)
        with pytest.raises(EgovError, match="would unpack to more than 5000 bytes"):
            read_bundle(folder)
    finally:
        monkeypatch.undo()
        reset_settings()


def test_a_small_member_of_any_ratio_is_read(tmp_path: Path) -> None:
    path = tmp_path / "ok.zip"
    path.write_bytes(crafted_zip([Member("a.txt", b"\0" * 900_000)]))
    assert read_bundle(path) == {"a.txt": b"\0" * 900_000}


@pytest.mark.slow
def test_hostile_bundles_get_a_clear_error_under_a_memory_cap(tmp_path: Path) -> None:
    """`egov runs verify` on each hostile bundle, in a process limited to 1.5 GB: exit code 1,
    the bundle named, what is wrong said, no traceback, no MemoryError."""
    bombs = {
        # 1.5 GB of zeros in 1.5 MB: refused from the zip directory, nothing is inflated
        "ratio.zip": (
            [Member("manifest.json", b"{}"), Member("inputs/data.csv", ZEROS, repeat=1500, fixed_crc=0)],
            "refused as a zip bomb — member inputs/data.csv expands 1011-fold to 1.6 GB",
        ),
        # the headers claim 1 KB, the data inflates to 1.5 GB: read only as far as claimed
        "lying_size.zip": (
            [Member("manifest.json", ZEROS, repeat=1500, declared_size=1024)],
            "manifest.json is not valid JSON",
        ),
        "lying_size_crc.zip": (
            [Member("manifest.json", ZEROS, repeat=1500, declared_size=1024, honest_crc=True)],
            "member manifest.json does not unpack (Bad CRC-32 for file 'manifest.json'); the bundle is damaged",
        ),
        "many.zip": (
            [Member(f"inputs/history_{i}.csv", b"unit,indicator,value\n") for i in range(5000)],
            f"more than {MAX_BUNDLE_MEMBERS} files",
        ),
    }
    runs = []
    for name, (members, _) in bombs.items():
        (tmp_path / name).write_bytes(crafted_zip(members))
        runs.append(["runs", "verify", tmp_path / name])
    assert (tmp_path / "ratio.zip").stat().st_size < 2_000_000
    results = egov_capped(runs, {}, tmp_path)
    for (name, (_, message)), r in zip(bombs.items(), results, strict=True):
        assert r.code == 1, f"{name}: exit {r.code}\n{r.out}\n{r.err}"
        assert r.err.startswith(f"error: {tmp_path / name}: "), r.err
        assert message in r.err, r.err
        assert "Traceback" not in r.err + r.out and "MemoryError" not in r.err + r.out
