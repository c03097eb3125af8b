"""The vocabulary of the events workflow: kinds, state machines, activity kinds, and how a
person stored as an identity is read back as a member."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from commops.errors import UsageError
from commops.store.models import Identity, Member

KINDS = ("meetup", "webinar", "conference", "workshop", "hackathon")

RECORD_EVENT = "event"
RECORD_PROPOSAL = "event_proposal"
RECORD_REGISTRATION = "event_registration"
RECORD_SHIFT = "event_shift"
RECORD_SIGNUP = "event_signup"

# An event is planned, then held (which credits its organisers and speakers) or cancelled.
EVENT_FLOW: dict[str, tuple[str, ...]] = {
    "planned": ("held", "cancelled"),
    "held": (),
    "cancelled": (),
}

# pretalx's vocabulary for a proposal's life.
PROPOSAL_FLOW: dict[str, tuple[str, ...]] = {
    "submitted": ("accepted", "rejected", "withdrawn"),
    "accepted": ("confirmed", "withdrawn"),
    "rejected": (),
    "confirmed": (),
    "withdrawn": (),
}

# A volunteer's sign-up: they came, or they did not.
SIGNUP_FLOW: dict[str, tuple[str, ...]] = {
    "signed_up": ("attended", "no_show"),
    "attended": (),
    "no_show": (),
}

MIN_SCORE = 0
MAX_SCORE = 5

# Activities the workflow emits, with their all-contributors contribution type.
ATTENDED = "event:attended"  # a checked-in attendee: taking part, not a contribution
SPOKE = "event:spoke"  # a confirmed speaker of a held event
ORGANIZED = "event:organized"  # an organiser of a held event
VOLUNTEERED = "event:volunteered"  # a volunteer who came to their shift
CONTRIBUTION_TYPES: dict[str, str | None] = {
    ATTENDED: None,
    SPOKE: "talk",
    ORGANIZED: "eventOrganizing",
    VOLUNTEERED: "eventOrganizing",
}


def member_of(session: Session, identity_id: int) -> int:
    """The member an identity belongs to today."""
    ident = session.get(Identity, identity_id)
    if ident is None:
        raise UsageError(f"no identity {identity_id}")
    return ident.member_id


def member_label(session: Session, member_id: int) -> str:
    """``Name (member 12)``, for messages and tables."""
    member = session.get(Member, member_id)
    name = member.display_name if member is not None else "?"
    return f"{name} (member {member_id})"


def parse_when(value: str, field: str) -> datetime:
    """An ISO 8601 date-time (``2026-03-14T09:00``, ``2026-03-14 09:00+08:00``) as naive
    UTC; one without an offset is taken as UTC. A UsageError names ``field``."""
    text = value.strip()
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"{field}: {value!r} is not a date-time",
            hint="Use ISO 8601, e.g. 2026-03-14T09:00 (UTC) or 2026-03-14T17:00+08:00.",
        ) from None
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return when
