"""The routes of the public site (`router`, mounted by the app under /public): no key, no
login, GET only. A period that is not published (unknown, no cycle, or any state before
`published`) and a department without a score in it answer 404, the same page for all, so
that nothing unpublished is disclosed. Published pages are immutable: `Cache-Control:
public` with a long max-age and an ETag (a conditional request gets 304); the index of
periods changes when one is published, so it is kept for minutes only. The client's rate
limit is the app's (`egov.limits`, "/public" is a rate-limited path)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from egov.deps import SessionDep
from reports.department.data import indicators, standing_table
from reports.public.data import (
    NotPublished,
    file_safe,
    names_by_language,
    objection_summary,
    public_run,
    published_periods,
)
from reports.public.method import methodology_page
from reports.public.opendata import package_zip
from reports.public.pages import (
    PREFIX,
    department_page,
    index_page,
    not_found_page,
    period_page,
)
from reports.public.ratings_routes import router as ratings_router
from reports.public.web import SECURITY, cached, langs_of

PUBLISHED_MAX_AGE = 86_400  # a published run never changes
INDEX_MAX_AGE = 300  # the list grows when a period is published
router = APIRouter(prefix=PREFIX, include_in_schema=False)


def build_public_router() -> APIRouter:
    """The public site's router (for `create_app`): the rating results (/public/ratings/) first,
    so that `ratings` is never taken for a period, then the published runs."""
    combined = APIRouter(include_in_schema=False)
    combined.include_router(ratings_router)
    combined.include_router(router)
    return combined


def html(request: Request, text: str, max_age: int = PUBLISHED_MAX_AGE) -> Response:
    return cached(request, text.encode("utf-8"), "text/html; charset=utf-8", max_age)


def not_found(request: Request) -> Response:
    return HTMLResponse(
        not_found_page(langs_of(request)), status_code=404, headers={**SECURITY, "Cache-Control": "no-store"}
    )


@router.get("/", response_class=HTMLResponse)
def index(request: Request, session: SessionDep) -> Response:
    return html(request, index_page(published_periods(session), langs_of(request)), INDEX_MAX_AGE)


@router.get("/{period}/", response_class=HTMLResponse)
def period(request: Request, period: str, session: SessionDep) -> Response:
    try:
        pr = public_run(session, period)
    except NotPublished:
        return not_found(request)
    names = names_by_language(session)
    return html(request, period_page(pr, names, objection_summary(session, pr.run), langs_of(request)))


@router.get("/{period}/methodology", response_class=HTMLResponse)
def methodology(request: Request, period: str, session: SessionDep) -> Response:
    try:
        pr = public_run(session, period)
    except NotPublished:
        return not_found(request)
    return html(request, methodology_page(session, pr, langs_of(request)))


@router.get("/{period}/departments/{code}", response_class=HTMLResponse)
def department(request: Request, period: str, code: str, session: SessionDep) -> Response:
    try:
        pr = public_run(session, period)
    except NotPublished:
        return not_found(request)
    scores = pr.result.department_scores
    if scores is None or code not in scores.index:
        return not_found(request)
    fw = pr.framework
    standing = standing_table(pr.result, code, [fw.index_code, *(c.code for c in fw.categories)])
    table = indicators(session, pr.result, code, fw).table
    page = department_page(pr, code, names_by_language(session), standing, table, langs_of(request))
    return html(request, page)


@router.get("/{period}/open-data.zip")
def open_data(request: Request, period: str, session: SessionDep) -> Response:
    try:
        data = package_zip(session, period)
    except NotPublished:
        return not_found(request)
    name = f"egov-open-data-{file_safe(period)}.zip"
    return cached(
        request,
        data,
        "application/zip",
        PUBLISHED_MAX_AGE,
        **{"Content-Disposition": f'attachment; filename="{name}"'},
    )
