"""Self-contained HTML pages: inline CSS, the chart JavaScript (Vega, Vega-Lite, Vega-Embed)
inlined once per page from the `vl-convert-python` bundle, no external resource, so a report
opens with no network.

Callers build sections as (heading, html fragment) pairs and escape whatever text they put in
a fragment (`esc`, `table`); `render_page` escapes the title and headings itself.
"""

from __future__ import annotations

import contextlib
import functools
import html
import itertools
import json
import math
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd

from egov.errors import EgovError
from reports import theme
from reports.i18n import check_lang, t

CHART_MARKER = "data-egov-chart"
_ids = itertools.count(1)


def esc(value: object) -> str:
    """Text escaped for HTML (None -> empty)."""
    return "" if value is None else html.escape(str(value), quote=True)


@functools.lru_cache(maxsize=1)
def javascript_bundle() -> str:
    """Vega + Vega-Lite + Vega-Embed as one script (from vl-convert-python), matching Altair's
    Vega-Lite version. Building it takes seconds, so it is kept in the user's cache folder
    (`$XDG_CACHE_HOME/egov-eval`, else ~/.cache/egov-eval) under the two versions; without a
    writable cache folder it is built each time."""
    try:
        import vl_convert as vlc
    except ImportError as exc:  # pragma: no cover - a dependency of the project
        raise EgovError("the chart bundle needs the package vl-convert-python") from exc
    try:
        from altair.utils._importers import vl_version_for_vl_convert

        version: str | None = vl_version_for_vl_convert()
    except Exception:  # pragma: no cover - older/newer Altair
        version = None
    cached = bundle_cache() / f"vega-bundle-{getattr(vlc, '__version__', 'x')}-{version or 'default'}.js"
    with contextlib.suppress(OSError):
        return cached.read_text(encoding="utf-8")
    make: Any = vlc.javascript_bundle  # its stub says str; None (as Altair passes) gives the plain bundle
    bundle: str = make(None, vl_version=version) if version else make(None)
    bundle = bundle.replace("</script", "<\\/script")
    with contextlib.suppress(OSError):
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_name(f"{cached.name}.{os.getpid()}.tmp")
        partial.write_text(bundle, encoding="utf-8")
        partial.replace(cached)  # whole or absent: another process may read it meanwhile
    return bundle


def bundle_cache() -> Path:
    """The folder of the cached chart bundle."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "egov-eval"


def _json_for_script(obj: Any) -> str:
    """JSON safe inside a <script> element (no '</' or HTML comment openers)."""
    text = json.dumps(obj, ensure_ascii=False, allow_nan=False, default=str)
    return (
        text.replace("</", "<\\/")
        .replace("<!--", "<\\!--")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _clean(obj: Any) -> Any:
    """NaN/inf (which JSON cannot carry) -> null, recursively."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_clean(v) for v in obj]
    return obj


def chart_html(chart: alt.TopLevelMixin, *, description: str = "") -> str:
    """An HTML fragment that renders `chart` as SVG once the page's bundle is loaded
    (render_page inlines it when a fragment holds a chart)."""
    theme.use()
    # not validated again here: every chart function's spec is validated by its tests
    # (`to_dict()`), and validation (jsonschema) was most of the cost of a page's charts
    return spec_html(chart.to_dict(validate=False), description=description)


def spec_html(spec: dict[str, Any], *, description: str = "") -> str:
    """`chart_html` of a chart's Vega-Lite spec (e.g. `charts.ranking_spec`: a template filled)."""
    spec = _clean(spec)
    div_id = f"egov-chart-{next(_ids)}"
    options = {"renderer": "svg", "actions": False}
    label = esc(description or spec.get("description") or _title_text(spec))
    return (
        f'<figure class="chart" {CHART_MARKER}="1">'
        f'<div id="{div_id}" class="chart-body" role="img" aria-label="{label}"></div>'
        "<script>(function(){"
        f"var el=document.getElementById({json.dumps(div_id)});"
        f"vegaEmbed(el,{_json_for_script(spec)},{json.dumps(options)})"
        ".catch(function(e){el.textContent='chart error: '+e;console.error(e);});"
        "})();</script>"
        "</figure>"
    )


def _title_text(spec: dict[str, Any]) -> str:
    title = spec.get("title")
    if isinstance(title, dict):
        title = title.get("text")
    if isinstance(title, list):
        title = " ".join(map(str, title))
    return str(title or "")


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    numeric: Sequence[int] = (),
    digits: int = 2,
    caption: str = "",
) -> str:
    """An escaped HTML table; columns listed in `numeric` are right-aligned and floats
    rounded to `digits` (missing -> an en dash)."""
    num = set(numeric)
    out = ['<div class="table-wrap"><table>']
    if caption:
        out.append(f"<caption>{esc(caption)}</caption>")
    out.append(
        "<thead><tr>" + "".join(f'<th scope="col">{esc(h)}</th>' for h in headers) + "</tr></thead><tbody>"
    )
    for row in rows:
        cells = []
        for i, value in enumerate(row):
            cls = ' class="num"' if i in num else ""
            cells.append(f"<td{cls}>{esc(_fmt(value, digits))}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def _fmt(value: object, digits: int) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "–"
        return f"{value:.{digits}f}"
    if value is pd.NA or value is pd.NaT:
        return "–"
    return str(value)


CSS = """
:root{--ink:#1f2933;--muted:#6b7280;--line:#e5e7eb;--accent:#0072B2;--warn:#fff4ce;--warn-line:#d4a106}
*{box-sizing:border-box}
body{margin:0;font-family:FONT_PLACEHOLDER;color:var(--ink);background:#fff;line-height:1.5;font-size:15px}
header.page{padding:1.5rem 2rem 1rem;border-bottom:3px solid var(--accent)}
header.page h1{margin:0;font-size:1.6rem}
header.page .meta{color:var(--muted);font-size:.9rem;margin-top:.3rem}
main{padding:1rem 2rem 3rem;max-width:1200px}
.banner{background:var(--warn);border:1px solid var(--warn-line);padding:.6rem 1rem;margin:1rem 2rem 0;font-weight:bold}
nav.toc ol{columns:2;padding-left:1.2rem;margin:.3rem 0}
nav.toc a{color:var(--accent);text-decoration:none}
section{margin-top:2rem}
section>h2{font-size:1.25rem;border-bottom:1px solid var(--line);padding-bottom:.2rem}
h3{font-size:1.05rem;margin-bottom:.3rem}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.9rem}
caption{text-align:left;font-weight:bold;padding:.2rem 0}
th,td{border-bottom:1px solid var(--line);padding:.25rem .6rem;text-align:left;vertical-align:top}
th{background:#f3f4f6}
td.num{text-align:right;font-variant-numeric:tabular-nums}
figure.chart{margin:1rem 0;overflow-x:auto}
.note{color:var(--muted);font-size:.9rem}
.na{color:var(--muted);font-style:italic}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}
dl.facts dt{font-weight:bold}
dl.facts dd{margin:0;word-break:break-all}
@media print{
  body{font-size:11pt}
  nav.toc{display:none}
  header.page,main{padding-left:0;padding-right:0}
  section{break-inside:avoid-page}
  figure.chart,table{break-inside:avoid}
  a{color:inherit;text-decoration:none}
}
""".replace("FONT_PLACEHOLDER", theme.FONT)


def _slug(text: str, used: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"
    slug, n = base, 1
    while slug in used:
        n += 1
        slug = f"{base}-{n}"
    used.add(slug)
    return slug


def render_page(
    title: str,
    sections: Sequence[tuple[str, str]],
    lang: str = "zh-Hant",
    *,
    banner: str | None = None,
    meta: str = "",
    toc: bool = True,
) -> str:
    """A complete self-contained HTML page. `title`, the section headings, `banner` and
    `meta` are text (escaped here); section bodies are HTML fragments the caller escaped.
    The chart bundle is inlined once when any section holds a chart from `chart_html`."""
    lang = check_lang(lang)
    used: set[str] = set()
    ids = [f"s{i + 1}-{_slug(h, used)}" for i, (h, _) in enumerate(sections)]
    has_chart = any(CHART_MARKER in body for _, body in sections)
    head_script = f"<script>{javascript_bundle()}</script>" if has_chart else ""
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{esc(lang)}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title>",
        f"<style>{CSS}</style>",
        head_script,
        "</head><body>",
        f'<header class="page"><h1>{esc(title)}</h1>',
        f'<div class="meta">{esc(meta)}</div>' if meta else "",
        "</header>",
        f'<div class="banner" role="note">{esc(banner)}</div>' if banner else "",
        "<main>",
    ]
    if toc and len(sections) > 1:
        items = "".join(
            f'<li><a href="#{i}">{esc(h)}</a></li>' for i, (h, _) in zip(ids, sections, strict=True)
        )
        parts.append(
            f'<nav class="toc" aria-label="{esc(t("report.contents", lang))}"><h2>{esc(t("report.contents", lang))}</h2><ol>{items}</ol></nav>'
        )
    for sid, (heading, body) in zip(ids, sections, strict=True):
        parts.append(f'<section id="{sid}"><h2>{esc(heading)}</h2>{body}</section>')
    parts.append("</main></body></html>")
    return "\n".join(p for p in parts if p)


def not_available(lang: str, reason: str = "") -> str:
    """A fragment saying that a section is not available (and why)."""
    text = t("report.not_available", lang) + (f": {reason}" if reason else "")
    return f'<p class="na">{esc(text)}</p>'
