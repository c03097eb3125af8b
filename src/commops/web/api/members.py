"""``/api/v1/members``: members, their profiles and timelines, merge suggestions, the identity
log; merge, unmerge, split, accept, reject and undo (operators and admins).

The same read-models as the Members pages (``commops.web.members_view``) and the same domain
functions as ``commops members`` (``commops.identity.audit``). E-mail addresses are shown only
to operators and admins.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from commops.identity import audit
from commops.web import members_view as mv
from commops.web.api.common import API, Page, Paging, paging
from commops.web.deps import Ctx, require
from commops.web.permissions import can_operate, can_view

router = APIRouter(prefix=API, tags=["members"])

MemberId = Annotated[int, Path(ge=1, le=2**31 - 1, description="A member id.")]
Reason = Annotated[str | None, Field(max_length=1000, description="Why: kept in the log.")]


class MemberOut(BaseModel):
    id: int
    display_name: str
    is_bot: bool
    is_staff: bool
    tags: list[str]
    identities: int
    handles: list[str] = Field(description="platform:value; e-mail addresses only for operators")
    organizations: list[str] = Field(description="Current organisations.")
    level: int | None = Field(description="Engagement level, 1 most engaged .. 4.")


class IdentityOut(BaseModel):
    id: int
    platform: str
    kind: str
    value: str | None = Field(description="None: an e-mail address you may not see.")
    name: str | None
    verified: bool
    is_bot: bool
    activities: int


class OrgOut(BaseModel):
    organization: str
    start_date: date | None
    end_date: date | None
    origin: str | None
    current: bool


class RoleOut(BaseModel):
    ladder: str
    role: str
    state: str
    granted_on: date
    ended_on: date | None


class EventOut(BaseModel):
    event_id: int
    title: str
    starts_at: datetime
    state: str
    role: Literal["organizer", "speaker", "registered", "attended", "volunteer"]


class ContentOut(BaseModel):
    item_id: int
    title: str
    kind: str
    state: str
    role: Literal["author", "reviewer"]
    at: datetime


class FeedbackOut(BaseModel):
    item_id: int
    title: str
    origin: str
    channel: str | None
    raised_at: datetime


class DecisionOut(BaseModel):
    id: int
    identity_a_id: int
    identity_b_id: int
    decision: str
    origin: str
    actor: str
    reason: str | None
    created_at: datetime


class ProfileOut(BaseModel):
    id: int
    display_name: str
    is_bot: bool
    is_staff: bool
    flag_origins: dict[str, Any]
    tags: list[str]
    notes: str | None
    created_at: datetime
    level: int | None = Field(
        description="Engagement level, 1 most engaged .. 4; null when not computed for the "
        "current snapshot yet (the server does so in the background) or the member has none."
    )
    activities: int
    first_activity: datetime | None
    last_activity: datetime | None
    identities: list[IdentityOut]
    organizations: list[OrgOut]
    roles: list[RoleOut]
    contributions: dict[str, int] = Field(description="Activities by contribution type.")
    events: list[EventOut]
    content: list[ContentOut]
    feedback: list[FeedbackOut]
    decisions: list[DecisionOut]


class TimelineOut(BaseModel):
    id: int
    occurred_at: datetime
    kind: str
    platform: str
    channel: str | None
    target: str | None
    title: str | None
    contribution_type: str | None


class SuggestedIdentity(BaseModel):
    id: int
    platform: str
    kind: str
    value: str | None
    name: str | None
    member_id: int


class SuggestionOut(BaseModel):
    id: int
    score: float
    status: str
    evidence: list[Any]
    identity_a: SuggestedIdentity
    identity_b: SuggestedIdentity
    member_a: int
    member_a_name: str
    member_b: int
    member_b_name: str
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None


class LogOut(BaseModel):
    id: int
    action: str
    actor: str
    reason: str | None
    created_at: datetime
    undone_by_id: int | None
    undo_of_id: int | None
    summary: str
    changes: dict[str, Any]


class MergeIn(BaseModel):
    others: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] = Field(
        min_length=1, max_length=100, description="Members merged into this one."
    )
    reason: Reason = None
    force: bool = Field(
        False, description="Remove 'different' decisions between them (logged) and merge."
    )


class UnmergeIn(BaseModel):
    identities: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] = Field(
        min_length=1, max_length=500, description="Identity ids of this member moved to a new one."
    )
    reason: Reason = None


class ReasonIn(BaseModel):
    reason: Reason = None


def log_out(entry: Any) -> LogOut:
    return LogOut(**asdict(audit.LogView.of(entry)))


def _suggestion_out(view: audit.SuggestionView, show_emails: bool) -> SuggestionOut:
    def ident(i: audit.IdentityView) -> SuggestedIdentity:
        return SuggestedIdentity(
            id=i.id,
            platform=i.platform,
            kind=i.kind,
            value=mv.shown_value(i.kind, i.value, show_emails),
            name=i.name,
            member_id=i.member_id,
        )

    return SuggestionOut(
        id=view.id,
        score=view.score,
        status=view.status,
        evidence=view.evidence if show_emails else mv.hide_emails(view.evidence),
        identity_a=ident(view.identity_a),
        identity_b=ident(view.identity_b),
        member_a=view.member_a,
        member_a_name=mv.shown_name(view.member_a_name, show_emails),
        member_b=view.member_b,
        member_b_name=mv.shown_name(view.member_b_name, show_emails),
        created_at=view.created_at,
        decided_at=view.decided_at,
        decided_by=view.decided_by,
    )


def _changed(c: Ctx) -> None:
    """Metrics count people as they now are: bring the snapshot's identity map up to date."""
    c.request.app.state.insights.refresh()


@router.get("/members", summary="Members, filtered and paged")
def list_members(
    c: Annotated[Ctx, Depends(require(can_view))],
    p: Annotated[Paging, Depends(paging)],
    q: Annotated[
        str | None,
        Query(max_length=200, description="Name, login (e-mail for operators) or member id."),
    ] = None,
    tag: Annotated[str | None, Query(max_length=100)] = None,
    organization: Annotated[str | None, Query(max_length=300)] = None,
    level: Annotated[int | None, Query(ge=1, le=4, description="Engagement level.")] = None,
    platform: Annotated[str | None, Query(max_length=40)] = None,
    bots: Annotated[bool, Query(description="Include bots.")] = True,
    sort: Literal["name", "newest", "level"] = "name",
) -> Page[MemberOut]:
    filters = mv.MemberFilters(q, tag, organization, level, platform, bots, sort)
    show = c.allows(can_operate)
    levels = mv.engagement_levels(c.request.app.state.insights)
    with c.session() as session:
        rows, total = mv.search_members(
            session, filters, levels=levels, show_emails=show, limit=p.limit, offset=p.offset
        )
    return Page[MemberOut](
        items=[MemberOut(**asdict(r)) for r in rows], total=total, limit=p.limit, offset=p.offset
    )


@router.get("/members/suggestions", summary="Merge suggestions to review, best score first")
def list_suggestions(
    c: Annotated[Ctx, Depends(require(can_view))],
    p: Annotated[Paging, Depends(paging)],
    status: Literal["open", "accepted", "rejected", "stale", "all"] = "open",
) -> Page[SuggestionOut]:
    show = c.allows(can_operate)
    with c.session() as session:
        views, total = mv.suggestions_page(session, status, limit=p.limit, offset=p.offset)
        items = [_suggestion_out(v, show) for v in views]
    return Page[SuggestionOut](items=items, total=total, limit=p.limit, offset=p.offset)


@router.post(
    "/members/suggestions/{suggestion_id}/accept",
    summary="Accept a suggestion: merge the members of its two identities",
)
def accept_suggestion(
    c: Annotated[Ctx, Depends(require(can_operate))],
    suggestion_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    body: ReasonIn | None = None,
) -> LogOut:
    with c.session() as session:
        mv.get_suggestion(session, suggestion_id)
        out = log_out(
            audit.accept_suggestion(
                session, suggestion_id, actor=c.actor, reason=body.reason if body else None
            )
        )
    _changed(c)
    return out


@router.post(
    "/members/suggestions/{suggestion_id}/reject",
    summary="Reject a suggestion: its identities are different people",
)
def reject_suggestion(
    c: Annotated[Ctx, Depends(require(can_operate))],
    suggestion_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    body: ReasonIn | None = None,
) -> LogOut:
    with c.session() as session:
        mv.get_suggestion(session, suggestion_id)
        out = log_out(
            audit.reject_suggestion(
                session, suggestion_id, actor=c.actor, reason=body.reason if body else None
            )
        )
    _changed(c)
    return out


@router.get("/members/log", summary="The identity log, newest first")
def identity_log(
    c: Annotated[Ctx, Depends(require(can_view))],
    p: Annotated[Paging, Depends(paging)],
    member: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="Only entries touching this member.")
    ] = None,
) -> Page[LogOut]:
    with c.session() as session:
        if member is not None:
            mv.get_member(session, member)
        entries, total = mv.log_page(session, member, limit=p.limit, offset=p.offset)
    items = [LogOut(**asdict(e)) for e in entries]
    return Page[LogOut](items=items, total=total, limit=p.limit, offset=p.offset)


@router.post("/members/log/{log_id}/undo", summary="Undo an identity log entry")
def undo(
    c: Annotated[Ctx, Depends(require(can_operate))],
    log_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    body: ReasonIn | None = None,
) -> LogOut:
    with c.session() as session:
        mv.log_entry(session, log_id)
        out = log_out(
            audit.undo(session, log_id, actor=c.actor, reason=body.reason if body else None)
        )
    _changed(c)
    return out


@router.get("/members/{member_id}", summary="A member's profile")
def get_member(c: Annotated[Ctx, Depends(require(can_view))], member_id: MemberId) -> ProfileOut:
    levels = mv.known_levels(c.request.app.state.insights)
    with c.session() as session:
        profile = mv.member_profile(
            session, member_id, level=levels.get(member_id), show_emails=c.allows(can_operate)
        )
    data = asdict(profile)
    data.pop("extra")
    return ProfileOut(**data)


@router.get("/members/{member_id}/timeline", summary="A member's activities, newest first")
def member_timeline(
    c: Annotated[Ctx, Depends(require(can_view))],
    member_id: MemberId,
    p: Annotated[Paging, Depends(paging)],
) -> Page[TimelineOut]:
    with c.session() as session:
        rows, total = mv.timeline(session, member_id, limit=p.limit, offset=p.offset)
    return Page[TimelineOut](
        items=[TimelineOut(**asdict(r)) for r in rows], total=total, limit=p.limit, offset=p.offset
    )


@router.post("/members/{member_id}/merge", summary="Merge other members into this one")
def merge(
    c: Annotated[Ctx, Depends(require(can_operate))], member_id: MemberId, body: MergeIn
) -> LogOut:
    with c.session() as session:
        mv.check_merge(session, member_id, body.others)
        out = log_out(
            audit.merge_members(
                session, member_id, body.others, actor=c.actor, reason=body.reason, force=body.force
            )
        )
    _changed(c)
    return out


class ProfileIn(BaseModel):
    add_tags: list[Annotated[str, Field(min_length=1, max_length=60)]] = Field(
        default=[], max_length=50
    )
    remove_tags: list[Annotated[str, Field(min_length=1, max_length=60)]] = Field(
        default=[], max_length=50
    )
    notes: str | None = Field(
        default=None, max_length=10_000, description='Replaces the notes; "" clears them.'
    )


class ProfileChange(BaseModel):
    changed: bool
    log: LogOut | None


@router.patch("/members/{member_id}", summary="Tag, untag, or replace a member's notes")
def patch_member(
    c: Annotated[Ctx, Depends(require(can_operate))], member_id: MemberId, body: ProfileIn
) -> ProfileChange:
    with c.session() as session:
        mv.member_tags(session, member_id)
        entry = audit.update_profile(
            session,
            member_id,
            add_tags=body.add_tags,
            remove_tags=body.remove_tags,
            notes=body.notes,
            actor=c.actor,
        )
        out = None if entry is None else log_out(entry)
    if out is not None:
        _changed(c)
    return ProfileChange(changed=out is not None, log=out)


@router.post(
    "/members/{member_id}/unmerge",
    summary="Move identities of this member to a new member",
    status_code=201,
)
def unmerge(
    c: Annotated[Ctx, Depends(require(can_operate))], member_id: MemberId, body: UnmergeIn
) -> LogOut:
    with c.session() as session:
        mv.check_identities(session, member_id, body.identities)
        out = log_out(audit.unmerge(session, body.identities, actor=c.actor, reason=body.reason))
    _changed(c)
    return out


@router.post(
    "/members/{member_id}/split",
    summary="Give every identity of this member a member of its own",
    status_code=201,
)
def split(
    c: Annotated[Ctx, Depends(require(can_operate))],
    member_id: MemberId,
    body: ReasonIn | None = None,
) -> LogOut:
    with c.session() as session:
        mv.get_member(session, member_id)
        out = log_out(
            audit.split_member(
                session, member_id, actor=c.actor, reason=body.reason if body else None
            )
        )
    _changed(c)
    return out
