"""Volunteer shifts: roles with a time and how many people they need, sign-ups, and who came.

``add_shift`` → ``sign_up`` (refused once the shift has as many sign-ups as it needs: the
organisers raise ``needed`` first if they want more) → ``mark_attended`` (credits
``event:volunteered``, contribution ``eventOrganizing``) or ``mark_no_show``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commops.clock import utcnow
from commops.errors import StateConflict, UsageError
from commops.ops import core
from commops.ops.events.events import get_event
from commops.ops.events.models import Event, EventShift, EventSignup
from commops.ops.events.rules import (
    CONTRIBUTION_TYPES,
    RECORD_SHIFT,
    RECORD_SIGNUP,
    SIGNUP_FLOW,
    VOLUNTEERED,
    member_label,
    member_of,
)
from commops.store.models import Identity


def get_shift(session: Session, ref: int | str) -> EventShift:
    text = str(ref).strip().removeprefix("#")
    shift = session.get(EventShift, int(text)) if text.isdigit() else None
    if shift is None:
        raise UsageError(f"no shift {str(ref)!r}", hint="See `commops events shifts EVENT`.")
    return shift


def add_shift(
    session: Session,
    event_ref: int | str,
    *,
    role: str,
    starts_at: datetime,
    ends_at: datetime,
    needed: int,
    actor: str,
) -> EventShift:
    """A shift for a role (registration desk, streaming, ...) needing ``needed`` people."""
    event = get_event(session, event_ref)
    if event.state != "planned":
        raise StateConflict(f"event {event.slug} is {event.state}: no new shifts")
    clean = " ".join(role.split())
    if not clean:
        raise UsageError("role: the role is empty")
    if needed < 1:
        raise UsageError(f"needed: a shift needs at least 1 person, got {needed}")
    if ends_at <= starts_at:
        raise UsageError("end: the shift ends before it starts")
    shift = EventShift(
        event_id=event.id, role=clean, starts_at=starts_at, ends_at=ends_at, needed=needed
    )
    session.add(shift)
    session.flush()
    core.record(
        session,
        actor=actor,
        record_type=RECORD_SHIFT,
        record_id=shift.id,
        action="added",
        details={"event": event.slug, "role": clean, "needed": needed},
    )
    return shift


def set_needed(session: Session, ref: int | str, needed: int, *, actor: str) -> EventShift:
    """Change how many people a shift needs (never below its sign-ups)."""
    shift = get_shift(session, ref)
    taken = signup_count(session, shift.id)
    if needed < max(1, taken):
        raise UsageError(
            f"needed: shift {shift.id} has {taken} sign-ups; it cannot need fewer than that"
        )
    before = shift.needed
    shift.needed = needed
    core.record(
        session,
        actor=actor,
        record_type=RECORD_SHIFT,
        record_id=shift.id,
        action="needed_changed",
        details={"before": before, "after": needed},
    )
    return shift


def signup_count(session: Session, shift_id: int) -> int:
    return int(
        session.execute(
            select(func.count()).select_from(EventSignup).where(EventSignup.shift_id == shift_id)
        ).scalar_one()
    )


def shifts_of(session: Session, event_id: int) -> list[EventShift]:
    return list(
        session.execute(
            select(EventShift)
            .where(EventShift.event_id == event_id)
            .order_by(EventShift.starts_at, EventShift.id)
        ).scalars()
    )


def signups_of(session: Session, shift_id: int) -> list[EventSignup]:
    return list(
        session.execute(
            select(EventSignup).where(EventSignup.shift_id == shift_id).order_by(EventSignup.id)
        ).scalars()
    )


def _signup(session: Session, shift: EventShift, member_id: int) -> EventSignup | None:
    idents = select(Identity.id).where(Identity.member_id == member_id)
    return session.execute(
        select(EventSignup).where(
            EventSignup.shift_id == shift.id, EventSignup.identity_id.in_(idents)
        )
    ).scalar_one_or_none()


def sign_up(session: Session, ref: int | str, member: int | str, *, actor: str) -> EventSignup:
    """Sign a member up for a shift. Refused when the shift is full (as many sign-ups as it
    needs) or the member is signed up already."""
    shift = get_shift(session, ref)
    event = session.get(Event, shift.event_id)
    assert event is not None
    if event.state != "planned":
        raise StateConflict(f"event {event.slug} is {event.state}: sign-ups are closed")
    mid = core.require_member(session, member, field="volunteer")
    if _signup(session, shift, mid) is not None:
        raise StateConflict(
            f"volunteer: {member_label(session, mid)} is already signed up for shift {shift.id}"
        )
    taken = signup_count(session, shift.id)
    if taken >= shift.needed:
        raise StateConflict(
            f"shift {shift.id} ({shift.role}) is full: {taken} of {shift.needed} signed up",
            hint=f"Raise what it needs first: `commops events shift-needed {shift.id} N`.",
        )
    row = EventSignup(
        shift_id=shift.id,
        identity_id=core.member_identity(session, mid).id,
        state="signed_up",
        signed_up_at=utcnow(),
    )
    session.add(row)
    session.flush()
    core.record(
        session,
        actor=actor,
        record_type=RECORD_SIGNUP,
        record_id=row.id,
        action="signed_up",
        to_state="signed_up",
        details={"shift": shift.id, "member": mid},
    )
    return row


def _move(
    session: Session, ref: int | str, member: int | str, target: str, *, actor: str
) -> tuple[EventShift, EventSignup, int]:
    shift = get_shift(session, ref)
    mid = core.require_member(session, member, field="volunteer")
    row = _signup(session, shift, mid)
    if row is None:
        raise UsageError(
            f"volunteer: {member_label(session, mid)} is not signed up for shift {shift.id}"
        )
    core.check_transition(f"sign-up {row.id}", row.state, target, SIGNUP_FLOW)
    before = row.state
    row.state = target
    core.record(
        session,
        actor=actor,
        record_type=RECORD_SIGNUP,
        record_id=row.id,
        action=target,
        from_state=before,
        to_state=target,
        details={"shift": shift.id, "member": mid},
    )
    return shift, row, mid


def mark_attended(
    session: Session, ref: int | str, member: int | str, *, actor: str
) -> EventSignup:
    """signed_up → attended: the volunteer did the shift (``event:volunteered``)."""
    shift, row, mid = _move(session, ref, member, "attended", actor=actor)
    event = session.get(Event, shift.event_id)
    assert event is not None
    core.emit(
        session,
        kind=VOLUNTEERED,
        member_id=mid,
        key=f"event:{event.id}:shift:{shift.id}:volunteered:{row.id}",
        occurred_at=shift.starts_at,
        channel=event.slug,
        target=f"event:{event.id}",
        title=f"{shift.role} at {event.title}",
        contribution_type=CONTRIBUTION_TYPES[VOLUNTEERED],
        attributes={"event": event.slug, "role": shift.role, "shift": shift.id},
    )
    return row


def mark_no_show(session: Session, ref: int | str, member: int | str, *, actor: str) -> EventSignup:
    """signed_up → no_show: the volunteer did not come."""
    return _move(session, ref, member, "no_show", actor=actor)[1]


@dataclass
class ShiftView:
    id: int
    role: str
    starts_at: str
    ends_at: str
    needed: int
    signed_up: int
    volunteers: list[dict[str, object]]


def shift_views(session: Session, event_ref: int | str) -> list[ShiftView]:
    """The event's shifts with who signed up and their state."""
    event = get_event(session, event_ref)
    out: list[ShiftView] = []
    for shift in shifts_of(session, event.id):
        rows = signups_of(session, shift.id)
        out.append(
            ShiftView(
                id=shift.id,
                role=shift.role,
                starts_at=shift.starts_at.isoformat(sep=" "),
                ends_at=shift.ends_at.isoformat(sep=" "),
                needed=shift.needed,
                signed_up=len(rows),
                volunteers=[
                    {
                        "member": member_label(session, member_of(session, r.identity_id)),
                        "state": r.state,
                    }
                    for r in rows
                ],
            )
        )
    return out
