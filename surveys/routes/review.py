"""Review (assessor keys): the ratings held by burst detection, the decision on one, and the
privacy-scrubbed CSV export of ratings."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from egov.deps import AssessorKey, SessionDep
from surveys import schemas as S
from surveys.privacy import export_csv
from surveys.review import held_ratings, review_rating
from surveys.routes.common import API, BODY, KEYED, RowId, doc, period

router = APIRouter(prefix=API, tags=["review"])


@router.get(
    "/ratings/held",
    **doc(
        "Ratings held for review",
        "Ratings that burst detection held back (they do not count until an assessor accepts them). Assessor keys.",
        [
            {
                "id": 812,
                "object": "ONE_ACCOUNT",
                "day": "2026-03-02",
                "level": 5,
                "flags": "burst",
                "created_at": "2026-03-02T02:11:09Z",
            }
        ],
        *KEYED,
    ),
)
def get_held(session: SessionDep, principal: AssessorKey) -> list[S.FlaggedRating]:
    return [S.FlaggedRating(**r) for r in held_ratings(session)]


@router.post(
    "/ratings/{rating_id}/review",
    response_model=S.ReviewResult,
    **doc(
        "Review a held rating",
        "Accept (it counts from now on, in the roll-up of its day) or reject a rating held by burst detection; "
        "the decision is in the audit trail. Assessor keys.",
        {"id": 812, "flags": ""},
        *KEYED,
        404,
        409,
        *BODY,
    ),
)
def post_review(
    rating_id: RowId, body: S.ReviewRequest, session: SessionDep, principal: AssessorKey
) -> S.ReviewResult:
    rating = review_rating(session, principal, rating_id, body.decision, body.note)
    session.commit()
    return S.ReviewResult(id=int(rating.id or rating_id), flags=rating.flags)


@router.get(
    "/ratings/export",
    response_class=StreamingResponse,
    **doc(
        "Export ratings (CSV)",
        "Ratings of days [start, end] as CSV with comments scrubbed of identity-card numbers, phone numbers "
        "and e-mail addresses; no pseudonym, IP or transaction reference. Text a spreadsheet would run as a "
        "formula (beginning with =, +, -, @, tab or carriage return) has a leading ' (formula injection). "
        "Assessor keys.",
        "object,day,level,drivers,comment,channel,language,question_version,counted\nONE_ACCOUNT,2026-03-02,2,'-efficiency,call me on [phone],app,en,2026.1,yes\n",
        *KEYED,
        422,
        media="text/csv",
    ),
)
def get_export(
    session: SessionDep, principal: AssessorKey, start: date | None = None, end: date | None = None
) -> StreamingResponse:
    s, e = period(start, end)
    return StreamingResponse(export_csv(session, s, e), media_type="text/csv")
