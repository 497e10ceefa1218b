"""What the command modules share: the consoles (from `egov.commands.consoles`), the options
several commands take (--run, --lang, --out, --spec), the one language resolution (--lang,
else EGOV_LANG, else zh-Hant). It imports no pandas, database or report module, so that a
command that needs none of them does not pay for them (the database session and the ranking
table are in `egov.commands.stored`)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from egov.commands.consoles import console as console
from egov.commands.consoles import err as err
from egov.errors import EgovError
from egov.langs import LANGUAGES
from egov.settings import get_settings


def lang_option(
    help_text: str = "Language of the output: zh-Hant, pt or en (default: EGOV_LANG, else zh-Hant).",
) -> Any:
    """The --lang option (its help says what the language is used for); not given: None, and
    `check_lang` takes the setting EGOV_LANG."""
    return typer.Option("--lang", help=help_text)


def out_option(help_text: str) -> Any:
    """The --out option (its help says what is written there)."""
    return typer.Option("--out", help=help_text)


def run_option(help_text: str = "Run key (default: the latest run).") -> Any:
    """The --run option: the key of a stored run."""
    return typer.Option("--run", help=help_text)


LangOpt = Annotated[str | None, lang_option()]
RunOpt = Annotated[str | None, run_option()]
OutCsvOpt = Annotated[Path | None, out_option("Also write the full table to this CSV file.")]
SpecOpt = Annotated[Path | None, typer.Option(help="Method spec TOML overriding the framework.")]


def check_lang(lang: str | None) -> str:
    """The language of a command's output: `--lang` when given (one of egov.langs.LANGUAGES,
    else an error), else the setting EGOV_LANG (default zh-Hant; an unknown one is an error)."""
    if lang is None:
        try:
            return get_settings().lang
        except ValidationError as exc:
            problems = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
            raise EgovError(f"settings: {problems}") from None
    if lang not in LANGUAGES:
        raise EgovError(f"--lang {lang!r}: use zh-Hant, pt or en")
    return lang


def parse_date(text: str, option: str) -> date:
    """The date YYYY-MM-DD given to `option`, or an error naming it."""
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise EgovError(f"{option} {text!r}: use a date YYYY-MM-DD") from exc
