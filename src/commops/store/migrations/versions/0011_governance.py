"""Governance: roles, nominations, grants, committee seats, terms, meetings.

Revision ID: 0011_governance
Revises: 0010_ecosystem
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0011_governance"
down_revision = "0010_ecosystem"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "governance_nominations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("ladder", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("nominated_by", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("nominated_on", sa.Date(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("approved_by", sa.String(length=200), nullable=True),
        sa.Column("evidence", JSON, nullable=False, server_default="{}"),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_governance_nominations_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_governance_nominations")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_governance_nominations_member_id"), "governance_nominations", ["member_id"]
    )
    op.create_index(op.f("ix_governance_nominations_state"), "governance_nominations", ["state"])
    op.create_table(
        "governance_sponsors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nomination_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("organization", sa.String(length=300), nullable=True),
        sa.Column("sponsored_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["nomination_id"],
            ["governance_nominations.id"],
            name=op.f("fk_governance_sponsors_nomination_id_governance_nominations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_governance_sponsors_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_governance_sponsors")),
        sa.UniqueConstraint(
            "nomination_id", "member_id", name=op.f("uq_governance_sponsors_nomination_id")
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_governance_sponsors_nomination_id"), "governance_sponsors", ["nomination_id"]
    )
    op.create_table(
        "governance_roles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("ladder", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("granted_on", sa.Date(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("origin", sa.String(length=20), nullable=False),
        sa.Column("nomination_id", sa.Integer(), nullable=True),
        sa.Column("scope", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_governance_roles_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["nomination_id"],
            ["governance_nominations.id"],
            name=op.f("fk_governance_roles_nomination_id_governance_nominations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_governance_roles")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_governance_roles_member_id"), "governance_roles", ["member_id"])
    op.create_index(op.f("ix_governance_roles_state"), "governance_roles", ["state"])
    op.create_index("ix_governance_roles_ladder_role", "governance_roles", ["ladder", "role"])
    op.create_table(
        "committee_seats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("committee", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_committee_seats")),
        sa.UniqueConstraint("committee", "name", name=op.f("uq_committee_seats_committee")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "committee_terms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seat_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("votes", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["seat_id"],
            ["committee_seats.id"],
            name=op.f("fk_committee_terms_seat_id_committee_seats"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_committee_terms_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_committee_terms")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_committee_terms_seat_id"), "committee_terms", ["seat_id"])
    op.create_index(op.f("ix_committee_terms_member_id"), "committee_terms", ["member_id"])
    op.create_table(
        "committee_meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("committee", sa.String(length=100), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("minutes", sa.Text(), nullable=True),
        sa.Column("attendees", JSON, nullable=False, server_default="[]"),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_committee_meetings")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_committee_meetings_committee"), "committee_meetings", ["committee"])


def downgrade() -> None:
    op.drop_index(op.f("ix_committee_meetings_committee"), table_name="committee_meetings")
    op.drop_table("committee_meetings")
    op.drop_index(op.f("ix_committee_terms_member_id"), table_name="committee_terms")
    op.drop_index(op.f("ix_committee_terms_seat_id"), table_name="committee_terms")
    op.drop_table("committee_terms")
    op.drop_table("committee_seats")
    op.drop_index("ix_governance_roles_ladder_role", table_name="governance_roles")
    op.drop_index(op.f("ix_governance_roles_state"), table_name="governance_roles")
    op.drop_index(op.f("ix_governance_roles_member_id"), table_name="governance_roles")
    op.drop_table("governance_roles")
    op.drop_index(op.f("ix_governance_sponsors_nomination_id"), table_name="governance_sponsors")
    op.drop_table("governance_sponsors")
    op.drop_index(op.f("ix_governance_nominations_state"), table_name="governance_nominations")
    op.drop_index(op.f("ix_governance_nominations_member_id"), table_name="governance_nominations")
    op.drop_table("governance_nominations")
