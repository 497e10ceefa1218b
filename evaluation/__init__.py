"""The pure evaluation engine: DataFrames in, DataFrames out; no database, file or HTTP.

`evaluate`, `EvaluationSpec` and `EvaluationResult` live in `evaluation.engine`; they are
re-exported lazily because the framework model (`indicators`) imports this package's
method registries.
"""

from typing import Any

__all__ = ["EvaluationResult", "EvaluationSpec", "evaluate"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from evaluation import engine

        return getattr(engine, name)
    raise AttributeError(name)
