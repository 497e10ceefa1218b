"""The versioned, trilingual question texts a citizen is asked (surveys/questions.toml)."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

QUESTIONS_FILE = Path(__file__).parent / "questions.toml"


@lru_cache(maxsize=1)
def questions() -> dict[str, Any]:
    """The versioned, trilingual question texts (surveys/questions.toml)."""
    return tomllib.loads(QUESTIONS_FILE.read_text(encoding="utf-8"))
