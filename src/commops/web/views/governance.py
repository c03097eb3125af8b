"""Governance pages: the ladders with their roles, the nominations (nominate, sponsor,
approve, reject, withdraw, grant), the roles held, the committees; and the candidates for
each role with the evidence behind every criterion.

Evaluating candidates reads every activity, so the page computes them only when asked (the
"Evaluate" button) and keeps the result until the data changes (``evaluate_candidates``).
Viewers and up read; operators and admins change, through ``commops.ops.governance``. The
read shapes are the API's (``commops.web.api.governance``).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Path, Query
from fastapi.responses import Response

from commops.clock import utcnow
from commops.errors import UsageError
from commops.ops.governance import committee as cm
from commops.web.api.common import Paging, page_of
from commops.web.api.governance import (
    COMMITTEE,
    NAME,
    NominationState,
    StandingOut,
    TermMethod,
    cached_candidates,
    committees,
    do_add_meeting,
    do_add_term,
    do_approve,
    do_end_grant,
    do_grant,
    do_nominate,
    do_reject,
    do_sponsor,
    do_withdraw,
    evaluate_candidates,
    grants,
    ladder_named,
    ladder_out,
    ladders,
    nomination_or_404,
    nominations,
)
from commops.web.deps import Ctx, register_nav, require
from commops.web.permissions import can_operate, can_view

router = APIRouter(include_in_schema=False)
register_nav("/governance", "Governance", can_view, "governance")

Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
LadderQuery = Annotated[str | None, Query(pattern=NAME)]


def _required_day(value: str, field: str) -> date:
    if not value.strip():
        raise UsageError(f"{field}: a date is required (YYYY-MM-DD)")
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(f"{field}: {value!r} is not a date (YYYY-MM-DD)") from None
    if not 1970 <= day.year <= 2200:
        raise UsageError(f"{field}: {value!r} is out of range")
    return day


def _as_of(value: str) -> date:
    text = value.strip()
    if not text:
        return utcnow().date()
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"as of: {value!r} is not a date (YYYY-MM-DD)") from None
    if not 1970 <= day.year <= 2200:
        raise UsageError(f"as of: {value!r} is out of range")
    return day


def _back(ladder: str, anchor: str = "") -> str:
    return f"/governance?{urlencode({'ladder': ladder})}" + (f"#{anchor}" if anchor else "")


@router.get("/governance")
def governance_page(
    c: Annotated[Ctx, Depends(require(can_view))],
    ladder: LadderQuery = None,
    state: Annotated[NominationState | None, Query()] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Response:
    lad = ladder_named(ladder)
    with c.session() as session:
        noms = page_of(
            nominations(session, ladder=lad.name, state=state), Paging(limit=50, offset=offset)
        )
        held = grants(session, ladder=lad.name, state="active")
        seats = committees(session, on=utcnow().date())
    query = {"ladder": lad.name, **({"state": state} if state else {})}
    return c.render(
        "governance/index.html.j2",
        ladder=ladder_out(lad),
        ladders=sorted(ladders()),
        nominations=noms,
        base_url=f"/governance?{urlencode(query)}",
        state=state,
        states=["open", "approved", "granted", "rejected", "withdrawn"],
        grants=held,
        committees=seats,
        can_change=c.allows(can_operate),
    )


@router.get("/governance/candidates")
def candidates_page(
    c: Annotated[Ctx, Depends(require(can_view))],
    ladder: LadderQuery = None,
    role: Annotated[str, Query(max_length=100)] = "",
    as_of: Annotated[str, Query(max_length=20)] = "",
    evaluate: Annotated[bool, Query()] = False,
) -> Response:
    lad = ladder_named(ladder)
    day = _as_of(as_of)
    chosen = role.strip() or None
    found: list[StandingOut] | None
    with c.session() as session:
        if evaluate:
            found = evaluate_candidates(c, session, lad, day, chosen)
        else:
            found = cached_candidates(c, session, lad, day, chosen)
    return c.render(
        "governance/candidates.html.j2",
        ladder=ladder_out(lad),
        ladders=sorted(ladders()),
        role=chosen or "",
        as_of=day,
        candidates=found,
        can_change=c.allows(can_operate),
    )


@router.post("/governance/nominations")
def nominate(
    c: Annotated[Ctx, Depends(require(can_operate))],
    ladder: Annotated[str, Form(pattern=NAME)],
    member: Annotated[str, Form(min_length=1, max_length=300)],
    role: Annotated[str, Form(pattern=NAME)],
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    with c.session() as session:
        nom = do_nominate(
            session,
            ladder=ladder,
            member=member,
            role=role,
            actor=c.actor,
            reason=reason.strip() or None,
            on=None,
        )
        target = _back(nom.ladder, f"nomination-{nom.id}")
    return c.redirect(target, c.gettext("Nomination made."))


def _ladder_of(c: Ctx, nomination_id: int) -> str:
    with c.session() as session:
        return nomination_or_404(session, nomination_id).ladder


@router.post("/governance/nominations/{nomination_id}/sponsors")
def sponsor(
    c: Annotated[Ctx, Depends(require(can_operate))],
    nomination_id: Id,
    member: Annotated[str, Form(min_length=1, max_length=300)],
) -> Response:
    with c.session() as session:
        do_sponsor(session, nomination_id, member, actor=c.actor, on=None)
    return c.redirect(
        _back(_ladder_of(c, nomination_id), f"nomination-{nomination_id}"),
        c.gettext("Sponsor added."),
    )


@router.post("/governance/nominations/{nomination_id}/approve")
def approve(
    c: Annotated[Ctx, Depends(require(can_operate))],
    nomination_id: Id,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    with c.session() as session:
        do_approve(session, nomination_id, actor=c.actor, reason=reason.strip() or None, on=None)
    return c.redirect(
        _back(_ladder_of(c, nomination_id), f"nomination-{nomination_id}"),
        c.gettext("Nomination approved."),
    )


@router.post("/governance/nominations/{nomination_id}/reject")
def reject(
    c: Annotated[Ctx, Depends(require(can_operate))],
    nomination_id: Id,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    with c.session() as session:
        do_reject(session, nomination_id, actor=c.actor, reason=reason, on=None)
    return c.redirect(
        _back(_ladder_of(c, nomination_id), f"nomination-{nomination_id}"),
        c.gettext("Nomination rejected."),
    )


@router.post("/governance/nominations/{nomination_id}/withdraw")
def withdraw(
    c: Annotated[Ctx, Depends(require(can_operate))],
    nomination_id: Id,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    with c.session() as session:
        do_withdraw(session, nomination_id, actor=c.actor, reason=reason.strip() or None)
    return c.redirect(
        _back(_ladder_of(c, nomination_id), f"nomination-{nomination_id}"),
        c.gettext("Nomination withdrawn."),
    )


@router.post("/governance/nominations/{nomination_id}/grant")
def grant(c: Annotated[Ctx, Depends(require(can_operate))], nomination_id: Id) -> Response:
    with c.session() as session:
        do_grant(session, nomination_id, actor=c.actor, on=None)
    return c.redirect(_back(_ladder_of(c, nomination_id), "roles"), c.gettext("Role granted."))


@router.post("/governance/roles/{grant_id}/retire")
def retire(
    c: Annotated[Ctx, Depends(require(can_operate))],
    grant_id: Id,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    with c.session() as session:
        row = do_end_grant(
            session, grant_id, "emeritus", actor=c.actor, reason=reason.strip() or None, on=None
        )
        target = _back(row.ladder, "roles")
    return c.redirect(target, c.gettext("The role is now emeritus."))


@router.post("/governance/roles/{grant_id}/revoke")
def revoke(
    c: Annotated[Ctx, Depends(require(can_operate))],
    grant_id: Id,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    with c.session() as session:
        row = do_end_grant(session, grant_id, "revoked", actor=c.actor, reason=reason, on=None)
        target = _back(row.ladder, "roles")
    return c.redirect(target, c.gettext("Role revoked."))


@router.post("/governance/seats")
def add_seat(
    c: Annotated[Ctx, Depends(require(can_operate))],
    committee: Annotated[str, Form(pattern=COMMITTEE)],
    name: Annotated[str, Form(min_length=1, max_length=200)],
    description: Annotated[str, Form(max_length=2000)] = "",
    ladder: Annotated[str, Form(pattern=NAME)] = "kubesphere",
) -> Response:
    with c.session() as session:
        cm.add_seat(
            session, committee, name, actor=c.actor, description=description.strip() or None
        )
    return c.redirect(_back(ladder, "committees"), c.gettext("Seat added."))


@router.post("/governance/seats/{seat_id}/terms")
def add_term(
    c: Annotated[Ctx, Depends(require(can_operate))],
    seat_id: Id,
    member: Annotated[str, Form(min_length=1, max_length=300)],
    start: Annotated[str, Form(max_length=20)],
    end: Annotated[str, Form(max_length=20)],
    method: Annotated[TermMethod, Form()],
    votes: Annotated[str, Form(max_length=12, pattern=r"^\d*$")] = "",
    ladder: Annotated[str, Form(pattern=NAME)] = "kubesphere",
) -> Response:
    with c.session() as session:
        do_add_term(
            session,
            seat_id,
            member=member,
            start=_required_day(start, "start"),
            end=_required_day(end, "end"),
            method=method,
            votes=int(votes) if votes else None,
            actor=c.actor,
        )
    return c.redirect(_back(ladder, "committees"), c.gettext("Term added."))


@router.post("/governance/committees/{committee}/meetings")
def add_meeting(
    c: Annotated[Ctx, Depends(require(can_operate))],
    committee: Annotated[str, Path(pattern=COMMITTEE)],
    title: Annotated[str, Form(min_length=1, max_length=200)],
    held_on: Annotated[str, Form(max_length=20)],
    attendees: Annotated[str, Form(max_length=20000)] = "",
    minutes: Annotated[str, Form(max_length=100_000)] = "",
    ladder: Annotated[str, Form(pattern=NAME)] = "kubesphere",
) -> Response:
    with c.session() as session:
        do_add_meeting(
            session,
            committee,
            title=title,
            held_on=_required_day(held_on, "day"),
            attendees=[a.strip() for a in attendees.split(",") if a.strip()],
            minutes=minutes,
            actor=c.actor,
        )
    return c.redirect(_back(ladder, "committees"), c.gettext("Meeting recorded."))
