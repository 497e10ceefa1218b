"""Privacy (Macau Personal Data Protection Act, Lei n.º 8/2005): comments are scrubbed of
identity-card numbers, phone numbers and e-mail addresses before any export (which is also
formula-injection safe), and raw ratings older than the retention period are anonymised
without changing the roll-ups."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import String, cast, delete, func, literal, select, update
from sqlmodel import Session, col

from egov.auth import audit
from egov.cells import has_bare_cr, neutral_row
from egov.models import AssessedObject, Rating, RatingToken
from egov.models_counter import RatingSubject
from egov.models_services import ServiceItem
from egov.settings import get_settings

# Macau resident identity card: 1, 5 or 7 then six digits and a check digit, usually
# written 1234567(8); also 12345678 and 1234567-8.
MACAU_ID = re.compile(r"(?<!\d)[1578]\d{6}\s*(?:\(\s*\d\s*\)|[-/]?\d)(?!\d)")
# Hong Kong / mainland identity numbers (visitors and cross-border workers)
OTHER_ID = re.compile(r"(?<![A-Za-z0-9])(?:[A-Z]{1,2}\d{6}\s*\(\s*[0-9A]\s*\)|\d{17}[\dXx])(?![A-Za-z0-9])")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# Macau phones (8 digits, mobiles 6…, fixed 28…) with optional +853; other international numbers
PHONE = re.compile(
    r"(?<!\d)(?:(?:\+|00)\s?853[\s-]?)?(?:6\d{3}|28\d{2})[\s-]?\d{4}(?!\d)|(?<!\w)(?:\+|00)\d[\d\s-]{7,16}\d(?!\d)"
)


def scrub_comment(text: str) -> str:
    """Replace e-mail addresses, identity-card numbers and phone numbers by placeholders."""
    text = EMAIL.sub("[email]", text)
    text = MACAU_ID.sub("[id]", text)
    text = OTHER_ID.sub("[id]", text)
    return PHONE.sub("[phone]", text)


EXPORT_COLUMNS = (
    "object",
    "day",
    "level",
    "drivers",
    "comment",
    "channel",
    "language",
    "question_version",
    "counted",
    "service",  # the code of the service item (事項) the rating names; empty: none
)


def export_rows(session: Session, start: date, end: date) -> Iterator[list[str | int]]:
    """Ratings of days [start, end] for export: scrubbed comments, no pseudonym, no IP, no
    transaction reference. Streams rows (server-side cursor chunks)."""
    stmt = (
        select(
            col(AssessedObject.code),
            col(Rating.day),
            col(Rating.level),
            col(Rating.drivers),
            col(Rating.comment),
            col(Rating.channel),
            col(Rating.language),
            col(Rating.question_version),
            col(Rating.flags),
            col(ServiceItem.code),
        )
        .join(AssessedObject, col(AssessedObject.id) == col(Rating.object_id))
        .outerjoin(ServiceItem, col(ServiceItem.id) == col(Rating.service_id))
        .where(col(Rating.day) >= start, col(Rating.day) <= end)
        .order_by(col(Rating.day), col(Rating.id))
        .execution_options(yield_per=2000)
    )
    for r in session.execute(stmt):
        yield [
            r[0],
            str(r[1]),
            int(r[2]),  # a number: never neutralised
            r[3],
            scrub_comment(r[4]),
            r[5],
            r[6],
            r[7],
            "yes" if not r[8] else f"no ({r[8]})",
            r[9] or "",
        ]


def export_csv(session: Session, start: date, end: date) -> Iterator[str]:
    """The rating export as CSV text in chunks (`egov ratings export`, `GET
    /api/v1/ratings/export`): every text field that a spreadsheet would run as a formula
    (`=`, `+`, `-`, `@`, tab, carriage return first) gets a leading `'` (egov.cells); the
    database keeps the original text."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    quoted = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(EXPORT_COLUMNS)
    for row in export_rows(session, start, end):
        safe = neutral_row(row)
        (quoted if has_bare_cr(safe) else writer).writerow(safe)
        if buf.tell() > 64_000:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def purge_ratings(session: Session, before: date | None = None, actor: str = "cli") -> dict[str, int]:
    """Anonymise raw ratings of days before `before` (default: today − EGOV_RATING_RETENTION_DAYS):
    comment, pseudonym and IP are cleared and the transaction reference replaced; object, day,
    level, channel, language and flags stay, so the roll-ups — and a rebuild of them — do not
    change. Rating tokens issued before that day are deleted, and the rated subjects (window,
    staff code) of those ratings and tokens with them."""
    cutoff = before or (date.today() - timedelta(days=get_settings().rating_retention_days))
    old = (col(Rating.day) < cutoff) & ~col(Rating.transaction_ref).startswith("purged-")
    n = int(session.execute(select(func.count()).select_from(Rating).where(old)).scalar_one())
    subjects = _purge_subjects(session, old, _start_of(cutoff))
    session.execute(
        update(Rating)
        .where(old)
        .values(
            comment="",
            pseudonym="",
            ip=None,
            transaction_ref=literal("purged-").concat(cast(col(Rating.id), String)),
        )
    )
    t = session.execute(delete(RatingToken).where(col(RatingToken.issued_at) < _start_of(cutoff)))
    tokens = int(t.rowcount or 0)  # type: ignore[attr-defined]
    audit(
        session,
        actor,
        "ratings.purge",
        "rating",
        f"<{cutoff}",
        f"anonymised {n} ratings, deleted {tokens} tokens and {subjects} rated subjects",
    )
    return {"anonymised": n, "tokens_deleted": tokens, "subjects_deleted": subjects}


def _purge_subjects(session: Session, old: Any, issued_before: datetime) -> int:
    """Delete the rated subjects (window, staff code: egov.models_counter) of the ratings being
    anonymised and of the tokens being deleted: a staff code goes with the rating's retention."""
    of_old_ratings = (
        select(col(RatingToken.id))
        .join(
            Rating,
            (col(Rating.object_id) == col(RatingToken.object_id))
            & (col(Rating.transaction_ref) == col(RatingToken.transaction_ref)),
        )
        .where(old)
    )
    of_old_tokens = select(col(RatingToken.id)).where(col(RatingToken.issued_at) < issued_before)
    done = session.execute(
        delete(RatingSubject).where(
            col(RatingSubject.token_id).in_(of_old_ratings) | col(RatingSubject.token_id).in_(of_old_tokens)
        )
    )
    return int(done.rowcount or 0)  # type: ignore[attr-defined]


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)
