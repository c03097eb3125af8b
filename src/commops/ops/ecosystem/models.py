"""The ecosystem's tables: partners (each linked to an organization, so the members enrolled
there are the partner's people), their contacts, the collaborations run with them and the
touches (meetings, e-mails, calls, events) logged with them.

Contacts and owners are *identities*, not members: the member's ``commops`` identity
(``core.member_identity``), as in the content pipeline. Identities move with their person when
members are merged or split, so a partner keeps its contacts through every change of who is
who; the member is read through ``identities.member_id``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from commops.store.models import Base


class Partner(Base):
    """An organization the community works with: a community, company, university, training
    institution, foundation or vendor. ``organization_id`` names the organization its people
    are enrolled in (``commops orgs``)."""

    __tablename__ = "partners"
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300), unique=True)
    kind: Mapped[str] = mapped_column(String(30), index=True)
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL"), default=None, index=True
    )
    website: Mapped[str | None] = mapped_column(Text, default=None)
    notes: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime, default=None, index=True)


class PartnerContact(Base):
    """A member who is a contact of a partner (their ``commops`` identity), with a role such
    as "maintainer liaison"."""

    __tablename__ = "partner_contacts"

    partner_id: Mapped[int] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True
    )
    identity_id: Mapped[int] = mapped_column(
        ForeignKey("identities.id"), primary_key=True, index=True
    )
    role: Mapped[str | None] = mapped_column(String(200), default=None)
    added_at: Mapped[datetime] = mapped_column(DateTime)


class Collaboration(Base):
    """Something done with a partner: a product integration, content collaboration, co-hosted
    event, course, sponsorship or case study. ``status`` changes only through the domain
    functions in ``commops.ops.ecosystem.partners``. ``outcomes`` is a list of
    ``{"on", "text", "by"}``; ``links`` a list of ``{"type": url | content | event,
    "value"}`` (content values are content item ids)."""

    __tablename__ = "partner_collaborations"
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20), index=True)
    start_date: Mapped[date | None] = mapped_column(Date, default=None)
    end_date: Mapped[date | None] = mapped_column(Date, default=None)
    owner_identity_id: Mapped[int | None] = mapped_column(
        ForeignKey("identities.id", ondelete="SET NULL"), default=None, index=True
    )
    outcomes: Mapped[list[Any]] = mapped_column(default=list)
    links: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # Every change (status, outcome, link, edit) moves it: it counts as a touch in health.
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime, default=None, index=True)


class Touch(Base):
    """An interaction with a partner (meeting, e-mail, call, event) on a day, with a note."""

    __tablename__ = "partner_touches"
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    on: Mapped[date] = mapped_column(Date, index=True)
    note: Mapped[str | None] = mapped_column(Text, default=None)
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime)


TABLES = ("partners", "partner_contacts", "partner_collaborations", "partner_touches")
