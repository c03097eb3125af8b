"""Feedback themes: items grouped into one product request, routed (product area, owner, link)
and tracked through its states, with its weight and its service level.

States (``STATES``)::

    new ──► triaged ──► planned ──► in_progress ──► shipped
     │         │           │  ▲          │
     │         │           │  └──────────┤ (paused)
     └─────────┴───────────┴─────────────┴──► declined (a reason is required)

``shipped`` and ``declined`` are final: the people who asked are then told (loop.py). Each move
is one function below (``triage``, ``plan``, ``start``, ``ship``, ``decline``); ``set_status``
picks the function for a target state.

Weight: a theme weighs the people it affects, not its number of items. ``members`` counts the
distinct members (bots left out) who raised a live item of the theme; ``organizations`` counts
the distinct organisations those members belonged to on the day of their first item in the
theme (``commops.identity.orgs.affiliations_at``: dated enrollments). Themes sort by members,
then organisations, then items.

Service level: a theme is due ``feedback_sla_days`` (commops.toml ``[feedback] sla_days``,
default 30) after its *first item was raised* (``start``; the theme's creation when it has no
item): the people asking have waited since then, not since someone made the theme.
``age_days`` = (closed_at, or now) - start, in whole days; ``overdue`` = not shipped or
declined and now > start + sla_days.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from commops.clock import utcnow
from commops.errors import UsageError
from commops.identity.orgs import affiliations_at
from commops.ops import core
from commops.ops.feedback._common import (
    check_title,
    check_url,
    get_item,
    get_theme,
    live_theme_id,
    members_of,
)
from commops.ops.feedback.models import ITEM, THEME, FeedbackItem, FeedbackTheme
from commops.store.models import Member

STATES: dict[str, tuple[str, ...]] = {
    "new": ("triaged", "declined"),
    "triaged": ("planned", "declined"),
    "planned": ("in_progress", "declined"),
    "in_progress": ("shipped", "planned", "declined"),
    "shipped": (),
    "declined": (),
}
FINAL = ("shipped", "declined")
UNSET: Any = object()


def _what(theme: FeedbackTheme) -> str:
    return f"feedback theme {theme.id}"


# -- creating and grouping ----------------------------------------------------------------------


def _owner_identity(session: Session, owner: int | str) -> int:
    member_id = core.require_member(session, owner, field="owner")
    return core.member_identity(session, member_id).id


def create_theme(
    session: Session,
    title: str,
    *,
    actor: str,
    description: str | None = None,
    product_area: str | None = None,
    owner: int | str | None = None,
    link: str | None = None,
    items: Sequence[int] = (),
) -> FeedbackTheme:
    """A new theme (state ``new``), with the given items in it."""
    title = check_title(title, "theme title")
    link = check_url(link, "link")
    owner_id = None if owner is None else _owner_identity(session, owner)
    for item_id in items:  # every item checked before anything is written
        get_item(session, item_id)
    now = utcnow()
    theme = FeedbackTheme(
        title=title,
        description=(description or "").strip() or None,
        product_area=(product_area or "").strip() or None,
        owner_identity_id=owner_id,
        status="new",
        link=link,
        created_at=now,
        status_at=now,
    )
    session.add(theme)
    session.flush()
    core.record(
        session,
        actor=actor,
        record_type=THEME,
        record_id=theme.id,
        action="created",
        to_state="new",
        details={"title": title, "product_area": theme.product_area, "link": link},
    )
    for item_id in items:
        assign_item(session, item_id, theme.id, actor=actor)
    return theme


def assign_item(session: Session, item_id: int, theme_id: int, *, actor: str) -> bool:
    """Put an item in a theme (moving it out of its current one). False when it already was."""
    item = get_item(session, item_id)
    theme = get_theme(session, theme_id)
    before = live_theme_id(session, item)
    if before == theme.id:
        return False
    item.theme_id = theme.id
    core.record(
        session,
        actor=actor,
        record_type=ITEM,
        record_id=item.id,
        action="assigned",
        details={"from_theme": before, "to_theme": theme.id},
    )
    return True


def unassign_item(session: Session, item_id: int, *, actor: str) -> None:
    """Take an item out of its theme."""
    item = get_item(session, item_id)
    before = live_theme_id(session, item)
    if before is None:
        raise UsageError(f"feedback item {item_id} is in no theme")
    item.theme_id = None
    core.record(
        session,
        actor=actor,
        record_type=ITEM,
        record_id=item.id,
        action="unassigned",
        details={"from_theme": before},
    )


def route_theme(
    session: Session,
    theme_id: int,
    *,
    actor: str,
    product_area: str | None = UNSET,
    owner: int | str | None = UNSET,
    link: str | None = UNSET,
) -> dict[str, list[Any]]:
    """Set a theme's product area, owner (a member) and link (the issue or roadmap item);
    None clears one. Returns what changed: {field: [before, after]} (the owner by name)."""
    theme = get_theme(session, theme_id)
    changes: dict[str, list[Any]] = {}
    details: dict[str, Any] = {}
    if product_area is not UNSET:
        area = (product_area or "").strip() or None
        if area != theme.product_area:
            changes["product_area"] = [theme.product_area, area]
            theme.product_area = area
    if owner is not UNSET:
        owner_id = None if owner is None else _owner_identity(session, owner)
        if owner_id != theme.owner_identity_id:
            names = members_of(session, [theme.owner_identity_id, owner_id])
            changes["owner"] = [
                _name(names, theme.owner_identity_id),
                _name(names, owner_id),
            ]
            details["owner_identity_id"] = [theme.owner_identity_id, owner_id]
            theme.owner_identity_id = owner_id
    if link is not UNSET:
        url = check_url(link, "link")
        if url != theme.link:
            changes["link"] = [theme.link, url]
            theme.link = url
    if not changes:
        raise UsageError(
            f"{_what(theme)}: nothing to change",
            hint="Give --area, --owner or --link with a new value.",
        )
    core.record(
        session,
        actor=actor,
        record_type=THEME,
        record_id=theme.id,
        action="routed",
        details={**changes, **details},
    )
    return changes


def _name(members: dict[int, Member], identity_id: int | None) -> str | None:
    member = members.get(identity_id) if identity_id is not None else None
    return None if member is None else f"{member.display_name} (member {member.id})"


# -- state changes: one function per target state ----------------------------------------------


def _move(
    session: Session,
    theme_id: int,
    target: str,
    *,
    actor: str,
    reason: str | None,
    link: str | None,
    at: datetime | None,
) -> FeedbackTheme:
    theme = get_theme(session, theme_id)
    core.check_transition(_what(theme), theme.status, target, STATES)
    url = check_url(link, "link")
    reason = (reason or "").strip() or None
    before = theme.status
    when = at or utcnow()
    theme.status = target
    theme.status_at = when
    theme.reason = reason
    if url is not None:
        theme.link = url
    if target in FINAL:
        theme.closed_at = when
    core.record(
        session,
        actor=actor,
        record_type=THEME,
        record_id=theme.id,
        action=target,
        from_state=before,
        to_state=target,
        reason=reason,
        details={"link": url} if url else None,
        at=when,
    )
    return theme


def triage(
    session: Session,
    theme_id: int,
    *,
    actor: str,
    reason: str | None = None,
    link: str | None = None,
    at: datetime | None = None,
) -> FeedbackTheme:
    """new -> triaged: someone read it and it is a real request."""
    return _move(session, theme_id, "triaged", actor=actor, reason=reason, link=link, at=at)


def plan(
    session: Session,
    theme_id: int,
    *,
    actor: str,
    reason: str | None = None,
    link: str | None = None,
    at: datetime | None = None,
) -> FeedbackTheme:
    """triaged -> planned (on the roadmap; ``link`` to the roadmap item), or in_progress ->
    planned (work paused)."""
    return _move(session, theme_id, "planned", actor=actor, reason=reason, link=link, at=at)


def start(
    session: Session,
    theme_id: int,
    *,
    actor: str,
    reason: str | None = None,
    link: str | None = None,
    at: datetime | None = None,
) -> FeedbackTheme:
    """planned -> in_progress: work has begun (``link`` to the issue or pull request)."""
    return _move(session, theme_id, "in_progress", actor=actor, reason=reason, link=link, at=at)


def ship(
    session: Session,
    theme_id: int,
    *,
    actor: str,
    reason: str | None = None,
    link: str | None = None,
    at: datetime | None = None,
) -> FeedbackTheme:
    """in_progress -> shipped (``link`` to the release notes or the merged change)."""
    return _move(session, theme_id, "shipped", actor=actor, reason=reason, link=link, at=at)


def decline(
    session: Session,
    theme_id: int,
    *,
    actor: str,
    reason: str | None,
    link: str | None = None,
    at: datetime | None = None,
) -> FeedbackTheme:
    """Any open state -> declined. The reason is required: it is what the people who asked
    will be told."""
    theme = get_theme(session, theme_id)
    if not (reason or "").strip():
        core.check_transition(_what(theme), theme.status, "declined", STATES)
        raise UsageError(
            f"{_what(theme)}: declining needs a reason",
            hint="Give --reason: it goes into the messages to the people who asked.",
        )
    return _move(session, theme_id, "declined", actor=actor, reason=reason, link=link, at=at)


Transition = Callable[..., FeedbackTheme]
TRANSITIONS: dict[str, Transition] = {
    "triaged": triage,
    "planned": plan,
    "in_progress": start,
    "shipped": ship,
    "declined": decline,
}


def set_status(
    session: Session,
    theme_id: int,
    target: str,
    *,
    actor: str,
    reason: str | None = None,
    link: str | None = None,
    at: datetime | None = None,
) -> FeedbackTheme:
    """Move a theme to ``target`` through that state's function."""
    target = target.strip().lower().replace("-", "_").replace(" ", "_")
    move = TRANSITIONS.get(target)
    if move is None:
        theme = get_theme(session, theme_id)
        core.check_transition(_what(theme), theme.status, target, STATES)  # names the states
        raise UsageError(f"{_what(theme)}: it cannot become {target}")
    return move(session, theme_id, actor=actor, reason=reason, link=link, at=at)


# -- delete and restore -------------------------------------------------------------------------


def delete_theme(session: Session, theme_id: int, *, actor: str, reason: str | None) -> None:
    """Hide a theme, audited; its items count as unthemed until it is restored."""
    theme = get_theme(session, theme_id, deleted=True)
    core.soft_delete(session, theme, THEME, actor=actor, reason=reason)


def restore_theme(session: Session, theme_id: int, *, actor: str, reason: str | None) -> None:
    theme = get_theme(session, theme_id, deleted=True)
    core.restore(session, theme, THEME, actor=actor, reason=reason)


# -- weight and service level -------------------------------------------------------------------


@dataclass
class Person:
    """A member who raised at least one live item of a theme."""

    member_id: int
    name: str
    organization: str | None
    is_bot: bool
    first_raised_at: datetime
    items: list[int] = field(default_factory=list)


def people(session: Session, items: Sequence[FeedbackItem]) -> dict[int, Person]:
    """The members behind ``items`` (member id -> Person), each with the organisation they
    belonged to on the day of their first item among ``items``."""
    owners = members_of(session, (i.identity_id for i in items))
    found: dict[int, Person] = {}
    for item in sorted(items, key=lambda i: (i.raised_at, i.id)):
        m = owners.get(item.identity_id) if item.identity_id is not None else None
        if m is None:
            continue
        if m.id not in found:
            found[m.id] = Person(m.id, m.display_name, None, bool(m.is_bot), item.raised_at)
        found[m.id].items.append(item.id)
    by_day: dict[date, list[int]] = {}
    for p in found.values():
        by_day.setdefault(p.first_raised_at.date(), []).append(p.member_id)
    for day, ids in by_day.items():
        for member_id, org in affiliations_at(session, ids, day).items():
            found[member_id].organization = org
    return found


@dataclass
class ThemeSummary:
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


def live_items(session: Session, theme_ids: Sequence[int]) -> dict[int, list[FeedbackItem]]:
    out: dict[int, list[FeedbackItem]] = {t: [] for t in theme_ids}
    for start_at in range(0, len(theme_ids), 500):
        chunk = list(theme_ids[start_at : start_at + 500])
        for item in session.execute(
            select(FeedbackItem)
            .where(FeedbackItem.theme_id.in_(chunk), FeedbackItem.deleted_at.is_(None))
            .order_by(FeedbackItem.raised_at, FeedbackItem.id)
        ).scalars():
            assert item.theme_id is not None
            out[item.theme_id].append(item)
    return out


def summarize(
    session: Session,
    themes: Sequence[FeedbackTheme],
    *,
    sla_days: int,
    now: datetime | None = None,
) -> list[ThemeSummary]:
    """Weight, age and service level of each theme (see the module docstring)."""
    now = now or utcnow()
    items = live_items(session, [t.id for t in themes])
    owners = members_of(session, (t.owner_identity_id for t in themes))
    out = []
    for t in themes:
        mine = items[t.id]
        who = [p for p in people(session, mine).values() if not p.is_bot]
        begin = mine[0].raised_at if mine else t.created_at
        due = begin + timedelta(days=sla_days)
        final = t.status in FINAL
        end = t.closed_at if final and t.closed_at is not None else now
        owner = owners.get(t.owner_identity_id) if t.owner_identity_id is not None else None
        out.append(
            ThemeSummary(
                id=t.id,
                title=t.title,
                description=t.description,
                status=t.status,
                reason=t.reason,
                product_area=t.product_area,
                owner_member_id=owner.id if owner else None,
                owner=owner.display_name if owner else None,
                link=t.link,
                items=len(mine),
                members=len(who),
                organizations=sorted({p.organization for p in who if p.organization}),
                start=begin,
                due=due,
                age_days=max(0, (end - begin).days),
                overdue=not final and now > due,
                within_sla=(end <= due) if final else None,
                created_at=t.created_at,
                status_at=t.status_at,
                closed_at=t.closed_at,
                deleted_at=t.deleted_at,
            )
        )
    return out


def weight_key(s: ThemeSummary) -> tuple[int, int, int, int]:
    """Heaviest first: members, then organisations, then items (then the oldest id)."""
    return (-s.members, -len(s.organizations), -s.items, s.id)


def list_themes(
    session: Session,
    *,
    sla_days: int,
    status: Sequence[str] = (),
    area: str | None = None,
    overdue: bool = False,
    deleted: bool = False,
    now: datetime | None = None,
) -> list[ThemeSummary]:
    """Themes, heaviest first (``weight_key``)."""
    for s in status:
        if s not in STATES:
            raise UsageError(f"--status: unknown state {s!r}", hint=f"States: {', '.join(STATES)}")
    stmt = select(FeedbackTheme).where(
        FeedbackTheme.deleted_at.is_not(None) if deleted else FeedbackTheme.deleted_at.is_(None)
    )
    if status:
        stmt = stmt.where(FeedbackTheme.status.in_(list(status)))
    if area is not None:
        stmt = stmt.where(FeedbackTheme.product_area == area)
    found = summarize(session, list(session.execute(stmt).scalars()), sla_days=sla_days, now=now)
    if overdue:
        found = [s for s in found if s.overdue]
    return sorted(found, key=weight_key)


@dataclass
class ThemeDetail:
    theme: ThemeSummary
    people: list[Person]
    item_ids: list[int]
    history: list[dict[str, Any]]


def theme_detail(
    session: Session, theme_id: int, *, sla_days: int, now: datetime | None = None
) -> ThemeDetail:
    """A theme (deleted ones too): its summary, the people behind it and its audit log."""
    theme = get_theme(session, theme_id, deleted=True)
    (summary,) = summarize(session, [theme], sla_days=sla_days, now=now)
    mine = live_items(session, [theme.id])[theme.id]
    who = sorted(people(session, mine).values(), key=lambda p: (p.first_raised_at, p.member_id))
    history = [
        {
            "at": e.at,
            "actor": e.actor,
            "action": e.action,
            "from_state": e.from_state,
            "to_state": e.to_state,
            "reason": e.reason,
            "details": dict(e.details or {}),
        }
        for e in core.history(session, THEME, theme.id)
    ]
    return ThemeDetail(summary, who, [i.id for i in mine], history)
