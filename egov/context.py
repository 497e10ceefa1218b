"""Context figures of the register: published figures about an object that are NOT scored
(e.g. the open-data platform's 654 data sets, a total over every department that publishes
on it), each with its value, unit, name by language, period, source section and verbatim
quote. The register gives them as `[[objects.CODE.context]]` tables; they are stored with
the object (`AssessedObject.context`) and shown in its department's report, never scored."""

from __future__ import annotations

from typing import Any

from egov.langs import LANGUAGES, UNITS

CONTEXT_KEYS = ("name", "value", "unit", "period", "paper", "quote")


def context_problems(entries: Any) -> list[tuple[str, str]]:
    """(where, problem) of an object's `context` entries: a list of tables, each with a
    numeric `value`, a `unit` of the project's units (egov.langs.UNITS, so it is shown in
    every language), `name` by language, and `period`, `paper` (the section) and `quote`
    as text; where is "context[i].key"."""
    if entries is None:
        return []
    if not isinstance(entries, list):
        return [("context", "must be a list of tables ([[objects.CODE.context]])")]
    problems: list[tuple[str, str]] = []
    for i, entry in enumerate(entries):
        at = f"context[{i}]"
        if not isinstance(entry, dict):
            problems.append((at, "must be a table"))
            continue
        problems += [(f"{at}.{k}", "unknown key") for k in entry if k not in CONTEXT_KEYS]
        value = entry.get("value")
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append((f"{at}.value", "must be a number"))
        if entry.get("unit") not in UNITS:
            problems.append((f"{at}.unit", f"must be one of: {', '.join(UNITS)}"))
        names = entry.get("name")
        if (
            not isinstance(names, dict)
            or set(names) - set(LANGUAGES)
            or not all(isinstance(v, str) and v for v in names.values())
        ):
            problems.append((f"{at}.name", "must be a table { zh-Hant = …, pt = …, en = … } of text"))
        for key in ("period", "paper", "quote"):
            if not isinstance(entry.get(key), str) or not entry.get(key):
                problems.append((f"{at}.{key}", "required text"))
    return problems


def context_figures(entries: Any) -> list[dict[str, Any]] | None:
    """An object's context figures as stored: published figures about it that are not scored
    (register key `context`, a list of tables with CONTEXT_KEYS), in the register's order;
    None when there are none."""
    if not entries:
        return None
    out = []
    for entry in entries:
        figure = {k: entry.get(k) for k in CONTEXT_KEYS if entry.get(k) is not None}
        figure["value"] = float(figure["value"])
        out.append(figure)
    return out
