"""The feedback tables: items (one piece of feedback, from any channel), themes (items grouped
into one product request, routed and tracked), suggestions (two items that may say the same
thing) and notifications (a member told that their theme shipped or was declined).

Who raised an item is an *identity*, not a member: the author identity of the issue or forum
topic it was captured from, or the member's ``commops`` identity for items entered by hand or
imported. Identities are never deleted and move with their person when members are merged or
split, so an item keeps its author through every change of who is who; the member is read
through ``identities.member_id`` when needed (as activities do).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from commops.store.models import Base

# Where an item came from. The first three are captured from the activity stream; the rest are
# entered by hand or imported from a CSV file.
STREAM_ORIGINS = ("github", "gitee", "discourse")
ENTERED_ORIGINS = ("survey", "wechat", "event", "email", "manual")
ORIGINS = STREAM_ORIGINS + ENTERED_ORIGINS

ITEM = "feedback_item"
THEME = "feedback_theme"
SUGGESTION = "feedback_suggestion"


class FeedbackTheme(Base):
    """A product request several items may express, with its routing (product area, owner,
    link to the issue or roadmap item) and its state (``STATES`` in themes.py)."""

    __tablename__ = "feedback_themes"
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text, default=None)
    product_area: Mapped[str | None] = mapped_column(String(100), default=None, index=True)
    owner_identity_id: Mapped[int | None] = mapped_column(
        ForeignKey("identities.id", ondelete="SET NULL"), default=None, index=True
    )
    status: Mapped[str] = mapped_column(String(20), default="new", index=True)
    # Why the theme is in its state (required to decline it).
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    link: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    status_at: Mapped[datetime] = mapped_column(DateTime)
    # When it was shipped or declined.
    closed_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)


class FeedbackItem(Base):
    """One piece of feedback. ``activity_uid`` (captured from the stream) and ``import_key``
    (a CSV row) make capture and import idempotent; deleted items keep them, so a deleted
    item is never captured or imported again."""

    __tablename__ = "feedback_items"
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text, default="")
    origin: Mapped[str] = mapped_column(String(20), index=True)
    # The repository, forum category, survey, WeChat group or event it came from.
    channel: Mapped[str | None] = mapped_column(String(300), default=None)
    url: Mapped[str | None] = mapped_column(Text, default=None)
    activity_uid: Mapped[str | None] = mapped_column(String(40), default=None, unique=True)
    import_key: Mapped[str | None] = mapped_column(String(100), default=None, unique=True)
    identity_id: Mapped[int | None] = mapped_column(
        ForeignKey("identities.id", ondelete="SET NULL"), default=None, index=True
    )
    raised_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    theme_id: Mapped[int | None] = mapped_column(
        ForeignKey("feedback_themes.id", ondelete="SET NULL"), default=None, index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime)
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)


class FeedbackSuggestion(Base):
    """Two items whose texts are alike (``item_a_id`` < ``item_b_id``): ``open`` until someone
    accepts (the items join one theme) or rejects it. The row stays, so a pair once decided is
    never suggested again."""

    __tablename__ = "feedback_suggestions"
    __table_args__ = (
        UniqueConstraint("item_a_id", "item_b_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_a_id: Mapped[int] = mapped_column(
        ForeignKey("feedback_items.id", ondelete="CASCADE"), index=True
    )
    item_b_id: Mapped[int] = mapped_column(
        ForeignKey("feedback_items.id", ondelete="CASCADE"), index=True
    )
    score: Mapped[float] = mapped_column(Float)
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(20), index=True)  # open | accepted | rejected
    created_at: Mapped[datetime] = mapped_column(DateTime)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    decided_by: Mapped[str | None] = mapped_column(String(200), default=None)


class FeedbackNotification(Base):
    """A member told that a theme they asked for shipped or was declined: one per theme and
    member (``identity_id`` is the member's ``commops`` identity, which follows merges)."""

    __tablename__ = "feedback_notifications"
    __table_args__ = (
        UniqueConstraint("theme_id", "identity_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    theme_id: Mapped[int] = mapped_column(
        ForeignKey("feedback_themes.id", ondelete="CASCADE"), index=True
    )
    identity_id: Mapped[int] = mapped_column(ForeignKey("identities.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    address: Mapped[str | None] = mapped_column(Text, default=None)
    status: Mapped[str] = mapped_column(String(20))  # the theme's status when told
    notified_at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(200))
    activity_uid: Mapped[str] = mapped_column(String(40))
