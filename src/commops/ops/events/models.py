"""The events tables: events with their organisers and agenda, the call for proposals (with
speakers and reviews), registrations and check-in, and volunteer shifts with their sign-ups.

People are stored as *identities*: the member's ``commops`` identity (``core.member_identity``),
as the content pipeline does. Identities are never deleted and move with their person when
members are merged or split, so an event keeps its organisers, speakers, registrants and
volunteers through every change of who is who; the member is read through
``identities.member_id``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from commops.store.models import Base


class Event(Base):
    """A meetup, webinar, conference, workshop or hackathon, online or in a city.
    ``state`` is ``planned``, ``held`` or ``cancelled`` and changes only through the domain
    functions in ``commops.ops.events.events``."""

    __tablename__ = "events"
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20), index=True)
    starts_at: Mapped[datetime] = mapped_column(DateTime, index=True)  # UTC, naive
    ends_at: Mapped[datetime] = mapped_column(DateTime)
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    city: Mapped[str | None] = mapped_column(String(200), default=None)
    venue: Mapped[str | None] = mapped_column(Text, default=None)
    url: Mapped[str | None] = mapped_column(Text, default=None)
    description: Mapped[str | None] = mapped_column(Text, default=None)
    # Co-hosting partners by name (free text until partners are records of their own).
    partners: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime, default=None, index=True)


class EventOrganizer(Base):
    """An organiser of an event (the member's ``commops`` identity)."""

    __tablename__ = "event_organizers"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    identity_id: Mapped[int] = mapped_column(
        ForeignKey("identities.id"), primary_key=True, index=True
    )


class EventSession(Base):
    """One slot of the agenda: when, what, and who speaks (identity ids, in order)."""

    __tablename__ = "event_sessions"
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(DateTime)
    ends_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    title: Mapped[str] = mapped_column(String(500))
    speaker_identity_ids: Mapped[list[Any]] = mapped_column(default=list)


class EventProposal(Base):
    """A talk proposed in an event's call for proposals. ``state``: submitted → accepted |
    rejected | withdrawn; accepted → confirmed | withdrawn (pretalx's vocabulary)."""

    __tablename__ = "event_proposals"
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(500))
    abstract: Mapped[str | None] = mapped_column(Text, default=None)
    state: Mapped[str] = mapped_column(String(20), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class EventProposalSpeaker(Base):
    """A speaker of a proposal (the member's ``commops`` identity); position 0 first."""

    __tablename__ = "event_proposal_speakers"

    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("event_proposals.id", ondelete="CASCADE"), primary_key=True
    )
    identity_id: Mapped[int] = mapped_column(
        ForeignKey("identities.id"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)


class EventReview(Base):
    """A reviewer's score (0–5) and comment on a proposal: one per reviewer and proposal."""

    __tablename__ = "event_reviews"
    __table_args__ = (
        UniqueConstraint("proposal_id", "reviewer_identity_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("event_proposals.id", ondelete="CASCADE"), index=True
    )
    reviewer_identity_id: Mapped[int] = mapped_column(ForeignKey("identities.id"), index=True)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text, default=None)
    at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(200))


class EventRegistration(Base):
    """A person registered for an event, with what they told us (name, e-mail, organisation),
    whether they consent to their details going to the event's partners, and when they
    checked in. One per event and person: importing again updates."""

    __tablename__ = "event_registrations"
    __table_args__ = (
        UniqueConstraint("event_id", "identity_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    identity_id: Mapped[int] = mapped_column(ForeignKey("identities.id"), index=True)
    name: Mapped[str] = mapped_column(String(500))
    email: Mapped[str | None] = mapped_column(String(500), default=None)
    organisation: Mapped[str | None] = mapped_column(String(500), default=None)
    consent: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    origin: Mapped[str] = mapped_column(String(500))  # "direct" or "csv:<file name>"
    registered_at: Mapped[datetime] = mapped_column(DateTime)
    checked_in_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)


class EventShift(Base):
    """A volunteer shift: a role, a time and how many people it needs."""

    __tablename__ = "event_shifts"
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(DateTime)
    ends_at: Mapped[datetime] = mapped_column(DateTime)
    needed: Mapped[int] = mapped_column(Integer)


class EventSignup(Base):
    """A volunteer signed up for a shift: ``signed_up``, then ``attended`` or ``no_show``."""

    __tablename__ = "event_signups"
    __table_args__ = (
        UniqueConstraint("shift_id", "identity_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shift_id: Mapped[int] = mapped_column(
        ForeignKey("event_shifts.id", ondelete="CASCADE"), index=True
    )
    identity_id: Mapped[int] = mapped_column(ForeignKey("identities.id"), index=True)
    state: Mapped[str] = mapped_column(String(20))
    signed_up_at: Mapped[datetime] = mapped_column(DateTime)


TABLES = (
    "events",
    "event_organizers",
    "event_sessions",
    "event_proposals",
    "event_proposal_speakers",
    "event_reviews",
    "event_registrations",
    "event_shifts",
    "event_signups",
)
