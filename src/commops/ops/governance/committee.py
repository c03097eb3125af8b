"""The user committee (or any committee): seats, terms on them (by election or appointment),
meetings and their minutes. One domain function per change, each audited with ``core.record``.

A term runs from ``start`` to ``end``, both days included; two terms on the same seat may not
share a day (a term may start the day after the previous one ends). Serving on a committee and
attending its meetings are not contributions counted by ladders, so nothing is emitted.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from commops.clock import utcnow
from commops.errors import StateConflict, UsageError
from commops.ops import core
from commops.ops.governance.models import Meeting, Seat, Term
from commops.store.models import Member

SEAT = "committee_seat"
TERM = "committee_term"
MEETING = "committee_meeting"
METHODS = ("election", "appointment")


def _name(value: str, field: str) -> str:
    text = " ".join(value.split())
    if not text:
        raise UsageError(f"{field}: empty")
    if len(text) > 200:
        raise UsageError(f"{field}: longer than 200 characters")
    return text


def add_seat(
    session: Session, committee: str, name: str, *, actor: str, description: str | None = None
) -> Seat:
    committee, name = _name(committee, "committee"), _name(name, "seat")
    found = session.execute(
        select(Seat).where(Seat.committee == committee, Seat.name == name)
    ).scalar_one_or_none()
    if found is not None:
        raise StateConflict(
            f"committee {committee!r} already has a seat {name!r} (seat {found.id})"
        )
    seat = Seat(committee=committee, name=name, description=description, created_at=utcnow())
    session.add(seat)
    session.flush()
    core.record(
        session,
        actor=actor,
        record_type=SEAT,
        record_id=seat.id,
        action="created",
        details={"committee": committee, "name": name},
    )
    return seat


def get_seat(session: Session, committee: str, name: str) -> Seat:
    seat = session.execute(
        select(Seat).where(Seat.committee == committee.strip(), Seat.name == name.strip())
    ).scalar_one_or_none()
    if seat is None:
        raise UsageError(
            f"committee {committee!r} has no seat {name!r}",
            hint="See `commops committee list`; add one with `commops committee seat add`.",
        )
    return seat


def add_term(
    session: Session,
    seat_id: int,
    member_id: int,
    start: date,
    end: date,
    *,
    method: str,
    actor: str,
    votes: int | None = None,
) -> Term:
    """A member's term on a seat; refused when it shares a day with another term there."""
    seat = session.get(Seat, seat_id)
    if seat is None:
        raise UsageError(f"no committee seat {seat_id}")
    member = session.get(Member, member_id)
    if member is None:
        raise UsageError(f"member: no member {member_id}")
    if member.is_bot:
        raise UsageError(f"member {member_id} ({member.display_name}) is a bot")
    if method not in METHODS:
        raise UsageError(f"method: {method!r} is not election or appointment")
    if end < start:
        raise UsageError(f"term: ends on {end} before it starts on {start}")
    if votes is not None and (method != "election" or votes < 0):
        raise UsageError("votes: only an election has votes, and not fewer than 0")
    for other in session.execute(select(Term).where(Term.seat_id == seat.id)).scalars():
        if other.start <= end and start <= other.end:
            holder = session.get(Member, other.member_id)
            raise UsageError(
                f"seat {seat.name!r} of {seat.committee!r}: the term {start} .. {end} overlaps "
                f"term {other.id} ({holder.display_name if holder else other.member_id}, "
                f"{other.start} .. {other.end})",
                hint=f"Start it on {other.end + timedelta(days=1)} or later, or end it before "
                f"{other.start}.",
            )
    term = Term(
        seat_id=seat.id,
        member_id=member_id,
        start=start,
        end=end,
        method=method,
        votes=votes,
        created_at=utcnow(),
    )
    session.add(term)
    session.flush()
    core.record(
        session,
        actor=actor,
        record_type=TERM,
        record_id=term.id,
        action=method,
        details={
            "seat_id": seat.id,
            "member_id": member_id,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "votes": votes,
        },
    )
    return term


def appoint(
    session: Session, seat_id: int, member_id: int, start: date, end: date, *, actor: str
) -> Term:
    """A term by appointment."""
    return add_term(session, seat_id, member_id, start, end, method="appointment", actor=actor)


def elect(
    session: Session,
    seat_id: int,
    member_id: int,
    start: date,
    end: date,
    *,
    actor: str,
    votes: int | None = None,
) -> Term:
    """A term by election (with the votes received, if known)."""
    return add_term(
        session, seat_id, member_id, start, end, method="election", actor=actor, votes=votes
    )


def add_meeting(
    session: Session,
    committee: str,
    held_on: date,
    title: str,
    *,
    actor: str,
    attendees: Sequence[int] = (),
) -> Meeting:
    committee = _name(committee, "committee")
    if session.execute(select(Seat.id).where(Seat.committee == committee)).first() is None:
        raise UsageError(f"no committee {committee!r}: add its seats first")
    for mid in attendees:
        if session.get(Member, mid) is None:
            raise UsageError(f"attendee: no member {mid}")
    meeting = Meeting(
        committee=committee,
        held_on=held_on,
        title=_name(title, "title"),
        attendees=sorted(set(attendees)),
        created_at=utcnow(),
    )
    session.add(meeting)
    session.flush()
    core.record(
        session,
        actor=actor,
        record_type=MEETING,
        record_id=meeting.id,
        action="held",
        details={"committee": committee, "held_on": held_on.isoformat()},
    )
    return meeting


def set_minutes(session: Session, meeting_id: int, text: str, *, actor: str) -> Meeting:
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise UsageError(f"no committee meeting {meeting_id}")
    if not text.strip():
        raise UsageError("minutes: empty")
    replaced = meeting.minutes is not None
    meeting.minutes = text
    core.record(
        session,
        actor=actor,
        record_type=MEETING,
        record_id=meeting.id,
        action="minutes_replaced" if replaced else "minutes_added",
    )
    return meeting


def members_on(session: Session, committee: str, day: date) -> list[tuple[Seat, Term]]:
    """The seats of ``committee`` and the terms running on ``day``."""
    rows = session.execute(
        select(Seat, Term)
        .join(Term, Term.seat_id == Seat.id)
        .where(Seat.committee == committee, Term.start <= day, Term.end >= day)
        .order_by(Seat.name)
    )
    return list(rows)
