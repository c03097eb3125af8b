"""The system of record: the activity spine of design.md and the records around it.

Activities point at identities, never at members: merging or splitting people never rewrites
activities. Every identity reaches exactly one member.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Alembic and both dialects agree on constraint names through this convention.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JSONType = JSON().with_variant(JSONB(), "postgresql")
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSONType, list[Any]: JSONType}


class Source(Base):
    """A place activity comes from: a git repository, a GitHub org, a forum, a CSV file."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    location: Mapped[str] = mapped_column(Text)
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_synced_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    # What the connector says about the source: formats seen, fields a format lacks, ...
    status: Mapped[dict[str, Any]] = mapped_column(default=dict)


class SyncState(Base):
    """The cursor of one stream of one source, written in the same transaction as its items."""

    __tablename__ = "sync_state"
    __table_args__ = (UniqueConstraint("source_id", "stream"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    stream: Mapped[str] = mapped_column(String(200))
    cursor: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class SyncRun(Base):
    """One attempt to sync a source: when, what it added and removed, and how it ended."""

    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    status: Mapped[str] = mapped_column(String(20))  # running | ok | failed
    items_added: Mapped[int] = mapped_column(default=0)
    items_removed: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    warnings: Mapped[list[Any]] = mapped_column(default=list)


class Member(Base):
    """A resolved person (or bot): what the community knows about someone."""

    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    display_name: Mapped[str] = mapped_column(String(500))
    is_bot: Mapped[bool] = mapped_column(Boolean, default=False)
    is_staff: Mapped[bool] = mapped_column(Boolean, default=False)
    tags: Mapped[list[Any]] = mapped_column(default=list)
    notes: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # Who set is_bot / is_staff: {"bot": "manual" | "list" | "rule" | "behaviour",
    # "staff": "manual" | "list" | "organization"}. Automatic detection never overrides "manual".
    flag_origins: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Identity(Base):
    """One handle on one platform: a git e-mail, a GitHub login, a forum username."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("platform", "kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))  # username | email | name
    value: Mapped[str] = mapped_column(String(500))
    name: Mapped[str | None] = mapped_column(String(500), default=None)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    is_bot: Mapped[bool] = mapped_column(Boolean, default=False)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # Other names this handle was seen with (a git e-mail used under two spellings).
    names: Mapped[list[Any]] = mapped_column(default=list)
    # When the resolver last looked at this identity; NULL means new since the last run.
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime, default=None, index=True)


class IdentityKey(Base):
    """A blocking key of an identity (normalised e-mail, login, name): the resolver compares
    only identities that share a key, never all pairs."""

    __tablename__ = "identity_keys"
    __table_args__ = (Index("ix_identity_keys_key", "key"),)

    identity_id: Mapped[int] = mapped_column(
        ForeignKey("identities.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(300), primary_key=True)


class IdentityDecision(Base):
    """A decision a person (or a curated file) made about two identities: the ``same`` person
    or ``different`` people. The resolver never merges across a ``different`` decision; a
    rejected suggestion is one. ``identity_a_id`` < ``identity_b_id``."""

    __tablename__ = "identity_decisions"
    # AUTOINCREMENT on SQLite: ids in the audit log never come to mean another row.
    __table_args__ = (
        UniqueConstraint("identity_a_id", "identity_b_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    identity_a_id: Mapped[int] = mapped_column(
        ForeignKey("identities.id", ondelete="CASCADE"), index=True
    )
    identity_b_id: Mapped[int] = mapped_column(
        ForeignKey("identities.id", ondelete="CASCADE"), index=True
    )
    decision: Mapped[str] = mapped_column(String(20))  # same | different
    origin: Mapped[str] = mapped_column(String(40))  # manual | suggestion | mailmap | import
    actor: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class MergeSuggestion(Base):
    """Two identities the resolver thinks may be one person, with its evidence, for review."""

    __tablename__ = "merge_suggestions"
    __table_args__ = (
        UniqueConstraint("identity_a_id", "identity_b_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    identity_a_id: Mapped[int] = mapped_column(
        ForeignKey("identities.id", ondelete="CASCADE"), index=True
    )
    identity_b_id: Mapped[int] = mapped_column(
        ForeignKey("identities.id", ondelete="CASCADE"), index=True
    )
    score: Mapped[float] = mapped_column(Float)
    # [{"signal": "name", "weight": 0.6, "strong": false, "detail": "..."}, ...]
    evidence: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(20), index=True)  # open|accepted|rejected|stale
    created_at: Mapped[datetime] = mapped_column(DateTime)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    decided_by: Mapped[str | None] = mapped_column(String(200), default=None)


class IdentityLog(Base):
    """The audit log of everything that changed who is who: merges (manual and automatic),
    unmerges, splits, accepted and rejected suggestions, flags, imports. ``changes`` holds what
    undo needs (see identity/audit.py); ``undone_by_id`` is set once an entry is undone."""

    __tablename__ = "identity_log"
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012

    id: Mapped[int] = mapped_column(primary_key=True)
    action: Mapped[str] = mapped_column(String(40), index=True)
    actor: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    changes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    undone_by_id: Mapped[int | None] = mapped_column(default=None)
    undo_of_id: Mapped[int | None] = mapped_column(default=None)


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300), unique=True)
    domains: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    kind: Mapped[str] = mapped_column(String(40), default="company")  # company | university | ...


class Enrollment(Base):
    """A member's affiliation with an organization over a span of dates (open ends allowed)."""

    __tablename__ = "enrollments"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    start_date: Mapped[date | None] = mapped_column(Date, default=None)
    end_date: Mapped[date | None] = mapped_column(Date, default=None)
    origin: Mapped[str | None] = mapped_column(String(100), default=None)  # domain|manual|import


class Activity(Base):
    """One thing a person did, wherever it happened. The spine of commops."""

    __tablename__ = "activities"
    __table_args__ = (
        Index("ix_activities_source_item", "source_id", "item_key"),
        Index("ix_activities_occurred_at", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    uid: Mapped[str] = mapped_column(String(40), unique=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    item_key: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(60), index=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime)  # UTC, naive
    actor_identity_id: Mapped[int] = mapped_column(ForeignKey("identities.id"), index=True)
    object_identity_id: Mapped[int | None] = mapped_column(
        ForeignKey("identities.id"), default=None
    )
    channel: Mapped[str | None] = mapped_column(String(300), default=None)
    target: Mapped[str | None] = mapped_column(String(300), default=None)
    parent: Mapped[str | None] = mapped_column(String(300), default=None)
    title: Mapped[str | None] = mapped_column(Text, default=None)
    contribution_type: Mapped[str | None] = mapped_column(String(40), default=None)
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Observation(Base):
    """A dated reading of a number a source reports: downloads, pulls, watchers.

    ``kind`` is ``counter`` (a running total as read at ``observed_at``) or ``count`` (the amount
    in the period that starts at ``observed_at``). A counter that went down is stored as read,
    with ``decreased`` set, never "fixed"."""

    __tablename__ = "observations"
    __table_args__ = (UniqueConstraint("source_id", "series", "observed_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    series: Mapped[str] = mapped_column(String(300))
    observed_at: Mapped[datetime] = mapped_column(DateTime)
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[float] = mapped_column(Float)
    decreased: Mapped[bool] = mapped_column(Boolean, default=False)
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)


class OpsLog(Base):
    """The audit log of the operations workflows (feedback, content, Q&A, and later events,
    partners, roles): every state change and every soft delete or restore, who made it, when
    and why. Written only by ``commops.ops.core.record``."""

    __tablename__ = "ops_log"
    __table_args__ = (
        Index("ix_ops_log_record", "record_type", "record_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    record_type: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[int] = mapped_column()
    action: Mapped[str] = mapped_column(String(60))
    from_state: Mapped[str | None] = mapped_column(String(40), default=None)
    to_state: Mapped[str | None] = mapped_column(String(40), default=None)
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
