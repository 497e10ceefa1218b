"""The links of the report pages (escaped): a run's pages a key may see, the department
report's address, the navigation bar with the language switches and the logout button."""

from __future__ import annotations

from urllib.parse import quote

import reports.cases
import reports.cycle
import reports.web.labels  # noqa: F401  (registers the pages' labels)
from egov.auth import Principal
from reports.html import esc
from reports.i18n import TABLE, t
from reports.web.auth import ALL_ROLES

PREFIX = "/reports"
LANGUAGE_NAMES = (("zh-Hant", "中文"), ("pt", "Português"), ("en", "English"))


def q(lang: str) -> str:
    """The query string that keeps the page's language."""
    return f"?lang={quote(lang)}"


def login_url(lang: str) -> str:
    return f"{PREFIX}/login{q(lang)}"


def department_url(run_key: str, department: str, lang: str) -> str:
    """The address of a department's report of a run."""
    return f"{PREFIX}/{quote(run_key)}/departments/{quote(department, safe='')}{q(lang)}"


def run_links(principal: Principal, run_key: str, lang: str, whole: bool = True) -> list[str]:
    """Links to the pages of a run the key may see: the ranking (when it may read the `whole`
    run: not a department key's draft in review); its own department's report (department
    keys); the assessor's report (assessor, lead and admin keys)."""
    base = f"{PREFIX}/{quote(run_key)}"
    links = [f'<a href="{base}/ranking{q(lang)}">{esc(t("web.ranking", lang))}</a>'] if whole else []
    if principal.role == "department" and principal.department_code:
        links.append(
            f'<a href="{department_url(run_key, principal.department_code, lang)}">'
            f"{esc(t('web.department_report', lang))}</a>"
        )
    if principal.role in ALL_ROLES and whole:
        links.append(f'<a href="{base}/assessor{q(lang)}">{esc(t("web.assessor_report", lang))}</a>')
    return links


def nav(principal: Principal, lang: str, run_key: str | None = None, whole: bool = True) -> str:
    """Links for the signed-in key (those of a run when given, `whole` as in `run_links`),
    language switches and the logout button (escaped)."""
    links = [f'<a href="{PREFIX}/{q(lang)}">{esc(t("web.runs", lang))}</a>']
    # the assessment cycle's pages (reports.web.cycle): the cycles, with the pages of the key's role
    links.append(f'<a href="{PREFIX}/cycle/{q(lang)}">{esc(t("cycle.list_title", lang))}</a>')
    if principal.role in ("department", "assessor"):  # the case desk (reports.web.desk)
        links.append(f'<a href="{PREFIX}/desk/{q(lang)}">{esc(t("case.desk", lang))}</a>')
    if run_key is not None:
        links += run_links(principal, run_key, lang, whole)
    role = t(f"web.role.{principal.role}", lang) if f"web.role.{principal.role}" in TABLE else principal.role
    who = role + (f" · {principal.department_code}" if principal.department_code else "")
    langs = " ".join(
        f'<a href="?lang={quote(code)}" hreflang="{code}" lang="{code}">{esc(name)}</a>'
        for code, name in LANGUAGE_NAMES
    )
    return (
        '<nav class="site" style="display:flex;flex-wrap:wrap;gap:1rem;align-items:center;margin:.5rem 0 1rem">'
        + " ".join(links)
        + f'<span class="note">{esc(t("web.signed_in_as", lang))}: {esc(who)}</span>'
        + f'<span class="note">{langs}</span>'
        + f'<form method="post" action="{PREFIX}/logout{q(lang)}" style="margin:0"><button type="submit">'
        + f"{esc(t('web.logout', lang))}</button></form></nav>"
    )
