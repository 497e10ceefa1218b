"""Metric collection end to end: the register import, `egov template` (checked with openpyxl
and opened by LibreOffice), the template filled by the test, `egov import metrics` (template,
CSV long and wide; dry run; all or nothing; every problem at once), provenance and history,
and `egov score` on the imported values — on SQLite and PostgreSQL where the database matters."""

from __future__ import annotations

import hashlib
import subprocess
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import text
from sqlmodel import select

from egov.db import get_engine, session_scope
from egov.langs import unit_name
from egov.models import AssessedObject
from reports.i18n import t

ROOT = Path(__file__).resolve().parents[2]
REGISTER = ROOT / "egov" / "data" / "macau_register.toml"


def count(url: str, table: str, where: str = "") -> int:
    with get_engine(url).connect() as conn:
        return int(conn.execute(text(f"SELECT COUNT(*) FROM {table} {where}")).scalar_one())


def data_sheets(wb) -> list[Worksheet]:
    return [ws for ws in wb.worksheets if ws.cell(1, 1).value == "_object"]


def fill(path: Path, out: Path, shift: float = 0.0) -> int:
    """Fill every applicable input cell of a template with a valid, varied value (as an
    assessor would, with openpyxl); returns the number of values written."""
    from indicators.framework import resolve_framework

    fw = resolve_framework("macau")
    wb = load_workbook(path)
    n = 0
    for ws in data_sheets(wb):
        for c in range(6, ws.max_column + 1):
            node = fw.nodes[str(ws.cell(1, c).value)]
            lo, hi = node.valid_range or (0.0, 100.0)
            hi = min(hi, lo + 100)
            for r in range(4, ws.max_row + 1):
                cell = ws.cell(r, c)
                if cell.value == "n/a":
                    continue
                frac = ((r * 7 + c * 3) % 11) / 10
                cell.value = round(min(hi, lo + frac * (hi - lo) + shift), 3)
                n += 1
        ws.cell(4, 5).value = "submitted"
        # what assessors do to a workbook: rename sheets and headers, type over visible codes —
        # the import reads the hidden codes, so none of it matters
        ws.title = f"{ws.title[:20]} (filled)"
        ws.cell(3, 6).value = "my own header"
        ws.cell(4, 2).value = "typed over"
    wb.save(out)
    return n


@pytest.fixture
def registered(use_db: str, egov) -> str:
    r = egov(["import", "departments", REGISTER, "--lang", "en"])
    assert r.code == 0, r.err
    assert "73 objects (73 new)" in r.out
    return use_db


# --- the Done-when round trip ------------------------------------------------------------------
@pytest.mark.slow
def test_round_trip_template_fill_import_score(registered: str, egov, tmp_path: Path) -> None:
    url = registered
    r = egov(["template", "--period", "2024", "--out", tmp_path / "t.xlsx", "--lang", "en"])
    assert r.code == 0, r.err
    assert "73 objects" in r.out
    n = fill(tmp_path / "t.xlsx", tmp_path / "filled.xlsx")
    assert n > 800

    dry = egov(
        ["import", "metrics", tmp_path / "filled.xlsx", "--period", "2024", "--dry-run", "--lang", "en"]
    )
    assert dry.code == 0, dry.err
    assert f"dry run: filled.xlsx is valid — {n} values" in dry.out
    assert count(url, "metric_value") == 0 and count(url, "period") == 0

    r = egov(["import", "metrics", tmp_path / "filled.xlsx", "--period", "2024", "--lang", "en"])
    assert r.code == 0, r.err
    assert f"imported filled.xlsx: {n} values for 73 objects" in r.out
    assert count(url, "metric_value") == n
    digest = hashlib.sha256((tmp_path / "filled.xlsx").read_bytes()).hexdigest()
    with get_engine(url).connect() as conn:
        row = conn.execute(
            text(
                "SELECT m.value, m.status, m.source_file, m.source_hash, m.sheet, m.cell, m.imported_by, "
                'm.imported_at, p.start, p."end" FROM metric_value m '
                "JOIN assessed_object o ON o.id = m.object_id JOIN period p ON p.id = m.period_id "
                "WHERE o.code = 'GOV_CLOUD' AND m.indicator = 'infra_uptime'"
            )
        ).one()
    wb = load_workbook(tmp_path / "filled.xlsx")
    infra = data_sheets(wb)[0]
    gov_row = next(r for r in range(4, infra.max_row + 1) if infra.cell(r, 1).value == "GOV_CLOUD")
    assert row[0] == pytest.approx(infra.cell(gov_row, 6).value)
    assert row[2:7] == ("filled.xlsx", digest, infra.title, f"F{gov_row}", "pytest")
    assert row[7] is not None
    assert (str(row[8]), str(row[9])) == ("2024-01-01", "2024-12-31")  # period made from its code

    r = egov(["score", "--period", "2024", "--framework", "macau", "--lang", "en"])
    assert r.code == 0, r.err
    assert "Department ranking, period 2024" in r.out
    assert "ILLUSTRATIVE" not in r.out and t("report.demo_banner", "en") not in r.out  # not the demo's
    with get_engine(url).connect() as conn:
        scored = conn.execute(
            text("SELECT COUNT(DISTINCT entity) FROM run_score WHERE entity_type = 'object'")
        ).scalar_one()
        depts = conn.execute(
            text("SELECT COUNT(DISTINCT entity) FROM run_score WHERE entity_type = 'department'")
        ).scalar_one()
    assert scored == 73 and depts == 20

    # a corrected file supersedes every value and keeps the old ones in the history
    fill(tmp_path / "t.xlsx", tmp_path / "corrected.xlsx", shift=0.5)
    r = egov(["import", "metrics", tmp_path / "corrected.xlsx", "--period", "2024", "--lang", "en"])
    assert r.code == 0, r.err
    assert f"{n} earlier values superseded" in r.out
    assert count(url, "metric_value") == 2 * n
    assert count(url, "metric_value", "WHERE superseded_at IS NULL") == n
    h = egov(["metrics", "history", "GOV_CLOUD", "infra_uptime", "--period", "2024", "--lang", "en"])
    assert h.code == 0, h.err
    assert "filled.xlsx" in h.out and "corrected.xlsx" in h.out
    assert digest[:12] in h.out and "superseded" in h.out and "current" in h.out and "pytest" in h.out
    assert h.out.index("filled.xlsx") < h.out.index("corrected.xlsx")  # oldest first
    r = egov(["score", "--period", "2024", "--framework", "macau"])
    assert r.code == 0, r.err

    bad = egov(["metrics", "history", "NO_SUCH", "infra_uptime"])
    assert bad.code == 1 and "unknown object 'NO_SUCH'" in bad.err
    none = egov(["metrics", "history", "GOV_CLOUD", "infra_uptime", "--period", "2099"])
    assert none.code == 1 and "unknown period '2099'" in none.err


# --- the template as a workbook -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("lang", "instructions", "category"),
    [
        ("en", "Instructions", "Infrastructure"),
        ("pt", "Instruções", "Infra-estruturas"),
        ("zh-Hant", "填寫說明", "基礎設施"),
    ],
)
def test_template_workbook(
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    egov,
    lang: str,
    instructions: str,
    category: str,
) -> None:
    from egov.settings import reset_settings
    from indicators.framework import applies, resolve_framework

    monkeypatch.setenv("EGOV_DATABASE_URL", sqlite_url)
    monkeypatch.chdir(tmp_path)
    reset_settings()
    assert egov(["import", "departments", REGISTER]).code == 0
    r = egov(["template", "--period", "2024Q3", "--lang", lang, "--out", tmp_path / "t.xlsx"])
    assert r.code == 0, r.err
    fw = resolve_framework("macau")
    wb = load_workbook(tmp_path / "t.xlsx")
    assert wb.sheetnames[0] == instructions
    assert wb.sheetnames[1] == category
    assert wb["_meta"].sheet_state == "hidden"
    meta = {row[0].value: row[1].value for row in wb["_meta"].iter_rows(max_col=2, max_row=11)}
    assert meta["framework_code"] == fw.code and meta["framework_hash"] == fw.content_hash
    assert meta["period"] == "2024Q3" and meta["lang"] == lang
    assert wb[instructions].cell(1, 1).value.endswith("2024Q3")

    kinds = {}
    import tomllib

    for code, o in tomllib.loads(REGISTER.read_text(encoding="utf-8"))["objects"].items():
        kinds[code] = (o["kind"], o.get("subkind"))
    seen: list[str] = []
    for ws in data_sheets(wb):
        assert ws.row_dimensions[1].hidden and ws.row_dimensions[2].hidden
        assert ws.column_dimensions["A"].hidden
        assert ws.freeze_panes == "F4"
        assert ws.protection.sheet
        dvs = ws.data_validations.dataValidation
        status_dv = [dv for dv in dvs if dv.type == "list"]
        assert len(status_dv) == 1 and status_dv[0].formula1 == '"submitted"'  # a department never verifies
        for c in range(6, ws.max_column + 1):
            code = ws.cell(1, c).value
            node = fw.nodes[code]
            seen.append(code)
            assert node.source == "metric"
            assert ws.cell(2, c).value == node.unit
            head = ws.cell(3, c).value
            unit = unit_name(node.unit, lang)  # the unit in the template's language
            assert node.label(lang) in head and (f"[{unit}]" in head if unit else "[" not in head)
            assert ("↑" if node.direction > 0 else "↓") in head
            for r in range(4, ws.max_row + 1):
                cell = ws.cell(r, c)
                obj = ws.cell(r, 1).value
                if applies(node.applies_to, *kinds[obj]):
                    covering = [dv for dv in dvs if cell.coordinate in dv.sqref]
                    assert len(covering) == 1, (ws.title, cell.coordinate)
                    dv = covering[0]
                    assert dv.type == "decimal" and dv.operator == "between" and dv.showErrorMessage
                    assert node.valid_range is not None
                    assert float(dv.formula1) == node.valid_range[0]
                    assert float(dv.formula2) == node.valid_range[1]
                    assert dv.prompt and dv.error and dv.showInputMessage
                    assert cell.value is None and not cell.protection.locked
                else:
                    assert cell.value == "n/a" and cell.protection.locked
                    assert not any(cell.coordinate in dv.sqref for dv in dvs)
    metric_codes = [n.code for n in fw.indicators if n.source == "metric"]
    assert sorted(seen) == sorted(metric_codes)  # every collected indicator exactly once
    assert category in {ws.title for ws in data_sheets(wb)}


def test_template_writes_text_safely(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, egov
) -> None:
    """A name that looks like a formula (say, from an old register) is written as text with the
    quote prefix, never as a formula."""
    import zipfile

    from egov.db import init_db, session_scope
    from egov.settings import reset_settings
    from egov.store import load_register

    monkeypatch.setenv("EGOV_DATABASE_URL", sqlite_url)
    reset_settings()
    init_db()
    evil = '=HYPERLINK("http://evil.example","click")'
    with session_scope() as session:
        load_register(
            session,
            {
                "departments": {"D1": {"name": {"en": "+SUM(1)"}}},
                "objects": {"O1": {"department": "D1", "kind": "infrastructure", "name": {"en": evil}}},
            },
        )
    r = egov(["template", "--period", "2024", "--out", tmp_path / "t.xlsx"])
    assert r.code == 0, r.err
    with zipfile.ZipFile(tmp_path / "t.xlsx") as zf:
        for name in zf.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in zf.read(name) and b"<f " not in zf.read(name), name
    ws = data_sheets(load_workbook(tmp_path / "t.xlsx"))[0]
    assert ws.cell(4, 3).value == evil and ws.cell(4, 3).data_type == "s" and ws.cell(4, 3).quotePrefix


@pytest.mark.slow
def test_template_opens_in_libreoffice(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, egov, soffice: str
) -> None:
    """LibreOffice converts the template headless without error, and a filled template saved
    again by LibreOffice still imports (the hidden codes survive a real spreadsheet program)."""
    from egov.settings import reset_settings

    monkeypatch.setenv("EGOV_DATABASE_URL", sqlite_url)
    monkeypatch.chdir(tmp_path)
    reset_settings()
    assert egov(["import", "departments", REGISTER]).code == 0
    assert egov(["template", "--period", "2024", "--lang", "zh-Hant", "--out", tmp_path / "t.xlsx"]).code == 0
    n = fill(tmp_path / "t.xlsx", tmp_path / "filled.xlsx")
    out = tmp_path / "lo"
    profile = f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}"
    for target in ("pdf", "xlsx:Calc MS Excel 2007 XML"):
        proc = subprocess.run(
            [
                soffice,
                profile,
                "--headless",
                "--convert-to",
                target,
                "--outdir",
                out,
                tmp_path / "filled.xlsx",
            ],
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert proc.returncode == 0, proc.stderr
    assert (out / "filled.pdf").stat().st_size > 5_000
    r = egov(["import", "metrics", out / "filled.xlsx", "--period", "2024", "--dry-run", "--lang", "en"])
    assert r.code == 0, r.err
    assert f"{n} values for 73 objects" in r.out


# --- CSV, every problem at once, the register ---------------------------------------------------
def test_csv_long_and_wide(registered: str, egov, tmp_path: Path) -> None:
    url = registered
    long = tmp_path / "long.csv"
    long.write_bytes(
        "\ufeffobject;indicator;value;status;unit\n"
        "GOV_CLOUD;infra_uptime;99.95;submitted;%\n"
        "GOV_CLOUD;infra_mttr;1.5;;hours\n"
        "ONE_ACCOUNT;app_takeup;-0;;\n".encode()
    )
    r = egov(["import", "metrics", long, "--period", "2023", "--lang", "en"])
    assert r.code == 0, r.err
    assert "3 values for 2 objects (csv-long" in r.out
    wide = tmp_path / "wide.csv"
    wide.write_text(
        "object,status,app_takeup [%],app_services_online\nONE_ACCOUNT,reported,67,270\nESIGN_CLOUD,,,12\n"
    )
    r = egov(["import", "metrics", wide, "--period", "2023", "--lang", "en"])
    assert r.code == 0, r.err
    assert "3 values for 2 objects (csv-wide" in r.out and "1 earlier values superseded" in r.out
    with get_engine(url).connect() as conn:
        rows = conn.execute(
            text(
                "SELECT o.code, m.indicator, m.value, m.status, m.cell, m.sheet FROM metric_value m "
                "JOIN assessed_object o ON o.id = m.object_id WHERE m.superseded_at IS NULL "
                "ORDER BY o.code, m.indicator"
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        ("ESIGN_CLOUD", "app_services_online", 12.0, "submitted", "R3C4", ""),
        ("GOV_CLOUD", "infra_mttr", 1.5, "submitted", "R3C3", ""),
        ("GOV_CLOUD", "infra_uptime", 99.95, "submitted", "R2C3", ""),
        ("ONE_ACCOUNT", "app_services_online", 270.0, "submitted", "R2C4", ""),  # "reported": older word
        ("ONE_ACCOUNT", "app_takeup", 67.0, "submitted", "R2C3", ""),
    ]


def test_every_problem_is_reported_at_once(registered: str, egov, tmp_path: Path) -> None:
    url = registered
    assert egov(["template", "--period", "2024", "--out", tmp_path / "t.xlsx"]).code == 0
    wb = load_workbook(tmp_path / "t.xlsx")
    infra, app, mgmt = data_sheets(wb)
    infra["F4"] = 101  # out of range
    infra["G4"] = "=1/0"  # formula
    app["F5"] = "lots"  # wrong type
    app.merge_cells("H6:I6")  # merged
    mgmt["A4"] = "GHOST"  # unknown object
    wb.save(tmp_path / "bad.xlsx")
    r = egov(["import", "metrics", tmp_path / "bad.xlsx", "--period", "2024"])
    assert r.code == 1
    for where in (
        f"sheet '{infra.title}' cell F4: out of range",
        f"sheet '{infra.title}' cell G4: a formula (=1/0)",
        f"sheet '{app.title}' cell F5: wrong type",
        f"sheet '{app.title}' cells H6:I6: merged cells",
        f"sheet '{mgmt.title}' cell A4: unknown object 'GHOST'",
    ):
        assert where in r.err, r.err
    assert "problems found; nothing was imported" in r.err
    assert count(url, "metric_value") == 0 and count(url, "period") == 0

    csv = tmp_path / "bad.csv"
    csv.write_text(
        "object,indicator,value\nGOV_CLOUD,infra_uptime,x\nNOPE,infra_uptime,1\nGOV_CLOUD,bogus,1\n"
    )
    r = egov(["import", "metrics", csv, "--period", "2024"])
    assert r.code == 1
    assert "3 problems found" in r.err
    assert "line 2, column 3 (value)" in r.err and "line 3, column 1 (object)" in r.err
    assert "line 4, column 2 (indicator)" in r.err
    assert count(url, "metric_value") == 0


def test_register_csv_and_xlsx(registered: str, egov, tmp_path: Path) -> None:
    from openpyxl import Workbook

    url = registered
    before = count(url, "assessed_object")
    csv = tmp_path / "register.csv"
    csv.write_text(
        "type,code,name_zh-Hant,name_pt,name_en,peer_group,department,kind,subkind\n"
        "peer_group,regulators,監管部門,Reguladores,Regulators,,,,\n"
        "department,ARM,澳門金融管理局,Autoridade,Regulator,regulators,,,\n"
        "object,ARM_PORTAL,網站,Portal,Portal,,ARM,application,\n"
        "object,ARM_SEC,資安,Segurança,Security,,ARM,management,security\n"
    )
    r = egov(["import", "departments", csv, "--dry-run", "--lang", "en"])
    assert r.code == 0 and "dry run" in r.out and count(url, "assessed_object") == before
    r = egov(["import", "departments", csv, "--lang", "en"])
    assert r.code == 0, r.err
    assert "1 peer groups (1 new), 1 departments (1 new), 2 objects (2 new)" in r.out
    assert count(url, "assessed_object") == before + 2

    wb = Workbook()
    ws = wb.active
    ws.title = "register"
    ws.append(["type", "code", "name_en", "department", "kind"])
    ws.append(["object", "ARM_PORTAL", "Portal (renamed)", "ARM", "application"])
    ws.append(["object", "ARM_DATA", "Data centre", "ARM", "infrastructure"])
    wb.save(tmp_path / "register.xlsx")
    r = egov(["import", "departments", tmp_path / "register.xlsx", "--lang", "en"])
    assert r.code == 0, r.err
    assert "2 objects (1 new)" in r.out
    with get_engine(url).connect() as conn:
        assert conn.execute(
            text("SELECT name_en FROM assessed_object WHERE code='ARM_PORTAL'")
        ).scalar_one() == ("Portal (renamed)")
    r = egov(["template", "--period", "2024", "--out", tmp_path / "t.xlsx", "--lang", "en"])
    assert r.code == 0 and "76 objects" in r.out


def test_imports_need_a_register_and_a_sensible_period(use_db: str, egov, tmp_path: Path) -> None:
    csv = tmp_path / "v.csv"
    csv.write_text("object,indicator,value\nGOV_CLOUD,infra_uptime,99\n")
    r = egov(["import", "metrics", csv, "--period", "2024"])
    assert r.code == 1 and "no assessed objects registered" in r.err
    assert egov(["import", "departments", REGISTER]).code == 0
    r = egov(["import", "metrics", csv, "--period", "last-year"])
    assert r.code == 1 and "period 'last-year' is not stored" in r.err
    r = egov(["template", "--period", "2024", "--out", tmp_path / "t.csv"])
    assert r.code == 1 and "name it *.xlsx" in r.err
    r = egov(["import", "metrics", tmp_path / "missing.csv", "--period", "2024"])
    assert r.code == 1 and "no such file" in r.err


def test_period_bounds() -> None:
    from egov.store import period_bounds

    assert period_bounds("2024") == (date(2024, 1, 1), date(2024, 12, 31))
    assert period_bounds("2024Q1") == (date(2024, 1, 1), date(2024, 3, 31))
    assert period_bounds("2024Q4") == (date(2024, 10, 1), date(2024, 12, 31))
    assert period_bounds("2024H2") == (date(2024, 7, 1), date(2024, 12, 31))
    assert period_bounds("2024Q5") is None and period_bounds("2024H3") is None
    assert period_bounds("FY24") is None


def test_register_marks_internal_systems_not_citizen_facing(registered: str, egov, tmp_path: Path) -> None:
    """citizen_facing: false in TOML and no/false/0 in a table make an internal system (no
    rating tokens); the default is true; another word is a problem at its cell."""
    with get_engine(registered).connect() as conn:
        facing: dict[str, bool] = dict(
            conn.execute(text("SELECT code, citizen_facing FROM assessed_object")).all()
        )
    assert not facing["DOC_FILE_SYSTEM"] and not facing["G2E_PLATFORM"]  # from the built-in TOML
    assert facing["ONE_ACCOUNT"] and facing["GOV_CLOUD"]  # not marked: true
    csv = tmp_path / "register.csv"
    header = "type,code,name_en,department,kind,citizen_facing\n"
    csv.write_text(
        header
        + "object,SAFP_INTRANET,Intranet,SAFP,application,no\nobject,SAFP_FORMS,Forms,SAFP,application,\n"
    )
    r = egov(["import", "departments", csv])
    assert r.code == 0, r.err
    with get_engine(registered).connect() as conn:
        got: dict[str, bool] = dict(
            conn.execute(
                text(
                    "SELECT code, citizen_facing FROM assessed_object WHERE code IN ('SAFP_INTRANET', 'SAFP_FORMS')"
                )
            ).all()
        )
    assert got == {"SAFP_INTRANET": False, "SAFP_FORMS": True}
    csv.write_text(header + "object,SAFP_INTRANET,Intranet,SAFP,application,maybe\n")
    r = egov(["import", "departments", csv])
    assert (
        r.code == 1
        and "citizen_facing 'maybe' must be true or false" in r.err
        and "line 2, column 6" in r.err
    )


def test_register_stores_context_figures_and_refuses_bad_ones(registered: str, egov, tmp_path: Path) -> None:
    """`[[objects.CODE.context]]`: published figures about an object that are not scored,
    stored with it (the built-in register's open-data platform has the paper's 654 and 55);
    a figure without a number, with an unknown unit or without its quotation is a problem
    at its key path, and nothing is written."""
    with session_scope(registered) as s:
        platform = s.exec(select(AssessedObject).where(AssessedObject.code == "OPEN_DATA_PLATFORM")).one()
        assert [(f["value"], f["unit"], f["paper"]) for f in platform.context or []] == [
            (654.0, "data sets", "§三(三)(3)"),
            (55.0, "data sets", "§四(二)"),
        ]
        assert s.exec(select(AssessedObject).where(AssessedObject.code == "GOV_CLOUD")).one().context is None
    bad = tmp_path / "register.toml"
    bad.write_text(
        '[objects.OPEN_DATA_PLATFORM]\nname = { en = "Open data" }\ndepartment = "SAFP"\nkind = "application"\n'
        '[[objects.OPEN_DATA_PLATFORM.context]]\nname = { en = "Data sets" }\nvalue = "many"\n'
        'unit = "parsecs"\nperiod = "2023"\npaper = "§1"\n',
        encoding="utf-8",
    )
    r = egov(["import", "departments", bad])
    assert r.code == 1
    for problem in ("context[0].value", "context[0].unit", "context[0].quote"):
        assert f"objects.OPEN_DATA_PLATFORM.{problem}" in r.err, (problem, r.err)
    with session_scope(registered) as s:
        platform = s.exec(select(AssessedObject).where(AssessedObject.code == "OPEN_DATA_PLATFORM")).one()
        assert len(platform.context or []) == 2
