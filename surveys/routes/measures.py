"""GET /measures: the rating measures per object from the SQL roll-ups."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from fastapi import APIRouter

from egov.deps import ReaderKey, SessionDep
from egov.settings import get_settings
from surveys.rollup import rating_measures
from surveys.routes.common import API, KEYED, doc, own_objects, period

router = APIRouter(prefix=API, tags=["indicators"])


@router.get(
    "/measures",
    **doc(
        "Rating measures",
        "Per object for days [start, end], from the SQL roll-ups: counts per level, share satisfied with its "
        "Wilson 95 % interval, mean level, bad share, empirical-Bayes shrunk satisfaction, response and "
        "no-rating rates. Below EGOV_MIN_RATINGS ratings the values are null (insufficient, not ranked). "
        "Department keys see their own objects; assessor keys all.",
        {
            "ONE_ACCOUNT": {
                "count": 412,
                "share_satisfied": 71.4,
                "share_satisfied_low": 66.9,
                "share_satisfied_high": 75.5,
                "satisfaction_eb": 70.9,
            }
        },
        *KEYED,
        422,
    ),
)
def get_measures(
    session: SessionDep, principal: ReaderKey, start: date | None = None, end: date | None = None
) -> dict[str, Any]:
    s, e = period(start, end)
    measures, _notes = rating_measures(session, s, e, min_ratings=get_settings().min_ratings)
    if principal.role == "department":
        measures = measures[measures.index.isin(own_objects(session, principal))]
    return json.loads(measures.to_json(orient="index"))
