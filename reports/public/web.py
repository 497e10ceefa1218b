"""What every route of the public site shares: the security headers (a CSP without script),
the page's languages (`?lang=`) and a cached answer with its ETag (304 on a match)."""

from __future__ import annotations

import hashlib

from fastapi import Request
from fastapi.responses import Response

from egov.langs import LANGUAGES
from reports.public.pages import DEFAULT_LANGS

CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def langs_of(request: Request) -> tuple[str, ...]:
    """The page's languages: zh-Hant and pt by default; one language with `?lang=` (en,
    zh-Hant or pt); anything else is the default pair."""
    lang = request.query_params.get("lang")
    return (lang,) if lang in LANGUAGES else DEFAULT_LANGS


def cached(request: Request, body: bytes, media_type: str, max_age: int, **headers: str) -> Response:
    """`body` with its ETag and `Cache-Control: public`; 304 when the client has it already."""
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    common = {**SECURITY, "Cache-Control": f"public, max-age={max_age}", "ETag": etag, **headers}
    asked = [tag.strip() for tag in request.headers.get("if-none-match", "").split(",")]
    if etag in asked or f"W/{etag}" in asked:
        return Response(status_code=304, headers=common)
    return Response(body, media_type=media_type, headers=common)
