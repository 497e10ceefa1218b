"""The assessor's service checks (egov.checklists, `egov checklist`, issue 16 point 4): the
framework format's checks, the workbook round trip into indicator values, an all-or-nothing
import naming the bad cell, the documented weighted share, the assessor only, and a
published period refused. On SQLite and PostgreSQL where the database matters."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from egov.checklists import checklist_values, import_checklists
from egov.cycle import Actor
from egov.errors import EgovError
from egov.models_checklists import ChecklistAnswer
from indicators.framework import checklist_share, parse_framework
from tests.helpers.checklists import FRAMEWORK, answer_cell, fill, setup_world

ANSWERS = {("A1", "found"): "yes", ("A1", "done"): "no", ("A1", "eid"): "n/a", ("A1", "help"): 3}


def problems_of(text: str) -> list[str]:
    with pytest.raises(EgovError) as info:
        parse_framework(text)
    return info.value.problems


def test_format_errors_are_named() -> None:
    unknown = problems_of(FRAMEWORK.replace('checklist = "svc"', 'checklist = "nope"'))
    assert any("indicators.checked.checklist: unknown checklist 'nope' (defined: svc)" in p for p in unknown)
    weights = problems_of(FRAMEWORK.replace("weight = 2\nmax = 4", "weight = 0\nmax = 40"))
    assert any("checklists.svc.items.help.weight: must be a number > 0" in p for p in weights)
    assert any(
        "checklists.svc.items.help.max: must be a whole number of points from 1 to 10" in p for p in weights
    )
    duplicate = problems_of(
        FRAMEWORK.replace("[checklists.svc", "[checklists.takeup").replace('"svc"', '"takeup"')
    )
    assert any(
        "checklists.takeup: duplicate code 'takeup': already used at categories.app" in p for p in duplicate
    )
    missing = problems_of(FRAMEWORK.replace('checklist = "svc"\n', ""))
    assert any('checked.checklist: required for source = "checklist"' in p for p in missing)
    stray = problems_of(FRAMEWORK.replace('source = "metric"', 'source = "metric"\nchecklist = "svc"'))
    assert any('takeup.checklist: only allowed with source = "checklist"' in p for p in stray)


def test_the_value_is_the_documented_weighted_share() -> None:
    fw = parse_framework(FRAMEWORK)
    svc = fw.checklists["svc"]
    # docs/framework-format.md: 100 × Σ w·a/max / Σ w over the items checked, n/a left out:
    # found yes (1 × 1) + done no (2 × 0) + help 3 of 4 (2 × 0.75), eid n/a → 2.5 / 5 = 50 %
    assert checklist_share(svc, {"found": 1, "done": 0, "eid": None, "help": 3}) == pytest.approx(50.0)
    assert checklist_share(svc, {"eid": None}) is None
    assert checklist_share(svc, {"found": 1}) == pytest.approx(100.0)


def test_round_trip_into_indicator_values(use_db: str, tmp_path: Path, egov) -> None:
    fw_path = setup_world(use_db, tmp_path)
    book, filled = tmp_path / "book.xlsx", tmp_path / "filled.xlsx"
    r = egov(["checklist", "template", "2025", "--out", book, "--framework", fw_path, "--lang", "en"])
    assert r.code == 0, r.err
    assert "16 rows" in r.out  # 4 application services × 4 items; the management object has none
    fill(book, {**ANSWERS, ("B1", "found"): "yes"}, filled, note={("A1", "found"): "+see ticket 4"})
    r = egov(["checklist", "import", filled, "--period", "2025", "--framework", fw_path, "--as", "assessor"])
    assert r.code == 0, r.err
    from egov.db import session_scope
    from egov.scoring import assemble_inputs
    from egov.store import find_period

    with session_scope(use_db) as s:
        period = find_period(s, "2025")
        assert period is not None
        values = checklist_values(s, parse_framework(FRAMEWORK), period).set_index("unit")["value"]
        assert values.to_dict() == pytest.approx({"A1": 50.0, "B1": 100.0})
        data, _notes = assemble_inputs(s, parse_framework(FRAMEWORK), period)
        assert set(data["indicator"]) == {"checked"}
        stored = s.exec(select(ChecklistAnswer).where(ChecklistAnswer.item == "found")).all()
        assert {a.answered_by.startswith("cli:") and a.role == "assessor" for a in stored} == {True}
        assert any(a.note == "+see ticket 4" and a.sheet and a.cell for a in stored)  # stored as text
    shown = egov(["checklist", "show", "2025", "--object", "A1", "--lang", "en"])
    assert shown.code == 0 and "+see ticket 4" in shown.out and "B1" not in shown.out


def test_a_bad_cell_is_named_and_nothing_is_imported(use_db: str, tmp_path: Path, egov) -> None:
    fw_path = setup_world(use_db, tmp_path)
    book, filled = tmp_path / "book.xlsx", tmp_path / "filled.xlsx"
    assert egov(["checklist", "template", "2025", "--out", book, "--framework", fw_path]).code == 0
    fill(book, {**ANSWERS, ("A2", "found"): "maybe", ("B1", "help"): 7}, filled)
    r = egov(["checklist", "import", filled, "--period", "2025", "--framework", fw_path, "--as", "assessor"])
    assert r.code == 1
    assert f"cell {answer_cell(book, 'A2', 'found')}: answer 'maybe'" in r.err
    assert f"cell {answer_cell(book, 'B1', 'help')}: 7 points for an item scored 0 to 4" in r.err
    from egov.db import session_scope

    with session_scope(use_db) as s:
        assert s.exec(select(ChecklistAnswer)).all() == []


def test_only_the_assessor_and_never_a_published_period(use_db: str, tmp_path: Path) -> None:
    from egov.auth import create_key, principal_of_key
    from egov.cycle import open_cycle, publish
    from egov.db import session_scope
    from egov.models import AssessmentCycle

    fw_path = setup_world(use_db, tmp_path)
    fw = parse_framework(fw_path.read_text(encoding="utf-8"))
    with session_scope(use_db) as s:
        _key, row = create_key(s, "department", "D1", "D1 back end")
        key_id = int(row.id or 0)
    with session_scope(use_db) as s:
        principal = principal_of_key(s, key_id)
        assert principal is not None
        department = Actor.of_key(principal)
        with pytest.raises(EgovError, match="the department cannot fill them"):
            import_checklists(s, tmp_path / "none.xlsx", "2025", fw, department)
        lead = Actor("test:lead", "lead")
        open_cycle(s, "2025", lead, "")
        cycle = s.exec(select(AssessmentCycle)).one()
        cycle.state = "final"  # the moves before need runs; the rule reads the state only
        s.add(cycle)
        s.flush()
        publish(s, "2025", lead, "approved")
        with pytest.raises(EgovError, match="period 2025 is published"):
            import_checklists(s, tmp_path / "none.xlsx", "2025", fw, Actor("test:assessor", "assessor"))
