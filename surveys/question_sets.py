"""Versioned question sets, chosen per channel (issue 17, point 6).

A question set (surveys/data/question_sets/CODE-VERSION.toml, trilingual) is asked together
with the overall rating: the 5-level question with its reasons (the set `overall`, whose texts are
surveys/questions.toml of the same version) plus the set's own 5-point Likert items, if any
(`omb_a11`: the OMB Circular A-11 §280 trust question and drivers; `gbt39735_online` and
`gbt39735_offline`: GB/T 39735-2020 evaluation dimensions). Sources are in each file.

Which set a channel shows is configured in surveys/data/question_channels.toml (or the file
of EGOV_QUESTION_CHANNELS_FILE): `default` and a set per channel; not per token (docs/ratings.md,
"Question sets"). Every shipped version of a set stays answerable, so answers to an older
wording stay valid and are told apart by their version.

Bad-rating reasons map to the complaint categories SAFP publishes (surveys/data/
safp_categories.toml) through the `reason_categories` table of the set `overall`.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from egov.errors import EgovError
from egov.langs import LANGUAGES
from egov.settings import get_settings
from surveys.questions import questions

DATA = Path(__file__).parent / "data"
SETS_DIR = DATA / "question_sets"
CHANNELS_FILE = DATA / "question_channels.toml"
CATEGORIES_FILE = DATA / "safp_categories.toml"
SCALES_FILE = DATA / "likert_scales.toml"
# the channels a configuration may name: the rating API's (surveys.schemas.Channel) and the
# hotline, which the service items bring (a test keeps the API's channels among them)
KNOWN_CHANNELS = ("app", "web", "kiosk", "counter", "hotline")
SCALES = ("agree", "satisfied")
CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
VERSION = re.compile(r"^[0-9]{4}\.[0-9]{1,3}$")
OVERALL = "overall"


@dataclass(frozen=True)
class Item:
    """One 5-point Likert item: its code, texts by language (`{department}` stands for the rated
    service's department), whether it must be answered, and the A-11 driver or GB/T dimension."""

    code: str
    texts: dict[str, str]
    required: bool
    driver: str


@dataclass(frozen=True)
class QuestionSet:
    code: str
    version: str
    title: dict[str, str]
    source: str
    scale: str  # "" for a set without items
    items: tuple[Item, ...]
    reason_categories: dict[str, dict[str, str]]  # channel or "default" → reason → SAFP category

    def item(self, code: str) -> Item | None:
        return next((i for i in self.items if i.code == code), None)

    def public(self) -> dict[str, Any]:
        """The set as GET /api/v1/questions shows it."""
        out: dict[str, Any] = {
            "code": self.code,
            "version": self.version,
            "title": self.title,
            "source": self.source,
            "scale": self.scale or None,
            "scale_labels": scale_labels(self.scale) if self.scale else None,
            "items": [
                {"code": i.code, "text": i.texts, "required": i.required, "driver": i.driver}
                for i in self.items
            ],
        }
        if self.reason_categories:
            out["reason_categories"] = self.reason_categories
        return out


def _texts(raw: Any, where: str) -> dict[str, str]:
    if not isinstance(raw, dict) or any(
        not isinstance(raw.get(lang), str) or not raw[lang] for lang in LANGUAGES
    ):
        raise EgovError(f"{where}: needs a text in each of {', '.join(LANGUAGES)}")
    return {lang: str(raw[lang]) for lang in LANGUAGES}


def _item(raw: Any, where: str) -> Item:
    if not isinstance(raw, dict) or not CODE.match(str(raw.get("code", ""))):
        raise EgovError(f"{where}: an item needs a `code` of lower-case letters, digits and _")
    where = f"{where}, item {raw['code']}"
    required = raw.get("required", False)
    if not isinstance(required, bool):
        raise EgovError(f"{where}: `required` must be true or false")
    driver = str(raw.get("driver") or raw.get("dimension") or raw["code"])
    return Item(str(raw["code"]), _texts(raw, where), required, driver)


def _categories(raw: Any, where: str) -> dict[str, dict[str, str]]:
    if not raw:
        return {}
    known_reasons = set(questions()["drivers"])
    known = set(safp_categories())
    if not isinstance(raw, dict) or "default" not in raw:
        raise EgovError(f"{where}: reason_categories needs a `default` table")
    out: dict[str, dict[str, str]] = {}
    for channel, table in raw.items():
        if channel != "default" and channel not in KNOWN_CHANNELS:
            raise EgovError(f"{where}: reason_categories.{channel}: unknown channel")
        for reason, category in dict(table).items():
            if reason not in known_reasons or category not in known:
                raise EgovError(f"{where}: reason_categories.{channel}.{reason} = {category!r}: unknown")
        out[channel] = {str(k): str(v) for k, v in dict(table).items()}
    missing = known_reasons - set(out["default"])
    if missing:
        raise EgovError(f"{where}: reason_categories.default lacks {', '.join(sorted(missing))}")
    return out


def load_set(path: Path) -> QuestionSet:
    """One question set file, checked: codes, versions, the three languages, the scale."""
    where = path.name
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise EgovError(f"{where}: {exc}") from exc
    code, version = str(raw.get("code", "")), str(raw.get("version", ""))
    if not CODE.match(code) or not VERSION.match(version) or path.stem != f"{code}-{version}":
        raise EgovError(f"{where}: needs `code` and `version` (YYYY.N) matching its name CODE-VERSION.toml")
    items = tuple(_item(x, where) for x in raw.get("items", []))
    if len({i.code for i in items}) != len(items):
        raise EgovError(f"{where}: item codes repeat")
    scale = str(raw.get("scale", ""))
    if items and scale not in SCALES:
        raise EgovError(f"{where}: `scale` must be one of {', '.join(SCALES)}")
    if code == OVERALL and version != str(questions()["version"]):
        raise EgovError(f"{where}: the overall set's version must be that of surveys/questions.toml")
    cats = _categories(raw.get("reason_categories"), where)
    return QuestionSet(
        code, version, _texts(raw.get("title"), where), str(raw.get("source", "")), scale, items, cats
    )


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(x) for x in version.split("."))


@lru_cache(maxsize=1)
def question_sets() -> dict[tuple[str, str], QuestionSet]:
    """Every shipped version of every set, by (code, version)."""
    sets = [load_set(p) for p in sorted(SETS_DIR.glob("*.toml"))]
    out = {(s.code, s.version): s for s in sets}
    if not any(code == OVERALL for code, _ in out):
        raise EgovError(f"{SETS_DIR}: the set `{OVERALL}` is missing")
    return out


def current_sets() -> dict[str, QuestionSet]:
    """The newest version of each set, by code."""
    out: dict[str, QuestionSet] = {}
    for (code, _version), s in sorted(
        question_sets().items(), key=lambda kv: (kv[0][0], _version_key(kv[0][1]))
    ):
        out[code] = s
    return out


def find_set(code: str, version: str | None = None) -> QuestionSet | None:
    """A set by code and version (None: its newest version); None when there is none."""
    if version is None:
        return current_sets().get(code)
    return question_sets().get((code, version))


@lru_cache(maxsize=4)
def _channel_config(path: str) -> dict[str, str]:
    where = path or str(CHANNELS_FILE)
    try:
        raw = tomllib.loads(Path(where).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise EgovError(f"question channels file {where}: {exc}") from exc
    default = str(raw.get("default", OVERALL))
    config = {ch: default for ch in KNOWN_CHANNELS}
    for channel, code in dict(raw.get("channels", {})).items():
        if channel not in KNOWN_CHANNELS:
            raise EgovError(
                f"{where}: channels.{channel}: unknown channel (known: {', '.join(KNOWN_CHANNELS)})"
            )
        config[channel] = str(code)
    for channel, code in config.items():
        if code not in current_sets():
            raise EgovError(f"{where}: channel {channel}: unknown question set {code!r}")
    return config


def channel_sets() -> dict[str, str]:
    """The set code of every channel (the configuration, its default filled in)."""
    return dict(_channel_config(get_settings().question_channels_file))


def set_for_channel(channel: str) -> QuestionSet:
    """The current version of the set a channel shows."""
    return current_sets()[channel_sets().get(channel, OVERALL)]


def answer_problems(code: str | None, version: str | None, answers: dict[str, int]) -> list[tuple[str, str]]:
    """What is wrong with a rating's set and answers, as (field, message): an unknown set or
    version, an item the set does not have, a required item missing, answers without a set."""
    if code is None:
        if version is not None:
            return [("question_set_version", "a question_set_version needs a question_set")]
        return [("answers", "answers need a question_set")] if answers else []
    qs = find_set(code)
    if qs is None:
        known = ", ".join(sorted(current_sets()))
        return [("question_set", f"unknown question set {code!r} (known: {known})")]
    if version is not None:
        qs = find_set(code, version)
        if qs is None:
            versions = ", ".join(sorted(v for c, v in question_sets() if c == code))
            return [
                ("question_set_version", f"unknown version {version!r} of question set {code} ({versions})")
            ]
    problems = [
        (f"answers.{item}", f"unknown item {item!r} of question set {qs.code} {qs.version}")
        for item in answers
        if qs.item(item) is None
    ]
    problems += [
        ("answers", f"missing required item {i.code!r} of question set {qs.code} {qs.version}")
        for i in qs.items
        if i.required and i.code not in answers
    ]
    return problems


@lru_cache(maxsize=1)
def safp_categories() -> dict[str, dict[str, str]]:
    """SAFP's published complaint categories in SAFP's order: code → texts by language."""
    raw = tomllib.loads(CATEGORIES_FILE.read_text(encoding="utf-8"))
    return {str(k): _texts(v, f"{CATEGORIES_FILE.name}, {k}") for k, v in raw["categories"].items()}


def reason_category(reason: str, channel: str) -> str:
    """The SAFP category of a bad rating's reason given on a channel (the `overall` set's table);
    "other" for a reason it does not know."""
    table = current_sets()[OVERALL].reason_categories
    return table.get(channel, {}).get(reason) or table["default"].get(reason, "other")


@lru_cache(maxsize=2)
def scale_labels(scale: str) -> dict[str, dict[str, str]]:
    """The labels of a scale, "5" … "1" → texts by language."""
    if scale == "satisfied":
        return {str(k): dict(v) for k, v in questions()["levels"].items()}
    raw = tomllib.loads(SCALES_FILE.read_text(encoding="utf-8"))
    return {str(k): _texts(v, f"{SCALES_FILE.name}, {scale}.{k}") for k, v in raw[scale].items()}
