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
