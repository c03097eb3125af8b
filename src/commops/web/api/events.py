"""``/api/v1/events``: events, their registrations and check-in, the call for proposals,
volunteer shifts and attribution (impact).

The read shapes here (``EventOut``, ``RegistrationOut``, ...) and the lookups that answer 404
for a missing record are shared with the pages (``commops.web.views.events``); every change
goes through the events domain functions (``commops.ops.events``) with the caller as actor.
Registrants' e-mail addresses are personal data: only operators and admins get them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commops.errors import NotFoundError, UsageError
from commops.ops import events as ev
from commops.ops.events.proposals import mean_score, speaker_ids
from commops.ops.events.registrations import list_registrations
from commops.ops.events.rules import EVENT_FLOW, KINDS, member_label, member_of
from commops.ops.events.volunteers import shifts_of, signups_of
from commops.web.api.common import API, Page, Paging, page_of, paging
from commops.web.deps import Ctx, require
from commops.web.permissions import can_operate, can_view

router = APIRouter(prefix=API, tags=["events"])

# No control characters (PostgreSQL refuses NUL in text) in anything typed by a person.
PLAIN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
EventKind = Literal["meetup", "webinar", "conference", "workshop", "hackathon"]
EventState = Literal["planned", "held", "cancelled"]
ProposalState = Literal["submitted", "accepted", "rejected", "confirmed", "withdrawn"]
ProposalAction = Literal["accept", "reject", "confirm", "withdraw"]
SignupOutcome = Literal["attended", "no_show"]
assert set(EventKind.__args__) == set(KINDS)  # type: ignore[attr-defined]
assert set(EventState.__args__) == set(EVENT_FLOW)  # type: ignore[attr-defined]

PROPOSAL_MOVES = {
    "accept": ev.accept_proposal,
    "reject": ev.reject_proposal,
    "confirm": ev.confirm_proposal,
    "withdraw": ev.withdraw_proposal,
}

EventId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The event's id.")]
RegistrationId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The registration's id.")]
ProposalId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The proposal's id.")]
ShiftId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The shift's id.")]
MemberId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The volunteer's member id.")]


def naive_utc(value: datetime) -> datetime:
    """A date-time as the store keeps it (naive UTC), within years the calendar handles."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    if not 1970 <= value.year <= 2200:
        raise ValueError("the year must be between 1970 and 2200")
    return value


# -- read shapes (pages use them too) ---------------------------------------------------------


class EventOut(BaseModel):
    id: int
    slug: str
    title: str
    kind: str
    state: str
    starts_at: datetime
    ends_at: datetime
    online: bool
    city: str | None
    venue: str | None
    url: str | None
    description: str | None
    partners: list[str]
    organizers: list[int] = Field(description="Member ids of the organisers.")
    organizer_names: list[str]
    registrations: int
    checked_in: int


class RegistrationOut(BaseModel):
    id: int
    event_id: int
    member_id: int
    name: str
    email: str | None = Field(description="Only for operators and admins (personal data).")
    organisation: str | None
    consent: bool
    origin: str
    registered_at: datetime
    checked_in_at: datetime | None


class ProposalOut(BaseModel):
    id: int
    event_id: int
    title: str
    abstract: str | None
    state: str
    speakers: list[int] = Field(description="Member ids, first speaker first.")
    speaker_names: list[str]
    mean_score: float | None
    created_at: datetime


class VolunteerOut(BaseModel):
    member_id: int
    name: str
    state: str


class ShiftOut(BaseModel):
    id: int
    role: str
    starts_at: datetime
    ends_at: datetime
    needed: int
    signed_up: int
    volunteers: list[VolunteerOut]


class SessionOut(BaseModel):
    id: int
    title: str
    starts_at: datetime
    ends_at: datetime | None


class EventDetailOut(EventOut):
    agenda: list[SessionOut]


class WindowOut(BaseModel):
    days: int
    any: int
    any_rate: float
    code: int
    code_rate: float


class CohortOut(BaseModel):
    name: str
    size: int
    already_contributors: int
    windows: list[WindowOut]


class ImpactOut(BaseModel):
    event: str
    event_day: str
    baseline_days: int
    cohorts: list[CohortOut]


def event_or_404(session: Session, event_id: int) -> ev.Event:
    event = session.get(ev.Event, event_id)
    if event is None or event.deleted_at is not None:
        raise NotFoundError(f"no event {event_id}")
    return event


def registration_or_404(session: Session, event: ev.Event, reg_id: int) -> ev.EventRegistration:
    reg = session.get(ev.EventRegistration, reg_id)
    if reg is None or reg.event_id != event.id:
        raise NotFoundError(f"event {event.id} has no registration {reg_id}")
    return reg


def proposal_or_404(session: Session, event: ev.Event, proposal_id: int) -> ev.EventProposal:
    proposal = session.get(ev.EventProposal, proposal_id)
    if proposal is None or proposal.event_id != event.id:
        raise NotFoundError(f"event {event.id} has no proposal {proposal_id}")
    return proposal


def shift_or_404(session: Session, event: ev.Event, shift_id: int) -> ev.EventShift:
    shift = session.get(ev.EventShift, shift_id)
    if shift is None or shift.event_id != event.id:
        raise NotFoundError(f"event {event.id} has no shift {shift_id}")
    return shift


def event_out(session: Session, event: ev.Event) -> EventOut:
    counts = session.execute(
        select(func.count(), func.count(ev.EventRegistration.checked_in_at)).where(
            ev.EventRegistration.event_id == event.id
        )
    ).one()
    organizers = ev.organizer_ids(session, event.id)
    return EventOut(
        id=event.id,
        slug=event.slug,
        title=event.title,
        kind=event.kind,
        state=event.state,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        online=event.online,
        city=event.city,
        venue=event.venue,
        url=event.url,
        description=event.description,
        partners=list(event.partners),
        organizers=organizers,
        organizer_names=[member_label(session, m) for m in organizers],
        registrations=int(counts[0]),
        checked_in=int(counts[1]),
    )


def event_detail(session: Session, event: ev.Event) -> EventDetailOut:
    return EventDetailOut(
        **event_out(session, event).model_dump(),
        agenda=[
            SessionOut(id=s.id, title=s.title, starts_at=s.starts_at, ends_at=s.ends_at)
            for s in ev.agenda(session, event.id)
        ],
    )


def registration_out(
    session: Session, reg: ev.EventRegistration, *, personal: bool
) -> RegistrationOut:
    return RegistrationOut(
        id=reg.id,
        event_id=reg.event_id,
        member_id=member_of(session, reg.identity_id),
        name=reg.name,
        email=reg.email if personal else None,
        organisation=reg.organisation,
        consent=reg.consent,
        origin=reg.origin,
        registered_at=reg.registered_at,
        checked_in_at=reg.checked_in_at,
    )


def registrations(
    session: Session, event: ev.Event, *, checked_in: bool | None = None
) -> list[ev.EventRegistration]:
    """The event's registrations, oldest first; only those (not) checked in with
    ``checked_in``."""
    rows = list_registrations(session, event.id)
    if checked_in is None:
        return rows
    return [r for r in rows if (r.checked_in_at is not None) == checked_in]


def proposal_out(session: Session, proposal: ev.EventProposal) -> ProposalOut:
    speakers = speaker_ids(session, proposal.id)
    return ProposalOut(
        id=proposal.id,
        event_id=proposal.event_id,
        title=proposal.title,
        abstract=proposal.abstract,
        state=proposal.state,
        speakers=speakers,
        speaker_names=[member_label(session, m) for m in speakers],
        mean_score=mean_score(session, proposal.id),
        created_at=proposal.created_at,
    )


def shift_out(session: Session, shift: ev.EventShift) -> ShiftOut:
    volunteers = []
    for row in signups_of(session, shift.id):
        mid = member_of(session, row.identity_id)
        volunteers.append(
            VolunteerOut(member_id=mid, name=member_label(session, mid), state=row.state)
        )
    return ShiftOut(
        id=shift.id,
        role=shift.role,
        starts_at=shift.starts_at,
        ends_at=shift.ends_at,
        needed=shift.needed,
        signed_up=len(volunteers),
        volunteers=volunteers,
    )


def shifts(session: Session, event: ev.Event) -> list[ShiftOut]:
    return [shift_out(session, s) for s in shifts_of(session, event.id)]


def impact_out(impact: ev.Impact) -> ImpactOut:
    return ImpactOut(
        event=impact.event,
        event_day=impact.event_day,
        baseline_days=impact.baseline_days,
        cohorts=[
            CohortOut(
                name=c.name,
                size=c.size,
                already_contributors=c.already_contributors,
                windows=[
                    WindowOut(
                        days=w.days,
                        any=w.any,
                        any_rate=w.any_rate,
                        code=w.code,
                        code_rate=w.code_rate,
                    )
                    for w in c.windows
                ],
            )
            for c in impact.cohorts
        ],
    )


# -- request bodies ---------------------------------------------------------------------------


class EventIn(BaseModel):
    title: str = Field(min_length=1, max_length=500, pattern=PLAIN)
    kind: EventKind
    starts_at: datetime = Field(description="ISO 8601; without an offset it is UTC.")
    ends_at: datetime
    online: bool = False
    city: str | None = Field(default=None, max_length=200, pattern=PLAIN)
    venue: str | None = Field(default=None, max_length=2000, pattern=PLAIN)
    url: str | None = Field(default=None, max_length=2000, pattern=PLAIN)
    description: str | None = Field(default=None, max_length=20000, pattern=PLAIN)
    organizers: list[str] = Field(
        default_factory=list, max_length=50, description="Members: id, e-mail, login or name."
    )
    partners: list[str] = Field(default_factory=list, max_length=50)

    _utc = field_validator("starts_at", "ends_at")(naive_utc)

    @field_validator("organizers", "partners")
    @classmethod
    def _names(cls, values: list[str]) -> list[str]:
        for value in values:
            if len(value) > 300 or "\x00" in value:
                raise ValueError("each entry: at most 300 characters, no NUL")
        return values


class ReasonIn(BaseModel):
    reason: str | None = Field(default=None, max_length=2000, pattern=PLAIN)


class RegistrationIn(BaseModel):
    name: str = Field(default="", max_length=500, pattern=PLAIN)
    email: str = Field(min_length=3, max_length=500, pattern=PLAIN)
    login: str | None = Field(default=None, max_length=200, pattern=PLAIN)
    organisation: str | None = Field(default=None, max_length=500, pattern=PLAIN)
    consent: bool = False


class ProposalIn(BaseModel):
    title: str = Field(min_length=1, max_length=500, pattern=PLAIN)
    speakers: list[str] = Field(
        min_length=1, max_length=20, description="Members: id, e-mail, login or name."
    )
    abstract: str | None = Field(default=None, max_length=20000, pattern=PLAIN)

    @field_validator("speakers")
    @classmethod
    def _refs(cls, values: list[str]) -> list[str]:
        for value in values:
            if not 1 <= len(value) <= 300 or "\x00" in value:
                raise ValueError("each speaker: 1–300 characters, no NUL")
        return values


class SignupIn(BaseModel):
    member: str = Field(
        min_length=1, max_length=300, pattern=PLAIN, description="Id, e-mail, login or name."
    )


# -- routes -----------------------------------------------------------------------------------


@router.get("/events", summary="Events, soonest first")
def list_events(
    c: Annotated[Ctx, Depends(require(can_view))],
    p: Annotated[Paging, Depends(paging)],
    state: Annotated[EventState | None, Query(description="Only events in this state.")] = None,
    kind: Annotated[EventKind | None, Query(description="Only events of this kind.")] = None,
) -> Page[EventOut]:
    with c.session() as session:
        found = [e for e in ev.list_events(session, state=state) if kind is None or e.kind == kind]
        window = found[p.offset : p.offset + p.limit]
        items = [event_out(session, e) for e in window]
    return Page[EventOut](items=items, total=len(found), limit=p.limit, offset=p.offset)


@router.post("/events", status_code=201, summary="Plan a new event")
def create_event(c: Annotated[Ctx, Depends(require(can_operate))], body: EventIn) -> EventOut:
    with c.session() as session:
        event = ev.add_event(
            session,
            title=body.title,
            kind=body.kind,
            starts_at=body.starts_at,
            ends_at=body.ends_at,
            actor=c.actor,
            online=body.online,
            city=body.city,
            venue=body.venue,
            url=body.url,
            description=body.description,
            organizers=body.organizers,
            partners=body.partners,
        )
        return event_out(session, event)


@router.get("/events/{event_id}", summary="One event with its agenda")
def get_event(c: Annotated[Ctx, Depends(require(can_view))], event_id: EventId) -> EventDetailOut:
    with c.session() as session:
        return event_detail(session, event_or_404(session, event_id))


@router.post("/events/{event_id}/hold", summary="The event took place (credits its people)")
def hold_event(
    c: Annotated[Ctx, Depends(require(can_operate))], event_id: EventId, body: ReasonIn
) -> EventOut:
    with c.session() as session:
        event = event_or_404(session, event_id)
        ev.hold_event(session, event.id, actor=c.actor, reason=body.reason)
        return event_out(session, event)


@router.post("/events/{event_id}/cancel", summary="The event will not take place")
def cancel_event(
    c: Annotated[Ctx, Depends(require(can_operate))], event_id: EventId, body: ReasonIn
) -> EventOut:
    with c.session() as session:
        event = event_or_404(session, event_id)
        ev.cancel_event(session, event.id, actor=c.actor, reason=body.reason)
        return event_out(session, event)


@router.get("/events/{event_id}/registrations", summary="An event's registrations")
def list_event_registrations(
    c: Annotated[Ctx, Depends(require(can_view))],
    p: Annotated[Paging, Depends(paging)],
    event_id: EventId,
    checked_in: Annotated[
        bool | None, Query(description="Only registrants who did (true) or did not check in.")
    ] = None,
) -> Page[RegistrationOut]:
    personal = c.allows(can_operate)
    with c.session() as session:
        event = event_or_404(session, event_id)
        rows = registrations(session, event, checked_in=checked_in)
        window = rows[p.offset : p.offset + p.limit]
        items = [registration_out(session, r, personal=personal) for r in window]
    return Page[RegistrationOut](items=items, total=len(rows), limit=p.limit, offset=p.offset)


@router.post(
    "/events/{event_id}/registrations",
    status_code=201,
    summary="Register a person (or update their registration)",
)
def register(
    c: Annotated[Ctx, Depends(require(can_operate))], event_id: EventId, body: RegistrationIn
) -> RegistrationOut:
    with c.session() as session:
        event = event_or_404(session, event_id)
        reg = ev.register(
            session,
            event.id,
            ev.Person(
                name=body.name,
                email=body.email,
                login=body.login,
                organisation=body.organisation,
                consent=body.consent,
            ),
            actor=c.actor,
        )
        return registration_out(session, reg, personal=True)


@router.post(
    "/events/{event_id}/registrations/{registration_id}/check-in",
    summary="Check a registrant in",
)
def check_in(
    c: Annotated[Ctx, Depends(require(can_operate))],
    event_id: EventId,
    registration_id: RegistrationId,
) -> RegistrationOut:
    with c.session() as session:
        event = event_or_404(session, event_id)
        reg = registration_or_404(session, event, registration_id)
        ev.check_in(session, event.id, f"r{reg.id}", actor=c.actor)
        return registration_out(session, reg, personal=True)


@router.get("/events/{event_id}/proposals", summary="An event's call for proposals")
def list_event_proposals(
    c: Annotated[Ctx, Depends(require(can_view))],
    p: Annotated[Paging, Depends(paging)],
    event_id: EventId,
    state: Annotated[
        ProposalState | None, Query(description="Only proposals in this state.")
    ] = None,
) -> Page[ProposalOut]:
    with c.session() as session:
        event = event_or_404(session, event_id)
        rows = [
            x for x in ev.list_proposals(session, event.id) if state is None or x.state == state
        ]
        return page_of([proposal_out(session, x) for x in rows], p)


@router.post("/events/{event_id}/proposals", status_code=201, summary="Submit a talk proposal")
def submit_proposal(
    c: Annotated[Ctx, Depends(require(can_operate))], event_id: EventId, body: ProposalIn
) -> ProposalOut:
    with c.session() as session:
        event = event_or_404(session, event_id)
        proposal = ev.submit_proposal(
            session,
            event.id,
            title=body.title,
            speakers=body.speakers,
            abstract=body.abstract,
            actor=c.actor,
        )
        return proposal_out(session, proposal)


@router.post(
    "/events/{event_id}/proposals/{proposal_id}/{action}",
    summary="Accept, reject, confirm or withdraw a proposal",
)
def move_proposal(
    c: Annotated[Ctx, Depends(require(can_operate))],
    event_id: EventId,
    proposal_id: ProposalId,
    action: ProposalAction,
    body: ReasonIn,
) -> ProposalOut:
    with c.session() as session:
        event = event_or_404(session, event_id)
        proposal = proposal_or_404(session, event, proposal_id)
        PROPOSAL_MOVES[action](session, proposal.id, actor=c.actor, reason=body.reason)
        return proposal_out(session, proposal)


@router.get("/events/{event_id}/shifts", summary="Volunteer shifts with who signed up")
def list_shifts(c: Annotated[Ctx, Depends(require(can_view))], event_id: EventId) -> list[ShiftOut]:
    with c.session() as session:
        return shifts(session, event_or_404(session, event_id))


@router.post(
    "/events/{event_id}/shifts/{shift_id}/signups",
    status_code=201,
    summary="Sign a member up for a shift",
)
def sign_up(
    c: Annotated[Ctx, Depends(require(can_operate))],
    event_id: EventId,
    shift_id: ShiftId,
    body: SignupIn,
) -> ShiftOut:
    with c.session() as session:
        shift = shift_or_404(session, event_or_404(session, event_id), shift_id)
        ev.sign_up(session, shift.id, body.member, actor=c.actor)
        return shift_out(session, shift)


@router.post(
    "/events/{event_id}/shifts/{shift_id}/signups/{member_id}/{outcome}",
    summary="Record whether a volunteer came (attended credits event:volunteered)",
)
def volunteer_outcome(
    c: Annotated[Ctx, Depends(require(can_operate))],
    event_id: EventId,
    shift_id: ShiftId,
    member_id: MemberId,
    outcome: SignupOutcome,
) -> ShiftOut:
    with c.session() as session:
        shift = shift_or_404(session, event_or_404(session, event_id), shift_id)
        mark = ev.mark_attended if outcome == "attended" else ev.mark_no_show
        mark(session, shift.id, member_id, actor=c.actor)
        return shift_out(session, shift)


@router.get(
    "/events/{event_id}/impact",
    summary="First contributions after the event: registrants, attendees, baseline",
)
def impact(
    c: Annotated[Ctx, Depends(require(can_view))],
    event_id: EventId,
    windows: Annotated[
        str,
        Query(
            pattern=r"^\d{1,4}(,\d{1,4}){0,9}$",
            description="Windows in days after the event, comma-separated (at most 3650).",
        ),
    ] = "30,90,180",
) -> ImpactOut:
    days = parse_windows(windows)
    with c.session() as session:
        event = event_or_404(session, event_id)
        return impact_out(ev.event_impact(session, event.id, days))


def parse_windows(text: str) -> list[int]:
    """Attribution windows, each 1–3650 days (later days are past what the calendar holds
    for events far ahead)."""
    days = ev.parse_windows(text)
    if days[-1] > 3650:
        raise UsageError(f"windows: {days[-1]} days is more than 3650")
    return days
