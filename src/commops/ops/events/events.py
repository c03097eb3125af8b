"""Events and every move they make, one domain function per transition.

``add_event`` (planned, with organisers and co-hosting partners) → ``hold_event`` (it
happened: organisers are credited ``event:organized``, confirmed speakers ``event:spoke``,
checked-in attendees ``event:attended``) or ``cancel_event``. The agenda is edited with
``add_session``; ``delete_event`` / ``restore_event`` are soft and audited.

All functions work in the caller's session, check before they write, log to the audit log
(``core.record``) and never print or commit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from commops.clock import utcnow
from commops.errors import StateConflict, UsageError
from commops.ops import core
from commops.ops.events.models import (
    Event,
    EventOrganizer,
    EventProposal,
    EventProposalSpeaker,
    EventRegistration,
    EventSession,
)
from commops.ops.events.rules import (
    ATTENDED,
    CONTRIBUTION_TYPES,
    EVENT_FLOW,
    KINDS,
    ORGANIZED,
    RECORD_EVENT,
    SPOKE,
    member_of,
)

MAX_TITLE = 500


def get_event(session: Session, ref: int | str, *, include_deleted: bool = False) -> Event:
    """The event ``ref`` names: its id or its slug. A deleted event only with
    ``include_deleted``."""
    text = str(ref).strip().removeprefix("#")
    event: Event | None = None
    if text.isdigit():
        event = session.get(Event, int(text))
    if event is None and text:
        event = session.execute(select(Event).where(Event.slug == text)).scalar_one_or_none()
    if event is None:
        raise UsageError(f"no event {str(ref)!r}", hint="See `commops events list`.")
    if event.deleted_at is not None and not include_deleted:
        raise UsageError(
            f"event {event.slug} is deleted",
            hint=f"Restore it first: `commops events restore {event.slug}`.",
        )
    return event


def list_events(
    session: Session, *, state: str | None = None, include_deleted: bool = False
) -> list[Event]:
    """Events, soonest first (by start)."""
    query = select(Event).order_by(Event.starts_at, Event.id)
    if state is not None:
        if state not in EVENT_FLOW:
            raise UsageError(f"state: {state!r} is not an event state", hint=", ".join(EVENT_FLOW))
        query = query.where(Event.state == state)
    if not include_deleted:
        query = query.where(Event.deleted_at.is_(None))
    return list(session.execute(query).scalars())


def slugify(title: str, starts_at: datetime) -> str:
    """``2026-03-14-rust-meetup``: the start day and the title's words, ASCII, dashed."""
    words = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:80].strip("-")
    return f"{starts_at:%Y-%m-%d}-{words}" if words else f"{starts_at:%Y-%m-%d}-event"


def _title(value: str) -> str:
    title = " ".join(value.split())
    if not title:
        raise UsageError("title: the title is empty")
    if len(title) > MAX_TITLE:
        raise UsageError(f"title: longer than {MAX_TITLE} characters ({len(title)})")
    return title


def _optional(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip()
    return text or None


def organizer_ids(session: Session, event_id: int) -> list[int]:
    """The event's organisers as members (today's)."""
    rows = session.execute(
        select(EventOrganizer.identity_id).where(EventOrganizer.event_id == event_id)
    ).scalars()
    return sorted({member_of(session, i) for i in rows})


def add_event(
    session: Session,
    *,
    title: str,
    kind: str,
    starts_at: datetime,
    ends_at: datetime,
    actor: str,
    online: bool = False,
    city: str | None = None,
    venue: str | None = None,
    url: str | None = None,
    description: str | None = None,
    organizers: Sequence[int | str] = (),
    partners: Sequence[str] = (),
    slug: str | None = None,
) -> Event:
    """A new, planned event. It is ``online`` or in a ``city``; ``organizers`` are members,
    ``partners`` co-hosting organisations by name."""
    clean_title = _title(title)
    clean_kind = kind.strip().lower()
    if clean_kind not in KINDS:
        raise UsageError(f"kind: {kind!r} is not an event kind", hint=f"Kinds: {', '.join(KINDS)}.")
    if ends_at < starts_at:
        raise UsageError(f"end: {ends_at:%Y-%m-%d %H:%M} is before the start")
    clean_city = _optional(city)
    if not online and clean_city is None:
        raise UsageError(
            "city: an event in person takes place in a city", hint="Give --city or --online."
        )
    clean_url = _optional(url)
    if clean_url is not None and not clean_url.startswith(("http://", "https://")):
        raise UsageError(f"url: {url!r} is not an http(s) URL")
    the_slug = _optional(slug) or slugify(clean_title, starts_at)
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", the_slug) or the_slug.isdigit():
        raise UsageError(f"slug: {the_slug!r}: use lowercase letters, digits and dashes")
    if session.execute(select(Event.id).where(Event.slug == the_slug)).first() is not None:
        raise StateConflict(f"slug: an event {the_slug!r} exists already", hint="Give --slug.")
    member_ids: list[int] = []
    for ref in organizers:
        mid = core.require_member(session, ref, field="organizer")
        if mid not in member_ids:
            member_ids.append(mid)
    partner_names: list[str] = []
    for name in partners:
        clean = " ".join(name.split())
        if not clean:
            raise UsageError("partner: an empty partner name")
        if clean not in partner_names:
            partner_names.append(clean)
    now = utcnow()
    event = Event(
        slug=the_slug,
        title=clean_title,
        kind=clean_kind,
        state="planned",
        starts_at=starts_at,
        ends_at=ends_at,
        online=online,
        city=clean_city,
        venue=_optional(venue),
        url=clean_url,
        description=_optional(description),
        partners=partner_names,
        created_at=now,
        updated_at=now,
    )
    session.add(event)
    session.flush()
    for mid in member_ids:
        session.add(
            EventOrganizer(event_id=event.id, identity_id=core.member_identity(session, mid).id)
        )
    session.flush()
    core.record(
        session,
        actor=actor,
        record_type=RECORD_EVENT,
        record_id=event.id,
        action="planned",
        to_state="planned",
        details={"title": clean_title, "organizers": member_ids, "partners": partner_names},
    )
    return event


def add_organizer(session: Session, ref: int | str, member: int | str, *, actor: str) -> Event:
    """One more organiser of an event that is not over."""
    event = get_event(session, ref)
    if event.state == "cancelled":
        raise UsageError(f"event {event.slug} is cancelled")
    mid = core.require_member(session, member, field="organizer")
    if mid in organizer_ids(session, event.id):
        raise StateConflict(f"organizer: member {mid} already organises {event.slug}")
    session.add(
        EventOrganizer(event_id=event.id, identity_id=core.member_identity(session, mid).id)
    )
    session.flush()
    if event.state == "held":
        _credit(session, event, ORGANIZED, mid, f"event:{event.id}:organized:{mid}")
    core.record(
        session,
        actor=actor,
        record_type=RECORD_EVENT,
        record_id=event.id,
        action="organizer_added",
        details={"member": mid},
    )
    return event


def add_session(
    session: Session,
    ref: int | str,
    *,
    title: str,
    starts_at: datetime,
    actor: str,
    ends_at: datetime | None = None,
    speakers: Sequence[int | str] = (),
) -> EventSession:
    """A slot of the agenda, within the event's time."""
    event = get_event(session, ref)
    clean = _title(title)
    if not event.starts_at <= starts_at <= event.ends_at:
        raise UsageError(
            f"at: {starts_at:%Y-%m-%d %H:%M} is outside the event "
            f"({event.starts_at:%Y-%m-%d %H:%M} – {event.ends_at:%Y-%m-%d %H:%M} UTC)"
        )
    if ends_at is not None and not starts_at <= ends_at <= event.ends_at:
        raise UsageError(f"end: {ends_at:%Y-%m-%d %H:%M} is outside the session or the event")
    ids: list[int] = []
    for sref in speakers:
        mid = core.require_member(session, sref, field="speaker")
        ident = core.member_identity(session, mid).id
        if ident not in ids:
            ids.append(ident)
    row = EventSession(
        event_id=event.id,
        starts_at=starts_at,
        ends_at=ends_at,
        title=clean,
        speaker_identity_ids=ids,
    )
    session.add(row)
    session.flush()
    core.record(
        session,
        actor=actor,
        record_type=RECORD_EVENT,
        record_id=event.id,
        action="session_added",
        details={"session": row.id, "title": clean},
    )
    return row


def agenda(session: Session, event_id: int) -> list[EventSession]:
    """The agenda in time order."""
    return list(
        session.execute(
            select(EventSession)
            .where(EventSession.event_id == event_id)
            .order_by(EventSession.starts_at, EventSession.id)
        ).scalars()
    )


def _move(session: Session, event: Event, target: str, *, actor: str, reason: str | None) -> None:
    core.check_transition(f"event {event.slug}", event.state, target, EVENT_FLOW)
    before = event.state
    event.state = target
    event.updated_at = utcnow()
    core.record(
        session,
        actor=actor,
        record_type=RECORD_EVENT,
        record_id=event.id,
        action=target,
        from_state=before,
        to_state=target,
        reason=reason,
    )


def _credit(session: Session, event: Event, kind: str, member_id: int, key: str) -> None:
    core.emit(
        session,
        kind=kind,
        member_id=member_id,
        key=key,
        occurred_at=event.starts_at,
        channel=event.slug,
        target=f"event:{event.id}",
        title=event.title,
        contribution_type=CONTRIBUTION_TYPES[kind],
        attributes={"event": event.slug, "event_kind": event.kind},
    )


def confirmed_speakers(session: Session, event_id: int) -> list[int]:
    """Members who speak in a confirmed proposal of the event."""
    rows = session.execute(
        select(EventProposalSpeaker.identity_id)
        .join(EventProposal, EventProposal.id == EventProposalSpeaker.proposal_id)
        .where(EventProposal.event_id == event_id, EventProposal.state == "confirmed")
    ).scalars()
    return sorted({member_of(session, i) for i in rows})


def credit_event(session: Session, event: Event) -> int:
    """Emit the activities of a held event (organisers, confirmed speakers, checked-in
    attendees); idempotent, returns how many people are credited."""
    count = 0
    for mid in organizer_ids(session, event.id):
        _credit(session, event, ORGANIZED, mid, f"event:{event.id}:organized:{mid}")
        count += 1
    for mid in confirmed_speakers(session, event.id):
        _credit(session, event, SPOKE, mid, f"event:{event.id}:spoke:{mid}")
        count += 1
    for reg in session.execute(
        select(EventRegistration).where(
            EventRegistration.event_id == event.id, EventRegistration.checked_in_at.is_not(None)
        )
    ).scalars():
        mid = member_of(session, reg.identity_id)
        _credit(session, event, ATTENDED, mid, f"event:{event.id}:attended:{reg.id}")
        count += 1
    return count


def hold_event(session: Session, ref: int | str, *, actor: str, reason: str | None = None) -> Event:
    """planned → held: the event took place. Credits organisers (``event:organized``),
    confirmed speakers (``event:spoke``) and checked-in attendees (``event:attended``)."""
    event = get_event(session, ref)
    _move(session, event, "held", actor=actor, reason=reason)
    credit_event(session, event)
    return event


def cancel_event(session: Session, ref: int | str, *, actor: str, reason: str | None) -> Event:
    """planned → cancelled: it will not take place."""
    event = get_event(session, ref)
    _move(session, event, "cancelled", actor=actor, reason=reason)
    return event


def delete_event(session: Session, ref: int | str, *, actor: str, reason: str | None) -> Event:
    """Hide an event (soft, audited; ``restore_event`` brings it back)."""
    event = get_event(session, ref)
    core.soft_delete(session, event, RECORD_EVENT, actor=actor, reason=reason)
    return event


def restore_event(session: Session, ref: int | str, *, actor: str, reason: str | None) -> Event:
    """Bring back a deleted event."""
    event = get_event(session, ref, include_deleted=True)
    core.restore(session, event, RECORD_EVENT, actor=actor, reason=reason)
    return event
