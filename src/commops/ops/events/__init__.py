"""Events and volunteers: meetups, webinars, conferences, workshops and hackathons with their
organisers, partners and agenda; the call for proposals with reviews; registrations (direct
or from CSV, matched to members), check-in and consent; volunteer shifts; the activities
they credit (``event:organized``, ``event:spoke``, ``event:attended``, ``event:volunteered``);
the follow-up list, attribution of first contributions, and iCalendar output. See
docs/events.md.

Importing this package imports its models, so their tables are known to the metadata whenever
the domain functions are used.
"""

from __future__ import annotations

from commops.ops.events.events import (
    add_event,
    add_organizer,
    add_session,
    agenda,
    cancel_event,
    credit_event,
    delete_event,
    get_event,
    hold_event,
    list_events,
    organizer_ids,
    restore_event,
)
from commops.ops.events.ical import calendar_text, parse_calendar, upcoming
from commops.ops.events.impact import Impact, event_impact, parse_windows
from commops.ops.events.models import (
    TABLES,
    Event,
    EventOrganizer,
    EventProposal,
    EventProposalSpeaker,
    EventRegistration,
    EventReview,
    EventSession,
    EventShift,
    EventSignup,
)
from commops.ops.events.proposals import (
    accept_proposal,
    confirm_proposal,
    get_proposal,
    list_proposals,
    reject_proposal,
    review_proposal,
    speaker_profile,
    submit_proposal,
    withdraw_proposal,
)
from commops.ops.events.registrations import (
    Person,
    attendee_export,
    check_in,
    follow_up,
    import_registrations,
    register,
    set_consent,
)
from commops.ops.events.rules import KINDS, PROPOSAL_FLOW
from commops.ops.events.volunteers import (
    add_shift,
    mark_attended,
    mark_no_show,
    set_needed,
    shift_views,
    sign_up,
)

__all__ = [
    "KINDS",
    "PROPOSAL_FLOW",
    "TABLES",
    "Event",
    "EventOrganizer",
    "EventProposal",
    "EventProposalSpeaker",
    "EventRegistration",
    "EventReview",
    "EventSession",
    "EventShift",
    "EventSignup",
    "Impact",
    "Person",
    "accept_proposal",
    "add_event",
    "add_organizer",
    "add_session",
    "add_shift",
    "agenda",
    "attendee_export",
    "calendar_text",
    "cancel_event",
    "check_in",
    "confirm_proposal",
    "credit_event",
    "delete_event",
    "event_impact",
    "follow_up",
    "get_event",
    "get_proposal",
    "hold_event",
    "import_registrations",
    "list_events",
    "list_proposals",
    "mark_attended",
    "mark_no_show",
    "organizer_ids",
    "parse_calendar",
    "parse_windows",
    "register",
    "reject_proposal",
    "restore_event",
    "review_proposal",
    "set_consent",
    "set_needed",
    "shift_views",
    "sign_up",
    "speaker_profile",
    "submit_proposal",
    "upcoming",
    "withdraw_proposal",
]
