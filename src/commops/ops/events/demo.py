"""Demo records for the events workflow, made through its domain functions.

``seed`` adds two past meetups (held: registrations, check-ins, a confirmed talk, volunteer
shifts with who came) inside the span of the demo's activities, so attribution has something
to measure, and one upcoming webinar with registrations and a submitted proposal. People are
existing demo members (registered with the e-mail they already have when they have one) plus a
few newcomers the community does not know yet.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commops.clock import utcnow
from commops.errors import UsageError
from commops.ops.events.events import add_event, add_session, hold_event
from commops.ops.events.proposals import accept_proposal, confirm_proposal, submit_proposal
from commops.ops.events.registrations import Person, check_in, register
from commops.ops.events.volunteers import add_shift, mark_attended, mark_no_show, sign_up
from commops.store.models import Activity, Identity, Member

NEWCOMERS = (
    ("Lin Qiao", "lin.qiao@example.org", "Zhejiang University"),
    ("Marta Ruiz", "marta.ruiz@example.org", None),
    ("Tomás Silva", "tomas.silva@example.org", "Cloud Natives Ltd"),
    ("Zhou Yan", "zhou.yan@example.org", None),
)


def _people(session: Session, rng: random.Random, count: int) -> list[tuple[int, str, str]]:
    """``count`` human demo members as (member id, name, e-mail), in a seeded random order."""
    rows = session.execute(
        select(Member.id, Member.display_name).where(Member.is_bot.is_(False)).order_by(Member.id)
    ).all()
    if len(rows) < count:
        raise UsageError(f"events demo: needs {count} members, the workspace has {len(rows)}")
    chosen = rng.sample(list(rows), count)
    out: list[tuple[int, str, str]] = []
    for mid, name in chosen:
        email = session.execute(
            select(Identity.value)
            .where(Identity.member_id == mid, Identity.kind == "email")
            .order_by(Identity.id)
        ).scalar()
        out.append((int(mid), str(name), str(email or f"member{mid}@example.org")))
    return out


def _anchor(session: Session) -> datetime:
    """The last day of the demo's activities (today when there are none)."""
    last: object = session.execute(select(func.max(Activity.occurred_at))).scalar()
    if isinstance(last, str):
        last = datetime.fromisoformat(last)
    when = last if isinstance(last, datetime) else utcnow()
    return when.replace(hour=0, minute=0, second=0, microsecond=0)


def _past_meetup(
    session: Session,
    rng: random.Random,
    *,
    title: str,
    city: str,
    starts: datetime,
    people: list[tuple[int, str, str]],
    newcomers: list[tuple[str, str, str | None]],
    actor: str,
) -> None:
    organizer, speaker, *others = people
    event = add_event(
        session,
        title=title,
        kind="meetup",
        starts_at=starts,
        ends_at=starts + timedelta(hours=3),
        actor=actor,
        city=city,
        venue="Community hub, 3rd floor",
        description="Talks and demos from the community, then pizza.",
        organizers=[organizer[0]],
        partners=["Cloud Natives Ltd"],
    )
    desk = add_shift(
        session,
        event.id,
        role="Registration desk",
        starts_at=starts - timedelta(minutes=30),
        ends_at=starts + timedelta(hours=1),
        needed=2,
        actor=actor,
    )
    stream = add_shift(
        session,
        event.id,
        role="Live stream",
        starts_at=starts,
        ends_at=starts + timedelta(hours=3),
        needed=1,
        actor=actor,
    )
    sign_up(session, desk.id, others[0][0], actor=actor)
    sign_up(session, desk.id, others[1][0], actor=actor)
    sign_up(session, stream.id, others[2][0], actor=actor)
    proposal = submit_proposal(
        session,
        event.id,
        title=f"What we learned running {city}'s clusters",
        speakers=[speaker[0]],
        abstract="Upgrades, multi-tenancy and the mistakes we made on the way.",
        actor=actor,
    )
    accept_proposal(session, proposal.id, actor=actor)
    confirm_proposal(session, proposal.id, actor=actor)
    add_session(
        session,
        event.id,
        title=proposal.title,
        starts_at=starts + timedelta(minutes=30),
        ends_at=starts + timedelta(hours=1, minutes=15),
        speakers=[speaker[0]],
        actor=actor,
    )
    registrations = []
    for _, name, email in others:
        registrations.append(
            register(
                session,
                event.id,
                Person(name=name, email=email, consent=rng.random() < 0.7),
                actor=actor,
            )
        )
    for name, email, org in newcomers:
        registrations.append(
            register(
                session,
                event.id,
                Person(name=name, email=email, organisation=org, consent=True),
                actor=actor,
            )
        )
    for reg in registrations:
        if rng.random() < 0.75:
            check_in(session, event.id, f"r{reg.id}", actor=actor, at=starts)
    hold_event(session, event.id, actor=actor)
    mark_attended(session, desk.id, others[0][0], actor=actor)
    mark_no_show(session, desk.id, others[1][0], actor=actor)
    mark_attended(session, stream.id, others[2][0], actor=actor)


def seed(session: Session, rng: random.Random, *, actor: str) -> None:
    """Two held meetups in the demo's past and one planned webinar ahead (see the module
    docstring); every record goes through the events domain functions."""
    last = _anchor(session)
    people = _people(session, rng, 26)
    _past_meetup(
        session,
        rng,
        title="Hangzhou Cloud Native Meetup",
        city="Hangzhou",
        starts=last - timedelta(days=150) + timedelta(hours=6),
        people=people[:12],
        newcomers=list(NEWCOMERS[:2]),
        actor=actor,
    )
    _past_meetup(
        session,
        rng,
        title="Shanghai Community Day",
        city="Shanghai",
        starts=last - timedelta(days=60) + timedelta(hours=6),
        people=people[12:22],
        newcomers=list(NEWCOMERS[2:]),
        actor=actor,
    )
    starts = utcnow().replace(hour=12, minute=0, second=0, microsecond=0) + timedelta(days=21)
    webinar = add_event(
        session,
        title="Release Webinar: What's New",
        kind="webinar",
        starts_at=starts,
        ends_at=starts + timedelta(hours=1, minutes=30),
        actor=actor,
        online=True,
        url="https://example.org/webinar",
        description="The maintainers walk through the release and answer questions.",
        organizers=[people[22][0]],
    )
    submit_proposal(
        session,
        webinar.id,
        title="Upgrading without downtime",
        speakers=[people[23][0]],
        abstract="A live upgrade of a production-like cluster.",
        actor=actor,
    )
    for _, name, email in people[24:]:
        register(session, webinar.id, Person(name=name, email=email, consent=True), actor=actor)
    register(
        session,
        webinar.id,
        Person(name="Ana Costa", email="ana.costa@example.org", organisation="Costa Labs"),
        actor=actor,
    )
