"""The languages of names, questions and reports: Traditional Chinese (the default), Portuguese
and English (Macau's official languages, and English), and the indicator units in each. One
definition for the whole project."""

from __future__ import annotations

from typing import Literal, get_args

Language = Literal["zh-Hant", "pt", "en"]
LANGUAGES: tuple[str, ...] = get_args(Language)
DEFAULT_LANGUAGE: Language = "zh-Hant"

# the framework's indicator units (as written in its TOML, in English) → (zh-Hant, pt, en)
# as shown after a value; "" shows the plain number; a unit not listed is shown as written
UNITS: dict[str, tuple[str, str, str]] = {
    "%": ("%", "%", "%"),
    "hours": (" 小時", " horas", " hours"),
    "days": (" 天", " dias", " days"),
    "count": (" 個", "", ""),
    "data sets": (" 個數據集", " conjuntos de dados", " data sets"),
    "count per year": (" 次／年", " por ano", " per year"),
    "MOP per transaction": (" 澳門元／宗", " MOP por transacção", " MOP per transaction"),
    "MOP per vCPU-year": (" 澳門元／vCPU·年", " MOP por vCPU-ano", " MOP per vCPU-year"),
    "per 1,000 residents": (" 每千名居民", " por 1000 residentes", " per 1,000 residents"),
    "score 1-5": (" 分（1–5）", " pontos (1–5)", " points (1–5)"),
    "level 0-3": (" 級（0–3）", " (nível 0–3)", " (level 0–3)"),
}


def unit_name(unit: str, lang: str) -> str:
    """An indicator's unit by itself in `lang` ("小時", "%"; "" for a plain count in pt and
    en); a unit not in `UNITS`, or a language not known, as written."""
    labels = UNITS.get(unit)
    return labels[LANGUAGES.index(lang)].strip() if labels and lang in LANGUAGES else unit
