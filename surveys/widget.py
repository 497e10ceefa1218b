"""The embeddable rating widget: `/widget/{object}?token=…&lang=zh-Hant|pt|en&channel=app|web|…`.

One small page with inline CSS and JavaScript (no external resource; a strict
Content-Security-Policy with a nonce), native radio buttons and checkboxes in fieldsets with
legends (keyboard operable: Tab between groups, arrow keys within the level group), labels
for every control, an aria-live status, and a honeypot field that people never see. Every
dynamic text is HTML-escaped; data for the script is JSON with `<` escaped.
"""

from __future__ import annotations

import html
import json
import secrets
from typing import Annotated, Any, NamedTuple
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse
from pydantic import BaseModel
from sqlalchemy import select
from sqlmodel import Session, col

from egov.auth import inactive_keys
from egov.deps import SessionDep
from egov.langs import LANGUAGES
from egov.models import AssessedObject, Department, RatingToken
from egov.settings import get_settings
from surveys.notice import notice_html
from surveys.question_sets import QuestionSet, scale_labels, set_for_channel
from surveys.questions import questions
from surveys.schemas import Problem, ValidationProblem
from surveys.security import TokenError, server_secret, verify_token

NAME_COLUMN = {"zh-Hant": "name_zh", "pt": "name_pt", "en": "name_en"}
CHROME = {
    "title": {"zh-Hant": "服務評價", "pt": "Avaliação do serviço", "en": "Rate this service"},
    "invalid": {
        "zh-Hant": "評價連結無效或已過期。",
        "pt": "A ligação de avaliação é inválida ou expirou.",
        "en": "This rating link is not valid or has expired.",
    },
    "withdrawn": {
        "zh-Hant": "此評價連結已被發出部門撤回。",
        "pt": "Esta ligação de avaliação foi retirada pelo serviço que a emitiu.",
        "en": "This rating link has been withdrawn by the department that issued it.",
    },
    "level_required": {
        "zh-Hant": "請選擇滿意程度。",
        "pt": "Escolha um nível de satisfação.",
        "en": "Please choose a level.",
    },
    "already": {
        "zh-Hant": "您已評價這次服務，多謝！",
        "pt": "Já avaliou este serviço — obrigado!",
        "en": "You have already rated this service — thank you!",
    },
    "expired": {
        "zh-Hant": "評價連結已過期。",
        "pt": "A ligação de avaliação expirou.",
        "en": "This rating link has expired.",
    },
    "too_many": {
        "zh-Hant": "提交次數過多，請稍後再試。",
        "pt": "Demasiados pedidos. Tente mais tarde.",
        "en": "Too many attempts. Please try again later.",
    },
    "receipt": {"zh-Hant": "評價收據編號", "pt": "N.º do recibo da avaliação", "en": "Rating receipt"},
    "answer_required": {
        "zh-Hant": "請回答所有必答問題。",
        "pt": "Responda a todas as perguntas obrigatórias.",
        "en": "Please answer every required question.",
    },
    "required": {"zh-Hant": "（必答）", "pt": "(obrigatória)", "en": "(required)"},
    "this_department": {"zh-Hant": "本部門", "pt": "este serviço", "en": "this department"},
    "status_link": {
        "zh-Hant": "查看處理進度",
        "pt": "Ver o estado da avaliação",
        "en": "See what happens to your rating",
    },
}
STATUS_PAGE = "/status/"  # the citizen's status page of a rating by its receipt (reports.status)
# the message the widget's script shows for a refusal of the rating API, by status: in the
# page's language only (the API's own detail is English and is never shown to the citizen)
REFUSAL_TEXT = {403: "withdrawn", 409: "already", 410: "expired", 429: "too_many"}


def _t(table: dict[str, str], lang: str) -> str:
    return html.escape(table.get(lang) or table.get("en") or "")


def _page(lang: str, title: str, body: str, nonce: str, script: str = "") -> str:
    css = (
        "body{font:16px/1.5 system-ui,sans-serif;margin:0;padding:1rem;color:#1b1b1b;background:#fff;max-width:36rem}"
        "fieldset{border:1px solid #767676;border-radius:.5rem;margin:0 0 1rem;padding:.5rem 1rem}"
        "legend{font-weight:600;padding:0 .25rem}"
        ".levels label,.drivers label{display:block;padding:.35rem .25rem;cursor:pointer}"
        "input:focus-visible,textarea:focus-visible,button:focus-visible,a:focus-visible{outline:3px solid #005fcc;outline-offset:2px}"
        "textarea{width:100%;box-sizing:border-box;font:inherit}"
        "button{font:inherit;padding:.5rem 1.25rem;border-radius:.5rem;border:0;background:#005fcc;color:#fff;cursor:pointer}"
        ".hp{position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden}"
        ".err{color:#b00020}.langs{float:right;font-size:.9rem}.langs a{margin-left:.5rem}"
        ".notice{font-size:.9rem;color:#3b3b3b;margin-top:1.5rem}.notice summary{cursor:pointer}"
    )
    return (
        f'<!doctype html><html lang="{html.escape(lang)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<title>{title}</title><style nonce="{nonce}">{css}</style></head>'
        f"<body>{body}{script}</body></html>"
    )


def _headers(nonce: str) -> dict[str, str]:
    origins = " ".join(o.strip() for o in get_settings().allowed_origins.split(",") if o.strip())
    csp = (
        f"default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; connect-src 'self'; "
        f"form-action 'self'; base-uri 'none'; frame-ancestors 'self'{(' ' + origins) if origins else ''}"
    )
    return {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }


SCRIPT = r"""
(function(){
  var cfg = JSON.parse(document.getElementById('cfg').textContent);
  var form = document.getElementById('rating');
  var status = document.getElementById('status');
  var reasonMsg = document.getElementById('reason-msg');
  function checked(name){ return Array.prototype.map.call(form.querySelectorAll('input[name="'+name+'"]:checked'), function(e){return e.value;}); }
  form.addEventListener('submit', function(ev){
    ev.preventDefault();
    var level = checked('level')[0];
    reasonMsg.textContent = '';
    if(!level){ status.textContent = cfg.levelRequired; form.querySelector('input[name="level"]').focus(); return; }
    var better = checked('better');
    if(Number(level) <= 2 && better.length === 0){
      reasonMsg.textContent = cfg.reasonRequired; form.querySelector('input[name="better"]').focus(); return;
    }
    var answers = {}, missing = null;
    cfg.items.forEach(function(it){
      var v = checked('a_' + it.code)[0];
      if(v){ answers[it.code] = Number(v); } else if(it.required && !missing){ missing = it.code; }
    });
    if(missing){
      status.textContent = cfg.answerRequired; form.querySelector('input[name="a_' + missing + '"]').focus(); return;
    }
    var body = {token: cfg.token, level: Number(level), good: checked('good'), better: better,
      comment: form.comment.value, channel: cfg.channel, language: cfg.lang,
      question_version: cfg.version, website: form.website.value};
    if(cfg.set){ body.question_set = cfg.set; body.question_set_version = cfg.setVersion; body.answers = answers; }
    var button = form.querySelector('button'); button.disabled = true;
    fetch(cfg.api, {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)})
      .then(function(r){ return r.json().then(function(j){ return {ok: r.ok, status: r.status, j: j}; }, function(){ return {ok: false, status: r.status, j: null}; }); })
      .then(function(res){
        if(res.ok){
          form.hidden = true; status.textContent = cfg.thanks;
          status.setAttribute('data-receipt', res.j.receipt);
          var r = document.createElement('p'); r.id = 'receipt';
          r.textContent = cfg.receiptLabel + ': ' + res.j.receipt; status.after(r);
          var a = document.createElement('a'); a.id = 'status-link'; a.target = '_blank'; a.rel = 'noopener';
          a.href = cfg.statusPage + encodeURIComponent(res.j.receipt) + '?lang=' + encodeURIComponent(cfg.lang);
          a.textContent = cfg.statusLabel; var p = document.createElement('p'); p.appendChild(a); r.after(p);
        }
        else {
          var known = cfg.refusals[String(res.status)];
          if(!known){ button.disabled = false; }
          else { form.hidden = true; }
          status.textContent = known || cfg.error;
        }
      })
      .catch(function(){ button.disabled = false; status.textContent = cfg.error; });
  });
})();
"""


def render_items(qs: QuestionSet, lang: str, department: str) -> str:
    """The Likert items of a question set: one radio group per item, its text as the legend
    (`{department}`: the rated service's department), the set's scale 5 … 1 as labelled radios."""
    if not qs.items:
        return ""
    labels = scale_labels(qs.scale)
    who = department or CHROME["this_department"].get(lang, "")
    groups = []
    for item in qs.items:
        text = (item.texts.get(lang) or item.texts["en"]).replace("{department}", who)
        mark = f" {_t(CHROME['required'], lang)}" if item.required else ""
        radios = "".join(
            f'<label><input type="radio" name="a_{html.escape(item.code)}" value="{k}"'
            f"{' required' if item.required else ''}> {_t(labels[str(k)], lang)}</label>"
            for k in (5, 4, 3, 2, 1)
        )
        groups.append(
            f'<fieldset class="levels likert" role="radiogroup" aria-required="{str(item.required).lower()}" '
            f'aria-labelledby="item-{html.escape(item.code)}"><legend id="item-{html.escape(item.code)}">'
            f"{html.escape(text)}{mark}</legend>{radios}</fieldset>"
        )
    return f'<section aria-labelledby="set-title"><h2 id="set-title">{_t(qs.title, lang)}</h2>{"".join(groups)}</section>'


def render_widget(
    obj_code: str,
    obj_name: str,
    token: str,
    lang: str,
    channel: str,
    nonce: str,
    notice: str = "",
    department: str = "",
) -> str:
    """The widget's page: the question, the levels, the drivers, the Likert items of the question
    set the channel shows (surveys.question_sets; `department`: the department's name in their
    texts), the comment, the personal-data collection notice (`notice`, surveys.notice) and the
    script that sends the rating."""
    q = questions()
    qs = set_for_channel(channel)
    p = q["prompts"]
    levels = "".join(
        f'<label><input type="radio" name="level" value="{k}" required> {_t(q["levels"][str(k)], lang)}</label>'
        for k in (5, 4, 3, 2, 1)
    )

    def drivers(name: str) -> str:
        return "".join(
            f'<label><input type="checkbox" name="{name}" value="{html.escape(code)}"> {_t(texts, lang)}</label>'
            for code, texts in q["drivers"].items()
        )

    langs = "".join(
        f'<a href="?token={html.escape(token)}&amp;lang={code}&amp;channel={html.escape(channel)}" lang="{code}" hreflang="{code}">{label}</a>'
        for code, label in (("zh-Hant", "中文"), ("pt", "Português"), ("en", "English"))
        if code != lang
    )
    title = _t(CHROME["title"], lang)
    body = (
        f'<nav class="langs" aria-label="Language / 語言 / Língua">{langs}</nav>'
        f"<main><h1>{title}</h1><p>{html.escape(obj_name or obj_code)}</p>"
        '<form id="rating" novalidate>'
        f'<fieldset class="levels" role="radiogroup" aria-required="true"><legend id="q">{_t(q["question"], lang)}</legend>{levels}</fieldset>'
        f'<fieldset class="drivers"><legend>{_t(p["good"], lang)}</legend>{drivers("good")}</fieldset>'
        f'<fieldset class="drivers" aria-describedby="reason-help reason-msg"><legend>{_t(p["better"], lang)}</legend>'
        f'<p id="reason-help">{_t(p["reason_required"], lang)}</p>{drivers("better")}'
        '<p id="reason-msg" class="err" role="alert"></p></fieldset>'
        f"{render_items(qs, lang, department)}"
        f'<label for="comment">{_t(p["comment"], lang)}</label>'
        '<textarea id="comment" name="comment" rows="4" maxlength="1000"></textarea>'
        '<div class="hp" aria-hidden="true"><label for="website">Website</label>'
        '<input id="website" name="website" type="text" tabindex="-1" autocomplete="off"></div>'
        f'<p><button type="submit">{_t(p["submit"], lang)}</button></p>'
        "</form>"
        f'<p id="status" role="status" aria-live="polite"></p>{notice}</main>'
    )
    cfg = {
        "token": token,
        "lang": lang,
        "channel": channel,
        "version": q["version"],
        "api": "/api/v1/ratings",
        "thanks": p["thanks"].get(lang, ""),
        "error": p["error"].get(lang, ""),
        "reasonRequired": p["reason_required"].get(lang, ""),
        "levelRequired": CHROME["level_required"].get(lang, ""),
        "receiptLabel": CHROME["receipt"].get(lang, ""),
        "answerRequired": CHROME["answer_required"].get(lang, ""),
        "set": qs.code if qs.items else None,  # the overall rating alone sends no set (the fast path)
        "setVersion": qs.version,
        "items": [{"code": i.code, "required": i.required} for i in qs.items],
        "statusPage": STATUS_PAGE,
        "statusLabel": CHROME["status_link"].get(lang, ""),
        "refusals": {str(code): CHROME[key].get(lang, "") for code, key in REFUSAL_TEXT.items()},
    }
    data = (
        json.dumps(cfg, ensure_ascii=False)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )
    script = (
        f'<script id="cfg" type="application/json" nonce="{nonce}">{data}</script>'
        f'<script nonce="{nonce}">{SCRIPT}</script>'
    )
    return _page(lang, title, body, nonce, script)


def _json(model: type[BaseModel], example: Any = None) -> dict[str, Any]:
    """A JSON refusal of the HTML widget route (a `model=` would be documented as text/html,
    the route's own media type). The API's routes use the same models, so they are in the
    schema's components."""
    content: dict[str, Any] = {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}
    if example is not None:
        content["example"] = example
    return {"application/json": content}


class TokenState(NamedTuple):
    """What the widget shows for a token: the form (`problem` ""), or the CHROME text of why not
    with its status; `receipt`, the rating's receipt when the token was used already."""

    problem: str
    status: int
    receipt: str = ""


def _token_state(session: Session, row: Any, token: str) -> TokenState:
    """What the widget of object `row` (None: unknown) shows with `token`: the form, or "already
    rated" with the receipt (a used token, expired or not: 200), "expired" (410), "withdrawn"
    (403: a token of a revoked issuer, as the API refuses its ratings) or "invalid" (400/404)."""
    if row is None:
        return TokenState("invalid", 404)
    secret = server_secret(session)
    try:
        claims, expired = verify_token(secret, token), False
    except TokenError as exc:
        if exc.status != 410:
            return TokenState("invalid", 400)
        claims, expired = verify_token(secret, token, now=0), True  # signed, only past its time
    if claims.object_id != row.id:
        return TokenState("invalid", 400)
    used = session.execute(
        select(col(RatingToken.state)).where(col(RatingToken.id) == claims.token_id)
    ).scalar_one_or_none()
    if used in ("used", "discarded"):
        return TokenState("already", 200, claims.token_id)
    if expired:
        return TokenState("expired", 410)
    if inactive_keys(session, {claims.issuer_key_id}):
        return TokenState("withdrawn", 403)
    return TokenState("", 200)


def _department_name(session: Session, department_id: int, lang: str) -> str:
    dept = session.get(Department, department_id)
    return (getattr(dept, NAME_COLUMN[lang]) or dept.name_en or dept.code) if dept is not None else ""


def _notice(session: Session, department_id: int, lang: str) -> str:
    """The personal-data collection notice for a rating of an object of `department_id`."""
    settings = get_settings()
    name = _department_name(session, department_id, lang)
    return notice_html(lang, name, settings.rating_retention_days, settings.store_ip)


WIDGET_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the form, or 'already rated' with the receipt for a used token",
        "content": {"text/html": {"example": '<!doctype html><html lang="zh-Hant">…</html>'}},
    },
    400: {
        "description": "invalid or other object's token",
        "content": {"text/html": {"example": "<p>…</p>"}},
    },
    410: {
        "description": "the token expired before it was used",
        "content": {"text/html": {"example": "<p>…</p>"}},
    },
    403: {
        "description": "the issuer of the token (a department key) was revoked",
        "content": {"text/html": {"example": "<p>…</p>"}},
    },
    404: {"description": "unknown object", "content": {"text/html": {"example": "<p>…</p>"}}},
    422: {
        "description": "invalid query (e.g. an unknown channel)",
        "content": _json(ValidationProblem),
    },
    429: {"description": "rate limit", "content": _json(Problem, {"detail": "too many requests"})},
    503: {"description": "the database is unavailable; retry later", "content": _json(Problem)},
}


def _without_form(state: TokenState, lang: str, nonce: str, headers: dict[str, str]) -> HTMLResponse:
    """The widget's page when it shows no form: why (invalid, expired, withdrawn), or "already
    rated" with the receipt and the link to the citizen's status page."""
    role = "status" if state.problem == "already" else "alert"
    body = f'<main><h1>{_t(CHROME["title"], lang)}</h1><p role="{role}">{_t(CHROME[state.problem], lang)}</p>'
    if state.receipt:
        body += f'<p id="receipt">{_t(CHROME["receipt"], lang)}: {html.escape(state.receipt)}</p>'
        link = f"{STATUS_PAGE}{quote(state.receipt, safe='')}?lang={quote(lang)}"
        body += (
            f'<p><a id="status-link" href="{html.escape(link)}" target="_blank" rel="noopener">'
            f"{_t(CHROME['status_link'], lang)}</a></p>"
        )
    body += "</main>"
    return HTMLResponse(
        _page(lang, _t(CHROME["title"], lang), body, nonce), status_code=state.status, headers=headers
    )


def build_widget_router() -> APIRouter:
    r = APIRouter()

    @r.get(
        "/widget/{object_code}",
        tags=["widget"],
        response_class=HTMLResponse,
        summary="The rating widget",
        description=(
            "A small accessible page for an app's web view or a site's iframe: the question, five levels, the "
            "drivers, a comment and the personal-data collection notice (Law 8/2005), in Traditional Chinese, "
            "Portuguese or English; no external resources. The token must be valid and issued for this object "
            "(else a 400 page) by a key that is not revoked (else a 403 page); a token used already shows "
            "'already rated — thank you' with the receipt instead of the form (200), an expired one a 410 page. "
            "Public."
        ),
        responses=WIDGET_RESPONSES,
    )
    def widget(
        object_code: str,
        session: SessionDep,
        token: Annotated[str, Query(max_length=600, description="The rating token of the transaction.")] = "",
        lang: Annotated[str, Query(description="zh-Hant, pt or en.")] = "zh-Hant",
        channel: Annotated[
            str, Query(pattern="^(app|web|kiosk|counter|hotline)$", description="Where it is shown.")
        ] = "web",
    ) -> HTMLResponse:
        lang = lang if lang in LANGUAGES else "zh-Hant"
        nonce = secrets.token_urlsafe(16)
        headers = _headers(nonce)
        row: Any = session.execute(
            select(
                col(AssessedObject.id),
                col(AssessedObject.name_zh),
                col(AssessedObject.name_pt),
                col(AssessedObject.name_en),
                col(AssessedObject.department_id),
            ).where(col(AssessedObject.code) == object_code)
        ).first()
        state = _token_state(session, row, token)
        if state.problem:
            return _without_form(state, lang, nonce, headers)
        name = getattr(row, NAME_COLUMN[lang]) or row.name_en or object_code
        notice = _notice(session, row.department_id, lang)
        dept = _department_name(session, row.department_id, lang)
        return HTMLResponse(
            render_widget(object_code, name, token, lang, channel, nonce, notice, dept), headers=headers
        )

    return r
