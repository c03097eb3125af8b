"""Closing the loop: when a theme ships or is declined, tell everyone who asked for it.

``notify_list`` gives the members to tell — everyone who raised a live item of the theme, once
each — with the channel to reach each one (where they raised their latest item: a comment on
their GitHub or Gitee issue, a reply to their forum topic, an e-mail, a WeChat message) and a
draft message per channel, in English, that names the theme and its link.

``record_notified`` stores that a member was told (once per theme and member: recording it
again changes nothing) and emits the activity ``feedback:closed_loop``. The activity is *acted
by the member who was told*, with no object and no contribution type: it is an event in that
person's history ("heard back on their request"), which attribution and member pages can read
("did the people we told come back and contribute?"), while contributor metrics, which count
only activities with a contribution type, do not count it. The operator who sent the message is
kept in the activity's attributes (``notified_by``) and in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from commops.clock import utcnow
from commops.errors import UsageError
from commops.identity.names import parse_email
from commops.ops import core
from commops.ops.feedback._common import get_theme, item_link, members_of
from commops.ops.feedback.models import THEME, FeedbackItem, FeedbackNotification, FeedbackTheme
from commops.ops.feedback.themes import FINAL, live_items, people, summarize
from commops.store.models import Identity

CLOSED_LOOP = "feedback:closed_loop"
CHANNELS = ("github", "gitee", "forum", "email", "wechat")
_BY_ORIGIN = {
    "github": "github",
    "gitee": "gitee",
    "discourse": "forum",
    "wechat": "wechat",
    "survey": "email",
    "event": "email",
    "email": "email",
    "manual": "email",
}


@dataclass
class Recipient:
    member_id: int
    name: str
    organization: str | None
    channel: str
    # The issue or topic to comment on (its URL, or the activity it was captured from), the
    # e-mail address, or the WeChat group; None when unknown.
    address: str | None
    items: list[int] = field(default_factory=list)
    notified_at: datetime | None = None
    notified_channel: str | None = None


@dataclass
class NotifyList:
    theme_id: int
    title: str
    status: str
    reason: str | None
    link: str | None
    members: int
    organizations: list[str]
    recipients: list[Recipient]
    drafts: dict[str, str]
    warnings: list[str]


def _email(session: Session, member_id: int) -> str | None:
    for value in session.execute(
        select(Identity.value)
        .where(Identity.member_id == member_id, Identity.kind == "email")
        .order_by(Identity.verified.desc(), Identity.id)
    ).scalars():
        parsed = parse_email(value)
        if parsed is not None and parsed.login is None:  # not a no-reply address
            return str(value)
    return None


def _closed(theme: FeedbackTheme) -> None:
    if theme.status not in FINAL:
        raise UsageError(
            f"feedback theme {theme.id} is {theme.status}: the loop is closed once it is "
            "shipped or declined",
            hint=f"`commops feedback theme status {theme.id} shipped` (or declined --reason ...).",
        )


def _people_line(members: int, orgs: int) -> str:
    who = f"{members} {'person' if members == 1 else 'people'}"
    if orgs > 1:
        return f"{who} from {orgs} organisations"
    return who


def drafts(
    *, title: str, status: str, reason: str | None, link: str | None, members: int, orgs: int
) -> dict[str, str]:
    """The message for each channel, in English."""
    asked = _people_line(members, orgs)
    see = f" {link}" if link else ""
    if status == "shipped":
        head = f"{title} has shipped."
        body = f"It was asked for by {asked}, and your request helped us decide to build it." + (
            f" Details:{see}" if see else ""
        )
        follow = "If it does not cover your case yet, tell us what is missing."
        subject = f"Shipped: {title}"
    else:
        head = f"We have decided not to build {title} for now."
        body = (f"The reason: {reason.rstrip('.')}." if reason else "") + (
            f" More about this decision:{see}" if see else ""
        )
        follow = "Every request is read. If your needs change, or we missed something, tell us."
        subject = f"Your request: {title}"
    body = body.strip()
    markdown = f"Thank you for raising this. **{head}** {body}\n\n{follow}"
    return {
        "github": markdown,
        "gitee": markdown,
        "forum": markdown,
        "email": (
            f"Subject: {subject}\n\nHello,\n\nThank you for telling us what you need. {head} "
            f"{body}\n\n{follow}\n\nThe community team"
        ),
        "wechat": f"Thank you for your feedback: {head} {body} {follow}",
    }


def notify_list(session: Session, theme_id: int, *, sla_days: int = 30) -> NotifyList:
    """The members to tell about a shipped or declined theme, with the drafts."""
    theme = get_theme(session, theme_id)
    _closed(theme)
    items = live_items(session, [theme.id])[theme.id]
    who = people(session, items)
    (summary,) = summarize(session, [theme], sla_days=sla_days)
    told = {
        members_of(session, [n.identity_id]).get(n.identity_id): n
        for n in session.execute(
            select(FeedbackNotification).where(FeedbackNotification.theme_id == theme.id)
        ).scalars()
    }
    told_by_member = {m.id: n for m, n in told.items() if m is not None}
    by_id = {i.id: i for i in items}
    recipients: list[Recipient] = []
    for p in sorted(who.values(), key=lambda p: (p.first_raised_at, p.member_id)):
        if p.is_bot:
            continue
        latest: FeedbackItem = max((by_id[i] for i in p.items), key=lambda i: (i.raised_at, i.id))
        channel = _BY_ORIGIN.get(latest.origin, "email")
        address: str | None
        if channel in ("github", "gitee", "forum"):
            address = item_link(latest)
        elif channel == "email":
            address = _email(session, p.member_id)
        else:
            address = latest.channel
        note = told_by_member.get(p.member_id)
        recipients.append(
            Recipient(
                member_id=p.member_id,
                name=p.name,
                organization=p.organization,
                channel=channel,
                address=address,
                items=list(p.items),
                notified_at=note.notified_at if note else None,
                notified_channel=note.channel if note else None,
            )
        )
    used = {r.channel for r in recipients}
    texts = drafts(
        title=theme.title,
        status=theme.status,
        reason=theme.reason,
        link=theme.link,
        members=summary.members,
        orgs=len(summary.organizations),
    )
    warnings = []
    if not theme.link:
        warnings.append(
            f"theme {theme.id} has no link: set one (`commops feedback theme route {theme.id} "
            "--link URL`) so the messages can point to it"
        )
    anonymous = sum(1 for i in items if i.identity_id is None)
    if anonymous:
        warnings.append(f"{anonymous} items have no known member: nobody to tell for them")
    return NotifyList(
        theme_id=theme.id,
        title=theme.title,
        status=theme.status,
        reason=theme.reason,
        link=theme.link,
        members=summary.members,
        organizations=summary.organizations,
        recipients=recipients,
        drafts={c: texts[c] for c in CHANNELS if c in used},
        warnings=warnings,
    )


def record_notified(
    session: Session,
    theme_id: int,
    member: int | str,
    *,
    actor: str,
    channel: str | None = None,
    at: datetime | None = None,
) -> tuple[FeedbackNotification, bool]:
    """Record that ``member`` was told about the theme (through ``channel``; default: the one
    ``notify_list`` suggests) and emit ``feedback:closed_loop``. Returns the notification and
    whether it is new: recording a member twice keeps the first."""
    theme = get_theme(session, theme_id)
    _closed(theme)
    member_id = core.require_member(session, member)
    listing = notify_list(session, theme.id)
    match = next((r for r in listing.recipients if r.member_id == member_id), None)
    if match is None:
        raise UsageError(
            f"feedback theme {theme.id}: member {member_id} raised none of its items",
            hint=f"See `commops feedback notify-list {theme.id}`.",
        )
    identity = core.member_identity(session, member_id)
    existing = session.execute(
        select(FeedbackNotification).where(
            FeedbackNotification.theme_id == theme.id,
            FeedbackNotification.identity_id == identity.id,
        )
    ).scalar_one_or_none()
    if existing is not None:
        return existing, False
    if match.notified_at is not None:  # told under an identity merged into this member since
        previous = session.execute(
            select(FeedbackNotification)
            .join(Identity, Identity.id == FeedbackNotification.identity_id)
            .where(FeedbackNotification.theme_id == theme.id, Identity.member_id == member_id)
        ).scalar_one()
        return previous, False
    chosen = (channel or match.channel).strip().lower()
    if chosen not in CHANNELS:
        raise UsageError(f"channel: unknown channel {chosen!r}", hint=f"Use {', '.join(CHANNELS)}.")
    when = at or utcnow()
    activity = core.emit(
        session,
        kind=CLOSED_LOOP,
        member_id=member_id,
        key=f"feedback:theme:{theme.id}:told:{identity.id}",
        occurred_at=when,
        channel=chosen,
        target=f"feedback-theme:{theme.id}",
        title=theme.title,
        attributes={
            "theme_id": theme.id,
            "status": theme.status,
            "link": theme.link,
            "items": match.items,
            "notified_by": actor,
        },
    )
    note = FeedbackNotification(
        theme_id=theme.id,
        identity_id=identity.id,
        channel=chosen,
        address=match.address if chosen == match.channel else None,
        status=theme.status,
        notified_at=when,
        actor=actor,
        activity_uid=activity.uid,
    )
    session.add(note)
    session.flush()
    core.record(
        session,
        actor=actor,
        record_type=THEME,
        record_id=theme.id,
        action="notified",
        details={"member_id": member_id, "channel": chosen, "activity_uid": activity.uid},
        at=when,
    )
    return note, True
