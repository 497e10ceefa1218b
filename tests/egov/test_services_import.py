"""`egov import services` (issue 17 point 1): the service-item catalogue from TOML, CSV or XLSX,
validated first and all or nothing, every problem named by key path, line and column, or sheet
and cell; a re-import edits the items in place; `egov services list|show` in three languages.
On SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import text

from egov.errors import EgovError
from tests.helpers.cli import EgovCli
from tests.helpers.register import setup_register

CATALOGUE = str(Path(__file__).resolve().parents[2] / "egov" / "data" / "macau_services.toml")
HEADER = "code,name_zh-Hant,name_pt,name_en,department,channels,objects,active,note\n"


@pytest.fixture
def world(use_db: str) -> str:
    setup_register()
    return use_db


def _import(path: Path, dry_run: bool = False) -> object:
    from egov.db import session_scope
    from egov.imports.services import import_services

    with session_scope() as s:
        return import_services(s, path, dry_run=dry_run)


def _count() -> int:
    from egov.db import session_scope

    with session_scope() as s:
        return int(s.execute(text("SELECT COUNT(*) FROM service_item")).scalar() or 0)


def test_builtin_catalogue_imports_and_reimports_in_place(world: str, egov: EgovCli) -> None:
    dry = egov(["import", "services", CATALOGUE, "--dry-run", "--lang", "en"])
    assert dry.code == 0 and "dry run" in dry.out and _count() == 0
    done = egov(["import", "services", CATALOGUE, "--lang", "en"])
    assert done.code == 0 and "(14 new, 0 changed)" in done.out, done.out
    again = egov(["import", "services", CATALOGUE, "--lang", "en"])
    assert "(0 new, 0 changed)" in again.out
    listed = egov(["services", "list", "--department", "DSF", "--lang", "pt"])
    assert listed.code == 0 and "DSF_VEHICLE_TAX" in listed.out and "DSI_EID" not in listed.out
    assert "circulação" in listed.out and "aplicação" in listed.out  # (cells wrap in the table)
    shown = egov(["services", "show", "DSF_VEHICLE_TAX"])
    assert "繳納車輛使用牌照稅" in shown.out and "VEHICLE_TAX_ONLINE" in shown.out
    missing = egov(["services", "show", "NOPE", "--lang", "en"])
    assert missing.code == 1 and "No service item NOPE" in missing.err


def test_reimport_edits_in_place(world: str, tmp_path: Path) -> None:
    from egov.db import session_scope

    f = tmp_path / "s.csv"
    f.write_text(
        HEADER + "DSF_X,車輛稅,,Vehicle tax,DSF,app;web,ONE_ACCOUNT VEHICLE_TAX_ONLINE,yes,\n", "utf-8"
    )
    _import(f)
    with session_scope() as s:
        first = s.execute(text("SELECT id FROM service_item WHERE code = 'DSF_X'")).scalar()
    f.write_text(
        HEADER + "DSF_X,車輛稅,,Vehicle circulation tax,DSF,web,VEHICLE_TAX_ONLINE,no,moved\n", "utf-8"
    )
    report = _import(f)
    assert (report.count, report.new, report.changed) == (1, 0, 1)  # type: ignore[attr-defined]
    with session_scope() as s:
        row = s.execute(
            text("SELECT id, name_en, channels, active, note FROM service_item WHERE code = 'DSF_X'")
        ).one()
        objs = (
            s.execute(
                text(
                    "SELECT o.code FROM service_object so JOIN assessed_object o ON o.id = so.object_id "
                    "WHERE so.service_id = :i"
                ),
                {"i": first},
            )
            .scalars()
            .all()
        )
    assert tuple(row) == (first, "Vehicle circulation tax", "web", False, "moved")
    assert objs == ["VEHICLE_TAX_ONLINE"]


def test_csv_problems_are_named_and_nothing_is_written(world: str, tmp_path: Path) -> None:
    f = tmp_path / "bad.csv"
    f.write_text(
        HEADER
        + "OK_ONE,好,,Good,DSF,app,ONE_ACCOUNT,,\n"
        + "BAD_DEPT,名,,Name,NOPE,app,,,\n"
        + "BAD_CHAN,名,,Name,DSF,app;fax,,,\n"
        + "BAD_OBJ,名,,Name,DSF,web,GOV_CLOUD NOPE_OBJ,,\n"
        + "BAD_ACTIVE,名,,Name,DSF,web,,maybe,\n"
        + "OK_ONE,重,,Again,DSF,app,,,\n"
        + "NO_NAME,,,,DSF,app,,,\n"
        + "FORMULA,=1+1,,Name,DSF,app,,,\n",
        "utf-8",
    )
    with pytest.raises(EgovError) as e:
        _import(f)
    problems = "\n".join(e.value.problems)
    assert "line 3, column 5 (department): unknown department 'NOPE'" in problems
    assert (
        "line 4, column 6 (channels): channel 'fax' is not one of app, web, counter, kiosk, hotline"
        in problems
    )
    assert "line 5, column 7 (objects): object 'GOV_CLOUD' is not a citizen-facing application" in problems
    assert "line 5, column 7 (objects): unknown object 'NOPE_OBJ'" in problems
    assert "line 6, column 8 (active): active 'maybe' must be true or false" in problems
    assert (
        "line 7, column 1 (code): duplicate service item 'OK_ONE' (also at line 2, column 1 (code))"
        in problems
    )
    assert "line 8, column 2 (name_zh-Hant): empty required cell" in problems
    assert "line 9, column 2 (name_zh-Hant)" in problems and "formula" in problems
    assert str(e.value).startswith("bad.csv: ")
    assert _count() == 0  # all or nothing


def test_toml_and_xlsx_problems_are_named(world: str, tmp_path: Path) -> None:
    f = tmp_path / "bad.toml"
    f.write_text(
        '[services.A]\nname = { en = "A", xx = "?" }\ndepartment = "DSF"\nchannels = "app"\ncolour = 1\n'
        '[services.B]\nname = { en = "B" }\ndepartment = "DSF"\nchannels = ["app", "app"]\n',
        "utf-8",
    )
    with pytest.raises(EgovError) as e:
        _import(f)
    problems = "\n".join(e.value.problems)
    assert "services.A.colour: unknown key" in problems
    assert "services.A.name.xx: unknown language 'xx'" in problems
    assert "services.A.channels: wrong type — channels must be a list of codes" in problems
    assert "services.B.channels: channels named twice: app" in problems
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "services"
    ws.append(HEADER.strip().split(","))
    ws.append(["X_ONE", "一", None, "One", "DSF", "app", None, None, None])
    ws.append(["X_TWO", "二", None, "Two", "DSF", "pigeon", None, None, None])
    book = tmp_path / "bad.xlsx"
    wb.save(book)
    with pytest.raises(EgovError) as e:
        _import(book)
    assert any(p.startswith("sheet 'services' cell F3: channel 'pigeon'") for p in e.value.problems), (
        e.value.problems
    )
    assert _count() == 0
