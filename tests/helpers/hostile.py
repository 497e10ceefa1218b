"""Hostile input for the hypothesis suites (tests/test_openapi_fuzz.py): texts holding a control
character or a lone surrogate, non-finite numbers (NaN, ±Infinity, 1e400, written as JSON
allows Python to), a JSON body with one leaf or one new key replaced by such a value, and
URL parameter values holding a percent-encoded control character."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st

BIG = "\u2063BIG\u2063"  # stands for the number 1e400 until the body is written
PLAIN = st.text(alphabet=st.characters(categories=["L", "N"]), min_size=1, max_size=6)
BAD_CHARS = st.one_of(
    st.sampled_from(["\x00", "\x1b", "\x7f", "\x85", "\r", "\ud800", "\udfff"]),
    st.characters(categories=["Cc", "Cs"], exclude_characters="\t\n"),  # tab, newline: free text
)
# a bad character between two plain parts, so stripping spaces cannot remove it
HOSTILE_TEXT = st.builds(lambda a, bad, b: a + bad + b, PLAIN, BAD_CHARS, PLAIN)
NON_FINITE = st.sampled_from([float("nan"), float("inf"), float("-inf"), BIG])
HOSTILE = st.one_of(HOSTILE_TEXT, NON_FINITE)
URL_BAD = st.builds(
    lambda a, bad, b: quote(a) + bad + quote(b),
    PLAIN,
    st.sampled_from(["%00", "%01", "%08", "%0B", "%0D", "%1B", "%1F", "%7F", "%C2%80", "%C2%9F"]),
    PLAIN,
)


def leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The paths of every value (leaf or container) inside a JSON body, itself excluded."""
    out: list[tuple[Any, ...]] = []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in items:
        out.append((*path, key))
        out.extend(leaves(child, (*path, key)))
    return out


def poisoned(body: dict[str, Any], draw: Any) -> tuple[dict[str, Any], tuple[Any, ...]]:
    """A copy of `body` with one value replaced by a hostile one, or a hostile new key (a
    hostile name, or a new field with a hostile value) in one of its objects; and where."""
    body = json.loads(json.dumps(body))
    where: tuple[Any, ...] = draw(st.sampled_from(leaves(body)))
    if draw(st.booleans()):  # replace the value at `where`
        parent = body
        for key in where[:-1]:
            parent = parent[key]
        parent[where[-1]] = draw(HOSTILE)
        return body, where
    objects = [()] + [p for p in leaves(body) if isinstance(_at(body, p), dict)]
    at = draw(st.sampled_from(objects))
    name = draw(st.one_of(HOSTILE_TEXT, st.just("extra")))
    _at(body, at)[name] = draw(HOSTILE) if name == "extra" else 1
    return body, (*at, name)


def _at(body: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        body = body[key]
    return body


def written(body: Any) -> str:
    """`body` as JSON text the way a hostile client may write it: NaN and Infinity as bare
    words, BIG as 1e400, lone surrogates as \\ud800 escapes (ASCII only)."""
    return json.dumps(body, allow_nan=True).replace(json.dumps(BIG), "1e400")
