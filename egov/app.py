"""The web service (FastAPI), assembled in one place: `create_app()` builds it; `egov serve`
runs it with uvicorn (factory "egov.app:create_app").

Public: the questions, rating submission (authorised by the single-use token) and the
widget, and the public site of published results (/public/). Everything else needs an API key (`Authorization: Bearer egk_…`) of the right role:
department keys issue tokens and handle their own cases; assessor keys read everything,
review held ratings and decide appeals; admin keys manage keys. The report pages (/reports/)
log in with the same keys.
Abuse resistance: strict schemas (unknown fields → 422, control characters and non-finite
numbers refused at the edge), a body size limit (413), token buckets charged to whoever sends
the request: the client address for ratings, the department key for token issuance (429 +
Retry-After; per worker), CORS only for EGOV_ALLOWED_ORIGINS, a cross-site check on the
report forms, burst detection holding ratings for review.
"""

from __future__ import annotations

import contextlib
import gc
import sqlite3
from collections.abc import AsyncIterator

import psycopg
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.exc import SQLAlchemyError

from egov import __version__, values_api
from egov.apidocs import add_offline_docs
from egov.auth import TokenBucket
from egov.db import is_unavailable
from egov.errors import EgovError, ServiceError
from egov.inputs import check_parameters, validation_error
from egov.limits import GuardMiddleware
from egov.objections_api import router as objections_router
from egov.settings import Settings, get_settings
from reports.public import build_public_router
from reports.status import build_status_router
from reports.web import Refusal, build_reports_router, refusal_response
from reports.web.cycle import build_cycle_router
from reports.web.desk import build_desk_router
from surveys.kiosk_page import build_kiosk_router
from surveys.routes import audit, cases, health, keys, kiosks, measures, questions, ratings, review, tokens
from surveys.routes.common import API
from surveys.widget import build_widget_router

# in the order of the OpenAPI documentation
SURVEY_ROUTERS = (health, questions, keys, tokens, ratings, review, measures, cases, audit, kiosks)

# Errors of the database or its driver (psycopg's raised as is by the single-rating fast path,
# on the raw driver connection): a 503 when the database cannot be used right now (see
# egov.db.is_unavailable), else re-raised (a 500).
DATABASE_ERRORS: tuple[type[Exception], ...] = (SQLAlchemyError, sqlite3.Error, psycopg.Error)

UNAVAILABLE = "the rating database is unavailable; please try again shortly"
UNAVAILABLE_PAGE = (  # the report pages (HTML, outside the OpenAPI schema)
    '<!doctype html><html lang="zh-Hant"><head><meta charset="utf-8"><title>503</title></head><body>'
    "<p>評分資料庫暫時無法使用，請稍後再試。</p>"
    '<p lang="pt">A base de dados das avaliações está indisponível; tente de novo dentro de momentos.</p>'
    f'<p lang="en">The {UNAVAILABLE}.</p></body></html>'
)


def create_app() -> FastAPI:
    """The rating API, the widget, the report pages and the OpenAPI documentation (/docs on
    local assets, /openapi.json; no /redoc). Every path and query parameter is checked for
    control characters first (egov.inputs.check_parameters)."""
    settings = get_settings()
    app = FastAPI(
        lifespan=_lifespan,
        title="egov-eval citizen ratings",
        version=__version__,
        description=(
            "Citizen ratings of e-government application services (Macau): single-use rating tokens per "
            "completed transaction, ratings and batches, the embeddable widget, bad-rating cases, measures. "
            "Keys: `Authorization: Bearer egk_…` (department, assessor, admin)."
        ),
        docs_url=None,  # egov.apidocs: the pages on installed assets, no CDN
        redoc_url=None,  # ReDoc loads its logo from a CDN
        dependencies=[Depends(check_parameters)],
    )
    app.state.issuers = TokenBucket(settings.rate_limit_issuer)  # surveys.routes.common.take_issuers
    _add_exception_handlers(app)
    for module in SURVEY_ROUTERS:
        app.include_router(module.router)
    app.include_router(values_api.router)  # values with evidence (issue 16)
    app.include_router(objections_router)  # the department review's objections (egov.objections)
    app.include_router(build_widget_router())
    app.include_router(build_kiosk_router())  # the counter kiosk's page (/kiosk/{object})
    app.include_router(build_reports_router())  # the role-protected report pages (/reports/)
    app.include_router(build_cycle_router())  # the cycle's pages (/reports/cycle/)
    app.include_router(build_desk_router())  # the case desk (/reports/desk/)
    app.include_router(build_status_router())  # the citizen's status page of a rating (/status/)
    app.include_router(build_public_router())  # the public site of published runs (/public/)
    add_offline_docs(app)
    _add_middleware(app, settings)
    return app


@contextlib.asynccontextmanager
async def _lifespan(_app: FastAPI) -> AsyncIterator[None]:
    # everything loaded at start-up (SQLAlchemy, pandas, the app) stays for the process'
    # life: keep it out of the garbage collector's full passes, which otherwise rescan it
    # every few thousand allocations of a request
    gc.collect()
    gc.freeze()
    yield


def _add_exception_handlers(app: FastAPI) -> None:
    """ServiceError → its status; EgovError → 422; an invalid request → 422 rendered safely
    whatever its input (egov.inputs.validation_error). The database cannot be used right now
    (PostgreSQL down or restarting, a connection lost, the pool exhausted, SQLite locked past
    its timeout): 503 with Retry-After, never a 500 or a traceback; the client sends the
    request again (tokens and ratings are idempotent). Any other database error is a fault of
    the program: re-raised, a plain 500, logged."""
    app.add_exception_handler(ServiceError, _service_error)  # type: ignore[arg-type]
    for error_class in DATABASE_ERRORS:
        app.add_exception_handler(error_class, _database_error)
    app.add_exception_handler(EgovError, _egov_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(Refusal, refusal_response)  # a report page's refusal outside its handler


async def _service_error(_request: Request, exc: ServiceError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return JSONResponse({"detail": exc.message}, status_code=exc.status, headers=headers)


def _unavailable(request: Request) -> Response:
    headers = {"Retry-After": "5"}
    if request.url.path.startswith(("/reports", "/public")):
        return HTMLResponse(UNAVAILABLE_PAGE, status_code=503, headers=headers)
    return JSONResponse({"detail": UNAVAILABLE}, status_code=503, headers=headers)


async def _database_error(request: Request, exc: Exception) -> Response:
    if is_unavailable(exc):
        return _unavailable(request)
    raise exc


async def _egov_error(request: Request, exc: EgovError) -> Response:
    if is_unavailable(exc):  # session_scope's "database error: …" made from an outage
        return _unavailable(request)
    return JSONResponse({"detail": str(exc)}, status_code=422)


def _add_middleware(app: FastAPI, settings: Settings) -> None:
    """CORS only for EGOV_ALLOWED_ORIGINS; outermost, the size and per-client rate limits
    (the rate limit on the API, the widget and the public site)."""
    origins = [o.strip() for o in settings.allowed_origins.split(",") if o.strip()]
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
            max_age=600,
        )
    app.add_middleware(
        GuardMiddleware,
        max_body=settings.max_body_bytes,
        max_batch_body=settings.max_batch_body_bytes,
        client_rate=settings.rate_limit_client,
        rate_limited=(API, "/widget", "/kiosk", "/public", "/status"),
        # an evidence file (EGOV_EVIDENCE_MAX_BYTES) as base64 in JSON or in a multipart form
        max_upload_body=settings.evidence_max_bytes * 4 // 3 + settings.max_body_bytes,
    )
