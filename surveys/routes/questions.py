"""GET /questions: the current, versioned question texts and question sets (public)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from surveys.question_sets import KNOWN_CHANNELS, channel_sets, current_sets, set_for_channel
from surveys.questions import questions
from surveys.routes.common import API, doc

router = APIRouter(prefix=API, tags=["ratings"])

EXAMPLE = {
    "version": "2026.1",
    "question": {"zh-Hant": "您對這次服務滿意嗎？", "pt": "…", "en": "…"},
    "channel": "counter",
    "set": {
        "code": "omb_a11",
        "version": "2026.1",
        "title": {"zh-Hant": "…", "pt": "…", "en": "Service experience (trust and drivers)"},
        "scale": "agree",
        "scale_labels": {"5": {"en": "Strongly agree"}, "1": {"en": "Strongly disagree"}},
        "items": [
            {
                "code": "trust",
                "text": {
                    "en": "I trust {department} to fulfil the Macao SAR Government's commitment to its residents."
                },
                "required": True,
                "driver": "trust",
            }
        ],
    },
}


@router.get(
    "/questions",
    **doc(
        "Question texts and question sets",
        "The current, versioned question texts in Traditional Chinese, Portuguese and English: the question, "
        "the five levels (5 非常滿意 … 1 非常不滿意; 1–2 are bad ratings), the drivers (the reasons) and prompts; "
        "and the question sets, each versioned, whose 5-point Likert items a rating may answer (`question_set`, "
        "`question_set_version`, `answers`): `sets` (every set's current version, with its source) and "
        "`channels` (the set each channel shows). With `?channel=`, `set`: the one set that channel shows "
        "(`{department}` in an item's text stands for the department of the rated service). The set `overall` "
        "has no items and holds the SAFP complaint category of each reason (`reason_categories`). Public.",
        EXAMPLE,
        422,
        429,
    ),
)
def get_questions(
    channel: Annotated[
        str | None,
        Query(
            pattern="^(" + "|".join(KNOWN_CHANNELS) + ")$",
            description="A channel (app, web, kiosk, counter, hotline): answer with the set it shows.",
        ),
    ] = None,
) -> dict[str, Any]:
    out: dict[str, Any] = dict(questions())
    if channel is not None:
        return out | {"channel": channel, "set": set_for_channel(channel).public()}
    sets = [s.public() for s in current_sets().values()]
    return out | {"sets": sets, "channels": channel_sets()}
