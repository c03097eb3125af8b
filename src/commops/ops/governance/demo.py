"""Demo records for governance, made through its domain functions.

``seed`` evaluates the shipped KubeSphere ladder over the demo's activities and walks real
candidates through it: two become contributors (nominated, approved against the criteria,
granted), one contributor is nominated for member and collects a sponsor (still open, since
the role needs two). It also seats a user committee (two elected seats and one appointed) and
records its first meeting.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commops.clock import utcnow
from commops.errors import UsageError
from commops.ops.governance.committee import add_meeting, add_seat, appoint, elect, set_minutes
from commops.ops.governance.evaluate import candidates
from commops.ops.governance.roles import approve, grant, nominate, sponsor
from commops.ops.governance.rules import load_ladder
from commops.store.models import Activity, Member

LADDER = "kubesphere-ladder"
COMMITTEE = "user-committee"


def _as_of(session: Session) -> date:
    """The last day of the demo's activities (today when there are none)."""
    last: object = session.execute(select(func.max(Activity.occurred_at))).scalar()
    if isinstance(last, str):
        last = datetime.fromisoformat(last)
    return last.date() if isinstance(last, datetime) else utcnow().date()


def seed(session: Session, rng: random.Random, *, actor: str) -> None:
    """Roles from the ladder's candidates, an open nomination and a user committee (see the
    module docstring)."""
    ladder = load_ladder(LADDER)
    day = _as_of(session)
    found = candidates(session, ladder, day, role="contributor")
    if len(found) < 3:
        raise UsageError(f"governance demo: needs 3 candidates for contributor, found {len(found)}")
    picked = rng.sample(found, 3)
    for standing in picked[:2]:
        nom = nominate(
            session,
            ladder,
            standing.member_id,
            "contributor",
            actor=actor,
            on=day,
            reason="Merged pull requests this year.",
        )
        approve(session, ladder, nom.id, actor=actor, on=day)
        grant(session, nom.id, actor=actor, on=day)
    promoted = picked[0].member_id
    nom = nominate(
        session,
        ladder,
        promoted,
        "member",
        actor=actor,
        on=day,
        reason="Reviews pull requests from other contributors.",
    )
    sponsor(session, nom.id, picked[1].member_id, actor=actor, on=day)

    humans = list(
        session.execute(
            select(Member.id).where(Member.is_bot.is_(False)).order_by(Member.id)
        ).scalars()
    )
    seated = rng.sample(humans, 3)
    start = date(day.year, 1, 1)
    end = date(day.year + 1, 12, 31)
    seats = [
        add_seat(session, COMMITTEE, "End users 1", actor=actor, description="Elected by users"),
        add_seat(session, COMMITTEE, "End users 2", actor=actor, description="Elected by users"),
        add_seat(session, COMMITTEE, "Vendors", actor=actor, description="Appointed"),
    ]
    elect(session, seats[0].id, seated[0], start, end, actor=actor, votes=42)
    elect(session, seats[1].id, seated[1], start, end, actor=actor, votes=37)
    appoint(session, seats[2].id, seated[2], start, end, actor=actor)
    meeting = add_meeting(
        session,
        COMMITTEE,
        day - timedelta(days=14),
        "Quarterly review",
        actor=actor,
        attendees=seated[:2],
    )
    set_minutes(
        session,
        meeting.id,
        "Reviewed the roadmap survey; agreed to run a user survey next quarter.",
        actor=actor,
    )
