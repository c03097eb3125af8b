"""Partners pages: the list with each partner's health (and a form to add one), and a partner
with its contacts, collaborations (moved through their status flow, with outcomes), touches
and the people of its organization who contribute.

Viewers and up read; operators and admins change, through the ecosystem domain functions.
The read shapes are the API's (``commops.web.api.partners``).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query
from fastapi.responses import Response

from commops.errors import UsageError
from commops.ops import ecosystem as eco
from commops.ops.ecosystem.rules import COLLAB_KINDS, FLOW, PARTNER_KINDS, TOUCH_KINDS
from commops.web.api.common import Paging, page_of
from commops.web.api.partners import (
    CollabKind,
    CollabStatus,
    PartnerKind,
    TouchKind,
    collaboration_or_404,
    health_out,
    partner_detail,
    partner_or_404,
)
from commops.web.deps import Ctx, register_nav, require
from commops.web.permissions import can_operate, can_view

router = APIRouter(include_in_schema=False)
register_nav("/partners", "Partners", can_view, "partners")

Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _day(value: str, field: str) -> date | None:
    """A YYYY-MM-DD form field (empty: none)."""
    text = value.strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{field}: {value!r} is not a date (YYYY-MM-DD)") from None
    if not 1970 <= day.year <= 2200:
        raise UsageError(f"{field}: {value!r} is out of range")
    return day


def _page(partner_id: int, anchor: str = "") -> str:
    return f"/partners/{partner_id}" + (f"#{anchor}" if anchor else "")


@router.get("/partners")
def partners_page(
    c: Annotated[Ctx, Depends(require(can_view))],
    kind: Annotated[PartnerKind | None, Query()] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Response:
    with c.session() as session:
        found = eco.list_partners(session, kind=kind)
        page = page_of(found, Paging(limit=50, offset=offset))
        rows = [health_out(eco.partner_health(session, x)) for x in page.items]
    return c.render(
        "partners/index.html.j2",
        partners=rows,
        page=page,
        base_url="/partners" + (f"?kind={kind}" if kind else ""),
        kind=kind,
        kinds=PARTNER_KINDS,
        can_change=c.allows(can_operate),
    )


@router.post("/partners")
def create_partner(
    c: Annotated[Ctx, Depends(require(can_operate))],
    name: Annotated[str, Form(max_length=300)],
    kind: Annotated[PartnerKind, Form()],
    organization: Annotated[str, Form(max_length=300)] = "",
    website: Annotated[str, Form(max_length=2000)] = "",
    notes: Annotated[str, Form(max_length=20000)] = "",
) -> Response:
    with c.session() as session:
        partner = eco.add_partner(
            session,
            name=name,
            kind=kind,
            organization=organization.strip() or None,
            website=website.strip() or None,
            notes=notes,
            actor=c.actor,
        )
        partner_id = partner.id
    return c.redirect(_page(partner_id), c.gettext("Partner added."))


@router.get("/partners/{partner_id}")
def partner_page(c: Annotated[Ctx, Depends(require(can_view))], partner_id: Id) -> Response:
    with c.session() as session:
        detail = partner_detail(session, partner_or_404(session, partner_id))
    return c.render(
        "partners/partner.html.j2",
        partner=detail,
        moves={state: list(targets) for state, targets in FLOW.items()},
        collab_kinds=COLLAB_KINDS,
        touch_kinds=TOUCH_KINDS,
        can_change=c.allows(can_operate),
    )


@router.post("/partners/{partner_id}/collaborations")
def create_collaboration(
    c: Annotated[Ctx, Depends(require(can_operate))],
    partner_id: Id,
    kind: Annotated[CollabKind, Form()],
    title: Annotated[str, Form(max_length=500)],
    owner: Annotated[str, Form(max_length=300)] = "",
    start: Annotated[str, Form(max_length=20)] = "",
    end: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    with c.session() as session:
        partner = partner_or_404(session, partner_id)
        eco.add_collaboration(
            session,
            partner.id,
            kind=kind,
            title=title,
            owner=owner.strip() or None,
            start=_day(start, "start"),
            end=_day(end, "end"),
            actor=c.actor,
        )
    return c.redirect(_page(partner_id, "collaborations"), c.gettext("Collaboration proposed."))


@router.post("/partners/{partner_id}/collaborations/{collaboration_id}/status")
def move_collaboration(
    c: Annotated[Ctx, Depends(require(can_operate))],
    partner_id: Id,
    collaboration_id: Id,
    status: Annotated[CollabStatus, Form()],
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    with c.session() as session:
        collab = collaboration_or_404(
            session, partner_or_404(session, partner_id), collaboration_id
        )
        eco.set_status(session, collab.id, status, actor=c.actor, reason=reason.strip() or None)
    return c.redirect(
        _page(partner_id, f"collaboration-{collaboration_id}"),
        c.gettext("Collaboration updated."),
    )


@router.post("/partners/{partner_id}/collaborations/{collaboration_id}/outcomes")
def add_outcome(
    c: Annotated[Ctx, Depends(require(can_operate))],
    partner_id: Id,
    collaboration_id: Id,
    text: Annotated[str, Form(max_length=2000)],
) -> Response:
    with c.session() as session:
        collab = collaboration_or_404(
            session, partner_or_404(session, partner_id), collaboration_id
        )
        eco.add_outcome(session, collab.id, text, actor=c.actor)
    return c.redirect(
        _page(partner_id, f"collaboration-{collaboration_id}"), c.gettext("Outcome added.")
    )


@router.post("/partners/{partner_id}/touches")
def add_touch(
    c: Annotated[Ctx, Depends(require(can_operate))],
    partner_id: Id,
    kind: Annotated[TouchKind, Form()],
    on: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str, Form(max_length=20000)] = "",
) -> Response:
    with c.session() as session:
        partner = partner_or_404(session, partner_id)
        eco.touch(session, partner.id, kind=kind, on=_day(on, "on"), note=note, actor=c.actor)
    return c.redirect(_page(partner_id, "touches"), c.gettext("Touch logged."))


@router.post("/partners/{partner_id}/contacts")
def add_contact(
    c: Annotated[Ctx, Depends(require(can_operate))],
    partner_id: Id,
    member: Annotated[str, Form(min_length=1, max_length=300)],
    role: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    with c.session() as session:
        partner = partner_or_404(session, partner_id)
        eco.add_contact(session, partner.id, member, role=role.strip() or None, actor=c.actor)
    return c.redirect(_page(partner_id, "contacts"), c.gettext("Contact added."))
