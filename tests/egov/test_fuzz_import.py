"""Fuzz tests of `egov import metrics` (hypothesis; issue 8, "hostile input").

tests/egov/test_bad_corpus.py holds one hand-made file per failure class; this file starts
from a real template instead — `egov template` on a small register (every object kind) in a
temporary SQLite database, filled with valid values and imported once — and from CSV exports
of the same values (long and wide), and lets hypothesis damage them: cells set to numbers in
and out of range, numeric text, text that is not a number, formulas (`=1+1`, `=HYPERLINK(…)`),
Excel error values, dates, times, logical values, blanks, very long text, control characters
as Excel writes them; rows deleted or duplicated, values below the last object, in columns
without a hidden code, in `n/a` cells; sheets renamed, added, deleted; hidden codes, units
and the `_meta` sheet altered; cells merged, columns inserted. CSV files are damaged as text
and as bytes: delimiters, line endings, a byte-order mark, other encodings, truncated lines,
junk fields, duplicated lines, random bytes.

The law: the import either stores exactly the valid values — checked against what the test
wrote, and every stored value against its cell in the file — or raises `EgovError` whose
problems name their sheet and cell (or line and column); for damage whose effect the test
knows, exactly the damaged cells are named. On failure the database is unchanged (row
counts and a content hash of the metric tables). Never another exception. SQLite only: the
fuzz is about parsing; both engines are covered by the corpus and the collection tests.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import math
import random
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import text

from egov.errors import EgovError

ROOT = Path(__file__).resolve().parents[2]
REGISTER = ROOT / "egov" / "data" / "macau_register.toml"
PERIOD = "2024"
FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# what the importer accepts as a number written as text: plain ASCII decimal notation
PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", re.ASCII)
LOCATION = re.compile(
    r"^(sheet '[^']*'( cells? [A-Z]+\d+(:[A-Z]+\d+)?)?|line \d+(, column \d+( \([^)]*\))?)?): "
)
OBJECT_CODE_COL, STATUS_COL = 1, 5


# --- the world: a small register, the template, its values, a database ----------------------
@dataclass
class Sheet:
    title: str
    rows: dict[int, str]  # row → object code
    cols: dict[int, str]  # column → indicator code
    na: set[tuple[int, int]]  # (row, column) of n/a cells


@dataclass
class World:
    url: str
    dir: Path
    framework: Any
    base: bytes  # the filled template
    sheets: list[Sheet]
    values: dict[tuple[str, str], tuple[float, str]]  # (object, indicator) → (value, status)
    statuses: dict[tuple[str, str], str]  # (sheet title, object) → status written
    kinds: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # object → (kind, subkind)
    names: Iterator[int] = field(default_factory=itertools.count)

    def applies(self, obj: str, indicator: str) -> bool:
        from indicators.framework import applies

        return applies(self.framework.nodes[indicator].applies_to, *self.kinds[obj])

    def path(self, suffix: str) -> Path:
        return self.dir / f"fuzz-{next(self.names)}{suffix}"


def small_register() -> dict[str, dict[str, Any]]:
    """Two objects of each kind and subkind from the Macau register, their departments and
    every peer group."""
    full = tomllib.loads(REGISTER.read_text(encoding="utf-8"))
    objects: dict[str, Any] = {}
    taken: dict[tuple[str, str | None], int] = {}
    for code, obj in full["objects"].items():
        key = (obj["kind"], obj.get("subkind"))
        if taken.get(key, 0) < 2:
            taken[key] = taken.get(key, 0) + 1
            objects[code] = obj
    departments = {o["department"] for o in objects.values()}
    return {
        "peer_groups": full["peer_groups"],
        "departments": {c: d for c, d in full["departments"].items() if c in departments},
        "objects": objects,
    }


def data_sheets(wb: Workbook) -> list[Worksheet]:
    return [ws for ws in wb.worksheets if ws.title != "_meta" and ws.cell(1, 1).value == "_object"]


def snapshot(url: str) -> dict[str, object]:
    """Row counts and a content hash of the tables an import writes."""
    from egov.db import get_engine

    out: dict[str, object] = {}
    with get_engine(url).connect() as conn:
        for table in ("metric_value", "period", "assessed_object"):
            rows = conn.execute(text(f"SELECT * FROM {table} ORDER BY id")).all()
            out[table] = (len(rows), hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest())
    return out


def stored(url: str, sha: str) -> list[tuple[str, str, float, str, str, str]]:
    """(object, indicator, value, status, sheet, cell) of the current values from one file."""
    from egov.db import get_engine

    with get_engine(url).connect() as conn:
        rows = conn.execute(
            text(
                "SELECT o.code, m.indicator, m.value, m.status, m.sheet, m.cell FROM metric_value m "
                "JOIN assessed_object o ON o.id = m.object_id "
                "WHERE m.source_hash = :sha AND m.superseded_at IS NULL"
            ),
            {"sha": sha},
        ).all()
    return [tuple(r) for r in rows]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    from cli import main
    from egov.db import dispose_engines, init_db, session_scope
    from egov.imports.metrics import import_metrics
    from egov.settings import reset_settings
    from egov.store import load_register
    from indicators.framework import resolve_framework

    folder = tmp_path_factory.mktemp("fuzz_import")
    url = f"sqlite:///{folder / 'egov.db'}"
    init_db(url)
    with session_scope(url) as session:
        load_register(session, small_register())
    fw = resolve_framework("macau")
    template = folder / "template.xlsx"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EGOV_DATABASE_URL", url)
        mp.setenv("EGOV_OPERATOR", "fuzz")
        reset_settings()
        try:
            main(["template", "--period", PERIOD, "--out", str(template)])
        except SystemExit as exc:
            assert not exc.code, exc.code
        finally:
            reset_settings()
    # fill the template as an assessor would: valid values, some blanks, some statuses
    rng = random.Random(8)
    wb = load_workbook(template)
    sheets: list[Sheet] = []
    values: dict[tuple[str, str], tuple[float, str]] = {}
    statuses: dict[tuple[str, str], str] = {}
    for ws in data_sheets(wb):
        sheet = Sheet(ws.title, {}, {}, set())
        for c in range(6, ws.max_column + 1):
            sheet.cols[c] = str(ws.cell(1, c).value)
        for r in range(4, ws.max_row + 1):
            obj = str(ws.cell(r, 1).value)
            sheet.rows[r] = obj
            status = rng.choice(["submitted", "reported", None])  # "reported": older templates
            ws.cell(r, STATUS_COL).value = status
            statuses[(ws.title, obj)] = "submitted"  # what a department submits is stored as submitted
            for c, code in sheet.cols.items():
                if ws.cell(r, c).value == "n/a":
                    sheet.na.add((r, c))
                    continue
                if rng.random() < 0.2:
                    continue
                lo, hi = fw.nodes[code].valid_range or (-50.0, 1e6)
                x = round(lo + rng.random() * (min(hi, lo + 1e6) - lo), 3)
                ws.cell(r, c).value = x
                values[(obj, code)] = (x, "submitted")
        sheets.append(sheet)
    buf = io.BytesIO()
    wb.save(buf)
    register = small_register()["objects"]
    kinds = {code: (o["kind"], o.get("subkind")) for code, o in register.items()}
    w = World(url, folder, fw, buf.getvalue(), sheets, values, statuses, kinds)
    first = w.path(".xlsx")
    first.write_bytes(w.base)
    with session_scope(url) as session:
        report = import_metrics(session, first, PERIOD, fw, operator="fuzz")
    assert report.written == len(values) > 50
    try:
        yield w
    finally:
        dispose_engines()


def run_import(world: World, path: Path) -> tuple[Any | None, EgovError | None]:
    """Import a file; return (report, None) or (None, error); other exceptions propagate."""
    from egov.db import session_scope
    from egov.imports.metrics import import_metrics

    try:
        with session_scope(world.url) as session:
            return import_metrics(session, path, PERIOD, world.framework, operator="fuzz"), None
    except EgovError as exc:
        return None, exc


def check_failure(world: World, exc: EgovError, path: Path, before: dict[str, object]) -> list[str]:
    """The law on failure; returns the problems' locations."""
    assert snapshot(world.url) == before, "a failed import changed the database"
    assert exc.message.startswith(path.name), exc.message
    where = []
    for problem in exc.problems:
        if problem.startswith("… and "):
            continue
        m = LOCATION.match(problem)
        assert m, f"no sheet/cell or line/column: {problem}"
        where.append(m.group(1))
    return where


def check_stored_against_file(
    world: World, report: Any, path: Path
) -> dict[tuple[str, str], tuple[float, str]]:
    """Every stored value equals its cell in the file, under the cell's hidden codes."""
    rows = stored(world.url, report.sha256)
    assert len(rows) == report.written == len(report.values)
    from egov.imports.values import parse_number

    wb = load_workbook(path) if path.suffix == ".xlsx" else None
    out: dict[tuple[str, str], tuple[float, str]] = {}
    for obj, ind, value, status, sheet, cell in rows:
        assert (obj, ind) not in out, f"{obj}/{ind} stored twice"
        out[(obj, ind)] = (value, status)
        if wb is not None:
            ws = wb[sheet]
            c = ws[cell]
            assert parse_number(c.value) == (value, None), (sheet, cell, c.value, value)
            assert str(ws.cell(c.row, OBJECT_CODE_COL).value).strip() == obj
            assert str(ws.cell(1, c.column).value).strip() == ind
    return out


# --- cell values and what the importer must make of them --------------------------------------
BLANK, INVALID = "blank", "invalid"
# openpyxl cannot write a 400-digit integer: the cell gets this number, and the saved sheet's
# XML then the integer itself (which openpyxl reads back as a Python int)
HUGE = 987654.3217
HUGE_TEXT = "1" + "0" * 400


def patch_huge(path: Path) -> None:
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            part = src.read(info.filename)
            if info.filename.startswith("xl/worksheets/"):
                part = part.replace(f"<v>{HUGE}</v>".encode(), f"<v>{HUGE_TEXT}</v>".encode())
            dst.writestr(info, part)
    path.write_bytes(buf.getvalue())


special_text = st.sampled_from(
    [
        "1_000",  # Python's float() reads it; a spreadsheet does not
        "١٢",  # Arabic-Indic digits
        "１２",  # full-width digits
        "1,234",
        "0x10",
        "1e400",
        "nan",
        "-inf",
        "Infinity",
        "+5",
        "-5",
        " 7 ",
        "5%",
        "\t5",
        "5 hours",
        "N/A",
        "n/a",
        "   ",
        "",
        "#N/A",
        "_x0001_control",  # a control character as Excel escapes it in the XML
        "tab\tand\nnew line",
        "@SUM(1)",
        "+cmd|' /C calc'!A0",
        "😀",
    ]
)
cell_values = st.one_of(
    st.tuples(st.just("in"), st.floats(0, 1)),
    st.tuples(st.just("out"), st.floats(1, 1e9)),
    st.tuples(st.just("raw"), special_text),
    st.tuples(st.just("raw"), special_text),  # twice: the odd texts are where bugs hide
    st.tuples(
        st.just("raw"),
        st.text(max_size=20).filter(lambda s: not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", s)),
    ),
    st.tuples(
        st.just("raw"),
        st.sampled_from(
            [
                "=1+1",
                '=HYPERLINK("http://evil.example","click")',
                "=A1",
                None,
                True,
                False,
                HUGE,
                -(10**20),
                float("nan"),
                float("inf"),
                0,
                -0.0,
                date(2024, 3, 1),
                datetime(2024, 3, 1, 12, 30),
                time(7, 30),
                "x" * 5000,
            ]
        ),
    ),
)


def materialise(spec: tuple[str, Any], code: str, world: World) -> Any:
    kind, arg = spec
    lo, hi = world.framework.nodes[code].valid_range or (-1e6, 1e6)
    if kind == "in":
        return round(lo + arg * (hi - lo), 3)
    if kind == "out":
        return hi + arg if world.framework.nodes[code].valid_range else arg
    return arg


def classify(value: Any) -> tuple[str, float | None]:
    """(BLANK | "number" | INVALID, the number) — what a cell value must import as."""
    if value is None:
        return BLANK, None
    if value == HUGE:
        return INVALID, None
    if isinstance(value, bool | datetime | date | time):
        return INVALID, None
    if isinstance(value, int | float):
        if isinstance(value, int) and abs(value) > 1.7976931348623157e308:
            return INVALID, None
        return ("number", float(value)) if math.isfinite(value) else (INVALID, None)
    s = str(value).strip()
    if s == "" or s.lower() == "n/a":
        return BLANK, None
    if str(value).startswith("=") or not PLAIN_NUMBER.fullmatch(s):
        return INVALID, None
    x = float(s)
    return ("number", x) if math.isfinite(x) else (INVALID, None)


# --- XLSX ----------------------------------------------------------------------------------
SAFE_TITLES = ["Infra (filled)", "數據", "Sheet 1", "x" * 31, "Métricas 2024", "a'b"]
CERTAIN = [
    "value",
    "status",
    "na cell",
    "delete row",
    "duplicate row",
    "rename",
    "extra sheet",
    "stray",
    "orphan",
]
UNCERTAIN = ["hidden code", "object code", "unit", "meta", "delete sheet", "merge", "insert column"]


@pytest.mark.slow
@settings(FUZZ, max_examples=70)
@given(data=st.data())
def test_template_damage_imports_exactly_the_valid_values_or_names_the_cells(
    world: World, data: st.DataObject
) -> None:
    wb = load_workbook(io.BytesIO(world.base))
    sheets = data_sheets(wb)
    layout = {ws.title: next(s for s in world.sheets if s.title == ws.title) for ws in sheets}
    rows = {ws.title: dict(layout[ws.title].rows) for ws in sheets}  # current row → object
    expected = dict(world.values)  # (obj, ind) → (value, status)
    statuses = dict(world.statuses)
    bad: dict[tuple[int, str], str] = {}  # (id(ws), coordinate) → why; must be named exactly
    uncertain = False

    def pick_row(ws: Worksheet) -> int | None:
        return data.draw(st.sampled_from(sorted(rows[ws.title]))) if rows[ws.title] else None

    kinds = data.draw(st.lists(st.sampled_from(CERTAIN + UNCERTAIN), min_size=1, max_size=4), label="damage")
    order = {k: i for i, k in enumerate(["delete row", "duplicate row", "stray", "orphan"])}
    for kind in sorted(kinds, key=lambda k: order.get(k, 9)):  # rows move first, then cells
        ws = data.draw(st.sampled_from(sheets), label="sheet")
        title = ws.title
        cols = layout[title].cols
        if kind == "delete row":
            r = pick_row(ws)
            if r is None:
                continue
            ws.delete_rows(r)
            obj = rows[title].pop(r)
            rows[title] = {(k - 1 if k > r else k): o for k, o in rows[title].items()}
            for code in cols.values():
                expected.pop((obj, code), None)
        elif kind == "duplicate row":
            r = pick_row(ws)
            if r is None:
                continue
            new = ws.max_row + 1
            for c in range(1, ws.max_column + 1):
                ws.cell(new, c).value = ws.cell(r, c).value
            bad[(id(ws), f"A{new}")] = "duplicate row"
        elif kind == "stray":  # a value in a column without a hidden code
            c = ws.max_column + data.draw(st.integers(1, 3))
            r = data.draw(st.integers(4, ws.max_row + 2))
            ws.cell(r, c).value = data.draw(st.sampled_from([1, "x", "n/a", 0.5, "=1"]))
            bad[(id(ws), ws.cell(r, c).coordinate)] = "stray value"
        elif kind == "orphan":  # a value below the last object
            r = ws.max_row + data.draw(st.integers(1, 2))
            c = data.draw(st.sampled_from(sorted(cols)))
            value = materialise(data.draw(cell_values), cols[c], world)
            ws.cell(r, c).value = value
            if classify(value)[0] != BLANK:
                bad[(id(ws), f"A{r}")] = "value without an object"
        elif kind in ("value", "na cell"):
            cells = [
                (r, c)
                for r in sorted(rows[title])
                for c in sorted(cols)
                if _is_na(layout[title], rows[title][r], c) == (kind == "na cell")
            ]
            if not cells:
                continue
            r, c = data.draw(st.sampled_from(cells), label="cell")
            obj, code = rows[title][r], cols[c]
            value = materialise(data.draw(cell_values), code, world)
            ws.cell(r, c).value = value
            what, x = classify(value)
            coord = ws.cell(r, c).coordinate
            bad.pop((id(ws), coord), None)
            rng = world.framework.nodes[code].valid_range
            if _is_na(layout[title], obj, c):
                expected.pop((obj, code), None)
                if what != BLANK:
                    bad[(id(ws), coord)] = "not applicable"
            elif what == BLANK:
                expected.pop((obj, code), None)
            elif what == INVALID or (rng is not None and x is not None and not rng[0] <= x <= rng[1]):
                bad[(id(ws), coord)] = f"invalid {value!r}"
            else:
                assert x is not None
                expected[(obj, code)] = (x, statuses[(title, obj)])
        elif kind == "status":
            r = pick_row(ws)
            if r is None:
                continue
            value = data.draw(
                st.sampled_from(
                    ["verified", "Submitted ", "REPORTED", None, "", "disputed", "approved", "=1+1", 3, True]
                )
            )
            ws.cell(r, STATUS_COL).value = value
            obj = rows[title][r]
            coord = ws.cell(r, STATUS_COL).coordinate
            bad.pop((id(ws), coord), None)
            text_value = value.strip().lower() if isinstance(value, str) else value
            if text_value in (None, "") or (
                isinstance(text_value, str) and text_value in ("reported", "submitted")
            ):
                statuses[(title, obj)] = (
                    "submitted"  # a department never verifies (or disputes) its own value
                )
                for (o, code), (x, _s) in list(expected.items()):
                    if o == obj and code in cols.values():
                        expected[(o, code)] = (x, statuses[(title, obj)])
            else:
                bad[(id(ws), coord)] = f"status {value!r}"
        elif kind == "rename":
            new_title = data.draw(st.sampled_from(SAFE_TITLES))
            if new_title in wb.sheetnames:
                continue
            ws.title = new_title
            rows[new_title], layout[new_title] = rows.pop(title), layout.pop(title)
            statuses.update({(new_title, o): s for (t, o), s in list(statuses.items()) if t == title})
        elif kind == "extra sheet":
            extra = wb.create_sheet(data.draw(st.sampled_from(["extra", "notes", "Sheet"])))
            for _ in range(data.draw(st.integers(0, 5))):
                extra.cell(data.draw(st.integers(2, 30)), data.draw(st.integers(1, 10))).value = data.draw(
                    st.sampled_from([1, "x", "=1+1", "_object", None])
                )
        else:
            uncertain = True
            _uncertain_damage(kind, wb, ws, cols, data, world)
    path = world.path(".xlsx")
    wb.save(path)
    if any(c.value == HUGE for w in wb.worksheets for row in w.iter_rows() for c in row):
        patch_huge(path)
    titles = {id(w): w.title for w in wb.worksheets}
    located = {(titles[wid], coord): why for (wid, coord), why in bad.items() if wid in titles}

    before = snapshot(world.url)
    report, exc = run_import(world, path)
    if exc is not None:
        where = check_failure(world, exc, path, before)
        saved = load_workbook(path).sheetnames
        for w in where:
            if w.startswith("sheet '"):
                assert w.split("'")[1] in saved, (w, saved)
        if not uncertain:
            assert located, f"a file with only valid changes was refused: {exc}"
            named = {w for w in where}
            wanted = {f"sheet '{t}' cell {c}" for t, c in located}
            assert named == wanted, (named, wanted, exc.problems)
        return
    assert uncertain or not located, f"accepted although {located} should have been refused"
    got = check_stored_against_file(world, report, path)
    if not uncertain:
        assert got == expected


def _is_na(sheet: Sheet, obj: str, c: int) -> bool:
    """Whether the template made (obj, column) an n/a cell (by object, rows may have moved)."""
    return any(sheet.rows[r] == obj and cc == c for r, cc in sheet.na)


def _uncertain_damage(
    kind: str, wb: Workbook, ws: Worksheet, cols: dict[int, str], data: st.DataObject, world: World
) -> None:
    """Damage whose exact effect the test does not predict (it still checks the law)."""
    if kind == "hidden code":
        c = data.draw(st.sampled_from(sorted(cols)))
        ws.cell(1, c).value = data.draw(
            st.sampled_from(
                ["no_such_indicator", "app_csat", "infra", None, 123, "=1", *sorted(world.values)[0][1:]]
            )
        )
    elif kind == "object code":
        r = data.draw(st.integers(4, ws.max_row))
        ws.cell(r, 1).value = data.draw(
            st.sampled_from(["NO_SUCH_OBJECT", None, 42, "=A2", " ", "GOV_CLOUD"])
        )
    elif kind == "unit":
        c = data.draw(st.sampled_from(sorted(cols)))
        ws.cell(2, c).value = data.draw(st.sampled_from(["minutes", None, "%", 1]))
    elif kind == "meta":
        meta = wb["_meta"]
        r = data.draw(st.integers(1, 12))
        meta.cell(r, 2).value = data.draw(
            st.sampled_from(["2023", "other-framework", "deadbeef", "2", None, "=1"])
        )
    elif kind == "delete sheet":
        victim = data.draw(st.sampled_from(wb.sheetnames))
        if len(wb.sheetnames) > 1:
            del wb[victim]
    elif kind == "merge":
        r = data.draw(st.integers(4, max(4, ws.max_row)))
        c = data.draw(st.sampled_from(sorted(cols)))
        ws.merge_cells(start_row=r, start_column=c, end_row=r, end_column=c + 1)
    else:  # insert column
        ws.insert_cols(data.draw(st.integers(1, ws.max_column + 1)))


# --- CSV -----------------------------------------------------------------------------------
def base_csv(world: World, layout: str) -> tuple[list[list[str]], dict[int, tuple[str, str]]]:
    """The world's values as CSV rows (header first) and, per data row index, the (object,
    indicator) it holds (long), or the object (wide, indicator '')."""
    if layout == "long":
        out = [["object", "indicator", "value", "status"]]
        where: dict[int, tuple[str, str]] = {}
        for (obj, ind), (x, status) in sorted(world.values.items()):
            where[len(out)] = (obj, ind)
            out.append([obj, ind, repr(x), status])
        return out, where
    codes = sorted({ind for _o, ind in world.values})
    objs = sorted({o for o, _i in world.values})
    out = [["object", *codes, "status"]]
    where = {}
    for obj in objs:
        statuses = {s for (o, _i), (_x, s) in world.values.items() if o == obj}
        if len(statuses) != 1:  # an object with two statuses (two sheets) cannot be one wide row
            continue
        status = statuses.pop()
        where[len(out)] = (obj, "")
        out.append(
            [
                obj,
                *[repr(world.values[(obj, c)][0]) if (obj, c) in world.values else "" for c in codes],
                status,
            ]
        )
    return out, where


@pytest.mark.slow
@settings(FUZZ, max_examples=150)
@given(data=st.data())
def test_csv_damage_imports_exactly_the_valid_values_or_names_the_lines(
    world: World, data: st.DataObject
) -> None:
    layout = data.draw(st.sampled_from(["long", "wide"]))
    rows, where = base_csv(world, layout)
    expected = {
        k: v
        for k, v in world.values.items()
        if layout == "long" or any(o == k[0] for o, _i in where.values())
    }
    bad: dict[tuple[int, int], bool] = {}  # (row index, column or -1 for the line) → must be named
    uncertain = False
    value_col = 2 if layout == "long" else None
    damage = data.draw(
        st.lists(
            st.sampled_from(["value", "value", "drop field", "duplicate", "unknown object", "delete"]),
            min_size=1,
            max_size=3,
        )
    )
    order = {"delete": 0, "duplicate": 2}  # a duplicate copies the row's final state
    for kind in sorted(damage, key=lambda k: order.get(k, 1)):
        i = data.draw(st.integers(1, len(rows) - 1), label="row")
        obj, ind = where.get(i, ("", ""))
        if kind == "delete" and i in where:
            rows[i] = []
            for k in [k for k in expected if k[0] == obj and (layout == "wide" or k[1] == ind)]:
                expected.pop(k)
            where.pop(i)
        elif kind == "value" and rows[i]:
            c = value_col if value_col is not None else data.draw(st.integers(1, len(rows[0]) - 2))
            code = ind if layout == "long" else rows[0][c]
            value = materialise(data.draw(cell_values), code, world)
            field_text = "" if value is None else HUGE_TEXT if value == HUGE else str(value)
            if any(ch in field_text for ch in '\r\n,;\t"') or len(field_text) > 200:
                continue
            rows[i][c] = field_text
            what, x = classify(field_text)
            rng = world.framework.nodes[code].valid_range
            bad[(i, c)] = False
            if what == BLANK and layout == "long":
                bad[(i, c)] = True  # a long row needs its value
            elif what == BLANK:
                expected.pop((obj, code), None)
            elif (
                what == INVALID
                or not world.applies(obj, code)
                or (rng and x is not None and not rng[0] <= x <= rng[1])
            ):
                bad[(i, c)] = True
            else:
                assert x is not None
                expected[(obj, code)] = (x, expected.get((obj, code), (0.0, _status_of(rows[i], layout)))[1])
        elif kind == "drop field" and rows[i]:
            rows[i] = rows[i][:-1]
            bad[(i, -1)] = True
        elif kind == "duplicate" and rows[i]:
            rows.append(list(rows[i]))
            bad[(len(rows) - 1, -1)] = True
        elif kind == "unknown object" and rows[i]:
            rows[i][0] = "NO_SUCH_OBJECT"
            bad[(i, -1)] = True
    bad_lines = {i + 1 for (i, _c), wrong in bad.items() if wrong and rows[i]}
    delimiter = data.draw(st.sampled_from([",", ";", "\t"]))
    newline = data.draw(st.sampled_from(["\n", "\r\n"]))
    body = newline.join(delimiter.join(r) for r in rows) + data.draw(
        st.sampled_from(["", newline, newline * 3])
    )
    encoding = data.draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16"]))
    raw = body.encode(encoding, errors="replace")
    if encoding == "utf-16" or (encoding in ("cp1252", "latin-1") and not body.isascii()):
        uncertain = True  # NUL bytes: refused as binary
    for _ in range(data.draw(st.sampled_from([0, 0, 0, 1, 2]), label="byte damage")):
        uncertain = True
        at = data.draw(st.integers(0, len(raw)))
        how = data.draw(st.sampled_from(["truncate", "insert", "bom"]))
        if how == "truncate":
            raw = raw[:at]
        elif how == "insert":
            raw = raw[:at] + data.draw(st.binary(min_size=1, max_size=4)) + raw[at:]
        else:
            raw = b"\xef\xbb\xbf" + raw
    path = world.path(".csv")
    path.write_bytes(raw)
    before = snapshot(world.url)
    report, exc = run_import(world, path)
    if exc is not None:
        where_named = check_failure(world, exc, path, before)
        if not uncertain:
            assert bad_lines, f"a valid CSV was refused: {exc}"
            lines = {int(w.split()[1].rstrip(",")) for w in where_named}
            assert lines == bad_lines, (lines, bad_lines, exc.problems)
        return
    assert uncertain or not bad_lines, f"accepted although lines {sorted(bad_lines)} are wrong"
    got = check_stored_against_file(world, report, path)
    if not uncertain:
        assert {k: v[0] for k, v in got.items()} == {k: v[0] for k, v in expected.items()}
    for obj, ind in got:
        assert obj in {o for o, _i in world.values} and world.framework.nodes[ind].is_indicator


def _status_of(row: list[str], layout: str) -> str:
    return "submitted"  # blank, submitted or reported: stored as submitted
