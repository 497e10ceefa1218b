"""The one Altair theme of the reports ("egov"): fonts with a Traditional Chinese fallback,
a quiet palette that prints well, and sizes that suit an A4 page.

Importing this module registers and enables the theme; `use()` re-enables it (a test or a
notebook may have switched themes)."""

from __future__ import annotations

from typing import Any

import altair as alt

NAME = "egov"
FONT = (
    '"Noto Sans TC", "Noto Sans CJK TC", "Source Han Sans TC", "PingFang TC", '
    '"Microsoft JhengHei", "Heiti TC", "Noto Sans", "DejaVu Sans", Arial, sans-serif'
)
# Okabe & Ito (2008), a palette distinguishable with the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000"]
INK = "#1f2933"
MUTED = "#6b7280"
ACCENT = PALETTE[0]
# the reader's own department, against ACCENT (blue) for the others
HIGHLIGHT = PALETTE[3]
# a cell or line without a value of its own (missing cells, the other departments' lines)
MISSING = "#d1d5db"
# many series (20 departments): Tableau's 20 colours (Vega's "tableau20" scheme), used with
# direct labels at the lines' ends so that no series depends on its colour alone
MANY = [
    "#4c78a8",
    "#9ecae9",
    "#f58518",
    "#ffbf79",
    "#54a24b",
    "#88d27a",
    "#b79a20",
    "#f2cf5b",
    "#439894",
    "#83bcb6",
    "#e45756",
    "#ff9d98",
    "#79706e",
    "#bab0ac",
    "#d67195",
    "#fcbfd2",
    "#b279a2",
    "#d6a5c9",
    "#9e765f",
    "#d8b5a5",
]


def _config() -> dict[str, Any]:
    return {
        "config": {
            "font": FONT,
            "background": "white",
            "view": {"stroke": None, "continuousWidth": 560, "continuousHeight": 320},
            "title": {"font": FONT, "fontSize": 15, "fontWeight": "bold", "color": INK, "anchor": "start"},
            "axis": {
                "labelFont": FONT,
                "titleFont": FONT,
                "labelColor": INK,
                "titleColor": INK,
                "labelFontSize": 11,
                "titleFontSize": 12,
                "gridColor": "#e5e7eb",
                "domainColor": MUTED,
                "tickColor": MUTED,
                "labelLimit": 260,
            },
            "legend": {"labelFont": FONT, "titleFont": FONT, "labelFontSize": 11, "titleFontSize": 12},
            "header": {"labelFont": FONT, "titleFont": FONT},
            "text": {"font": FONT},
            "range": {"category": PALETTE, "heatmap": {"scheme": "blues"}},
            "point": {"filled": True, "size": 60, "color": ACCENT},
            "bar": {"color": ACCENT},
            "line": {"color": ACCENT, "strokeWidth": 2},
            "rule": {"color": MUTED},
        }
    }


@alt.theme.register(NAME, enable=True)
def egov_theme() -> alt.theme.ThemeConfig:
    """The registered theme (Altair 5.5 `alt.theme.register`)."""
    return _config()  # type: ignore[return-value]


def use() -> None:
    """Enable the egov theme (again)."""
    alt.theme.enable(NAME)
