"""Items as the command line, the API and reports show them: plain dicts, JSON-ready apart from
dates."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from commops.ops import core
from commops.ops.content import performance
from commops.ops.content.items import posts_of
from commops.ops.content.models import ContentItem, ContentReview, ContentRound
from commops.ops.content.rules import (
    RECORD_TYPE,
    approval_status,
    asked_reviewers,
    author_ids,
    required_approvals,
)
from commops.store.models import Identity, Member


def _people(session: Session, member_ids: list[int]) -> list[dict[str, Any]]:
    out = []
    for member_id in member_ids:
        member = session.get(Member, member_id)
        out.append(
            {
                "member_id": member_id,
                "display_name": member.display_name if member else None,
                "is_staff": bool(member.is_staff) if member else False,
            }
        )
    return out


def item_row(session: Session, item: ContentItem) -> dict[str, Any]:
    """An item in a line: what ``content list`` shows."""
    authors = _people(session, author_ids(session, item.id))
    return {
        "id": item.id,
        "kind": item.kind,
        "title": item.title,
        "state": item.state,
        "language": item.language,
        "authors": [a["display_name"] for a in authors],
        "author_ids": [a["member_id"] for a in authors],
        "channels": list(item.channels or []),
        "tags": list(item.tags or []),
        "project": item.project,
        "release": item.release,
        "translation_of": item.translation_of_id,
        "published_at": item.published_at,
        "url": item.url,
        "updated_at": item.updated_at,
        "deleted": item.deleted_at is not None,
    }


def _rounds(session: Session, item: ContentItem, default_approvals: int) -> list[dict[str, Any]]:
    rounds = session.execute(
        select(ContentRound).where(ContentRound.item_id == item.id).order_by(ContentRound.number)
    ).scalars()
    out = []
    for rnd in rounds:
        reviews = session.execute(
            select(ContentReview, Identity.member_id)
            .join(Identity, Identity.id == ContentReview.reviewer_identity_id)
            .where(ContentReview.round_id == rnd.id)
            .order_by(ContentReview.id)
        ).all()
        status = approval_status(session, item, rnd, default_approvals)
        out.append(
            {
                "number": rnd.number,
                "outcome": rnd.outcome,
                "opened_at": rnd.opened_at,
                "opened_by": rnd.opened_by,
                "closed_at": rnd.closed_at,
                "reviewers": _people(session, asked_reviewers(session, rnd.id)),
                "reviews": [
                    {
                        "id": r.id,
                        "reviewer_id": reviewer_id,
                        "reviewer": _people(session, [reviewer_id])[0]["display_name"],
                        "verdict": r.verdict,
                        "message": r.body,
                        "at": r.at,
                        "actor": r.actor,
                    }
                    for r, reviewer_id in reviews
                ],
                "approvals": len(status.approvers),
                "approvals_required": status.required,
                "non_staff_approvals": len(status.non_staff),
                "rule_met": status.met,
                "missing": None if status.met else status.shortfall(),
            }
        )
    return out


def item_detail(session: Session, item: ContentItem, default_approvals: int) -> dict[str, Any]:
    """Everything about an item: its fields, authors, review rounds with the rule's standing,
    posts, translations, performance and audit log."""
    translations = list(
        session.execute(
            select(ContentItem.id)
            .where(ContentItem.translation_of_id == item.id, ContentItem.deleted_at.is_(None))
            .order_by(ContentItem.id)
        ).scalars()
    )
    perf = performance.by_item(session, [item.id])
    return {
        **item_row(session, item),
        "authors": _people(session, author_ids(session, item.id)),
        "summary": item.summary,
        "slug": item.slug,
        "import_key": item.import_key,
        "approvals_required": required_approvals(item, default_approvals),
        "approvals_override": item.approvals_required,
        "withdrawn_reason": item.withdrawn_reason,
        "created_at": item.created_at,
        "deleted_at": item.deleted_at,
        "attributes": dict(item.attributes or {}),
        "translations": translations,
        "rounds": _rounds(session, item, default_approvals),
        "posts": [
            {
                "channel": p.channel,
                "state": p.state,
                "scheduled_on": p.scheduled_on,
                "published_at": p.published_at,
                "url": p.url,
            }
            for p in posts_of(session, item.id)
        ],
        "performance": perf[0] if perf else None,
        "log": log_rows(session, item.id),
    }


def log_rows(session: Session, item_id: int) -> list[dict[str, Any]]:
    """The item's audit log, oldest first."""
    return [
        {
            "at": e.at,
            "actor": e.actor,
            "action": e.action,
            "from_state": e.from_state,
            "to_state": e.to_state,
            "reason": e.reason,
            "details": dict(e.details or {}),
        }
        for e in core.history(session, RECORD_TYPE, item_id)
    ]
