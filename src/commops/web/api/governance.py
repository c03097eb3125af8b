"""``/api/v1/governance``: contributor ladders (the rule files shipped with commops), the
candidates for each role with the evidence behind every criterion, role grants, nominations
(nominate, sponsor, approve, reject, withdraw, grant) and committees.

Evaluating a ladder reads every activity, which over a large community takes a while, so the
candidates are computed on demand and cached until the data changes: the cache key holds the
analytics snapshot's version and the newest activity and audit-log ids, so a sync, an
activity emitted by a workflow or a new grant or sponsor makes the next request evaluate again.

The read shapes and lookups here are shared with the pages (``commops.web.views.governance``);
every change goes through ``commops.ops.governance`` with the caller as actor.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import date
from functools import cache
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commops.clock import utcnow
from commops.errors import NotFoundError, UsageError
from commops.ops import core
from commops.ops.governance import committee as cm
from commops.ops.governance import roles as gov
from commops.ops.governance.evaluate import candidates
from commops.ops.governance.models import Meeting, Nomination, RoleGrant, Seat, Sponsor
from commops.ops.governance.rules import Ladder, describe, load_ladder, shipped_ladders
from commops.store.models import Activity, Member, OpsLog
from commops.web.api.common import API, Page, Paging, page_of, paging
from commops.web.deps import Ctx, require
from commops.web.permissions import can_operate, can_view

router = APIRouter(prefix=API, tags=["governance"])

PLAIN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
NAME = r"^[a-z0-9][a-z0-9_-]{0,99}$"
NominationState = Literal["open", "approved", "granted", "rejected", "withdrawn"]
GrantState = Literal["active", "emeritus", "revoked"]
NominationId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The nomination's id.")]
LadderParam = Annotated[
    str | None,
    Query(pattern=NAME, description="A ladder's name, e.g. kubesphere (default: the first)."),
]
RoleParam = Annotated[str | None, Query(pattern=NAME, description="Only this role.")]
DayParam = Annotated[date | None, Query(description="Evaluate as of this day (default today).")]
CACHE_SIZE = 16


def sane_day(value: date | None) -> date | None:
    if value is not None and not 1970 <= value.year <= 2200:
        raise ValueError("the year must be between 1970 and 2200")
    return value


@cache
def ladders() -> dict[str, Ladder]:
    """The shipped ladders by their name (``kubesphere``, ``kubernetes``, ``ksap``)."""
    found: dict[str, Ladder] = {}
    for stem in shipped_ladders():
        ladder = load_ladder(stem)
        found[ladder.name] = ladder
    return found


def ladder_named(name: str | None) -> Ladder:
    """The shipped ladder ``name`` (None: the first by name); a UsageError lists them."""
    known = ladders()
    if name is None:
        return known[sorted(known)[0]]
    if name not in known:
        raise UsageError(
            f"ladder: no ladder {name!r}", hint=f"Ladders: {', '.join(sorted(known))}."
        )
    return known[name]


def _day(value: date | None) -> date:
    return value if value is not None else utcnow().date()


# -- read shapes (pages use them too) ---------------------------------------------------------


class RoleOut(BaseModel):
    name: str
    description: str
    criteria: list[str]


class LadderOut(BaseModel):
    name: str
    file: str
    roles: list[RoleOut]


class CriterionOut(BaseModel):
    criterion: str
    met: bool
    value: int | str | None = None
    threshold: int | str | None = None
    evidence: list[str] = Field(
        default_factory=list,
        description="Uids of the activities counted (the latest 20), or sponsors, or grants.",
    )
    parts: list[CriterionOut] = Field(default_factory=list)


class StandingOut(BaseModel):
    member_id: int
    name: str
    role: str
    current_role: str | None
    eligible: bool
    criteria: list[CriterionOut]


class CandidatesOut(BaseModel):
    ladder: str
    role: str | None
    as_of: date
    candidates: Page[StandingOut]


class GrantOut(BaseModel):
    id: int
    member_id: int
    name: str
    ladder: str
    role: str
    state: str
    granted_on: date
    ended_on: date | None
    origin: str
    nomination_id: int | None


class SponsorOut(BaseModel):
    member_id: int
    name: str
    organization: str | None
    sponsored_on: date


class NominationOut(BaseModel):
    id: int
    member_id: int
    name: str
    ladder: str
    role: str
    state: str
    nominated_by: str
    reason: str | None
    nominated_on: date
    decided_on: date | None
    approved_by: str | None
    sponsors: list[SponsorOut]
    evidence: StandingOut | None = Field(
        description="The candidate's standing on the day of the nomination."
    )


class TermOut(BaseModel):
    id: int
    member_id: int
    name: str
    start: date
    end: date
    method: str
    votes: int | None


class SeatOut(BaseModel):
    id: int
    name: str
    description: str | None
    current: TermOut | None


class MeetingOut(BaseModel):
    id: int
    held_on: date
    title: str
    minutes: str | None
    attendees: list[int]


class CommitteeOut(BaseModel):
    name: str
    seats: list[SeatOut]
    meetings: list[MeetingOut]


def ladder_out(ladder: Ladder) -> LadderOut:
    return LadderOut(
        name=ladder.name,
        file=ladder.path.rsplit("/", 1)[-1],
        roles=[
            RoleOut(
                name=r.name,
                description=r.description,
                criteria=[describe(c) for c in r.criteria.parts],
            )
            for r in ladder.roles
        ],
    )


def standing_out(data: dict[str, Any]) -> StandingOut:
    return StandingOut.model_validate(data)


_CACHE: OrderedDict[tuple[Any, ...], list[StandingOut]] = OrderedDict()
_LOCK = threading.Lock()


def _data_version(c: Ctx, session: Session) -> tuple[Any, ...]:
    return (
        str(c.ws.root),
        c.request.app.state.insights.version,
        session.execute(select(func.max(Activity.id))).scalar(),
        session.execute(select(func.max(OpsLog.id))).scalar(),
    )


def cached_candidates(
    c: Ctx, session: Session, ladder: Ladder, as_of: date, role: str | None
) -> list[StandingOut] | None:
    """The candidates evaluated earlier on the same data, or None."""
    if role is not None:
        ladder.role(role)
    key = (*_data_version(c, session), ladder.name, role, as_of)
    with _LOCK:
        found = _CACHE.get(key)
        if found is not None:
            _CACHE.move_to_end(key)
        return found


def evaluate_candidates(
    c: Ctx, session: Session, ladder: Ladder, as_of: date, role: str | None
) -> list[StandingOut]:
    """The candidates (members who meet their next role, or ``role``) with evidence, from the
    cache when the data has not changed since they were evaluated."""
    found = cached_candidates(c, session, ladder, as_of, role)
    if found is not None:
        return found
    key = (*_data_version(c, session), ladder.name, role, as_of)
    result = [standing_out(s.as_dict()) for s in candidates(session, ladder, as_of, role=role)]
    with _LOCK:
        _CACHE[key] = result
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    return result


def _names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(
        session.execute(select(Member.id, Member.display_name).where(Member.id.in_(ids))).all()
    )


def grants(
    session: Session,
    *,
    ladder: str | None = None,
    state: str | None = None,
    role: str | None = None,
) -> list[GrantOut]:
    """Role grants, by ladder and id."""
    query = select(RoleGrant).order_by(RoleGrant.ladder, RoleGrant.id)
    if ladder is not None:
        query = query.where(RoleGrant.ladder == ladder)
    if state is not None:
        query = query.where(RoleGrant.state == state)
    if role is not None:
        query = query.where(RoleGrant.role == role)
    rows = list(session.execute(query).scalars())
    names = _names(session, {r.member_id for r in rows})
    return [
        GrantOut(
            id=r.id,
            member_id=r.member_id,
            name=names.get(r.member_id, "?"),
            ladder=r.ladder,
            role=r.role,
            state=r.state,
            granted_on=r.granted_on,
            ended_on=r.ended_on,
            origin=r.origin,
            nomination_id=r.nomination_id,
        )
        for r in rows
    ]


def nomination_out(session: Session, nom: Nomination) -> NominationOut:
    sponsors = list(
        session.execute(
            select(Sponsor).where(Sponsor.nomination_id == nom.id).order_by(Sponsor.id)
        ).scalars()
    )
    names = _names(session, {nom.member_id} | {s.member_id for s in sponsors})
    return NominationOut(
        id=nom.id,
        member_id=nom.member_id,
        name=names.get(nom.member_id, "?"),
        ladder=nom.ladder,
        role=nom.role,
        state=nom.state,
        nominated_by=nom.nominated_by,
        reason=nom.reason,
        nominated_on=nom.nominated_on,
        decided_on=nom.decided_on,
        approved_by=nom.approved_by,
        sponsors=[
            SponsorOut(
                member_id=s.member_id,
                name=names.get(s.member_id, "?"),
                organization=s.organization,
                sponsored_on=s.sponsored_on,
            )
            for s in sponsors
        ],
        evidence=standing_out(nom.evidence) if nom.evidence else None,
    )


def nominations(
    session: Session, *, ladder: str | None = None, state: str | None = None
) -> list[NominationOut]:
    """Nominations, newest first."""
    query = select(Nomination).order_by(Nomination.id.desc())
    if ladder is not None:
        query = query.where(Nomination.ladder == ladder)
    if state is not None:
        query = query.where(Nomination.state == state)
    return [nomination_out(session, n) for n in session.execute(query).scalars()]


def nomination_or_404(session: Session, nomination_id: int) -> Nomination:
    nom = session.get(Nomination, nomination_id)
    if nom is None:
        raise NotFoundError(f"no nomination {nomination_id}")
    return nom


def committees(session: Session, *, on: date) -> list[CommitteeOut]:
    """Every committee with its seats (and who sits on each on ``on``) and its meetings."""
    names = sorted(set(session.execute(select(Seat.committee)).scalars()))
    out: list[CommitteeOut] = []
    for name in names:
        sitting = {seat.id: term for seat, term in cm.members_on(session, name, on)}
        seats = list(
            session.execute(
                select(Seat).where(Seat.committee == name).order_by(Seat.name)
            ).scalars()
        )
        people = _names(session, {t.member_id for t in sitting.values()})
        meetings = session.execute(
            select(Meeting).where(Meeting.committee == name).order_by(Meeting.held_on.desc())
        ).scalars()
        out.append(
            CommitteeOut(
                name=name,
                seats=[
                    SeatOut(
                        id=s.id,
                        name=s.name,
                        description=s.description,
                        current=TermOut(
                            id=t.id,
                            member_id=t.member_id,
                            name=people.get(t.member_id, "?"),
                            start=t.start,
                            end=t.end,
                            method=t.method,
                            votes=t.votes,
                        )
                        if (t := sitting.get(s.id)) is not None
                        else None,
                    )
                    for s in seats
                ],
                meetings=[
                    MeetingOut(
                        id=m.id,
                        held_on=m.held_on,
                        title=m.title,
                        minutes=m.minutes,
                        attendees=list(m.attendees),
                    )
                    for m in meetings
                ],
            )
        )
    return out


# -- request bodies ---------------------------------------------------------------------------


class NominationIn(BaseModel):
    ladder: str = Field(pattern=NAME, description="The ladder's name, e.g. kubesphere.")
    member: str = Field(
        min_length=1, max_length=300, pattern=PLAIN, description="Id, e-mail, login or name."
    )
    role: str = Field(pattern=NAME)
    reason: str | None = Field(default=None, max_length=2000, pattern=PLAIN)
    on: date | None = Field(default=None, description="Default today.")

    _day = field_validator("on")(sane_day)


class SponsorIn(BaseModel):
    member: str = Field(min_length=1, max_length=300, pattern=PLAIN)
    on: date | None = None

    _day = field_validator("on")(sane_day)


class DecisionIn(BaseModel):
    reason: str | None = Field(default=None, max_length=2000, pattern=PLAIN)
    on: date | None = None

    _day = field_validator("on")(sane_day)


class RejectIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000, pattern=PLAIN)
    on: date | None = None

    _day = field_validator("on")(sane_day)


class GrantIn(BaseModel):
    on: date | None = Field(default=None, description="Held from this day (default today).")

    _day = field_validator("on")(sane_day)


COMMITTEE = r"^[^/\x00-\x1f\x7f]{1,200}$"
CommitteeName = Annotated[
    str, Path(pattern=COMMITTEE, description="The committee's name, e.g. user-committee.")
]
SeatId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The seat's id.")]
GrantId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The role grant's id.")]
TermMethod = Literal["election", "appointment"]


class SeatIn(BaseModel):
    name: str = Field(min_length=1, max_length=200, pattern=PLAIN)
    description: str | None = Field(default=None, max_length=2000, pattern=PLAIN)


class TermIn(BaseModel):
    member: str = Field(min_length=1, max_length=300, pattern=PLAIN)
    start: date
    end: date
    method: TermMethod
    votes: int | None = Field(default=None, ge=0, le=10_000_000)

    _days = field_validator("start", "end")(sane_day)


class MeetingIn(BaseModel):
    title: str = Field(min_length=1, max_length=200, pattern=PLAIN)
    held_on: date
    attendees: list[str] = Field(default_factory=list, max_length=200)
    minutes: str | None = Field(default=None, max_length=100_000, pattern=PLAIN)

    _day = field_validator("held_on")(sane_day)

    @field_validator("attendees")
    @classmethod
    def _refs(cls, values: list[str]) -> list[str]:
        for value in values:
            if not 1 <= len(value) <= 300 or "\x00" in value:
                raise ValueError("each attendee: 1–300 characters, no NUL")
        return values


class EndIn(BaseModel):
    reason: str | None = Field(default=None, max_length=2000, pattern=PLAIN)
    on: date | None = Field(default=None, description="Ends on this day (default today).")

    _day = field_validator("on")(sane_day)


# -- the changes, shared by the pages and the API ---------------------------------------------


def seat_or_404(session: Session, seat_id: int) -> Seat:
    seat = session.get(Seat, seat_id)
    if seat is None:
        raise NotFoundError(f"no committee seat {seat_id}")
    return seat


def grant_or_404(session: Session, grant_id: int) -> RoleGrant:
    row = session.get(RoleGrant, grant_id)
    if row is None:
        raise NotFoundError(f"no role grant {grant_id}")
    return row


def do_add_term(
    session: Session,
    seat_id: int,
    *,
    member: str,
    start: date,
    end: date,
    method: str,
    votes: int | None,
    actor: str,
) -> None:
    seat = seat_or_404(session, seat_id)
    mid = core.require_member(session, member)
    if method == "election":
        cm.elect(session, seat.id, mid, start, end, actor=actor, votes=votes)
    else:
        if votes is not None:
            raise UsageError("votes: only an election has votes")
        cm.appoint(session, seat.id, mid, start, end, actor=actor)


def do_add_meeting(
    session: Session,
    committee: str,
    *,
    title: str,
    held_on: date,
    attendees: list[str],
    minutes: str | None,
    actor: str,
) -> Meeting:
    ids = [core.require_member(session, a, field="attendee") for a in attendees]
    meeting = cm.add_meeting(session, committee, held_on, title, actor=actor, attendees=ids)
    if minutes and minutes.strip():
        cm.set_minutes(session, meeting.id, minutes, actor=actor)
    return meeting


def do_end_grant(
    session: Session,
    grant_id: int,
    target: Literal["emeritus", "revoked"],
    *,
    actor: str,
    reason: str | None,
    on: date | None,
) -> RoleGrant:
    row = grant_or_404(session, grant_id)
    if target == "emeritus":
        return gov.retire(session, row.id, actor=actor, on=_day(on), reason=reason)
    return gov.revoke(session, row.id, actor=actor, on=_day(on), reason=reason or "")


def do_nominate(
    session: Session,
    *,
    ladder: str,
    member: str,
    role: str,
    actor: str,
    reason: str | None,
    on: date | None,
) -> Nomination:
    lad = ladder_named(ladder)
    mid = core.require_member(session, member)
    return gov.nominate(session, lad, mid, role, actor=actor, on=_day(on), reason=reason)


def do_sponsor(
    session: Session, nomination_id: int, member: str, *, actor: str, on: date | None
) -> None:
    nom = nomination_or_404(session, nomination_id)
    mid = core.require_member(session, member, field="sponsor")
    gov.sponsor(session, nom.id, mid, actor=actor, on=_day(on))


def do_approve(
    session: Session, nomination_id: int, *, actor: str, reason: str | None, on: date | None
) -> None:
    nom = nomination_or_404(session, nomination_id)
    gov.approve(session, ladder_named(nom.ladder), nom.id, actor=actor, on=_day(on), reason=reason)


def do_reject(
    session: Session, nomination_id: int, *, actor: str, reason: str, on: date | None
) -> None:
    nom = nomination_or_404(session, nomination_id)
    gov.reject(session, nom.id, actor=actor, on=_day(on), reason=reason)


def do_withdraw(session: Session, nomination_id: int, *, actor: str, reason: str | None) -> None:
    nom = nomination_or_404(session, nomination_id)
    gov.withdraw(session, nom.id, actor=actor, reason=reason)


def do_grant(session: Session, nomination_id: int, *, actor: str, on: date | None) -> RoleGrant:
    nom = nomination_or_404(session, nomination_id)
    return gov.grant(session, nom.id, actor=actor, on=_day(on))


# -- routes -----------------------------------------------------------------------------------


@router.get("/governance/ladders", summary="The ladders and their roles' criteria")
def list_ladders(c: Annotated[Ctx, Depends(require(can_view))]) -> list[LadderOut]:
    return [ladder_out(ladders()[name]) for name in sorted(ladders())]


@router.get(
    "/governance/candidates",
    summary="Members who meet a role's criteria, with evidence (cached until the data changes)",
)
def list_candidates(
    c: Annotated[Ctx, Depends(require(can_view))],
    p: Annotated[Paging, Depends(paging)],
    ladder: LadderParam = None,
    role: RoleParam = None,
    as_of: DayParam = None,
) -> CandidatesOut:
    lad = ladder_named(ladder)
    if as_of is not None and not 1970 <= as_of.year <= 2200:
        raise UsageError("as_of: the year must be between 1970 and 2200")
    day = _day(as_of)
    with c.session() as session:
        found = evaluate_candidates(c, session, lad, day, role)
    return CandidatesOut(ladder=lad.name, role=role, as_of=day, candidates=page_of(found, p))


@router.get("/governance/roles", summary="Role grants")
def list_grants(
    c: Annotated[Ctx, Depends(require(can_view))],
    p: Annotated[Paging, Depends(paging)],
    ladder: LadderParam = None,
    state: Annotated[GrantState | None, Query(description="Only grants in this state.")] = None,
    role: RoleParam = None,
) -> Page[GrantOut]:
    with c.session() as session:
        return page_of(grants(session, ladder=ladder, state=state, role=role), p)


@router.get("/governance/nominations", summary="Nominations, newest first")
def list_nominations(
    c: Annotated[Ctx, Depends(require(can_view))],
    p: Annotated[Paging, Depends(paging)],
    ladder: LadderParam = None,
    state: Annotated[NominationState | None, Query(description="Only in this state.")] = None,
) -> Page[NominationOut]:
    with c.session() as session:
        return page_of(nominations(session, ladder=ladder, state=state), p)


@router.get("/governance/nominations/{nomination_id}", summary="One nomination")
def get_nomination(
    c: Annotated[Ctx, Depends(require(can_view))], nomination_id: NominationId
) -> NominationOut:
    with c.session() as session:
        return nomination_out(session, nomination_or_404(session, nomination_id))


@router.post(
    "/governance/nominations",
    status_code=201,
    summary="Nominate a member for a role (their standing that day is kept as evidence)",
)
def create_nomination(
    c: Annotated[Ctx, Depends(require(can_operate))], body: NominationIn
) -> NominationOut:
    with c.session() as session:
        nom = do_nominate(
            session,
            ladder=body.ladder,
            member=body.member,
            role=body.role,
            actor=c.actor,
            reason=body.reason,
            on=body.on,
        )
        return nomination_out(session, nom)


@router.post(
    "/governance/nominations/{nomination_id}/sponsors",
    status_code=201,
    summary="Sponsor an open nomination",
)
def add_sponsor(
    c: Annotated[Ctx, Depends(require(can_operate))],
    nomination_id: NominationId,
    body: SponsorIn,
) -> NominationOut:
    with c.session() as session:
        do_sponsor(session, nomination_id, body.member, actor=c.actor, on=body.on)
        return nomination_out(session, nomination_or_404(session, nomination_id))


@router.post(
    "/governance/nominations/{nomination_id}/approve",
    summary="Approve (refused unless the role's criteria hold on the day)",
)
def approve_nomination(
    c: Annotated[Ctx, Depends(require(can_operate))],
    nomination_id: NominationId,
    body: DecisionIn,
) -> NominationOut:
    with c.session() as session:
        do_approve(session, nomination_id, actor=c.actor, reason=body.reason, on=body.on)
        return nomination_out(session, nomination_or_404(session, nomination_id))


@router.post("/governance/nominations/{nomination_id}/reject", summary="Reject (reason needed)")
def reject_nomination(
    c: Annotated[Ctx, Depends(require(can_operate))],
    nomination_id: NominationId,
    body: RejectIn,
) -> NominationOut:
    with c.session() as session:
        do_reject(session, nomination_id, actor=c.actor, reason=body.reason, on=body.on)
        return nomination_out(session, nomination_or_404(session, nomination_id))


@router.post("/governance/nominations/{nomination_id}/withdraw", summary="Withdraw")
def withdraw_nomination(
    c: Annotated[Ctx, Depends(require(can_operate))],
    nomination_id: NominationId,
    body: DecisionIn,
) -> NominationOut:
    with c.session() as session:
        do_withdraw(session, nomination_id, actor=c.actor, reason=body.reason)
        return nomination_out(session, nomination_or_404(session, nomination_id))


@router.post(
    "/governance/nominations/{nomination_id}/grant",
    status_code=201,
    summary="Grant the role of an approved nomination",
)
def grant_nomination(
    c: Annotated[Ctx, Depends(require(can_operate))],
    nomination_id: NominationId,
    body: GrantIn,
) -> GrantOut:
    with c.session() as session:
        row = do_grant(session, nomination_id, actor=c.actor, on=body.on)
        return next(g for g in grants(session, ladder=row.ladder) if g.id == row.id)


@router.get("/governance/committees", summary="Committees: seats, who sits today, meetings")
def list_committees(
    c: Annotated[Ctx, Depends(require(can_view))],
    on: Annotated[date | None, Query(description="Who sits on this day (default today).")] = None,
) -> list[CommitteeOut]:
    with c.session() as session:
        return committees(session, on=_day(on))


@router.post(
    "/governance/committees/{committee}/seats", status_code=201, summary="Add a seat to a committee"
)
def add_seat(
    c: Annotated[Ctx, Depends(require(can_operate))], committee: CommitteeName, body: SeatIn
) -> list[CommitteeOut]:
    with c.session() as session:
        cm.add_seat(session, committee, body.name, actor=c.actor, description=body.description)
        return [x for x in committees(session, on=_day(None)) if x.name == committee.strip()]


@router.post(
    "/governance/seats/{seat_id}/terms",
    status_code=201,
    summary="A member's term on a seat, by election or appointment (terms never overlap)",
)
def add_term(
    c: Annotated[Ctx, Depends(require(can_operate))], seat_id: SeatId, body: TermIn
) -> list[CommitteeOut]:
    with c.session() as session:
        do_add_term(
            session,
            seat_id,
            member=body.member,
            start=body.start,
            end=body.end,
            method=body.method,
            votes=body.votes,
            actor=c.actor,
        )
        name = seat_or_404(session, seat_id).committee
        return [x for x in committees(session, on=_day(None)) if x.name == name]


@router.post(
    "/governance/committees/{committee}/meetings",
    status_code=201,
    summary="Record a committee meeting (attendees, minutes)",
)
def add_meeting(
    c: Annotated[Ctx, Depends(require(can_operate))], committee: CommitteeName, body: MeetingIn
) -> MeetingOut:
    with c.session() as session:
        m = do_add_meeting(
            session,
            committee,
            title=body.title,
            held_on=body.held_on,
            attendees=body.attendees,
            minutes=body.minutes,
            actor=c.actor,
        )
        return MeetingOut(
            id=m.id, held_on=m.held_on, title=m.title, minutes=m.minutes, attendees=m.attendees
        )


@router.post("/governance/roles/{grant_id}/retire", summary="A held role becomes emeritus")
def retire_grant(
    c: Annotated[Ctx, Depends(require(can_operate))], grant_id: GrantId, body: EndIn
) -> GrantOut:
    with c.session() as session:
        row = do_end_grant(
            session, grant_id, "emeritus", actor=c.actor, reason=body.reason, on=body.on
        )
        return next(g for g in grants(session, ladder=row.ladder) if g.id == row.id)


@router.post("/governance/roles/{grant_id}/revoke", summary="Revoke a held role (reason needed)")
def revoke_grant(
    c: Annotated[Ctx, Depends(require(can_operate))], grant_id: GrantId, body: EndIn
) -> GrantOut:
    with c.session() as session:
        row = do_end_grant(
            session, grant_id, "revoked", actor=c.actor, reason=body.reason, on=body.on
        )
        return next(g for g in grants(session, ladder=row.ladder) if g.id == row.id)
