"""The checklist workbook (`egov checklist template`): the Excel file in which the assessor
records the service checks of a period, and reading it back (`egov checklist import`).

Layout, like the metric template (egov.template): an instructions sheet, one data sheet with
one row per checklist × object × item, and a hidden `_meta` sheet (framework code and
content hash, period). Row 1 of the data sheet (hidden) holds the stable column codes, row 2
the headers in the three languages; the checklist, object and item codes sit in hidden
columns A-C, so renaming a header or the sheet changes nothing. The answer cell has data
validation (yes / no / n/a, or 0..max / n/a for a scored item); the note and the evidence
reference are free text. Every text the workbook shows goes through
`egov.cells.write_text` (formula-injection safe). Reading collects every problem with its
sheet and cell and raises nothing itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from egov.cells import control_problem, write_text
from egov.errors import EgovError
from egov.langs import LANGUAGES
from egov.reader import Problems, cell_problem, cell_where
from egov.template import BOX, GREY, HEADER, INPUT, META_SHEET, TemplateObject, write_meta
from indicators.framework import Checklist, ChecklistItem, Framework

BOOK_FORMAT = "egov-checklist-template"
BOOK_FORMAT_VERSION = "1"
COLUMNS = (  # (hidden code, width): the data sheet's columns in order
    ("_checklist", 4),
    ("_object", 4),
    ("_item", 4),
    ("object", 16),
    ("name", 30),
    ("department", 12),
    ("checklist", 26),
    ("item", 34),
    ("scale", 12),
    ("answer", 12),
    ("note", 40),
    ("evidence", 30),
)
COL = {code: i for i, (code, _w) in enumerate(COLUMNS, start=1)}
CODE_ROW, HEADER_ROW, FIRST_ROW = 1, 2, 3
NOT_APPLICABLE = "n/a"
YES_NO = ("yes", "no", NOT_APPLICABLE)
MAX_NOTE = 2000
MAX_EVIDENCE = 500

# every header in the three languages, in one cell
HEADERS: dict[str, tuple[str, str, str]] = {
    "object": ("對象代碼", "Código do objecto", "Object code"),
    "name": ("對象名稱", "Nome do objecto", "Object name"),
    "department": ("部門", "Serviço", "Department"),
    "checklist": ("檢查表", "Lista de verificação", "Checklist"),
    "item": ("檢查項目", "Item", "Item"),
    "scale": ("答案類型", "Tipo de resposta", "Answer type"),
    "answer": ("答案", "Resposta", "Answer"),
    "note": ("備註", "Nota", "Note"),
    "evidence": ("證據（檔案或連結）", "Prova (ficheiro ou ligação)", "Evidence (file or link)"),
}
TEXT: dict[str, tuple[str, str, str]] = {
    "sheet": ("服務檢查", "Verificações", "Service checks"),
    "instructions": ("填寫說明", "Instruções", "Instructions"),
    "yes_no": ("是／否", "sim/não", "yes/no"),
    "scored": ("0–{max} 分", "0–{max} pontos", "0–{max} points"),
    "prompt": (
        "yes（是）、no（否）或 n/a（不適用）；未檢查則留空。",
        "yes (sim), no (não) ou n/a (não aplicável); em branco se não verificado.",
        "yes, no or n/a (not applicable); blank if not checked.",
    ),
    "prompt_scored": (
        "0 至 {max} 分，或 n/a（不適用）；未檢查則留空。",
        "0 a {max} pontos, ou n/a (não aplicável); em branco se não verificado.",
        "0 to {max} points, or n/a (not applicable); blank if not checked.",
    ),
}
INSTRUCTIONS: tuple[str, str, str] = (
    "服務檢查表 — {framework}，評估期 {period}\n\n"
    "評估方以市民身份使用每項服務（神秘客方式），逐項回答：yes（是）、no（否）、n/a（不適用），"
    "評分項目填 0 至最高分。未檢查的項目留空。備註及證據（檔案名稱或連結）可選填。\n"
    "請勿插入、刪除行列或取消隱藏：隱藏的行列載有匯入所需的代碼。\n"
    "匯入：egov checklist import 檔案 --period {period}（只限評估方；有任何問題則不匯入任何答案）。",
    "Verificação dos serviços — {framework}, período {period}\n\n"
    "O avaliador usa cada serviço como um cidadão (cliente mistério) e responde a cada item: yes, no ou "
    "n/a (não aplicável); nos itens pontuados, 0 até ao máximo. Deixe em branco o que não verificou. "
    "Nota e prova (ficheiro ou ligação) são opcionais.\n"
    "Não insira nem apague linhas ou colunas e não mostre as ocultas: contêm os códigos da importação.\n"
    "Importação: egov checklist import FICHEIRO --period {period} (só o avaliador; com qualquer "
    "problema nada é importado).",
    "Service checks — {framework}, period {period}\n\n"
    "The assessor uses each service as a citizen would (mystery shopping) and answers each item: yes, "
    "no or n/a (not applicable); a scored item 0 to its maximum. Leave blank what was not checked. "
    "A note and an evidence reference (file name or link) are optional.\n"
    "Do not insert or delete rows or columns and do not unhide the hidden ones: they hold the codes "
    "the import reads.\n"
    "Import: egov checklist import FILE --period {period} (the assessor only; any problem and nothing "
    "is imported).",
)


@dataclass(frozen=True)
class BookRow:
    """One answer read from the workbook."""

    checklist: str
    object: str
    item: str
    answer: str  # yes | no | n/a | points as written
    points: float | None  # None: not applicable
    note: str
    evidence: str
    sheet: str
    cell: str


def _tri(texts: tuple[str, str, str], **fill: Any) -> str:
    return "\n".join(t.format(**fill) for t in texts)


def _scale(item: ChecklistItem, lang: str) -> str:
    i = LANGUAGES.index(lang)
    return TEXT["yes_no"][i] if item.max is None else TEXT["scored"][i].format(max=item.max)


def build_book(
    framework: Framework,
    rows: list[tuple[Checklist, TemplateObject]],
    period: str,
    lang: str,
    operator: str,
) -> Workbook:
    """The checklist workbook of `period`: a row per (checklist, object) pair × item."""
    if not rows:
        raise EgovError(f"framework {framework.code}: no checklist applies to a registered object")
    wb = Workbook()
    intro = wb.active
    assert intro is not None
    intro.title = TEXT["instructions"][LANGUAGES.index(lang)]
    write_text(intro.cell(1, 1), _tri(INSTRUCTIONS, framework=framework.code, period=period))
    intro.cell(1, 1).alignment = Alignment(wrap_text=True, vertical="top")
    intro.column_dimensions["A"].width = 110
    ws = wb.create_sheet(TEXT["sheet"][LANGUAGES.index(lang)])
    _header(ws)
    validations: dict[int | None, DataValidation] = {}
    r = FIRST_ROW
    for checklist, obj in rows:
        for item in checklist.items:
            _row(ws, r, checklist, obj, item, lang, validations)
            r += 1
    ws.freeze_panes = ws.cell(FIRST_ROW, COL["answer"]).coordinate
    ws.protection.sheet = True  # only the answer, note and evidence cells are unlocked
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    _meta(wb.create_sheet(META_SHEET), framework, period, lang, operator, ws.title)
    return wb


def _header(ws: Worksheet) -> None:
    for code, width in COLUMNS:
        col = COL[code]
        ws.cell(CODE_ROW, col, code)
        if code in HEADERS:
            cell = ws.cell(HEADER_ROW, col)
            write_text(cell, _tri(HEADERS[code]))
            cell.font = Font(bold=True)
            cell.fill = HEADER
            cell.border = BOX
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        letter = get_column_letter(col)
        ws.column_dimensions[letter].width = width
        ws.column_dimensions[letter].hidden = code.startswith("_")
    ws.row_dimensions[CODE_ROW].hidden = True
    ws.row_dimensions[HEADER_ROW].height = 50


def _validation(
    ws: Worksheet, item: ChecklistItem, lang: str, cache: dict[int | None, DataValidation]
) -> DataValidation:
    if item.max not in cache:
        i = LANGUAGES.index(lang)
        choices = YES_NO if item.max is None else (*map(str, range(item.max + 1)), NOT_APPLICABLE)
        prompt = TEXT["prompt"][i] if item.max is None else TEXT["prompt_scored"][i].format(max=item.max)
        dv = DataValidation(
            type="list",
            formula1='"' + ",".join(choices) + '"',
            allow_blank=True,
            showErrorMessage=True,
            showInputMessage=True,
            error=prompt[:255],
            prompt=prompt[:255],
        )
        ws.add_data_validation(dv)
        cache[item.max] = dv
    return cache[item.max]


def _row(
    ws: Worksheet,
    r: int,
    checklist: Checklist,
    obj: TemplateObject,
    item: ChecklistItem,
    lang: str,
    validations: dict[int | None, DataValidation],
) -> None:
    shown = {
        "_checklist": checklist.code,
        "_object": obj.code,
        "_item": item.code,
        "object": obj.code,
        "name": obj.name,
        "department": obj.department,
        "checklist": checklist.label(lang),
        "item": item.label(lang),
        "scale": _scale(item, lang),
    }
    for code, text in shown.items():
        write_text(ws.cell(r, COL[code]), text)
        if not code.startswith("_"):
            ws.cell(r, COL[code]).fill = GREY
    for code in ("answer", "note", "evidence"):
        cell = ws.cell(r, COL[code])
        cell.protection = Protection(locked=False)
        cell.fill = INPUT
        cell.border = BOX
    _validation(ws, item, lang, validations).add(ws.cell(r, COL["answer"]))


def _meta(ws: Worksheet, framework: Framework, period: str, lang: str, operator: str, sheet: str) -> None:
    pairs = [
        ("format", BOOK_FORMAT),
        ("format_version", BOOK_FORMAT_VERSION),
        ("framework_code", framework.code),
        ("framework_hash", framework.content_hash),
        ("period", period),
        ("lang", lang),
        ("data_sheet", sheet),
    ]
    write_meta(ws, pairs, operator)
    ws.sheet_state = "hidden"
    ws.protection.sheet = True


# --- reading --------------------------------------------------------------------------------
def book_meta(wb: Workbook, name: str) -> dict[str, str]:
    """The `_meta` pairs of a checklist workbook; an error when it is not one."""
    if META_SHEET not in wb.sheetnames:
        raise EgovError(
            f"{name}: not an egov checklist workbook (no hidden '{META_SHEET}' sheet); "
            "make one with `egov checklist template`"
        )
    ws = wb[META_SHEET]
    meta = {
        str(r[0].value): "" if r[1].value is None else str(r[1].value)
        for r in ws.iter_rows(min_row=1, max_row=20, max_col=2)
        if r[0].value is not None
    }
    if meta.get("format") != BOOK_FORMAT:
        raise EgovError(f"{name}: not an egov checklist workbook (format {meta.get('format')!r})")
    return meta


def read_book(wb: Workbook, problems: Problems) -> list[BookRow]:
    """Every answered row of the data sheets (row 1 holds `_checklist` in A1), with the
    problems of its cells collected; a blank answer is a check not made (no row), unless a
    note or evidence is given without an answer (a problem)."""
    out: list[BookRow] = []
    sheets = [
        ws for ws in wb.worksheets if ws.title != META_SHEET and ws.cell(CODE_ROW, 1).value == "_checklist"
    ]
    if not sheets:
        problems.add("", "no data sheet: no sheet has the hidden code '_checklist' in cell A1")
    for ws in sheets:
        missing = [c for c, _w in COLUMNS if ws.cell(CODE_ROW, COL[c]).value != c]
        if missing:
            problems.add(
                f"sheet '{ws.title}' row {CODE_ROW}",
                f"the hidden column codes were changed ({', '.join(missing)})",
            )
            continue
        for r in range(FIRST_ROW, ws.max_row + 1):
            row = _read_row(ws, r, problems)
            if row is not None:
                out.append(row)
    return out


def _text(ws: Worksheet, r: int, code: str, problems: Problems, limit: int = 200) -> str:
    cell = ws.cell(r, COL[code])
    if (bad := cell_problem(cell)) is not None:
        problems.add(cell_where(ws, cell), bad)
        return ""
    text = "" if cell.value is None else str(cell.value).strip()
    if (bad := control_problem(text, f"the {code}", free_text=code == "note")) is not None:
        problems.add(cell_where(ws, cell), bad)
    elif len(text) > limit:
        problems.add(cell_where(ws, cell), f"the {code} is {len(text)} characters long; at most {limit}")
    return text.lstrip("'") if text.startswith("'") else text


def _read_row(ws: Worksheet, r: int, problems: Problems) -> BookRow | None:
    codes = [_text(ws, r, c, problems) for c in ("_checklist", "_object", "_item")]
    answer_cell = ws.cell(r, COL["answer"])
    note = _text(ws, r, "note", problems, MAX_NOTE)
    evidence = _text(ws, r, "evidence", problems, MAX_EVIDENCE)
    if (bad := cell_problem(answer_cell)) is not None:
        problems.add(cell_where(ws, answer_cell), bad)
        return None
    raw = answer_cell.value
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if note or evidence:
            problems.add(
                cell_where(ws, answer_cell),
                "a note or evidence without an answer; answer the item or clear them",
            )
        return None
    if not all(codes):
        problems.add(
            f"sheet '{ws.title}' row {r}", "an answer on a row without the hidden codes (was a row inserted?)"
        )
        return None
    answer = str(raw).strip().lower() if isinstance(raw, str) else raw
    points: float | None = None
    if answer in ("yes", "no"):
        points = 1.0 if answer == "yes" else 0.0
    elif answer != NOT_APPLICABLE:
        number = _whole(answer)
        if number is None:
            problems.add(
                cell_where(ws, answer_cell),
                f"answer {raw!r}: use yes, no or n/a, or the points of a scored item",
            )
            return None
        answer, points = str(number), float(number)
    checklist, obj, item = codes
    return BookRow(
        checklist, obj, item, str(answer), points, note, evidence, ws.title, answer_cell.coordinate
    )


def _whole(value: Any) -> int | None:
    """A whole number of points from a number cell or its text, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and float(value).is_integer():
        return int(value)
    if isinstance(value, str) and value.isdigit() and len(value) <= 3:
        return int(value)
    return None
