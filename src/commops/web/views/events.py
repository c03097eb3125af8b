"""Events pages: the list (with a form to plan one), an event with its registrations and
check-in, the call for proposals, volunteer shifts and agenda, its attribution (impact), and
the iCalendar feed of upcoming events.

Everyone who may read (viewers and up) sees them; operators and admins change them, always
through the events domain functions. Registrants' e-mail addresses are shown to operators and
admins only. The read shapes are the API's (``commops.web.api.events``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query
from fastapi.responses import Response

from commops.ops import events as ev
from commops.ops.events.rules import EVENT_FLOW, KINDS, parse_when
from commops.web.api.common import Paging, page_of
from commops.web.api.events import (
    PROPOSAL_MOVES,
    EventKind,
    EventState,
    ProposalAction,
    SignupOutcome,
    event_detail,
    event_or_404,
    event_out,
    impact_out,
    parse_windows,
    proposal_or_404,
    proposal_out,
    registration_or_404,
    registration_out,
    registrations,
    shift_or_404,
    shifts,
)
from commops.web.deps import Ctx, register_nav, require
from commops.web.permissions import can_operate, can_view

router = APIRouter(include_in_schema=False)
register_nav("/events", "Events", can_view, "events")

Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
REGISTRATIONS_PER_PAGE = 100


def _page(event_id: int, anchor: str = "") -> str:
    return f"/events/{event_id}" + (f"#{anchor}" if anchor else "")


@router.get("/events")
def events_page(
    c: Annotated[Ctx, Depends(require(can_view))],
    state: Annotated[EventState | None, Query()] = None,
    kind: Annotated[EventKind | None, Query()] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Response:
    with c.session() as session:
        found = [e for e in ev.list_events(session, state=state) if kind is None or e.kind == kind]
        page = page_of(found, Paging(limit=50, offset=offset))
        items = [event_out(session, e) for e in page.items]
    query = "&".join(f"{k}={v}" for k, v in (("state", state), ("kind", kind)) if v)
    return c.render(
        "events/index.html.j2",
        events=items,
        page=page,
        base_url="/events" + (f"?{query}" if query else ""),
        state=state,
        kind=kind,
        states=list(EVENT_FLOW),
        kinds=KINDS,
        can_change=c.allows(can_operate),
    )


@router.get("/events/upcoming.ics")
def upcoming_calendar(c: Annotated[Ctx, Depends(require(can_view))]) -> Response:
    with c.session() as session:
        text = ev.calendar_text(
            ev.upcoming(session), name="commops events", host=c.request.url.hostname or "commops"
        )
    return Response(
        text,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="events.ics"'},
    )


@router.post("/events")
def create_event(
    c: Annotated[Ctx, Depends(require(can_operate))],
    title: Annotated[str, Form(max_length=500)],
    kind: Annotated[EventKind, Form()],
    starts_at: Annotated[str, Form(max_length=40)],
    ends_at: Annotated[str, Form(max_length=40)],
    online: Annotated[bool, Form()] = False,
    city: Annotated[str, Form(max_length=200)] = "",
    venue: Annotated[str, Form(max_length=2000)] = "",
    url: Annotated[str, Form(max_length=2000)] = "",
    description: Annotated[str, Form(max_length=20000)] = "",
    organizer: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    with c.session() as session:
        event = ev.add_event(
            session,
            title=title,
            kind=kind,
            starts_at=parse_when(starts_at, "starts"),
            ends_at=parse_when(ends_at, "ends"),
            actor=c.actor,
            online=online,
            city=city,
            venue=venue,
            url=url,
            description=description,
            organizers=[organizer] if organizer.strip() else [],
        )
        event_id = event.id
    return c.redirect(_page(event_id), c.gettext("Event planned."))


@router.get("/events/{event_id}")
def event_page(
    c: Annotated[Ctx, Depends(require(can_view))],
    event_id: Id,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Response:
    personal = c.allows(can_operate)
    with c.session() as session:
        event = event_or_404(session, event_id)
        detail = event_detail(session, event)
        regs = page_of(
            registrations(session, event), Paging(limit=REGISTRATIONS_PER_PAGE, offset=offset)
        )
        reg_rows = [registration_out(session, r, personal=personal) for r in regs.items]
        proposals = [proposal_out(session, p) for p in ev.list_proposals(session, event.id)]
        shift_rows = shifts(session, event)
    return c.render(
        "events/event.html.j2",
        event=detail,
        registrations=reg_rows,
        reg_page=regs,
        proposals=proposals,
        shifts=shift_rows,
        personal=personal,
        can_change=personal,
    )


@router.post("/events/{event_id}/hold")
def hold_event(
    c: Annotated[Ctx, Depends(require(can_operate))],
    event_id: Id,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    with c.session() as session:
        event = event_or_404(session, event_id)
        ev.hold_event(session, event.id, actor=c.actor, reason=reason or None)
    return c.redirect(_page(event_id), c.gettext("Event marked as held."))


@router.post("/events/{event_id}/cancel")
def cancel_event(
    c: Annotated[Ctx, Depends(require(can_operate))],
    event_id: Id,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    with c.session() as session:
        event = event_or_404(session, event_id)
        ev.cancel_event(session, event.id, actor=c.actor, reason=reason or None)
    return c.redirect(_page(event_id), c.gettext("Event cancelled."))


@router.post("/events/{event_id}/registrations")
def register(
    c: Annotated[Ctx, Depends(require(can_operate))],
    event_id: Id,
    email: Annotated[str, Form(max_length=500)],
    name: Annotated[str, Form(max_length=500)] = "",
    organisation: Annotated[str, Form(max_length=500)] = "",
    consent: Annotated[bool, Form()] = False,
) -> Response:
    with c.session() as session:
        event = event_or_404(session, event_id)
        reg = ev.register(
            session,
            event.id,
            ev.Person(name=name, email=email, organisation=organisation, consent=consent),
            actor=c.actor,
        )
        anchor = f"registration-{reg.id}"
    return c.redirect(_page(event_id, anchor), c.gettext("Registered."))


@router.post("/events/{event_id}/registrations/{registration_id}/check-in")
def check_in(
    c: Annotated[Ctx, Depends(require(can_operate))], event_id: Id, registration_id: Id
) -> Response:
    with c.session() as session:
        event = event_or_404(session, event_id)
        reg = registration_or_404(session, event, registration_id)
        ev.check_in(session, event.id, f"r{reg.id}", actor=c.actor)
    return c.redirect(_page(event_id, f"registration-{registration_id}"), c.gettext("Checked in."))


@router.post("/events/{event_id}/proposals")
def submit_proposal(
    c: Annotated[Ctx, Depends(require(can_operate))],
    event_id: Id,
    title: Annotated[str, Form(max_length=500)],
    speaker: Annotated[str, Form(max_length=300)],
    abstract: Annotated[str, Form(max_length=20000)] = "",
) -> Response:
    with c.session() as session:
        event = event_or_404(session, event_id)
        ev.submit_proposal(
            session, event.id, title=title, speakers=[speaker], abstract=abstract, actor=c.actor
        )
    return c.redirect(_page(event_id, "proposals"), c.gettext("Proposal submitted."))


@router.post("/events/{event_id}/proposals/{proposal_id}/{action}")
def move_proposal(
    c: Annotated[Ctx, Depends(require(can_operate))],
    event_id: Id,
    proposal_id: Id,
    action: ProposalAction,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    with c.session() as session:
        event = event_or_404(session, event_id)
        proposal = proposal_or_404(session, event, proposal_id)
        PROPOSAL_MOVES[action](session, proposal.id, actor=c.actor, reason=reason or None)
    return c.redirect(_page(event_id, "proposals"), c.gettext("Proposal updated."))


@router.post("/events/{event_id}/shifts")
def add_shift(
    c: Annotated[Ctx, Depends(require(can_operate))],
    event_id: Id,
    role: Annotated[str, Form(max_length=200)],
    starts_at: Annotated[str, Form(max_length=40)],
    ends_at: Annotated[str, Form(max_length=40)],
    needed: Annotated[int, Form(ge=1, le=10_000)],
) -> Response:
    with c.session() as session:
        event = event_or_404(session, event_id)
        ev.add_shift(
            session,
            event.id,
            role=role,
            starts_at=parse_when(starts_at, "starts"),
            ends_at=parse_when(ends_at, "ends"),
            needed=needed,
            actor=c.actor,
        )
    return c.redirect(_page(event_id, "volunteers"), c.gettext("Shift added."))


@router.post("/events/{event_id}/shifts/{shift_id}/signups")
def sign_up(
    c: Annotated[Ctx, Depends(require(can_operate))],
    event_id: Id,
    shift_id: Id,
    member: Annotated[str, Form(min_length=1, max_length=300)],
) -> Response:
    with c.session() as session:
        shift = shift_or_404(session, event_or_404(session, event_id), shift_id)
        ev.sign_up(session, shift.id, member, actor=c.actor)
    return c.redirect(_page(event_id, "volunteers"), c.gettext("Volunteer signed up."))


@router.post("/events/{event_id}/shifts/{shift_id}/signups/{member_id}/{outcome}")
def volunteer_outcome(
    c: Annotated[Ctx, Depends(require(can_operate))],
    event_id: Id,
    shift_id: Id,
    member_id: Id,
    outcome: SignupOutcome,
) -> Response:
    with c.session() as session:
        shift = shift_or_404(session, event_or_404(session, event_id), shift_id)
        mark = ev.mark_attended if outcome == "attended" else ev.mark_no_show
        mark(session, shift.id, member_id, actor=c.actor)
    return c.redirect(_page(event_id, "volunteers"), c.gettext("Volunteer updated."))


@router.get("/events/{event_id}/impact")
def impact_page(
    c: Annotated[Ctx, Depends(require(can_view))],
    event_id: Id,
    windows: Annotated[str, Query(max_length=60)] = "30,90,180",
) -> Response:
    days = parse_windows(windows)
    with c.session() as session:
        event = event_or_404(session, event_id)
        detail = event_out(session, event)
        result = impact_out(ev.event_impact(session, event.id, days))
    return c.render(
        "events/impact.html.j2",
        event=detail,
        impact=result,
        windows=",".join(str(d) for d in days),
    )
