"""The languages of names, questions and reports: Traditional Chinese (the default), Portuguese
and English (Macau's official languages, and English). One definition for the whole project."""

from __future__ import annotations

from typing import Literal, get_args

Language = Literal["zh-Hant", "pt", "en"]
LANGUAGES: tuple[str, ...] = get_args(Language)
DEFAULT_LANGUAGE: Language = "zh-Hant"
