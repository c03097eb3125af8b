"""What the Members pages and ``/api/v1/members`` read: a filtered member list, a member's
profile and the merge suggestions, shared by the pages and the API.

Reads only; every change goes through ``commops.identity.audit`` (merge, unmerge, split,
accept, reject, undo). A profile is read with indexed lookups and LIMITs (identities by
member, activities by identity, ops records by identity), so its cost follows the member,
not the size of the community. E-mail addresses are personal data: unless ``show_emails``,
an e-mail identity's value is hidden, and searching does not match it.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from commops.clock import utcnow
from commops.errors import NotFoundError, UsageError
from commops.identity.audit import LOG_SCAN, LogView, list_suggestions, log_entries
from commops.ops.content.models import ContentAuthor, ContentItem, ContentReview
from commops.ops.events.models import (
    Event,
    EventOrganizer,
    EventProposal,
    EventProposalSpeaker,
    EventRegistration,
    EventShift,
    EventSignup,
)
from commops.ops.feedback.models import FeedbackItem
from commops.ops.governance.models import RoleGrant
from commops.store.models import (
    Activity,
    Enrollment,
    Identity,
    IdentityDecision,
    IdentityLog,
    Member,
    MergeSuggestion,
    Organization,
)
from commops.web.insights import Insights

SORTS = ("name", "newest", "level")
LEVELS = (1, 2, 3, 4)
SUGGESTION_STATUSES = ("open", "accepted", "rejected", "stale", "all")
# How many rows each section of a profile shows (the timeline is paged instead).
SECTION_LIMIT = 20
HIDDEN = "(hidden)"


def shown_value(kind: str, value: str, show_emails: bool) -> str | None:
    """An identity's value as the viewer may see it: None for a hidden e-mail address."""
    if kind == "email" and not show_emails:
        return None
    return value


def shown_name(name: str, show_emails: bool) -> str:
    """A display name that is an e-mail address is hidden too."""
    if "@" in name and not show_emails:
        return name.split("@", 1)[0]
    return name


@dataclass(frozen=True)
class MemberFilters:
    """The filters of the member list. ``level`` is an engagement level (1 most engaged .. 4)
    from the metric engagement-levels; ``organization`` matches any enrollment, past or present."""

    q: str | None = None
    tag: str | None = None
    organization: str | None = None
    level: int | None = None
    platform: str | None = None
    bots: bool = True
    sort: str = "name"

    def __post_init__(self) -> None:
        if self.sort not in SORTS:
            raise UsageError(f"sort {self.sort!r}: use one of {', '.join(SORTS)}")
        if self.level is not None and self.level not in LEVELS:
            raise UsageError(f"level {self.level}: use 1 (most engaged) to 4")

    @property
    def needs_levels(self) -> bool:
        return self.level is not None or self.sort == "level"


@dataclass(frozen=True)
class MemberRow:
    id: int
    display_name: str
    is_bot: bool
    is_staff: bool
    tags: list[str]
    identities: int
    handles: list[str]
    organizations: list[str]
    level: int | None


@dataclass(frozen=True)
class FilterChoices:
    """What the filter form offers."""

    organizations: list[str]
    platforms: list[str]


def filter_choices(session: Session) -> FilterChoices:
    orgs = list(session.execute(select(Organization.name).order_by(Organization.name)).scalars())
    platforms = list(
        session.execute(select(Identity.platform).distinct().order_by(Identity.platform)).scalars()
    )
    return FilterChoices(orgs, platforms)


def _today() -> date:
    return utcnow().date()


def _current_orgs(session: Session, member_ids: Sequence[int]) -> dict[int, list[str]]:
    today = _today()
    out: dict[int, list[str]] = {}
    if not member_ids:
        return out
    rows = session.execute(
        select(Enrollment.member_id, Organization.name)
        .join(Organization, Organization.id == Enrollment.organization_id)
        .where(
            Enrollment.member_id.in_(member_ids),
            or_(Enrollment.start_date.is_(None), Enrollment.start_date <= today),
            or_(Enrollment.end_date.is_(None), Enrollment.end_date >= today),
        )
        .order_by(Organization.name)
    )
    for member_id, name in rows:
        names = out.setdefault(int(member_id), [])
        if name not in names:
            names.append(name)
    return out


def search_members(
    session: Session,
    filters: MemberFilters,
    *,
    levels: Mapping[int, int] | None = None,
    show_emails: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[MemberRow], int]:
    """One page of the members matching ``filters`` and how many match in all.

    ``levels`` (member id -> engagement level) is needed when the filters use levels."""
    if filters.needs_levels and levels is None:
        raise UsageError("filtering or sorting by level needs the engagement levels")
    where: list[Any] = []
    if filters.q and filters.q.strip():
        q = filters.q.strip().lower()
        text = [func.lower(Identity.name).contains(q, autoescape=True)]
        value = func.lower(Identity.value).contains(q, autoescape=True)
        text.append(value if show_emails else (value & (Identity.kind != "email")))
        matches = [
            func.lower(Member.display_name).contains(q, autoescape=True),
            Member.id.in_(select(Identity.member_id).where(or_(*text))),
        ]
        if q.isdigit():
            matches.append(Member.id == int(q))
        where.append(or_(*matches))
    if filters.organization:
        where.append(
            Member.id.in_(
                select(Enrollment.member_id)
                .join(Organization, Organization.id == Enrollment.organization_id)
                .where(Organization.name == filters.organization)
            )
        )
    if filters.platform:
        where.append(
            Member.id.in_(select(Identity.member_id).where(Identity.platform == filters.platform))
        )
    if not filters.bots:
        where.append(Member.is_bot.is_(False))

    in_python = bool(filters.tag) or filters.needs_levels
    if not in_python:
        total = int(session.execute(select(func.count(Member.id)).where(*where)).scalar_one())
        order = (
            [Member.id.desc()]
            if filters.sort == "newest"
            else [func.lower(Member.display_name), Member.id]
        )
        ids = [
            int(i)
            for i in session.execute(
                select(Member.id).where(*where).order_by(*order).limit(limit).offset(offset)
            ).scalars()
        ]
    else:
        found = session.execute(select(Member.id, Member.display_name, Member.tags).where(*where))
        tag = (filters.tag or "").strip().lower()
        lv = levels or {}
        kept: list[tuple[int, str]] = []
        for mid, name, tags in found:
            if tag and not any(str(t).lower() == tag for t in tags or []):
                continue
            if filters.level is not None and lv.get(int(mid)) != filters.level:
                continue
            kept.append((int(mid), str(name)))
        if filters.sort == "newest":
            kept.sort(key=lambda r: -r[0])
        elif filters.sort == "level":
            kept.sort(key=lambda r: (lv.get(r[0], 5), r[1].lower(), r[0]))
        else:
            kept.sort(key=lambda r: (r[1].lower(), r[0]))
        total = len(kept)
        ids = [mid for mid, _ in kept[offset : offset + limit]]
    return _rows(session, ids, levels, show_emails), total


def _rows(
    session: Session, ids: list[int], levels: Mapping[int, int] | None, show_emails: bool
) -> list[MemberRow]:
    if not ids:
        return []
    members = {m.id: m for m in session.execute(select(Member).where(Member.id.in_(ids))).scalars()}
    handles: dict[int, list[str]] = {}
    counts: dict[int, int] = {}
    for mid, platform, kind, value in session.execute(
        select(Identity.member_id, Identity.platform, Identity.kind, Identity.value)
        .where(Identity.member_id.in_(ids))
        .order_by(Identity.id)
    ):
        counts[mid] = counts.get(mid, 0) + 1
        shown = shown_value(kind, value, show_emails)
        if shown is not None:
            handles.setdefault(mid, []).append(f"{platform}:{shown}")
    orgs = _current_orgs(session, ids)
    lv = levels or {}
    return [
        MemberRow(
            id=m.id,
            display_name=shown_name(m.display_name, show_emails),
            is_bot=bool(m.is_bot),
            is_staff=bool(m.is_staff),
            tags=[str(t) for t in m.tags or []],
            identities=counts.get(m.id, 0),
            handles=handles.get(m.id, []),
            organizations=orgs.get(m.id, []),
            level=lv.get(m.id),
        )
        for m in (members[i] for i in ids if i in members)
    ]


# -- the profile ------------------------------------------------------------------------------


@dataclass(frozen=True)
class IdentityInfo:
    id: int
    platform: str
    kind: str
    value: str | None  # None: an e-mail address the viewer may not see
    name: str | None
    verified: bool
    is_bot: bool
    activities: int


@dataclass(frozen=True)
class OrgInfo:
    organization: str
    start_date: date | None
    end_date: date | None
    origin: str | None
    current: bool


@dataclass(frozen=True)
class RoleInfo:
    ladder: str
    role: str
    state: str
    granted_on: date
    ended_on: date | None


@dataclass(frozen=True)
class TimelineEntry:
    id: int
    occurred_at: datetime
    kind: str
    platform: str
    channel: str | None
    target: str | None
    title: str | None
    contribution_type: str | None


@dataclass(frozen=True)
class EventInfo:
    event_id: int
    title: str
    starts_at: datetime
    state: str
    role: str  # organizer | speaker | registered | attended | volunteer


@dataclass(frozen=True)
class ContentInfo:
    item_id: int
    title: str
    kind: str
    state: str
    role: str  # author | reviewer
    at: datetime


@dataclass(frozen=True)
class FeedbackInfo:
    item_id: int
    title: str
    origin: str
    channel: str | None
    raised_at: datetime


@dataclass(frozen=True)
class DecisionInfo:
    id: int
    identity_a_id: int
    identity_b_id: int
    decision: str
    origin: str
    actor: str
    reason: str | None
    created_at: datetime


@dataclass(frozen=True)
class Profile:
    id: int
    display_name: str
    is_bot: bool
    is_staff: bool
    flag_origins: dict[str, Any]
    tags: list[str]
    notes: str | None
    created_at: datetime
    level: int | None
    identities: list[IdentityInfo]
    organizations: list[OrgInfo]
    roles: list[RoleInfo]
    contributions: dict[str, int]
    events: list[EventInfo]
    content: list[ContentInfo]
    feedback: list[FeedbackInfo]
    decisions: list[DecisionInfo]
    activities: int = 0
    first_activity: datetime | None = None
    last_activity: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def get_member(session: Session, member_id: int) -> Member:
    member = session.get(Member, member_id)
    if member is None:
        raise NotFoundError(f"no member {member_id}")
    return member


def identity_ids(session: Session, member_id: int) -> list[int]:
    return [
        int(i)
        for i in session.execute(
            select(Identity.id).where(Identity.member_id == member_id).order_by(Identity.id)
        ).scalars()
    ]


def member_profile(
    session: Session,
    member_id: int,
    *,
    level: int | None = None,
    show_emails: bool = False,
) -> Profile:
    """Everything the profile shows except the timeline (``timeline`` pages it)."""
    member = get_member(session, member_id)
    idents = list(
        session.execute(
            select(Identity).where(Identity.member_id == member_id).order_by(Identity.id)
        ).scalars()
    )
    ids = [i.id for i in idents]
    counts = activity_counts(session, ids)
    contributions, first, last = _aggregates(session, ids, counts)
    today = _today()
    orgs = [
        OrgInfo(
            name,
            e.start_date,
            e.end_date,
            e.origin,
            (e.start_date is None or e.start_date <= today)
            and (e.end_date is None or e.end_date >= today),
        )
        for e, name in session.execute(
            select(Enrollment, Organization.name)
            .join(Organization, Organization.id == Enrollment.organization_id)
            .where(Enrollment.member_id == member_id)
            .order_by(Enrollment.start_date, Enrollment.id)
        )
    ]
    roles = [
        RoleInfo(g.ladder, g.role, g.state, g.granted_on, g.ended_on)
        for g in session.execute(
            select(RoleGrant)
            .where(RoleGrant.member_id == member_id)
            .order_by(RoleGrant.granted_on.desc(), RoleGrant.id.desc())
            .limit(SECTION_LIMIT)
        ).scalars()
    ]
    decisions = []
    if ids:
        decisions = [
            DecisionInfo(
                d.id,
                d.identity_a_id,
                d.identity_b_id,
                d.decision,
                d.origin,
                d.actor,
                d.reason,
                d.created_at,
            )
            for d in session.execute(
                select(IdentityDecision)
                .where(
                    or_(
                        IdentityDecision.identity_a_id.in_(ids),
                        IdentityDecision.identity_b_id.in_(ids),
                    )
                )
                .order_by(IdentityDecision.id.desc())
                .limit(SECTION_LIMIT)
            ).scalars()
        ]
    return Profile(
        id=member.id,
        display_name=shown_name(member.display_name, show_emails),
        is_bot=bool(member.is_bot),
        is_staff=bool(member.is_staff),
        flag_origins=dict(member.flag_origins or {}),
        tags=[str(t) for t in member.tags or []],
        notes=member.notes,
        created_at=member.created_at,
        level=level,
        identities=[
            IdentityInfo(
                i.id,
                i.platform,
                i.kind,
                shown_value(i.kind, i.value, show_emails),
                i.name if i.name is None else shown_name(i.name, show_emails),
                bool(i.verified),
                bool(i.is_bot),
                counts.get(i.id, 0),
            )
            for i in idents
        ],
        organizations=orgs,
        roles=roles,
        contributions=contributions,
        events=_events(session, ids),
        content=_content(session, ids),
        feedback=_feedback(session, ids),
        decisions=decisions,
        activities=sum(counts.values()),
        first_activity=first,
        last_activity=last,
    )


def activity_counts(session: Session, ids: Sequence[int]) -> dict[int, int]:
    """Activities per identity: read from the index on the actor alone, never the rows."""
    if not ids:
        return {}
    return {
        int(iid): int(n)
        for iid, n in session.execute(
            select(Activity.actor_identity_id, func.count())
            .where(Activity.actor_identity_id.in_(ids))
            .group_by(Activity.actor_identity_id)
        )
    }


# Aggregates over every activity of a member (contributions by type, first and last) read the
# rows, which for the few people behind a fifth of a large community is a second's work. They
# are kept per member while nothing changed: the same identities with the same activity counts,
# and no activity stored since (the newest activity id).
Aggregates = tuple[dict[str, int], datetime | None, datetime | None]
_AGGREGATES: OrderedDict[tuple[Any, ...], tuple[Any, Aggregates]] = OrderedDict()
_AGGREGATES_LOCK = threading.Lock()
AGGREGATES_KEPT = 4096


def _newest_activity(session: Session) -> int:
    return int(session.execute(select(func.max(Activity.id))).scalar_one() or 0)


def _aggregates(session: Session, ids: Sequence[int], counts: Mapping[int, int]) -> Aggregates:
    if not ids or not counts:
        return {}, None, None
    # The database is part of the key: one process may serve (or test) several workspaces.
    key = (str(session.get_bind().engine.url), *ids)
    stamp = (tuple(sorted(counts.items())), _newest_activity(session))
    with _AGGREGATES_LOCK:
        hit = _AGGREGATES.get(key)
        if hit is not None and hit[0] == stamp:
            _AGGREGATES.move_to_end(key)
            return hit[1]
    contributions: dict[str, int] = {}
    first: datetime | None = None
    last: datetime | None = None
    for ctype, n, lo, hi in session.execute(
        select(
            Activity.contribution_type,
            func.count(),
            func.min(Activity.occurred_at),
            func.max(Activity.occurred_at),
        )
        .where(Activity.actor_identity_id.in_(ids))
        .group_by(Activity.contribution_type)
    ):
        if ctype is not None:
            contributions[str(ctype)] = int(n)
        first = lo if first is None or (lo is not None and lo < first) else first
        last = hi if last is None or (hi is not None and hi > last) else last
    found = (dict(sorted(contributions.items(), key=lambda kv: (-kv[1], kv[0]))), first, last)
    with _AGGREGATES_LOCK:
        _AGGREGATES[key] = (stamp, found)
        while len(_AGGREGATES) > AGGREGATES_KEPT:
            _AGGREGATES.popitem(last=False)
    return found


# A member behind at least this share of all activities has their newest ones among the newest
# of everyone: walking the time index backwards finds a page at once, where sorting all their
# rows takes a second.
BUSY_SHARE = 0.01


def timeline(
    session: Session,
    member_id: int,
    *,
    limit: int = 50,
    offset: int = 0,
    total: int | None = None,
) -> tuple[list[TimelineEntry], int]:
    """The member's activities, newest first, one page, and how many there are (``total``:
    known already, from the profile)."""
    get_member(session, member_id)
    ids = identity_ids(session, member_id)
    if total is None:
        total = sum(activity_counts(session, ids).values())
    if not total:
        return [], 0
    actor: Any = Activity.actor_identity_id
    if total >= BUSY_SHARE * _newest_activity(session):
        # "+ 0" keeps the planner off the actor index, so it walks the time index instead.
        actor = Activity.actor_identity_id + 0
    rows = session.execute(
        select(
            Activity.id,
            Activity.occurred_at,
            Activity.kind,
            Identity.platform,
            Activity.channel,
            Activity.target,
            Activity.title,
            Activity.contribution_type,
        )
        .join(Identity, Identity.id == Activity.actor_identity_id)
        .where(actor.in_(ids))
        .order_by(Activity.occurred_at.desc(), Activity.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [TimelineEntry(*row) for row in rows], total


def _events(session: Session, ids: list[int]) -> list[EventInfo]:
    if not ids:
        return []
    found: list[EventInfo] = []

    def add(role: str, stmt: Any) -> None:
        for ev in session.execute(
            stmt.where(Event.deleted_at.is_(None))
            .order_by(Event.starts_at.desc())
            .limit(SECTION_LIMIT)
        ).scalars():
            found.append(EventInfo(ev.id, ev.title, ev.starts_at, ev.state, role))

    add(
        "organizer",
        select(Event)
        .join(EventOrganizer, EventOrganizer.event_id == Event.id)
        .where(EventOrganizer.identity_id.in_(ids)),
    )
    add(
        "speaker",
        select(Event)
        .join(EventProposal, EventProposal.event_id == Event.id)
        .join(EventProposalSpeaker, EventProposalSpeaker.proposal_id == EventProposal.id)
        .where(EventProposalSpeaker.identity_id.in_(ids), EventProposal.state == "confirmed"),
    )
    for ev, checked_in in session.execute(
        select(Event, EventRegistration.checked_in_at)
        .join(EventRegistration, EventRegistration.event_id == Event.id)
        .where(EventRegistration.identity_id.in_(ids), Event.deleted_at.is_(None))
        .order_by(Event.starts_at.desc())
        .limit(SECTION_LIMIT)
    ):
        role = "attended" if checked_in is not None else "registered"
        found.append(EventInfo(ev.id, ev.title, ev.starts_at, ev.state, role))
    add(
        "volunteer",
        select(Event)
        .join(EventShift, EventShift.event_id == Event.id)
        .join(EventSignup, EventSignup.shift_id == EventShift.id)
        .where(EventSignup.identity_id.in_(ids)),
    )
    seen: set[tuple[int, str]] = set()
    unique = []
    for e in sorted(found, key=lambda e: (e.starts_at, e.event_id), reverse=True):
        if (e.event_id, e.role) not in seen:
            seen.add((e.event_id, e.role))
            unique.append(e)
    return unique[:SECTION_LIMIT]


def _content(session: Session, ids: list[int]) -> list[ContentInfo]:
    if not ids:
        return []
    found = [
        ContentInfo(item.id, item.title, item.kind, item.state, "author", item.updated_at)
        for item in session.execute(
            select(ContentItem)
            .join(ContentAuthor, ContentAuthor.item_id == ContentItem.id)
            .where(ContentAuthor.identity_id.in_(ids), ContentItem.deleted_at.is_(None))
            .order_by(ContentItem.updated_at.desc())
            .limit(SECTION_LIMIT)
        ).scalars()
    ]
    for item, at in session.execute(
        select(ContentItem, func.max(ContentReview.at))
        .join(ContentReview, ContentReview.item_id == ContentItem.id)
        .where(ContentReview.reviewer_identity_id.in_(ids), ContentItem.deleted_at.is_(None))
        .group_by(ContentItem.id)
        .order_by(func.max(ContentReview.at).desc())
        .limit(SECTION_LIMIT)
    ):
        found.append(ContentInfo(item.id, item.title, item.kind, item.state, "reviewer", at))
    found.sort(key=lambda c: (c.at, c.item_id), reverse=True)
    return found[:SECTION_LIMIT]


def _feedback(session: Session, ids: list[int]) -> list[FeedbackInfo]:
    if not ids:
        return []
    return [
        FeedbackInfo(f.id, f.title, f.origin, f.channel, f.raised_at)
        for f in session.execute(
            select(FeedbackItem)
            .where(FeedbackItem.identity_id.in_(ids), FeedbackItem.deleted_at.is_(None))
            .order_by(FeedbackItem.raised_at.desc(), FeedbackItem.id.desc())
            .limit(SECTION_LIMIT)
        ).scalars()
    ]


# -- suggestions and the log ------------------------------------------------------------------


def suggestions_page(
    session: Session, status: str, *, limit: int, offset: int
) -> tuple[list[Any], int]:
    """One page of merge suggestions (``audit.list_suggestions`` views), best score first."""
    if status not in SUGGESTION_STATUSES:
        raise UsageError(f"status {status!r}: use one of {', '.join(SUGGESTION_STATUSES)}")
    count = select(func.count(MergeSuggestion.id))
    if status != "all":
        count = count.where(MergeSuggestion.status == status)
    total = int(session.execute(count).scalar_one())
    views = list_suggestions(session, status, offset + limit)
    return views[offset : offset + limit], total


def log_entry(session: Session, log_id: int) -> IdentityLog:
    entry = session.get(IdentityLog, log_id)
    if entry is None:
        raise NotFoundError(f"no identity log entry {log_id}")
    return entry


# Each Insights' levels as a dict, with the snapshot version they were computed for.
_LEVELS: dict[int, tuple[Insights, int, Any, dict[int, int]]] = {}


def engagement_levels(insights: Insights) -> dict[int, int]:
    """Member id -> engagement level (1 most engaged .. 4), from the metric engagement-levels
    (computed when the snapshot changed, then cached)."""
    version = insights.version
    result = insights.result("engagement-levels")
    hit = _LEVELS.get(id(insights))
    if hit is not None and hit[0] is insights and hit[2] is result:
        return hit[3]
    levels = {int(r["member_id"]): int(r["level"]) for r in result.rows}
    _LEVELS[id(insights)] = (insights, version, result, levels)
    return levels


def known_levels(insights: Insights) -> dict[int, int]:
    """The levels if they are computed for the current snapshot, else none: a profile never
    waits for the whole community's levels (the server computes them in the background)."""
    hit = _LEVELS.get(id(insights))
    if hit is None or hit[0] is not insights or hit[1] != insights.version:
        return {}
    return hit[3]


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")


def hide_emails(evidence: list[Any]) -> list[Any]:
    """A suggestion's evidence with any e-mail address in its details hidden."""
    out = []
    for e in evidence:
        if isinstance(e, dict):
            e = {k: _EMAIL.sub(HIDDEN, v) if isinstance(v, str) else v for k, v in e.items()}
        out.append(e)
    return out


def get_suggestion(session: Session, suggestion_id: int) -> MergeSuggestion:
    sugg = session.get(MergeSuggestion, suggestion_id)
    if sugg is None:
        raise NotFoundError(f"no merge suggestion {suggestion_id}")
    return sugg


def check_identities(session: Session, member_id: int, ids: Sequence[int]) -> None:
    """The identities named for an unmerge belong to the member of the page."""
    get_member(session, member_id)
    own = set(identity_ids(session, member_id))
    foreign = [i for i in ids if i not in own]
    if foreign:
        raise UsageError(
            f"identit{'y' if len(foreign) == 1 else 'ies'} "
            f"{', '.join(map(str, foreign))} not of member {member_id}"
        )


def log_page(
    session: Session, member_id: int | None, *, limit: int, offset: int
) -> tuple[list[LogView], int]:
    """One page of the identity log (``audit.log_entries``), newest first, and its length."""
    if member_id is None:
        total = int(session.execute(select(func.count(IdentityLog.id))).scalar_one())
        if offset >= total:
            return [], total
        return log_entries(session, None, offset + limit)[offset:], total
    get_member(session, member_id)
    entries = log_entries(session, member_id, LOG_SCAN)
    return entries[offset : offset + limit], len(entries)


def merged_into(entry: IdentityLog) -> int | None:
    """The member a merge (or an accepted suggestion) moved identities to."""
    moves = (entry.changes or {}).get("moves") or []
    return int(moves[0][2]) if moves else None


def undoable(session: Session, log_id: int) -> LogView | None:
    """The log entry a page offers to undo, when it can still be undone."""
    entry = session.get(IdentityLog, log_id)
    if entry is None or entry.undone_by_id is not None or entry.undo_of_id is not None:
        return None
    return LogView.of(entry)


def check_merge(session: Session, target_id: int, other_ids: Sequence[int]) -> None:
    """The members of a merge exist: the target (404 when not) and every other one."""
    get_member(session, target_id)
    found = set(session.execute(select(Member.id).where(Member.id.in_(other_ids))).scalars())
    missing = [i for i in dict.fromkeys(other_ids) if i not in found]
    if missing:
        raise UsageError(f"no member {', '.join(map(str, missing))}: nothing was merged")


def member_tags(session: Session, member_id: int) -> list[str]:
    """A member's tags (NotFoundError when there is no such member)."""
    member = session.get(Member, member_id)
    if member is None:
        raise NotFoundError(f"no member {member_id}")
    return [str(t) for t in member.tags or []]
