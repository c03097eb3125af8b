"""Events: events, proposals, registrations, check-ins, volunteer shifts.

Revision ID: 0009_events
Revises: 0008_qna
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009_events"
down_revision = "0008_qna"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _fk(table: str, column: str, target: str, ondelete: str | None) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete=ondelete,
    )


def _index(table: str, column: str) -> None:
    op.create_index(op.f(f"ix_{table}_{column}"), table, [column])


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=False),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("city", sa.String(length=200), nullable=True),
        sa.Column("venue", sa.Text(), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("partners", JSON, nullable=False, server_default="[]"),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("slug", name=op.f("uq_events_slug")),
        sqlite_autoincrement=True,
    )
    _index("events", "state")
    _index("events", "starts_at")
    _index("events", "deleted_at")

    op.create_table(
        "event_organizers",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("identity_id", sa.Integer(), nullable=False),
        _fk("event_organizers", "event_id", "events", "CASCADE"),
        _fk("event_organizers", "identity_id", "identities", None),
        sa.PrimaryKeyConstraint("event_id", "identity_id", name=op.f("pk_event_organizers")),
    )
    _index("event_organizers", "identity_id")

    op.create_table(
        "event_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=True),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("speaker_identity_ids", JSON, nullable=False, server_default="[]"),
        _fk("event_sessions", "event_id", "events", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_sessions")),
        sqlite_autoincrement=True,
    )
    _index("event_sessions", "event_id")

    op.create_table(
        "event_proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("abstract", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        _fk("event_proposals", "event_id", "events", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_proposals")),
        sqlite_autoincrement=True,
    )
    _index("event_proposals", "event_id")
    _index("event_proposals", "state")

    op.create_table(
        "event_proposal_speakers",
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("identity_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        _fk("event_proposal_speakers", "proposal_id", "event_proposals", "CASCADE"),
        _fk("event_proposal_speakers", "identity_id", "identities", None),
        sa.PrimaryKeyConstraint(
            "proposal_id", "identity_id", name=op.f("pk_event_proposal_speakers")
        ),
    )
    _index("event_proposal_speakers", "identity_id")

    op.create_table(
        "event_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_identity_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        _fk("event_reviews", "proposal_id", "event_proposals", "CASCADE"),
        _fk("event_reviews", "reviewer_identity_id", "identities", None),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_reviews")),
        sa.UniqueConstraint(
            "proposal_id", "reviewer_identity_id", name=op.f("uq_event_reviews_proposal_id")
        ),
        sqlite_autoincrement=True,
    )
    _index("event_reviews", "proposal_id")
    _index("event_reviews", "reviewer_identity_id")

    op.create_table(
        "event_registrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("identity_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("email", sa.String(length=500), nullable=True),
        sa.Column("organisation", sa.String(length=500), nullable=True),
        sa.Column("consent", sa.Boolean(), nullable=False),
        sa.Column("consent_at", sa.DateTime(), nullable=True),
        sa.Column("origin", sa.String(length=500), nullable=False),
        sa.Column("registered_at", sa.DateTime(), nullable=False),
        sa.Column("checked_in_at", sa.DateTime(), nullable=True),
        _fk("event_registrations", "event_id", "events", "CASCADE"),
        _fk("event_registrations", "identity_id", "identities", None),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_registrations")),
        sa.UniqueConstraint(
            "event_id", "identity_id", name=op.f("uq_event_registrations_event_id")
        ),
        sqlite_autoincrement=True,
    )
    _index("event_registrations", "event_id")
    _index("event_registrations", "identity_id")

    op.create_table(
        "event_shifts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=200), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=False),
        sa.Column("needed", sa.Integer(), nullable=False),
        _fk("event_shifts", "event_id", "events", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_shifts")),
        sqlite_autoincrement=True,
    )
    _index("event_shifts", "event_id")

    op.create_table(
        "event_signups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shift_id", sa.Integer(), nullable=False),
        sa.Column("identity_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("signed_up_at", sa.DateTime(), nullable=False),
        _fk("event_signups", "shift_id", "event_shifts", "CASCADE"),
        _fk("event_signups", "identity_id", "identities", None),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_signups")),
        sa.UniqueConstraint("shift_id", "identity_id", name=op.f("uq_event_signups_shift_id")),
        sqlite_autoincrement=True,
    )
    _index("event_signups", "shift_id")
    _index("event_signups", "identity_id")


def downgrade() -> None:
    for table in (
        "event_signups",
        "event_shifts",
        "event_registrations",
        "event_reviews",
        "event_proposal_speakers",
        "event_proposals",
        "event_sessions",
        "event_organizers",
        "events",
    ):
        op.drop_table(table)
