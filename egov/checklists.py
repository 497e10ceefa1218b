"""The assessor's own evidence (issue 16 point 4): service checks in the manner of mystery
shopping, recorded in the checklist workbook (egov.checklist_book) and stored as
`ChecklistAnswer` rows; docs/assessment.md, "Service checks".

* `checklist_template`: the workbook of a period for every (checklist, object) pair the
  framework's checklists apply to.
* `import_checklists`: all or nothing, every problem with its sheet and cell; only the
  assessor (`egov.cycle.Actor` in the role `assessor`: the CLI's declared role or an assessor
  key) fills checklists, and never in a published period (`egov.cycle.refuse_published`). A
  re-import supersedes the current answer of each (object, checklist, item) it answers.
* `checklist_values`: at scoring (`egov.scoring.assemble_inputs`), the value of every
  indicator with `source = "checklist"` for every object with answers: the weighted share of
  points (`indicators.model.checklist_share`), in %.
* `answers`: what `egov checklist show` prints.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from sqlmodel import Session, col, select, update

from egov.checklist_book import BookRow, book_meta, build_book, read_book
from egov.cycle import Actor, refuse_published
from egov.errors import EgovError
from egov.models import AssessedObject, Period, utcnow
from egov.models_checklists import ChecklistAnswer
from egov.reader import Problems, open_workbook, read_source
from egov.store import check_period_code, find_period, period_for_import
from egov.template import TemplateObject, template_objects
from indicators.framework import Checklist, Framework, applies, checklist_share

CHECKLIST_ROLE = "assessor"
SOURCE_PREFIX = "checklist:"  # how a checklist-sourced value's source is named (reports.texts)


@dataclass
class ChecklistImport:
    """The outcome of a checklist import (or of a dry run)."""

    file: str
    sha256: str
    period: str
    answers: list[BookRow]
    dry_run: bool = False
    written: int = 0
    superseded: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ShownAnswer:
    """One current answer as `egov checklist show` prints it."""

    object: str
    checklist: str
    item: str
    answer: str
    note: str
    evidence: str
    answered_by: str
    answered_at: datetime
    where: str


def pairs(framework: Framework, objects: list[TemplateObject]) -> list[tuple[Checklist, TemplateObject]]:
    """Every (checklist, object) pair: the objects of the checklist's kind (and, when it
    lists objects, only those), in register order."""
    out = []
    for checklist in framework.checklists.values():
        for obj in objects:
            named = not checklist.objects or obj.code in checklist.objects
            if named and applies(checklist.applies_to, obj.kind, obj.subkind):
                out.append((checklist, obj))
    return out


def checklist_template(
    session: Session, framework: Framework, period: str, lang: str, operator: str
) -> Workbook:
    """The checklist workbook of `period` (egov.checklist_book)."""
    check_period_code(session, period)
    if not framework.checklists:
        raise EgovError(f"framework {framework.code} defines no checklists ([checklists.CODE])")
    return build_book(framework, pairs(framework, template_objects(session, lang)), period, lang, operator)


def check_actor(actor: Actor) -> None:
    """Only the assessor fills checklists: the checks are the assessor's own evidence."""
    if actor.role != CHECKLIST_ROLE:
        raise EgovError(f"service checks are the assessor's own evidence: the {actor.role} cannot fill them")


def import_checklists(
    session: Session, path: Path, period: str, framework: Framework, actor: Actor, *, dry_run: bool = False
) -> ChecklistImport:
    """Validate a filled checklist workbook completely, then (unless `dry_run`) store every
    answer with who, when and where in the caller's transaction; raise EgovError listing
    every problem otherwise, and write nothing."""
    check_actor(actor)
    check_period_code(session, period)
    stored = find_period(session, period)
    if stored is not None:
        refuse_published(session, stored.id)
    src = read_source(path, ("xlsx",))
    wb = open_workbook(src)
    meta = book_meta(wb, src.name)
    problems = Problems()
    if meta.get("period") != period:
        problems.add(
            "sheet '_meta'", f"the workbook is for period {meta.get('period')!r}, the import for {period!r}"
        )
    if meta.get("framework_hash") != framework.content_hash:
        problems.add(
            "sheet '_meta'",
            f"the workbook was made for another version of framework {meta.get('framework_code')!r} "
            "(content hash differs); make a new one with `egov checklist template`",
        )
    rows = read_book(wb, problems)
    objects = {o.code: o for o in template_objects(session)}
    allowed = {(c.code, o.code) for c, o in pairs(framework, list(objects.values()))}
    _check_rows(rows, framework, allowed, problems)
    problems.raise_if_any(src.name)
    if not rows:
        raise EgovError(f"{src.name}: no answers found; nothing was imported")
    report = ChecklistImport(src.name, src.sha256, period, rows, dry_run=dry_run)
    if dry_run:
        return report
    period_row = period_for_import(session, period)
    report.superseded, report.written = _store(
        session, period_row, rows, framework, actor, src.name, src.sha256
    )
    return report


def _check_rows(
    rows: list[BookRow], framework: Framework, allowed: set[tuple[str, str]], problems: Problems
) -> None:
    seen: dict[tuple[str, str, str], str] = {}
    for row in rows:
        where = f"sheet '{row.sheet}' cell {row.cell}"
        checklist = framework.checklists.get(row.checklist)
        item = checklist.item(row.item) if checklist else None
        if checklist is None or item is None:
            problems.add(
                where, f"unknown checklist item {row.checklist}/{row.item} in framework {framework.code}"
            )
            continue
        if (row.checklist, row.object) not in allowed:
            problems.add(
                where,
                f"checklist {row.checklist} does not apply to object {row.object!r} (unknown, or of another kind)",
            )
        key = (row.checklist, row.object, row.item)
        if key in seen:
            problems.add(where, f"{row.object} / {row.item} is answered twice (also at {seen[key]})")
        seen[key] = row.cell
        if item.max is None and row.answer not in ("yes", "no", "n/a"):
            problems.add(where, f"answer {row.answer!r} for a yes/no item: use yes, no or n/a")
        elif item.max is not None and row.answer in ("yes", "no"):
            problems.add(
                where, f"answer {row.answer!r} for a scored item: use 0 to {item.max} points, or n/a"
            )
        elif item.max is not None and row.points is not None and not 0 <= row.points <= item.max:
            problems.add(where, f"{row.answer} points for an item scored 0 to {item.max}")


def _store(
    session: Session,
    period: Period,
    rows: list[BookRow],
    framework: Framework,
    actor: Actor,
    file: str,
    sha256: str,
) -> tuple[int, int]:
    """Supersede the current answers these rows replace, add the rows; (superseded, written)."""
    ids: dict[str, int] = {
        c: int(i) for c, i in session.exec(select(AssessedObject.code, AssessedObject.id)).all() if i
    }
    now = utcnow()
    superseded = 0
    for row in rows:
        result = session.execute(
            update(ChecklistAnswer)
            .where(
                col(ChecklistAnswer.period_id) == period.id,
                col(ChecklistAnswer.object_id) == ids[row.object],
                col(ChecklistAnswer.checklist) == row.checklist,
                col(ChecklistAnswer.item) == row.item,
                col(ChecklistAnswer.superseded_at).is_(None),
            )
            .values(superseded_at=now)
        )
        superseded += int(getattr(result, "rowcount", 0) or 0)
        session.add(
            ChecklistAnswer(
                period_id=period.id,  # type: ignore[arg-type]
                object_id=ids[row.object],
                checklist=row.checklist,
                item=row.item,
                answer=row.answer,
                points=row.points,
                note=row.note,
                evidence=row.evidence,
                framework_hash=framework.content_hash,
                source_file=file,
                source_hash=sha256,
                sheet=row.sheet[:100],
                cell=row.cell,
                answered_by=actor.name,
                role=actor.role,
                answered_at=now,
            )
        )
    session.flush()
    return superseded, len(rows)


def _current(session: Session, period: Period, obj: str | None = None) -> list[tuple[ChecklistAnswer, str]]:
    stmt = (
        select(ChecklistAnswer, AssessedObject.code)
        .join(AssessedObject, col(AssessedObject.id) == col(ChecklistAnswer.object_id))
        .where(col(ChecklistAnswer.period_id) == period.id, col(ChecklistAnswer.superseded_at).is_(None))
        .order_by(col(AssessedObject.code), col(ChecklistAnswer.checklist), col(ChecklistAnswer.id))
    )
    if obj is not None:
        stmt = stmt.where(col(AssessedObject.code) == obj)
    return [(a, str(code)) for a, code in session.exec(stmt).all()]


def checklist_values(session: Session, framework: Framework, period: Period) -> pd.DataFrame:
    """The long table (unit, indicator, value) of the checklist-sourced indicators: for every
    object with current answers of the indicator's checklist, the weighted share of points in
    % (objects the indicator does not apply to are left to the engine, which ignores them)."""
    nodes = [
        n for n in framework.indicators if n.source == "checklist" and n.checklist in framework.checklists
    ]
    if not nodes:
        return pd.DataFrame(columns=["unit", "indicator", "value"])
    answers: dict[tuple[str, str], dict[str, float | None]] = defaultdict(dict)
    for answer, code in _current(session, period):
        answers[(answer.checklist, code)][answer.item] = answer.points
    rows = []
    for node in nodes:
        checklist = framework.checklists[str(node.checklist)]
        for (code, unit), given in sorted(answers.items()):
            value = checklist_share(checklist, given) if code == checklist.code else None
            if value is not None:
                rows.append({"unit": unit, "indicator": node.code, "value": value})
    return pd.DataFrame(rows, columns=["unit", "indicator", "value"])


def answers(session: Session, period: str, obj: str | None = None) -> list[ShownAnswer]:
    """The current answers of a period (one object's with `obj`), by object and checklist."""
    stored = find_period(session, period)
    if stored is None:
        raise EgovError(f"period {period} is not stored: no checklist answers")
    if (
        obj is not None
        and session.exec(select(AssessedObject.id).where(AssessedObject.code == obj)).first() is None
    ):
        raise EgovError(f"no assessed object {obj!r}")
    return [
        ShownAnswer(
            code,
            a.checklist,
            a.item,
            a.answer,
            a.note,
            a.evidence,
            a.answered_by,
            a.answered_at,
            f"{a.source_file} {a.sheet}!{a.cell}".strip(),
        )
        for a, code in _current(session, stored, obj)
    ]
