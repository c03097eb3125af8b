"""Lookups every part of the feedback workflow shares: records by id (with errors that name
them), who raised an item, links and excerpts."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, time
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from commops.errors import UsageError
from commops.ops.feedback.models import FeedbackItem, FeedbackSuggestion, FeedbackTheme
from commops.store.models import Identity, Member

EXCERPT_CHARS = 200


def get_item(session: Session, item_id: int, *, deleted: bool = False) -> FeedbackItem:
    """The item, or a UsageError naming it; a deleted item only when ``deleted``."""
    item = session.get(FeedbackItem, item_id)
    if item is None:
        raise UsageError(f"no feedback item {item_id}", hint="See `commops feedback list`.")
    if item.deleted_at is not None and not deleted:
        raise UsageError(
            f"feedback item {item_id} is deleted",
            hint=f"Restore it first: `commops feedback restore {item_id}`.",
        )
    return item


def get_theme(session: Session, theme_id: int, *, deleted: bool = False) -> FeedbackTheme:
    """The theme, or a UsageError naming it; a deleted theme only when ``deleted``."""
    theme = session.get(FeedbackTheme, theme_id)
    if theme is None:
        raise UsageError(f"no feedback theme {theme_id}", hint="See `commops feedback theme list`.")
    if theme.deleted_at is not None and not deleted:
        raise UsageError(
            f"feedback theme {theme_id} is deleted",
            hint=f"Restore it first: `commops feedback theme restore {theme_id}`.",
        )
    return theme


def get_suggestion(session: Session, suggestion_id: int) -> FeedbackSuggestion:
    found = session.get(FeedbackSuggestion, suggestion_id)
    if found is None:
        raise UsageError(
            f"no feedback suggestion {suggestion_id}",
            hint="See `commops feedback suggest`.",
        )
    return found


def live_theme_id(session: Session, item: FeedbackItem) -> int | None:
    """The item's theme, unless that theme is deleted (its items then count as unthemed)."""
    if item.theme_id is None:
        return None
    theme = session.get(FeedbackTheme, item.theme_id)
    return None if theme is None or theme.deleted_at is not None else theme.id


def members_of(session: Session, identity_ids: Iterable[int | None]) -> dict[int, Member]:
    """identity id -> the member it belongs to now."""
    ids = sorted({i for i in identity_ids if i is not None})
    out: dict[int, Member] = {}
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        for ident_id, member in session.execute(
            select(Identity.id, Member)
            .join(Member, Member.id == Identity.member_id)
            .where(Identity.id.in_(chunk))
        ):
            out[ident_id] = member
    return out


def check_url(value: str | None, what: str) -> str | None:
    """An http(s) URL, or None for an empty value; a UsageError naming ``what`` otherwise.
    Only such links are ever rendered as links (never ``javascript:``)."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"{what}: {value!r} is not an http(s) URL")
    return value


def is_web_url(value: str | None) -> bool:
    if not value:
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def item_link(item: FeedbackItem) -> str | None:
    """Where the item can be seen: its URL, else the activity it was captured from."""
    if item.url:
        return item.url
    if item.activity_uid:
        return f"activity:{item.activity_uid}"
    return None


def excerpt(item: FeedbackItem, limit: int = EXCERPT_CHARS) -> str:
    """The item's body (its title when it has none) on one line, cut at a word near
    ``limit`` characters."""
    text = re.sub(r"\s+", " ", item.body or "").strip() or item.title.strip()
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return (cut or text[:limit]).rstrip(" ,.;:") + "…"


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min)


def check_title(title: str, what: str) -> str:
    title = " ".join(title.split())
    if not title:
        raise UsageError(f"{what}: the title is empty")
    if len(title) > 500:
        raise UsageError(f"{what}: the title is {len(title)} characters long (at most 500)")
    return title
