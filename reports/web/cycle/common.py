"""What the cycle pages share: the period's cycle (404 when it has none), the library's refusals
as a status and a message in the page's language, the success message of the POST-redirect-GET
(`?done=KEY`, a known label only), an upload form's fields and file, and small HTML pieces
(select, input, table; every stored text escaped)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session
from starlette.datastructures import UploadFile

import reports.cycle
import reports.objections
import reports.values
import reports.web.cycle.labels  # noqa: F401  (registers the pages' labels)
from egov.cycle import find_cycle
from egov.errors import EgovError
from egov.evidence import NotYours
from egov.models import AssessmentCycle
from egov.objections import Conflict, NotFound, Refused
from reports.html import esc
from reports.i18n import TABLE, t
from reports.web.auth import Refusal
from reports.web.forms import MAX_FIELDS, read_form
from reports.web.links import PREFIX, q
from reports.web.pages import HEADERS

CYCLE = f"{PREFIX}/cycle"
# the extra attributes of the forms' inputs
A_NUMBER = ' inputmode="decimal" size="8" maxlength="40"'
A_SHORT_REASON = ' size="20" maxlength="2000"'
A_REASON = ' size="40" maxlength="4000" required'
A_FILE = ' accept=".pdf,.png,.jpg,.jpeg,.xlsx,.docx,.csv,.txt"'
A_REFERENCE = ' maxlength="2000" size="50"'
A_NOTE = ' maxlength="500" size="50"'
A_VALUE = ' inputmode="decimal" required maxlength="40"'
A_EVIDENCE = ' maxlength="1000" size="50"'
A_EVIDENCE_REF = ' maxlength="200" size="30"'
A_RUN = ' maxlength="40" size="16"'
A_MOVE_REASON = ' maxlength="2000" size="50" required'
MAX_PERIOD = 20
SR_STYLE = (
    "<style>.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);"
    "white-space:nowrap}form.inline{display:flex;flex-wrap:wrap;gap:.4rem;align-items:end;margin:0}"
    "form.stack p{margin:.4rem 0}.ok{color:#1b5e20}.err{color:#b00020}</style>"
)


@dataclass(frozen=True)
class Notice:
    """A message above a page: `ok` (role=status) or an error (role=alert), the text in the
    page's language and, for an error, the library's own detail (English)."""

    ok: bool
    text: str
    detail: str = ""

    def html(self, lang: str) -> str:
        if self.ok:
            return f'<p class="ok" role="status">{esc(self.text)}</p>'
        detail = (
            f' <span class="note">{esc(t("cyc.detail", lang))}: <span lang="en">{esc(self.detail)}</span></span>'
            if self.detail
            else ""
        )
        return f'<p class="err" role="alert">{esc(self.text)}{detail}</p>'


class Failed(Exception):
    """A refused action: its status and its notice (the page is shown again with it)."""

    def __init__(self, status: int, notice: Notice) -> None:
        super().__init__(notice.text)
        self.status = status
        self.notice = notice


def failed(status: int, key: str, lang: str, detail: str = "", **values: object) -> Failed:
    return Failed(status, Notice(False, t(key, lang, **values), detail))


def refused(exc: EgovError, lang: str) -> Failed:
    """A library refusal as its status: another department's (403; an objection it may not see:
    404), the wrong role (403), not now (409), anything else invalid (400)."""
    status = 400
    if isinstance(exc, NotFound):
        status = 404
    elif isinstance(exc, NotYours | Refused):
        status = 403
    elif isinstance(exc, Conflict):
        status = 409
    return failed(status, "cyc.refused", lang, str(exc))


def done_notice(request: Request, lang: str) -> Notice | None:
    """The success message named by `?done=` (a known label; anything else is ignored)."""
    key = f"cyc.done.{request.query_params.get('done', '')}"
    return Notice(True, t(key, lang)) if key in TABLE else None


def cycle_of(session: Session, period: str) -> AssessmentCycle:
    """The cycle of `period`; 404 for a period without one (or an impossible code)."""
    cycle = find_cycle(session, period) if 0 < len(period) <= MAX_PERIOD else None
    if cycle is None:
        raise Refusal(404, "web.not_found")
    return cycle


def page_url(period: str, name: str, lang: str, done: str = "") -> str:
    url = f"{CYCLE}/{quote(period, safe='')}/{name}{q(lang)}"
    return url + (f"&done={quote(done)}" if done else "")


def redirect(period: str, name: str, lang: str, done: str) -> Response:
    """The POST-redirect-GET answer of a successful action (303, its message named)."""
    return RedirectResponse(page_url(period, name, lang, done), status_code=303, headers=HEADERS)


@dataclass
class Upload:
    """A form's text fields, and its file when one was sent (name, bytes)."""

    fields: dict[str, str]
    filename: str = ""
    content: bytes = b""


async def read_upload(request: Request) -> Upload:
    """A URL-encoded or multipart form (at most MAX_FIELDS fields, one file); 400 otherwise.
    Its size is bounded by the service's body limit (egov.limits)."""
    kind = request.headers.get("content-type", "")
    if not kind.startswith("multipart/form-data"):
        return Upload(await read_form(request))
    try:
        form = await request.form(max_files=1, max_fields=MAX_FIELDS)
    except Exception as exc:  # starlette's MultiPartException or HTTPException(400)
        raise Refusal(400, "web.bad_form") from exc
    upload = Upload({})
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            content = await value.read()
            if content or value.filename:
                upload.filename, upload.content = value.filename or "", content
        elif name not in upload.fields:
            upload.fields[name] = str(value)
    await form.close()
    return upload


async def form_fields(request: Request) -> Upload:
    """The posted form (a dependency of the POST routes, read before the handler's thread)."""
    return await read_upload(request)


def number(text: str, lang: str, required: bool = True) -> float | None:
    """A number typed in a form (a comma as decimal mark accepted); a 400 notice otherwise."""
    text = text.strip().replace(",", ".")
    if not text:
        if required:
            raise failed(400, "cyc.bad_number", lang)
        return None
    try:
        value = float(text)
    except ValueError:
        raise failed(400, "cyc.bad_number", lang) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise failed(400, "cyc.bad_number", lang)
    return value


# --- HTML pieces --------------------------------------------------------------------------------
def select(
    name: str,
    label: str,
    options: Iterable[tuple[str, str]],
    chosen: str = "",
    id_: str = "",
    hidden_label: bool = False,
    blank: str | None = None,
) -> str:
    """A labelled <select> (options: value, text)."""
    id_ = id_ or name
    opts = [f'<option value="">{esc(blank)}</option>'] if blank is not None else []
    for value, text in options:
        sel = " selected" if value == chosen else ""
        opts.append(f'<option value="{esc(value)}"{sel}>{esc(text)}</option>')
    cls = ' class="sr"' if hidden_label else ""
    return f'<label for="{esc(id_)}"{cls}>{esc(label)}</label> <select id="{esc(id_)}" name="{esc(name)}">{"".join(opts)}</select>'


def field(
    name: str,
    label: str,
    kind: str = "text",
    id_: str = "",
    hidden_label: bool = False,
    extra: str = "",
) -> str:
    """A labelled <input>."""
    id_ = id_ or name
    cls = ' class="sr"' if hidden_label else ""
    return f'<label for="{esc(id_)}"{cls}>{esc(label)}</label> <input id="{esc(id_)}" name="{esc(name)}" type="{kind}"{extra}>'


def table(head: Sequence[str], rows: Iterable[Sequence[str]], caption: str = "") -> str:
    """A table: `head` is text (escaped here), the cells are HTML the caller escaped; the first
    cell of each row is its header (scope=row)."""
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    th = "".join(f'<th scope="col">{esc(h)}</th>' for h in head)
    body = "".join(
        f'<tr><th scope="row">{cells[0]}</th>' + "".join(f"<td>{c}</td>" for c in cells[1:]) + "</tr>"
        for cells in rows
    )
    return (
        f'<div class="table-wrap"><table>{cap}<thead><tr>{th}</tr></thead><tbody>{body}</tbody></table></div>'
    )


def shown_value(value: float | None, unit: str) -> str:
    """A value with its unit (escaped)."""
    if value is None:
        return "–"
    return esc(f"{value:g} {unit}".strip())
