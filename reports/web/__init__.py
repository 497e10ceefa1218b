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
  `POST /reports/logout` ends the session. A revoked key ends its sessions at once. A form
  posted from another site (login or logout CSRF) is refused with 403 (`forms`).
- Every stored text (department and object names, notes) is escaped (html.escape); pages
  are sent with `Cache-Control: no-store`, a Content-Security-Policy without any external
  source, `X-Frame-Options: DENY` and `Referrer-Policy: no-referrer`.

Modules: `auth` (who is reading: keys, login sessions), `forms` (the cross-site check of
every state-changing request, form limits), `links` (the pages' links and
navigation), `pages` (the HTML), `results` (runs' results, recomputed once per process),
`routes` (the `router`), `labels` (the pages' own labels).
"""

from reports.web.auth import COOKIE, Refusal, end_session, start_session
from reports.web.results import forget_results
from reports.web.routes import build_reports_router, refusal_response, router

__all__ = [
    "COOKIE",
    "Refusal",
    "build_reports_router",
    "end_session",
    "forget_results",
    "refusal_response",
    "router",
    "start_session",
]
