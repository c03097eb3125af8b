"""``/api/v1/content``: the content pipeline, its calendar and community review.

The same reads and domain functions as the pages (``commops.web.views.content``): viewers and
up read items and the calendar, operators and admins move them, reviewers use only
``/content/reviews`` and there only for the items they were asked to review.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, status
from fastapi.responses import Response
from pydantic import BaseModel, Field, StringConstraints

from commops.errors import UsageError
from commops.ops import content
from commops.ops.content import views as content_views
from commops.web.api.common import API, Page, Paging, page_of, paging
from commops.web.deps import Ctx, require
from commops.web.permissions import can_operate, can_review, can_view
from commops.web.views.content import (
    ItemId,
    calendar_range,
    can_see_review,
    live_item,
    review_queue,
    review_target,
)

router = APIRouter(prefix=API, tags=["content"])

Kind = Literal["article", "case", "story", "tutorial", "video", "translation"]
State = Literal[
    "pitch",
    "accepted",
    "drafting",
    "in_review",
    "approved",
    "scheduled",
    "published",
    "withdrawn",
]
Channel = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,59}$")]
Language = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"\S")]
MemberRef = (
    Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"\S")]
    | Annotated[int, Field(ge=1, le=2_147_483_647)]
)
Text = Annotated[str, StringConstraints(max_length=10_000)]


# -- response models ---------------------------------------------------------------------------


class ContentItemOut(BaseModel):
    """An item in a line."""

    id: int
    kind: str
    title: str
    state: str
    language: str
    authors: list[str | None]
    author_ids: list[int]
    channels: list[str]
    tags: list[str]
    project: str | None
    release: str | None
    translation_of: int | None
    published_at: datetime | None
    url: str | None
    updated_at: datetime
    deleted: bool


class PersonOut(BaseModel):
    member_id: int
    display_name: str | None
    is_staff: bool


class ReviewOut(BaseModel):
    id: int
    reviewer_id: int
    reviewer: str | None
    verdict: Literal["approve", "request_changes", "comment"]
    message: str | None
    at: datetime
    actor: str


class RoundOut(BaseModel):
    """A review round and where it stands against the approval rule."""

    number: int
    outcome: Literal["open", "approved", "changes_requested", "withdrawn"]
    opened_at: datetime
    opened_by: str
    closed_at: datetime | None
    reviewers: list[PersonOut]
    reviews: list[ReviewOut]
    approvals: int
    approvals_required: int
    non_staff_approvals: int
    rule_met: bool
    missing: str | None


class PostOut(BaseModel):
    channel: str
    state: Literal["scheduled", "published", "cancelled"]
    scheduled_on: date | None
    published_at: datetime | None
    url: str | None


class LogOut(BaseModel):
    at: datetime
    actor: str
    action: str
    from_state: str | None
    to_state: str | None
    reason: str | None
    details: dict[str, Any]


class ContentDetailOut(BaseModel):
    """Everything about an item: fields, authors, review rounds, posts and audit log."""

    id: int
    kind: str
    title: str
    state: str
    language: str
    authors: list[PersonOut]
    author_ids: list[int]
    channels: list[str]
    tags: list[str]
    project: str | None
    release: str | None
    translation_of: int | None
    translations: list[int]
    summary: str | None
    slug: str | None
    published_at: datetime | None
    url: str | None
    approvals_required: int
    approvals_override: int | None
    withdrawn_reason: str | None
    created_at: datetime
    updated_at: datetime
    deleted: bool
    deleted_at: datetime | None
    rounds: list[RoundOut]
    posts: list[PostOut]
    log: list[LogOut]


class ReviewQueueOut(ContentItemOut):
    """An item on the review page: ``asked_of_me`` when the caller's member is asked in its
    open round."""

    asked_of_me: bool
    awaiting_review: bool


class ReviewResultOut(BaseModel):
    review_id: int
    verdict: str
    round: int
    state: str
    approvals: int
    approvals_required: int
    rule_met: bool


class CalendarEntryOut(BaseModel):
    item_id: int
    title: str
    kind: str
    day: date
    url: str | None
    overdue: bool


class CalendarCellOut(BaseModel):
    week: date
    label: str
    channel: str
    gap: bool
    scheduled: list[CalendarEntryOut]
    published: list[CalendarEntryOut]


class CalendarOut(BaseModel):
    """Scheduled and published items per ISO week and channel; ``gap``: nothing in a week."""

    since: date
    until: date
    channels: list[str]
    weeks: list[date]
    cells: list[CalendarCellOut]


# -- request bodies ----------------------------------------------------------------------------


class NewItem(BaseModel):
    title: Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=r"\S")]
    kind: Kind
    authors: Annotated[list[MemberRef], Field(min_length=1, max_length=20)]
    language: Language
    channels: Annotated[list[Channel], Field(max_length=20)] = []
    tags: Annotated[list[Tag], Field(max_length=50)] = []
    project: Annotated[str | None, StringConstraints(max_length=200)] = None
    release: Annotated[str | None, StringConstraints(max_length=100)] = None
    translation_of: Annotated[int | None, Field(ge=1, le=2_147_483_647)] = None
    approvals: Annotated[int | None, Field(ge=1, le=20)] = None
    summary: Text | None = None


class SubmitBody(BaseModel):
    reviewers: Annotated[list[MemberRef], Field(min_length=1, max_length=20)]


class ScheduleBody(BaseModel):
    on: date
    channel: Channel


class PublishBody(BaseModel):
    url: Annotated[str, StringConstraints(min_length=10, max_length=2000)]
    channel: Channel | None = None


class WithdrawBody(BaseModel):
    reason: Annotated[str, StringConstraints(min_length=1, max_length=2000, pattern=r"\S")]


class CrossPostBody(BaseModel):
    channel: Channel
    url: Annotated[str | None, StringConstraints(min_length=10, max_length=2000)] = None


class EditBody(BaseModel):
    """Only the fields sent change. ``approvals: null`` goes back to ``[content] approvals``;
    authors change only before review."""

    title: Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=r"\S")] | None = (
        None
    )
    language: Language | None = None
    channels: Annotated[list[Channel], Field(max_length=20)] | None = None
    tags: Annotated[list[Tag], Field(max_length=50)] | None = None
    project: Annotated[str, StringConstraints(max_length=200)] | None = None
    release: Annotated[str, StringConstraints(max_length=100)] | None = None
    summary: Text | None = None
    approvals: Annotated[int, Field(ge=1, le=20)] | None = None
    authors: Annotated[list[MemberRef], Field(min_length=1, max_length=20)] | None = None
    reason: Annotated[str, StringConstraints(max_length=2000)] | None = None


class ReviewBody(BaseModel):
    verdict: Literal["approve", "request_changes", "comment"]
    message: Text | None = None


# -- reads -------------------------------------------------------------------------------------


def _detail(c: Ctx, item_id: int, *, include_deleted: bool = True) -> ContentDetailOut:
    with c.session() as session:
        item = live_item(session, item_id, include_deleted=include_deleted)
        data = content_views.item_detail(session, item, c.ws.config.content_approvals)
    return ContentDetailOut.model_validate(data)


@router.get("/content/items", summary="Content items, newest first, filtered")
def list_content(
    c: Annotated[Ctx, Depends(require(can_view))],
    p: Annotated[Paging, Depends(paging)],
    state: State | None = None,
    kind: Kind | None = None,
    channel: Annotated[Channel | None, Query()] = None,
    tag: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    author: Annotated[int | None, Query(ge=1, le=2_147_483_647, description="Member id")] = None,
) -> Page[ContentItemOut]:
    with c.session() as session:
        items = content.list_items(
            session, state=state, kind=kind, channel=channel, tag=tag, author=author
        )
        window = items[p.offset : p.offset + p.limit]
        rows = [ContentItemOut.model_validate(content_views.item_row(session, i)) for i in window]
    return Page[ContentItemOut](items=rows, total=len(items), limit=p.limit, offset=p.offset)


@router.get("/content/items/{item_id}", summary="One item with its rounds, posts and log")
def get_content(c: Annotated[Ctx, Depends(require(can_view))], item_id: ItemId) -> ContentDetailOut:
    return _detail(c, item_id)


@router.get("/content/calendar", summary="The editorial calendar: posts per week and channel")
def get_calendar(
    c: Annotated[Ctx, Depends(require(can_view))],
    since: date | None = None,
    until: date | None = None,
    channel: Annotated[list[Channel] | None, Query()] = None,
) -> CalendarOut:
    start, end = calendar_range(since, until)
    with c.session() as session:
        cal = content.calendar(session, since=start, until=end, channels=channel or [])
    return CalendarOut(
        since=cal.since,
        until=cal.until,
        channels=cal.channels,
        weeks=cal.weeks,
        cells=[
            CalendarCellOut(
                week=cell.week,
                label=cell.label,
                channel=cell.channel,
                gap=cell.gap,
                scheduled=[CalendarEntryOut(**vars(e)) for e in cell.scheduled],
                published=[CalendarEntryOut(**vars(e)) for e in cell.published],
            )
            for cell in cal.cells
        ],
    )


# -- changes -----------------------------------------------------------------------------------


@router.post(
    "/content/items",
    status_code=status.HTTP_201_CREATED,
    summary="Add an item (as a pitch)",
)
def create_content(
    c: Annotated[Ctx, Depends(require(can_operate))], body: NewItem
) -> ContentDetailOut:
    with c.session() as session:
        item = content.add_item(
            session,
            title=body.title,
            kind=body.kind,
            authors=body.authors,
            language=body.language,
            channels=body.channels,
            tags=body.tags,
            project=body.project,
            release=body.release,
            translation_of=body.translation_of,
            approvals=body.approvals,
            summary=body.summary,
            actor=c.actor,
        )
        item_id = item.id
    return _detail(c, item_id)


@router.post("/content/items/{item_id}/accept", summary="pitch → accepted")
def accept_content(
    c: Annotated[Ctx, Depends(require(can_operate))], item_id: ItemId
) -> ContentDetailOut:
    with c.session() as session:
        content.accept(session, live_item(session, item_id).id, actor=c.actor)
    return _detail(c, item_id)


@router.post("/content/items/{item_id}/drafting", summary="accepted → drafting")
def draft_content(
    c: Annotated[Ctx, Depends(require(can_operate))], item_id: ItemId
) -> ContentDetailOut:
    with c.session() as session:
        content.start_drafting(session, live_item(session, item_id).id, actor=c.actor)
    return _detail(c, item_id)


@router.post(
    "/content/items/{item_id}/submit",
    summary="drafting → in_review: open a review round asking the reviewers",
)
def submit_content(
    c: Annotated[Ctx, Depends(require(can_operate))], item_id: ItemId, body: SubmitBody
) -> ContentDetailOut:
    with c.session() as session:
        content.submit_for_review(
            session,
            live_item(session, item_id).id,
            body.reviewers,
            default_approvals=c.ws.config.content_approvals,
            actor=c.actor,
        )
    return _detail(c, item_id)


@router.post("/content/items/{item_id}/schedule", summary="approved → scheduled on a channel")
def schedule_content(
    c: Annotated[Ctx, Depends(require(can_operate))], item_id: ItemId, body: ScheduleBody
) -> ContentDetailOut:
    with c.session() as session:
        content.schedule(
            session, live_item(session, item_id).id, on=body.on, channel=body.channel, actor=c.actor
        )
    return _detail(c, item_id)


@router.post("/content/items/{item_id}/publish", summary="approved or scheduled → published")
def publish_content(
    c: Annotated[Ctx, Depends(require(can_operate))], item_id: ItemId, body: PublishBody
) -> ContentDetailOut:
    with c.session() as session:
        content.publish(
            session,
            live_item(session, item_id).id,
            url=body.url,
            channel=body.channel,
            actor=c.actor,
        )
    return _detail(c, item_id)


@router.post(
    "/content/items/{item_id}/cross-post",
    summary="Post a published item on another channel (its authors are credited once)",
)
def cross_post_content(
    c: Annotated[Ctx, Depends(require(can_operate))], item_id: ItemId, body: CrossPostBody
) -> ContentDetailOut:
    with c.session() as session:
        content.cross_post(
            session,
            live_item(session, item_id).id,
            channel=body.channel,
            url=body.url,
            actor=c.actor,
        )
    return _detail(c, item_id)


@router.post(
    "/content/items/{item_id}/approve",
    summary="in_review → approved when the approval rule holds (else 400: what is missing)",
)
def approve_content(
    c: Annotated[Ctx, Depends(require(can_operate))], item_id: ItemId
) -> ContentDetailOut:
    with c.session() as session:
        content.approve(
            session,
            live_item(session, item_id).id,
            default_approvals=c.ws.config.content_approvals,
            actor=c.actor,
        )
    return _detail(c, item_id)


@router.patch("/content/items/{item_id}", summary="Change an item's descriptive fields")
def edit_content(
    c: Annotated[Ctx, Depends(require(can_operate))], item_id: ItemId, body: EditBody
) -> ContentDetailOut:
    sent = body.model_fields_set - {"reason"}
    if not sent:
        raise UsageError("send at least one field to change")
    for name in sent - {"approvals", "project", "release", "summary"}:
        if getattr(body, name) is None:
            raise UsageError(f"{name}: cannot be null")
    fields: dict[str, Any] = {name: getattr(body, name) for name in sent}
    if "approvals" in sent and body.approvals is None:
        fields.pop("approvals")
        fields["clear_approvals"] = True
    for name in ("project", "release", "summary"):
        if name in fields and fields[name] is None:
            fields[name] = ""
    with c.session() as session:
        content.edit_item(
            session, live_item(session, item_id).id, actor=c.actor, reason=body.reason, **fields
        )
    return _detail(c, item_id)


@router.post("/content/items/{item_id}/withdraw", summary="Withdraw an item, with a reason")
def withdraw_content(
    c: Annotated[Ctx, Depends(require(can_operate))], item_id: ItemId, body: WithdrawBody
) -> ContentDetailOut:
    with c.session() as session:
        content.withdraw(session, live_item(session, item_id).id, reason=body.reason, actor=c.actor)
    return _detail(c, item_id)


@router.delete(
    "/content/items/{item_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete an item (soft, audited; restore it with /restore)",
)
def delete_content(
    c: Annotated[Ctx, Depends(require(can_operate))],
    item_id: ItemId,
    reason: Annotated[str | None, Query(max_length=2000)] = None,
) -> Response:
    with c.session() as session:
        content.delete_item(session, live_item(session, item_id).id, actor=c.actor, reason=reason)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/content/items/{item_id}/restore", summary="Bring back a deleted item")
def restore_content(
    c: Annotated[Ctx, Depends(require(can_operate))], item_id: ItemId
) -> ContentDetailOut:
    with c.session() as session:
        item = live_item(session, item_id, include_deleted=True)
        if item.deleted_at is None:
            raise UsageError(f"content {item_id} is not deleted")
        content.restore_item(session, item.id, actor=c.actor)
    return _detail(c, item_id)


# -- community review --------------------------------------------------------------------------


@router.get(
    "/content/reviews",
    summary="Items to review: a reviewer's own; every item in review for operators",
)
def list_reviews(
    c: Annotated[Ctx, Depends(require(can_review))],
    p: Annotated[Paging, Depends(paging)],
) -> Page[ReviewQueueOut]:
    with c.session() as session:
        rows = [ReviewQueueOut.model_validate(r) for r in review_queue(session, c.principal)]
    return page_of(rows, p)


@router.get("/content/reviews/{item_id}", summary="An item as its reviewer sees it")
def get_review(
    c: Annotated[Ctx, Depends(require(can_review))], item_id: ItemId
) -> ContentDetailOut:
    with c.session() as session:
        item = live_item(session, item_id)
        c.check(can_see_review, review_target(session, item.id))
    return _detail(c, item_id, include_deleted=False)


@router.post(
    "/content/reviews/{item_id}",
    status_code=status.HTTP_201_CREATED,
    summary="Give a review as the signed-in reviewer: approve, request_changes or comment",
)
def give_review(
    c: Annotated[Ctx, Depends(require(can_review))], item_id: ItemId, body: ReviewBody
) -> ReviewResultOut:
    with c.session() as session:
        item = live_item(session, item_id)
        c.check(can_see_review, review_target(session, item.id))
        member_id = c.principal.member_id if c.principal else None
        if member_id is None:
            raise UsageError(
                "your account is not linked to a member, so you cannot review: ask an admin "
                "to link it"
            )
        outcome = content.review(
            session,
            item.id,
            member_id,
            body.verdict,
            default_approvals=c.ws.config.content_approvals,
            actor=c.actor,
            body=body.message,
        )
        return ReviewResultOut(
            review_id=outcome.review.id,
            verdict=outcome.review.verdict,
            round=outcome.round.number,
            state=outcome.state,
            approvals=len(outcome.status.approvers),
            approvals_required=outcome.status.required,
            rule_met=outcome.status.met,
        )
