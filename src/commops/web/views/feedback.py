"""The feedback pages: the inbox of items from every channel, an item with its suggested
duplicates, the themes (heaviest first, with their service level) and a theme's routing and
state.

Viewers and up read; operators and admins change, always through ``commops.ops.feedback``
with ``actor=c.actor`` (the API, ``commops.web.api.feedback``, calls the same functions).
Reviewers have no part here.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import asdict
from datetime import date
from pathlib import Path as FilePath
from pathlib import PurePath
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, Path, Query, UploadFile
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from commops.errors import NotFoundError, UsageError
from commops.ops.feedback import items as fb_items
from commops.ops.feedback import loop as fb_loop
from commops.ops.feedback import suggestions as fb_suggestions
from commops.ops.feedback import themes as fb_themes
from commops.ops.feedback._common import is_web_url
from commops.ops.feedback.models import (
    ENTERED_ORIGINS,
    ORIGINS,
    FeedbackItem,
    FeedbackSuggestion,
    FeedbackTheme,
)
from commops.web.deps import Ctx, register_nav, require
from commops.web.permissions import can_operate, can_view

router = APIRouter(include_in_schema=False)
register_nav("/feedback", "Feedback", can_view, "feedback")

Id = Annotated[int, Path(ge=1, le=2_147_483_647)]
PAGE_SIZE = 50
MAX_UPLOAD = 5_000_000
STATUSES = tuple(fb_themes.STATES)


def page(c: Ctx, template: str, **context: Any) -> Response:
    return c.render(template, may_operate=c.allows(can_operate), **context)


def item_or_404(session: Session, item_id: int) -> FeedbackItem:
    item = session.get(FeedbackItem, item_id)
    if item is None:
        raise NotFoundError(f"no feedback item {item_id}")
    return item


def theme_or_404(session: Session, theme_id: int) -> FeedbackTheme:
    theme = session.get(FeedbackTheme, theme_id)
    if theme is None:
        raise NotFoundError(f"no feedback theme {theme_id}")
    return theme


def suggestion_or_404(session: Session, suggestion_id: int) -> FeedbackSuggestion:
    found = session.get(FeedbackSuggestion, suggestion_id)
    if found is None:
        raise NotFoundError(f"no feedback suggestion {suggestion_id}")
    return found


def theme_choices(session: Session) -> list[tuple[int, str, str]]:
    """Live themes for the "put in theme" menus: (id, title, status), newest first."""
    return [
        (t.id, t.title, t.status)
        for t in session.execute(
            select(FeedbackTheme)
            .where(FeedbackTheme.deleted_at.is_(None))
            .order_by(FeedbackTheme.id.desc())
        ).scalars()
    ]


def inbox(
    session: Session,
    *,
    origin: str | None,
    theme: str | None,
    since: date | None,
    deleted: bool = False,
) -> list[fb_items.ItemInfo]:
    """The inbox's items: ``theme`` is a theme id, ``none`` (unthemed) or empty (all)."""
    theme_id: int | None = None
    if theme and theme != "none":
        if not theme.isdigit():
            raise UsageError(f"theme: {theme!r} is not a theme id (or 'none')")
        theme_id = int(theme)
    return fb_items.list_items(
        session,
        theme_id=theme_id,
        unthemed=theme == "none",
        origin=origin or None,
        since=since,
        deleted=deleted,
        limit=None,
    )


def item_dict(info: fb_items.ItemInfo) -> dict[str, Any]:
    """An item as the API returns it; links that are not web addresses are not links."""
    data = asdict(info)
    data["web_link"] = info.link if is_web_url(info.link) else None
    return data


# -- inbox and items ---------------------------------------------------------------------------


@router.get("/feedback")
def inbox_page(
    c: Annotated[Ctx, Depends(require(can_view))],
    origin: Annotated[str | None, Query(max_length=20)] = None,
    theme: Annotated[str | None, Query(max_length=12)] = None,
    since: date | None = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Response:
    with c.session() as session:
        found = inbox(session, origin=origin, theme=theme, since=since)
        choices = theme_choices(session)
    shown = [item_dict(i) for i in found[offset : offset + PAGE_SIZE]]
    query = urlencode(
        [
            (k, str(v))
            for k, v in (("origin", origin), ("theme", theme), ("since", since))
            if v not in (None, "")
        ]
    )
    return page(
        c,
        "feedback/inbox.html.j2",
        items=shown,
        pager={"total": len(found), "limit": PAGE_SIZE, "offset": offset},
        base_url="/feedback" + (f"?{query}" if query else ""),
        origins=ORIGINS,
        entered_origins=ENTERED_ORIGINS,
        themes=choices,
        filters={"origin": origin or "", "theme": theme or "", "since": since or ""},
    )


@router.post("/feedback/items")
def add_item_form(
    c: Annotated[Ctx, Depends(require(can_operate))],
    title: Annotated[str, Form(max_length=500)],
    body: Annotated[str, Form(max_length=20_000)] = "",
    origin: Annotated[str, Form(max_length=20)] = "manual",
    channel: Annotated[str, Form(max_length=300)] = "",
    url: Annotated[str, Form(max_length=2000)] = "",
    member: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    with c.session() as session:
        item = fb_items.add_item(
            session,
            title=title,
            body=body,
            origin=origin,
            channel=channel or None,
            url=url or None,
            member=member.strip() or None,
            actor=c.actor,
        )
        item_id = item.id
    return c.redirect(f"/feedback/items/{item_id}", c.gettext("The feedback was recorded."))


def capture_now(c: Ctx, session: Session) -> fb_items.CaptureResult:
    """Capture labelled issues and forum topics with the workspace's feedback settings."""
    return fb_items.capture(
        session,
        actor=c.actor,
        labels=c.ws.config.feedback_labels,
        categories=c.ws.config.feedback_categories,
    )


def import_upload(
    c: Ctx,
    session: Session,
    upload: UploadFile,
    *,
    origin: str,
    channel: str | None,
    dry_run: bool = False,
) -> fb_items.ImportResult:
    """Import an uploaded CSV file through ``import_csv``, under its own (cleaned) name so the
    errors name the file and line as they do on the command line."""
    data = upload.file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise UsageError(f"file: larger than {MAX_UPLOAD // 1_000_000} MB")
    name = re.sub(r"[^A-Za-z0-9._-]", "_", PurePath(upload.filename or "").name)[:100]
    with tempfile.TemporaryDirectory(prefix="commops-feedback-") as tmp:
        path = FilePath(tmp) / (name if name.strip("._") else "feedback.csv")
        path.write_bytes(data)
        return fb_items.import_csv(
            session, path, actor=c.actor, origin=origin, channel=channel, dry_run=dry_run
        )


@router.post("/feedback/capture")
def capture_form(c: Annotated[Ctx, Depends(require(can_operate))]) -> Response:
    with c.session() as session:
        result = capture_now(c, session)
    message = c.gettext("Captured %(added)d new items (%(already)d captured before).") % {
        "added": len(result.added),
        "already": result.already,
    }
    return c.redirect("/feedback", message)


@router.post("/feedback/import")
def import_form(
    c: Annotated[Ctx, Depends(require(can_operate))],
    file: Annotated[UploadFile, File()],
    origin: Annotated[str, Form(max_length=20)] = "survey",
    channel: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    with c.session() as session:
        result = import_upload(c, session, file, origin=origin, channel=channel or None)
    message = c.gettext("Imported %(added)d new items (%(already)d rows imported before).") % {
        "added": len(result.added),
        "already": len(result.already),
    }
    return c.redirect("/feedback", message)


@router.get("/feedback/items/{item_id}")
def item_page(c: Annotated[Ctx, Depends(require(can_view))], item_id: Id) -> Response:
    with c.session() as session:
        item_or_404(session, item_id)
        detail = fb_items.item_detail(session, item_id)
        choices = theme_choices(session)
    return page(
        c,
        "feedback/item.html.j2",
        item=item_dict(detail.item),
        suggestions=detail.suggestions,
        history=detail.history,
        themes=choices,
    )


@router.post("/feedback/items/{item_id}/theme")
def assign_form(
    c: Annotated[Ctx, Depends(require(can_operate))],
    item_id: Id,
    theme_id: Annotated[int, Form(ge=1, le=2_147_483_647)],
) -> Response:
    with c.session() as session:
        item_or_404(session, item_id)
        theme_or_404(session, theme_id)
        fb_themes.assign_item(session, item_id, theme_id, actor=c.actor)
    return c.redirect(f"/feedback/items/{item_id}", c.gettext("The item was put in the theme."))


@router.post("/feedback/items/{item_id}/unassign")
def unassign_form(c: Annotated[Ctx, Depends(require(can_operate))], item_id: Id) -> Response:
    with c.session() as session:
        item_or_404(session, item_id)
        fb_themes.unassign_item(session, item_id, actor=c.actor)
    return c.redirect(
        f"/feedback/items/{item_id}", c.gettext("The item was taken out of its theme.")
    )


@router.post("/feedback/items/{item_id}/delete")
def delete_item_form(
    c: Annotated[Ctx, Depends(require(can_operate))],
    item_id: Id,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    with c.session() as session:
        item_or_404(session, item_id)
        fb_items.delete_item(session, item_id, actor=c.actor, reason=reason or None)
    return c.redirect(f"/feedback/items/{item_id}", c.gettext("The item was deleted."))


@router.post("/feedback/items/{item_id}/restore")
def restore_item_form(c: Annotated[Ctx, Depends(require(can_operate))], item_id: Id) -> Response:
    with c.session() as session:
        item_or_404(session, item_id)
        fb_items.restore_item(session, item_id, actor=c.actor, reason=None)
    return c.redirect(f"/feedback/items/{item_id}", c.gettext("The item was restored."))


@router.post("/feedback/suggestions/{suggestion_id}/accept")
def accept_suggestion_form(
    c: Annotated[Ctx, Depends(require(can_operate))],
    suggestion_id: Id,
) -> Response:
    with c.session() as session:
        suggestion_or_404(session, suggestion_id)
        theme_id = fb_suggestions.accept(session, suggestion_id, actor=c.actor)
    return c.redirect(f"/feedback/themes/{theme_id}", c.gettext("Both items are now in one theme."))


@router.post("/feedback/suggestions/{suggestion_id}/reject")
def reject_suggestion_form(
    c: Annotated[Ctx, Depends(require(can_operate))],
    suggestion_id: Id,
    back: Annotated[int, Form(ge=1, le=2_147_483_647)],
) -> Response:
    with c.session() as session:
        suggestion_or_404(session, suggestion_id)
        fb_suggestions.reject(session, suggestion_id, actor=c.actor)
    return c.redirect(f"/feedback/items/{back}", c.gettext("The pair will not be suggested again."))


# -- themes ------------------------------------------------------------------------------------


@router.get("/feedback/themes")
def themes_page(
    c: Annotated[Ctx, Depends(require(can_view))],
    status: Annotated[str | None, Query(max_length=20)] = None,
    area: Annotated[str | None, Query(max_length=100)] = None,
    overdue: bool = False,
) -> Response:
    with c.session() as session:
        found = fb_themes.list_themes(
            session,
            sla_days=c.ws.config.feedback_sla_days,
            status=[status] if status else [],
            area=area or None,
            overdue=overdue,
        )
    return page(
        c,
        "feedback/themes.html.j2",
        themes=found,
        statuses=STATUSES,
        sla_days=c.ws.config.feedback_sla_days,
        filters={"status": status or "", "area": area or "", "overdue": overdue},
    )


@router.post("/feedback/themes")
def create_theme_form(
    c: Annotated[Ctx, Depends(require(can_operate))],
    title: Annotated[str, Form(max_length=500)],
    description: Annotated[str, Form(max_length=20_000)] = "",
    product_area: Annotated[str, Form(max_length=100)] = "",
    item_id: Annotated[int | None, Form(ge=1, le=2_147_483_647)] = None,
) -> Response:
    with c.session() as session:
        if item_id is not None:
            item_or_404(session, item_id)
        theme = fb_themes.create_theme(
            session,
            title,
            description=description or None,
            product_area=product_area or None,
            items=[item_id] if item_id is not None else [],
            actor=c.actor,
        )
        theme_id = theme.id
    return c.redirect(f"/feedback/themes/{theme_id}", c.gettext("The theme was created."))


@router.get("/feedback/themes/{theme_id}")
def theme_page(c: Annotated[Ctx, Depends(require(can_view))], theme_id: Id) -> Response:
    with c.session() as session:
        theme_or_404(session, theme_id)
        detail = fb_themes.theme_detail(session, theme_id, sla_days=c.ws.config.feedback_sla_days)
        items = fb_items.item_infos(
            session,
            list(
                session.execute(
                    select(FeedbackItem)
                    .where(FeedbackItem.id.in_(detail.item_ids))
                    .order_by(FeedbackItem.raised_at, FeedbackItem.id)
                ).scalars()
            ),
        )
        loop = (
            fb_loop.notify_list(session, theme_id, sla_days=c.ws.config.feedback_sla_days)
            if detail.theme.status in fb_themes.FINAL and detail.theme.deleted_at is None
            else None
        )
    return page(
        c,
        "feedback/theme.html.j2",
        loop=loop,
        theme=detail.theme,
        people=detail.people,
        items=items,
        history=detail.history,
        moves=fb_themes.STATES[detail.theme.status],
    )


@router.post("/feedback/themes/{theme_id}/status")
def status_form(
    c: Annotated[Ctx, Depends(require(can_operate))],
    theme_id: Id,
    status: Annotated[str, Form(max_length=20)],
    reason: Annotated[str, Form(max_length=5000)] = "",
    link: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    with c.session() as session:
        theme_or_404(session, theme_id)
        fb_themes.set_status(
            session, theme_id, status, actor=c.actor, reason=reason or None, link=link or None
        )
    return c.redirect(f"/feedback/themes/{theme_id}", c.gettext("The theme's state was changed."))


@router.post("/feedback/themes/{theme_id}/notified")
def notified_form(
    c: Annotated[Ctx, Depends(require(can_operate))],
    theme_id: Id,
    member: Annotated[int, Form(ge=1, le=2_147_483_647)],
    channel: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    with c.session() as session:
        theme_or_404(session, theme_id)
        fb_loop.record_notified(session, theme_id, member, actor=c.actor, channel=channel or None)
    return c.redirect(f"/feedback/themes/{theme_id}#loop", c.gettext("Recorded as told."))


@router.post("/feedback/themes/{theme_id}/route")
def route_form(
    c: Annotated[Ctx, Depends(require(can_operate))],
    theme_id: Id,
    product_area: Annotated[str, Form(max_length=100)] = "",
    owner: Annotated[str, Form(max_length=200)] = "",
    link: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    with c.session() as session:
        theme_or_404(session, theme_id)
        fb_themes.route_theme(
            session,
            theme_id,
            actor=c.actor,
            product_area=product_area or None,
            owner=owner.strip() or None,
            link=link or None,
        )
    return c.redirect(f"/feedback/themes/{theme_id}", c.gettext("The theme was routed."))
