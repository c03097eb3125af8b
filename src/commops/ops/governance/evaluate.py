"""Evaluating a ladder's rules over the activity stream, per member, as of a day.

Every member is seen through all their identities; members flagged as bots are left out, and an
activity credited to its object (a merged pull request credited to its author) counts for the
object's member even when a bot acted. A window ``within: N`` ends on ``as_of`` and includes it:
``within: 365d`` as of 2026-10-31 covers 2025-11-01 00:00 .. 2026-10-31 24:00 (UTC). Activities
after ``as_of`` are ignored, so an evaluation with a fixed ``as_of`` gives the same answer later.

The result of each criterion carries its evidence: the count against the threshold and the uids
of the activities counted (or the sponsors, the grant, the first activity).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from commops.ops.governance.models import Nomination, RoleGrant, Sponsor
from commops.ops.governance.rules import (
    Count,
    Criterion,
    HasRole,
    Ladder,
    MemberFor,
    Role,
    Sponsors,
    describe,
    kind_matches,
)
from commops.store.models import Activity, Identity, Member

EVIDENCE_LIMIT = 20  # activity uids kept per criterion (the count is always exact)
OPEN_NOMINATION = ("open", "approved")


@dataclass(frozen=True)
class Fact:
    """One activity as the ladder sees it."""

    uid: str
    kind: str
    contribution_type: str | None
    occurred_at: datetime
    item: str


@dataclass
class MemberFacts:
    member_id: int
    name: str
    acted: list[Fact] = field(default_factory=list)
    credited: list[Fact] = field(default_factory=list)  # as the activity's object
    first: datetime | None = None
    last: datetime | None = None


@dataclass
class Result:
    """A criterion's outcome for one member, with its evidence."""

    label: str
    met: bool
    value: int | str | None = None
    threshold: int | str | None = None
    evidence: list[str] = field(default_factory=list)
    parts: list[Result] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"criterion": self.label, "met": self.met}
        if self.value is not None:
            out["value"] = self.value
        if self.threshold is not None:
            out["threshold"] = self.threshold
        if self.evidence:
            out["evidence"] = self.evidence
        if self.parts:
            out["parts"] = [p.as_dict() for p in self.parts]
        return out


@dataclass
class Standing:
    """Where a member stands against one role."""

    member_id: int
    name: str
    role: str
    current_role: str | None
    result: Result

    def as_dict(self) -> dict[str, Any]:
        return {
            "member_id": self.member_id,
            "name": self.name,
            "role": self.role,
            "current_role": self.current_role,
            "eligible": self.result.met,
            "criteria": [p.as_dict() for p in self.result.parts],
        }


def day_end(as_of: date) -> datetime:
    """The first instant after ``as_of`` (windows end here, exclusive)."""
    return datetime.combine(as_of + timedelta(days=1), time.min)


class Context:
    """What the rules read, loaded once per evaluation: every non-bot member's activities up to
    the end of ``as_of``, the ladder's role grants and the open nominations' sponsors."""

    def __init__(self, session: Session, ladder: Ladder, as_of: date) -> None:
        self.ladder = ladder
        self.as_of = as_of
        self.end = day_end(as_of)
        actor = aliased(Identity)
        obj = aliased(Identity)
        actor_member = aliased(Member)
        obj_member = aliased(Member)
        rows = session.execute(
            select(
                Activity.uid,
                Activity.kind,
                Activity.contribution_type,
                Activity.occurred_at,
                Activity.channel,
                Activity.target,
                actor.member_id,
                actor_member.is_bot,
                obj.member_id,
                obj_member.is_bot,
            )
            .join(actor, Activity.actor_identity_id == actor.id)
            .join(actor_member, actor.member_id == actor_member.id)
            .outerjoin(obj, Activity.object_identity_id == obj.id)
            .outerjoin(obj_member, obj.member_id == obj_member.id)
            .where(Activity.occurred_at < self.end)
        ).all()
        names = dict(
            session.execute(
                select(Member.id, Member.display_name).where(Member.is_bot.is_(False))
            ).all()
        )
        self.members: dict[int, MemberFacts] = {
            mid: MemberFacts(mid, name) for mid, name in names.items()
        }
        for uid, kind, ctype, at, channel, target, a_mid, a_bot, o_mid, o_bot in rows:
            item = f"{channel}#{target}" if channel and target else uid
            fact = Fact(uid, kind, ctype, at, item)
            if not a_bot and a_mid in self.members:
                facts = self.members[a_mid]
                facts.acted.append(fact)
                facts.first = at if facts.first is None or at < facts.first else facts.first
                facts.last = at if facts.last is None or at > facts.last else facts.last
            if o_mid is not None and not o_bot and o_mid in self.members and o_mid != a_mid:
                self.members[o_mid].credited.append(fact)
        self.grants: dict[tuple[int, str], RoleGrant] = {}
        for grant in session.execute(
            select(RoleGrant).where(
                RoleGrant.ladder == ladder.name,
                RoleGrant.state == "active",
                RoleGrant.granted_on <= as_of,
            )
        ).scalars():
            self.grants[(grant.member_id, grant.role)] = grant
        self.sponsors: dict[tuple[int, str], list[tuple[int, str | None, int]]] = defaultdict(list)
        for nom, sponsor in session.execute(
            select(Nomination, Sponsor)
            .join(Sponsor, Sponsor.nomination_id == Nomination.id)
            .where(
                Nomination.ladder == ladder.name,
                Nomination.state.in_(OPEN_NOMINATION),
                Sponsor.sponsored_on <= as_of,
            )
            .order_by(Sponsor.id)
        ):
            self.sponsors[(nom.member_id, nom.role)].append(
                (sponsor.member_id, sponsor.organization, nom.id)
            )

    def current_role(self, member_id: int) -> str | None:
        """The highest role of the ladder the member holds (None: none)."""
        held = [r.name for r in self.ladder.roles if (member_id, r.name) in self.grants]
        return held[-1] if held else None

    def next_role(self, member_id: int) -> Role | None:
        current = self.current_role(member_id)
        if current is None:
            return self.ladder.roles[0]
        rank = self.ladder.rank(current)
        return self.ladder.roles[rank + 1] if rank + 1 < len(self.ladder.roles) else None


def _count(c: Count, facts: MemberFacts, ctx: Context) -> Result:
    start = datetime.combine(c.within.window_start(ctx.as_of), time.min) if c.within else None
    pool = facts.credited if c.credit == "object" else facts.acted
    counted: list[Fact] = []
    seen: set[str] = set()
    for fact in sorted(pool, key=lambda f: f.occurred_at):
        if start is not None and fact.occurred_at < start:
            continue
        if c.kinds and not any(kind_matches(k, fact.kind) for k in c.kinds):
            continue
        if c.contribution_types and fact.contribution_type not in c.contribution_types:
            continue
        if c.distinct == "item":
            if fact.item in seen:
                continue
            seen.add(fact.item)
        counted.append(fact)
    return Result(
        describe(c),
        len(counted) >= c.min,
        len(counted),
        c.min,
        [f.uid for f in counted[-EVIDENCE_LIMIT:]],
    )


def evaluate(c: Criterion, member_id: int, ctx: Context, role: str) -> Result:
    """``c`` for one member (``role`` is the role being evaluated, for sponsors)."""
    facts = ctx.members.get(member_id) or MemberFacts(member_id, "")
    if isinstance(c, Count):
        return _count(c, facts, ctx)
    if isinstance(c, MemberFor):
        latest = c.duration.before(ctx.as_of)
        first = facts.first.date() if facts.first else None
        return Result(
            describe(c),
            first is not None and first <= latest,
            first.isoformat() if first else "no activity",
            f"first activity on or before {latest.isoformat()}",
        )
    if isinstance(c, Sponsors):
        sponsors = ctx.sponsors.get((member_id, role), [])
        if c.distinct_organizations:
            orgs = {org for _, org, _ in sponsors if org}
            value = len(orgs)
        else:
            value = len({sid for sid, _, _ in sponsors})
        evidence = [f"member {sid} ({org or 'no organisation'})" for sid, org, _ in sponsors]
        return Result(describe(c), value >= c.count, value, c.count, evidence)
    if isinstance(c, HasRole):
        grant = ctx.grants.get((member_id, c.role))
        if grant is None:
            return Result(describe(c), False, "not held", c.role)
        met = c.held_for is None or grant.granted_on <= c.held_for.before(ctx.as_of)
        return Result(
            describe(c),
            met,
            f"since {grant.granted_on.isoformat()}",
            c.role,
            [f"grant {grant.id}"],
        )
    parts = [evaluate(p, member_id, ctx, role) for p in c.parts]
    met_count = sum(p.met for p in parts)
    if c.mode == "all":
        met = met_count == len(parts)
        threshold: int = len(parts)
    elif c.mode == "any":
        met, threshold = met_count >= 1, 1
    else:
        met, threshold = met_count >= c.n, c.n
    return Result(describe(c), met, met_count, threshold, parts=parts)


def standings(
    session: Session,
    ladder: Ladder,
    as_of: date,
    *,
    role: str | None = None,
    member_ids: list[int] | None = None,
) -> list[Standing]:
    """Every non-bot member (or ``member_ids``) against ``role``, or against the next role above
    the one they hold; members who already hold ``role`` or a higher one are left out."""
    ctx = Context(session, ladder, as_of)
    target = ladder.role(role) if role is not None else None
    out: list[Standing] = []
    ids = member_ids if member_ids is not None else sorted(ctx.members)
    for mid in ids:
        if mid not in ctx.members:
            continue
        current = ctx.current_role(mid)
        if target is not None:
            if current is not None and ladder.rank(current) >= ladder.rank(target.name):
                continue
            aim: Role | None = target
        else:
            aim = ctx.next_role(mid)
        if aim is None:
            continue
        result = evaluate(aim.criteria, mid, ctx, aim.name)
        out.append(Standing(mid, ctx.members[mid].name, aim.name, current, result))
    return out


def candidates(
    session: Session, ladder: Ladder, as_of: date, *, role: str | None = None
) -> list[Standing]:
    """The members who meet the criteria of ``role`` (or of their next role), with evidence."""
    return [s for s in standings(session, ladder, as_of, role=role) if s.result.met]
