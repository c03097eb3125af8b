"""The governance tables: role grants, nominations and their sponsors; committee seats, terms,
meetings.

Roles are per ladder (the ``ladder`` name of a rule file, e.g. ``kubesphere``): a member holds a
role from ``granted_on`` until it ends (``emeritus`` or ``revoked`` with ``ended_on``). States
change only through the domain functions in ``commops.ops.governance.roles`` and
``commops.ops.governance.committee``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from commops.store.models import Base


class RoleGrant(Base):
    """A member holding (or having held) a role of a ladder."""

    __tablename__ = "governance_roles"
    __table_args__ = (
        Index("ix_governance_roles_ladder_role", "ladder", "role"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    ladder: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(20), index=True)  # active | emeritus | revoked
    granted_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date, default=None)
    # nomination | import | manual
    origin: Mapped[str] = mapped_column(String(20))
    nomination_id: Mapped[int | None] = mapped_column(
        ForeignKey("governance_nominations.id", ondelete="SET NULL"), default=None
    )
    # Where an imported grant came from (an OWNERS path, a CSV file), and its scope.
    scope: Mapped[str | None] = mapped_column(String(300), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Nomination(Base):
    """Someone proposed for a role: ``open`` (collecting sponsors) → ``approved`` → ``granted``;
    ``rejected`` or ``withdrawn`` end it."""

    __tablename__ = "governance_nominations"
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    ladder: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(20), index=True)
    nominated_by: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    nominated_on: Mapped[date] = mapped_column(Date)
    decided_on: Mapped[date | None] = mapped_column(Date, default=None)
    approved_by: Mapped[str | None] = mapped_column(String(200), default=None)
    # The evidence the candidate list showed when the nomination was made.
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Sponsor(Base):
    """A member sponsoring a nomination; ``organization`` is their organisation on the day."""

    __tablename__ = "governance_sponsors"
    __table_args__ = (
        UniqueConstraint("nomination_id", "member_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(
        ForeignKey("governance_nominations.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    organization: Mapped[str | None] = mapped_column(String(300), default=None)
    sponsored_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Seat(Base):
    """A seat of a committee (``user-committee``, ``steering``): terms are held on it."""

    __tablename__ = "committee_seats"
    __table_args__ = (UniqueConstraint("committee", "name"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    committee: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Term(Base):
    """A member's term on a seat, ``start`` .. ``end`` inclusive, by ``election`` or
    ``appointment``. Terms on the same seat never overlap."""

    __tablename__ = "committee_terms"
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012

    id: Mapped[int] = mapped_column(primary_key=True)
    seat_id: Mapped[int] = mapped_column(
        ForeignKey("committee_seats.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(20))  # election | appointment
    votes: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Meeting(Base):
    """A committee meeting, with its minutes and the members present."""

    __tablename__ = "committee_meetings"
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012

    id: Mapped[int] = mapped_column(primary_key=True)
    committee: Mapped[str] = mapped_column(String(100), index=True)
    held_on: Mapped[date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(500))
    minutes: Mapped[str | None] = mapped_column(Text, default=None)
    attendees: Mapped[list[Any]] = mapped_column(default=list)  # member ids
    created_at: Mapped[datetime] = mapped_column(DateTime)
