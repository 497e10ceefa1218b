"""Chart specs built once and filled many times: the charts a department report draws for
every department of a run (its ranking, its category scores) differ from one department to
the next only in their data, the rows' order, the height and the reader's department.
Building an altair chart and turning it into a Vega-Lite spec costs about 20 ms each (altair
copies and walks its schema objects), so for 2,000 department reports the charts alone
would take minutes.

`filled_spec` builds the chart with altair once per `key` (everything else that shapes the
spec: language, columns, title) with placeholders for the order, the height and the
highlighted label, keeps that template, and fills the placeholders and the data for each
use; the result is the spec altair would give (tests/reports/test_chart_specs.py compares
them), so a templated chart looks exactly like one built directly.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable
from typing import Any

import altair as alt
import pandas as pd

__all__ = ["HEIGHT", "HIGHLIGHT", "SORT", "filled_spec"]

# placeholders no real value can be (a department label would not look like these)
HIGHLIGHT = "\u2063egov-template-highlight\u2063"
SORT = "\u2063egov-template-sort\u2063"
HEIGHT = -7_777_777

_TEMPLATES: dict[Hashable, dict[str, Any]] = {}
MAX_TEMPLATES = 256  # languages × chart kinds × shapes: a few; a bound against misuse


def filled_spec(
    key: Hashable,
    build: Callable[[str | None, list[str], int], alt.TopLevelMixin],
    data: pd.DataFrame,
    *,
    order: list[str],
    height: int,
    highlight: str | None,
) -> dict[str, Any]:
    """The Vega-Lite spec of `build(highlight, order, height)` on `data` (its one dataset):
    built by altair once per `key` with placeholders, then filled. `build` must draw `data`
    as the chart's only dataset and put `order`, `height` and `highlight` into the spec
    as given (`highlight` inside expressions as a JSON string literal); `key` must hold
    everything else the spec depends on, including whether there is a highlight."""
    template = _TEMPLATES.get(key)
    if template is None:
        template = build(HIGHLIGHT if highlight is not None else None, [SORT], HEIGHT).to_dict(validate=False)
        datasets = template.get("datasets")
        if not isinstance(datasets, dict) or len(datasets) != 1:
            raise ValueError("a templated chart needs exactly one dataset")
        if len(_TEMPLATES) >= MAX_TEMPLATES:
            _TEMPLATES.clear()
        _TEMPLATES[key] = template
    # NaN as null, as altair writes it (JSON has no NaN)
    records = data.astype(object).where(data.notna(), None).to_dict(orient="records")
    literal = (json.dumps(HIGHLIGHT), json.dumps(highlight) if highlight is not None else "")
    return _fill(template, records, order, height, highlight, literal)


def _fill(
    node: Any,
    records: list[dict[Any, Any]],
    order: list[str],
    height: int,
    highlight: str | None,
    literal: tuple[str, str],
) -> Any:
    """A copy of the template `node` with the placeholders replaced."""
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for k, v in node.items():
            if k == "datasets":
                out[k] = {name: records for name in v}
            else:
                out[k] = _fill(v, records, order, height, highlight, literal)
        return out
    if isinstance(node, list):
        if node == [SORT]:
            return list(order)
        return [_fill(v, records, order, height, highlight, literal) for v in node]
    if isinstance(node, str) and highlight is not None:
        if node == HIGHLIGHT:
            return highlight
        if literal[0] in node:
            return node.replace(literal[0], literal[1])
        return node
    if node == HEIGHT and not isinstance(node, bool):
        return height
    return node
