"""The content pages: the board by state, the editorial calendar, an item with its review
rounds and the moves an operator makes, and the community review pages.

Who sees what: viewers and up read the board, the calendar and the items; operators and admins
move items; reviewers see only the review pages, and there only the items they were asked to
review (``is_asked_reviewer``: their account's member was asked in a round of the item). Every
change goes through ``commops.ops.content`` with ``actor=c.actor``; the API
(``commops.web.api.content``) calls the same functions and shares the reads below.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from commops.clock import utcnow
from commops.errors import NotFoundError, UsageError
from commops.ops import content
from commops.ops.content import views as content_views
from commops.ops.content.models import ContentItem, ContentRound, ContentRoundReviewer
from commops.ops.content.rules import FLOW, KINDS, STATES, asked_reviewers
from commops.store.models import Identity
from commops.web.deps import Ctx, register_nav, require
from commops.web.permissions import Principal, Rule, can_operate, can_review, can_view

router = APIRouter(include_in_schema=False)
register_nav("/content", "Content", can_view, "content")
register_nav("/content/review", "Review", can_review, "content")

EARLIEST, LATEST = date(1970, 1, 1), date(2200, 12, 31)
ItemId = Annotated[int, Path(ge=1, le=2_147_483_647)]


# -- who may review what -----------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewTarget:
    """An item as the review rules see it: the members asked in any of its rounds, and those
    asked in its open round (empty when no round is open)."""

    item_id: int
    asked_ever: frozenset[int] = field(default_factory=frozenset)
    asked_now: frozenset[int] = field(default_factory=frozenset)


def _asked(principal: Principal | None, obj: Any) -> bool:
    return (
        principal is not None
        and principal.member_id is not None
        and isinstance(obj, ReviewTarget)
        and principal.member_id in obj.asked_ever
    )


# A reviewer sees an item on the review pages when their member was asked to review it.
is_asked_reviewer = Rule("is_asked_reviewer", _asked)
# The review page of one item: operators and admins see every item; others only their own.
can_see_review = can_operate | (can_review & is_asked_reviewer)


def review_target(session: Session, item_id: int) -> ReviewTarget:
    rounds = list(
        session.execute(
            select(ContentRound)
            .where(ContentRound.item_id == item_id)
            .order_by(ContentRound.number)
        ).scalars()
    )
    ever: set[int] = set()
    now: set[int] = set()
    for rnd in rounds:
        asked = set(asked_reviewers(session, rnd.id))
        ever |= asked
        if rnd.outcome == "open":
            now |= asked
    return ReviewTarget(item_id, frozenset(ever), frozenset(now))


def page(c: Ctx, template: str, **context: Any) -> Response:
    """Render a content page with what its links and forms depend on."""
    return c.render(
        template,
        may_operate=c.allows(can_operate),
        may_review=c.allows(can_review),
        may_view=c.allows(can_view),
        **context,
    )


def live_item(session: Session, item_id: int, *, include_deleted: bool = False) -> ContentItem:
    """The item, or a 404 naming it (a deleted one only with ``include_deleted``)."""
    item = session.get(ContentItem, item_id)
    if item is None or (item.deleted_at is not None and not include_deleted):
        raise NotFoundError(f"no content item {item_id}")
    return item


def review_queue(session: Session, principal: Principal | None) -> list[dict[str, Any]]:
    """What the review page lists: for a reviewer, the items they were asked to review (open
    rounds first); for operators and admins, every item in review plus those asked of them."""
    member_id = principal.member_id if principal is not None else None
    ids: set[int] = set()
    if member_id is not None:
        ids |= set(
            session.execute(
                select(ContentRound.item_id)
                .join(ContentRoundReviewer, ContentRoundReviewer.round_id == ContentRound.id)
                .join(Identity, Identity.id == ContentRoundReviewer.identity_id)
                .where(Identity.member_id == member_id)
            ).scalars()
        )
    if can_operate(principal):
        ids |= {i.id for i in content.list_items(session, state="in_review")}
    out = []
    for item in session.execute(
        select(ContentItem)
        .where(ContentItem.id.in_(sorted(ids)), ContentItem.deleted_at.is_(None))
        .order_by(ContentItem.id.desc())
    ).scalars():
        target = review_target(session, item.id)
        row = content_views.item_row(session, item)
        row["asked_of_me"] = member_id is not None and member_id in target.asked_now
        row["awaiting_review"] = item.state == "in_review"
        out.append(row)
    out.sort(key=lambda r: (not r["asked_of_me"], not r["awaiting_review"], -r["id"]))
    return out


def my_pending(detail: dict[str, Any], member_id: int | None) -> bool:
    """Whether ``member_id`` can still give a review in the item's open round."""
    if member_id is None or detail["state"] != "in_review" or not detail["rounds"]:
        return False
    rnd = detail["rounds"][-1]
    return rnd["outcome"] == "open" and any(r["member_id"] == member_id for r in rnd["reviewers"])


def approved_by(detail: dict[str, Any], member_id: int | None) -> bool:
    """Whether ``member_id`` already approved in the item's open round (they may still
    comment or request changes, but not approve twice)."""
    if member_id is None or not detail["rounds"]:
        return False
    rnd = detail["rounds"][-1]
    return rnd["outcome"] == "open" and any(
        r["reviewer_id"] == member_id and r["verdict"] == "approve" for r in rnd["reviews"]
    )


def split_refs(text: str, what: str) -> list[str]:
    """Members named in a form field, separated by commas or new lines."""
    refs = [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]
    if not refs:
        raise UsageError(f"{what}: name at least one member (id, e-mail, login or name)")
    return refs


def calendar_range(since: date | None, until: date | None) -> tuple[date, date]:
    """The calendar's default window: four weeks back to eight weeks ahead."""
    today = utcnow().date()
    for name, value in (("since", since), ("until", until)):
        if value is not None and not EARLIEST <= value <= LATEST:
            raise UsageError(f"{name}: {value} is outside {EARLIEST} to {LATEST}")
    start = since or today - timedelta(weeks=4)
    end = until or max(start, today) + timedelta(weeks=8)
    return start, end


# -- the board, the calendar, an item ----------------------------------------------------------


@router.get("/content")
def board_page(
    c: Annotated[Ctx, Depends(require(can_view))],
    kind: Annotated[str | None, Query(max_length=20)] = None,
    channel: Annotated[str | None, Query(max_length=60)] = None,
    tag: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    kind = kind or None
    channel = channel or None
    tag = tag or None
    with c.session() as session:
        items = content.list_items(session, kind=kind, channel=channel, tag=tag)
        rows = [content_views.item_row(session, i) for i in items]
    columns = {state: [r for r in rows if r["state"] == state] for state in STATES}
    return page(
        c,
        "content/board.html.j2",
        columns=columns,
        kinds=KINDS,
        filters={"kind": kind or "", "channel": channel or "", "tag": tag or ""},
        total=len(rows),
    )


@router.get("/content/calendar")
def calendar_page(
    c: Annotated[Ctx, Depends(require(can_view))],
    since: date | None = None,
    until: date | None = None,
    channel: Annotated[str | None, Query(max_length=60)] = None,
) -> Response:
    start, end = calendar_range(since, until)
    with c.session() as session:
        cal = content.calendar(
            session, since=start, until=end, channels=[channel] if channel else []
        )
    return page(
        c,
        "content/calendar.html.j2",
        cal=cal,
        since=start,
        until=end,
        channel=channel or "",
    )


@router.get("/content/new")
def new_item_page(c: Annotated[Ctx, Depends(require(can_operate))]) -> Response:
    return page(c, "content/new.html.j2", kinds=KINDS)


@router.post("/content")
def add_item_form(
    c: Annotated[Ctx, Depends(require(can_operate))],
    title: Annotated[str, Form(max_length=500)],
    kind: Annotated[str, Form(max_length=20)],
    authors: Annotated[str, Form(max_length=2000)],
    language: Annotated[str, Form(max_length=20)],
    channels: Annotated[str, Form(max_length=500)] = "",
    tags: Annotated[str, Form(max_length=1000)] = "",
    summary: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    with c.session() as session:
        item = content.add_item(
            session,
            title=title,
            kind=kind,
            authors=split_refs(authors, "authors"),
            language=language,
            channels=[x.strip() for x in channels.split(",") if x.strip()],
            tags=[x.strip() for x in tags.split(",") if x.strip()],
            summary=summary or None,
            actor=c.actor,
        )
        item_id = item.id
    return c.redirect(f"/content/{item_id}", c.gettext("The pitch was added."))


@router.get("/content/review")
def review_list_page(c: Annotated[Ctx, Depends(require(can_review))]) -> Response:
    with c.session() as session:
        rows = review_queue(session, c.principal)
    return page(
        c,
        "content/review_list.html.j2",
        rows=rows,
        linked=c.principal is not None and c.principal.member_id is not None,
    )


@router.get("/content/review/{item_id}")
def review_page(c: Annotated[Ctx, Depends(require(can_review))], item_id: ItemId) -> Response:
    with c.session() as session:
        item = live_item(session, item_id)
        c.check(can_see_review, review_target(session, item.id))
        detail = content_views.item_detail(session, item, c.ws.config.content_approvals)
    member_id = c.principal.member_id if c.principal else None
    return page(
        c,
        "content/review.html.j2",
        item=detail,
        can_give=my_pending(detail, member_id),
        approved=approved_by(detail, member_id),
        member_id=member_id,
    )


@router.post("/content/review/{item_id}")
def review_form(
    c: Annotated[Ctx, Depends(require(can_review))],
    item_id: ItemId,
    verdict: Annotated[str, Form(pattern=r"^(approve|request_changes|comment)$")],
    message: Annotated[str, Form(max_length=10_000)] = "",
) -> Response:
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
            verdict,
            default_approvals=c.ws.config.content_approvals,
            actor=c.actor,
            body=message or None,
        )
        state = outcome.state
    if state == "approved":
        note = c.gettext("Thank you: your approval completed the review.")
    elif verdict == "approve":
        note = c.gettext("Thank you: your approval was recorded.")
    elif verdict == "request_changes":
        note = c.gettext("Thank you: the authors were asked for changes.")
    else:
        note = c.gettext("Thank you: your comment was recorded.")
    return c.redirect("/content/review", note)


@router.get("/content/{item_id}")
def item_page(c: Annotated[Ctx, Depends(require(can_view))], item_id: ItemId) -> Response:
    with c.session() as session:
        item = live_item(session, item_id, include_deleted=True)
        detail = content_views.item_detail(session, item, c.ws.config.content_approvals)
    return page(
        c,
        "content/item.html.j2",
        item=detail,
        moves=FLOW[detail["state"]],
        today=utcnow().date(),
    )


def _flash_moved(c: Ctx) -> str:
    return c.gettext("The item was updated.")


@router.post("/content/{item_id}/accept")
def accept_form(c: Annotated[Ctx, Depends(require(can_operate))], item_id: ItemId) -> Response:
    with c.session() as session:
        content.accept(session, live_item(session, item_id).id, actor=c.actor)
    return c.redirect(f"/content/{item_id}", _flash_moved(c))


@router.post("/content/{item_id}/drafting")
def drafting_form(c: Annotated[Ctx, Depends(require(can_operate))], item_id: ItemId) -> Response:
    with c.session() as session:
        content.start_drafting(session, live_item(session, item_id).id, actor=c.actor)
    return c.redirect(f"/content/{item_id}", _flash_moved(c))


@router.post("/content/{item_id}/submit")
def submit_form(
    c: Annotated[Ctx, Depends(require(can_operate))],
    item_id: ItemId,
    reviewers: Annotated[str, Form(max_length=2000)],
) -> Response:
    with c.session() as session:
        content.submit_for_review(
            session,
            live_item(session, item_id).id,
            split_refs(reviewers, "reviewers"),
            default_approvals=c.ws.config.content_approvals,
            actor=c.actor,
        )
    return c.redirect(f"/content/{item_id}", c.gettext("The item was submitted for review."))


@router.post("/content/{item_id}/schedule")
def schedule_form(
    c: Annotated[Ctx, Depends(require(can_operate))],
    item_id: ItemId,
    on: Annotated[date, Form()],
    channel: Annotated[str, Form(max_length=60)],
) -> Response:
    with c.session() as session:
        content.schedule(
            session, live_item(session, item_id).id, on=on, channel=channel, actor=c.actor
        )
    return c.redirect(f"/content/{item_id}", _flash_moved(c))


@router.post("/content/{item_id}/publish")
def publish_form(
    c: Annotated[Ctx, Depends(require(can_operate))],
    item_id: ItemId,
    url: Annotated[str, Form(max_length=2000)],
    channel: Annotated[str, Form(max_length=60)] = "",
) -> Response:
    with c.session() as session:
        content.publish(
            session, live_item(session, item_id).id, url=url, channel=channel or None, actor=c.actor
        )
    return c.redirect(f"/content/{item_id}", _flash_moved(c))


@router.post("/content/{item_id}/cross-post")
def cross_post_form(
    c: Annotated[Ctx, Depends(require(can_operate))],
    item_id: ItemId,
    channel: Annotated[str, Form(max_length=60)],
    url: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    with c.session() as session:
        content.cross_post(
            session, live_item(session, item_id).id, channel=channel, url=url or None, actor=c.actor
        )
    return c.redirect(f"/content/{item_id}", _flash_moved(c))


@router.post("/content/{item_id}/withdraw")
def withdraw_form(
    c: Annotated[Ctx, Depends(require(can_operate))],
    item_id: ItemId,
    reason: Annotated[str, Form(max_length=2000)],
) -> Response:
    with c.session() as session:
        content.withdraw(session, live_item(session, item_id).id, reason=reason, actor=c.actor)
    return c.redirect(f"/content/{item_id}", _flash_moved(c))


@router.post("/content/{item_id}/delete")
def delete_form(
    c: Annotated[Ctx, Depends(require(can_operate))],
    item_id: ItemId,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    with c.session() as session:
        content.delete_item(
            session, live_item(session, item_id).id, actor=c.actor, reason=reason or None
        )
    return c.redirect(f"/content/{item_id}", c.gettext("The item was deleted."))


@router.post("/content/{item_id}/restore")
def restore_form(c: Annotated[Ctx, Depends(require(can_operate))], item_id: ItemId) -> Response:
    with c.session() as session:
        item = live_item(session, item_id, include_deleted=True)
        content.restore_item(session, item.id, actor=c.actor)
    return c.redirect(f"/content/{item_id}", c.gettext("The item was restored."))
