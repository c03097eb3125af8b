"""Attribution: did people who came to an event make their first contribution soon after?

For an event starting on day D (UTC), and each window N (days, default 30, 90, 180):

* **registrants** are the non-bot members with a registration for the event; **attendees**
  those of them who checked in; the **baseline** is the non-bot members who did anything
  (any activity) in the 90 days before the event, ``[D − 90 days, D)``, and did not register.
* A member's **first contribution** is the day of their earliest activity with a contribution
  type (any of their identities, any source); their **first code contribution** the day of the
  earliest activity whose contribution type is ``code`` or whose kind is ``git:commit``,
  ``github:pr_merged`` or ``gitee:pr_merged``.
* A member counts as a **new contributor within N days** when that first day falls in
  ``(D, D + N]``: after the event day, at most N days later. People who had contributed on or
  before the event day are ``already`` contributors and never count.
* ``rate`` is the count divided by the cohort's size (0 for an empty cohort).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from commops.errors import UsageError
from commops.ops.events.events import get_event
from commops.ops.events.models import EventRegistration
from commops.store.models import Activity, Identity, Member

DEFAULT_WINDOWS = (30, 90, 180)
BASELINE_DAYS = 90
CODE_KINDS = ("git:commit", "github:pr_merged", "gitee:pr_merged")


@dataclass
class WindowCount:
    days: int
    any: int
    any_rate: float
    code: int
    code_rate: float
    any_members: list[int] = field(default_factory=list)
    code_members: list[int] = field(default_factory=list)


@dataclass
class Cohort:
    name: str
    size: int
    already_contributors: int
    windows: list[WindowCount]


@dataclass
class Impact:
    event: str
    event_day: str
    baseline_days: int
    cohorts: list[Cohort]


def parse_windows(text: str) -> list[int]:
    """``30,90,180`` as sorted distinct positive day counts."""
    out: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        if not part.isdigit() or int(part) < 1:
            raise UsageError(
                f"windows: {part!r} is not a positive number of days", hint="e.g. 30,90,180"
            )
        out.add(int(part))
    if not out:
        raise UsageError("windows: give at least one window, e.g. 30,90,180")
    return sorted(out)


def _first_days(session: Session, *, code: bool) -> dict[int, date]:
    """Each member's first contribution day (code only with ``code``)."""
    cond = (
        or_(Activity.contribution_type == "code", Activity.kind.in_(CODE_KINDS))
        if code
        else Activity.contribution_type.is_not(None)
    )
    rows = session.execute(
        select(Identity.member_id, func.min(Activity.occurred_at))
        .join(Identity, Identity.id == Activity.actor_identity_id)
        .where(cond)
        .group_by(Identity.member_id)
    ).all()
    return {int(mid): _day(when) for mid, when in rows}


def _day(value: datetime | str) -> date:
    if isinstance(value, str):  # SQLite's min() of a DateTime column comes back as text
        value = datetime.fromisoformat(value)
    return value.date()


def _humans(session: Session) -> set[int]:
    return set(session.execute(select(Member.id).where(Member.is_bot.is_(False))).scalars())


def cohorts_of(session: Session, event_id: int, day: date) -> dict[str, set[int]]:
    """The registrant, attendee and baseline member ids (see the module docstring)."""
    humans = _humans(session)
    registrants: set[int] = set()
    attendees: set[int] = set()
    for identity_member, checked in session.execute(
        select(Identity.member_id, EventRegistration.checked_in_at)
        .join(Identity, Identity.id == EventRegistration.identity_id)
        .where(EventRegistration.event_id == event_id)
    ).all():
        if identity_member not in humans:
            continue
        registrants.add(int(identity_member))
        if checked is not None:
            attendees.add(int(identity_member))
    start = datetime.combine(day - timedelta(days=BASELINE_DAYS), time())
    end = datetime.combine(day, time())
    active = set(
        session.execute(
            select(Identity.member_id)
            .join(Activity, Activity.actor_identity_id == Identity.id)
            .where(Activity.occurred_at >= start, Activity.occurred_at < end)
            .distinct()
        ).scalars()
    )
    baseline = {int(m) for m in active if m in humans} - registrants
    return {"registrants": registrants, "attendees": attendees, "baseline": baseline}


def event_impact(
    session: Session, event_ref: int | str, windows: Sequence[int] = DEFAULT_WINDOWS
) -> Impact:
    """First contributions after the event by registrants, attendees and the baseline."""
    event = get_event(session, event_ref)
    day = event.starts_at.date()
    groups = cohorts_of(session, event.id, day)
    first_any = _first_days(session, code=False)
    first_code = _first_days(session, code=True)
    cohorts: list[Cohort] = []
    for name in ("registrants", "attendees", "baseline"):
        members = groups[name]
        size = len(members)
        counts: list[WindowCount] = []
        for n in sorted(windows):
            last = day + timedelta(days=n)
            any_new = sorted(m for m in members if m in first_any and day < first_any[m] <= last)
            code_new = sorted(m for m in members if m in first_code and day < first_code[m] <= last)
            counts.append(
                WindowCount(
                    days=n,
                    any=len(any_new),
                    any_rate=round(len(any_new) / size, 4) if size else 0.0,
                    code=len(code_new),
                    code_rate=round(len(code_new) / size, 4) if size else 0.0,
                    any_members=any_new,
                    code_members=code_new,
                )
            )
        already = sum(1 for m in members if m in first_any and first_any[m] <= day)
        cohorts.append(Cohort(name=name, size=size, already_contributors=already, windows=counts))
    return Impact(
        event=event.slug, event_day=day.isoformat(), baseline_days=BASELINE_DAYS, cohorts=cohorts
    )
