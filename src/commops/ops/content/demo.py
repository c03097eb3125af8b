"""Demo data for the content pipeline: a handful of items in every state, written through the
domain functions (so the audit log, review rounds and credits are as real use makes them).
``commops demo`` calls ``seed`` after it has made the demo members."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from commops.clock import utcnow
from commops.config import Config
from commops.ops.content import items
from commops.store.models import Member

# (title, kind, language, channels, tags, the state it is taken to)
ITEMS = (
    (
        "Running the platform on ARM servers: a field report",
        "article",
        "en",
        ["blog"],
        ["arm"],
        "pitch",
    ),
    (
        "How a logistics company cut its deploy time in half",
        "case",
        "en",
        ["blog", "wechat"],
        ["case"],
        "accepted",
    ),
    ("Your first plugin in thirty minutes", "tutorial", "en", ["blog"], ["plugins"], "drafting"),
    (
        "Observability without the pain: a tour of the new dashboards",
        "article",
        "en",
        ["blog"],
        ["observability"],
        "in_review",
    ),
    (
        "From user to maintainer: one contributor's story",
        "story",
        "en",
        ["blog", "wechat"],
        ["community"],
        "in_review",
    ),
    ("Multi-cluster networking explained", "article", "en", ["blog"], ["networking"], "approved"),
    ("多集群网络详解", "translation", "zh", ["wechat"], ["networking"], "scheduled"),
    (
        "Upgrading to the 4.x release without downtime",
        "tutorial",
        "en",
        ["blog", "zhihu"],
        ["upgrade"],
        "published",
    ),
    (
        "A video walkthrough of the installer",
        "video",
        "en",
        ["bilibili"],
        ["installer"],
        "withdrawn",
    ),
)


def _people(session: Session) -> list[int]:
    return list(
        session.execute(
            select(Member.id)
            .where(Member.is_bot.is_(False), Member.is_staff.is_(False))
            .order_by(Member.id)
        ).scalars()
    )


def seed(session: Session, rng: random.Random, *, actor: str) -> None:
    """Nine items, one or two in each state, with authors and reviewers drawn from the
    workspace's members (people, not bots; reviewers not staff, so the approval rule can be
    met)."""
    people = _people(session)
    if len(people) < 6:
        return
    approvals = Config().content_approvals
    made: dict[str, int] = {}
    today = utcnow().date()
    for n, (title, kind, language, channels, tags, target) in enumerate(ITEMS):
        chosen = rng.sample(people, 2 + approvals)
        author, reviewers = chosen[0], chosen[1 : 1 + max(approvals, 1) + 1]
        item = items.add_item(
            session,
            title=title,
            kind=kind,
            authors=[author],
            language=language,
            channels=channels,
            tags=tags,
            translation_of=made.get("Multi-cluster networking explained")
            if kind == "translation"
            else None,
            summary=f"{title}.",
            actor=actor,
        )
        made[title] = item.id
        if target == "withdrawn":
            items.withdraw(
                session, item.id, reason="The release it covered was cancelled.", actor=actor
            )
            continue
        if target == "pitch":
            continue
        items.accept(session, item.id, actor=actor)
        if target == "accepted":
            continue
        items.start_drafting(session, item.id, actor=actor)
        if target == "drafting":
            continue
        items.submit_for_review(
            session, item.id, reviewers, default_approvals=approvals, actor=actor
        )
        if target == "in_review":
            if n % 2:
                items.review(
                    session,
                    item.id,
                    reviewers[0],
                    "approve",
                    default_approvals=approvals,
                    actor=actor,
                )
            continue
        for reviewer in reviewers:
            outcome = items.review(
                session, item.id, reviewer, "approve", default_approvals=approvals, actor=actor
            )
            if outcome.state == "approved":
                break
        if target == "approved":
            continue
        if target == "scheduled":
            items.schedule(
                session, item.id, on=today + timedelta(days=7), channel=channels[0], actor=actor
            )
            continue
        items.publish(
            session,
            item.id,
            url=f"https://community.example.org/blog/{item.id}-demo",
            channel=channels[0],
            actor=actor,
        )
