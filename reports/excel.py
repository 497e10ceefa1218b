"""The assessor's workbook of a run (openpyxl): the summary ranking, one sheet per category,
the indicator data with provenance, status and imputation/treatment flags, the values the
framework's rule flagged or left out (unverified, disputed), the weights and the methodology.

Every sheet has a frozen header row and number formats; scores carry a colour scale. Text
that a spreadsheet could run as a formula (= + - @ …) is written as text with the quote
prefix, never as a formula, and characters an XLSX file cannot hold (control characters in
stored names) are replaced, so the workbook is always written (egov.cells.write_text).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.formatting.rule import ColorScaleRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from egov.cells import excel_text, write_text
from egov.db import session_scope
from egov.models import AssessedObject, MetricValue
from egov.values import flag_counts
from reports.assessor_data import (
    AssessorData,
    coverage_rows,
    methods_rows,
    node_method_rows,
    ranking_frame,
    trend_scale_row,
    weight_rows,
)
from reports.checklists import checklist_source
from reports.i18n import coverage_text, t, unit_label
from reports.texts import note_body, run_note, source_text
from reports.values import flag_rows, status_label

HEADER_FILL = PatternFill("solid", fgColor="DCE6F1")
HEADER_FONT = Font(bold=True)
SCORE_FORMAT = "0.00"
RANK_FORMAT = "0"
SHARE_FORMAT = "0.00%"
VALUE_FORMAT = "#,##0.####"
DATE_FORMAT = "yyyy-mm-dd hh:mm"
# colour scale on scores: red (low) – yellow – green (high), ColorBrewer RdYlGn ends
SCORE_SCALE = {
    "start_type": "num",
    "start_value": 0,
    "start_color": "F8696B",
    "mid_type": "num",
    "mid_value": 50,
    "mid_color": "FFEB84",
    "end_type": "num",
    "end_value": 100,
    "end_color": "63BE7B",
}


def sheet_title(text: str, used: set[str]) -> str:
    """A valid, unique sheet name (≤ 31 characters, none of []:*?/\\)."""
    base = re.sub(r"[\[\]:*?/\\]", " ", excel_text(text)).strip().strip("'")[:31] or "Sheet"
    name, n = base, 1
    while name.lower() in used:
        n += 1
        suffix = f" ({n})"
        name = base[: 31 - len(suffix)] + suffix
    used.add(name.lower())
    return name


def _put(ws: Worksheet, row: int, column: int, value: Any, fmt: str | None = None) -> None:
    cell = ws.cell(row=row, column=column)
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return
    try:
        if pd.isna(value):
            return
    except (TypeError, ValueError):
        pass
    if isinstance(value, str):
        write_text(cell, value)
        return
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.replace(tzinfo=None)  # Excel has no time zones; stored times are UTC
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    cell.value = value
    if fmt:
        cell.number_format = fmt


def write_table(
    ws: Worksheet,
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    formats: dict[int, str] | None = None,
    score_columns: Sequence[int] = (),
    start_row: int = 1,
    widths: dict[int, float] | None = None,
) -> None:
    """Headers at `start_row` (bold, filled, frozen below), rows under them; `formats` by
    0-based column; `score_columns` get the colour scale."""
    formats = formats or {}
    for j, h in enumerate(headers, start=1):
        _put(ws, start_row, j, h)
        cell = ws.cell(row=start_row, column=j)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for i, row in enumerate(rows, start=start_row + 1):
        for j, value in enumerate(row):
            _put(ws, i, j + 1, value, formats.get(j))
    last = start_row + len(rows)
    ws.freeze_panes = ws.cell(row=start_row + 1, column=1).coordinate
    if rows:
        ws.auto_filter.ref = f"A{start_row}:{get_column_letter(len(headers))}{last}"
        for j in score_columns:
            letter = get_column_letter(j + 1)
            ws.conditional_formatting.add(
                f"{letter}{start_row + 1}:{letter}{last}", ColorScaleRule(**SCORE_SCALE)
            )
    for j, h in enumerate(headers, start=1):
        width = (widths or {}).get(j - 1) or min(45.0, max(10.0, len(str(h)) * 1.3 + 2))
        ws.column_dimensions[get_column_letter(j)].width = width


def _summary(wb: Workbook, data: AssessorData, ranking: pd.DataFrame, used: set[str]) -> None:
    lang, fw = data.lang, data.framework
    ws = wb.create_sheet(sheet_title(t("xl.summary", lang), used))
    # the category league tables first, then the coverage and the overall rank (or why
    # there is none: the coverage rule)
    headers = [t("col.department", lang), t("col.department_code", lang)]
    cols = ["label", "code"]
    formats: dict[int, str] = {}
    scores = []
    for cat in fw.categories:
        headers += [
            f"{cat.label(lang)} · {t('col.score', lang)}",
            f"{cat.label(lang)} · {t('col.rank', lang)}",
        ]
        cols += [f"score:{cat.code}", f"rank:{cat.code}"]
        formats[len(cols) - 2] = SCORE_FORMAT
        formats[len(cols) - 1] = RANK_FORMAT
        scores.append(len(cols) - 2)
    headers += [
        t("rank.coverage", lang),
        t("col.rank", lang),
        t("col.score", lang),
        t("col.peer_group", lang),
        t("col.peer_rank", lang),
    ]
    cols += ["coverage_text", "overall_cell", "score", "peer_group", "peer_rank"]
    formats.update({len(cols) - 4: RANK_FORMAT, len(cols) - 3: SCORE_FORMAT, len(cols) - 1: RANK_FORMAT})
    scores.append(len(cols) - 3)
    ranking = ranking.assign(
        coverage_text=[coverage_text(n, len(fw.categories)) for n in ranking["coverage"]],
        overall_cell=[
            o if pd.isna(r) else r for r, o in zip(ranking["rank"], ranking["overall"], strict=True)
        ],
    )
    if data.uncertainty is not None:
        for key, c in (
            ("col.rank_median", "median_rank"),
            ("col.rank_p05", "rank_p05"),
            ("col.rank_p95", "rank_p95"),
            ("col.tier", "tier"),
        ):
            headers.append(t(key, lang))
            cols.append(c)
            formats[len(cols) - 1] = "0.0" if c == "median_rank" else RANK_FORMAT
    rows = [list(r) for r in ranking.reindex(columns=cols).itertuples(index=False)]
    write_table(ws, headers, rows, formats=formats, score_columns=scores, widths={0: 40, len(cols) - 4: 24})


def _categories(wb: Workbook, data: AssessorData, ranking: pd.DataFrame, used: set[str]) -> None:
    lang, fw, r = data.lang, data.framework, data.result
    assert r.department_scores is not None and r.department_ranks is not None
    for cat in fw.categories:
        ws = wb.create_sheet(sheet_title(cat.label(lang), used))
        dims = [c for c in cat.children if c in r.department_scores.columns]
        headers = [
            t("col.rank", lang),
            t("col.department", lang),
            t("col.department_code", lang),
            t("col.score", lang),
        ]
        headers += [data.node_label(d) for d in dims]
        sub = ranking.dropna(subset=[f"rank:{cat.code}"]).sort_values(
            [f"rank:{cat.code}", "label"], kind="mergesort"
        )
        rows = []
        for code, label in zip(sub["code"], sub["label"], strict=True):
            rows.append(
                [
                    r.department_ranks.at[code, cat.code],
                    label,
                    code,
                    r.department_scores.at[code, cat.code],
                    *(r.department_scores.at[code, d] for d in dims),
                ]
            )
        formats = {0: RANK_FORMAT, **{j: SCORE_FORMAT for j in range(3, 4 + len(dims))}}
        write_table(
            ws, headers, rows, formats=formats, score_columns=list(range(3, 4 + len(dims))), widths={1: 40}
        )


def provenance(session: Session, data: AssessorData) -> pd.DataFrame:
    """Current metric values of the run's period with their provenance, by (unit, indicator)."""
    rows = session.execute(
        sa_select(
            col(AssessedObject.code),
            col(MetricValue.indicator),
            col(MetricValue.value),
            col(MetricValue.status),
            col(MetricValue.source_file),
            col(MetricValue.source_hash),
            col(MetricValue.sheet),
            col(MetricValue.cell),
            col(MetricValue.imported_by),
            col(MetricValue.imported_at),
        )
        .join(AssessedObject, col(AssessedObject.id) == col(MetricValue.object_id))
        .where(col(MetricValue.period_id) == data.period.id, col(MetricValue.superseded_at).is_(None))
    ).all()
    cols = [
        "unit",
        "indicator",
        "stored_value",
        "status",
        "source_file",
        "source_hash",
        "sheet",
        "cell",
        "imported_by",
        "imported_at",
    ]
    return (
        pd.DataFrame(rows, columns=cols)
        .drop_duplicates(["unit", "indicator"], keep="last")
        .set_index(["unit", "indicator"])
    )


def _data_sheet(wb: Workbook, data: AssessorData, prov: pd.DataFrame, used: set[str]) -> None:
    lang, fw, r = data.lang, data.framework, data.result
    ws = wb.create_sheet(sheet_title(t("xl.data", lang), used))
    flags = r.flags()
    headers = [
        t("col.object_code", lang),
        t("col.object", lang),
        t("col.department_code", lang),
        t("col.indicator", lang) + " · " + t("col.code", lang),
        t("col.indicator", lang),
        t("col.category", lang),
        t("col.raw", lang),
        t("col.unit", lang),
        t("col.value", lang),
        t("col.normalised", lang),
        t("col.imputed", lang),
        t("col.treated", lang),
        t("col.flag", lang),
        t("col.status", lang),
        t("col.source_file", lang),
        t("col.source_hash", lang),
        t("col.sheet", lang),
        t("col.cell", lang),
        t("col.importer", lang),
        t("col.imported_at", lang),
    ]
    category_of = {}
    for cat in fw.categories:
        for code in fw.nodes:
            if cat.code in fw.ancestors(code):
                category_of[code] = cat.label(lang)
    yes, no = t("report.yes", lang), t("report.no", lang)
    applicable = r.applicable.reindex_like(r.raw).fillna(False).astype(bool)
    imputed = r.imputed_mask.reindex_like(r.raw).fillna(False).astype(bool)
    treated = r.treated_mask.reindex_like(r.raw).fillna(False).astype(bool)
    dept = r.units["department"] if "department" in r.units else pd.Series(dtype=str)
    rows = []
    for unit in r.raw.index:
        for ind in r.raw.columns:
            if not applicable.at[unit, ind]:
                continue
            p = prov.loc[(unit, ind)] if (unit, ind) in prov.index else None
            node = fw.nodes.get(ind)
            rated = node is not None and node.source == "rating"
            source = (
                source_text(p["source_file"], lang)
                if p is not None
                else (t("src.rating_rollup", lang) if rated else node and checklist_source(fw, node, lang))
            )
            rows.append(
                [
                    unit,
                    data.object_names.get(str(unit)) or unit,
                    dept.get(unit),
                    ind,
                    data.node_label(str(ind)),
                    category_of.get(ind),
                    r.raw.at[unit, ind],
                    unit_label(node.unit, lang) if node is not None else None,
                    r.treated.at[unit, ind] if ind in r.treated.columns and unit in r.treated.index else None,
                    r.normalised.at[unit, ind]
                    if ind in r.normalised.columns and unit in r.normalised.index
                    else None,
                    yes if imputed.at[unit, ind] else no,
                    yes if treated.at[unit, ind] else no,
                    flags.at[unit, ind] if unit in flags.index and ind in flags.columns else None,
                    None if p is None else status_label(str(p["status"]), lang),
                    source,
                    None if p is None else p["source_hash"],
                    None if p is None else p["sheet"],
                    None if p is None else p["cell"],
                    None if p is None else p["imported_by"],
                    None if p is None else p["imported_at"],
                ]
            )
    formats = {6: VALUE_FORMAT, 8: VALUE_FORMAT, 9: SCORE_FORMAT, 19: DATE_FORMAT}
    write_table(ws, headers, rows, formats=formats, score_columns=[9], widths={1: 36, 4: 36, 14: 30, 19: 18})


def _flags_sheet(wb: Workbook, data: AssessorData, used: set[str]) -> None:
    """The values the run's framework rule flagged (scored, marked) or left out (issue 16: the
    unverified and disputed values are visible in every report), with the counts on top."""
    lang = data.lang
    ws = wb.create_sheet(sheet_title(t("values.flags_sheet", lang), used))
    headers = [
        t(f"values.{k}", lang)
        for k in ("department", "object", "indicator", "value", "unit", "status", "rule")
    ]
    if data.flags.empty:
        write_table(ws, [t("values.flags_none", lang)], [], widths={0: 60})
        return
    rows = flag_rows(data.flags, data.framework, lang)
    write_table(ws, headers, rows, formats={3: VALUE_FORMAT}, widths={1: 16, 2: 40, 6: 30})
    _put(ws, len(rows) + 3, 1, t("values.flags_count", lang, **flag_counts(data.flags)))


def _weights_sheet(wb: Workbook, data: AssessorData, used: set[str]) -> None:
    lang = data.lang
    ws = wb.create_sheet(sheet_title(t("xl.weights", lang), used))
    headers = [
        t("col.code", lang),
        t("col.name", lang),
        t("col.level", lang),
        t("col.weight", lang),
        t("col.effective_weight", lang),
    ]
    write_table(
        ws,
        headers,
        [list(r) for r in weight_rows(data)],
        formats={2: "0", 3: "0.0000", 4: SHARE_FORMAT},
        widths={0: 26, 1: 40},
    )


def _methodology(wb: Workbook, data: AssessorData, used: set[str]) -> None:
    lang, run, fw, r = data.lang, data.run, data.framework, data.result
    ws = wb.create_sheet(sheet_title(t("xl.methodology", lang), used))
    rows: list[list[Any]] = [
        [t("run.id", lang), run.run_key],
        [t("run.period", lang), data.period.code],
        [t("method.framework", lang), fw.name.get(lang) or fw.code],
        [t("method.framework_code", lang), fw.code],
        [t("method.framework_version", lang), fw.version],
        [t("method.framework_hash", lang), r.framework_hash],
        [t("run.created", lang), run.created_at],
        [t("run.created_by", lang), run.created_by],
        [t("run.inputs_hash", lang), run.inputs_hash],
        [t("run.results_hash", lang), run.results_hash],
        [t("run.software", lang), run.software_version],
        [t("run.note", lang), run_note(run.note or "", lang)],
        list(trend_scale_row(data)),
        [],
        [t("method.stages", lang)],
        *[[stage, method, source] for stage, method, source in methods_rows(data)],
    ]
    node_rows = node_method_rows(data)
    if node_rows:
        rows += [[], [t("method.node_methods", lang)], *[[f"{c} · {n}", s, m] for c, n, s, m in node_rows]]
    rows += [[], [t("method.coverage", lang)], *[[k, v] for k, v in coverage_rows(data)]]
    if data.uncertainty is not None:
        rows += [
            [],
            [t("sec.uncertainty", lang)],
            [t("sec.uncertainty_note", lang, n=data.mc_n, seed=data.mc_seed)],
        ]
    rows += [[], [t("method.warnings", lang)], *[[note_body(w, lang)] for w in r.notes()]]
    if data.is_demo:
        rows = [[t("report.demo_banner", lang)], [], *rows]
    write_table(
        ws,
        [t("col.item", lang), t("col.value", lang), ""],
        rows,
        formats={1: DATE_FORMAT},
        widths={0: 40, 1: 70, 2: 40},
    )
    # only the creation time is a date; the other values of column B are text or counts
    for row in ws.iter_rows(min_row=2, min_col=2, max_col=2):
        for cell in row:
            if not isinstance(cell.value, datetime):
                cell.number_format = "General"


def write_workbook(data: AssessorData, path: Path, session: Session | None = None) -> Path:
    """Write the assessor's workbook for the gathered run data."""
    ranking = ranking_frame(data)
    prov = _provenance_or_empty(session, data)
    wb = Workbook()
    first = wb.active
    assert first is not None
    wb.remove(first)  # every sheet is created in order below
    used: set[str] = set()
    # the category league tables first, then the summary with the overall ranking (issue 14:
    # "the category league tables come first in every report", as the paper's order implies)
    _categories(wb, data, ranking, used)
    _summary(wb, data, ranking, used)
    _data_sheet(wb, data, prov, used)
    _flags_sheet(wb, data, used)
    _weights_sheet(wb, data, used)
    _methodology(wb, data, used)
    wb.properties.title = t("report.assessor.title", data.lang)
    wb.properties.creator = "egov-eval"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _provenance_or_empty(session: Session | None, data: AssessorData) -> pd.DataFrame:
    if session is None:
        with session_scope() as s:
            return provenance(s, data)
    return provenance(session, data)
