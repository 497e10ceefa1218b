"""`egov import services`: validated, all-or-nothing import of the service-item catalogue (事項)
from TOML (the shape of egov/data/macau_services.toml) or a CSV / XLSX table with the columns of
SERVICE_COLUMNS; every problem with its key path, or line and column, or sheet and cell. A
re-import edits the items it names in place (names, owner, channels, objects, active, note) and
leaves the others as they are: an item is never deleted (its ratings name it), it is set
`active = false`. The owning departments and the objects must be in the register already."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from egov.cells import FORMULA_PREFIXES, control_problem
from egov.errors import EgovError
from egov.imports.register import REGISTER_CODE_RE, FieldCount, Table, table_from_csv, table_from_xlsx
from egov.imports.values import parse_text
from egov.langs import LANGUAGES
from egov.models import AssessedObject, Department, utcnow
from egov.models_services import CHANNELS, ServiceItem, ServiceObject
from egov.reader import Problems, SourceFile, decode_text, formula_injection, read_source

SERVICE_COLUMNS = (
    "code",
    "name_zh-Hant",
    "name_pt",
    "name_en",
    "department",
    "channels",
    "objects",
    "active",
    "note",
)
_KEYS = ("name", "department", "channels", "objects", "active", "note")
_NAME_COLUMNS = {"name_zh-hant": "zh-Hant", "name_zh": "zh-Hant", "name_pt": "pt", "name_en": "en"}
_BOOLEAN_CELLS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
_LIST_SEPARATORS = re.compile(r"[,;\s]+")
CODE_LIMIT = 50

_Where = dict[tuple[str, str], str]  # (code, key) → location


@dataclass
class ServiceImport:
    file: str
    sha256: str
    count: int  # service items in the file
    new: int  # not in the catalogue before
    changed: int  # in the catalogue, edited by this file
    dry_run: bool = False


@dataclass(frozen=True)
class _Item:
    code: str
    names: dict[str, str]
    department_id: int
    channels: tuple[str, ...]
    object_ids: tuple[int, ...]
    active: bool
    note: str


def import_services(session: Session, path: Path, *, dry_run: bool = False) -> ServiceImport:
    """Validate a service-item catalogue file and, unless `dry_run`, load it (new items
    created, named ones edited in place), in the caller's transaction."""
    src = read_source(path, ("toml", "csv", "xlsx"))
    problems = Problems()
    if src.kind == "toml":
        entries, where = _from_toml(src, problems)
    else:
        table = table_from_csv(src) if src.kind == "csv" else table_from_xlsx(src, problems, sheet="services")
        entries, where = _from_table(table, problems)
    items = _validate(session, entries, where, problems)
    problems.raise_if_any(src.name)
    if not items:
        raise EgovError(f"{src.name}: no service items found; nothing was imported")
    stored = {
        s.code: s for s in session.exec(select(ServiceItem).where(col(ServiceItem.code).in_(list(items))))
    }
    links = _links(session, [int(s.id or 0) for s in stored.values()])
    changed = [c for c, s in stored.items() if _state(s, links.get(int(s.id or 0), ())) != _wanted(items[c])]
    report = ServiceImport(src.name, src.sha256, len(items), len(items) - len(stored), len(changed), dry_run)
    if not dry_run:
        for code, item in items.items():
            if code not in stored or code in changed:
                _write(session, stored.get(code), item, src.name)
    return report


def _from_toml(src: SourceFile, problems: Problems) -> tuple[dict[str, dict[str, Any]], _Where]:
    try:
        raw = tomllib.loads(decode_text(src))
    except tomllib.TOMLDecodeError as exc:
        raise EgovError(f"{src.name}: not valid TOML — {exc}") from exc
    entries: dict[str, dict[str, Any]] = {}
    where: _Where = {}
    for key, value in raw.items():
        if key != "services":
            problems.add(key, "unknown table; expected services")
            continue
        if not isinstance(value, dict):
            problems.add(key, "must be a table of service items")
            continue
        for code, entry in value.items():
            path = f"services.{code}"
            if not isinstance(entry, dict):
                problems.add(path, "must be a table")
                continue
            for k in entry:
                if k not in _KEYS:
                    problems.add(f"{path}.{k}", f"unknown key; allowed: {', '.join(_KEYS)}")
            entries[code] = entry
            where[(code, "")] = path
            where.update({(code, k): f"{path}.{k}" for k in _KEYS})
            if isinstance(entry.get("name"), dict):
                where.update({(code, f"name.{lang}"): f"{path}.name.{lang}" for lang in entry["name"]})
    return entries, where


def _from_table(table: Table, problems: Problems) -> tuple[dict[str, dict[str, Any]], _Where]:
    entries: dict[str, dict[str, Any]] = {}
    where: _Where = {}
    cols: dict[str, int] = {}
    known = {c.lower() for c in SERVICE_COLUMNS} | set(_NAME_COLUMNS)
    for i, h in enumerate(table.header):
        if h.startswith(FORMULA_PREFIXES):
            problems.add(table.header_where[i], formula_injection(h))
        elif h.lower() not in known:
            problems.add(
                table.header_where[i], f"unknown column {h!r}; expected {', '.join(SERVICE_COLUMNS)}"
            )
        elif h.lower() in cols:
            problems.add(table.header_where[i], f"duplicate column {h!r}")
        else:
            cols[h.lower()] = i
    if "code" not in cols:
        problems.add(table.header_where[0] if table.header_where else "line 1", "no 'code' column")
        return entries, where
    for vals, locs in table.rows:
        if isinstance(vals[0], FieldCount):
            problems.add(locs[0], f"{vals[0].got} fields, the header has {vals[0].want}")
            continue
        _row(vals, locs, cols, problems, entries, where)
    return entries, where


def _row(
    vals: list[Any],
    locs: list[str],
    cols: dict[str, int],
    problems: Problems,
    entries: dict[str, dict[str, Any]],
    where: _Where,
) -> None:
    """One row of a catalogue table: an entry and where each of its fields is."""
    texts: dict[str, str | None] = {}
    for key, i in cols.items():
        value, problem = parse_text(vals[i])
        if problem:
            problems.add(locs[i], problem)
            return
        texts[key] = value
    code = texts["code"]
    if all(v is None for v in texts.values()):
        return
    if code is None:
        problems.add(locs[cols["code"]], "empty required cell — code is missing")
        return
    if code in entries:
        problems.add(locs[cols["code"]], f"duplicate service item '{code}' (also at {where[(code, '')]})")
        return
    entry: dict[str, Any] = {}
    names = {lang: texts[k] for k, lang in _NAME_COLUMNS.items() if k in cols and texts.get(k)}
    if names:
        entry["name"] = names
    for k in ("department", "note"):
        if texts.get(k) is not None:
            entry[k] = texts[k]
    for k in ("channels", "objects"):
        if texts.get(k) is not None:
            entry[k] = [p for p in _LIST_SEPARATORS.split(str(texts[k])) if p]
    active = texts.get("active")
    if active is not None:
        entry["active"] = _BOOLEAN_CELLS.get(active.strip().lower(), active)
    entries[code] = entry
    where[(code, "")] = locs[cols["code"]]
    where.update({(code, k): locs[i] for k, i in cols.items()})
    for k, lang in _NAME_COLUMNS.items():
        if k in cols:
            where[(code, f"name.{lang}")] = locs[cols[k]]
            where.setdefault((code, "name"), locs[cols[k]])


def _validate(
    session: Session, entries: dict[str, dict[str, Any]], where: _Where, problems: Problems
) -> dict[str, _Item]:
    """Every entry checked against the register; the valid ones as items."""
    depts = {d.code: int(d.id or 0) for d in session.exec(select(Department))}
    objs = {o.code: o for o in session.exec(select(AssessedObject))}
    items: dict[str, _Item] = {}
    for code, e in entries.items():

        def at(key: str = "", code: str = code) -> str:
            return where.get((code, key)) or where.get((code, "")) or f"services.{code}"

        before = len(problems.items)
        if not REGISTER_CODE_RE.fullmatch(str(code)) or len(str(code)) > CODE_LIMIT:
            problems.add(
                at(),
                f"code {code!r} must start with a letter, hold only letters, digits, _ and -, and "
                f"have at most {CODE_LIMIT} characters",
            )
        names = _names(e.get("name"), at, where, code, problems)
        dept = e.get("department")
        if dept is None:
            problems.add(at("department"), "empty required cell — the owning department is missing")
        elif not isinstance(dept, str) or dept not in depts:
            problems.add(at("department"), f"unknown department {dept!r} (import the register first)")
        channels = _codes(e.get("channels"), "channels", at, problems)
        if not channels and e.get("channels") is None:
            problems.add(
                at("channels"), f"empty required cell — channels are missing ({', '.join(CHANNELS)})"
            )
        for c in channels:
            if c not in CHANNELS:
                problems.add(at("channels"), f"channel {c!r} is not one of {', '.join(CHANNELS)}")
        object_ids = _objects(_codes(e.get("objects"), "objects", at, problems), objs, at, problems)
        active = e.get("active", True)
        if not isinstance(active, bool):
            problems.add(at("active"), f"active {active!r} must be true or false (yes/no, 1/0 in a table)")
        note = _note(e.get("note"), at, problems)
        if len(problems.items) == before and isinstance(dept, str):
            items[code] = _Item(code, names, depts[dept], tuple(channels), object_ids, bool(active), note)
    return items


def _names(names: Any, at: Any, where: _Where, code: str, problems: Problems) -> dict[str, str]:
    if names is None or (isinstance(names, dict) and not any(names.values())):
        problems.add(at("name"), "empty required cell — at least one name (zh-Hant, pt or en) is needed")
        return {}
    if not isinstance(names, dict):
        problems.add(at("name"), "must be a table { zh-Hant = …, pt = …, en = … }")
        return {}
    for lang, text in names.items():
        loc = where.get((code, f"name.{lang}")) or at("name")
        if lang not in LANGUAGES:
            problems.add(loc, f"unknown language {lang!r}; use zh-Hant, pt, en")
        elif not isinstance(text, str):
            problems.add(loc, f"wrong type — the {lang} name must be text")
        elif text.startswith(FORMULA_PREFIXES):
            problems.add(loc, formula_injection(text))
        elif bad := control_problem(text, f"the {lang} name"):
            problems.add(loc, bad)
        elif len(text) > 300:
            problems.add(loc, f"the {lang} name is {len(text)} characters long; the limit is 300")
    return {lang: str(text) for lang, text in names.items()}


def _codes(value: Any, key: str, at: Any, problems: Problems) -> list[str]:
    """A list of codes (channels, objects): a TOML array of texts, or a cell split on , ; or spaces."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.add(at(key), f"wrong type — {key} must be a list of codes")
        return []
    dup = sorted({v for v in value if value.count(v) > 1})
    if dup:
        problems.add(at(key), f"{key} named twice: {', '.join(dup)}")
    return list(dict.fromkeys(value))


def _objects(
    codes: list[str], objs: dict[str, AssessedObject], at: Any, problems: Problems
) -> tuple[int, ...]:
    """The ids of the objects a service item is offered through: citizen-facing applications."""
    ids: list[int] = []
    for c in codes:
        o = objs.get(c)
        if o is None:
            problems.add(at("objects"), f"unknown object {c!r} (import the register first)")
        elif o.kind != "application" or not o.citizen_facing:
            problems.add(
                at("objects"), f"object {c!r} is not a citizen-facing application; only those are rated"
            )
        else:
            ids.append(int(o.id or 0))
    return tuple(sorted(ids))


def _note(note: Any, at: Any, problems: Problems) -> str:
    if note is None:
        return ""
    if not isinstance(note, str):
        problems.add(at("note"), "wrong type — note must be text")
    elif note.startswith(FORMULA_PREFIXES):
        problems.add(at("note"), formula_injection(note))
    elif bad := control_problem(note, "note", free_text=True):
        problems.add(at("note"), bad)
    elif len(note) > 300:
        problems.add(at("note"), f"the note is {len(note)} characters long; the limit is 300")
    else:
        return note
    return ""


def _links(session: Session, ids: list[int]) -> dict[int, tuple[int, ...]]:
    out: dict[int, list[int]] = {}
    if ids:
        for link in session.exec(select(ServiceObject).where(col(ServiceObject.service_id).in_(ids))):
            out.setdefault(link.service_id, []).append(link.object_id)
    return {k: tuple(sorted(v)) for k, v in out.items()}


def _state(s: ServiceItem, objects: tuple[int, ...]) -> tuple[Any, ...]:
    names = (s.name_zh, s.name_pt, s.name_en)
    return (*names, s.department_id, s.channels, objects, bool(s.active), s.note)


def _wanted(item: _Item) -> tuple[Any, ...]:
    names = tuple(item.names.get(lang, "") for lang in LANGUAGES)
    return (*names, item.department_id, ",".join(item.channels), item.object_ids, item.active, item.note)


def _write(session: Session, row: ServiceItem | None, item: _Item, source: str) -> None:
    """Create or edit one service item and replace the objects it is offered through."""
    row = row or ServiceItem(code=item.code, department_id=item.department_id)
    row.name_zh, row.name_pt, row.name_en = (item.names.get(lang, "") for lang in LANGUAGES)
    row.department_id, row.channels = item.department_id, ",".join(item.channels)
    row.active, row.note, row.source, row.updated_at = item.active, item.note, source[:300], utcnow()
    session.add(row)
    session.flush()
    session.execute(delete(ServiceObject).where(col(ServiceObject.service_id) == row.id))
    for oid in item.object_ids:
        session.add(ServiceObject(service_id=int(row.id or 0), object_id=oid))
