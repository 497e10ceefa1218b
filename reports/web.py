"""The report pages of `egov serve`: `/reports/...`, behind login by API key.

- `/reports/` lists the runs; `/reports/{run}/ranking` is the department ranking;
  `/reports/{run}/departments/{dept}` the department report; `/reports/{run}/assessor` the
  assessor's report. `run` is a run key or `latest`; `?lang=zh-Hant|pt|en` (default zh-Hant).
- Who sees what: a department key (role `department`) sees the list, the rankings and the
  full report of its own department only; assessor and admin keys see everything; no key
  (a citizen has none: citizens only get the widget) is refused with 401, a key of the
  wrong department or role with 403.
- A key is sent as `Authorization: Bearer egk_…` (as in the rating API), or, in a browser,
  typed once into the form at `/reports/login`: the server then keeps a session (table
  `report_session`: only the SHA-256 of the random session id, the key's id and an expiry)
  and sets an HttpOnly, SameSite=Strict cookie holding the session id (Secure over HTTPS).
  `POST /reports/logout` ends the session. A revoked key ends its sessions at once.
- Every stored text (department and object names, notes) is escaped (html.escape); pages
  are sent with `Cache-Control: no-store`, a Content-Security-Policy without any external
  source, `X-Frame-Options: DENY` and `Referrer-Policy: no-referrer`.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import math
import secrets
import threading
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import delete, select
from sqlmodel import Session, col

from egov.auth import Principal, TokenBucket, audit, authenticate
from egov.deps import SessionDep
from egov.errors import EgovError
from egov.langs import LANGUAGES
from egov.models import (
    ApiKey,
    Department,
    EvaluationRun,
    FrameworkVersion,
    PeerGroup,
    Period,
    ReportSession,
    utcnow,
)
from evaluation.engine import EvaluationResult
from reports.department import ReportCache

PREFIX = "/reports"
COOKIE = "egov_reports"
SESSION_HOURS = 8
READER_ROLES = ("department", "assessor", "admin")
ALL_ROLES = ("assessor", "admin")
LANGS = LANGUAGES
CSP = (
    "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; "
    "img-src data: blob:; font-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}

LABELS: dict[str, tuple[str, str, str]] = {
    "web.title": ("評估報告", "Relatórios de avaliação", "Evaluation reports"),
    "web.login": ("登入", "Entrar", "Log in"),
    "web.logout": ("登出", "Sair", "Log out"),
    "web.key": ("存取金鑰", "Chave de acesso", "Access key"),
    "web.login_help": (
        "請輸入部門或評估人員的存取金鑰（egk_…）。金鑰不會儲存在瀏覽器中。",
        "Introduza a chave de acesso do serviço ou do avaliador (egk_…). A chave não fica guardada no navegador.",
        "Enter your department's or assessor's access key (egk_…). The key is not kept in the browser.",
    ),
    "web.login_failed": (
        "金鑰無效或已被撤銷。",
        "Chave desconhecida ou revogada.",
        "Unknown or revoked key.",
    ),
    "web.unauthorised": (
        "請先登入以查看評估報告。",
        "Entre para ver os relatórios de avaliação.",
        "Please log in to see the evaluation reports.",
    ),
    "web.forbidden": (
        "此金鑰無權查看此頁。",
        "Esta chave não dá acesso a esta página.",
        "This key may not see this page.",
    ),
    "web.not_found": ("找不到此頁。", "Página não encontrada.", "Page not found."),
    "web.runs": ("評估批次", "Avaliações", "Evaluation runs"),
    "web.no_runs": ("尚未有評估批次。", "Ainda não há avaliações.", "No evaluation runs yet."),
    "web.ranking": ("部門排名", "Classificação dos serviços", "Department ranking"),
    "web.department_report": ("部門報告", "Relatório do serviço", "Department report"),
    "web.assessor_report": ("評估人員報告", "Relatório do avaliador", "Assessor's report"),
    "web.signed_in_as": ("登入身分", "Sessão de", "Signed in as"),
    "web.created": ("建立時間", "Criada em", "Created"),
    "web.illustrative": ("示範資料", "dados ilustrativos", "illustrative"),
    "web.categories": ("各類別得分（排名）", "Pontuação por categoria (posição)", "Category scores (rank)"),
    "web.too_many": (
        "嘗試次數過多，請稍後再試。",
        "Demasiadas tentativas; tente mais tarde.",
        "Too many attempts; try again later.",
    ),
    "web.bad_lang": (
        "不支援的語言；請用 zh-Hant、pt 或 en。",
        "Língua não suportada: use zh-Hant, pt ou en.",
        "Unsupported language: use zh-Hant, pt or en.",
    ),
}


def _register_labels() -> None:
    from reports.i18n import TABLE, add

    add({k: v for k, v in LABELS.items() if k not in TABLE})


_register_labels()


def t(key: str, lang: str, **values: object) -> str:
    from reports.i18n import t as shared

    return shared(key, lang, **values)


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


# --- sessions -------------------------------------------------------------------------------------
def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def start_session(session: Session, principal: Principal, hours: float = SESSION_HOURS) -> str:
    """A new session for the key; returns the session id (for the cookie only)."""
    now = utcnow()
    session.execute(delete(ReportSession).where(col(ReportSession.expires_at) < now))
    session_id = secrets.token_urlsafe(32)
    session.add(
        ReportSession(
            id_hash=_digest(session_id),
            key_id=principal.key_id,
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    )
    audit(session, principal.actor, "reports.login", "api_key", str(principal.key_id), "")
    session.commit()
    return session_id


def end_session(session: Session, session_id: str) -> None:
    session.execute(delete(ReportSession).where(col(ReportSession.id_hash) == _digest(session_id)))
    session.commit()


def _principal_of_key(session: Session, key_id: int) -> Principal | None:
    row = session.get(ApiKey, key_id)
    if row is None or row.revoked_at is not None or row.id is None:
        return None
    code = None
    if row.department_id is not None:
        code = session.execute(
            select(col(Department.code)).where(col(Department.id) == row.department_id)
        ).scalar()
    return Principal(int(row.id), str(row.role), row.department_id, code, str(row.label))


def session_principal(session: Session, session_id: str) -> Principal | None:
    if not session_id or len(session_id) > 100:
        return None
    digest = _digest(session_id)
    row = session.get(ReportSession, digest)
    if row is None or not hmac.compare_digest(row.id_hash, digest):
        return None
    if _aware(row.expires_at) <= utcnow():
        return None
    return _principal_of_key(session, row.key_id)


def principal_of(request: Request, session: Session) -> Principal | None:
    """The caller: an `Authorization: Bearer` key, else the session cookie; None if neither."""
    auth = request.headers.get("authorization")
    if auth:
        scheme, _, credentials = auth.partition(" ")
        if scheme.lower() != "bearer":
            return None
        return authenticate(session, credentials.strip())
    session_id = request.cookies.get(COOKIE)
    return session_principal(session, session_id) if session_id else None


# --- results of runs (immutable: recomputed once per process) --------------------------------------
_results: OrderedDict[tuple[str, str], tuple[EvaluationResult, ReportCache]] = OrderedDict()
_results_lock = threading.Lock()
MAX_CACHED_RUNS = 8


def run_result(session: Session, run: EvaluationRun) -> tuple[EvaluationResult, ReportCache]:
    """The run's recomputed result and a cache dict for the department reports of that run."""
    from egov.record import load_result

    key = (str(session.get_bind().engine.url), run.run_key)
    with _results_lock:
        if key in _results:
            _results.move_to_end(key)
            return _results[key]
    value: tuple[EvaluationResult, ReportCache] = (load_result(session, run, verify=False), ReportCache())
    with _results_lock:
        _results[key] = value
        while len(_results) > MAX_CACHED_RUNS:
            _results.popitem(last=False)
    return value


def forget_results() -> None:
    with _results_lock:
        _results.clear()


# --- pages ----------------------------------------------------------------------------------------
class Refusal(Exception):
    def __init__(self, status: int, key: str) -> None:
        super().__init__(key)
        self.status = status
        self.key = key


def _lang(request: Request) -> str:
    lang = request.query_params.get("lang") or "zh-Hant"
    if lang not in LANGS:
        raise Refusal(400, "web.bad_lang")
    return lang


def _page(
    title: str, sections: list[tuple[str, str]], lang: str, status: int = 200, **kw: Any
) -> HTMLResponse:
    from reports.html import render_page

    headers = dict(HEADERS)
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="egov reports"'
    return HTMLResponse(
        render_page(title, sections, lang, toc=False, **kw), status_code=status, headers=headers
    )


def _refusal_page(exc: Refusal, lang: str) -> HTMLResponse:
    body = f"<p>{esc(t(exc.key, lang))}</p>"
    if exc.status in (401, 403):
        body += f'<p><a href="{PREFIX}/login?lang={quote(lang)}">{esc(t("web.login", lang))}</a></p>'
    return _page(t("web.title", lang), [(str(exc.status), body)], lang, status=exc.status)


def _who(request: Request, session: Session, roles: tuple[str, ...] = READER_ROLES) -> Principal:
    principal = principal_of(request, session)
    if principal is None:
        raise Refusal(401, "web.unauthorised")
    if principal.role not in roles:
        raise Refusal(403, "web.forbidden")
    return principal


def _run(session: Session, key: str) -> EvaluationRun:
    from egov.store import get_run

    try:
        return get_run(session, None if key == "latest" else key)
    except EgovError as exc:
        raise Refusal(404, "web.not_found") from exc


def _q(lang: str) -> str:
    return f"?lang={quote(lang)}"


def _nav(principal: Principal, lang: str, run: EvaluationRun | None = None) -> str:
    """Links for the signed-in key, language switches and the logout button (escaped)."""
    links = [f'<a href="{PREFIX}/{_q(lang)}">{esc(t("web.runs", lang))}</a>']
    if run is not None:
        base = f"{PREFIX}/{quote(run.run_key)}"
        links.append(f'<a href="{base}/ranking{_q(lang)}">{esc(t("web.ranking", lang))}</a>')
        if principal.role == "department" and principal.department_code:
            links.append(
                f'<a href="{base}/departments/{quote(principal.department_code, safe="")}{_q(lang)}">'
                f"{esc(t('web.department_report', lang))}</a>"
            )
        if principal.role in ALL_ROLES:
            links.append(f'<a href="{base}/assessor{_q(lang)}">{esc(t("web.assessor_report", lang))}</a>')
    who = principal.role + (f" · {principal.department_code}" if principal.department_code else "")
    langs = " ".join(
        f'<a href="?lang={quote(code)}" hreflang="{code}" lang="{code}">{esc(name)}</a>'
        for code, name in (("zh-Hant", "中文"), ("pt", "Português"), ("en", "English"))
    )
    return (
        '<nav class="site" style="display:flex;flex-wrap:wrap;gap:1rem;align-items:center;margin:.5rem 0 1rem">'
        + " ".join(links)
        + f'<span class="note">{esc(t("web.signed_in_as", lang))}: {esc(who)}</span>'
        + f'<span class="note">{langs}</span>'
        + f'<form method="post" action="{PREFIX}/logout{_q(lang)}" style="margin:0"><button type="submit">'
        + f"{esc(t('web.logout', lang))}</button></form></nav>"
    )


def _dept_names(session: Session, lang: str) -> dict[str, str]:
    column = {"zh-Hant": Department.name_zh, "pt": Department.name_pt, "en": Department.name_en}[lang]
    rows = session.execute(select(col(Department.code), col(column), col(Department.name_en))).all()
    return {str(code): str(name or en or code) for code, name, en in rows}


def _login_form(lang: str, message: str = "") -> str:
    error = f'<p class="err" role="alert" style="color:#b00020">{esc(message)}</p>' if message else ""
    return (
        f"{error}<p>{esc(t('web.login_help', lang))}</p>"
        f'<form method="post" action="{PREFIX}/login{_q(lang)}">'
        f'<p><label for="key">{esc(t("web.key", lang))}</label><br>'
        '<input id="key" name="key" type="password" autocomplete="off" required maxlength="100" size="50"></p>'
        f'<input type="hidden" name="lang" value="{esc(lang)}">'
        f'<p><button type="submit">{esc(t("web.login", lang))}</button></p></form>'
    )


def build_reports_router() -> APIRouter:
    r = APIRouter(prefix=PREFIX, include_in_schema=False)
    login_bucket = TokenBucket(30)  # login attempts per client address and minute

    def guarded(handler: Any) -> Any:
        """Turn a Refusal into its HTML page (in the language asked for, if valid)."""
        import functools

        @functools.wraps(handler)
        def wrapper(request: Request, *args: Any, **kwargs: Any) -> Response:
            try:
                return handler(request, *args, **kwargs)
            except Refusal as exc:
                lang = request.query_params.get("lang") or "zh-Hant"
                return _refusal_page(exc, lang if lang in LANGS else "zh-Hant")

        return wrapper

    @r.get("/login", response_class=HTMLResponse)
    @guarded
    def login_form(request: Request) -> Response:
        lang = _lang(request)
        return _page(t("web.title", lang), [(t("web.login", lang), _login_form(lang))], lang)

    @r.post("/login", response_class=HTMLResponse)
    async def login(request: Request) -> Response:
        body = (await request.body()).decode("utf-8", errors="replace")
        form = parse_qs(body, max_num_fields=10)
        lang = (form.get("lang") or [request.query_params.get("lang") or "zh-Hant"])[0]
        lang = lang if lang in LANGS else "zh-Hant"
        client = (request.client.host if request.client else "?") or "?"
        if login_bucket.take(client):
            return _page(
                t("web.title", lang),
                [(t("web.login", lang), _login_form(lang, t("web.too_many", lang)))],
                lang,
                status=429,
            )
        key = (form.get("key") or [""])[0].strip()
        from starlette.concurrency import run_in_threadpool

        return await run_in_threadpool(_do_login, key, lang, request.url.scheme == "https")

    def _do_login(key: str, lang: str, https: bool) -> Response:
        from egov.db import get_engine

        session = Session(get_engine(), expire_on_commit=False)
        try:
            principal = authenticate(session, key) if key else None
            if principal is None or principal.role not in READER_ROLES:
                return _page(
                    t("web.title", lang),
                    [(t("web.login", lang), _login_form(lang, t("web.login_failed", lang)))],
                    lang,
                    status=401,
                )
            session_id = start_session(session, principal)
        finally:
            session.rollback()
            session.close()
        response = RedirectResponse(f"{PREFIX}/{_q(lang)}", status_code=303, headers=HEADERS)
        response.set_cookie(
            COOKIE,
            session_id,
            max_age=SESSION_HOURS * 3600,
            path=PREFIX,
            httponly=True,
            samesite="strict",
            secure=https,
        )
        return response

    @r.post("/logout")
    def logout(request: Request, session: SessionDep) -> Response:
        session_id = request.cookies.get(COOKIE)
        if session_id and len(session_id) <= 100:
            end_session(session, session_id)
        lang = request.query_params.get("lang") or "zh-Hant"
        response = RedirectResponse(
            f"{PREFIX}/login{_q(lang if lang in LANGS else 'zh-Hant')}", status_code=303, headers=HEADERS
        )
        response.delete_cookie(COOKIE, path=PREFIX, httponly=True, samesite="strict")
        return response

    @r.get("/", response_class=HTMLResponse)
    @guarded
    def index(request: Request, session: SessionDep) -> Response:
        lang = _lang(request)
        principal = _who(request, session)
        rows = session.execute(
            select(EvaluationRun, col(Period.code), col(FrameworkVersion.code), col(FrameworkVersion.version))
            .join(Period, col(Period.id) == col(EvaluationRun.period_id))
            .join(FrameworkVersion, col(FrameworkVersion.id) == col(EvaluationRun.framework_id))
            .order_by(col(EvaluationRun.id).desc())
            .limit(200)
        ).all()
        from egov.store import DEMO_NOTICE

        items = []
        for run, period, fw_code, fw_version in rows:
            base = f"{PREFIX}/{quote(run.run_key)}"
            links = [f'<a href="{base}/ranking{_q(lang)}">{esc(t("web.ranking", lang))}</a>']
            if principal.role == "department" and principal.department_code:
                links.append(
                    f'<a href="{base}/departments/{quote(principal.department_code, safe="")}{_q(lang)}">'
                    f"{esc(t('web.department_report', lang))}</a>"
                )
            if principal.role in ALL_ROLES:
                links.append(f'<a href="{base}/assessor{_q(lang)}">{esc(t("web.assessor_report", lang))}</a>')
            demo = f" ({esc(t('web.illustrative', lang))})" if DEMO_NOTICE in (run.note or "") else ""
            items.append(
                f"<tr><td>{esc(run.run_key)}</td><td>{esc(period)}</td><td>{esc(fw_code)} {esc(fw_version)}</td>"
                f"<td>{esc(_aware(run.created_at).strftime('%Y-%m-%d %H:%M'))} UTC{demo}</td>"
                f"<td>{' · '.join(links)}</td></tr>"
            )
        if items:
            head = "".join(
                f'<th scope="col">{esc(h)}</th>'
                for h in (
                    t("run.id", lang),
                    t("run.period", lang),
                    t("method.framework", lang),
                    t("web.created", lang),
                    "",
                )
            )
            body = f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead><tbody>{"".join(items)}</tbody></table></div>'
        else:
            body = f"<p>{esc(t('web.no_runs', lang))}</p>"
        return _page(t("web.title", lang), [(t("web.runs", lang), _nav(principal, lang) + body)], lang)

    @r.get("/{run_key}/ranking", response_class=HTMLResponse)
    @guarded
    def ranking(request: Request, run_key: str, session: SessionDep) -> Response:
        lang = _lang(request)
        principal = _who(request, session)
        run = _run(session, run_key)
        result, _cache = run_result(session, run)
        return _page(*ranking_page(session, run, result, principal, lang), lang, **_banner(run, lang))

    @r.get("/{run_key}/departments/{department}", response_class=HTMLResponse)
    @guarded
    def department(request: Request, run_key: str, department: str, session: SessionDep) -> Response:
        lang = _lang(request)
        principal = _who(request, session)
        if principal.role == "department" and principal.department_code != department:
            raise Refusal(403, "web.forbidden")
        run = _run(session, run_key)
        from reports.department import department_report, render_department_report

        result, cache = run_result(session, run)
        if result.department_scores is None or department not in result.department_scores.index:
            raise Refusal(404, "web.not_found")
        report = department_report(session, run, department, result, cache)
        cache.forget_measures()  # ratings keep arriving: measured afresh on every page
        page = render_department_report(report, lang, nav=_nav(principal, lang, run))
        return HTMLResponse(page, headers=HEADERS)

    @r.get("/{run_key}/assessor", response_class=HTMLResponse)
    @guarded
    def assessor(request: Request, run_key: str, session: SessionDep) -> Response:
        lang = _lang(request)
        principal = _who(request, session, ALL_ROLES)
        run = _run(session, run_key)
        try:
            from reports.assessor import gather, render_html
        except ImportError:
            from reports.html import not_available

            return _page(
                t("web.assessor_report", lang),
                [(t("web.assessor_report", lang), _nav(principal, lang, run) + not_available(lang))],
                lang,
            )
        page = render_html(gather(session, run, lang))
        nav = _nav(principal, lang, run)
        page = page.replace("<main>", f"<main>{nav}", 1)
        return HTMLResponse(page, headers=HEADERS)

    return r


def _banner(run: EvaluationRun, lang: str) -> dict[str, Any]:
    from egov.store import DEMO_NOTICE

    return {"banner": t("report.demo_banner", lang)} if DEMO_NOTICE in (run.note or "") else {}


def ranking_page(
    session: Session, run: EvaluationRun, result: EvaluationResult, principal: Principal, lang: str
) -> tuple[str, list[tuple[str, str]]]:
    """Title and sections of the department ranking of a run (engine ranks, names escaped;
    department keys get a link to their own report only)."""
    from reports.html import chart_html

    scores, ranks = result.department_scores, result.department_ranks
    if scores is None or ranks is None:
        raise Refusal(404, "web.not_found")
    idx = result.index_code
    categories = [str(c) for c in result.weights[idx].index] if idx in result.weights else []
    fw_row = session.get(FrameworkVersion, run.framework_id)
    from indicators.framework import parse_framework

    framework = parse_framework(fw_row.toml_text) if fw_row is not None else None

    def label(code: str) -> str:
        node = framework.nodes.get(code) if framework is not None else None
        return node.label(lang) if node is not None else code

    names = _dept_names(session, lang)
    peers = result.units["peer_group"].groupby(result.units["department"].astype(str)).first()
    group_column = {"zh-Hant": PeerGroup.name_zh, "pt": PeerGroup.name_pt, "en": PeerGroup.name_en}[lang]
    group_names = {
        str(code): str(name or code)
        for code, name in session.execute(select(col(PeerGroup.code), col(group_column))).all()
    }

    def num(df: Any, d: str, c: str) -> float:
        try:
            return float(df.at[d, c])
        except (KeyError, TypeError, ValueError):
            return math.nan

    def shown(v: float, digits: int | None = None) -> str:
        if math.isnan(v):
            return "–"
        return str(int(v)) if digits is None else f"{v:.{digits}f}"

    order = sorted(
        map(str, scores.index),
        key=lambda d: (num(ranks, d, idx), d) if not math.isnan(num(ranks, d, idx)) else (1e9, d),
    )
    head = [t("col.rank", lang), t("col.department", lang), t("col.score", lang), t("col.peer_group", lang)]
    head += [t("col.peer_rank", lang), *[label(c) for c in categories]]
    rows = []
    for d in order:
        name = f"{names.get(d, d)} ({d})"
        own = principal.role in ALL_ROLES or principal.department_code == d
        cell = (
            f'<a href="{PREFIX}/{quote(run.run_key)}/departments/{quote(d, safe="")}{_q(lang)}">{esc(name)}</a>'
            if own
            else esc(name)
        )
        cats = []
        for c in categories:
            s, rk = num(scores, d, c), num(ranks, d, c)
            cats.append("–" if math.isnan(s) else f"{s:.1f} ({shown(rk)})")
        cells = [
            shown(num(ranks, d, idx)),
            cell,
            shown(num(scores, d, idx), 1),
            esc(group_names.get(str(peers.get(d)), peers.get(d) or "")),
            shown(num(result.peer_ranks, d, idx) if result.peer_ranks is not None else math.nan),
            *map(esc, cats),
        ]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    table = (
        '<div class="table-wrap"><table><thead><tr>'
        + "".join(f'<th scope="col">{esc(h)}</th>' for h in head)
        + "</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></div>"
    )
    chart = ""
    try:
        import pandas as pd

        from reports.charts import ranking_chart

        frame = pd.DataFrame(
            {
                "label": [f"{names.get(d, d)} ({d})" for d in order],
                "rank": [num(ranks, d, idx) for d in order],
                "score": [num(scores, d, idx) for d in order],
            }
        )
        chart = chart_html(ranking_chart(frame, lang))
    except ImportError:
        chart = ""
    title = f"{t('web.ranking', lang)} · {run.run_key}"
    return title, [(t("web.ranking", lang), _nav(principal, lang, run) + chart + table)]
