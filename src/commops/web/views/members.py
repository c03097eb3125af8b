"""The Members pages: search and filters, a member's profile, merge suggestions, the identity
log; merge, unmerge, split, accept, reject and undo for operators and admins.

Reads come from ``commops.web.members_view`` and changes go through
``commops.identity.audit``, as in ``/api/v1/members``. Every change ends with a redirect to a
page that offers to undo it.
"""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, Form, Path, Query
from fastapi.responses import Response

from commops.errors import UsageError
from commops.identity import audit
from commops.web import members_view as mv
from commops.web.app import register_periodic
from commops.web.deps import Ctx, register_nav, require
from commops.web.permissions import can_operate, can_view

router = APIRouter(include_in_schema=False)
register_nav("/members", "Members", can_view, "members")


def _warm_levels(app: FastAPI) -> None:
    """Keep the engagement levels computed for the current snapshot, so that profiles show
    them without computing them."""
    mv.engagement_levels(app.state.insights)


register_periodic("member-levels", 60, _warm_levels)

PAGE = 50
MemberId = Annotated[int, Path(ge=1, le=2**31 - 1)]
AnId = Annotated[int, Path(ge=1, le=2**31 - 1)]
ReasonForm = Annotated[str, Form(max_length=1000)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]


def _reason(text: str) -> str | None:
    return text.strip() or None


def _member_ids(text: str) -> list[int]:
    """Member ids typed into the merge form: separated by commas or spaces."""
    ids = []
    for token in re.split(r"[\s,;]+", text.strip()):
        if not token:
            continue
        if not token.lstrip("#").isdigit() or len(token) > 10:
            raise UsageError(f"other members: {token!r} is not a member id (e.g. 42)")
        ids.append(int(token.lstrip("#")))
    if not ids:
        raise UsageError("other members: give at least one member id")
    return ids


def _safe_next(target: str | None, default: str) -> str:
    if target and target.startswith("/members") and "//" not in target and "\\" not in target:
        return target
    return default


def _changed(c: Ctx) -> None:
    c.request.app.state.insights.refresh()


def _optional_int(value: str | None, field: str, low: int, high: int) -> int | None:
    if value is None or not value.strip():
        return None
    if not value.strip().isdigit() or not low <= int(value) <= high:
        raise UsageError(f"{field} {value!r}: use a number from {low} to {high}")
    return int(value)


@router.get("/members")
def members_page(
    c: Annotated[Ctx, Depends(require(can_view))],
    q: Annotated[str | None, Query(max_length=200)] = None,
    tag: Annotated[str | None, Query(max_length=100)] = None,
    organization: Annotated[str | None, Query(max_length=300)] = None,
    level: Annotated[str | None, Query(max_length=2)] = None,
    platform: Annotated[str | None, Query(max_length=40)] = None,
    bots: Annotated[str, Query(pattern="^(yes|no)$")] = "yes",
    sort: Annotated[str, Query(pattern="^(name|newest|level)$")] = "name",
    offset: Offset = 0,
) -> Response:
    filters = mv.MemberFilters(
        q or None,
        tag or None,
        organization or None,
        _optional_int(level, "level", 1, 4),
        platform or None,
        bots == "yes",
        sort,
    )
    levels = mv.engagement_levels(c.request.app.state.insights)
    with c.session() as session:
        rows, total = mv.search_members(
            session,
            filters,
            levels=levels,
            show_emails=c.allows(can_operate),
            limit=PAGE,
            offset=offset,
        )
        choices = mv.filter_choices(session)
    query = {
        k: v
        for k, v in {
            "q": q,
            "tag": tag,
            "organization": organization,
            "level": level,
            "platform": platform,
            "bots": None if bots == "yes" else bots,
            "sort": None if sort == "name" else sort,
        }.items()
        if v
    }
    base = "/members" + ("?" + urlencode(query) if query else "")
    return c.render(
        "members/list.html.j2",
        rows=rows,
        page={"total": total, "limit": PAGE, "offset": offset},
        base=base,
        filters=filters,
        choices=choices,
        levels=mv.LEVELS,
    )


@router.get("/members/suggestions")
def suggestions_page(
    c: Annotated[Ctx, Depends(require(can_view))],
    status: Annotated[str, Query(pattern="^(open|accepted|rejected|stale|all)$")] = "open",
    offset: Offset = 0,
) -> Response:
    show = c.allows(can_operate)
    with c.session() as session:
        views, total = mv.suggestions_page(session, status, limit=PAGE, offset=offset)
    return c.render(
        "members/suggestions.html.j2",
        suggestions=views,
        status=status,
        statuses=mv.SUGGESTION_STATUSES,
        page={"total": total, "limit": PAGE, "offset": offset},
        base=f"/members/suggestions?status={status}",
        show_emails=show,
        shown_value=mv.shown_value,
        shown_name=mv.shown_name,
        hide_emails=mv.hide_emails,
        operate=show,
    )


@router.post("/members/suggestions/{suggestion_id}/accept")
def accept_suggestion(
    c: Annotated[Ctx, Depends(require(can_operate))],
    suggestion_id: AnId,
    reason: ReasonForm = "",
) -> Response:
    with c.session() as session:
        mv.get_suggestion(session, suggestion_id)
        entry = audit.accept_suggestion(
            session, suggestion_id, actor=c.actor, reason=_reason(reason)
        )
        entry_id, action = entry.id, entry.action
        target = mv.merged_into(entry)
    _changed(c)
    if action == "stale":
        return c.redirect(
            "/members/suggestions",
            c.gettext("Both identities already belong to one member: suggestion marked stale."),
        )
    return c.redirect(
        f"/members/{target}?undo={entry_id}", c.gettext("Suggestion accepted: members merged.")
    )


@router.post("/members/suggestions/{suggestion_id}/reject")
def reject_suggestion(
    c: Annotated[Ctx, Depends(require(can_operate))],
    suggestion_id: AnId,
    reason: ReasonForm = "",
) -> Response:
    with c.session() as session:
        mv.get_suggestion(session, suggestion_id)
        entry = audit.reject_suggestion(
            session, suggestion_id, actor=c.actor, reason=_reason(reason)
        )
        entry_id, action = entry.id, entry.action
    _changed(c)
    if action == "stale":
        return c.redirect(
            "/members/suggestions",
            c.gettext("Both identities already belong to one member: suggestion marked stale."),
        )
    return c.redirect(
        f"/members/log?undo={entry_id}",
        c.gettext("Suggestion rejected: they are different people."),
    )


@router.get("/members/log")
def log_page(
    c: Annotated[Ctx, Depends(require(can_view))],
    member: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    undo: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    offset: Offset = 0,
) -> Response:
    with c.session() as session:
        entries, total = mv.log_page(session, member, limit=PAGE, offset=offset)
        member_name = (
            mv.shown_name(mv.get_member(session, member).display_name, c.allows(can_operate))
            if member
            else None
        )
        undoable = mv.undoable(session, undo) if undo is not None else None
    return c.render(
        "members/log.html.j2",
        entries=entries,
        member=member,
        member_name=member_name,
        undoable=undoable,
        undo_next="/members/log",
        operate=c.allows(can_operate),
        page={"total": total, "limit": PAGE, "offset": offset},
        base="/members/log" + (f"?member={member}" if member else ""),
        undo_label=UNDO_LABELS,
    )


# The undo button names what it takes back (the browser test clicks "Undo merge").
UNDO_LABELS = {
    "merge": "Undo merge",
    "accept": "Undo merge",
    "unmerge": "Undo unmerge",
    "split": "Undo split",
    "reject": "Undo rejection",
    "profile": "Undo change",
}


@router.post("/members/log/{log_id}/undo")
def undo_entry(
    c: Annotated[Ctx, Depends(require(can_operate))],
    log_id: AnId,
    reason: ReasonForm = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    with c.session() as session:
        mv.log_entry(session, log_id)
        audit.undo(session, log_id, actor=c.actor, reason=_reason(reason))
    _changed(c)
    return c.redirect(_safe_next(next, "/members/log"), c.gettext("The change was undone."))


@router.get("/members/{member_id}")
def member_page(
    c: Annotated[Ctx, Depends(require(can_view))],
    member_id: MemberId,
    offset: Offset = 0,
    undo: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Response:
    levels = mv.known_levels(c.request.app.state.insights)
    with c.session() as session:
        profile = mv.member_profile(
            session, member_id, level=levels.get(member_id), show_emails=c.allows(can_operate)
        )
        entries, total = mv.timeline(
            session, member_id, limit=PAGE, offset=offset, total=profile.activities
        )
        undoable = mv.undoable(session, undo) if undo is not None else None
    return c.render(
        "members/profile.html.j2",
        m=profile,
        timeline=entries,
        page={"total": total, "limit": PAGE, "offset": offset},
        base=f"/members/{member_id}",
        undoable=undoable,
        undo_next=f"/members/{member_id}",
        undo_label=UNDO_LABELS,
        operate=c.allows(can_operate),
    )


@router.post("/members/{member_id}/merge")
def merge(
    c: Annotated[Ctx, Depends(require(can_operate))],
    member_id: MemberId,
    others: Annotated[str, Form(max_length=2000)],
    reason: ReasonForm = "",
    force: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    ids = _member_ids(others)
    with c.session() as session:
        mv.check_merge(session, member_id, ids)
        entry = audit.merge_members(
            session, member_id, ids, actor=c.actor, reason=_reason(reason), force=bool(force)
        )
        entry_id = entry.id
    _changed(c)
    return c.redirect(
        f"/members/{member_id}?undo={entry_id}", c.gettext("Members merged into this one.")
    )


@router.post("/members/{member_id}/profile")
def profile(
    c: Annotated[Ctx, Depends(require(can_operate))],
    member_id: MemberId,
    tags: Annotated[str, Form(max_length=2000)] = "",
    notes: Annotated[str, Form(max_length=10_000)] = "",
) -> Response:
    """Tags (the whole list, comma-separated) and private notes, from the profile's form."""
    wanted = [t.strip().lower() for t in tags.split(",") if t.strip()]
    with c.session() as session:
        current = mv.member_tags(session, member_id)
        entry = audit.update_profile(
            session,
            member_id,
            add_tags=[t for t in wanted if t not in current],
            remove_tags=[t for t in current if t not in wanted],
            notes=notes,
            actor=c.actor,
        )
        entry_id = None if entry is None else entry.id
    if entry_id is None:
        return c.redirect(f"/members/{member_id}", c.gettext("Nothing changed."))
    _changed(c)
    return c.redirect(f"/members/{member_id}?undo={entry_id}", c.gettext("Profile saved."))


@router.post("/members/{member_id}/unmerge")
def unmerge(
    c: Annotated[Ctx, Depends(require(can_operate))],
    member_id: MemberId,
    identity: Annotated[list[int], Form()] = [],  # noqa: B006 (FastAPI copies defaults)
    reason: ReasonForm = "",
) -> Response:
    with c.session() as session:
        mv.check_identities(session, member_id, identity)
        entry = audit.unmerge(session, identity, actor=c.actor, reason=_reason(reason))
        entry_id = entry.id
    _changed(c)
    return c.redirect(
        f"/members/{member_id}?undo={entry_id}",
        c.gettext("Identities moved to a new member."),
    )


@router.post("/members/{member_id}/split")
def split(
    c: Annotated[Ctx, Depends(require(can_operate))],
    member_id: MemberId,
    reason: ReasonForm = "",
) -> Response:
    with c.session() as session:
        mv.get_member(session, member_id)
        entry = audit.split_member(session, member_id, actor=c.actor, reason=_reason(reason))
        entry_id = entry.id
    _changed(c)
    return c.redirect(
        f"/members/{member_id}?undo={entry_id}",
        c.gettext("Every identity now has a member of its own."),
    )
