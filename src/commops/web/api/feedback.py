"""``/api/v1/feedback``: the inbox of feedback items, suggested duplicates and themes.

The same reads and domain functions as the pages (``commops.web.views.feedback``): viewers and
up read, operators and admins change. Reviewers have no part here.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import PurePath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile, status
from fastapi.responses import Response
from pydantic import BaseModel, Field, StringConstraints

from commops.errors import UsageError
from commops.ops.feedback import items as fb_items
from commops.ops.feedback import loop as fb_loop
from commops.ops.feedback import suggestions as fb_suggestions
from commops.ops.feedback import themes as fb_themes
from commops.web.api.common import API, Page, Paging, page_of, paging
from commops.web.deps import Ctx, require
from commops.web.permissions import can_operate, can_view
from commops.web.views.feedback import (
    Id,
    capture_now,
    import_upload,
    inbox,
    item_dict,
    item_or_404,
    suggestion_or_404,
    theme_or_404,
)

router = APIRouter(prefix=API, tags=["feedback"])

Origin = Literal["github", "gitee", "discourse", "survey", "wechat", "event", "email", "manual"]
EnteredOrigin = Literal["survey", "wechat", "event", "email", "manual"]
Status = Literal["new", "triaged", "planned", "in_progress", "shipped", "declined"]
Title = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=r"\S")]
Url = Annotated[str, StringConstraints(max_length=2000)]
Reason = Annotated[str, StringConstraints(max_length=5000)]
MemberRef = (
    Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"\S")]
    | Annotated[int, Field(ge=1, le=2_147_483_647)]
)


class FeedbackItemOut(BaseModel):
    """One piece of feedback: who raised it (the member, and their organisation on that day),
    where, when, and in which theme. ``link`` may be ``activity:<uid>``; ``web_link`` is the
    same when it is a web address."""

    id: int
    title: str
    body: str
    origin: str
    channel: str | None
    link: str | None
    web_link: str | None
    member_id: int | None
    member: str | None
    organization: str | None
    raised_at: datetime
    age_days: int
    theme_id: int | None
    theme: str | None
    deleted_at: datetime | None


class SuggestionRef(BaseModel):
    id: int
    other_item_id: int
    score: float
    status: Literal["open", "accepted", "rejected"]


class HistoryOut(BaseModel):
    at: datetime
    actor: str
    action: str
    from_state: str | None = None
    to_state: str | None = None
    reason: str | None
    details: dict[str, Any]


class FeedbackItemDetailOut(FeedbackItemOut):
    suggestions: list[SuggestionRef]
    history: list[HistoryOut]


class ThemeOut(BaseModel):
    """A theme with its weight (members, organisations, items) and service level."""

    id: int
    title: str
    description: str | None
    status: str
    reason: str | None
    product_area: str | None
    owner_member_id: int | None
    owner: str | None
    link: str | None
    items: int
    members: int
    organizations: list[str]
    start: datetime
    due: datetime
    age_days: int
    overdue: bool
    within_sla: bool | None
    created_at: datetime
    status_at: datetime
    closed_at: datetime | None
    deleted_at: datetime | None


class PersonOut(BaseModel):
    member_id: int
    name: str
    organization: str | None
    first_raised_at: datetime
    items: list[int]


class ThemeDetailOut(ThemeOut):
    people: list[PersonOut]
    item_ids: list[int]
    history: list[HistoryOut]


class SuggestionOut(BaseModel):
    """Two items whose texts are alike, with the evidence for the score."""

    id: int
    score: float
    status: str
    item_a_id: int
    item_a: str
    item_b_id: int
    item_b: str
    theme_a_id: int | None
    theme_b_id: int | None
    evidence: dict[str, float]
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None


class NewFeedback(BaseModel):
    title: Title
    body: Annotated[str, StringConstraints(max_length=20_000)] = ""
    origin: EnteredOrigin = "manual"
    channel: Annotated[str | None, StringConstraints(max_length=300)] = None
    url: Url | None = None
    member: MemberRef | None = None
    raised_at: datetime | None = None


class CaptureOut(BaseModel):
    """What a capture did: the new items, and how many matching activities were captured
    before."""

    labels: list[str]
    categories: list[str]
    added: list[int]
    already: int


class ImportOut(BaseModel):
    """What an import did: the items added and the lines left alone (imported before)."""

    file: str
    rows: int
    added: list[int]
    already: list[int]


class RecipientOut(BaseModel):
    member_id: int
    name: str
    organization: str | None
    channel: str
    address: str | None
    items: list[int]
    notified_at: datetime | None
    notified_channel: str | None


class NotifyListOut(BaseModel):
    """Who to tell about a shipped or declined theme, where, and the draft message for each
    channel (in English)."""

    theme_id: int
    title: str
    status: str
    reason: str | None
    link: str | None
    members: int
    organizations: list[str]
    recipients: list[RecipientOut]
    drafts: dict[str, str]
    warnings: list[str]


class Notified(BaseModel):
    member: Annotated[int, Field(ge=1, le=2_147_483_647)]
    channel: Literal["github", "gitee", "forum", "email", "wechat"] | None = None


class ThemeRef(BaseModel):
    theme_id: Annotated[int, Field(ge=1, le=2_147_483_647)]


class NewTheme(BaseModel):
    title: Title
    description: Annotated[str | None, StringConstraints(max_length=20_000)] = None
    product_area: Annotated[str | None, StringConstraints(max_length=100)] = None
    owner: MemberRef | None = None
    link: Url | None = None
    items: Annotated[
        list[Annotated[int, Field(ge=1, le=2_147_483_647)]], Field(max_length=500)
    ] = []


class StatusChange(BaseModel):
    status: Literal["triaged", "planned", "in_progress", "shipped", "declined"]
    reason: Reason | None = None
    link: Url | None = None


class Routing(BaseModel):
    """Only the fields sent change; ``null`` clears one."""

    product_area: Annotated[str | None, StringConstraints(max_length=100)] = None
    owner: MemberRef | None = None
    link: Url | None = None


class Decision(BaseModel):
    reason: Reason | None = None
    title: Title | None = None


# -- items -------------------------------------------------------------------------------------


def _utc(value: datetime | None) -> datetime | None:
    """A naive UTC datetime, as the store keeps them."""
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def _item(c: Ctx, item_id: int) -> FeedbackItemDetailOut:
    with c.session() as session:
        item_or_404(session, item_id)
        detail = fb_items.item_detail(session, item_id)
    return FeedbackItemDetailOut(
        **item_dict(detail.item),
        suggestions=[SuggestionRef(**s) for s in detail.suggestions],
        history=[HistoryOut(**h) for h in detail.history],
    )


@router.get("/feedback/items", summary="The inbox: feedback items, newest first, filtered")
def list_feedback(
    c: Annotated[Ctx, Depends(require(can_view))],
    p: Annotated[Paging, Depends(paging)],
    origin: Origin | None = None,
    theme_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    unthemed: Annotated[bool, Query(description="Only items in no (live) theme")] = False,
    since: Annotated[date | None, Query(description="Raised on or after this day")] = None,
    deleted: Annotated[bool, Query(description="Only deleted items")] = False,
) -> Page[FeedbackItemOut]:
    if theme_id is not None and unthemed:
        raise UsageError("theme_id and unthemed: give one or the other")
    with c.session() as session:
        found = inbox(
            session,
            origin=origin,
            theme="none" if unthemed else (str(theme_id) if theme_id else None),
            since=since,
            deleted=deleted,
        )
    return page_of([FeedbackItemOut(**item_dict(i)) for i in found], p)


@router.post(
    "/feedback/items", status_code=status.HTTP_201_CREATED, summary="Record a piece of feedback"
)
def create_feedback(
    c: Annotated[Ctx, Depends(require(can_operate))], body: NewFeedback
) -> FeedbackItemDetailOut:
    with c.session() as session:
        item = fb_items.add_item(
            session,
            title=body.title,
            body=body.body,
            origin=body.origin,
            channel=body.channel,
            url=body.url,
            member=body.member,
            raised_at=_utc(body.raised_at),
            actor=c.actor,
        )
        item_id = item.id
    return _item(c, item_id)


@router.post(
    "/feedback/capture",
    summary="Capture labelled issues and forum topics as items (once each)",
)
def capture_feedback(c: Annotated[Ctx, Depends(require(can_operate))]) -> CaptureOut:
    with c.session() as session:
        result = capture_now(c, session)
    return CaptureOut(**asdict(result))


@router.post(
    "/feedback/import",
    summary="Import a CSV file of feedback (multipart: file, origin, channel, dry_run)",
)
def import_feedback(
    c: Annotated[Ctx, Depends(require(can_operate))],
    file: Annotated[UploadFile, File(description="CSV: title, id, body, member, ...")],
    origin: Annotated[EnteredOrigin, Form()] = "survey",
    channel: Annotated[str | None, Form(max_length=300)] = None,
    dry_run: Annotated[bool, Form()] = False,
) -> ImportOut:
    with c.session() as session:
        result = import_upload(
            c, session, file, origin=origin, channel=channel or None, dry_run=dry_run
        )
    return ImportOut(
        file=PurePath(result.file).name,
        rows=result.rows,
        added=result.added,
        already=result.already,
    )


@router.get("/feedback/items/{item_id}", summary="An item, its suggestions and its history")
def get_feedback(
    c: Annotated[Ctx, Depends(require(can_view))], item_id: Id
) -> FeedbackItemDetailOut:
    return _item(c, item_id)


@router.put("/feedback/items/{item_id}/theme", summary="Put an item in a theme")
def assign_feedback(
    c: Annotated[Ctx, Depends(require(can_operate))], item_id: Id, body: ThemeRef
) -> FeedbackItemDetailOut:
    with c.session() as session:
        item_or_404(session, item_id)
        theme_or_404(session, body.theme_id)
        fb_themes.assign_item(session, item_id, body.theme_id, actor=c.actor)
    return _item(c, item_id)


@router.delete("/feedback/items/{item_id}/theme", summary="Take an item out of its theme")
def unassign_feedback(
    c: Annotated[Ctx, Depends(require(can_operate))], item_id: Id
) -> FeedbackItemDetailOut:
    with c.session() as session:
        item_or_404(session, item_id)
        fb_themes.unassign_item(session, item_id, actor=c.actor)
    return _item(c, item_id)


@router.delete(
    "/feedback/items/{item_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete an item (soft, audited; its credit is withdrawn)",
)
def delete_feedback(
    c: Annotated[Ctx, Depends(require(can_operate))],
    item_id: Id,
    reason: Annotated[str | None, Query(max_length=2000)] = None,
) -> Response:
    with c.session() as session:
        item_or_404(session, item_id)
        fb_items.delete_item(session, item_id, actor=c.actor, reason=reason)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/feedback/items/{item_id}/restore", summary="Bring back a deleted item")
def restore_feedback(
    c: Annotated[Ctx, Depends(require(can_operate))], item_id: Id
) -> FeedbackItemDetailOut:
    with c.session() as session:
        item_or_404(session, item_id)
        fb_items.restore_item(session, item_id, actor=c.actor, reason=None)
    return _item(c, item_id)


# -- suggestions -------------------------------------------------------------------------------


@router.get("/feedback/suggestions", summary="Pairs of items that may say the same thing")
def list_feedback_suggestions(
    c: Annotated[Ctx, Depends(require(can_view))],
    p: Annotated[Paging, Depends(paging)],
    state: Literal["open", "accepted", "rejected"] = "open",
) -> Page[SuggestionOut]:
    with c.session() as session:
        found = fb_suggestions.list_suggestions(session, status=state)
    return page_of([SuggestionOut(**asdict(s)) for s in found], p)


@router.post(
    "/feedback/suggestions/{suggestion_id}/accept",
    summary="The two items say the same thing: put them in one theme",
)
def accept_feedback_suggestion(
    c: Annotated[Ctx, Depends(require(can_operate))],
    suggestion_id: Id,
    body: Decision | None = None,
) -> ThemeDetailOut:
    with c.session() as session:
        suggestion_or_404(session, suggestion_id)
        theme_id = fb_suggestions.accept(
            session,
            suggestion_id,
            actor=c.actor,
            title=body.title if body else None,
            reason=body.reason if body else None,
        )
    return _theme(c, theme_id)


@router.post(
    "/feedback/suggestions/{suggestion_id}/reject",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="The two items are different requests: never suggest the pair again",
)
def reject_feedback_suggestion(
    c: Annotated[Ctx, Depends(require(can_operate))],
    suggestion_id: Id,
    body: Decision | None = None,
) -> Response:
    with c.session() as session:
        suggestion_or_404(session, suggestion_id)
        fb_suggestions.reject(
            session, suggestion_id, actor=c.actor, reason=body.reason if body else None
        )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# -- themes ------------------------------------------------------------------------------------


def _theme(c: Ctx, theme_id: int) -> ThemeDetailOut:
    with c.session() as session:
        theme_or_404(session, theme_id)
        detail = fb_themes.theme_detail(session, theme_id, sla_days=c.ws.config.feedback_sla_days)
    return ThemeDetailOut(
        **asdict(detail.theme),
        people=[
            PersonOut(
                member_id=p.member_id,
                name=p.name,
                organization=p.organization,
                first_raised_at=p.first_raised_at,
                items=p.items,
            )
            for p in detail.people
        ],
        item_ids=detail.item_ids,
        history=[HistoryOut(**h) for h in detail.history],
    )


@router.get("/feedback/themes", summary="Themes, heaviest first, with their service level")
def list_feedback_themes(
    c: Annotated[Ctx, Depends(require(can_view))],
    p: Annotated[Paging, Depends(paging)],
    status_: Annotated[list[Status] | None, Query(alias="status")] = None,
    area: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    overdue: bool = False,
    deleted: bool = False,
) -> Page[ThemeOut]:
    with c.session() as session:
        found = fb_themes.list_themes(
            session,
            sla_days=c.ws.config.feedback_sla_days,
            status=status_ or [],
            area=area,
            overdue=overdue,
            deleted=deleted,
        )
    return page_of([ThemeOut(**asdict(t)) for t in found], p)


@router.post("/feedback/themes", status_code=status.HTTP_201_CREATED, summary="Create a theme")
def create_feedback_theme(
    c: Annotated[Ctx, Depends(require(can_operate))], body: NewTheme
) -> ThemeDetailOut:
    with c.session() as session:
        for item_id in body.items:
            item_or_404(session, item_id)
        theme = fb_themes.create_theme(
            session,
            body.title,
            description=body.description,
            product_area=body.product_area,
            owner=body.owner,
            link=body.link,
            items=body.items,
            actor=c.actor,
        )
        theme_id = theme.id
    return _theme(c, theme_id)


@router.get("/feedback/themes/{theme_id}", summary="A theme, the people behind it, its history")
def get_feedback_theme(
    c: Annotated[Ctx, Depends(require(can_view))], theme_id: Id
) -> ThemeDetailOut:
    return _theme(c, theme_id)


@router.post("/feedback/themes/{theme_id}/status", summary="Move a theme to its next state")
def change_feedback_theme_status(
    c: Annotated[Ctx, Depends(require(can_operate))], theme_id: Id, body: StatusChange
) -> ThemeDetailOut:
    with c.session() as session:
        theme_or_404(session, theme_id)
        fb_themes.set_status(
            session, theme_id, body.status, actor=c.actor, reason=body.reason, link=body.link
        )
    return _theme(c, theme_id)


@router.get(
    "/feedback/themes/{theme_id}/notify-list",
    summary="Who to tell about a shipped or declined theme, with draft messages",
)
def feedback_notify_list(
    c: Annotated[Ctx, Depends(require(can_view))], theme_id: Id
) -> NotifyListOut:
    with c.session() as session:
        theme_or_404(session, theme_id)
        found = fb_loop.notify_list(session, theme_id, sla_days=c.ws.config.feedback_sla_days)
    return NotifyListOut.model_validate(asdict(found))


@router.post(
    "/feedback/themes/{theme_id}/notified",
    summary="Record that a member was told (emits feedback:closed_loop once)",
)
def feedback_notified(
    c: Annotated[Ctx, Depends(require(can_operate))], theme_id: Id, body: Notified
) -> NotifyListOut:
    with c.session() as session:
        theme_or_404(session, theme_id)
        fb_loop.record_notified(session, theme_id, body.member, actor=c.actor, channel=body.channel)
    return feedback_notify_list(c, theme_id)


@router.patch("/feedback/themes/{theme_id}", summary="Route a theme: product area, owner and link")
def route_feedback_theme(
    c: Annotated[Ctx, Depends(require(can_operate))], theme_id: Id, body: Routing
) -> ThemeDetailOut:
    sent = body.model_fields_set
    if not sent:
        raise UsageError("routing: send product_area, owner or link")
    changes: dict[str, Any] = {name: getattr(body, name) for name in sent}
    with c.session() as session:
        theme_or_404(session, theme_id)
        fb_themes.route_theme(session, theme_id, actor=c.actor, **changes)
    return _theme(c, theme_id)


@router.delete(
    "/feedback/themes/{theme_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a theme (soft, audited; its items count as unthemed)",
)
def delete_feedback_theme(
    c: Annotated[Ctx, Depends(require(can_operate))],
    theme_id: Id,
    reason: Annotated[str | None, Query(max_length=2000)] = None,
) -> Response:
    with c.session() as session:
        theme_or_404(session, theme_id)
        fb_themes.delete_theme(session, theme_id, actor=c.actor, reason=reason)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/feedback/themes/{theme_id}/restore", summary="Bring back a deleted theme")
def restore_feedback_theme(
    c: Annotated[Ctx, Depends(require(can_operate))], theme_id: Id
) -> ThemeDetailOut:
    with c.session() as session:
        theme_or_404(session, theme_id)
        fb_themes.restore_theme(session, theme_id, actor=c.actor, reason=None)
    return _theme(c, theme_id)
