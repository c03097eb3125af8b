"""``/api/v1/partners``: partners with their contacts, collaborations (and their status flow,
outcomes), touches and health.

The read shapes and the 404 lookups here are shared with the pages
(``commops.web.views.partners``); every change goes through the ecosystem domain functions
(``commops.ops.ecosystem``) with the caller as actor.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field, field_validator
from sqlalchemy.orm import Session

from commops.errors import NotFoundError
from commops.ops import ecosystem as eco
from commops.ops.ecosystem.rules import COLLAB_KINDS, PARTNER_KINDS, STATES, TOUCH_KINDS
from commops.store.models import Member, Organization
from commops.web.api.common import API, Page, Paging, page_of, paging
from commops.web.deps import Ctx, require
from commops.web.permissions import can_operate, can_view

router = APIRouter(prefix=API, tags=["partners"])

PLAIN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
PartnerKind = Literal[
    "community", "company", "university", "training-institution", "foundation", "vendor"
]
CollabKind = Literal[
    "product-integration",
    "content-collaboration",
    "co-hosted-event",
    "course",
    "sponsorship",
    "case-study",
]
CollabStatus = Literal["proposed", "active", "paused", "completed", "cancelled"]
TouchKind = Literal["meeting", "email", "call", "event", "other"]
assert set(PartnerKind.__args__) == set(PARTNER_KINDS)  # type: ignore[attr-defined]
assert set(CollabKind.__args__) == set(COLLAB_KINDS)  # type: ignore[attr-defined]
assert set(CollabStatus.__args__) == set(STATES)  # type: ignore[attr-defined]
assert set(TouchKind.__args__) == set(TOUCH_KINDS)  # type: ignore[attr-defined]

PartnerId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The partner's id.")]
CollabId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The collaboration's id.")]
Days = Annotated[int, Query(ge=1, le=3650, description="The health window in days.")]


def sane_day(value: date | None) -> date | None:
    if value is not None and not 1970 <= value.year <= 2200:
        raise ValueError("the year must be between 1970 and 2200")
    return value


# -- read shapes (pages use them too) ---------------------------------------------------------


class ContactOut(BaseModel):
    member_id: int
    name: str
    role: str | None


class OutcomeOut(BaseModel):
    on: str
    text: str
    by: str


class LinkOut(BaseModel):
    type: str
    value: str | int


class CollaborationOut(BaseModel):
    id: int
    partner_id: int
    kind: str
    title: str
    status: str
    start_date: date | None
    end_date: date | None
    owner_member_id: int | None
    owner_name: str | None
    outcomes: list[OutcomeOut]
    links: list[LinkOut]
    updated_at: datetime


class TouchOut(BaseModel):
    id: int
    kind: str
    on: date
    note: str | None
    actor: str


class PartnerOut(BaseModel):
    id: int
    name: str
    kind: str
    organization: str | None
    website: str | None
    notes: str | None


class HealthOut(BaseModel):
    partner_id: int
    name: str
    kind: str
    organization: str | None
    last_touch: date | None
    days_since_touch: int | None
    active_collaborations: int
    affiliated: int
    contributing: int
    staff_contributing: int
    contributions: int
    flags: list[str]


class ContributorOut(BaseModel):
    member_id: int
    display_name: str
    is_staff: bool
    contributions: int


class PartnerDetailOut(PartnerOut):
    contacts: list[ContactOut]
    collaborations: list[CollaborationOut]
    touches: list[TouchOut]
    health: HealthOut
    contributors: list[ContributorOut]


def partner_or_404(session: Session, partner_id: int) -> eco.Partner:
    partner = session.get(eco.Partner, partner_id)
    if partner is None or partner.deleted_at is not None:
        raise NotFoundError(f"no partner {partner_id}")
    return partner


def collaboration_or_404(
    session: Session, partner: eco.Partner, collab_id: int
) -> eco.Collaboration:
    collab = session.get(eco.Collaboration, collab_id)
    if collab is None or collab.partner_id != partner.id or collab.deleted_at is not None:
        raise NotFoundError(f"partner {partner.id} has no collaboration {collab_id}")
    return collab


def _name(session: Session, member_id: int) -> str:
    member = session.get(Member, member_id)
    return member.display_name if member is not None else "?"


def partner_out(session: Session, partner: eco.Partner) -> PartnerOut:
    org = session.get(Organization, partner.organization_id) if partner.organization_id else None
    return PartnerOut(
        id=partner.id,
        name=partner.name,
        kind=partner.kind,
        organization=org.name if org is not None else None,
        website=partner.website,
        notes=partner.notes,
    )


def collaboration_out(session: Session, collab: eco.Collaboration) -> CollaborationOut:
    owner = eco.owner_id(session, collab)
    return CollaborationOut(
        id=collab.id,
        partner_id=collab.partner_id,
        kind=collab.kind,
        title=collab.title,
        status=collab.status,
        start_date=collab.start_date,
        end_date=collab.end_date,
        owner_member_id=owner,
        owner_name=_name(session, owner) if owner is not None else None,
        outcomes=[OutcomeOut(**o) for o in collab.outcomes],
        links=[LinkOut(**link) for link in collab.links],
        updated_at=collab.updated_at,
    )


def health_out(h: eco.PartnerHealth) -> HealthOut:
    return HealthOut(
        partner_id=h.partner_id,
        name=h.name,
        kind=h.kind,
        organization=h.organization,
        last_touch=h.last_touch,
        days_since_touch=h.days_since_touch,
        active_collaborations=h.active_collaborations,
        affiliated=h.affiliated,
        contributing=h.contributing,
        staff_contributing=h.staff_contributing,
        contributions=h.contributions,
        flags=list(h.flags),
    )


def partner_detail(session: Session, partner: eco.Partner, *, days: int = 90) -> PartnerDetailOut:
    h = eco.partner_health(session, partner, days=days)
    return PartnerDetailOut(
        **partner_out(session, partner).model_dump(),
        contacts=[
            ContactOut(member_id=mid, name=_name(session, mid), role=role)
            for mid, role in eco.contacts(session, partner.id)
        ],
        collaborations=[
            collaboration_out(session, x) for x in eco.collaborations(session, partner.id)
        ],
        touches=[
            TouchOut(id=t.id, kind=t.kind, on=t.on, note=t.note, actor=t.actor)
            for t in reversed(eco.touches(session, partner.id))
        ],
        health=health_out(h),
        contributors=[
            ContributorOut(
                member_id=x.member_id,
                display_name=x.display_name,
                is_staff=x.is_staff,
                contributions=x.contributions,
            )
            for x in h.contributors
        ],
    )


# -- request bodies ---------------------------------------------------------------------------


class PartnerIn(BaseModel):
    name: str = Field(min_length=1, max_length=300, pattern=PLAIN)
    kind: PartnerKind
    organization: str | None = Field(
        default=None,
        max_length=300,
        pattern=PLAIN,
        description="The organization its people are enrolled in (default: the partner's name; "
        "created when missing).",
    )
    website: str | None = Field(default=None, max_length=2000, pattern=PLAIN)
    notes: str | None = Field(default=None, max_length=20000, pattern=PLAIN)


class CollaborationIn(BaseModel):
    kind: CollabKind
    title: str = Field(min_length=1, max_length=500, pattern=PLAIN)
    owner: str | None = Field(
        default=None, max_length=300, pattern=PLAIN, description="Member id, e-mail, login, name."
    )
    start: date | None = None
    end: date | None = None

    _days = field_validator("start", "end")(sane_day)


class StatusIn(BaseModel):
    status: CollabStatus
    reason: str | None = Field(default=None, max_length=2000, pattern=PLAIN)


class OutcomeIn(BaseModel):
    text: str = Field(min_length=1, max_length=2000, pattern=PLAIN)
    on: date | None = None

    _days = field_validator("on")(sane_day)


class TouchIn(BaseModel):
    kind: TouchKind
    on: date | None = Field(default=None, description="Default today; never in the future.")
    note: str | None = Field(default=None, max_length=20000, pattern=PLAIN)

    _days = field_validator("on")(sane_day)


class ContactIn(BaseModel):
    member: str = Field(min_length=1, max_length=300, pattern=PLAIN)
    role: str | None = Field(default=None, max_length=200, pattern=PLAIN)


# -- routes -----------------------------------------------------------------------------------


@router.get("/partners", summary="Partners by name")
def list_partners(
    c: Annotated[Ctx, Depends(require(can_view))],
    p: Annotated[Paging, Depends(paging)],
    kind: Annotated[PartnerKind | None, Query(description="Only partners of this kind.")] = None,
) -> Page[PartnerOut]:
    with c.session() as session:
        found = eco.list_partners(session, kind=kind)
        return page_of([partner_out(session, x) for x in found], p)


@router.get("/partners/health", summary="Every partner's health over a window")
def partners_health(
    c: Annotated[Ctx, Depends(require(can_view))],
    p: Annotated[Paging, Depends(paging)],
    days: Days = 90,
    flagged: Annotated[
        bool | None, Query(description="Only partners with (true) or without flags.")
    ] = None,
) -> Page[HealthOut]:
    with c.session() as session:
        rows = [health_out(h) for h in eco.health(session, days=days)]
    if flagged is not None:
        rows = [h for h in rows if bool(h.flags) == flagged]
    return page_of(rows, p)


@router.post("/partners", status_code=201, summary="Add a partner")
def create_partner(c: Annotated[Ctx, Depends(require(can_operate))], body: PartnerIn) -> PartnerOut:
    with c.session() as session:
        partner = eco.add_partner(
            session,
            name=body.name,
            kind=body.kind,
            organization=body.organization,
            website=body.website,
            notes=body.notes,
            actor=c.actor,
        )
        return partner_out(session, partner)


@router.get("/partners/{partner_id}", summary="A partner with contacts, collaborations, health")
def get_partner(
    c: Annotated[Ctx, Depends(require(can_view))], partner_id: PartnerId, days: Days = 90
) -> PartnerDetailOut:
    with c.session() as session:
        return partner_detail(session, partner_or_404(session, partner_id), days=days)


@router.get("/partners/{partner_id}/collaborations", summary="A partner's collaborations")
def list_collaborations(
    c: Annotated[Ctx, Depends(require(can_view))],
    p: Annotated[Paging, Depends(paging)],
    partner_id: PartnerId,
    status: Annotated[CollabStatus | None, Query(description="Only in this status.")] = None,
) -> Page[CollaborationOut]:
    with c.session() as session:
        partner = partner_or_404(session, partner_id)
        rows = [
            collaboration_out(session, x)
            for x in eco.collaborations(session, partner.id)
            if status is None or x.status == status
        ]
    return page_of(rows, p)


@router.post(
    "/partners/{partner_id}/collaborations",
    status_code=201,
    summary="Propose a collaboration with the partner",
)
def create_collaboration(
    c: Annotated[Ctx, Depends(require(can_operate))],
    partner_id: PartnerId,
    body: CollaborationIn,
) -> CollaborationOut:
    with c.session() as session:
        partner = partner_or_404(session, partner_id)
        collab = eco.add_collaboration(
            session,
            partner.id,
            kind=body.kind,
            title=body.title,
            owner=body.owner or None,
            start=body.start,
            end=body.end,
            actor=c.actor,
        )
        return collaboration_out(session, collab)


@router.post(
    "/partners/{partner_id}/collaborations/{collaboration_id}/status",
    summary="Move a collaboration (start, pause, resume, complete, cancel)",
)
def move_collaboration(
    c: Annotated[Ctx, Depends(require(can_operate))],
    partner_id: PartnerId,
    collaboration_id: CollabId,
    body: StatusIn,
) -> CollaborationOut:
    with c.session() as session:
        collab = collaboration_or_404(
            session, partner_or_404(session, partner_id), collaboration_id
        )
        eco.set_status(session, collab.id, body.status, actor=c.actor, reason=body.reason)
        return collaboration_out(session, collab)


@router.post(
    "/partners/{partner_id}/collaborations/{collaboration_id}/outcomes",
    status_code=201,
    summary="Add a dated outcome to a collaboration",
)
def add_outcome(
    c: Annotated[Ctx, Depends(require(can_operate))],
    partner_id: PartnerId,
    collaboration_id: CollabId,
    body: OutcomeIn,
) -> CollaborationOut:
    with c.session() as session:
        collab = collaboration_or_404(
            session, partner_or_404(session, partner_id), collaboration_id
        )
        eco.add_outcome(session, collab.id, body.text, actor=c.actor, on=body.on)
        return collaboration_out(session, collab)


@router.post("/partners/{partner_id}/touches", status_code=201, summary="Log a touch")
def add_touch(
    c: Annotated[Ctx, Depends(require(can_operate))], partner_id: PartnerId, body: TouchIn
) -> TouchOut:
    with c.session() as session:
        partner = partner_or_404(session, partner_id)
        t = eco.touch(
            session, partner.id, kind=body.kind, on=body.on, note=body.note, actor=c.actor
        )
        return TouchOut(id=t.id, kind=t.kind, on=t.on, note=t.note, actor=t.actor)


@router.post(
    "/partners/{partner_id}/contacts", status_code=201, summary="Add a contact (or change role)"
)
def add_contact(
    c: Annotated[Ctx, Depends(require(can_operate))], partner_id: PartnerId, body: ContactIn
) -> list[ContactOut]:
    with c.session() as session:
        partner = partner_or_404(session, partner_id)
        eco.add_contact(session, partner.id, body.member, role=body.role or None, actor=c.actor)
        return [
            ContactOut(member_id=mid, name=_name(session, mid), role=role)
            for mid, role in eco.contacts(session, partner.id)
        ]
