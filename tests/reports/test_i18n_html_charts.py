"""Unit tests of the report building blocks: labels in three languages, the self-contained
page, and the charts (titles in the report's language, ranks drawn as given, funnel limits)."""

from __future__ import annotations

import math
import re
from typing import cast

import numpy as np
import pandas as pd
import pytest

from egov.errors import EgovError
from indicators.framework import resolve_framework
from reports import charts, theme
from reports.html import chart_html, render_page, table
from reports.i18n import LANGS, TABLE, add, check_lang, t


def test_every_label_has_three_non_empty_languages() -> None:
    assert LANGS == ("zh-Hant", "pt", "en")
    for key, texts in TABLE.items():
        assert set(texts) == set(LANGS), key
        assert all(texts[lang].strip() for lang in LANGS), key
    # Traditional, not Simplified, Chinese in a few characteristic labels
    assert t("col.department", "zh-Hant") == "部門"
    assert "報告" in t("report.assessor.title")  # zh-Hant is the default


def test_placeholders_and_languages() -> None:
    assert "200" in t("sec.uncertainty_note", "en", n=200, seed=1)
    assert check_lang(None) == "zh-Hant"
    with pytest.raises(EgovError):
        check_lang("fr")
    with pytest.raises(ValueError, match="lacks"):
        add({"x.test": {"en": "only English"}})
    with pytest.raises(KeyError):
        t("no.such.key", "en")


def test_page_escapes_text_and_has_no_external_resource() -> None:
    evil = '<script>alert("x")</script>'
    page = render_page(evil, [(evil, table(["a"], [[evil]]))], "pt", banner=evil, meta=evil)
    assert "<script>alert" not in page
    assert '<html lang="pt">' in page
    assert "@media print" in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "vegaEmbed" not in page  # no chart, no bundle


def test_chart_fragment_inlines_the_bundle_once_and_keeps_script_text_safe() -> None:
    df = pd.DataFrame({"label": ["A</script><b>", "B"], "rank": [1, 2], "score": [80.0, float("nan")]})
    frag = chart_html(charts.ranking_chart(df, "en"))
    frag2 = chart_html(charts.ranking_chart(df, "en"))
    page = render_page("T", [("one", frag), ("two", frag2)], "en")
    assert page.count("<script>") == 3  # the bundle once, one per chart
    assert "A</script>" not in page and "A<\\/script>" in page
    assert "NaN" not in frag  # JSON cannot carry NaN: null instead


@pytest.mark.parametrize("lang", LANGS)
def test_chart_titles_follow_the_language(lang: str) -> None:
    df = pd.DataFrame({"label": ["A", "B"], "rank": [2, 1], "score": [50.0, 60.0]})
    spec = charts.ranking_chart(df, lang).to_dict()
    assert spec["title"]["text"] == t("chart.ranking.title", lang)
    assert spec["encoding"]["y"]["sort"] == ["B", "A"]  # the engine's ranks decide the order
    assert "transform" not in spec  # no rank computed by the chart
    fw = resolve_framework("macau")
    tree = charts.framework_chart(fw, pd.Series({c: 1.0 for c in fw.nodes}), lang).to_dict()
    assert tree["title"]["text"] == t("chart.framework.title", lang)


def test_ranking_chart_draws_intervals_only_when_given() -> None:
    df = pd.DataFrame({"label": ["A", "B"], "rank": [1, 2], "score": [60.0, 50.0]})
    assert charts.ranking_chart(df, "en").to_dict()["mark"]["type"] == "point"
    df["score_p05"], df["score_p95"] = [55.0, 41.0], [66.0, 57.0]
    spec = charts.ranking_chart(df, "en").to_dict()
    assert [layer["mark"]["type"] for layer in spec["layer"]] == ["rule", "point"]
    assert spec["title"]["subtitle"] == t("chart.ranking.subtitle", "en")


def test_ranking_chart_plots_scores_with_intervals_and_highlights_the_reader() -> None:
    """Issue 14: score (not rank) on x, the Monte Carlo score interval as a rule from p05 to
    p95, rows in the engine's rank order, and the reader's department in its own colour and
    bold."""
    df = pd.DataFrame(
        {
            "label": ["Alpha", "Beta", "Gamma"],
            "rank": [2, 1, 3],
            "score": [61.0, 70.0, 40.0],
            "score_p05": [55.0, 64.0, 31.0],
            "score_p95": [66.0, 75.0, 47.0],
        }
    )
    spec = charts.ranking_chart(df, "en", highlight="Alpha").to_dict()
    rule, dots = spec["layer"]
    assert dots["encoding"]["x"]["field"] == "score"
    assert rule["mark"]["type"] == "rule"
    assert (rule["encoding"]["x"]["field"], rule["encoding"]["x2"]["field"]) == ("score_p05", "score_p95")
    assert dots["encoding"]["y"]["sort"] == ["Beta", "Alpha", "Gamma"]
    colour = dots["encoding"]["color"]
    assert colour["scale"]["range"][0] == theme.HIGHLIGHT and theme.HIGHLIGHT != theme.ACCENT
    rows = next(iter(spec["datasets"].values()))
    who = {row["label"]: row[colour["field"]] for row in rows}
    assert who["Alpha"] == colour["scale"]["domain"][0] == t("chart.reader", "en")
    assert who["Beta"] == who["Gamma"] == t("chart.others", "en")
    axis = dots["encoding"]["y"]["axis"]
    assert '"Alpha"' in axis["labelFontWeight"]["expr"] and "bold" in axis["labelFontWeight"]["expr"]
    # no reader: one colour, no legend
    plain = charts.ranking_chart(df, "en").to_dict()["layer"][1]["encoding"]["color"]
    assert plain["scale"]["range"] == [theme.ACCENT] and plain["legend"] is None


def test_trend_chart_tells_twenty_departments_apart() -> None:
    """20 departments: 20 distinct colours and a direct label at each line's end; with a
    reader, their line highlighted and the others grey."""
    labels = [f"Department {i:02d}" for i in range(20)]
    trend = pd.DataFrame(
        {
            "label": labels * 2,
            "period": [2022] * 20 + [2023] * 20,
            "rank": list(range(1, 21)) + list(range(20, 0, -1)),
        }
    )
    spec = charts.trend_chart(trend, "en").to_dict()
    colour = spec["layer"][0]["encoding"]["color"]
    assert len(set(colour["scale"]["range"])) >= 20
    assert len(set(colour["scale"]["domain"])) == 20
    texts = [layer for layer in spec["layer"] if layer["mark"]["type"] == "text"]
    named = [row["label"] for layer in texts for row in spec["datasets"][layer["data"]["name"]]]
    assert sorted(named) == labels and all(layer["encoding"]["text"]["field"] == "label" for layer in texts)
    spec = charts.trend_chart(trend, "en", highlight="Department 07").to_dict()
    scale = spec["layer"][0]["encoding"]["color"]["scale"]
    by_label = dict(zip(scale["domain"], scale["range"], strict=True))
    assert by_label.pop("Department 07") == theme.HIGHLIGHT
    assert set(by_label.values()) == {theme.MUTED}


def test_heatmap_names_columns_and_marks_missing_cells() -> None:
    values = pd.DataFrame({"i1": [0.0, 100.0], "i2": [50.0, np.nan]}, index=["Dept A", "Dept B"])
    spec = charts.heatmap(values, "zh-Hant", column_names={"i1": "One", "i2": "Two"}).to_dict()
    cells, gaps, dashes = spec["layer"]
    assert cells["encoding"]["x"]["field"] == "indicator" and cells["encoding"]["x"]["sort"] == ["One", "Two"]
    assert cells["encoding"]["y"]["title"] == t("col.department", "zh-Hant")
    present = spec["datasets"][cells["data"]["name"]]
    absent = spec["datasets"][gaps["data"]["name"]]
    assert len(present) == 3 and all(row["value"] is not None for row in present)
    assert [(row["label"], row["indicator"]) for row in absent] == [("Dept B", "Two")]
    fill = gaps["encoding"]["fill"]
    assert fill["scale"]["domain"] == [t("chart.missing", "zh-Hant")] and fill["legend"] is not None
    assert fill["scale"]["range"] != ["white"]
    assert dashes["mark"]["text"] == "—"
    # two indicators of the same name stay apart: their codes are added
    same = charts.heatmap(values, "en", column_names={"i1": "Same", "i2": "Same"}).to_dict()
    assert same["layer"][0]["encoding"]["x"]["sort"] == ["Same (i1)", "Same (i2)"]


def test_category_chart_rows_title_says_what_the_rows_are() -> None:
    scores = pd.DataFrame({"label": ["Mine", "Median"], "category": ["X", "X"], "score": [10.0, 20.0]})
    spec = charts.category_chart(
        scores, "zh-Hant", y_title=t("chart.series", "zh-Hant"), highlight="Mine"
    ).to_dict()
    y = spec["encoding"]["y"]
    assert y["title"] == t("chart.series", "zh-Hant") != t("col.department", "zh-Hant")
    assert '"Mine"' in y["axis"]["labelFontWeight"]["expr"]


def test_funnel_limits_known_answer() -> None:
    # p = 0.5, n = 100: 0.5 ± 1.96 × 0.05 (Spiegelhalter 2005)
    lo, hi = charts.funnel_limits(0.5, np.array([100.0]), charts.Z_95)
    assert lo[0] == pytest.approx(0.5 - 1.959964 * 0.05, abs=1e-6)
    assert hi[0] == pytest.approx(0.5 + 1.959964 * 0.05, abs=1e-6)
    lo, hi = charts.funnel_limits(0.9, np.array([4.0]), charts.Z_998)
    assert hi[0] == 1.0 and 0 <= lo[0] < 0.9  # clipped to [0, 1]
    ratings = pd.DataFrame({"label": ["a", "b", "c"], "n": [40, 400, 4000], "share": [50.0, 80.0, 70.0]})
    spec = charts.funnel_chart(ratings, "en").to_dict()
    assert len(spec["layer"]) == 3
    datasets = spec["datasets"]
    centre = next(v for v in datasets.values() if len(v) == 1)
    p = (0.5 * 40 + 0.8 * 400 + 0.7 * 4000) / 4440
    assert centre[0]["share"] == pytest.approx(p * 100)
    limits = next(v for v in datasets.values() if len(v) > 100)
    assert {row["limit"] for row in limits} == {t("chart.limit_95", "en"), t("chart.limit_998", "en")}


def test_framework_layout_widths_are_effective_weights() -> None:
    fw = resolve_framework("macau")
    from indicators.framework import Framework

    assert isinstance(fw, Framework)
    leaves = fw.indicator_codes
    eff = pd.Series(1.0, index=list(fw.nodes))
    eff[leaves] = 1.0 / len(leaves)
    for node in fw.aggregates_bottom_up():
        eff[node.code] = sum(eff[c] for c in node.children)
    layout = charts.framework_layout(fw, eff, "en").set_index("code")
    assert layout.loc[fw.index_code, "x0"] == 0 and layout.loc[fw.index_code, "x1"] == pytest.approx(1)
    for cat in fw.categories:
        width = cast(float, layout.loc[cat.code, "x1"]) - cast(float, layout.loc[cat.code, "x0"])
        assert width == pytest.approx(eff[cat.code])
    assert set(layout["depth"]) == {0, 1, 2, 3}


def test_category_heatmap_and_trend_charts() -> None:
    scores = pd.DataFrame(
        {"label": ["A", "A", "B"], "category": ["X", "Y", "X"], "score": [10.0, 20.0, math.nan]}
    )
    spec = charts.category_chart(scores, "pt", order=["B", "A"]).to_dict()
    assert spec["encoding"]["y"]["sort"] == ["B", "A"] and spec["title"]["text"] == t(
        "chart.category.title", "pt"
    )
    values = pd.DataFrame({"i1": [0.0, 100.0], "i2": [50.0, np.nan]}, index=["A", "B"])
    spec = charts.heatmap(values, "en", column_names={"i1": "One"}).to_dict()
    assert spec["layer"][0]["mark"]["type"] == "rect"
    trend = pd.DataFrame({"label": ["A", "A", "B", "B"], "period": [2022, 2023] * 2, "rank": [1, 2, 2, 1]})
    spec = charts.trend_chart(trend, "zh-Hant").to_dict()
    assert spec["title"]["text"] == t("chart.trend.title", "zh-Hant")
