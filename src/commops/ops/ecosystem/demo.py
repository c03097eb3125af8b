"""Demo records for the partner ecosystem, made through its domain functions.

``seed`` adds four partners: two linked to organizations the demo members are enrolled in (so
partner health counts their people's contributions), a university and a training institution,
with contacts, touches and collaborations in every state, one of them completed (which credits
its owner with ``partner:collaborated``).
"""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from commops.clock import utcnow
from commops.errors import UsageError
from commops.ops.ecosystem.partners import (
    add_collaboration,
    add_contact,
    add_link,
    add_outcome,
    add_partner,
    cancel_collaboration,
    complete_collaboration,
    pause_collaboration,
    start_collaboration,
    touch,
)
from commops.store.models import Member, Organization


def _members(session: Session, rng: random.Random, count: int) -> list[int]:
    ids = list(
        session.execute(
            select(Member.id).where(Member.is_bot.is_(False)).order_by(Member.id)
        ).scalars()
    )
    if len(ids) < count:
        raise UsageError(f"partners demo: needs {count} members, the workspace has {len(ids)}")
    return rng.sample(ids, count)


def _organization(session: Session, rng: random.Random, fallback: str) -> str:
    """The name of an organization of the demo (a seeded pick), else ``fallback``."""
    names = list(
        session.execute(
            select(Organization.name)
            .where(Organization.kind == "company")
            .order_by(Organization.id)
        ).scalars()
    )
    return rng.choice(names) if names else fallback


def seed(session: Session, rng: random.Random, *, actor: str) -> None:
    """Four partners with contacts, touches and collaborations (see the module docstring)."""
    people = _members(session, rng, 6)
    today = utcnow().date()
    org = _organization(session, rng, "Acme Cloud")
    vendor = add_partner(
        session,
        name=f"{org} (partner)",
        kind="company",
        organization=org,
        website="https://example.com",
        notes="Ships our project in their managed platform.",
        actor=actor,
    )
    add_contact(session, vendor.id, people[0], role="maintainer liaison", actor=actor)
    touch(
        session,
        vendor.id,
        kind="meeting",
        on=today - timedelta(days=12),
        note="Quarterly sync on the integration roadmap.",
        actor=actor,
    )
    integration = add_collaboration(
        session,
        vendor.id,
        kind="product-integration",
        title="Marketplace integration",
        owner=people[0],
        start=today - timedelta(days=200),
        actor=actor,
    )
    start_collaboration(session, integration.id, actor=actor)
    add_outcome(
        session,
        integration.id,
        "Listed in the partner marketplace",
        actor=actor,
        on=today - timedelta(days=90),
    )
    add_link(session, integration.id, url="https://example.com/marketplace", actor=actor)
    case = add_collaboration(
        session,
        vendor.id,
        kind="case-study",
        title="Case study: running at scale",
        owner=people[1],
        start=today - timedelta(days=120),
        actor=actor,
    )
    start_collaboration(session, case.id, actor=actor)
    add_outcome(session, case.id, "Published on both blogs, 3,200 reads", actor=actor)
    complete_collaboration(session, case.id, actor=actor)

    community = add_partner(
        session,
        name="Cloud Natives Ltd",
        kind="community",
        website="https://example.net",
        actor=actor,
    )
    add_contact(session, community.id, people[2], role="meetup organiser", actor=actor)
    hosted = add_collaboration(
        session,
        community.id,
        kind="co-hosted-event",
        title="Joint meetup series",
        owner=people[2],
        actor=actor,
    )
    start_collaboration(session, hosted.id, actor=actor)
    add_link(session, hosted.id, event="Shanghai Community Day", actor=actor)
    pause_collaboration(session, hosted.id, actor=actor, reason="Summer break")

    university = add_partner(
        session,
        name="Demo University",
        kind="university",
        organization="Demo University",
        actor=actor,
    )
    add_contact(session, university.id, people[3], role="professor", actor=actor)
    touch(session, university.id, kind="email", on=today - timedelta(days=140), actor=actor)
    add_collaboration(
        session,
        university.id,
        kind="course",
        title="Cloud native course, spring term",
        owner=people[4],
        actor=actor,
    )

    school = add_partner(
        session, name="Open Skills Academy", kind="training-institution", actor=actor
    )
    sponsorship = add_collaboration(
        session, school.id, kind="sponsorship", title="Certification vouchers", actor=actor
    )
    cancel_collaboration(session, sponsorship.id, actor=actor, reason="Budget moved")
    touch(
        session,
        school.id,
        kind="call",
        on=today - timedelta(days=3),
        actor=actor,
        note="They would like to try again next year.",
    )
