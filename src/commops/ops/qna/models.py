"""The Q&A desk's one table: a question's place on the desk (open, assigned, answered, dropped).

A question itself is an activity (its ``uid``); a row here exists once someone acted on it from
the desk. People are referenced through identities, never members, as activities are: the
assignee is the member's ``commops`` identity (``commops.ops.core.member_identity``) and the
answerer is the answer's actor, so merging or splitting members never rewrites a row.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from commops.store.models import Base


class QnaAssignment(Base):
    """A question on the desk. ``state``: ``open`` (nobody assigned), ``assigned`` (a member was
    asked to answer it), ``answered`` (an answer arrived; final), ``dropped`` (needs no answer).
    ``source_name``, ``channel``, ``target`` and ``title`` are copied from the question when the
    row is made, so the log stays readable if the source is removed."""

    __tablename__ = "qna_assignments"
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012

    id: Mapped[int] = mapped_column(primary_key=True)
    question_uid: Mapped[str] = mapped_column(String(40), unique=True)
    source_name: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str | None] = mapped_column(String(300), default=None)
    target: Mapped[str | None] = mapped_column(String(300), default=None)
    title: Mapped[str | None] = mapped_column(Text, default=None)
    state: Mapped[str] = mapped_column(String(20), index=True)
    assignee_identity_id: Mapped[int | None] = mapped_column(
        ForeignKey("identities.id", ondelete="SET NULL"), index=True, default=None
    )
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    answer_uid: Mapped[str | None] = mapped_column(String(40), default=None)
    answerer_identity_id: Mapped[int | None] = mapped_column(
        ForeignKey("identities.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
