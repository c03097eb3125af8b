"""Ecosystem: partners, contacts, collaborations.

Revision ID: 0010_ecosystem
Revises: 0009_events
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010_ecosystem"
down_revision = "0009_events"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "partners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=True),
        sa.Column("website", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_partners_organization_id_organizations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partners")),
        sa.UniqueConstraint("name", name=op.f("uq_partners_name")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_partners_kind"), "partners", ["kind"])
    op.create_index(op.f("ix_partners_organization_id"), "partners", ["organization_id"])
    op.create_index(op.f("ix_partners_deleted_at"), "partners", ["deleted_at"])

    op.create_table(
        "partner_contacts",
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("identity_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=200), nullable=True),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_partner_contacts_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["identity_id"],
            ["identities.id"],
            name=op.f("fk_partner_contacts_identity_id_identities"),
        ),
        sa.PrimaryKeyConstraint("partner_id", "identity_id", name=op.f("pk_partner_contacts")),
    )
    op.create_index(op.f("ix_partner_contacts_identity_id"), "partner_contacts", ["identity_id"])

    op.create_table(
        "partner_collaborations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("owner_identity_id", sa.Integer(), nullable=True),
        sa.Column("outcomes", JSON, nullable=False),
        sa.Column("links", JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_partner_collaborations_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_identity_id"],
            ["identities.id"],
            name=op.f("fk_partner_collaborations_owner_identity_id_identities"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_collaborations")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_partner_collaborations_partner_id"), "partner_collaborations", ["partner_id"]
    )
    op.create_index(op.f("ix_partner_collaborations_status"), "partner_collaborations", ["status"])
    op.create_index(
        op.f("ix_partner_collaborations_owner_identity_id"),
        "partner_collaborations",
        ["owner_identity_id"],
    )
    op.create_index(
        op.f("ix_partner_collaborations_deleted_at"), "partner_collaborations", ["deleted_at"]
    )

    op.create_table(
        "partner_touches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_partner_touches_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_touches")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_partner_touches_partner_id"), "partner_touches", ["partner_id"])
    op.create_index(op.f("ix_partner_touches_on"), "partner_touches", ["on"])


def downgrade() -> None:
    op.drop_table("partner_touches")
    op.drop_table("partner_collaborations")
    op.drop_table("partner_contacts")
    op.drop_table("partners")
