"""Write a framework back to TOML (the standard library reads TOML but does not write it).

Only the value types a framework uses are supported: strings, numbers, booleans, lists of
scalars and inline tables of scalars.
"""

from __future__ import annotations

import json
import math
from typing import Any

from indicators.framework import CODE_RE, Framework

_BARE_KEY_OK = CODE_RE


def _key(key: str) -> str:
    return key if _BARE_KEY_OK.match(key) else json.dumps(key, ensure_ascii=False)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("TOML cannot hold a non-finite number here")
        # repr keeps the float type ("99.0", not "99"): reading back an int would change the
        # framework's canonical content (and hash) where values are kept as written, e.g. the
        # parameters of a normalisation
        return repr(value)
    if isinstance(value, str):
        # a JSON string is a TOML basic string, except that TOML also forbids a raw DEL
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _table(lines: list[str], header: str, data: dict[str, Any]) -> None:
    lines.append(f"[{header}]")
    nested: list[tuple[str, dict[str, Any]]] = []
    for key, value in data.items():
        if key in ("dimensions", "indicators", "items") and isinstance(value, dict):
            nested.extend((f"{header}.{key}.{_key(k)}", v) for k, v in value.items())
        else:
            lines.append(f"{_key(key)} = {_value(value)}")
    lines.append("")
    for sub_header, sub in nested:
        _table(lines, sub_header, sub)


def framework_to_toml(framework: Framework, header: str = "") -> str:
    """The framework as TOML text; reading it back gives a framework with the same hash."""
    data = framework.to_dict()
    lines: list[str] = [f"# {line}".rstrip() for line in header.splitlines()]
    if lines:
        lines.append("")
    _table(lines, "framework", data["framework"])
    _table(lines, "index", data["index"])
    if "methods" in data:
        _table(lines, "methods", data["methods"])
    for code, checklist in data.get("checklists", {}).items():
        _table(lines, f"checklists.{_key(code)}", checklist)
    for code, cat in data["categories"].items():
        _table(lines, f"categories.{_key(code)}", cat)
    return "\n".join(lines).rstrip() + "\n"
