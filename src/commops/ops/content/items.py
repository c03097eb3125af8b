"""Content items and every move they make, one domain function per transition:

``add_item`` (a pitch) → ``accept`` → ``start_drafting`` → ``submit_for_review`` (opens a review
round with named reviewers) → ``review`` by those reviewers, which ends in ``request_changes``
(back to drafting) or ``approve`` (automatic once the approval rule holds, or explicit) →
``schedule`` → ``publish`` (→ ``cross_post`` on more channels); ``withdraw`` from any state that
is not final. ``delete_item`` / ``restore_item`` are soft and audited.

Each function checks the move (``core.check_transition``), changes the rows, writes the audit
log (``core.record``) and brings the item's credits in the activity stream up to date
(``credits.sync_credits``), all in the caller's session. None of them prints or commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from commops.clock import utcnow
from commops.errors import StateConflict, UsageError
from commops.ops import core
from commops.ops.content.credits import sync_credits
from commops.ops.content.models import (
    ContentAuthor,
    ContentItem,
    ContentPost,
    ContentReview,
    ContentRound,
    ContentRoundReviewer,
)
from commops.ops.content.rules import (
    BEFORE_APPROVAL,
    FLOW,
    KIND_HELP,
    KINDS,
    RECORD_TYPE,
    VERDICTS,
    ApprovalStatus,
    approval_status,
    author_ids,
    channel_name,
    current_round,
    language_code,
    member_label,
    required_approvals,
    review_refusal,
)
from commops.store.models import Identity, Member

MAX_TITLE = 500


# -- finding items ----------------------------------------------------------------------------


def get_item(session: Session, ref: int | str, *, include_deleted: bool = False) -> ContentItem:
    """The item ``ref`` names: an id, a URL it was published at, or its slug. A deleted item
    only with ``include_deleted``."""
    text = str(ref).strip().removeprefix("#")
    item: ContentItem | None = None
    if text.isdigit():
        item = session.get(ContentItem, int(text))
    elif text.startswith(("http://", "https://")):
        item = item_at_url(session, text)
    elif text:
        found = list(
            session.execute(
                select(ContentItem).where(ContentItem.slug == text).order_by(ContentItem.id)
            ).scalars()
        )
        if len(found) > 1:
            ids = ", ".join(str(i.id) for i in found)
            raise UsageError(f"slug {text!r} names several content items: {ids}", hint="Use an id.")
        item = found[0] if found else None
    if item is None:
        raise UsageError(f"no content item {str(ref)!r}", hint="See `commops content list`.")
    if item.deleted_at is not None and not include_deleted:
        raise UsageError(
            f"content {item.id} ({item.title!r}) is deleted",
            hint=f"Restore it first: `commops content restore {item.id}`.",
        )
    return item


def item_at_url(session: Session, url: str) -> ContentItem | None:
    """The item published at ``url`` (first post or cross-post), trailing slash ignored."""
    variants = {url, url.rstrip("/"), url.rstrip("/") + "/"}
    item = session.execute(
        select(ContentItem).where(ContentItem.url.in_(variants)).order_by(ContentItem.id).limit(1)
    ).scalar_one_or_none()
    if item is not None:
        return item
    post = session.execute(
        select(ContentPost).where(ContentPost.url.in_(variants)).order_by(ContentPost.id).limit(1)
    ).scalar_one_or_none()
    return session.get(ContentItem, post.item_id) if post is not None else None


def _what(item: ContentItem) -> str:
    return f"content {item.id}"


def _move(
    session: Session,
    item: ContentItem,
    target: str,
    *,
    actor: str,
    action: str,
    at: datetime | None,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
    only_from: tuple[str, ...] | None = None,
) -> None:
    """The state change every transition function makes: checked, applied, logged.
    ``only_from`` narrows the states this transition leaves from, where FLOW allows the same
    target from several (drafting: started from accepted, or sent back from review)."""
    if only_from is not None and item.state not in only_from:
        raise UsageError(
            f"{_what(item)} is {item.state}: {action} is a move from {' or '.join(only_from)}",
            hint=f"From {item.state}: {', '.join(sorted(FLOW[item.state])) or 'nothing (final)'}.",
        )
    core.check_transition(_what(item), item.state, target, FLOW)
    before = item.state
    item.state = target
    item.updated_at = utcnow()
    core.record(
        session,
        actor=actor,
        record_type=RECORD_TYPE,
        record_id=item.id,
        action=action,
        from_state=before,
        to_state=target,
        reason=reason,
        details=details,
        at=at,
    )


# -- validation helpers -----------------------------------------------------------------------


def _title(value: str) -> str:
    title = " ".join(value.split())
    if not title:
        raise UsageError("title: the title is empty")
    if len(title) > MAX_TITLE:
        raise UsageError(f"title: longer than {MAX_TITLE} characters ({len(title)})")
    return title


def _kind(value: str) -> str:
    kind = value.strip().lower()
    if kind not in KINDS:
        raise UsageError(f"kind: {value!r} is not a content kind", hint=f"Kinds: {KIND_HELP}.")
    return kind


def _names(values: Sequence[str], fn: Any, field: str) -> list[str]:
    out: list[str] = []
    for value in values:
        name = fn(value, field=field)
        if name not in out:
            out.append(name)
    return out


def _tags(values: Sequence[str]) -> list[str]:
    out: list[str] = []
    for value in values:
        tag = " ".join(str(value).split())
        if not tag:
            raise UsageError("tag: an empty tag")
        if tag not in out:
            out.append(tag)
    return out


def _approvals(value: int | None) -> int | None:
    if value is not None and value < 1:
        raise UsageError(f"approvals: must be at least 1, got {value}")
    return value


def _optional(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip()
    return text or None


def _members(session: Session, refs: Sequence[int | str], field: str) -> list[int]:
    ids: list[int] = []
    for ref in refs:
        member_id = core.require_member(session, ref, field=field)
        if member_id not in ids:
            ids.append(member_id)
    return ids


def _url(session: Session, value: str, item: ContentItem) -> str:
    url = value.strip()
    if not url.startswith(("http://", "https://")) or len(url) < 10 or " " in url:
        raise UsageError(f"url: {value!r} is not an http(s) URL")
    other = item_at_url(session, url)
    if other is not None and other.id != item.id:
        raise StateConflict(f"url: {url} is already the address of content {other.id}")
    return url


def _translation_of(
    session: Session, ref: int | str | None, kind: str, language: str
) -> int | None:
    if kind != "translation":
        if ref is not None:
            raise UsageError("translation-of: only a translation translates another item")
        return None
    if ref is None:
        raise UsageError(
            "translation-of: a translation names the item it translates",
            hint="Give --translation-of ITEM.",
        )
    original = get_item(session, ref)
    if original.kind == "translation":
        raise UsageError(
            f"translation-of: content {original.id} is itself a translation: name the original item"
        )
    if original.language == language:
        raise UsageError(
            f"language: content {original.id} is already in {language!r}: a translation is in "
            "another language"
        )
    return original.id


def replace_authors(session: Session, item: ContentItem, member_ids: Sequence[int]) -> None:
    """Make ``member_ids`` (first author first) the item's authors (the callers log it)."""
    for row in session.execute(
        select(ContentAuthor).where(ContentAuthor.item_id == item.id)
    ).scalars():
        session.delete(row)
    session.flush()
    for position, member_id in enumerate(member_ids):
        identity = core.member_identity(session, member_id)
        session.add(ContentAuthor(item_id=item.id, identity_id=identity.id, position=position))
    session.flush()


# -- pitch, accept, draft ---------------------------------------------------------------------


def add_item(
    session: Session,
    *,
    title: str,
    kind: str,
    authors: Sequence[int | str],
    language: str,
    actor: str,
    channels: Sequence[str] = (),
    tags: Sequence[str] = (),
    project: str | None = None,
    release: str | None = None,
    translation_of: int | str | None = None,
    approvals: int | None = None,
    summary: str | None = None,
    at: datetime | None = None,
) -> ContentItem:
    """A new item, as a pitch. ``authors`` are members (id, e-mail, login or name), first
    author first; a translation names the item it translates (in another language)."""
    clean_title = _title(title)
    clean_kind = _kind(kind)
    lang = language_code(language)
    if not authors:
        raise UsageError("author: an item has at least one author", hint="Give --author MEMBER.")
    author_list = _members(session, authors, "author")
    item = ContentItem(
        kind=clean_kind,
        title=clean_title,
        state="pitch",
        language=lang,
        channels=_names(channels, channel_name, "channel"),
        tags=_tags(tags),
        project=_optional(project),
        release=_optional(release),
        translation_of_id=_translation_of(session, translation_of, clean_kind, lang),
        approvals_required=_approvals(approvals),
        summary=_optional(summary),
        attributes={},
        created_at=at or utcnow(),
        updated_at=utcnow(),
    )
    session.add(item)
    session.flush()
    replace_authors(session, item, author_list)
    core.record(
        session,
        actor=actor,
        record_type=RECORD_TYPE,
        record_id=item.id,
        action="pitched",
        to_state="pitch",
        details={"title": item.title, "kind": item.kind, "authors": author_list},
        at=at,
    )
    return item


def accept(
    session: Session,
    ref: int | str,
    *,
    actor: str,
    reason: str | None = None,
    at: datetime | None = None,
) -> ContentItem:
    """pitch → accepted: the pitch is wanted."""
    item = get_item(session, ref)
    _move(session, item, "accepted", actor=actor, action="accepted", reason=reason, at=at)
    return item


def start_drafting(
    session: Session, ref: int | str, *, actor: str, at: datetime | None = None
) -> ContentItem:
    """accepted → drafting: the authors are writing."""
    item = get_item(session, ref)
    if item.state == "in_review":
        raise UsageError(
            f"{_what(item)} is in_review: only an accepted item starts drafting",
            hint="An item in review goes back to drafting when a reviewer requests changes: "
            "`commops content review ITEM request-changes --as REVIEWER -m TEXT`.",
        )
    _move(session, item, "drafting", actor=actor, action="drafting", at=at, only_from=("accepted",))
    return item


# -- review -----------------------------------------------------------------------------------


def _open_round(session: Session, item: ContentItem) -> ContentRound:
    rnd = current_round(session, item.id)
    if rnd is None or rnd.outcome != "open":
        raise UsageError(f"{_what(item)} has no open review round")
    return rnd


def _close_round(rnd: ContentRound, outcome: str, at: datetime | None) -> None:
    rnd.outcome = outcome
    rnd.closed_at = at or utcnow()


def submit_for_review(
    session: Session,
    ref: int | str,
    reviewers: Sequence[int | str],
    *,
    default_approvals: int,
    actor: str,
    at: datetime | None = None,
) -> ContentRound:
    """drafting → in_review: open a new review round asking ``reviewers``. They must be able
    to approve it between them: enough of them for the approvals it needs, at least one not
    staff, none of them an author or a bot."""
    item = get_item(session, ref)
    core.check_transition(_what(item), item.state, "in_review", FLOW)
    if not reviewers:
        raise UsageError(
            "reviewer: name the reviewers of this round", hint="Give --reviewer MEMBER (repeat)."
        )
    asked = _members(session, reviewers, "reviewer")
    authors = set(author_ids(session, item.id))
    staff = 0
    for member_id in asked:
        member = session.get(Member, member_id)
        assert member is not None
        who = member_label(session, member_id)
        if member_id in authors:
            raise UsageError(
                f"reviewer: {who} is an author of {_what(item)}: authors cannot review "
                "their own item"
            )
        if member.is_bot:
            raise UsageError(f"reviewer: {who} is a bot")
        staff += 1 if member.is_staff else 0
    needed = required_approvals(item, default_approvals)
    if len(asked) < needed:
        raise UsageError(
            f"reviewer: {_what(item)} needs {needed} approvals and only {len(asked)} "
            f"reviewer{'s are' if len(asked) > 1 else ' is'} asked",
            hint="Ask more reviewers with --reviewer.",
        )
    if staff == len(asked):
        raise UsageError(
            f"reviewer: every reviewer asked is staff; {_what(item)} needs an approval by a "
            "reviewer who is not staff",
            hint="Ask a community member too.",
        )
    previous = current_round(session, item.id)
    rnd = ContentRound(
        item_id=item.id,
        number=(previous.number + 1) if previous is not None else 1,
        opened_at=at or utcnow(),
        opened_by=actor,
        outcome="open",
    )
    session.add(rnd)
    session.flush()
    for member_id in asked:
        identity = core.member_identity(session, member_id)
        session.add(ContentRoundReviewer(round_id=rnd.id, identity_id=identity.id))
    _move(
        session,
        item,
        "in_review",
        actor=actor,
        action="submitted",
        at=at,
        details={"round": rnd.number, "reviewers": asked, "approvals_required": needed},
    )
    return rnd


@dataclass
class ReviewOutcome:
    review: ContentReview
    round: ContentRound
    status: ApprovalStatus
    state: str  # the item's state afterwards


def _verdict(value: str) -> str:
    verdict = value.strip().lower().replace("-", "_")
    if verdict in ("changes", "changes_requested"):
        verdict = "request_changes"
    if verdict not in VERDICTS:
        raise UsageError(
            f"verdict: {value!r} is not a review verdict",
            hint="Verdicts: approve, request-changes, comment.",
        )
    return verdict


def review(
    session: Session,
    ref: int | str,
    reviewer: int | str,
    verdict: str,
    *,
    default_approvals: int,
    actor: str,
    body: str | None = None,
    at: datetime | None = None,
) -> ReviewOutcome:
    """A review by an asked reviewer in the open round: ``approve``, ``request_changes`` (the
    item goes back to drafting; a new round can be opened) or ``comment``. An approval that
    makes the rule hold approves the item."""
    item = get_item(session, ref)
    if item.state != "in_review":
        raise UsageError(
            f"{_what(item)} is {item.state}: only an item in review can be reviewed",
            hint="Submit it for review first: `commops content submit`.",
        )
    clean = _verdict(verdict)
    member_id = core.require_member(session, reviewer, field="reviewer")
    rnd = _open_round(session, item)
    refusal = review_refusal(session, item, rnd, member_id, clean)
    if refusal is not None:
        raise UsageError(f"reviewer: {refusal}")
    text = _optional(body)
    if clean != "approve" and text is None:
        raise UsageError(
            f"message: a {clean.replace('_', ' ')} review says what to change or what it means",
            hint="Give --message TEXT.",
        )
    when = at or utcnow()
    given = ContentReview(
        item_id=item.id,
        round_id=rnd.id,
        reviewer_identity_id=core.member_identity(session, member_id).id,
        verdict=clean,
        body=text,
        at=when,
        actor=actor,
    )
    session.add(given)
    session.flush()
    core.record(
        session,
        actor=actor,
        record_type=RECORD_TYPE,
        record_id=item.id,
        action=f"review:{clean}",
        reason=text,
        details={"round": rnd.number, "review_id": given.id, "reviewer": member_id},
        at=when,
    )
    if clean == "request_changes":
        request_changes(session, item, rnd, member_id, actor=actor, at=when)
    elif clean == "approve":
        status = approval_status(session, item, rnd, default_approvals)
        if status.met:
            approve(session, item.id, default_approvals=default_approvals, actor=actor, at=when)
    sync_credits(session, item)
    return ReviewOutcome(
        review=given,
        round=rnd,
        status=approval_status(session, item, rnd, default_approvals),
        state=item.state,
    )


def request_changes(
    session: Session,
    item: ContentItem,
    rnd: ContentRound,
    reviewer_id: int,
    *,
    actor: str,
    at: datetime | None = None,
) -> None:
    """in_review → drafting: a reviewer asked for changes; the round is closed."""
    _move(
        session,
        item,
        "drafting",
        actor=actor,
        action="changes-requested",
        at=at,
        only_from=("in_review",),
        details={"round": rnd.number, "reviewer": reviewer_id},
    )
    _close_round(rnd, "changes_requested", at)


def approve(
    session: Session,
    ref: int | str,
    *,
    default_approvals: int,
    actor: str,
    at: datetime | None = None,
) -> ApprovalStatus:
    """in_review → approved, when the approval rule holds for the open round (enough
    approvals by asked reviewers, one of them not staff); otherwise an error saying what is
    missing."""
    item = get_item(session, ref)
    core.check_transition(_what(item), item.state, "approved", FLOW)
    rnd = _open_round(session, item)
    status = approval_status(session, item, rnd, default_approvals)
    if not status.met:
        so_far = ", ".join(member_label(session, m) for m in status.approvers) or "none"
        raise UsageError(
            f"{_what(item)} cannot be approved yet: it needs {status.shortfall()} "
            f"(round {rnd.number}: {len(status.approvers)} of {status.required} approvals)",
            hint=f"Approvals so far: {so_far}.",
        )
    _move(
        session,
        item,
        "approved",
        actor=actor,
        action="approved",
        at=at,
        details={"round": rnd.number, "approvers": status.approvers, "required": status.required},
    )
    _close_round(rnd, "approved", at)
    return status


# -- schedule, publish, cross-post ------------------------------------------------------------


def _post(session: Session, item: ContentItem, channel: str) -> ContentPost | None:
    return session.execute(
        select(ContentPost).where(ContentPost.item_id == item.id, ContentPost.channel == channel)
    ).scalar_one_or_none()


def _scheduled_post(session: Session, item: ContentItem) -> ContentPost | None:
    return session.execute(
        select(ContentPost).where(ContentPost.item_id == item.id, ContentPost.state == "scheduled")
    ).scalar_one_or_none()


def _add_channel(item: ContentItem, channel: str) -> None:
    if channel not in (item.channels or []):
        item.channels = [*(item.channels or []), channel]


def schedule(
    session: Session,
    ref: int | str,
    *,
    on: date,
    channel: str,
    actor: str,
    at: datetime | None = None,
) -> ContentPost:
    """approved → scheduled (or scheduled again: a new day or channel): the item goes out on
    ``channel`` on day ``on``."""
    item = get_item(session, ref)
    if item.state in BEFORE_APPROVAL:
        raise _never_approved(item, "scheduled")
    core.check_transition(_what(item), item.state, "scheduled", FLOW)
    name = channel_name(channel)
    post = _scheduled_post(session, item)
    was = (post.channel, post.scheduled_on) if post is not None else None
    if post is None:
        post = ContentPost(
            item_id=item.id, channel=name, state="scheduled", scheduled_on=on, created_at=utcnow()
        )
        session.add(post)
    else:
        post.channel, post.scheduled_on = name, on
    _add_channel(item, name)
    session.flush()
    details: dict[str, Any] = {"on": on.isoformat(), "channel": name}
    if was is not None:
        details["before"] = {"on": was[1].isoformat() if was[1] else None, "channel": was[0]}
    _move(
        session,
        item,
        "scheduled",
        actor=actor,
        action="rescheduled" if was is not None else "scheduled",
        at=at,
        details=details,
    )
    return post


def _never_approved(item: ContentItem, becoming: str) -> UsageError:
    return UsageError(
        f"{_what(item)} ({item.title!r}) was never approved: it is {item.state} and cannot be "
        f"{becoming}",
        hint="Content is published after community review: `commops content submit ITEM "
        "--reviewer ...`, then the reviewers approve it.",
    )


def publish(
    session: Session,
    ref: int | str,
    *,
    url: str,
    actor: str,
    channel: str | None = None,
    at: datetime | None = None,
) -> ContentPost:
    """approved or scheduled → published at ``url`` on ``channel`` (default: the scheduled
    channel, else the item's first channel). Credits its authors (``content:authored``, or
    ``content:translated`` for a translation)."""
    item = get_item(session, ref)
    if item.state in BEFORE_APPROVAL:
        raise _never_approved(item, "published")
    core.check_transition(_what(item), item.state, "published", FLOW)
    address = _url(session, url, item)
    scheduled = _scheduled_post(session, item)
    if channel is not None:
        name = channel_name(channel)
    elif scheduled is not None:
        name = scheduled.channel
    elif item.channels:
        name = str(item.channels[0])
    else:
        raise UsageError(
            f"channel: {_what(item)} has no channel yet", hint="Give --channel (e.g. blog)."
        )
    when = at or utcnow()
    post = scheduled
    if post is None:
        post = ContentPost(item_id=item.id, channel=name, state="published", created_at=utcnow())
        session.add(post)
    post.channel, post.state, post.published_at, post.url = name, "published", when, address
    _add_channel(item, name)
    item.published_at, item.url = when, address
    session.flush()
    _move(
        session,
        item,
        "published",
        actor=actor,
        action="published",
        at=when,
        details={"channel": name, "url": address},
    )
    sync_credits(session, item)
    return post


def cross_post(
    session: Session,
    ref: int | str,
    *,
    channel: str,
    actor: str,
    url: str | None = None,
    at: datetime | None = None,
) -> ContentPost:
    """A published item, posted again on another channel (the WeChat account, Zhihu, ...).
    The item stays published; its authors are credited once, for the first publication."""
    item = get_item(session, ref)
    if item.state != "published":
        if item.state in BEFORE_APPROVAL:
            raise _never_approved(item, "cross-posted")
        raise UsageError(
            f"{_what(item)} is {item.state}: only a published item can be cross-posted",
            hint="Publish it first: `commops content publish ITEM --url URL`.",
        )
    name = channel_name(channel)
    existing = _post(session, item, name)
    if existing is not None and existing.state == "published":
        raise StateConflict(f"channel: {_what(item)} is already published on {name}")
    address = _url(session, url, item) if url is not None else None
    when = at or utcnow()
    post = existing or ContentPost(item_id=item.id, channel=name, created_at=utcnow())
    post.state, post.published_at, post.url = "published", when, address
    if existing is None:
        session.add(post)
    _add_channel(item, name)
    item.updated_at = utcnow()
    session.flush()
    core.record(
        session,
        actor=actor,
        record_type=RECORD_TYPE,
        record_id=item.id,
        action="cross-posted",
        details={"channel": name, "url": address},
        at=when,
    )
    return post


# -- withdraw, edit, delete -------------------------------------------------------------------


def withdraw(
    session: Session,
    ref: int | str,
    *,
    reason: str,
    actor: str,
    at: datetime | None = None,
) -> ContentItem:
    """Any state that is not final → withdrawn, with a reason. An open review round is closed
    and a scheduled post cancelled; reviews already given keep their credit."""
    item = get_item(session, ref)
    why = _optional(reason)
    if why is None:
        raise UsageError("reason: say why the item is withdrawn", hint="Give --reason TEXT.")
    core.check_transition(_what(item), item.state, "withdrawn", FLOW)
    rnd = current_round(session, item.id)
    if rnd is not None and rnd.outcome == "open":
        _close_round(rnd, "withdrawn", at)
    post = _scheduled_post(session, item)
    if post is not None:
        post.state = "cancelled"
    item.withdrawn_reason = why
    _move(session, item, "withdrawn", actor=actor, action="withdrawn", reason=why, at=at)
    return item


EDITABLE = ("title", "language", "channels", "tags", "project", "release", "summary", "approvals")


def edit_item(
    session: Session,
    ref: int | str,
    *,
    actor: str,
    reason: str | None = None,
    title: str | None = None,
    language: str | None = None,
    channels: Sequence[str] | None = None,
    tags: Sequence[str] | None = None,
    project: str | None = None,
    release: str | None = None,
    summary: str | None = None,
    approvals: int | None = None,
    clear_approvals: bool = False,
    authors: Sequence[int | str] | None = None,
) -> dict[str, list[Any]]:
    """Change an item's descriptive fields (and, before review, its authors); returns
    ``{field: [before, after]}``, logged as ``edited``. A published item's credits follow."""
    item = get_item(session, ref)
    new: dict[str, Any] = {}
    if title is not None:
        new["title"] = _title(title)
    if language is not None:
        new["language"] = language_code(language)
        original = (
            session.get(ContentItem, item.translation_of_id) if item.translation_of_id else None
        )
        if original is not None and original.language == new["language"]:
            raise UsageError(
                f"language: content {original.id}, which this item translates, is already in "
                f"{new['language']!r}"
            )
    if channels is not None:
        new["channels"] = _names(channels, channel_name, "channel")
    if tags is not None:
        new["tags"] = _tags(tags)
    if project is not None:
        new["project"] = _optional(project)
    if release is not None:
        new["release"] = _optional(release)
    if summary is not None:
        new["summary"] = _optional(summary)
    if clear_approvals:
        new["approvals_required"] = None
    elif approvals is not None:
        new["approvals_required"] = _approvals(approvals)
    changes: dict[str, list[Any]] = {}
    for name, value in new.items():
        before = getattr(item, name)
        if before != value:
            changes[name] = [before, value]
            setattr(item, name, value)
    if authors is not None:
        if item.state not in ("pitch", "accepted", "drafting"):
            raise UsageError(
                f"author: {_what(item)} is {item.state}: authors change only before review"
            )
        if not authors:
            raise UsageError("author: an item has at least one author")
        before_authors = author_ids(session, item.id)
        after_authors = _members(session, authors, "author")
        if before_authors != after_authors:
            replace_authors(session, item, after_authors)
            changes["authors"] = [before_authors, after_authors]
    if not changes:
        raise UsageError(f"{_what(item)}: nothing to change")
    item.updated_at = utcnow()
    session.flush()
    core.record(
        session,
        actor=actor,
        record_type=RECORD_TYPE,
        record_id=item.id,
        action="edited",
        reason=reason,
        details={"changes": changes},
    )
    sync_credits(session, item)
    return changes


def delete_item(
    session: Session, ref: int | str, *, actor: str, reason: str | None = None
) -> ContentItem:
    """Hide an item (recoverable with ``restore_item``), audited. Its credits leave the
    activity stream until it is restored."""
    item = get_item(session, ref, include_deleted=True)
    core.soft_delete(session, item, RECORD_TYPE, actor=actor, reason=reason)
    sync_credits(session, item)
    return item


def restore_item(
    session: Session, ref: int | str, *, actor: str, reason: str | None = None
) -> ContentItem:
    """Bring back a deleted item and its credits, audited."""
    item = get_item(session, ref, include_deleted=True)
    core.restore(session, item, RECORD_TYPE, actor=actor, reason=reason)
    sync_credits(session, item)
    return item


def list_items(
    session: Session,
    *,
    state: str | None = None,
    kind: str | None = None,
    author: int | str | None = None,
    channel: str | None = None,
    tag: str | None = None,
    include_deleted: bool = False,
) -> list[ContentItem]:
    """Items, newest first, filtered."""
    stmt = select(ContentItem).order_by(ContentItem.id.desc())
    if not include_deleted:
        stmt = stmt.where(ContentItem.deleted_at.is_(None))
    if state is not None:
        if state not in FLOW:
            raise UsageError(f"state: {state!r} is not a state", hint=f"States: {', '.join(FLOW)}.")
        stmt = stmt.where(ContentItem.state == state)
    if kind is not None:
        stmt = stmt.where(ContentItem.kind == _kind(kind))
    if author is not None:
        member_id = core.require_member(session, author, field="author")
        stmt = stmt.where(
            ContentItem.id.in_(
                select(ContentAuthor.item_id)
                .join(Identity, Identity.id == ContentAuthor.identity_id)
                .where(Identity.member_id == member_id)
            )
        )
    items = list(session.execute(stmt).scalars())
    if channel is not None:
        name = channel_name(channel)
        posted = set(
            session.execute(select(ContentPost.item_id).where(ContentPost.channel == name))
            .scalars()
            .all()
        )
        items = [i for i in items if name in (i.channels or []) or i.id in posted]
    if tag is not None:
        low = tag.strip().lower()
        items = [i for i in items if any(str(t).lower() == low for t in i.tags or [])]
    return items


def posts_of(session: Session, item_id: int) -> list[ContentPost]:
    return list(
        session.execute(
            select(ContentPost).where(ContentPost.item_id == item_id).order_by(ContentPost.id)
        ).scalars()
    )
