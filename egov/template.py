"""`egov template`: the Excel workbook assessors fill in with metric values.

Layout (read back by `egov.imports.workbook`):

* an instructions sheet (in the chosen language), first;
* one sheet per category that has metric-source indicators. Row 1 (hidden) holds the stable
  codes — `_object` over the object column, `_status` over the status column and the
  indicator code over each indicator column; row 2 (hidden) holds each indicator's unit;
  row 3 is the visible header (name in the chosen language, unit, direction); objects start
  on row 4. Column A (hidden) holds the object code. Renaming a header, a sheet or a
  visible code therefore does not change what is imported;
* a hidden `_meta` sheet: framework code, version and content hash, period, language and an
  indicator table (unit, valid range, direction).

Every input cell has data validation (a decimal within the indicator's `range`, with an
input message and an error message; a list for the status column). Cells of indicators that
do not apply to an object's kind are grey, locked and say `n/a`. Text the workbook shows that
begins with `=`, `+`, `-`, `@` (or a tab / carriage return) is stored as text with Excel's
quote prefix, never as a formula (formula injection, OWASP "CSV injection"), and characters
an XLSX file cannot hold are replaced (`egov.cells.write_text`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select as sa_select
from sqlmodel import Session
from sqlmodel import col as sql_col

from egov import __version__
from egov.cells import excel_text, write_text
from egov.errors import EgovError
from egov.langs import LANGUAGES, unit_name
from egov.models import AssessedObject, Department
from indicators.framework import Framework, Node, applies

TEMPLATE_FORMAT = "egov-metric-template"
TEMPLATE_FORMAT_VERSION = "1"
META_SHEET = "_meta"
OBJECT_CODE = "_object"  # row 1 over the hidden object-code column
STATUS_CODE = "_status"
INFO_CODES = ("_code", "_name", "_department")  # informational columns, not imported
CODE_ROW, UNIT_ROW, HEADER_ROW, FIRST_DATA_ROW = 1, 2, 3, 4
FIRST_INDICATOR_COL = 6  # A object code (hidden), B code, C name, D department, E status
NOT_APPLICABLE = "n/a"
SUBMITTED = "submitted"
STATUSES = (SUBMITTED,)  # a department submits; only the assessor verifies (egov.values)
LANGS = LANGUAGES

GREY = PatternFill("solid", fgColor="D9D9D9")
INPUT = PatternFill("solid", fgColor="FFF9E5")
HEADER = PatternFill("solid", fgColor="DDEBF7")
THIN = Side(style="thin", color="BFBFBF")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)

TEXT: dict[str, dict[str, str]] = {
    "instructions": {"zh-Hant": "填寫說明", "pt": "Instruções", "en": "Instructions"},
    "code": {"zh-Hant": "代碼", "pt": "Código", "en": "Code"},
    "name": {"zh-Hant": "名稱", "pt": "Nome", "en": "Name"},
    "department": {"zh-Hant": "部門", "pt": "Serviço", "en": "Department"},
    "status": {"zh-Hant": "狀態", "pt": "Estado", "en": "Status"},
    "up": {"zh-Hant": "↑ 越高越好", "pt": "↑ quanto maior, melhor", "en": "↑ higher is better"},
    "down": {"zh-Hant": "↓ 越低越好", "pt": "↓ quanto menor, melhor", "en": "↓ lower is better"},
    "prompt_title": {"zh-Hant": "輸入數值", "pt": "Introduza um número", "en": "Enter a number"},
    "prompt": {
        "zh-Hant": "{name}：{lo} 至 {hi} 之間的數值（{unit}）。不適用或未知則留空。",
        "pt": "{name}: um número entre {lo} e {hi} ({unit}). Deixe em branco se desconhecido.",
        "en": "{name}: a number from {lo} to {hi} ({unit}). Leave blank if unknown.",
    },
    "error_title": {"zh-Hant": "數值無效", "pt": "Valor inválido", "en": "Invalid value"},
    "error": {
        "zh-Hant": "請輸入 {lo} 至 {hi} 之間的數值（{unit}），不可輸入文字或公式。",
        "pt": "Introduza um número entre {lo} e {hi} ({unit}); sem texto nem fórmulas.",
        "en": "Enter a number from {lo} to {hi} ({unit}); no text and no formulas.",
    },
    "status_prompt": {
        "zh-Hant": "submitted（已提交，預設）。只有評估方可核實數值。",
        "pt": "submitted (submetido, por omissão). Só o avaliador verifica os valores.",
        "en": "submitted (the default). Only the assessor verifies values.",
    },
    "status_error": {
        "zh-Hant": "請從清單選擇：submitted，或留空。",
        "pt": "Escolha da lista: submitted, ou deixe em branco.",
        "en": "Choose from the list: submitted, or leave blank.",
    },
}

INSTRUCTIONS: dict[str, list[str]] = {
    "en": [
        "Metric collection template — {framework} {version}, period {period}",
        "",
        "1. Each sheet after this one is a category of the framework. Each row is one assessed object "
        "(code, name and department); each yellow cell is one indicator value for that object.",
        "2. Type numbers only: no formulas, no text, no units. The allowed range, unit and direction "
        "are shown in the header and when you select a cell.",
        "3. Grey cells marked n/a are indicators that do not apply to that kind of object: leave them.",
        "4. Leave a cell blank when the value is unknown. Status: submitted (or blank); only the assessor verifies.",
        "5. Do not insert, delete or merge rows or columns, and do not unhide the hidden rows, column "
        "or sheet: they hold the codes that the import reads. Renaming headers or sheets is harmless.",
        "6. Return the file unchanged in format (.xlsx). The assessor imports it with "
        "`egov import metrics FILE --period {period}`; every problem is reported with its sheet and "
        "cell and nothing is imported until the file is correct.",
    ],
    "pt": [
        "Modelo de recolha de métricas — {framework} {version}, período {period}",
        "",
        "1. Cada folha a seguir a esta é uma categoria do quadro de indicadores. Cada linha é um objecto "
        "avaliado (código, nome e serviço); cada célula amarela é o valor de um indicador.",
        "2. Introduza apenas números: sem fórmulas, texto ou unidades. O intervalo permitido, a unidade e "
        "o sentido aparecem no cabeçalho e ao seleccionar a célula.",
        "3. As células cinzentas marcadas n/a são indicadores que não se aplicam a esse tipo de objecto.",
        "4. Deixe a célula em branco se o valor for desconhecido. Estado: submitted (ou em branco); "
        "só o avaliador verifica os valores.",
        "5. Não insira, apague nem junte linhas ou colunas, e não mostre as linhas, coluna ou folha "
        "ocultas: contêm os códigos lidos pela importação. Mudar o nome de cabeçalhos ou folhas não "
        "tem efeito.",
        "6. Devolva o ficheiro em formato .xlsx. O avaliador importa-o com "
        "`egov import metrics FICHEIRO --period {period}`; cada problema é indicado com a folha e a "
        "célula e nada é importado enquanto o ficheiro não estiver correcto.",
    ],
    "zh-Hant": [
        "指標數據收集範本 — {framework} {version}，評估期 {period}",
        "",
        "1. 本頁之後的每個工作表對應框架中的一個類別。每一行是一個評估對象（代碼、名稱及所屬部門）；每個黃色儲存格是該對象的一個指標數值。",
        "2. 只可輸入數字：不可輸入公式、文字或單位。允許範圍、單位及方向顯示於表頭，選取儲存格時亦會提示。",
        "3. 標示 n/a 的灰色儲存格表示該指標不適用於此類對象，請勿填寫。",
        "4. 數值未知時請留空。狀態：submitted（或留空）；只有評估方可核實數值。",
        "5. 請勿插入、刪除或合併行列，亦勿取消隱藏已隱藏的行、列或工作表：其中載有匯入所需的代碼。更改表頭或工作表名稱不受影響。",
        "6. 請以 .xlsx 格式交回。評估方以 `egov import metrics 檔案 --period {period}` 匯入；所有問題均會列出工作表及儲存格，檔案完全正確前不會匯入任何數據。",
    ],
}


@dataclass(frozen=True)
class TemplateObject:
    code: str
    name: str
    department: str
    kind: str
    subkind: str | None


def metric_indicators(framework: Framework, category: Node) -> list[Node]:
    """The metric-source indicators under a category, in file order."""
    out: list[Node] = []

    def visit(code: str) -> None:
        node = framework.nodes[code]
        if node.is_indicator:
            if node.source == "metric":
                out.append(node)
            return
        for child in node.children:
            visit(child)

    visit(category.code)
    return out


def _fmt(x: float) -> str:
    return f"{x:g}"


def _sheet_title(label: str, used: set[str]) -> str:
    title = "".join("_" if ch in "[]:*?/\\" else ch for ch in excel_text(label)).strip("'") or "sheet"
    title = title[:31]
    base, n = title, 2
    while title.lower() in used or title == META_SHEET:
        suffix = f" ({n})"
        title = base[: 31 - len(suffix)] + suffix
        n += 1
    used.add(title.lower())
    return title


def build_template(
    framework: Framework, objects: list[TemplateObject], period: str, lang: str = "en", operator: str = ""
) -> Workbook:
    """The metric-collection workbook for `period` (see the module docstring for its layout)."""
    if lang not in LANGS:
        raise EgovError(f"--lang {lang!r}: use zh-Hant, pt or en")
    wb = Workbook()
    intro = wb.active
    assert intro is not None
    used: set[str] = set()
    intro.title = _sheet_title(TEXT["instructions"][lang], used)
    sheets: list[tuple[str, str]] = []
    for category in framework.categories:
        indicators = metric_indicators(framework, category)
        if not indicators:
            continue
        rows = [o for o in objects if any(applies(n.applies_to, o.kind, o.subkind) for n in indicators)]
        ws = wb.create_sheet(_sheet_title(category.label(lang), used))
        _category_sheet(ws, indicators, rows, lang)
        sheets.append((ws.title, category.code))
    if not sheets:
        raise EgovError(f"framework {framework.code} has no metric-source indicators: nothing to collect")
    _instructions(intro, framework, period, lang, sheets)
    _meta(wb.create_sheet(META_SHEET), framework, period, lang, operator, intro.title, sheets)
    return wb


def _category_sheet(ws: Worksheet, indicators: list[Node], objects: list[TemplateObject], lang: str) -> None:
    _category_header(ws, indicators, lang)
    status_dv, validations = _category_validations(ws, indicators, lang)
    for r, obj in enumerate(objects, start=FIRST_DATA_ROW):
        _category_row(ws, r, obj, indicators, status_dv, validations)
    ws.freeze_panes = ws.cell(FIRST_DATA_ROW, FIRST_INDICATOR_COL).coordinate
    ws.protection.sheet = True  # only the input cells are unlocked; no password
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    ws.protection.sort = False
    ws.protection.autoFilter = False


def _category_header(ws: Worksheet, indicators: list[Node], lang: str) -> None:
    """Rows 1-3: the hidden codes and units, and the visible header."""
    fixed = [(OBJECT_CODE, "", 16), ("_code", TEXT["code"][lang], 26), ("_name", TEXT["name"][lang], 40)]
    fixed += [("_department", TEXT["department"][lang], 14), (STATUS_CODE, TEXT["status"][lang], 12)]
    for col, (code, header, width) in enumerate(fixed, start=1):
        ws.cell(CODE_ROW, col, code)
        write_text(ws.cell(HEADER_ROW, col), header)
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.cell(UNIT_ROW, 1, "_unit")
    for i, node in enumerate(indicators):
        col = FIRST_INDICATOR_COL + i
        ws.cell(CODE_ROW, col, node.code)
        write_text(ws.cell(UNIT_ROW, col), node.unit)
        arrow = TEXT["up" if node.direction > 0 else "down"][lang]
        unit = unit_name(node.unit, lang)
        write_text(ws.cell(HEADER_ROW, col), f"{node.label(lang)}\n" + (f"[{unit}] " if unit else "") + arrow)
        ws.column_dimensions[get_column_letter(col)].width = 18
    for col in range(1, FIRST_INDICATOR_COL + len(indicators)):
        cell = ws.cell(HEADER_ROW, col)
        cell.font = Font(bold=True)
        cell.fill = HEADER
        cell.border = BOX
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.row_dimensions[HEADER_ROW].height = 62
    ws.row_dimensions[CODE_ROW].hidden = True
    ws.row_dimensions[UNIT_ROW].hidden = True
    ws.column_dimensions["A"].hidden = True


def _category_validations(
    ws: Worksheet, indicators: list[Node], lang: str
) -> tuple[DataValidation, dict[str, DataValidation]]:
    """The status list and, per indicator, a decimal within its valid range."""
    status_dv = DataValidation(
        type="list",
        formula1='"' + ",".join(STATUSES) + '"',
        allow_blank=True,
        showErrorMessage=True,
        showInputMessage=True,
        errorTitle=TEXT["error_title"][lang],
        error=TEXT["status_error"][lang],
        promptTitle=TEXT["status"][lang],
        prompt=TEXT["status_prompt"][lang],
    )
    ws.add_data_validation(status_dv)
    validations: dict[str, DataValidation] = {}
    for node in indicators:
        lo, hi = node.valid_range if node.valid_range is not None else (-1e15, 1e15)
        fill = {
            "name": node.label(lang),
            "lo": _fmt(lo),
            "hi": _fmt(hi),
            "unit": unit_name(node.unit, lang) or "—",
        }
        dv = DataValidation(
            type="decimal",
            operator="between",
            formula1=_fmt(lo),
            formula2=_fmt(hi),
            allow_blank=True,
            showErrorMessage=True,
            showInputMessage=True,
            errorStyle="stop",
            errorTitle=TEXT["error_title"][lang][:32],
            error=excel_text(TEXT["error"][lang].format(**fill))[:255],
            promptTitle=TEXT["prompt_title"][lang][:32],
            prompt=excel_text(TEXT["prompt"][lang].format(**fill))[:255],
        )
        ws.add_data_validation(dv)
        validations[node.code] = dv
    return status_dv, validations


def _category_row(
    ws: Worksheet,
    r: int,
    obj: TemplateObject,
    indicators: list[Node],
    status_dv: DataValidation,
    validations: dict[str, DataValidation],
) -> None:
    """One object's row: its codes and name, the status and an input cell per indicator."""
    write_text(ws.cell(r, 1), obj.code)
    write_text(ws.cell(r, 2), obj.code)
    write_text(ws.cell(r, 3), obj.name)
    write_text(ws.cell(r, 4), obj.department)
    status = ws.cell(r, 5)
    status.protection = Protection(locked=False)
    status.fill = INPUT
    status.border = BOX
    status_dv.add(status)
    for i, node in enumerate(indicators):
        cell = ws.cell(r, FIRST_INDICATOR_COL + i)
        cell.border = BOX
        if applies(node.applies_to, obj.kind, obj.subkind):
            cell.protection = Protection(locked=False)
            cell.fill = INPUT
            cell.number_format = "General"
            validations[node.code].add(cell)
        else:
            cell.value = NOT_APPLICABLE
            cell.fill = GREY
            cell.font = Font(color="808080")
            cell.alignment = Alignment(horizontal="center")


def _instructions(
    ws: Worksheet, framework: Framework, period: str, lang: str, sheets: list[tuple[str, str]]
) -> None:
    fill = {
        "framework": framework.name.get(lang, framework.code),
        "version": framework.version,
        "period": period,
    }
    lines = [line.format(**fill) for line in INSTRUCTIONS[lang]]
    lines += ["", *[f"• {title}" for title, _code in sheets]]
    for r, line in enumerate(lines, start=1):
        write_text(ws.cell(r, 1), line)
        ws.cell(r, 1).alignment = Alignment(wrap_text=True, vertical="top")
    ws.cell(1, 1).font = Font(bold=True, size=14)
    ws.column_dimensions["A"].width = 110


def write_meta(ws: Worksheet, pairs: list[tuple[str, Any]], operator: str) -> list[tuple[str, Any]]:
    """The `_meta` sheet's key/value rows of a workbook this project writes: `pairs`, then when,
    by whom and by which version it was generated (values formula-safe); the rows written."""
    pairs = [
        *pairs,
        ("generated_at", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")),
        ("generated_by", operator),
        ("software_version", __version__),
    ]
    for r, (key, value) in enumerate(pairs, start=1):
        ws.cell(r, 1, key)
        write_text(ws.cell(r, 2), str(value))
    return pairs


def _meta(
    ws: Worksheet,
    framework: Framework,
    period: str,
    lang: str,
    operator: str,
    instructions_title: str,
    sheets: list[tuple[str, str]],
) -> None:
    pairs: list[tuple[str, Any]] = [
        ("format", TEMPLATE_FORMAT),
        ("format_version", TEMPLATE_FORMAT_VERSION),
        ("framework_code", framework.code),
        ("framework_version", framework.version),
        ("framework_hash", framework.content_hash),
        ("period", period),
        ("lang", lang),
        ("instructions_sheet", instructions_title),
    ]
    pairs = write_meta(ws, pairs, operator)
    r = len(pairs) + 2
    for c, h in enumerate(("indicator", "category", "unit", "min", "max", "direction"), start=1):
        ws.cell(r, c, h)
    for _title, code in sheets:
        for node in metric_indicators(framework, framework.nodes[code]):
            r += 1
            lo, hi = node.valid_range if node.valid_range is not None else (None, None)
            ws.cell(r, 1, node.code)
            ws.cell(r, 2, code)
            write_text(ws.cell(r, 3), node.unit)
            ws.cell(r, 4, lo)
            ws.cell(r, 5, hi)
            ws.cell(r, 6, node.direction)
    ws.sheet_state = "hidden"
    ws.protection.sheet = True


def template_objects(session: Session, lang: str = "en") -> list[TemplateObject]:
    """Every registered object with its name in `lang` and its department, by department."""
    name_col = {"zh-Hant": AssessedObject.name_zh, "pt": AssessedObject.name_pt}.get(
        lang, AssessedObject.name_en
    )
    rows = session.execute(
        sa_select(
            sql_col(AssessedObject.code),
            sql_col(name_col),
            sql_col(AssessedObject.name_en),
            sql_col(Department.code),
            sql_col(AssessedObject.kind),
            sql_col(AssessedObject.subkind),
        )
        .join(Department, sql_col(Department.id) == sql_col(AssessedObject.department_id))
        .order_by(sql_col(Department.code), sql_col(AssessedObject.code))
    ).all()
    if not rows:
        raise EgovError("no assessed objects registered; run `egov import departments FILE` first")
    return [
        TemplateObject(code, name or name_en or code, dept, kind, sub)
        for code, name, name_en, dept, kind, sub in rows
    ]


def write_template(wb: Workbook, out: Path) -> None:
    """Save the workbook (creating the folder); refuses any extension but .xlsx."""
    if out.suffix.lower() != ".xlsx":
        raise EgovError(f"--out {out}: the template is an Excel workbook; name it *.xlsx")
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        wb.save(out)
    except OSError as exc:
        raise EgovError(f"cannot write {out}: {exc.strerror or exc}") from exc
