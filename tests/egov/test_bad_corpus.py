"""The malformed-input corpus (tests/data/bad/, made by tests/data/make_bad_corpus.py): every
file is rejected through the CLI with its own specific message, exit code 1 and no traceback,
and leaves the database exactly as it was — row counts and a content hash of metric_value
(and of the register) compared before and after — on SQLite and on PostgreSQL."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.helpers.databases import create_pg_database, release

BAD = Path(__file__).resolve().parents[1] / "data" / "bad"
REGISTER = Path(__file__).resolve().parents[2] / "egov" / "data" / "macau_register.toml"
TABLES = ("peer_group", "department", "assessed_object", "period", "metric_value", "framework")

M, R = "metrics", "departments"
# file → (command, the specific message, extra settings)
CASES: dict[str, tuple[str, str, dict[str, str]]] = {
    # not what the name claims
    "xlsx_not_zip.xlsx": (
        M,
        "not an XLSX workbook — an .xlsx file is a zip archive, this one starts with text",
        {},
    ),
    "xlsx_legacy_ole.xlsx": (M, "not an XLSX workbook but an OLE2 file", {}),
    "xlsx_damaged_zip.xlsx": (M, "the zip archive is damaged", {}),
    "xlsx_docx_renamed.xlsx": (M, "a zip archive but not an Excel workbook (no xl/workbook.xml)", {}),
    "xlsx_broken_parts.xlsx": (M, "not a readable XLSX workbook (ParseError", {}),
    "xlsx_macros.xlsx": (M, "the workbook contains macros (xl/vbaProject.bin)", {}),
    "csv_is_zip.csv": (M, "a zip archive (an XLSX workbook?) named .csv", {}),
    "csv_binary.csv": (M, "binary data (a NUL byte at byte offset 23), not a .csv text file", {}),
    "csv_empty.csv": (M, "csv_empty.csv: the file is empty", {}),
    "metrics.json": (M, "unsupported file type '.json'", {}),
    "legacy_workbook.xls": (M, "a legacy Excel 97-2003 workbook (.xls) is not accepted", {}),
    "csv_malformed_quote.csv": (M, "csv_malformed_quote.csv line 2: malformed CSV", {}),
    "csv_non_utf8.csv": (M, "not UTF-8 text — byte 0xE9 at byte offset 54 (line 3, column 6)", {}),
    # hostile or oversized
    "xlsx_zip_bomb.xlsx": (M, "refused as a zip bomb — member xl/worksheets/sheet1.xml expands", {}),
    "xlsx_declared_huge.xlsx": (M, "refused as a zip bomb — its members would unpack to 3.0 GB", {}),
    "xlsx_huge_sheet.xlsx": (M, "sheet 'Infrastructure': huge sheet — it reaches row 1000000", {}),
    "xlsx_wide_sheet.xlsx": (M, "huge sheet — it reaches column BXX (2000); the limit is 500 columns", {}),
    "xlsx_huge_extent.xlsx": (M, "huge sheet — it spans 19000 rows × 400 columns = 7600000 cells", {}),
    "metrics_oversized.csv": (
        M,
        "the file is 543 bytes; the import limit is 100 bytes (setting EGOV_MAX_IMPORT_BYTES)",
        {"EGOV_MAX_IMPORT_BYTES": "100"},
    ),
    "csv_huge.csv": (M, "huge file — more than 100 rows", {"EGOV_MAX_IMPORT_ROWS": "100"}),
    "csv_formula_injection.csv": (
        M,
        "line 2, column 1 (object): text \"=cmd|' /C calc'!A0\" begins with '='",
        {},
    ),
    "xlsx_formula_injection.xlsx": (M, "cell G4: text '=HYPERLINK(\"http://evil\")' begins with '='", {}),
    # not an egov template, or another one
    "xlsx_no_meta.xlsx": (M, "no hidden '_meta' sheet (its data sheets are there", {}),
    "xlsx_plain_workbook.xlsx": (M, "not an egov metric template — it has no hidden '_meta' sheet;", {}),
    "xlsx_wrong_period.xlsx": (M, "the template is for period '2023', the import is for --period 2024", {}),
    "xlsx_wrong_framework.xlsx": (M, "the template was made for framework 'other-framework'", {}),
    "xlsx_no_codes.xlsx": (M, "no data sheets: no sheet has the hidden code '_object' in cell A1", {}),
    # template cells
    "xlsx_formula.xlsx": (M, "sheet 'Infrastructure' cell G4: a formula (=1+1)", {}),
    "xlsx_error_value.xlsx": (M, "cell G4: the Excel error value #DIV/0!", {}),
    "xlsx_merged_cells.xlsx": (M, "sheet 'Application services' cells F4:G4: merged cells", {}),
    "xlsx_wrong_type.xlsx": (M, "cell G4: wrong type — 'abc' is not a number", {}),
    "xlsx_thousands_text.xlsx": (M, "'1,234' is not a number (no thousands separators", {}),
    "xlsx_boolean.xlsx": (M, "cell G4: wrong type — TRUE is a logical value", {}),
    "xlsx_date.xlsx": (M, "cell G4: wrong type — 2024-03-01 00:00:00 is a date or time", {}),
    "xlsx_out_of_range.xlsx": (M, "cell F4: out of range — 150 is outside [0, 100] (%) for infra_uptime", {}),
    "xlsx_unknown_object.xlsx": (M, "cell A4: unknown object 'NO_SUCH_OBJECT'", {}),
    "xlsx_unknown_indicator.xlsx": (M, "cell G1: hidden code: unknown indicator 'no_such_indicator'", {}),
    "xlsx_rating_indicator.xlsx": (M, "indicator app_csat is computed from citizen ratings", {}),
    "xlsx_duplicate_column.xlsx": (M, "cell G1: duplicate column: indicator infra_uptime is also in", {}),
    "xlsx_not_applicable.xlsx": (
        M,
        "cell F5: indicator mgmt_plan_on_time does not apply to CYBER_SUPERVISOR_PUBLIC "
        "(kind management.security)",
        {},
    ),
    "xlsx_duplicate_row.xlsx": (M, "cell A5: duplicate row: object SAFP_EGOV_DEPT is also on row 4", {}),
    "xlsx_empty_required.xlsx": (M, "cell A4: empty required cell — row 4 has values but no object code", {}),
    "xlsx_unit_mismatch.xlsx": (M, "cell G2: unit mismatch for infra_mttr: the template says 'minutes'", {}),
    "xlsx_bad_status.xlsx": (M, "cell E4: status 'approved' is not one of submitted (or blank)", {}),
    "xlsx_inserted_column.xlsx": (M, "a value in a column without a hidden indicator code", {}),
    # CSV contents
    "csv_long_unknown_object.csv": (M, "line 2, column 1 (object): unknown object 'NO_SUCH_OBJECT'", {}),
    "csv_long_unknown_indicator.csv": (
        M,
        "line 2, column 2 (indicator): unknown indicator 'infra_nonsense'",
        {},
    ),
    "csv_long_not_applicable.csv": (M, "indicator infra_uptime does not apply to ONE_ACCOUNT", {}),
    "csv_long_duplicate.csv": (M, "line 3: duplicate: GOV_CLOUD / infra_uptime is also on line 2", {}),
    "csv_long_empty_value.csv": (M, "line 2, column 3 (value): empty required cell — value is missing", {}),
    "csv_long_wrong_type.csv": (M, "line 2, column 3 (value): wrong type — 'ninety' is not a number", {}),
    "csv_long_out_of_range.csv": (M, "out of range — -5 is outside [0, 100]", {}),
    "csv_long_nan.csv": (M, "wrong type — 'nan' is not a finite number", {}),
    "csv_long_excel_error.csv": (M, "line 2, column 3 (value): the Excel error value #REF!", {}),
    "csv_long_unit_mismatch.csv": (M, "line 2, column 4 (unit): unit mismatch for infra_mttr", {}),
    "csv_long_bad_status.csv": (M, "line 2, column 4 (status): status 'final' is not one of", {}),
    "csv_ragged.csv": (M, "line 2: 4 fields, the header has 3", {}),
    "csv_unknown_layout.csv": (M, "line 1: cannot tell the layout", {}),
    "csv_wide_duplicate_column.csv": (
        M,
        "line 1, column 3: duplicate column 'infra_uptime' (also column 2)",
        {},
    ),
    "csv_wide_unknown_indicator.csv": (M, "line 1, column 3: unknown indicator 'bogus'", {}),
    "csv_wide_unit_mismatch.csv": (M, "unit mismatch for infra_uptime: the header says 'hours'", {}),
    "csv_wide_duplicate_row.csv": (M, "line 3, column 1 (object): duplicate row: object GOV_CLOUD", {}),
    "csv_wide_empty_object.csv": (M, "line 2, column 1 (object): empty required cell", {}),
    # the register
    "register_bad_toml.toml": (R, "not valid TOML — Illegal character", {}),
    "register_unknown_table.toml": (
        R,
        "bureaus: unknown table; expected peer_groups, departments, objects",
        {},
    ),
    "register_unknown_peer_group.toml": (
        R,
        "departments.NEWDEPT.peer_group: unknown peer group 'no_such_group'",
        {},
    ),
    "register_bad_kind.csv": (R, "line 2, column 6 (kind): kind 'server' is not one of", {}),
    "register_bad_subkind.csv": (R, "subkind 'finance' is not a subkind of management", {}),
    "register_unknown_department.csv": (R, "line 2, column 5 (department): unknown department 'NOPE'", {}),
    "register_duplicate.csv": (R, "line 3, column 2 (code): duplicate department 'NEWD'", {}),
    "register_injection.csv": (R, "line 2, column 3 (name_en): text '=HYPERLINK", {}),
    "register_bad_code.csv": (R, "code '1-bad code' must start with a letter", {}),
    "register_missing_name.csv": (
        R,
        "line 2, column 3 (name_en): empty required cell — at least one name",
        {},
    ),
    "register_unknown_type.csv": (R, "type 'bureau' is not one of peer_group, department, object", {}),
    "register_missing_kind.csv": (R, "line 2, column 6 (kind): empty required cell — kind is missing", {}),
    "register_formula.xlsx": (R, "sheet 'Sheet' cell C2: a formula (=CONCAT(", {}),
    "register_control_character.csv": (
        R,
        "line 2, column 3 (name_en): control character U+0007 (bell) at character 4 of the en name",
        {},
    ),
    "register_control_character.toml": (
        R,
        "departments.NEWD.name: control character U+001B (escape) at character 4 of the en name",
        {},
    ),
    "register_control_character.xlsx": (
        R,
        "sheet 'Sheet' cell C2: control character U+007F (delete) at character 4 of the en name",
        {},
    ),
}


def test_the_corpus_is_complete_and_small() -> None:
    files = {p.name for p in BAD.iterdir()}
    assert files == set(CASES), f"untested: {files - set(CASES)}; missing: {set(CASES) - files}"
    assert len(files) >= 30
    assert max(p.stat().st_size for p in BAD.iterdir()) < 40_000
    assert (BAD / "xlsx_zip_bomb.xlsx").stat().st_size < 10_000  # a few KB that would expand to 5 MB


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def corpus_db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One database per engine for the whole corpus, with a register and some metric values.
    Every case asserts that it left the database unchanged, so they can share it."""
    from egov.db import dispose_engines, init_db, session_scope
    from egov.imports.metrics import import_metrics
    from egov.store import load_register
    from indicators.framework import resolve_framework

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('corpus') / 'egov.db'}"
    else:
        server = str(request.getfixturevalue("pg_server"))
        url = create_pg_database(server)
    import tomllib

    init_db(url)
    seed = tmp_path_factory.mktemp("seed") / "seed.csv"
    seed.write_text("object,indicator,value\nGOV_CLOUD,infra_uptime,99.9\nONE_ACCOUNT,app_takeup,61\n")
    with session_scope(url) as session:
        load_register(session, tomllib.loads(REGISTER.read_text(encoding="utf-8")))
        import_metrics(session, seed, "2024", resolve_framework("macau"), operator="seed")
    try:
        yield url
    finally:
        dispose_engines()
        if request.param == "postgresql":
            release(url, server)


def snapshot(url: str) -> dict[str, object]:
    """Row counts of every table the imports touch, and content hashes of metric_value and
    the register."""
    from egov.db import get_engine

    out: dict[str, object] = {}
    with get_engine(url).connect() as conn:
        for t in TABLES:
            out[t] = conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one()
        for t, order in (("metric_value", "id"), ("assessed_object", "code"), ("department", "code")):
            rows = conn.execute(text(f"SELECT * FROM {t} ORDER BY {order}")).all()
            out[f"{t}#sha256"] = hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest()
    return out


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_file_is_rejected_and_changes_nothing(
    name: str, corpus_db: str, egov, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from egov.settings import reset_settings

    command, message, env = CASES[name]
    monkeypatch.setenv("EGOV_DATABASE_URL", corpus_db)
    monkeypatch.setenv("EGOV_OPERATOR", "pytest")
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.chdir(tmp_path)
    reset_settings()
    try:
        before = snapshot(corpus_db)
        assert before["metric_value"] == 2
        args = ["import", command, BAD / name]
        if command == M:
            args += ["--period", "2024"]
        r = egov(args)
        assert r.code == 1, r.out + r.err
        assert message in r.err, r.err
        assert r.err.startswith("error: ") and "Traceback" not in r.err + r.out
        assert "imported" not in r.out
        assert snapshot(corpus_db) == before
    finally:
        reset_settings()
