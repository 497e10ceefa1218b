"""The framework's rule for values the assessor has not confirmed (`[assessment]`, issue 16).

A metric value is `submitted` by its department (unverified until the assessor looks at it),
`verified` or `adjusted` by the assessor (used as they are), `rejected` (never used) or
`disputed` (under dispute). The framework says what scoring does with the unverified and the
disputed ones:

    [assessment]
    unverified = "flag"     # use | flag | exclude
    disputed = "exclude"    # use | flag | exclude

`use` scores the value as it is; `flag` scores it and the run records it as flagged (every
report shows the flagged values); `exclude` leaves it out, so the value is missing (imputed or
skipped by the framework's methods like any missing value). A rejected value is always left out.
"""

from __future__ import annotations

from typing import Any

RULES = ("use", "flag", "exclude")
RULE_KEYS = ("unverified", "disputed")
DEFAULT_RULES = {"unverified": "flag", "disputed": "flag"}
# the status of a metric value → the key of the rule that governs it (None: used as it is)
STATUS_RULE = {
    "submitted": "unverified",
    "reported": "unverified",  # the word of older databases for a department's value
    "disputed": "disputed",
    "verified": None,
    "adjusted": None,
}


def check_assessment(data: Any) -> tuple[dict[str, str] | None, list[tuple[str, str]]]:
    """The `[assessment]` table as written (None when absent) and its problems (path, message)."""
    if data is None:
        return None, []
    if not isinstance(data, dict):
        return None, [("assessment", "must be a table")]
    problems: list[tuple[str, str]] = []
    rules: dict[str, str] = {}
    for key, value in data.items():
        if key not in RULE_KEYS:
            problems.append((f"assessment.{key}", f"unknown key (allowed: {', '.join(RULE_KEYS)})"))
        elif value not in RULES:
            problems.append((f"assessment.{key}", f"must be one of: {', '.join(RULES)}"))
        else:
            rules[key] = str(value)
    return rules, problems


def rule_for(assessment: dict[str, str] | None, status: str) -> str:
    """What scoring does with a value of `status` under a framework's `[assessment]` table:
    use, flag or exclude (rejected and unknown statuses: exclude)."""
    key = STATUS_RULE.get(status, "")
    if key is None:
        return "use"
    if not key:
        return "exclude"
    return (assessment or {}).get(key, DEFAULT_RULES[key])
