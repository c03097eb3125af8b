"""Partner health: is the relationship alive, and do the partner's people contribute?

For a window of ``days`` days ending on ``today`` (the days ``d`` with
``today - days < d <= today``), per partner that is not deleted:

- ``last_touch``: the latest of the days a touch was logged on and the days a (not deleted)
  collaboration was proposed or changed (status, outcome, link); ``days_since_touch`` is
  ``today - last_touch`` in days.
- ``active_collaborations``: collaborations in state ``active``.
- ``affiliated``: members who are not bots with an enrollment in the partner's organization
  that overlaps the window (open ends count as open).
- ``contributing``: the affiliated members with at least one contribution (an activity with
  a ``contribution_type``) in the window on a day they were enrolled there; ``contributions``
  counts those activities; ``staff_contributing`` how many of the contributors are staff.
- flags: ``no touch in N days`` when there is no touch or the last is outside the window,
  ``no active collaboration`` when ``active_collaborations`` is 0.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commops.clock import utcnow
from commops.errors import UsageError
from commops.ops.ecosystem.models import Collaboration, Partner, Touch
from commops.ops.ecosystem.partners import get_partner, list_partners
from commops.store.models import Activity, Enrollment, Identity, Member, Organization


@dataclass
class Contributor:
    member_id: int
    display_name: str
    is_staff: bool
    contributions: int


@dataclass
class PartnerHealth:
    partner_id: int
    name: str
    kind: str
    organization: str | None
    last_touch: date | None
    days_since_touch: int | None
    active_collaborations: int
    affiliated: int
    contributing: int
    staff_contributing: int
    contributions: int
    flags: list[str] = field(default_factory=list)
    contributors: list[Contributor] = field(default_factory=list)


def _last_touch(session: Session, partner_id: int) -> date | None:
    touched = session.execute(
        select(func.max(Touch.on)).where(Touch.partner_id == partner_id)
    ).scalar_one_or_none()
    changed = session.execute(
        select(func.max(Collaboration.updated_at)).where(
            Collaboration.partner_id == partner_id, Collaboration.deleted_at.is_(None)
        )
    ).scalar_one_or_none()
    days = [d for d in (touched, changed.date() if changed is not None else None) if d is not None]
    return max(days) if days else None


def _enrolled(spans: list[tuple[date | None, date | None]], day: date) -> bool:
    return any((s is None or s <= day) and (e is None or day <= e) for s, e in spans)


def partner_health(
    session: Session, partner: Partner, *, days: int = 90, today: date | None = None
) -> PartnerHealth:
    """The health of one partner (see the module docstring for the formulas)."""
    if days < 1:
        raise UsageError(f"days: must be at least 1, got {days}")
    end = today or utcnow().date()
    first = end - timedelta(days=days - 1)
    last_touch = _last_touch(session, partner.id)
    active = session.execute(
        select(func.count())
        .select_from(Collaboration)
        .where(
            Collaboration.partner_id == partner.id,
            Collaboration.status == "active",
            Collaboration.deleted_at.is_(None),
        )
    ).scalar_one()
    org = session.get(Organization, partner.organization_id) if partner.organization_id else None
    spans: dict[int, list[tuple[date | None, date | None]]] = defaultdict(list)
    if org is not None:
        for member_id, start, stop in session.execute(
            select(Enrollment.member_id, Enrollment.start_date, Enrollment.end_date)
            .join(Member, Member.id == Enrollment.member_id)
            .where(Enrollment.organization_id == org.id, Member.is_bot.is_(False))
        ).all():
            if (start is None or start <= end) and (stop is None or stop >= first):
                spans[member_id].append((start, stop))
    counts: dict[int, int] = defaultdict(int)
    if spans:
        ids = sorted(spans)
        for i in range(0, len(ids), 900):
            rows = session.execute(
                select(Identity.member_id, Activity.occurred_at)
                .join(Identity, Identity.id == Activity.actor_identity_id)
                .where(
                    Identity.member_id.in_(ids[i : i + 900]),
                    Activity.contribution_type.is_not(None),
                    Activity.occurred_at >= datetime.combine(first, datetime.min.time()),
                    Activity.occurred_at
                    < datetime.combine(end + timedelta(days=1), datetime.min.time()),
                )
            ).all()
            for member_id, occurred in rows:
                if _enrolled(spans[member_id], occurred.date()):
                    counts[member_id] += 1
    contributors: list[Contributor] = []
    for member_id, n in counts.items():
        member = session.get(Member, member_id)
        assert member is not None
        contributors.append(Contributor(member_id, member.display_name, member.is_staff, n))
    contributors.sort(key=lambda c: (-c.contributions, c.member_id))
    flags: list[str] = []
    if last_touch is None or last_touch < first:
        flags.append(f"no touch in {days} days")
    if active == 0:
        flags.append("no active collaboration")
    return PartnerHealth(
        partner_id=partner.id,
        name=partner.name,
        kind=partner.kind,
        organization=org.name if org is not None else None,
        last_touch=last_touch,
        days_since_touch=None if last_touch is None else (end - last_touch).days,
        active_collaborations=int(active),
        affiliated=len(spans),
        contributing=len(contributors),
        staff_contributing=sum(1 for c in contributors if c.is_staff),
        contributions=sum(counts.values()),
        flags=flags,
        contributors=contributors,
    )


def health(
    session: Session,
    *,
    days: int = 90,
    today: date | None = None,
    partner: int | str | None = None,
) -> list[PartnerHealth]:
    """The health of every partner that is not deleted (or of ``partner`` only), by name."""
    partners = [get_partner(session, partner)] if partner is not None else list_partners(session)
    return [partner_health(session, p, days=days, today=today) for p in partners]
