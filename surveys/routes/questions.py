"""GET /questions: the current, versioned question texts (public)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from surveys.questions import questions
from surveys.routes.common import API, doc

router = APIRouter(prefix=API, tags=["ratings"])


@router.get(
    "/questions",
    **doc(
        "Question texts",
        "The current, versioned question texts in Traditional Chinese, Portuguese and English: the question, "
        "the five levels (5 非常滿意 … 1 非常不滿意; 1–2 are bad ratings), the drivers and prompts. Public.",
        {"version": "2026.1", "question": {"zh-Hant": "您對這次服務滿意嗎？", "pt": "…", "en": "…"}},
        429,
    ),
)
def get_questions() -> dict[str, Any]:
    return questions()
