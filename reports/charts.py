"""The charts of the reports: small functions from data frames to Altair charts.

Ranks and scores are the engine's (the caller passes them in); the charts only draw and
order by them, never compute a rank with a chart transform. Every title, axis and legend
is in the report's language (`reports.i18n`), and the one theme (`reports.theme`) is
enabled on import.
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd

from indicators.framework import Framework
from reports import theme
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


def ranking_chart(ranking: pd.DataFrame, lang: str, *, title_key: str = "chart.ranking.title") -> Chart:
    """Dot at each entity's rank, with a bar from the 5th to the 95th percentile of its rank
    when `rank_p05`/`rank_p95` are given. Columns: label, rank, score[, rank_p05, rank_p95]."""
    theme.use()
    df = ranking.copy()
    df = df[df["rank"].notna()]
    order = _order(df, "label", "rank")
    n = max(len(order), 1)
    has_interval = {"rank_p05", "rank_p95"} <= set(df.columns) and bool(df["rank_p05"].notna().any())
    rank_t, score_t = t("col.rank", lang), t("col.score", lang)
    y = alt.Y("label:N", sort=order, title=t("col.department", lang))
    x_scale = alt.Scale(domain=[0.5, n + 0.5], nice=False, zero=False)
    tooltip: list[alt.Tooltip] = [
        alt.Tooltip("label:N", title=t("col.department", lang)),
        alt.Tooltip("rank:Q", title=rank_t),
        alt.Tooltip("score:Q", title=score_t, format=".1f"),
    ]
    if has_interval:
        tooltip += [
            alt.Tooltip("rank_p05:Q", title=t("col.rank_p05", lang), format=".0f"),
            alt.Tooltip("rank_p95:Q", title=t("col.rank_p95", lang), format=".0f"),
        ]
    base = alt.Chart(df)
    dots = base.mark_point(filled=True, size=70, color=theme.ACCENT).encode(
        x=alt.X("rank:Q", title=rank_t, scale=x_scale, axis=alt.Axis(tickMinStep=1, format="d")),
        y=y,
        tooltip=tooltip,
    )
    subtitle = t("chart.ranking.subtitle", lang) if has_interval else None
    height = max(120, 22 * n)
    if has_interval:
        bars = base.mark_rule(strokeWidth=3, color=theme.PALETTE[4]).encode(
            x=alt.X("rank_p05:Q", scale=x_scale, title=rank_t),
            x2="rank_p95:Q",
            y=y,
            tooltip=tooltip,
        )
        return alt.layer(bars, dots).properties(
            title=_title(title_key, lang, subtitle), height=height, width=520
        )
    return dots.properties(title=_title(title_key, lang), height=height, width=520)


def category_chart(scores: pd.DataFrame, lang: str, *, order: Sequence[str] | None = None) -> Chart:
    """Grouped horizontal bars: each entity's score in each category.
    Columns: label, category (its name), score; `order`: the labels top to bottom (e.g. by
    the engine's overall rank)."""
    theme.use()
    df = scores.dropna(subset=["score"]).copy()
    labels = list(order) if order is not None else list(dict.fromkeys(df["label"].astype(str)))
    cats = list(dict.fromkeys(df["category"].astype(str)))
    return (
        alt.Chart(df)
        .mark_bar()
        .encode(
            y=alt.Y("label:N", sort=labels, title=t("col.department", lang)),
            yOffset=alt.YOffset("category:N", sort=cats),
            x=alt.X("score:Q", title=t("col.score", lang), scale=alt.Scale(domain=[0, 100])),
            color=alt.Color(
                "category:N", sort=cats, title=t("col.category", lang), legend=alt.Legend(orient="top")
            ),
            tooltip=[
                alt.Tooltip("label:N", title=t("col.department", lang)),
                alt.Tooltip("category:N", title=t("col.category", lang)),
                alt.Tooltip("score:Q", title=t("col.score", lang), format=".1f"),
            ],
        )
        .properties(
            title=_title("chart.category.title", lang),
            width=520,
            height=max(160, 10 * len(cats) * len(labels)),
        )
    )


def heatmap(
    values: pd.DataFrame,
    lang: str,
    *,
    row_order: Sequence[str] | None = None,
    column_names: dict[str, str] | None = None,
) -> Chart:
    """Departments × indicators, coloured by the normalised value (0–100).
    `values`: index = department labels (top to bottom in `row_order`), columns = indicator
    codes; `column_names`: code → name for the axis and tooltip."""
    theme.use()
    names = column_names or {}
    cols = list(values.columns)
    stacked = pd.Series(
        values.rename_axis(index="label", columns="code").stack(future_stack=True), name="value"
    )
    long = stacked.reset_index()
    long["indicator"] = long["code"].map(lambda c: names.get(c, c))
    rows = list(row_order) if row_order is not None else list(values.index.astype(str))
    return (
        alt.Chart(long)
        .mark_rect()
        .encode(
            x=alt.X(
                "code:N",
                sort=cols,
                title=t("col.indicator", lang),
                axis=alt.Axis(labelAngle=-60, labelLimit=120),
            ),
            y=alt.Y("label:N", sort=rows, title=t("col.department", lang)),
            color=alt.Color(
                "value:Q",
                title=t("col.normalised", lang),
                scale=alt.Scale(scheme="blues", domain=[0, 100]),
            ),
            tooltip=[
                alt.Tooltip("label:N", title=t("col.department", lang)),
                alt.Tooltip("indicator:N", title=t("col.indicator", lang)),
                alt.Tooltip("code:N", title=t("col.code", lang)),
                alt.Tooltip("value:Q", title=t("col.normalised", lang), format=".1f"),
            ],
        )
        .properties(
            title=_title("chart.heatmap.title", lang),
            width=max(200, 14 * len(cols)),
            height=max(120, 18 * len(rows)),
        )
    )


def trend_chart(history: pd.DataFrame, lang: str) -> Chart:
    """Each entity's rank (from the engine, run by run) across periods, rank 1 on top.
    Columns: label, period, rank[, score]."""
    theme.use()
    df = history.dropna(subset=["rank"]).copy()
    df["period"] = df["period"].astype(str)
    periods = sorted(df["period"].unique())
    n = int(df["rank"].max()) if len(df) else 1
    tooltip = [
        alt.Tooltip("label:N", title=t("col.department", lang)),
        alt.Tooltip("period:N", title=t("col.period", lang)),
        alt.Tooltip("rank:Q", title=t("col.rank", lang)),
    ]
    if "score" in df.columns:
        tooltip.append(alt.Tooltip("score:Q", title=t("col.score", lang), format=".1f"))
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
            legend=alt.Legend(columns=2, symbolLimit=60, labelLimit=240),
        ),
        "tooltip": tooltip,
    }
    lines = alt.Chart(df).mark_line().encode(**enc)
    points = alt.Chart(df).mark_point(filled=True, size=40).encode(**enc)
    return alt.layer(lines, points).properties(title=_title("chart.trend.title", lang), width=420, height=360)


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
    points = (
        alt.Chart(df)
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
    return alt.layer(lines, centre, points).properties(
        title=_title("chart.funnel.title", lang), width=520, height=340
    )


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
