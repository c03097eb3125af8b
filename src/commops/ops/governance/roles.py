"""Roles, nominations and every move they make, one domain function per transition.

A nomination is ``open`` when made (``nominate``) and collects sponsors (``sponsor``, each with
their organisation on the day); ``approve`` checks the role's criteria (the sponsors criterion
included) as of the approval day, ``grant`` turns an approved nomination into a role held from
that day; ``reject`` and ``withdraw`` end it. A held role ends as ``emeritus`` (``retire``, what
the inactivity review proposes) or ``revoked`` (``revoke``). ``add_grant`` records a role held
before commops knew (an OWNERS file, a role list).

Each function checks the move (``core.check_transition``), changes the rows and writes the audit
log (``core.record``), in the caller's session. No activity is emitted: being granted a role is
recognition of contributions, not a contribution, and counting it as one would feed the ladder's
own counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from commops.clock import utcnow
from commops.errors import StateConflict, UsageError
from commops.ops import core
from commops.ops.governance.evaluate import Context, day_end, evaluate, standings
from commops.ops.governance.models import Nomination, RoleGrant, Sponsor
from commops.ops.governance.rules import Duration, Ladder, kind_matches
from commops.store.models import Activity, Enrollment, Identity, Member, Organization

NOMINATION = "nomination"
GRANT = "role"
NOMINATION_FLOW: dict[str, set[str]] = {
    "open": {"approved", "rejected", "withdrawn"},
    "approved": {"granted", "rejected", "withdrawn"},
    "granted": set(),
    "rejected": set(),
    "withdrawn": set(),
}
GRANT_FLOW: dict[str, set[str]] = {
    "active": {"emeritus", "revoked"},
    "emeritus": set(),
    "revoked": set(),
}
ORIGINS = ("nomination", "import", "manual")
DEFAULT_INACTIVITY = Duration(18, "months", "18 months")


def _member(session: Session, member_id: int) -> Member:
    member = session.get(Member, member_id)
    if member is None:
        raise UsageError(f"no member {member_id}", hint="See `commops members list`.")
    return member


def get_nomination(session: Session, nomination_id: int) -> Nomination:
    nom = session.get(Nomination, nomination_id)
    if nom is None:
        raise UsageError(f"no nomination {nomination_id}", hint="See `commops ladder roles`.")
    return nom


def get_grant(session: Session, grant_id: int) -> RoleGrant:
    grant = session.get(RoleGrant, grant_id)
    if grant is None:
        raise UsageError(f"no role grant {grant_id}", hint="See `commops ladder roles`.")
    return grant


def active_grant(session: Session, ladder: str, member_id: int, role: str) -> RoleGrant | None:
    return session.execute(
        select(RoleGrant).where(
            RoleGrant.ladder == ladder,
            RoleGrant.member_id == member_id,
            RoleGrant.role == role,
            RoleGrant.state == "active",
        )
    ).scalar_one_or_none()


def _move_nomination(
    session: Session,
    nom: Nomination,
    target: str,
    *,
    actor: str,
    action: str,
    reason: str | None = None,
    details: dict[str, object] | None = None,
) -> None:
    core.check_transition(f"nomination {nom.id}", nom.state, target, NOMINATION_FLOW)
    before, nom.state = nom.state, target
    core.record(
        session,
        actor=actor,
        record_type=NOMINATION,
        record_id=nom.id,
        action=action,
        from_state=before,
        to_state=target,
        reason=reason,
        details=details,
    )


def organization_on(session: Session, member_id: int, day: date) -> str | None:
    """The member's organisation on ``day`` (the first by name when several)."""
    names = (
        session.execute(
            select(Organization.name)
            .join(Enrollment, Enrollment.organization_id == Organization.id)
            .where(
                Enrollment.member_id == member_id,
                or_(Enrollment.start_date.is_(None), Enrollment.start_date <= day),
                or_(Enrollment.end_date.is_(None), Enrollment.end_date >= day),
            )
            .order_by(Organization.name)
        )
        .scalars()
        .first()
    )
    return names


def nominate(
    session: Session,
    ladder: Ladder,
    member_id: int,
    role: str,
    *,
    actor: str,
    on: date,
    reason: str | None = None,
) -> Nomination:
    """Propose ``member_id`` for ``role``; the candidate's standing on ``on`` is kept as the
    nomination's evidence."""
    member = _member(session, member_id)
    target = ladder.role(role)
    if member.is_bot:
        raise UsageError(f"member {member_id} ({member.display_name}) is a bot: bots hold no role")
    for held in ladder.roles[ladder.rank(target.name) :]:
        if active_grant(session, ladder.name, member_id, held.name) is not None:
            raise UsageError(
                f"member {member_id} ({member.display_name}) already holds {held.name} "
                f"in {ladder.name}"
            )
    open_one = session.execute(
        select(Nomination).where(
            Nomination.ladder == ladder.name,
            Nomination.member_id == member_id,
            Nomination.role == target.name,
            Nomination.state.in_(("open", "approved")),
        )
    ).scalar_one_or_none()
    if open_one is not None:
        raise UsageError(
            f"member {member_id} already has nomination {open_one.id} for {target.name} "
            f"({open_one.state})"
        )
    found = standings(session, ladder, on, role=target.name, member_ids=[member_id])
    evidence = found[0].as_dict() if found else {}
    nom = Nomination(
        member_id=member_id,
        ladder=ladder.name,
        role=target.name,
        state="open",
        nominated_by=actor,
        reason=reason,
        nominated_on=on,
        evidence=evidence,
        created_at=utcnow(),
    )
    session.add(nom)
    session.flush()
    core.record(
        session,
        actor=actor,
        record_type=NOMINATION,
        record_id=nom.id,
        action="nominated",
        to_state="open",
        reason=reason,
        details={"member_id": member_id, "ladder": ladder.name, "role": target.name},
    )
    return nom


def sponsor(
    session: Session, nomination_id: int, sponsor_id: int, *, actor: str, on: date
) -> Sponsor:
    """``sponsor_id`` sponsors an open nomination (their organisation on ``on`` is kept)."""
    nom = get_nomination(session, nomination_id)
    if nom.state != "open":
        raise StateConflict(
            f"nomination {nom.id} is {nom.state}: only open nominations take sponsors"
        )
    person = _member(session, sponsor_id)
    if sponsor_id == nom.member_id:
        raise UsageError(f"nomination {nom.id}: a candidate cannot sponsor themselves")
    if person.is_bot:
        raise UsageError(f"member {sponsor_id} ({person.display_name}) is a bot and cannot sponsor")
    dup = session.execute(
        select(Sponsor).where(Sponsor.nomination_id == nom.id, Sponsor.member_id == sponsor_id)
    ).scalar_one_or_none()
    if dup is not None:
        raise StateConflict(f"member {sponsor_id} already sponsors nomination {nom.id}")
    row = Sponsor(
        nomination_id=nom.id,
        member_id=sponsor_id,
        organization=organization_on(session, sponsor_id, on),
        sponsored_on=on,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    core.record(
        session,
        actor=actor,
        record_type=NOMINATION,
        record_id=nom.id,
        action="sponsored",
        details={"sponsor_member_id": sponsor_id, "organization": row.organization},
    )
    return row


def approve(
    session: Session,
    ladder: Ladder,
    nomination_id: int,
    *,
    actor: str,
    on: date,
    reason: str | None = None,
) -> Nomination:
    """Approve an open nomination: refused unless the role's criteria hold on ``on``."""
    nom = get_nomination(session, nomination_id)
    if nom.ladder != ladder.name:
        raise UsageError(
            f"nomination {nom.id} is for the ladder {nom.ladder!r}, not {ladder.name!r}"
        )
    core.check_transition(f"nomination {nom.id}", nom.state, "approved", NOMINATION_FLOW)
    ctx = Context(session, ladder, on)
    result = evaluate(ladder.role(nom.role).criteria, nom.member_id, ctx, nom.role)
    if not result.met:
        unmet = "; ".join(
            f"{p.label} ({p.value} vs {p.threshold})" for p in result.parts if not p.met
        )
        raise UsageError(
            f"nomination {nom.id}: member {nom.member_id} does not meet {nom.role} on "
            f"{on.isoformat()}: {unmet}",
            hint="Add sponsors or wait until the criteria hold; `commops ladder candidates`.",
        )
    nom.decided_on = on
    nom.approved_by = actor
    _move_nomination(
        session,
        nom,
        "approved",
        actor=actor,
        action="approved",
        reason=reason,
        details={"criteria": [p.as_dict() for p in result.parts]},
    )
    return nom


def reject(session: Session, nomination_id: int, *, actor: str, on: date, reason: str) -> None:
    nom = get_nomination(session, nomination_id)
    if not reason.strip():
        raise UsageError("reason: say why the nomination is rejected")
    _move_nomination(session, nom, "rejected", actor=actor, action="rejected", reason=reason)
    nom.decided_on = on


def withdraw(
    session: Session, nomination_id: int, *, actor: str, reason: str | None = None
) -> None:
    nom = get_nomination(session, nomination_id)
    _move_nomination(session, nom, "withdrawn", actor=actor, action="withdrawn", reason=reason)


def grant(session: Session, nomination_id: int, *, actor: str, on: date) -> RoleGrant:
    """The approved nomination's role, held from ``on``."""
    nom = get_nomination(session, nomination_id)
    core.check_transition(f"nomination {nom.id}", nom.state, "granted", NOMINATION_FLOW)
    if nom.decided_on is not None and on < nom.decided_on:
        raise UsageError(
            f"nomination {nom.id} was approved on {nom.decided_on}: grant on or after that day"
        )
    row = _new_grant(
        session,
        nom.member_id,
        nom.ladder,
        nom.role,
        on,
        "nomination",
        actor=actor,
        nomination_id=nom.id,
    )
    _move_nomination(
        session, nom, "granted", actor=actor, action="granted", details={"grant_id": row.id}
    )
    return row


def _new_grant(
    session: Session,
    member_id: int,
    ladder: str,
    role: str,
    on: date,
    origin: str,
    *,
    actor: str,
    nomination_id: int | None = None,
    scope: str | None = None,
) -> RoleGrant:
    if active_grant(session, ladder, member_id, role) is not None:
        raise StateConflict(f"member {member_id} already holds {role} in {ladder}")
    row = RoleGrant(
        member_id=member_id,
        ladder=ladder,
        role=role,
        state="active",
        granted_on=on,
        origin=origin,
        nomination_id=nomination_id,
        scope=scope,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    core.record(
        session,
        actor=actor,
        record_type=GRANT,
        record_id=row.id,
        action="granted",
        to_state="active",
        details={
            "member_id": member_id,
            "ladder": ladder,
            "role": role,
            "origin": origin,
            "granted_on": on.isoformat(),
            "scope": scope,
        },
    )
    return row


def add_grant(
    session: Session,
    ladder: str,
    member_id: int,
    role: str,
    *,
    actor: str,
    on: date,
    origin: str = "manual",
    scope: str | None = None,
) -> RoleGrant:
    """Record a role held without a nomination here (imported or entered by hand)."""
    if origin not in ORIGINS[1:]:
        raise UsageError(f"origin: {origin!r} is not import or manual")
    member = _member(session, member_id)
    if member.is_bot:
        raise UsageError(f"member {member_id} ({member.display_name}) is a bot: bots hold no role")
    return _new_grant(session, member_id, ladder, role, on, origin, actor=actor, scope=scope)


def _end(
    session: Session, grant_id: int, target: str, *, actor: str, on: date, reason: str | None
) -> RoleGrant:
    row = get_grant(session, grant_id)
    core.check_transition(f"role grant {row.id}", row.state, target, GRANT_FLOW)
    if on < row.granted_on:
        raise UsageError(f"role grant {row.id} starts on {row.granted_on}: it cannot end before")
    before, row.state, row.ended_on = row.state, target, on
    core.record(
        session,
        actor=actor,
        record_type=GRANT,
        record_id=row.id,
        action=target,
        from_state=before,
        to_state=target,
        reason=reason,
    )
    return row


def retire(
    session: Session, grant_id: int, *, actor: str, on: date, reason: str | None = None
) -> RoleGrant:
    """The role becomes emeritus from ``on`` (honoured, no longer held)."""
    return _end(session, grant_id, "emeritus", actor=actor, on=on, reason=reason)


def revoke(session: Session, grant_id: int, *, actor: str, on: date, reason: str) -> RoleGrant:
    """The role is taken away from ``on``; a reason is required."""
    if not reason.strip():
        raise UsageError("reason: say why the role is revoked")
    return _end(session, grant_id, "revoked", actor=actor, on=on, reason=reason)


@dataclass(frozen=True)
class Inactive:
    """A held role the inactivity review proposes to make emeritus."""

    grant_id: int
    member_id: int
    name: str
    role: str
    last_activity: datetime | None


def review(session: Session, ladder: Ladder, as_of: date) -> list[Inactive]:
    """Active roles of ``ladder`` whose member made no contribution in the inactivity period
    (default 18 months) ending on ``as_of``: no activity of the ladder's inactivity kinds, or,
    when it names none, no activity with a contribution type (stars and watches do not count)."""
    period = ladder.inactivity or DEFAULT_INACTIVITY
    since = datetime.combine(period.window_start(as_of), datetime.min.time())
    out: list[Inactive] = []
    grants = session.execute(
        select(RoleGrant, Member.display_name)
        .join(Member, Member.id == RoleGrant.member_id)
        .where(RoleGrant.ladder == ladder.name, RoleGrant.state == "active")
        .order_by(RoleGrant.id)
    )
    for row, name in grants:
        acts = session.execute(
            select(Activity.kind, Activity.contribution_type, Activity.occurred_at)
            .join(Identity, Identity.id == Activity.actor_identity_id)
            .where(Identity.member_id == row.member_id, Activity.occurred_at < day_end(as_of))
        )
        last: datetime | None = None
        for kind, ctype, at in acts:
            if ladder.inactivity_kinds:
                if not any(kind_matches(k, kind) for k in ladder.inactivity_kinds):
                    continue
            elif ctype is None:  # a star or a watch is not a contribution
                continue
            last = at if last is None or at > last else last
        if last is None or last < since:
            out.append(Inactive(row.id, row.member_id, name, row.role, last))
    return out
