"""The citizen's status page of a rating (issue 17, point 3): `/status/{receipt}` and `/status/`
(a form to type the receipt), public, no login, no script, GET only.

It shows what was rated (the object and its department), the day, and for a bad rating its
case: the state in plain words, the day it was received, the deadline of the department's answer
and whether it was kept, the handling tier, the department's answer for the public
(rectification or explanation, scrubbed of identity numbers, phones and e-mails), the return
visit and its outcome, the appeal and its outcome. Never any personal data: no comment, no
pseudonym, no staff label, no internal note, no transaction reference. A good rating: "received,
thank you". An unknown receipt, one never rated and a purged rating are the same 404 page.
`?lang=zh-Hant|pt|en` (default zh-Hant); `Cache-Control: no-store` (a case moves); the per-client
rate limit of /public applies (egov.limits, set in create_app). The receipt is the rating token's
id (surveys.casedesk): 128 random bits, so a receipt cannot be guessed.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from egov.clock import local_day
from egov.deps import SessionDep
from egov.langs import LANGUAGES
from reports.cases import appeal_words, outcome_words, state_words, tier_words, time_words
from reports.html import esc, render_page
from reports.i18n import TABLE, add, t
from surveys.casedesk import PublicStatus, normalise_receipt, public_status

PREFIX = "/status"
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
}
LANGUAGE_NAMES = (("zh-Hant", "中文"), ("pt", "Português"), ("en", "English"))

LABELS: dict[str, tuple[str, str, str]] = {
    "status.title": ("評價處理進度", "Estado da sua avaliação", "Your rating's status"),
    "status.lookup": ("查詢進度", "Consultar", "Look it up"),
    "status.receipt": ("評價收據編號", "N.º do recibo da avaliação", "Rating receipt"),
    "status.lookup_help": (
        "請輸入評價後收到的收據編號（32 個字元，可包含空格或連字號）。本頁不顯示任何個人資料。",
        "Introduza o número do recibo que recebeu ao avaliar (32 caracteres; espaços e hífenes são aceites). "
        "Esta página não mostra dados pessoais.",
        "Type the receipt you were given when you rated (32 characters; spaces and hyphens are fine). "
        "This page shows no personal data.",
    ),
    "status.not_found": (
        "找不到此收據編號的評價。評價資料保存期滿後會被匿名化，其進度亦不再提供。",
        "Não há avaliação com este recibo. Depois do prazo de conservação as avaliações são anonimizadas "
        "e o seu estado deixa de estar disponível.",
        "There is no rating with this receipt. After the retention period ratings are anonymised and "
        "their status is no longer available.",
    ),
    "status.rated": ("評價對象", "Serviço avaliado", "What you rated"),
    "status.day": ("評價日期", "Data da avaliação", "Day of the rating"),
    "status.thanks": (
        "已收到您的評價，謝謝。",
        "Recebemos a sua avaliação. Obrigado.",
        "Received — thank you.",
    ),
    "status.bad_intro": (
        "您的差評已轉交 {department} 處理。部門須核實、整改或解釋說明，並回訪；結果公開如下。",
        "A sua avaliação negativa foi enviada a {department}, que a verifica, corrige ou explica e "
        "volta a contactá-lo; o resultado é público, abaixo.",
        "Your bad rating was passed to {department}, which checks it, puts it right or explains, and "
        "follows up with you; the result is public, below.",
    ),
    "status.bad_no_case": (
        "已收到您的評價，謝謝。此評價正在核查中，暫未開立處理個案。",
        "Recebemos a sua avaliação. Obrigado. Está a ser verificada; ainda não há um processo.",
        "Received — thank you. It is being checked; no case has been opened for it yet.",
    ),
    "status.state": ("處理狀態", "Estado", "State"),
    "status.received": ("收到日期", "Recebida em", "Received on"),
    "status.due": ("部門答覆期限", "Prazo de resposta do serviço", "The department answers by"),
    "status.tier": ("處理方式", "Tratamento", "How it is handled"),
    "status.answer": ("部門答覆", "Resposta do serviço", "The department's answer"),
    "status.answered_on": ("答覆日期：{day}", "Respondido em {day}", "Answered on {day}"),
    "status.no_answer": ("尚未答覆", "Ainda sem resposta", "No answer yet"),
    "status.visit": ("回訪", "Contacto posterior", "Return visit"),
    "status.visit_done": ("{day} 已回訪：{outcome}", "Feito em {day}: {outcome}", "Done on {day}: {outcome}"),
    "status.no_visit": ("尚未回訪", "Ainda não feito", "Not done yet"),
    "status.appeal": ("部門申訴", "Contestação do serviço", "Appeal by the department"),
    "status.another": ("查詢另一個收據", "Consultar outro recibo", "Look up another receipt"),
}
if "status.title" not in TABLE:
    add(LABELS)

router = APIRouter(prefix=PREFIX, include_in_schema=False)


def build_status_router() -> APIRouter:
    """The status pages' router (for `create_app`)."""
    return router


def _lang(request: Request) -> str:
    lang = request.query_params.get("lang", "zh-Hant")
    return lang if lang in LANGUAGES else "zh-Hant"


def status_url(receipt: str, lang: str) -> str:
    return f"{PREFIX}/{quote(receipt, safe='')}?lang={quote(lang)}"


def _languages(path: str) -> str:
    return " · ".join(
        f'<a href="{esc(path)}?lang={code}" hreflang="{code}" lang="{code}">{esc(name)}</a>'
        for code, name in LANGUAGE_NAMES
    )


def _form(lang: str, value: str = "") -> str:
    return (
        f'<form method="get" action="{PREFIX}/"><input type="hidden" name="lang" value="{esc(lang)}">'
        f'<p><label for="receipt">{esc(t("status.receipt", lang))}</label><br>'
        f'<input id="receipt" name="receipt" value="{esc(value)}" maxlength="64" size="40" '
        'autocomplete="off" spellcheck="false" required></p>'
        f'<p><button type="submit">{esc(t("status.lookup", lang))}</button></p></form>'
    )


def _page(lang: str, body: str, path: str, status: int = 200) -> HTMLResponse:
    title = t("status.title", lang)
    html = render_page(title, [(title, f"<p>{_languages(path)}</p>" + body)], lang, toc=False)
    return HTMLResponse(html, status_code=status, headers=HEADERS)


@router.get("/", response_class=HTMLResponse)
def lookup(request: Request) -> Response:
    """The form; with `?receipt=` a 303 to that receipt's page (a malformed one: the 404 page)."""
    lang = _lang(request)
    typed = request.query_params.get("receipt", "")
    if typed:
        code = normalise_receipt(typed)
        if code:
            return RedirectResponse(status_url(code, lang), status_code=303, headers=HEADERS)
        body = f'<p role="alert">{esc(t("status.not_found", lang))}</p>' + _form(lang, typed[:64])
        return _page(lang, body, f"{PREFIX}/", 404)
    return _page(lang, f"<p>{esc(t('status.lookup_help', lang))}</p>" + _form(lang), f"{PREFIX}/")


@router.get("/{receipt}", response_class=HTMLResponse)
def status_page(receipt: str, request: Request, session: SessionDep) -> Response:
    lang = _lang(request)
    path = f"{PREFIX}/{quote(receipt, safe='')}"
    found = public_status(session, receipt, local_day()) if len(receipt) <= 64 else None
    if found is None:
        body = f'<p role="alert">{esc(t("status.not_found", lang))}</p>' + _form(lang)
        return _page(lang, body, path, 404)
    return _page(lang, status_body(found, lang), path)


def status_body(s: PublicStatus, lang: str) -> str:
    """The page's body: what was rated, the day, and the case (escaped)."""
    obj = s.object_names.get(lang) or s.object_names["zh-Hant"]
    dept = s.department_names.get(lang) or s.department_names["zh-Hant"]
    rows = [(t("status.rated", lang), f"{esc(obj)} ({esc(dept)})"), (t("status.day", lang), _day(s.day))]
    if s.case is None:
        text = t("status.bad_no_case", lang) if s.bad else t("status.thanks", lang)
        return _table(rows) + f'<p role="status">{esc(text)}</p>' + _another(lang)
    c = s.case
    rows += [
        (t("status.state", lang), esc(state_words(c["state"], lang))),
        (t("status.received", lang), _day(c["opened_day"])),
        (t("status.due", lang), f"{_day(c['rectify_due'])} · {esc(time_words(c['timeliness'], lang))}"),
        (t("status.tier", lang), esc(tier_words(c["tier"], lang))),
        (t("status.answer", lang), _answer(c, lang)),
        (t("status.visit", lang), _visit(c, lang)),
        (t("status.appeal", lang), esc(appeal_words(c["appealed"], c["appeal_outcome"], lang))),
    ]
    intro = f'<p role="status">{esc(t("status.bad_intro", lang, department=dept))}</p>'
    return intro + _table(rows) + _another(lang)


def _answer(c: dict[str, object], lang: str) -> str:
    if not c["answer"]:
        return esc(t("status.no_answer", lang))
    day = c["answered_day"]
    when = f'<br><span class="note">{esc(t("status.answered_on", lang, day=str(day)))}</span>' if day else ""
    return f'<span class="answer" style="white-space:pre-wrap">{esc(str(c["answer"]))}</span>{when}'


def _visit(c: dict[str, object], lang: str) -> str:
    day = c["return_visit_day"]
    if day is None:
        return esc(t("status.no_visit", lang))
    return esc(
        t("status.visit_done", lang, day=str(day), outcome=outcome_words(str(c["visit_outcome"]), lang))
    )


def _day(day: object) -> str:
    return f'<time datetime="{esc(str(day))}">{esc(str(day))}</time>' if isinstance(day, date) else "–"


def _table(rows: list[tuple[str, str]]) -> str:
    body = "".join(f'<tr><th scope="row">{esc(h)}</th><td>{cell}</td></tr>' for h, cell in rows)
    return f"<table><tbody>{body}</tbody></table>"


def _another(lang: str) -> str:
    return f'<p><a href="{PREFIX}/?lang={quote(lang)}">{esc(t("status.another", lang))}</a></p>'
