"""The indicator framework: the model (`indicators.model`: `Node`, `Framework`, object
kinds, canonical hash) and the TOML loader with complete validation
(`indicators.loader`), gathered under one name for the rest of the project.

The file format is documented in docs/framework-format.md.
"""

from __future__ import annotations

from indicators.loader import (
    BUILTIN_DIR,
    build_framework,
    builtin_path,
    load_framework,
    parse_framework,
    resolve_framework,
)
from indicators.model import (
    CODE_RE,
    OBJECT_KINDS,
    RATING_MEASURES,
    SOURCES,
    SUBKINDS,
    Checklist,
    ChecklistItem,
    Framework,
    Node,
    NodeKind,
    applies,
    checklist_share,
    kind_within,
)

__all__ = [
    "BUILTIN_DIR",
    "CODE_RE",
    "OBJECT_KINDS",
    "RATING_MEASURES",
    "SOURCES",
    "SUBKINDS",
    "Checklist",
    "ChecklistItem",
    "Framework",
    "Node",
    "NodeKind",
    "applies",
    "build_framework",
    "builtin_path",
    "checklist_share",
    "kind_within",
    "load_framework",
    "parse_framework",
    "resolve_framework",
]
