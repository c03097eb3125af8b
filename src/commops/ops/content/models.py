"""The content pipeline's tables: items, their authors, review rounds (with the reviewers asked
and the reviews given), posts on channels (scheduled, published, cross-posted) and performance
readings imported from the channels.

Authors and reviewers are *identities*, not members: the member's ``commops`` identity
(``core.member_identity``), as for the activities the pipeline emits. Identities are never
deleted and move with their person when members are merged or split, so an item keeps its
authors and reviewers through every change of who is who; the member is read through
``identities.member_id`` (``rules.author_ids`` and friends).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from commops.store.models import Base


class ContentItem(Base):
    """A piece of content: a technical article, a best-practice case, a user story, a tutorial,
    a video or a translation (``translation_of_id`` names the item it translates). ``state``
    changes only through the domain functions in ``commops.ops.content.items``."""

    __tablename__ = "content_items"
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(20), index=True)
    language: Mapped[str] = mapped_column(String(20))
    # The channels the item is meant for (blog, wechat, zhihu, ...), in order of preference.
    channels: Mapped[list[Any]] = mapped_column(default=list)
    tags: Mapped[list[Any]] = mapped_column(default=list)
    project: Mapped[str | None] = mapped_column(String(200), default=None)
    release: Mapped[str | None] = mapped_column(String(100), default=None)
    translation_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("content_items.id", ondelete="SET NULL"), default=None, index=True
    )
    # Overrides [content] approvals for this item when set.
    approvals_required: Mapped[int | None] = mapped_column(Integer, default=None)
    summary: Mapped[str | None] = mapped_column(Text, default=None)
    url: Mapped[str | None] = mapped_column(Text, default=None)  # where it was first published
    slug: Mapped[str | None] = mapped_column(String(300), default=None, index=True)
    # "blog:<path relative to the imported folder>" for items a blog import made.
    import_key: Mapped[str | None] = mapped_column(String(500), default=None, unique=True)
    published_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    withdrawn_reason: Mapped[str | None] = mapped_column(Text, default=None)
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime, default=None, index=True)


class ContentAuthor(Base):
    """An author of an item (the member's ``commops`` identity); ``position`` 0 is the first
    author (the object of review credits)."""

    __tablename__ = "content_authors"

    item_id: Mapped[int] = mapped_column(
        ForeignKey("content_items.id", ondelete="CASCADE"), primary_key=True
    )
    identity_id: Mapped[int] = mapped_column(
        ForeignKey("identities.id"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)


class ContentRound(Base):
    """One round of community review: opened when the item is submitted, closed when it is
    approved, sent back with changes requested, or withdrawn."""

    __tablename__ = "content_review_rounds"
    __table_args__ = (
        UniqueConstraint("item_id", "number"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("content_items.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    opened_at: Mapped[datetime] = mapped_column(DateTime)
    opened_by: Mapped[str] = mapped_column(String(200))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    # open | approved | changes_requested | withdrawn
    outcome: Mapped[str] = mapped_column(String(20), default="open")


class ContentRoundReviewer(Base):
    """A reviewer asked in a round (the member's ``commops`` identity): only they may review
    in it."""

    __tablename__ = "content_round_reviewers"

    round_id: Mapped[int] = mapped_column(
        ForeignKey("content_review_rounds.id", ondelete="CASCADE"), primary_key=True
    )
    identity_id: Mapped[int] = mapped_column(
        ForeignKey("identities.id"), primary_key=True, index=True
    )


class ContentReview(Base):
    """A review given in a round: ``approve``, ``request_changes`` or ``comment``."""

    __tablename__ = "content_reviews"
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("content_items.id", ondelete="CASCADE"), index=True
    )
    round_id: Mapped[int] = mapped_column(
        ForeignKey("content_review_rounds.id", ondelete="CASCADE"), index=True
    )
    reviewer_identity_id: Mapped[int] = mapped_column(ForeignKey("identities.id"), index=True)
    verdict: Mapped[str] = mapped_column(String(20))
    body: Mapped[str | None] = mapped_column(Text, default=None)
    at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(200))


class ContentPost(Base):
    """An item on one channel: ``scheduled`` for a day, ``published`` (the first post or a
    cross-post) with its URL, or ``cancelled`` (the item was withdrawn before it went out)."""

    __tablename__ = "content_posts"
    __table_args__ = (
        UniqueConstraint("item_id", "channel"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("content_items.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(60), index=True)
    state: Mapped[str] = mapped_column(String(20))
    scheduled_on: Mapped[date | None] = mapped_column(Date, default=None)
    published_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    url: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class ContentReading(Base):
    """What a channel showed for an item on a day (running totals of views, reads, likes), as
    imported from a CSV file. One row per item, channel and day: importing it again updates."""

    __tablename__ = "content_performance"
    __table_args__ = (
        UniqueConstraint("item_id", "channel", "day"),
        Index("ix_content_performance_channel_day", "channel", "day"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("content_items.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(60))
    day: Mapped[date] = mapped_column(Date)
    views: Mapped[int | None] = mapped_column(Integer, default=None)
    reads: Mapped[int | None] = mapped_column(Integer, default=None)
    likes: Mapped[int | None] = mapped_column(Integer, default=None)
    origin: Mapped[str | None] = mapped_column(String(500), default=None)  # the file's name
    imported_at: Mapped[datetime] = mapped_column(DateTime)


TABLES = (
    "content_items",
    "content_authors",
    "content_review_rounds",
    "content_round_reviewers",
    "content_reviews",
    "content_posts",
    "content_performance",
)
