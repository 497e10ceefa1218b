"""The table of question-set answers (issue 17 point 6, surveys.question_sets): one row per
answered 5-point Likert item of a rating — the set and its version, the item, the value 1 … 5 —
stored in the rating's own transaction on the general rating path. Registered with the kernel's
tables by `egov.db` (imported there), so `egov db init` creates it. Like the rating's level it is
no personal data: `egov ratings purge` leaves it; driver scores read it only through ratings that
count (no moderation flag)."""

from __future__ import annotations

from sqlalchemy import Index, SmallInteger, UniqueConstraint
from sqlmodel import Field, SQLModel


class RatingAnswer(SQLModel, table=True):
    """One answer of a rating to one item of a question set."""

    __tablename__ = "rating_answer"
    __table_args__ = (
        UniqueConstraint("rating_id", "item", name="uq_rating_answer_item"),
        Index("ix_rating_answer_set_item", "question_set", "item"),
    )

    id: int | None = Field(default=None, primary_key=True)
    rating_id: int = Field(foreign_key="rating.id")
    question_set: str = Field(max_length=40)
    set_version: str = Field(max_length=20)
    item: str = Field(max_length=40)
    value: int = Field(ge=1, le=5, sa_type=SmallInteger)  # 5 (best) … 1
