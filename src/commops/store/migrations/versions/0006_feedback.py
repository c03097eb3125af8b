"""Product feedback: items, themes, suggestions, notifications.

Revision ID: 0006_feedback
Revises: 0005_ops
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006_feedback"
down_revision = "0005_ops"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "feedback_themes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("product_area", sa.String(length=100), nullable=True),
        sa.Column("owner_identity_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("link", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("status_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["owner_identity_id"],
            ["identities.id"],
            name=op.f("fk_feedback_themes_owner_identity_id_identities"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_themes")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_feedback_themes_product_area"), "feedback_themes", ["product_area"])
    op.create_index(
        op.f("ix_feedback_themes_owner_identity_id"), "feedback_themes", ["owner_identity_id"]
    )
    op.create_index(op.f("ix_feedback_themes_status"), "feedback_themes", ["status"])

    op.create_table(
        "feedback_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("origin", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=300), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("activity_uid", sa.String(length=40), nullable=True),
        sa.Column("import_key", sa.String(length=100), nullable=True),
        sa.Column("identity_id", sa.Integer(), nullable=True),
        sa.Column("raised_at", sa.DateTime(), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("attributes", JSON, nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["identity_id"],
            ["identities.id"],
            name=op.f("fk_feedback_items_identity_id_identities"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["theme_id"],
            ["feedback_themes.id"],
            name=op.f("fk_feedback_items_theme_id_feedback_themes"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_items")),
        sa.UniqueConstraint("activity_uid", name=op.f("uq_feedback_items_activity_uid")),
        sa.UniqueConstraint("import_key", name=op.f("uq_feedback_items_import_key")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_feedback_items_origin"), "feedback_items", ["origin"])
    op.create_index(op.f("ix_feedback_items_identity_id"), "feedback_items", ["identity_id"])
    op.create_index(op.f("ix_feedback_items_raised_at"), "feedback_items", ["raised_at"])
    op.create_index(op.f("ix_feedback_items_theme_id"), "feedback_items", ["theme_id"])

    op.create_table(
        "feedback_suggestions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_a_id", sa.Integer(), nullable=False),
        sa.Column("item_b_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("evidence", JSON, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["item_a_id"],
            ["feedback_items.id"],
            name=op.f("fk_feedback_suggestions_item_a_id_feedback_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_b_id"],
            ["feedback_items.id"],
            name=op.f("fk_feedback_suggestions_item_b_id_feedback_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_suggestions")),
        sa.UniqueConstraint(
            "item_a_id", "item_b_id", name=op.f("uq_feedback_suggestions_item_a_id")
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_feedback_suggestions_item_a_id"), "feedback_suggestions", ["item_a_id"]
    )
    op.create_index(
        op.f("ix_feedback_suggestions_item_b_id"), "feedback_suggestions", ["item_b_id"]
    )
    op.create_index(op.f("ix_feedback_suggestions_status"), "feedback_suggestions", ["status"])

    op.create_table(
        "feedback_notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=False),
        sa.Column("identity_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("notified_at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("activity_uid", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["theme_id"],
            ["feedback_themes.id"],
            name=op.f("fk_feedback_notifications_theme_id_feedback_themes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["identity_id"],
            ["identities.id"],
            name=op.f("fk_feedback_notifications_identity_id_identities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_notifications")),
        sa.UniqueConstraint(
            "theme_id", "identity_id", name=op.f("uq_feedback_notifications_theme_id")
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_feedback_notifications_theme_id"), "feedback_notifications", ["theme_id"]
    )
    op.create_index(
        op.f("ix_feedback_notifications_identity_id"), "feedback_notifications", ["identity_id"]
    )


def downgrade() -> None:
    op.drop_table("feedback_notifications")
    op.drop_table("feedback_suggestions")
    op.drop_table("feedback_items")
    op.drop_table("feedback_themes")
