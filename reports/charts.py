"""The charts of the reports: small functions from data frames to Altair charts.

Ranks and scores are the engine's (the caller passes them in); the charts only draw and
order by them, never compute a rank with a chart transform. Every title, axis and legend
is in the report's language (`reports.i18n`), and the one theme (`reports.theme`) is
enabled on import.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from indicators.framework import Framework
from reports import theme
from reports.chart_specs import filled_spec
from reports.i18n import t

Chart = alt.Chart | alt.LayerChart | alt.FacetChart

# Two-sided normal quantiles of the funnel plot's control limits: 95 % and 99.8 %
# (Spiegelhalter (2005), "Funnel plots for comparing institutional performance",
# Stat. Med. 24: 1185–1202: limits p ± z·sqrt(p(1−p)/n) around the overall proportion).
Z_95 = 1.959963984540054
Z_998 = 3.090232306167813


def _title(key: str, lang: str, subtitle: str | None = None) -> alt.TitleParams:
    if subtitle:
        return alt.TitleParams(text=t(key, lang), subtitle=subtitle)
    return alt.TitleParams(text=t(key, lang))


def _order(df: pd.DataFrame, label: str, by: str) -> list[str]:
    """Labels in the order of the engine's `by` column (ascending, missing last)."""
    ordered = df.sort_values([by, label], na_position="last", kind="mergesort")
    return list(dict.fromkeys(ordered[label].astype(str)))


def _bold_label(label: str | None) -> alt.Axis | dict[str, object]:
    """Axis properties that draw `label` (the reader's department) in bold and in the
    highlight colour; nothing when there is no reader."""
    if not label:
        return {}
    is_it = f"datum.value === {json.dumps(label)}"
    return {
        "labelFontWeight": alt.ExprRef(expr=f"{is_it} ? 'bold' : 'normal'"),
        "labelColor": alt.ExprRef(expr=f"{is_it} ? '{theme.HIGHLIGHT}' : '{theme.INK}'"),
    }


def ranking_chart(
    ranking: pd.DataFrame,
    lang: str,
    *,
    highlight: str | None = None,
    title_key: str = "chart.ranking.title",
) -> Chart:
    """Each department's score (x) on its own row (y, in the engine's rank order), with a
    bar from the 5th to the 95th percentile of its Monte Carlo score when `score_p05`/
    `score_p95` are given, and the reader's department (`highlight`, a label) in its own
    colour and bold. Columns: label, rank, score[, score_p05, score_p95, rank_p05, rank_p95]."""
    df, order, has_interval = _ranking_frame(ranking, lang, highlight)
    return _ranking_drawn(
        df, lang, order, max(120, 22 * max(len(order), 1)), highlight, has_interval, title_key
    )


def ranking_spec(
    ranking: pd.DataFrame,
    lang: str,
    *,
    highlight: str | None = None,
    title_key: str = "chart.ranking.title",
) -> dict[str, Any]:
    """`ranking_chart(…)`'s Vega-Lite spec, from a template built once per language and shape
    (`reports.chart_specs`): for the same chart on many pages."""
    df, order, has_interval = _ranking_frame(ranking, lang, highlight)
    tips = tuple(c for c in INTERVAL_TIPS if c in df.columns and df[c].notna().any())
    key = ("ranking", lang, title_key, has_interval, tuple(df.columns), tips, highlight is None)
    return filled_spec(
        key,
        lambda h, o, height: _ranking_drawn(df, lang, o, height, h, has_interval, title_key),
        df,
        order=order,
        height=max(120, 22 * max(len(order), 1)),
        highlight=highlight,
    )


INTERVAL_TIPS = ("score_p05", "score_p95", "rank_p05", "rank_p95")


def _ranking_frame(
    ranking: pd.DataFrame, lang: str, highlight: str | None
) -> tuple[pd.DataFrame, list[str], bool]:
    """The ranking chart's data (ranked rows, `who`: the reader or the others), its rows'
    order and whether it has intervals."""
    df = ranking[ranking["rank"].notna() & ranking["score"].notna()].copy()
    order = _order(df, "label", "rank")
    has_interval = {"score_p05", "score_p95"} <= set(df.columns) and bool(df["score_p05"].notna().any())
    reader, others = t("chart.reader", lang), t("chart.others", lang)
    df["who"] = [reader if str(label) == highlight else others for label in df["label"]]
    return df, order, has_interval


def _ranking_drawn(
    df: pd.DataFrame,
    lang: str,
    order: list[str],
    height: int,
    highlight: str | None,
    has_interval: bool,
    title_key: str,
) -> Chart:
    theme.use()
    score_t = t("col.score", lang)
    reader, others = t("chart.reader", lang), t("chart.others", lang)
    # full names (no "…"): the reader looks for their own department's name
    axis = alt.Axis(labelLimit=0, **_bold_label(highlight))
    y = alt.Y("label:N", sort=order, title=t("col.department", lang), axis=axis)
    x_scale = alt.Scale(zero=False, nice=True)
    tooltip: list[alt.Tooltip] = [
        alt.Tooltip("label:N", title=t("col.department", lang)),
        alt.Tooltip("rank:Q", title=t("col.rank", lang)),
        alt.Tooltip("score:Q", title=score_t, format=".1f"),
    ]
    for c in INTERVAL_TIPS:
        if c in df.columns and df[c].notna().any():
            tooltip.append(alt.Tooltip(f"{c}:Q", title=t(f"col.{c}", lang), format=".1f"))
    domain = [reader, others] if highlight else [others]
    color = alt.Color(
        "who:N",
        title=None,
        scale=alt.Scale(domain=domain, range=[theme.HIGHLIGHT, theme.ACCENT][-len(domain) :]),
        legend=alt.Legend(orient="top") if highlight else None,
    )
    if not has_interval:
        dots = alt.Chart(df).mark_point(filled=True, size=80, opacity=1)
        return dots.encode(
            x=alt.X("score:Q", title=score_t, scale=x_scale), y=y, color=color, tooltip=tooltip
        ).properties(title=_title(title_key, lang), height=height, width=520)
    # the data once, on the layer (not on each mark: altair would compare the two copies)
    dots = alt.Chart().mark_point(filled=True, size=80, opacity=1)
    dots = dots.encode(x=alt.X("score:Q", title=score_t, scale=x_scale), y=y, color=color, tooltip=tooltip)
    bars = (
        alt.Chart()
        .mark_rule(strokeWidth=3, opacity=0.45)
        .encode(
            x=alt.X("score_p05:Q", scale=x_scale, title=score_t),
            x2="score_p95:Q",
            y=y,
            color=color,
            tooltip=tooltip,
        )
    )
    return alt.layer(bars, dots, data=df).properties(
        title=_title(title_key, lang, t("chart.ranking.subtitle", lang)), height=height, width=520
    )


def category_chart(
    scores: pd.DataFrame,
    lang: str,
    *,
    order: Sequence[str] | None = None,
    y_title: str | None = None,
    highlight: str | None = None,
) -> Chart:
    """Grouped horizontal bars: each entity's score in each category.
    Columns: label, category (its name), score; `order`: the labels top to bottom (e.g. by
    the engine's overall rank); `y_title`: what the rows are (default: departments);
    `highlight`: the reader's department's label, drawn in bold."""
    df, labels, cats = _category_frame(scores, order)
    return _category_drawn(df, lang, labels, cats, y_title, highlight, max(160, 10 * len(cats) * len(labels)))


def category_spec(
    scores: pd.DataFrame,
    lang: str,
    *,
    order: Sequence[str] | None = None,
    y_title: str | None = None,
    highlight: str | None = None,
) -> dict[str, Any]:
    """`category_chart(…)`'s Vega-Lite spec, from a template built once per language and
    categories (`reports.chart_specs`): for the same chart on many pages."""
    df, labels, cats = _category_frame(scores, order)
    key = ("category", lang, tuple(cats), y_title, highlight is None)
    return filled_spec(
        key,
        lambda h, o, height: _category_drawn(df, lang, o, cats, y_title, h, height),
        df,
        order=labels,
        height=max(160, 10 * len(cats) * len(labels)),
        highlight=highlight,
    )


def _category_frame(
    scores: pd.DataFrame, order: Sequence[str] | None
) -> tuple[pd.DataFrame, list[str], list[str]]:
    df = scores.dropna(subset=["score"]).copy()
    labels = list(order) if order is not None else list(dict.fromkeys(df["label"].astype(str)))
    cats = list(dict.fromkeys(df["category"].astype(str)))
    return df, labels, cats


def _category_drawn(
    df: pd.DataFrame,
    lang: str,
    labels: list[str],
    cats: list[str],
    y_title: str | None,
    highlight: str | None,
    height: int,
) -> Chart:
    theme.use()
    return (
        alt.Chart(df)
        .mark_bar()
        .encode(
            y=alt.Y(
                "label:N",
                sort=labels,
                title=y_title or t("col.department", lang),
                axis=alt.Axis(**_bold_label(highlight)),
            ),
            yOffset=alt.YOffset("category:N", sort=cats),
            x=alt.X("score:Q", title=t("col.score", lang), scale=alt.Scale(domain=[0, 100])),
            color=alt.Color(
                "category:N", sort=cats, title=t("col.category", lang), legend=alt.Legend(orient="top")
            ),
            tooltip=[
                alt.Tooltip("label:N", title=y_title or t("col.department", lang)),
                alt.Tooltip("category:N", title=t("col.category", lang)),
                alt.Tooltip("score:Q", title=t("col.score", lang), format=".1f"),
            ],
        )
        .properties(title=_title("chart.category.title", lang), width=520, height=height)
    )


def _column_names(cols: list[str], names: dict[str, str]) -> dict[str, str]:
    """Each indicator code's name on the axis; a name that two indicators share, or none,
    keeps its code beside it so that every column stays distinct."""
    shown = {c: names.get(c) or c for c in cols}
    counts = pd.Series(list(shown.values())).value_counts()
    return {c: (f"{n} ({c})" if counts[n] > 1 and n != c else n) for c, n in shown.items()}


def heatmap(
    values: pd.DataFrame,
    lang: str,
    *,
    row_order: Sequence[str] | None = None,
    column_names: dict[str, str] | None = None,
    title: str | None = None,
) -> Chart:
    """Departments (rows, by name) × indicators (columns, by name), coloured by the
    normalised value (0–100); a cell without a value is grey with "—" and has its own legend
    entry. `values`: index = department labels (top to bottom in `row_order`), columns =
    indicator codes; `column_names`: code → name; `title`: instead of the default title."""
    theme.use()
    cols = list(values.columns)
    shown = _column_names(cols, column_names or {})
    stacked = pd.Series(
        values.rename_axis(index="label", columns="code").stack(future_stack=True), name="value"
    )
    long = stacked.reset_index()
    long["indicator"] = long["code"].map(shown)
    missing_t = t("chart.missing", lang)
    long["missing"] = missing_t
    rows = list(row_order) if row_order is not None else list(values.index.astype(str))
    x = alt.X(
        "indicator:N",
        sort=[shown[c] for c in cols],
        title=t("col.indicator", lang),
        axis=alt.Axis(labelAngle=-60, labelLimit=160),
    )
    y = alt.Y("label:N", sort=rows, title=t("col.department", lang))
    tooltip = [
        alt.Tooltip("label:N", title=t("col.department", lang)),
        alt.Tooltip("indicator:N", title=t("col.indicator", lang)),
        alt.Tooltip("code:N", title=t("col.code", lang)),
    ]
    present = long[long["value"].notna()]
    absent = long[long["value"].isna()]
    cells = (
        alt.Chart(present)
        .mark_rect()
        .encode(
            x=x,
            y=y,
            color=alt.Color(
                "value:Q",
                title=t("col.normalised", lang),
                scale=alt.Scale(scheme="blues", domain=[0, 100]),
            ),
            tooltip=[*tooltip, alt.Tooltip("value:Q", title=t("col.normalised", lang), format=".1f")],
        )
    )
    gaps = (
        alt.Chart(absent)
        .mark_rect(stroke=theme.MUTED, strokeWidth=0.5, strokeDash=[2, 2])
        .encode(
            x=x,
            y=y,
            fill=alt.Fill(
                "missing:N",
                title=None,
                scale=alt.Scale(domain=[missing_t], range=[theme.MISSING]),
                legend=alt.Legend(orient="top", symbolType="square"),
            ),
            tooltip=[*tooltip, alt.Tooltip("missing:N", title=t("col.normalised", lang))],
        )
    )
    dashes = alt.Chart(absent).mark_text(text="—", color=theme.INK, fontSize=10).encode(x=x, y=y)
    return (
        alt.layer(cells, gaps, dashes)
        .resolve_scale(color="independent", fill="independent")
        .properties(
            title=alt.TitleParams(text=title) if title else _title("chart.heatmap.title", lang),
            width=max(200, 16 * len(cols)),
            height=max(120, 18 * len(rows)),
        )
    )


def trend_chart(history: pd.DataFrame, lang: str, *, highlight: str | None = None) -> Chart:
    """Each entity's rank (from the engine, run by run) across periods, rank 1 on top, each
    line named at its last period (direct labels) and coloured from 20 colours
    (`theme.MANY`); with `highlight` (the reader's department's label), that line in the
    highlight colour and the others grey. Columns: label, period, rank[, score]."""
    theme.use()
    df = history.dropna(subset=["rank"]).copy()
    df["period"] = df["period"].astype(str)
    periods = sorted(df["period"].unique())
    n = int(df["rank"].max()) if len(df) else 1
    labels = sorted(df["label"].astype(str).unique())
    tooltip = [
        alt.Tooltip("label:N", title=t("col.department", lang)),
        alt.Tooltip("period:N", title=t("col.period", lang)),
        alt.Tooltip("rank:Q", title=t("col.rank", lang)),
    ]
    if "score" in df.columns:
        tooltip.append(alt.Tooltip("score:Q", title=t("col.score", lang), format=".1f"))
    if highlight:
        colours = [theme.HIGHLIGHT if label == highlight else theme.MUTED for label in labels]
    else:
        colours = [theme.MANY[i % len(theme.MANY)] for i in range(len(labels))]
    enc = {
        "x": alt.X("period:O", sort=periods, title=t("col.period", lang), axis=alt.Axis(labelAngle=0)),
        "y": alt.Y(
            "rank:Q",
            title=t("col.rank", lang),
            scale=alt.Scale(reverse=True, domain=[1, max(n, 2)], nice=False),
            axis=alt.Axis(tickMinStep=1, format="d"),
        ),
        "color": alt.Color(
            "label:N",
            title=t("col.department", lang),
            scale=alt.Scale(domain=labels, range=colours),
            legend=None,
        ),
        "tooltip": tooltip,
    }
    lines = alt.Chart(df).mark_line().encode(**enc)
    points = alt.Chart(df).mark_point(filled=True, size=40).encode(**enc)
    last = df[df["period"] == df.groupby("label")["period"].transform("max")]
    own = last["label"].astype(str) == (highlight or "")
    names = alt.Chart(last[~own]).mark_text(align="left", dx=7, fontSize=10).encode(**enc, text="label:N")
    reader = alt.Chart(last[own]).mark_text(align="left", dx=7, fontSize=11, fontWeight="bold")
    layers = [lines, points, names, reader.encode(**enc, text="label:N")]
    return alt.layer(*layers).properties(
        title=_title("chart.trend.title", lang), width=420, height=max(240, 20 * n)
    )


def funnel_limits(p: float, n: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Binomial control limits p ± z·sqrt(p(1−p)/n), clipped to [0, 1] (Spiegelhalter 2005)."""
    half = z * np.sqrt(p * (1 - p) / n)
    return np.clip(p - half, 0, 1), np.clip(p + half, 0, 1)


def funnel_chart(ratings: pd.DataFrame, lang: str) -> Chart:
    """Share satisfied (%) against the number of ratings, one point per object, with 95 % and
    99.8 % control limits around the overall share. Columns: label, n, share (0–100)."""
    theme.use()
    df = ratings.dropna(subset=["n", "share"]).copy()
    df = df[df["n"] > 0]
    total = float(df["n"].sum())
    p = float((df["share"] / 100 * df["n"]).sum() / total) if total else 0.0
    lo_n = max(1.0, float(df["n"].min())) if len(df) else 1.0
    hi_n = max(lo_n + 1, float(df["n"].max())) if len(df) else 2.0
    grid = np.unique(np.geomspace(lo_n, hi_n, 120))
    parts = []
    for key, z in (("chart.limit_95", Z_95), ("chart.limit_998", Z_998)):
        lower, upper = funnel_limits(p, grid, z)
        for side_key, values in (("chart.lower", lower), ("chart.upper", upper)):
            parts.append(
                pd.DataFrame(
                    {
                        "n": grid,
                        "share": values * 100,
                        "limit": t(key, lang),
                        "line": f"{t(key, lang)} {t(side_key, lang)}",
                    }
                )
            )
    limits = pd.concat(parts, ignore_index=True)
    log = hi_n / lo_n > 20
    x = alt.X(
        "n:Q",
        title=t("col.n_ratings", lang),
        scale=alt.Scale(type="log") if log else alt.Scale(zero=False),
    )
    y_scale = alt.Scale(domain=[0, 100])
    limit_names = [t("chart.limit_95", lang), t("chart.limit_998", lang)]
    lines = (
        alt.Chart(limits)
        .mark_line(strokeWidth=1.5)
        .encode(
            x=x,
            y=alt.Y("share:Q", title=t("col.share_satisfied", lang) + " (%)", scale=y_scale),
            detail="line:N",
            color=alt.Color(
                "limit:N",
                title=t("chart.limit", lang),
                sort=limit_names,
                scale=alt.Scale(domain=limit_names, range=[theme.PALETTE[1], theme.PALETTE[3]]),
                legend=alt.Legend(orient="bottom"),
            ),
            strokeDash=alt.StrokeDash(
                "limit:N",
                sort=limit_names,
                scale=alt.Scale(domain=limit_names, range=[[6, 3], [2, 2]]),
                legend=None,
            ),
        )
    )
    centre = (
        alt.Chart(pd.DataFrame({"share": [p * 100], "what": [t("chart.overall_share", lang)]}))
        .mark_rule(color=theme.MUTED)
        .encode(
            y=alt.Y("share:Q", scale=y_scale),
            tooltip=[alt.Tooltip("share:Q", title=t("chart.overall_share", lang), format=".1f")],
        )
    )
    shown, title = _funnel_points(df, p, lang)
    points = (
        alt.Chart(shown)
        .mark_point(filled=True, size=50, color=theme.ACCENT)
        .encode(
            x=x,
            y=alt.Y("share:Q", scale=y_scale),
            tooltip=[
                alt.Tooltip("label:N", title=t("col.object", lang)),
                alt.Tooltip("n:Q", title=t("col.n_ratings", lang), format=",.0f"),
                alt.Tooltip("share:Q", title=t("col.share_satisfied", lang), format=".1f"),
            ],
        )
    )
    return alt.layer(lines, centre, points).properties(title=title, width=520, height=340)


FUNNEL_MAX_POINTS = 4_000  # below altair's 5,000 rows of chart data


def _funnel_points(df: pd.DataFrame, p: float, lang: str) -> tuple[pd.DataFrame, alt.TitleParams]:
    """The funnel's points and its title: every object up to FUNNEL_MAX_POINTS; above, every
    object outside the 95 % limits and evenly spaced others (by number of ratings), which
    the subtitle says (the limits and the overall share are computed from all of them)."""
    if len(df) <= FUNNEL_MAX_POINTS:
        return df, _title("chart.funnel.title", lang)
    lower, upper = funnel_limits(p, df["n"].to_numpy(dtype=float), Z_95)
    share = df["share"].to_numpy(dtype=float) / 100
    outside = (share < lower) | (share > upper)
    inside = df[~outside].sort_values("n", kind="mergesort")
    room = max(FUNNEL_MAX_POINTS - int(outside.sum()), 0)
    step = max(1, -(-len(inside) // max(room, 1)))
    shown = pd.concat([df[outside], inside.iloc[::step]]).head(FUNNEL_MAX_POINTS)
    subtitle = t("chart.funnel.sampled", lang, n=len(df), outside=int(outside.sum()), shown=len(shown))
    return shown, _title("chart.funnel.title", lang, subtitle)


def framework_layout(framework: Framework, effective_weights: pd.Series, lang: str) -> pd.DataFrame:
    """The icicle's rectangles: one row per node with depth, x0/x1 (cumulative effective
    weight of its indicators, in file order), weight, effective weight and category."""
    eff = effective_weights.reindex(list(framework.nodes)).astype(float).fillna(0.0)
    rows: list[dict[str, object]] = []

    def visit(code: str, depth: int, x0: float, category: str) -> float:
        node = framework.nodes[code]
        cat = category or (node.label(lang) if depth == 1 else "")
        if node.is_indicator:
            width = float(eff[code])
            x1 = x0 + width
        else:
            x1 = x0
            for child in node.children:
                x1 = visit(child, depth + 1, x1, cat)
        rows.append(
            {
                "code": code,
                "name": node.label(lang),
                "depth": depth,
                "x0": x0,
                "x1": x1,
                "weight": float(node.weight),
                "effective_weight": float(eff[code]),
                "category": cat or node.label(lang),
            }
        )
        return x1

    total = visit(framework.index_code, 0, 0.0, "")
    out = pd.DataFrame(rows)
    if total > 0:
        out["x0"] = out["x0"] / total
        out["x1"] = out["x1"] / total
    out["share"] = out["effective_weight"] * 100
    out["y0"] = out["depth"].astype(float)
    out["y1"] = out["y0"] + 1
    out["mid"] = (out["x0"] + out["x1"]) / 2
    out["ymid"] = out["y0"] + 0.5
    return out.sort_values(["depth", "x0"], kind="mergesort").reset_index(drop=True)


def framework_chart(framework: Framework, effective_weights: pd.Series, lang: str) -> Chart:
    """The framework as an icicle: the index on top, then categories, dimensions and
    indicators, each as wide as its effective weight (its share of the index)."""
    theme.use()
    df = framework_layout(framework, effective_weights, lang)
    depth = int(df["depth"].max()) + 1
    width = 760
    # a label fits when the rectangle is wide enough for a few characters
    df["text"] = [
        (name if (x1 - x0) * width > 9 * min(len(name), 14) + 6 else "")
        for name, x0, x1 in zip(df["name"], df["x0"], df["x1"], strict=True)
    ]
    df["text"] = df["text"].map(lambda s: s if len(s) <= 16 else s[:15] + "…")
    cats = list(dict.fromkeys(df.loc[df["depth"] == 1, "category"]))
    x = alt.X("x0:Q", axis=None, scale=alt.Scale(domain=[0, 1]))
    y = alt.Y("y0:Q", axis=None, scale=alt.Scale(domain=[0, depth], reverse=True))
    tooltip = [
        alt.Tooltip("name:N", title=t("col.name", lang)),
        alt.Tooltip("code:N", title=t("col.code", lang)),
        alt.Tooltip("weight:Q", title=t("col.weight", lang), format=".3g"),
        alt.Tooltip("share:Q", title=t("col.effective_weight", lang) + " (%)", format=".2f"),
    ]
    rects = (
        alt.Chart(df)
        .mark_rect(stroke="white", strokeWidth=1)
        .encode(
            x=x,
            x2="x1:Q",
            y=y,
            y2="y1:Q",
            color=alt.Color(
                "category:N",
                sort=[df.loc[df["depth"] == 0, "category"].iloc[0], *cats],
                title=t("col.category", lang),
                legend=alt.Legend(orient="bottom"),
            ),
            opacity=alt.Opacity("depth:O", scale=alt.Scale(range=[0.55, 1.0]), legend=None),
            tooltip=tooltip,
        )
    )
    labels = (
        alt.Chart(df[df["text"] != ""])
        .mark_text(fontSize=10, color="black")
        .encode(
            x=alt.X("mid:Q", scale=alt.Scale(domain=[0, 1]), axis=None),
            y=alt.Y("ymid:Q", scale=alt.Scale(domain=[0, depth], reverse=True), axis=None),
            text="text:N",
            tooltip=tooltip,
        )
    )
    return alt.layer(rects, labels).properties(
        title=_title("chart.framework.title", lang), width=width, height=max(160, 60 * depth)
    )
