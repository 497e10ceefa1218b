"""The report pages' state-changing forms (login, logout, and any later one): refused when they
come from another site (cross-site request forgery), and read within their limits.

- `refuse_cross_site`, a dependency of the whole /reports router: a request with an unsafe
  method (POST …) is refused with 403 when the browser says it comes from another origin:
  `Sec-Fetch-Site` other than `same-origin` or `none` when the browser sends it (every
  current browser does, to HTTPS and to localhost), else an `Origin` whose host is not the
  request's `Host` (an opaque `null` origin included). A request with neither header does not
  come from a browser form (a script with a key; no cookie to abuse) and is let through.
  So a third-party page can neither log a user in with its own key (login CSRF) nor log
  them out; the SameSite=Strict cookie alone does not stop another port of the same host
  (same site), nor the login form, which needs no cookie.
- `read_form`: a URL-encoded form of at most MAX_FIELDS fields; more, or a malformed one, is
  refused with 400 (never a 500).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from fastapi import Request

from reports.web.auth import Refusal

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SAME_ORIGIN = frozenset({"same-origin", "none"})  # `none`: typed or bookmarked by the user
MAX_FIELDS = 10


async def refuse_cross_site(request: Request) -> None:
    """Refuse (403) an unsafe request that a browser sent from another origin."""
    if request.method in SAFE_METHODS:
        return
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        if site.strip().lower() not in SAME_ORIGIN:
            raise Refusal(403, "web.cross_site")
        return
    origin = request.headers.get("origin")
    if origin is None:
        return
    host = _without_default_port(request.headers.get("host", ""))
    if not host or _without_default_port(urlsplit(origin.strip()).netloc) != host:
        raise Refusal(403, "web.cross_site")


def _without_default_port(host: str) -> str:
    host = host.strip().lower()
    return host.removesuffix(":80").removesuffix(":443")


async def read_form(request: Request) -> dict[str, str]:
    """The fields of a URL-encoded form body (the first value of each); 400 past MAX_FIELDS
    fields."""
    body = (await request.body()).decode("utf-8", errors="replace")
    try:
        fields = parse_qs(body, max_num_fields=MAX_FIELDS)
    except ValueError as exc:  # "Max number of fields exceeded"
        raise Refusal(400, "web.bad_form") from exc
    return {name: values[0] for name, values in fields.items()}
