"""Demo data for product feedback: items from surveys, events and chats, grouped into themes
at every stage, written through the domain functions. ``commops demo`` calls ``seed`` after it
has made the demo members."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from commops.clock import utcnow
from commops.ops.feedback import items, suggestions, themes
from commops.store.models import Member

# theme title, product area, the state it reaches, and the items people raised
THEMES = (
    (
        "Dark mode for the console",
        "console",
        "in_progress",
        (
            "Please add a dark mode",
            "The console is too bright at night",
            "Dark theme for the web console",
        ),
    ),
    (
        "Offline installation",
        "installer",
        "planned",
        ("Install without internet access", "Air-gapped install guide and packages"),
    ),
    (
        "Chinese documentation for the API",
        "docs",
        "shipped",
        ("API reference in Chinese", "Translate the API docs"),
    ),
    ("Export dashboards as PDF", "console", "triaged", ("Export a dashboard to PDF",)),
    (
        "A mobile app",
        "console",
        "declined",
        ("Mobile app for alerts",),
    ),
)
UNTHEMED = (
    "Faster log search",
    "Better error message when the cluster is unreachable",
    "Support for ARM64 nodes in the installer",
    "Webhooks for audit events",
    "A dark mode for the web console, please",
)
ORIGINS = ("survey", "wechat", "event", "email", "manual")


def _people(session: Session) -> list[int]:
    return list(
        session.execute(
            select(Member.id).where(Member.is_bot.is_(False)).order_by(Member.id)
        ).scalars()
    )


def seed(session: Session, rng: random.Random, *, actor: str) -> None:
    """About fifteen items (most from known members, one anonymous) in five themes, one theme
    in each state from triaged to shipped or declined, a few items left for triage, and the
    suggested duplicates among them."""
    people = _people(session)
    if len(people) < 4:
        return
    now = utcnow()

    def raise_item(title: str, n: int) -> int:
        origin = ORIGINS[n % len(ORIGINS)]
        item = items.add_item(
            session,
            title=title,
            body=f"{title}. We would use it every day.",
            origin=origin,
            channel={"survey": "user-survey-2026", "event": "Meetup Shanghai"}.get(origin),
            member=None if n == 3 else rng.choice(people),
            raised_at=now - timedelta(days=rng.randint(3, 90), hours=rng.randint(0, 23)),
            actor=actor,
        )
        return item.id

    n = 0
    for title, area, target, raised in THEMES:
        ids = []
        for text in raised:
            ids.append(raise_item(text, n))
            n += 1
        theme = themes.create_theme(session, title, product_area=area, items=ids, actor=actor)
        if target == "declined":
            themes.decline(
                session, theme.id, reason="The web console works on phones.", actor=actor
            )
            continue
        themes.triage(session, theme.id, actor=actor)
        if target == "triaged":
            continue
        themes.plan(session, theme.id, actor=actor)
        if target == "planned":
            continue
        themes.start(session, theme.id, actor=actor)
        if target == "in_progress":
            continue
        themes.ship(
            session,
            theme.id,
            link="https://community.example.org/releases/4.2",
            actor=actor,
        )
    for text in UNTHEMED:
        raise_item(text, n)
        n += 1
    suggestions.suggest(session)
