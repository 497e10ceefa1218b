"""The department reports as files: department-<CODE>.html, one per department."""

from __future__ import annotations

import re
from pathlib import Path

from sqlmodel import Session

from egov.models import EvaluationRun
from egov.record import load_result
from evaluation.engine import EvaluationResult
from reports.department.data import ReportCache, department_report
from reports.department.html import render_department_report


def safe_filename(code: str) -> str:
    """A department code as a file name part (anything unusual replaced)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", code).strip("._") or "department"


def write_department_report(
    session: Session,
    run: EvaluationRun,
    department: str,
    out_dir: Path,
    lang: str = "zh-Hant",
    result: EvaluationResult | None = None,
    cache: ReportCache | None = None,
) -> Path:
    """Write department-<CODE>.html into out_dir and return its path."""
    report = department_report(session, run, department, result, cache)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"department-{safe_filename(department)}.html"
    path.write_text(render_department_report(report, lang), encoding="utf-8")
    return path


def write_department_reports(
    session: Session, run: EvaluationRun, out_dir: Path, lang: str = "zh-Hant"
) -> list[Path]:
    """One report per department scored in the run (the run is recomputed once)."""
    result = load_result(session, run, verify=False)
    assert result.department_scores is not None
    cache = ReportCache(many=True)
    return [
        write_department_report(session, run, str(d), out_dir, lang, result, cache)
        for d in sorted(map(str, result.department_scores.index))
    ]
