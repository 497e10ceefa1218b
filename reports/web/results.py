"""Results of runs for the report pages: a run is immutable, so its result is recomputed once
per process (the last MAX_CACHED_RUNS runs), with the department reports' `ReportCache`."""

from __future__ import annotations

import threading
from collections import OrderedDict

from sqlmodel import Session

from egov.models import EvaluationRun
from egov.record import load_result
from evaluation.engine import EvaluationResult
from reports.department import ReportCache

MAX_CACHED_RUNS = 8
_results: OrderedDict[tuple[str, str], tuple[EvaluationResult, ReportCache]] = OrderedDict()
_results_lock = threading.Lock()


def run_result(session: Session, run: EvaluationRun) -> tuple[EvaluationResult, ReportCache]:
    """The run's recomputed result and the cache for the department reports of that run."""
    key = (str(session.get_bind().engine.url), run.run_key)
    with _results_lock:
        if key in _results:
            _results.move_to_end(key)
            return _results[key]
    value: tuple[EvaluationResult, ReportCache] = (
        load_result(session, run, verify=False),
        # one department's report at a time: its own priorities and standing (the one pass
        # for every department would make the first page of a province wait for all 2,000)
        ReportCache(),
    )
    with _results_lock:
        _results[key] = value
        while len(_results) > MAX_CACHED_RUNS:
            _results.popitem(last=False)
    return value


def forget_results() -> None:
    with _results_lock:
        _results.clear()
