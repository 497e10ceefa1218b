"""The input rules of the web service, defined once: which characters a request may carry,
and the 422 answer of a refused request.

- Free text (a rating's comment, a review or case note, a key's label): no control character
  but tab and newline (a CR LF pair is taken as a newline), no lone surrogate.
- Codes, identifiers, tokens and every path and query parameter: no control character at all,
  no lone surrogate.

PostgreSQL cannot store NUL, the spreadsheet writers refuse control characters, and a lone
surrogate is not Unicode text (it cannot be encoded as UTF-8): such input is refused at the
edge, with 422 naming the field, on every database engine. `FreeText` and `Code` are the
string types of every request model (surveys.schemas); `check_parameters` is the app's
dependency for path and query parameters; `validation_error` renders any refusal, whatever
the input held (NaN, Infinity, a number too large for a float, a lone surrogate, control
characters): the echoed input is made safe text, never a crash.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from egov.cells import control_pattern

# C0 and C1 control characters, DEL, and the surrogate code points (never valid alone in text),
# by the project's one rule (egov.cells.control_pattern); free text lets tab and newline pass
CODE_REFUSED = control_pattern(surrogates=True)
FREE_REFUSED = control_pattern("\t\n", surrogates=True)
# the same rules as JSON Schema patterns (the OpenAPI document; generated clients and fuzzers)
CODE_PATTERN = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"
FREE_PATTERN = "^([^\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f]|\\r\\n)*$"
MAX_ECHO = 200  # characters of a refused text echoed back in a 422
C0_NAMES = [
    "NUL",
    "SOH",
    "STX",
    "ETX",
    "EOT",
    "ENQ",
    "ACK",
    "BEL",
    "BS",
    "HT",
    "LF",
    "VT",
    "FF",
    "CR",
    "SO",
    "SI",
    "DLE",
    "DC1",
    "DC2",
    "DC3",
    "DC4",
    "NAK",
    "SYN",
    "ETB",
    "CAN",
    "EM",
    "SUB",
    "ESC",
    "FS",
    "GS",
    "RS",
    "US",
]


def character_problem(text: str, free: bool = False) -> str | None:
    """Why `text` is refused (the first bad character, named, and its position), or None."""
    found = (FREE_REFUSED if free else CODE_REFUSED).search(text)
    if found is None:
        return None
    char = found.group()
    point = ord(char)
    where = f"at position {found.start() + 1}"
    if 0xD800 <= point <= 0xDFFF:
        return f"lone surrogate U+{point:04X} {where}: not Unicode text"
    name = C0_NAMES[point] if point < 0x20 else "DEL" if point == 0x7F else "C1 control"
    allowed = "only tab and newline are allowed" if free else "no control character is allowed here"
    return f"control character U+{point:04X} ({name}) {where}: {allowed}"


def _free_text(value: str) -> str:
    value = value.replace("\r\n", "\n")
    problem = character_problem(value, free=True)
    if problem:
        raise PydanticCustomError("control_character", "{problem}", {"problem": problem})
    return value


def _code(value: str) -> str:
    problem = character_problem(value)
    if problem:
        raise PydanticCustomError("control_character", "{problem}", {"problem": problem})
    return value


class _Pattern:
    """Adds the character rule to a string's JSON Schema as its `pattern` (documentation
    only: the validator gives the clearer message)."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        value = handler(schema)
        value["pattern"] = self.pattern
        return value


FreeText = Annotated[str, AfterValidator(_free_text), _Pattern(FREE_PATTERN)]
Code = Annotated[str, AfterValidator(_code), _Pattern(CODE_PATTERN)]


# --- path and query parameters ----------------------------------------------------------------------
async def check_parameters(request: Request) -> None:
    """App-wide dependency: a path or query parameter (name or value) holding a control
    character or a lone surrogate is refused with 422 naming it (before any database work)."""
    issues: list[dict[str, Any]] = []
    for name, value in request.path_params.items():
        problem = character_problem(value) if isinstance(value, str) else None
        if problem:
            issues.append(_issue(["path", name], problem, value))
    if request.scope.get("query_string"):
        for name, value in request.query_params.multi_items():
            problem = character_problem(name) or character_problem(value)
            if problem:
                issues.append(_issue(["query", name], problem, value))
    if issues:
        raise RequestValidationError(issues)


def _issue(loc: list[str], problem: str, value: str) -> dict[str, Any]:
    return {"type": "control_character", "loc": loc, "msg": problem, "input": value}


# --- the 422 answer ------------------------------------------------------------------------------
async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
    """422 with the issues of the request (`loc`, `msg`, `type`, the `input` and `ctx` as
    safe text). FastAPI's own renderer fails on a non-finite number or a lone surrogate in
    the input (a 500 and a dropped connection); this one always renders."""
    return JSONResponse({"detail": [safe_issue(e) for e in exc.errors()]}, status_code=422)


def safe_issue(error: Any) -> dict[str, Any]:
    """One validation error as JSON-safe data."""
    if not isinstance(error, dict):
        return {"type": "invalid", "loc": [], "msg": safe_text(str(error))}
    issue: dict[str, Any] = {
        "type": safe_text(str(error.get("type", "invalid"))),
        "loc": [x if isinstance(x, int) else safe_text(str(x)) for x in error.get("loc", ())],
        "msg": safe_text(str(error.get("msg", ""))),
    }
    if "input" in error:
        issue["input"] = safe_value(error["input"])
    if isinstance(error.get("ctx"), dict):
        issue["ctx"] = {safe_text(str(k)): safe_value(v) for k, v in error["ctx"].items()}
    return issue


def safe_text(text: str) -> str:
    """`text` with every lone surrogate written as its escape (`\\ud800`): encodable as UTF-8."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def safe_value(value: Any, depth: int = 0) -> Any:
    """JSON-safe data: non-finite numbers as text ("nan", "inf"), texts made safe and cut at
    MAX_ECHO characters, containers followed a few levels deep, anything else as its text."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, str):
        return safe_text(value[:MAX_ECHO] + ("…" if len(value) > MAX_ECHO else ""))
    if depth >= 4:
        return "…"
    if isinstance(value, list | tuple):
        return [safe_value(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {safe_text(str(k)): safe_value(v, depth + 1) for k, v in value.items()}
    return safe_text(str(value))
