"""The activities the content pipeline puts in the stream, so ladders, ambassador criteria and
metrics count writing, translating and reviewing like any other contribution.

* ``content:authored``: one per author when an item that is not a translation is published
  (occurred at its publication); contribution type ``blog`` (article, case, story),
  ``tutorial`` or ``video`` by the item's kind.
* ``content:translated``: one per author (translator) when a translation is published;
  contribution type ``translation``.
* ``content:reviewed``: one per review given (approve, request changes or comment), acted by the
  reviewer, with the first author as object; contribution type ``review``.

What an item has earned is derived from its rows (``wanted``), and ``sync_credits`` makes the
stream agree: missing activities are emitted, ones that no longer apply (a deleted item, an
author removed by a blog re-import) are removed, and ones whose facts changed (a new
publication date) are replaced. Every key starts with ``content:<item id>:``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from commops.ops import core
from commops.ops.content.models import ContentItem, ContentPost, ContentReview, ContentRound
from commops.ops.content.rules import CONTRIBUTION_TYPES, author_ids
from commops.store.models import Activity, Identity

AUTHORED = "content:authored"
TRANSLATED = "content:translated"
REVIEWED = "content:reviewed"


@dataclass(frozen=True)
class Credit:
    kind: str
    member_id: int
    key: str
    occurred_at: datetime
    contribution_type: str
    title: str
    target: str
    channel: str | None = None
    parent: str | None = None
    object_member_id: int | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


def key_prefix(item_id: int) -> str:
    return f"content:{item_id}:"


def _first_channel(session: Session, item: ContentItem) -> str | None:
    post = session.execute(
        select(ContentPost)
        .where(ContentPost.item_id == item.id, ContentPost.state == "published")
        .order_by(ContentPost.published_at, ContentPost.id)
        .limit(1)
    ).scalar_one_or_none()
    if post is not None:
        return post.channel
    return str(item.channels[0]) if item.channels else None


def wanted(session: Session, item: ContentItem) -> list[Credit]:
    """Every activity ``item`` has earned as it stands (none once it is deleted)."""
    if item.deleted_at is not None:
        return []
    authors = author_ids(session, item.id)
    credits: list[Credit] = []
    target = f"content:{item.id}"
    parent = f"content:{item.translation_of_id}" if item.translation_of_id else None
    if item.state == "published" and item.published_at is not None:
        kind = TRANSLATED if item.kind == "translation" else AUTHORED
        channel = _first_channel(session, item)
        for position, member_id in enumerate(authors):
            credits.append(
                Credit(
                    kind=kind,
                    member_id=member_id,
                    key=f"{target}:{'translated' if kind == TRANSLATED else 'authored'}:"
                    f"{member_id}",
                    occurred_at=item.published_at,
                    contribution_type=CONTRIBUTION_TYPES[item.kind],
                    title=item.title,
                    target=target,
                    channel=channel,
                    parent=parent,
                    attributes={
                        "item_id": item.id,
                        "item_kind": item.kind,
                        "language": item.language,
                        "url": item.url,
                        "position": position,
                        "authors": len(authors),
                        "project": item.project,
                        "release": item.release,
                    },
                )
            )
    first_author = authors[0] if authors else None
    reviews = session.execute(
        select(ContentReview, ContentRound.number, Identity.member_id)
        .join(ContentRound, ContentRound.id == ContentReview.round_id)
        .join(Identity, Identity.id == ContentReview.reviewer_identity_id)
        .where(ContentReview.item_id == item.id)
        .order_by(ContentReview.id)
    ).all()
    primary = str(item.channels[0]) if item.channels else None
    for review, number, reviewer_id in reviews:
        credits.append(
            Credit(
                kind=REVIEWED,
                member_id=reviewer_id,
                key=f"{target}:review:{review.id}",
                occurred_at=review.at,
                contribution_type="review",
                title=item.title,
                target=target,
                channel=primary,
                parent=parent,
                object_member_id=first_author,
                attributes={
                    "item_id": item.id,
                    "item_kind": item.kind,
                    "round": number,
                    "verdict": review.verdict,
                },
            )
        )
    return credits


def _same(session: Session, activity: Activity, credit: Credit) -> bool:
    actor = core.member_identity(session, credit.member_id).id
    obj = (
        core.member_identity(session, credit.object_member_id).id
        if credit.object_member_id is not None
        else None
    )
    return (
        activity.kind == credit.kind
        and activity.occurred_at == credit.occurred_at
        and activity.actor_identity_id == actor
        and activity.object_identity_id == obj
        and activity.channel == credit.channel
        and activity.target == credit.target
        and activity.parent == credit.parent
        and activity.title == credit.title
        and activity.contribution_type == credit.contribution_type
        and dict(activity.attributes or {}) == credit.attributes
    )


@dataclass
class CreditChanges:
    emitted: int = 0
    removed: int = 0


def sync_credits(session: Session, item: ContentItem) -> CreditChanges:
    """Make the activity stream hold exactly what ``item`` has earned (see the module
    docstring); returns how many activities were emitted and removed."""
    changes = CreditChanges()
    session.flush()
    source = core.ops_source(session)
    want = {c.key: c for c in wanted(session, item)}
    prefix = key_prefix(item.id)
    stored = session.execute(
        select(Activity).where(
            Activity.source_id == source.id, Activity.item_key.startswith(prefix, autoescape=True)
        )
    ).scalars()
    stale = [
        a.id for a in stored if a.item_key not in want or not _same(session, a, want[a.item_key])
    ]
    if stale:
        session.execute(delete(Activity).where(Activity.id.in_(stale)))
        changes.removed = len(stale)
    for credit in want.values():
        existing = session.execute(
            select(Activity.id).where(
                Activity.source_id == source.id, Activity.item_key == credit.key
            )
        ).scalar_one_or_none()
        if existing is not None:
            continue
        core.emit(
            session,
            kind=credit.kind,
            member_id=credit.member_id,
            key=credit.key,
            occurred_at=credit.occurred_at,
            channel=credit.channel,
            target=credit.target,
            parent=credit.parent,
            title=credit.title,
            contribution_type=credit.contribution_type,
            object_member_id=credit.object_member_id,
            attributes=credit.attributes,
        )
        changes.emitted += 1
    return changes
