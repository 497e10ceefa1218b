"""A small world for the service checks (egov.checklists): a framework of one application
category with a metric indicator and a checklist-sourced one, two departments with two
application services each, and filling the checklist workbook like an assessor."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from tests.helpers.databases import from_template

FRAMEWORK = """
[framework]
code = "checks"
version = "1"
name = { zh-Hant = "檢查", pt = "Verificação", en = "Checks" }

[checklists.svc]
name = { zh-Hant = "服務檢查", pt = "Verificação", en = "Service check" }
applies_to = "application"

[checklists.svc.items.found]
name = { zh-Hant = "找到", pt = "Encontrado", en = "Found online" }
weight = 1

[checklists.svc.items.done]
name = { zh-Hant = "辦結", pt = "Concluído", en = "Completed end to end" }
weight = 2

[checklists.svc.items.eid]
name = { zh-Hant = "電子身份", pt = "e-ID", en = "e-ID accepted" }
weight = 1

[checklists.svc.items.help]
name = { zh-Hant = "協助", pt = "Ajuda", en = "Help available" }
weight = 2
max = 4

[categories.app]
name = { zh-Hant = "應用", pt = "Aplicações", en = "Applications" }
applies_to = "application"

[categories.app.indicators.takeup]
name = { zh-Hant = "使用率", pt = "Adesão", en = "Take-up" }
unit = "%"
direction = 1
source = "metric"
rationale = "test"

[categories.app.indicators.checked]
name = { zh-Hant = "檢查得分", pt = "Verificação", en = "Checked" }
unit = "%"
direction = 1
source = "checklist"
checklist = "svc"
rationale = "test"
"""

REGISTER: dict[str, Any] = {
    "departments": {
        "D1": {"name": {"zh-Hant": "甲", "pt": "A", "en": "A"}},
        "D2": {"name": {"zh-Hant": "乙", "pt": "B", "en": "B"}},
    },
    "objects": {
        "A1": {"department": "D1", "kind": "application", "name": {"en": '=HYPERLINK("x")'}},
        "A2": {"department": "D1", "kind": "application", "name": {"en": "App 2"}},
        "B1": {"department": "D2", "kind": "application", "name": {"en": "App 3"}},
        "B2": {"department": "D2", "kind": "application", "name": {"en": "App 4"}},
        "M1": {"department": "D2", "kind": "management", "subkind": "administrative", "name": {"en": "Mgmt"}},
    },
}


def setup_world(url: str, folder: Path) -> Path:
    """Schema, the register and the framework stored; the framework file's path. An empty
    database gets a copy of the world built once per test process (tests/helpers/databases.py)."""
    path = folder / "checks.toml"
    path.write_text(FRAMEWORK, encoding="utf-8")
    from_template(url, "checklists", _build_world)
    return path


def _build_world(url: str) -> None:
    from egov.db import init_db, session_scope
    from egov.store import load_register, store_framework
    from indicators.framework import parse_framework

    init_db(url)
    with session_scope(url) as s:
        load_register(s, REGISTER)
        store_framework(s, parse_framework(FRAMEWORK), FRAMEWORK)


def fill(
    path: Path, answers: dict[tuple[str, str], Any], out: Path, **extra: dict[tuple[str, str], str]
) -> None:
    """Fill the workbook's answer cells (object, item) → answer; `note`/`evidence` likewise."""
    wb = load_workbook(path)
    ws = next(w for w in wb.worksheets if w.cell(1, 1).value == "_checklist")
    codes = {ws.cell(1, c).value: c for c in range(1, ws.max_column + 1)}
    for r in range(3, ws.max_row + 1):
        key = (ws.cell(r, codes["_object"]).value, ws.cell(r, codes["_item"]).value)
        if key in answers:
            ws.cell(r, codes["answer"]).value = answers[key]
        for column, values in extra.items():
            if key in values:
                ws.cell(r, codes[column]).value = values[key]
    wb.save(out)


def answer_cell(path: Path, obj: str, item: str) -> str:
    """The coordinate of the answer cell of (object, item) in the workbook."""
    wb = load_workbook(path)
    ws = next(w for w in wb.worksheets if w.cell(1, 1).value == "_checklist")
    codes = {ws.cell(1, c).value: c for c in range(1, ws.max_column + 1)}
    for r in range(3, ws.max_row + 1):
        if (ws.cell(r, codes["_object"]).value, ws.cell(r, codes["_item"]).value) == (obj, item):
            return str(ws.cell(r, codes["answer"]).coordinate)
    raise AssertionError((obj, item))
