"""The counter kiosk's page (issue 17 point 2, 現場服務一次一評): `/kiosk/{object}` on a tablet at a
service counter. It waits for the ticket just served at it, shows the rating form for that ticket
(five large level buttons, the reasons for a bad rating), sends the rating through the rating API
(channel `counter`), thanks with the receipt and goes back to waiting — also after a time without
a touch, dismissing the ticket.

Like the widget: inline CSS and JavaScript with a CSP nonce, no external resource, native radio
buttons and checkboxes (keyboard operable) as large touch targets, labels for every control, an
aria-live status, Traditional Chinese, Portuguese and English with a switch on the page, and the
personal-data collection notice of Law 8/2005 (surveys.notice). The device key is given once in
the setup link's fragment (`#key=egq_…`, never sent to a server or logged), kept in the tablet's
local storage and removed from the address; the page itself holds no secret.
"""

from __future__ import annotations

import html
import json
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlmodel import col

from egov.deps import SessionDep
from egov.langs import LANGUAGES
from egov.models import AssessedObject, Department
from egov.settings import get_settings
from surveys.kiosks import TICKET_MINUTES
from surveys.notice import notice_html
from surveys.questions import questions
from surveys.widget import CHROME

TEXTS: dict[str, dict[str, str]] = {
    "title": {"zh-Hant": "現場服務評價", "pt": "Avaliação do atendimento", "en": "Rate our service"},
    "waiting": {
        "zh-Hant": "辦理完成後，請在此為這次服務評價。",
        "pt": "No fim do atendimento, avalie aqui o serviço.",
        "en": "When you have been served, please rate the service here.",
    },
    "setup": {
        "zh-Hant": "此評價機未設定或已停用，請聯絡工作人員。",
        "pt": "Este terminal não está configurado ou foi desactivado. Contacte o pessoal.",
        "en": "This rating tablet is not set up or has been withdrawn. Please ask the staff.",
    },
    "window": {"zh-Hant": "窗口", "pt": "Balcão", "en": "Window"},
    "skip": {"zh-Hant": "不評價", "pt": "Não avaliar", "en": "Skip"},
    # the texts the widget says too, from the widget's table (one wording on every channel)
    "level_required": CHROME["level_required"],
    "receipt": CHROME["receipt"],
    "status_hint": {
        "zh-Hant": "可憑收據編號於 /status/ 查看處理進度。",
        "pt": "Com o n.º do recibo pode ver o estado em /status/.",
        "en": "With the receipt you can follow your rating at /status/.",
    },
    "already": {
        "zh-Hant": "這次服務已評價，多謝！",
        "pt": "Este atendimento já foi avaliado — obrigado!",
        "en": "This service has already been rated — thank you!",
    },
    "expired": {
        "zh-Hant": "評價時間已過。",
        "pt": "O prazo para avaliar terminou.",
        "en": "The time to rate has passed.",
    },
}
LANG_NAMES = (("zh-Hant", "中文"), ("pt", "Português"), ("en", "English"))
POLL_SECONDS = 3  # how often the kiosk asks for its ticket
IDLE_SECONDS = 90  # without a touch for this long, the kiosk dismisses the ticket and waits again
THANKS_SECONDS = 8  # how long the thanks stay before the waiting screen

CSS = (
    "body{font:22px/1.4 system-ui,sans-serif;margin:0;padding:1rem 1.5rem;color:#1b1b1b;background:#fff}"
    "header{display:flex;justify-content:space-between;align-items:center;gap:1rem;flex-wrap:wrap}"
    ".langs button{min-height:3rem;min-width:6rem;margin-left:.5rem;background:#fff;color:#005fcc;border:2px solid #005fcc}"
    ".langs button[aria-pressed=true]{background:#005fcc;color:#fff}"
    "button{font:inherit;min-height:3.5rem;padding:.5rem 1.5rem;border-radius:.75rem;border:0;background:#005fcc;color:#fff;cursor:pointer}"
    "button.secondary{background:#fff;color:#1b1b1b;border:2px solid #767676}"
    "fieldset{border:0;margin:0 0 1rem;padding:0}legend{font-weight:600;font-size:1.3rem;margin-bottom:.5rem}"
    ".choices{display:grid;grid-template-columns:repeat(auto-fit,minmax(9rem,1fr));gap:.75rem}"
    ".choices label{display:flex;align-items:center;justify-content:center;text-align:center;min-height:5rem;"
    "padding:.5rem;border:2px solid #767676;border-radius:.75rem;cursor:pointer;position:relative}"
    ".choices input{position:absolute;inset:0;opacity:0;margin:0;width:100%;height:100%;cursor:pointer}"
    ".choices input:checked+span{font-weight:700}.choices label:has(input:checked){background:#e8f0fe;border-color:#005fcc;border-width:4px}"
    ".choices label:has(input:focus-visible),button:focus-visible{outline:4px solid #005fcc;outline-offset:3px}"
    ".big{font-size:1.6rem;text-align:center;margin:4rem 1rem}.err{color:#b00020}"
    ".actions{display:flex;gap:1rem;flex-wrap:wrap}.notice{font-size:1rem;color:#3b3b3b;margin-top:2rem}"
)

SCRIPT = r"""
(function(){
  var cfg = JSON.parse(document.getElementById('cfg').textContent);
  var lang = cfg.lang, key = null, ticket = null, idle = null, poller = null;
  var $ = function(id){ return document.getElementById(id); };
  var form = $('rating'), status = $('status');
  var m = /(?:^#|&)key=([^&]+)/.exec(location.hash);
  try {
    if(m){ localStorage.setItem('egov-kiosk-key', decodeURIComponent(m[1])); history.replaceState(null, '', location.pathname + location.search); }
    key = localStorage.getItem('egov-kiosk-key');
  } catch(e) { key = m ? decodeURIComponent(m[1]) : null; }
  function t(k){ return (cfg.texts[k] || {})[lang] || ''; }
  function apply(){
    document.documentElement.lang = lang;
    document.querySelectorAll('[data-t]').forEach(function(e){ e.textContent = t(e.getAttribute('data-t')); });
    document.querySelectorAll('.langs button').forEach(function(b){ b.setAttribute('aria-pressed', String(b.value === lang)); });
    document.querySelectorAll('[data-notice]').forEach(function(e){ e.hidden = e.getAttribute('data-notice') !== lang; });
    if(ticket){ showTicket(); }
  }
  function screen(id){ ['setup','waiting','form-screen','thanks'].forEach(function(s){ $(s).hidden = s !== id; }); }
  function schedule(ms){ clearTimeout(poller); poller = setTimeout(poll, ms); }
  function waiting(){ ticket = null; clearTimeout(idle); form.reset(); $('reasons').hidden = true; status.textContent = ''; screen('waiting'); schedule(cfg.poll * 1000); }
  function touched(){ clearTimeout(idle); idle = setTimeout(dismiss, cfg.idle * 1000); }
  function dismiss(){
    if(!ticket){ return; }
    fetch('/api/v1/kiosk/ticket/' + ticket.receipt + '/dismiss', {method: 'POST', headers: {Authorization: 'Bearer ' + key}})
      .finally(waiting);
  }
  function showTicket(){
    $('where').textContent = (ticket.object_name[lang] || '') + (ticket.window ? ' · ' + t('window') + ' ' + ticket.window : '');
    $('service').textContent = ticket.service_name ? (ticket.service_name[lang] || '') : '';
  }
  function poll(){
    if(!key){ screen('setup'); return; }
    fetch('/api/v1/kiosk/ticket', {headers: {Authorization: 'Bearer ' + key}, cache: 'no-store'}).then(function(r){
      if(r.status === 401){ screen('setup'); schedule(30000); return; }
      if(r.status !== 200){ schedule(cfg.poll * 1000); return; }
      return r.json().then(function(j){
        if(j.object !== cfg.object){ schedule(cfg.poll * 1000); return; }
        ticket = j; showTicket(); screen('form-screen'); touched();
        var first = form.querySelector('input[name="level"]'); if(first){ first.focus(); }
      });
    }).catch(function(){ schedule(cfg.poll * 1000); });
  }
  function done(text, receipt){
    clearTimeout(idle); ticket = null; $('thanks-text').textContent = text;
    $('receipt').textContent = receipt ? t('receipt') + ': ' + receipt : '';
    $('receipt').setAttribute('data-receipt', receipt || ''); $('status-hint').hidden = !receipt;
    screen('thanks'); setTimeout(waiting, cfg.thanks * 1000);
  }
  function checked(name){ return Array.prototype.map.call(form.querySelectorAll('input[name="'+name+'"]:checked'), function(e){ return e.value; }); }
  form.addEventListener('change', function(){ touched(); var l = checked('level')[0]; $('reasons').hidden = !(l && Number(l) <= 2); });
  form.addEventListener('submit', function(ev){
    ev.preventDefault(); touched();
    var level = checked('level')[0], better = checked('better');
    if(!level){ status.textContent = t('level_required'); return; }
    if(Number(level) <= 2 && better.length === 0){ status.textContent = cfg.reasonRequired[lang]; form.querySelector('input[name="better"]').focus(); return; }
    var body = {token: ticket.token, level: Number(level), better: Number(level) <= 2 ? better : [], channel: 'counter', language: lang, question_version: cfg.version};
    var button = $('send'); button.disabled = true;
    fetch('/api/v1/ratings', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)})
      .then(function(r){ return r.json().then(function(j){ return {status: r.status, ok: r.ok, j: j}; }, function(){ return {status: r.status, ok: false, j: null}; }); })
      .then(function(res){
        button.disabled = false;
        if(res.ok){ done(cfg.thanksText[lang], res.j.receipt); }
        else if(res.status === 409){ done(t('already'), null); }
        else if(res.status === 410 || res.status === 403){ done(t('expired'), null); }
        else { status.textContent = cfg.error[lang]; }
      })
      .catch(function(){ button.disabled = false; status.textContent = cfg.error[lang]; });
  });
  $('skip').addEventListener('click', dismiss);
  document.querySelectorAll('.langs button').forEach(function(b){ b.addEventListener('click', function(){ lang = b.value; apply(); if(ticket){ touched(); } }); });
  apply(); if(key){ screen('waiting'); poll(); } else { screen('setup'); }
})();
"""


def _say(key: str, lang: str, texts: dict[str, dict[str, str]] = TEXTS) -> str:
    return f'<span data-t="{key}">{html.escape(texts[key][lang])}</span>'


def _choices(name: str, items: list[tuple[str, dict[str, str]]], lang: str, kind: str) -> str:
    return "".join(
        f'<label><input type="{kind}" name="{name}" value="{html.escape(code)}"><span data-t="{name}.{html.escape(code)}">'
        f"{html.escape(texts.get(lang) or texts['en'])}</span></label>"
        for code, texts in items
    )


def render_kiosk(
    object_code: str,
    lang: str,
    notices: dict[str, str],
    nonce: str,
    *,
    idle: int = IDLE_SECONDS,
    thanks: int = THANKS_SECONDS,
) -> str:
    """The kiosk's page for a counter object: setup, waiting, form and thanks screens."""
    q = questions()
    p = q["prompts"]
    levels = [(str(k), q["levels"][str(k)]) for k in (5, 4, 3, 2, 1)]
    drivers = list(q["drivers"].items())
    texts = {**TEXTS, "question": q["question"], "better": p["better"], "send": p["submit"]}
    texts.update({f"level.{k}": v for k, v in levels})
    texts.update({f"better.{k}": v for k, v in drivers})
    langs = "".join(
        f'<button type="button" value="{code}" lang="{code}" aria-pressed="{str(code == lang).lower()}">{name}</button>'
        for code, name in LANG_NAMES
    )
    notice = "".join(
        f'<div data-notice="{code}" lang="{code}"{"" if code == lang else " hidden"}>{notices[code]}</div>'
        for code in LANGUAGES
    )
    body = (
        f'<header><h1>{_say("title", lang)}</h1><nav class="langs" aria-label="Language / 語言 / Língua">{langs}</nav></header>'
        f'<main><section id="setup" hidden><p class="big">{_say("setup", lang)}</p></section>'
        f'<section id="waiting" hidden><p class="big" role="status">{_say("waiting", lang)}</p></section>'
        '<section id="form-screen" hidden><p id="where"></p><p id="service"></p><form id="rating" novalidate>'
        f'<fieldset role="radiogroup" aria-required="true"><legend>{_say("question", lang, texts)}</legend>'
        f'<div class="choices">{_choices("level", levels, lang, "radio")}</div></fieldset>'
        f'<fieldset id="reasons" hidden><legend>{_say("better", lang, texts)}</legend>'
        f'<div class="choices">{_choices("better", drivers, lang, "checkbox")}</div></fieldset>'
        f'<div class="actions"><button type="submit" id="send">{_say("send", lang, texts)}</button>'
        f'<button type="button" id="skip" class="secondary">{_say("skip", lang)}</button></div>'
        '<p id="status" class="err" role="alert"></p></form></section>'
        '<section id="thanks" hidden><p class="big" id="thanks-text" role="status"></p><p id="receipt"></p>'
        f'<p id="status-hint">{_say("status_hint", lang)}</p></section>{notice}</main>'
    )
    cfg = {
        "object": object_code,
        "lang": lang,
        "texts": texts,
        "version": q["version"],
        "poll": POLL_SECONDS,
        "idle": idle,
        "thanks": thanks,
        "thanksText": p["thanks"],
        "reasonRequired": p["reason_required"],
        "error": p["error"],
    }
    data = (
        json.dumps(cfg, ensure_ascii=False)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )
    return (
        f'<!doctype html><html lang="{html.escape(lang)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<title>{html.escape(TEXTS["title"][lang])}</title><style nonce="{nonce}">{CSS}</style></head>'
        f'<body>{body}<script id="cfg" type="application/json" nonce="{nonce}">{data}</script>'
        f'<script nonce="{nonce}">{SCRIPT}</script></body></html>'
    )


def _headers(nonce: str) -> dict[str, str]:
    csp = (
        f"default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; connect-src 'self'; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )
    return {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }


def build_kiosk_router() -> APIRouter:
    r = APIRouter()

    @r.get(
        "/kiosk/{object_code}",
        tags=["kiosks"],
        response_class=HTMLResponse,
        summary="The counter kiosk's page",
        description=(
            "A page for a tablet at a service counter of the object: it waits for the ticket just served "
            f"(polling `GET /api/v1/kiosk/ticket` every {POLL_SECONDS} s with the device key given once in the "
            "setup link's fragment `#key=…`), shows the rating form for it in large touch targets, sends the "
            "rating (channel `counter`), thanks with the receipt and waits again (after `thanks` seconds, default "
            f"{THANKS_SECONDS}); without a touch for `idle` seconds (default {IDLE_SECONDS}) it dismisses the ticket (tickets older than {TICKET_MINUTES} minutes are not "
            "shown). Traditional Chinese, Portuguese, English; no external resources. Public: the page holds "
            "no data until the device key asks."
        ),
        responses={404: {"description": "unknown object", "content": {"text/html": {"example": "<p>…</p>"}}}},
    )
    def kiosk(
        object_code: str,
        session: SessionDep,
        lang: Annotated[str, Query(description="zh-Hant, pt or en.")] = "zh-Hant",
        idle: Annotated[
            int, Query(ge=5, le=600, description="Seconds without a touch before it waits again.")
        ] = (IDLE_SECONDS),
        thanks: Annotated[int, Query(ge=2, le=60, description="Seconds the thanks stay.")] = THANKS_SECONDS,
    ) -> HTMLResponse:
        lang = lang if lang in LANGUAGES else "zh-Hant"
        nonce = secrets.token_urlsafe(16)
        row: Any = session.execute(
            select(col(AssessedObject.department_id)).where(col(AssessedObject.code) == object_code)
        ).first()
        if row is None:
            page = f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>404</title></head><body><p>{html.escape(TEXTS["setup"][lang])}</p></body></html>'
            return HTMLResponse(page, status_code=404, headers=_headers(nonce))
        dept = session.get(Department, row.department_id)
        settings = get_settings()
        names = {"zh-Hant": "name_zh", "pt": "name_pt", "en": "name_en"}
        notices = {
            code: notice_html(
                code,
                (getattr(dept, names[code]) or dept.name_en or dept.code) if dept else "",
                settings.rating_retention_days,
                settings.store_ip,
            )
            for code in LANGUAGES
        }
        page = render_kiosk(object_code, lang, notices, nonce, idle=idle, thanks=thanks)
        return HTMLResponse(page, headers=_headers(nonce))

    return r
