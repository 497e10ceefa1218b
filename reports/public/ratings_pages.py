"""The HTML of the public rating results (/public/ratings/): zh-Hant and pt side by side by
default, one language with `?lang=`, every text escaped, no script — the public site's frame
and bilingual tables (`reports.public.pages`). No personal data reaches these pages: they are
rendered from `reports.public.ratings_data.PublicRatings` only (counts, shares, dates)."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import quote

import pandas as pd

from egov.settings import get_settings
from reports.html import esc
from reports.i18n import t
from reports.public import ratings_labels as _labels  # noqa: F401  (registers the labels)
from reports.public.pages import PREFIX, Langs, bi_table, bt, f1, frame, merge, para, q
from reports.public.ratings_data import PublicRatings
from reports.services import channel_names, one_channel

RATINGS = f"{PREFIX}/ratings"


def ratings_url(langs: Langs, period: str = "", page: str = "") -> str:
    base = f"{RATINGS}/" + (f"{quote(period, safe='')}/" if period else "")
    return f"{base}{page}{q(langs)}"


def nav(langs: Langs, period: str = "") -> str:
    links = [(f"{PREFIX}/{q(langs)}", "pub.home"), (ratings_url(langs), "pubr.ratings_home")]
    if period:
        links += [
            (ratings_url(langs, period), "pubr.period_title"),
            (ratings_url(langs, period, "open-data.zip"), "pubr.open_data"),
        ]
    return " ".join(f'<a href="{esc(h)}">{bt(langs, k, period=period)}</a>' for h, k in links)


def meta(pr: PublicRatings, langs: Langs) -> str:
    span = bt(langs, "pubr.final", start=pr.start.isoformat(), end=pr.end.isoformat())
    return span + " · " + bt(langs, "pubr.through", day=pr.through.isoformat())


def _n(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def share_text(row: pd.Series, prefix: str, min_n: int, lang: str) -> str:
    """The share satisfied with its interval, or why it is withheld."""
    if int(row[f"{prefix}count"]) == 0:
        return t("pubr.none", lang)
    if bool(row[f"{prefix}withheld"]):
        return t("pubr.withheld", lang, min=min_n)
    return t(
        "pubr.share",
        lang,
        share=f1(row[f"{prefix}share_satisfied"]),
        low=f1(row[f"{prefix}share_satisfied_low"]),
        high=f1(row[f"{prefix}share_satisfied_high"]),
    )


def pct(v: Any) -> str:
    return "–" if math.isnan(_n(v)) else f"{f1(v)} %"


def name(row: pd.Series, lang: str, code: str, prefix: str = "name_") -> str:
    suffix = {"zh-Hant": "zh", "pt": "pt", "en": "en"}[lang]
    return f"{row.get(f'{prefix}{suffix}') or code} ({code})"


def linked(langs: Langs, href: str, texts: list[str]) -> str:
    return f'<a href="{esc(href)}">{merge(langs, texts)}</a>'


# --- the index -------------------------------------------------------------------------------------
def index_page(periods: list[str], langs: Langs) -> str:
    if periods:
        items = "".join(
            f'<li><a href="{esc(ratings_url(langs, p))}">{bt(langs, "pubr.period_title", period=p)}</a></li>'
            for p in periods
        )
        body = f"<ul>{items}</ul>"
    else:
        body = para(langs, lambda lang: t("pubr.no_periods", lang))
    sections = [(bt(langs, "pubr.periods"), para(langs, lambda lang: t("pubr.intro", lang)) + body)]
    return frame(langs, lambda lang: t("pubr.title", lang), sections, nav(langs))


# --- a period ----------------------------------------------------------------------------------------
def rules(pr: PublicRatings, langs: Langs) -> str:
    return para(langs, lambda lang: t("pubr.rule", lang, min=pr.min_ratings), "note")


def period_page(pr: PublicRatings, langs: Langs) -> str:
    d, s, n = pr.departments, pr.services, pr.min_ratings
    depts = bi_table(
        langs,
        lambda lang: [
            t("pubr.department", lang),
            t("pubr.objects_count", lang),
            t("pubr.objects_satisfied", lang),
            t("pubr.services_count", lang),
            t("pubr.services_satisfied", lang),
            t("pubr.cases", lang),
            t("pubr.on_time", lang),
            t("pubr.median_days", lang),
        ],
        lambda lang: [
            [
                name(r, lang, str(c)),
                str(r["objects_count"]),
                share_text(r, "objects_", n, lang),
                str(r["services_count"]),
                share_text(r, "services_", n, lang),
                str(r["cases_cases"]),
                pct(r["cases_on_time_rate"]),
                f1(r["cases_median_days"]),
            ]
            for c, r in d.iterrows()
        ],
        numeric=(1, 3, 5, 6, 7),
    )
    links = " · ".join(
        linked(
            langs,
            ratings_url(langs, pr.period, f"departments/{quote(str(c), safe='')}"),
            [name(r, lang, str(c)) for lang in langs],
        )
        for c, r in d.iterrows()
    )
    open_data = (
        f'<p><a href="{esc(ratings_url(langs, pr.period, "open-data.zip"))}" download>'
        f"{bt(langs, 'pubr.open_data_zip')}</a></p>"
    )
    sections = [
        (bt(langs, "pubr.departments"), depts + rules(pr, langs) + f'<p class="departments">{links}</p>'),
        (bt(langs, "pubr.services"), services_table(pr, s, langs)),
        (bt(langs, "pubr.open_data"), open_data),
    ]
    return frame(
        langs,
        lambda lang: t("pubr.period_title", lang, period=pr.period),
        sections,
        nav(langs, pr.period),
        meta(pr, langs),
    )


def services_table(pr: PublicRatings, s: pd.DataFrame, langs: Langs, owner: bool = True) -> str:
    """One row per service item: owner, ratings, share satisfied, mean, bad, cases, on time."""
    if s.empty:
        return para(langs, lambda lang: t("pubr.no_ratings", lang), "na")
    n = pr.min_ratings

    def cell(code: str, r: pd.Series, lang: str) -> str:
        return name(r, lang, code)

    table = bi_table(
        langs,
        lambda lang: [
            t("pubr.service", lang),
            *([t("pubr.owner", lang)] if owner else []),
            t("pubr.count", lang),
            t("pubr.satisfied", lang),
            t("pubr.mean", lang),
            t("pubr.bad", lang),
            t("pubr.cases", lang),
            t("pubr.on_time", lang),
        ],
        lambda lang: [
            [
                cell(str(c), r, lang),
                *([name(r, lang, str(r["department"]), "department_")] if owner else []),
                str(r["rating_count"]),
                share_text(r, "rating_", n, lang),
                "–" if bool(r["rating_withheld"]) else f1(r["rating_mean_level"]),
                str(r["rating_bad"]),
                str(r["cases_cases"]),
                pct(r["cases_on_time_rate"]),
            ]
            for c, r in s.iterrows()
        ],
        numeric=(2, 4, 5, 6, 7) if owner else (1, 3, 4, 5, 6),
    )
    links = " · ".join(
        linked(
            langs,
            ratings_url(langs, pr.period, f"services/{quote(str(c), safe='')}"),
            [name(r, lang, str(c)) for lang in langs],
        )
        for c, r in s.iterrows()
    )
    return table + f'<p class="services">{links}</p>'


def summary_table(row: pd.Series, prefix: str, min_n: int, langs: Langs) -> str:
    """A group's rating figures as a two-column table."""

    def rows(lang: str) -> list[list[str]]:
        withheld = bool(row[f"{prefix}withheld"])
        out = [
            [t("pubr.count", lang), str(row[f"{prefix}count"])],
            [t("pubr.satisfied", lang), share_text(row, prefix, min_n, lang)],
            [t("pubr.mean", lang), "–" if withheld else f1(row[f"{prefix}mean_level"])],
            [t("pubr.bad", lang), str(row[f"{prefix}bad"])],
            [t("pubr.bad_share", lang), "–" if withheld else pct(row[f"{prefix}bad_share"])],
        ]
        return out

    return bi_table(langs, lambda lang: [t("pubr.figure", lang), t("pubr.value", lang)], rows, numeric=(1,))


def cases_table(row: pd.Series, langs: Langs) -> str:
    """The bad-rating case figures of a department or service item."""

    def of(part: Any, whole_: Any, lang: str) -> str:
        return t("pubr.of", lang, part=int(part), whole=int(whole_))

    def days(v: Any, lang: str) -> str:
        return "–" if math.isnan(_n(v)) else t("pubr.days", lang, n=f1(v))

    def rows(lang: str) -> list[list[str]]:
        reached = int(row["cases_visits_satisfied"]) + int(row["cases_visits_unsatisfied"])
        return [
            [t("pubr.c.cases", lang), str(row["cases_cases"])],
            [t("pubr.c.rectified", lang), str(row["cases_rectified"])],
            [t("pubr.c.explained", lang), str(row["cases_explained"])],
            [t("pubr.c.removed", lang), str(row["cases_removed"])],
            [
                t("pubr.c.on_time", lang),
                f"{of(row['cases_on_time'], row['cases_due'], lang)} · {pct(row['cases_on_time_rate'])}",
            ],
            [t("pubr.c.overdue", lang), str(row["cases_overdue"])],
            [t("pubr.c.median", lang), days(row["cases_median_days"], lang)],
            [t("pubr.c.mean", lang), days(row["cases_mean_days"], lang)],
            [
                t("pubr.c.visits", lang),
                f"{of(row['cases_visits_satisfied'], reached, lang)} · {pct(row['cases_visit_satisfaction'])}",
            ],
            [t("pubr.c.unreachable", lang), str(row["cases_visits_unreachable"])],
        ]

    return bi_table(langs, lambda lang: [t("pubr.figure", lang), t("pubr.value", lang)], rows, numeric=(1,))


def case_note(langs: Langs) -> str:
    days = get_settings().case_rectify_days
    return para(langs, lambda lang: t("pubr.case_text", lang, days=days), "note")


# --- a department --------------------------------------------------------------------------------------
def department_page(pr: PublicRatings, code: str, langs: Langs) -> str:
    row = pr.departments.loc[[code]].iloc[0]  # one row: the index is unique
    objs = pr.objects[pr.objects["department"] == code] if not pr.objects.empty else pr.objects
    objects_html = summary_table(row, "objects_", pr.min_ratings, langs)
    if not objs.empty:
        objects_html += bi_table(
            langs,
            lambda lang: [t("pubr.object", lang), t("pubr.count", lang), t("pubr.satisfied", lang)],
            lambda lang: [
                [name(r, lang, str(r["object"])), str(r["count"]), share_text(r, "", pr.min_ratings, lang)]
                for _, r in objs.iterrows()
            ],
            numeric=(1,),
        )
    owned = pr.services[pr.services["department"] == code]
    sections = [
        (
            bt(langs, "pubr.own_objects"),
            para(langs, lambda lang: t("pubr.own_objects_text", lang)) + objects_html,
        ),
        (
            bt(langs, "pubr.own_services"),
            para(langs, lambda lang: t("pubr.own_services_text", lang))
            + summary_table(row, "services_", pr.min_ratings, langs)
            + services_table(pr, owned, langs, owner=False),
        ),
        (bt(langs, "pubr.case_section"), case_note(langs) + cases_table(row, langs)),
    ]
    sections[0] = (sections[0][0], sections[0][1] + rules(pr, langs))
    return frame(
        langs,
        lambda lang: f"{name(row, lang, code)}: {t('pubr.period_title', lang, period=pr.period)}",
        sections,
        nav(langs, pr.period),
        meta(pr, langs),
    )


# --- a service item ------------------------------------------------------------------------------------
def service_page(pr: PublicRatings, code: str, langs: Langs) -> str:
    row = pr.services.loc[[code]].iloc[0]  # one row: the index is unique
    about = bi_table(
        langs,
        lambda lang: [t("pubr.figure", lang), t("pubr.value", lang)],
        lambda lang: [
            [t("pubr.owner", lang), name(row, lang, str(row["department"]), "department_")],
            [t("pubr.channels", lang), channel_names(str(row["channels"]), lang) or "–"],
        ],
    )
    by_channel = pr.channels[pr.channels["service"] == code] if not pr.channels.empty else pr.channels
    channel_html = ""
    if not by_channel.empty:
        channel_html = f"<h3>{bt(langs, 'pubr.by_channel')}</h3>" + bi_table(
            langs,
            lambda lang: [
                t("pubr.channel", lang),
                t("pubr.count", lang),
                t("pubr.satisfied", lang),
                t("pubr.bad", lang),
            ],
            lambda lang: [
                [
                    one_channel(str(r["channel"]), lang),
                    str(r["count"]),
                    share_text(r, "", pr.min_ratings, lang),
                    str(r["bad"]),
                ]
                for _, r in by_channel.iterrows()
            ],
            numeric=(1, 3),
        )
    sections = [
        (bt(langs, "pubr.service"), about),
        (
            bt(langs, "pubr.count"),
            summary_table(row, "rating_", pr.min_ratings, langs) + channel_html + rules(pr, langs),
        ),
        (
            bt(langs, "pubr.case_section"),
            para(langs, lambda lang: t("pubr.service_case_text", lang), "note")
            + case_note(langs)
            + cases_table(row, langs),
        ),
    ]
    return frame(
        langs,
        lambda lang: f"{name(row, lang, code)}: {t('pubr.period_title', lang, period=pr.period)}",
        sections,
        nav(langs, pr.period),
        meta(pr, langs),
    )
