"""The routes of the public rating results (`router`, under /public/ratings, included before the
published runs' routes so that `ratings` is never read as a period): no key, GET only, no
script. A period without public figures, an unknown department or service item answer the
public site's 404 (no-store). The figures change as ratings arrive and cases move: `Cache-Control:
public, max-age=300` with an ETag (304 on a match), the figures kept per process as long
(`reports.public.ratings_data.CACHE_SECONDS`). Rate-limited with the rest of /public
(`egov.limits`)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from egov.deps import SessionDep
from reports.public.data import file_safe
from reports.public.pages import PREFIX, not_found_page
from reports.public.ratings_data import (
    CACHE_SECONDS,
    NoPublicRatings,
    PublicRatings,
    public_periods,
    public_ratings,
)
from reports.public.ratings_open import ratings_zip
from reports.public.ratings_pages import department_page, index_page, period_page, service_page
from reports.public.web import SECURITY, cached, langs_of

router = APIRouter(prefix=f"{PREFIX}/ratings", include_in_schema=False)


def _html(request: Request, text: str) -> Response:
    return cached(request, text.encode("utf-8"), "text/html; charset=utf-8", CACHE_SECONDS)


def _figures_page(
    request: Request, pr: PublicRatings, page: str, code: str, render: Callable[[], str]
) -> Response:
    """A page of the period's figures `pr`, rendered once for as long as the figures are kept
    (the rendered bytes live with them: `PublicRatings.rendered`)."""
    key = (page, code, tuple(langs_of(request)))
    body = pr.rendered.get(key)
    if body is None:
        body = pr.rendered[key] = render().encode("utf-8")
    return cached(request, body, "text/html; charset=utf-8", CACHE_SECONDS)


def _not_found(request: Request) -> Response:
    return HTMLResponse(
        not_found_page(langs_of(request)), status_code=404, headers={**SECURITY, "Cache-Control": "no-store"}
    )


@router.get("/", response_class=HTMLResponse)
def ratings_index(request: Request, session: SessionDep) -> Response:
    return _html(request, index_page(public_periods(session), langs_of(request)))


@router.get("/{period}/", response_class=HTMLResponse)
def ratings_period(request: Request, period: str, session: SessionDep) -> Response:
    try:
        pr = public_ratings(session, period)
    except NoPublicRatings:
        return _not_found(request)
    return _figures_page(request, pr, "period", "", lambda: period_page(pr, langs_of(request)))


@router.get("/{period}/departments/{code}", response_class=HTMLResponse)
def ratings_department(request: Request, period: str, code: str, session: SessionDep) -> Response:
    try:
        pr = public_ratings(session, period)
    except NoPublicRatings:
        return _not_found(request)
    if code not in pr.departments.index:
        return _not_found(request)
    return _figures_page(
        request, pr, "department", code, lambda: department_page(pr, code, langs_of(request))
    )


@router.get("/{period}/services/{code}", response_class=HTMLResponse)
def ratings_service(request: Request, period: str, code: str, session: SessionDep) -> Response:
    try:
        pr = public_ratings(session, period)
    except NoPublicRatings:
        return _not_found(request)
    if code not in pr.services.index:
        return _not_found(request)
    return _figures_page(request, pr, "service", code, lambda: service_page(pr, code, langs_of(request)))


@router.get("/{period}/open-data.zip")
def ratings_open_data(request: Request, period: str, session: SessionDep) -> Response:
    try:
        data = ratings_zip(session, period)
    except NoPublicRatings:
        return _not_found(request)
    name = f"egov-ratings-{file_safe(period)}.zip"
    return cached(
        request,
        data,
        "application/zip",
        CACHE_SECONDS,
        **{"Content-Disposition": f'attachment; filename="{name}"'},
    )
