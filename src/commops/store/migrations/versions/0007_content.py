"""Content pipeline: items, authors, review rounds, performance readings.

Revision ID: 0007_content
Revises: 0006_feedback
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007_content"
down_revision = "0006_feedback"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _item_fk(table: str, ondelete: str = "CASCADE") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["item_id"],
        ["content_items.id"],
        name=op.f(f"fk_{table}_item_id_content_items"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    op.create_table(
        "content_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("language", sa.String(length=20), nullable=False),
        sa.Column("channels", JSON, nullable=False, server_default="[]"),
        sa.Column("tags", JSON, nullable=False, server_default="[]"),
        sa.Column("project", sa.String(length=200), nullable=True),
        sa.Column("release", sa.String(length=100), nullable=True),
        sa.Column("translation_of_id", sa.Integer(), nullable=True),
        sa.Column("approvals_required", sa.Integer(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("slug", sa.String(length=300), nullable=True),
        sa.Column("import_key", sa.String(length=500), nullable=True),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.Column("withdrawn_reason", sa.Text(), nullable=True),
        sa.Column("attributes", JSON, nullable=False, server_default="{}"),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["translation_of_id"],
            ["content_items.id"],
            name=op.f("fk_content_items_translation_of_id_content_items"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_items")),
        sa.UniqueConstraint("import_key", name=op.f("uq_content_items_import_key")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_content_items_state"), "content_items", ["state"])
    op.create_index(
        op.f("ix_content_items_translation_of_id"), "content_items", ["translation_of_id"]
    )
    op.create_index(op.f("ix_content_items_slug"), "content_items", ["slug"])
    op.create_index(op.f("ix_content_items_deleted_at"), "content_items", ["deleted_at"])

    op.create_table(
        "content_authors",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("identity_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        _item_fk("content_authors"),
        sa.ForeignKeyConstraint(
            ["identity_id"],
            ["identities.id"],
            name=op.f("fk_content_authors_identity_id_identities"),
        ),
        sa.PrimaryKeyConstraint("item_id", "identity_id", name=op.f("pk_content_authors")),
    )
    op.create_index(op.f("ix_content_authors_identity_id"), "content_authors", ["identity_id"])

    op.create_table(
        "content_review_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("opened_by", sa.String(length=200), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        _item_fk("content_review_rounds"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_review_rounds")),
        sa.UniqueConstraint("item_id", "number", name=op.f("uq_content_review_rounds_item_id")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_content_review_rounds_item_id"), "content_review_rounds", ["item_id"])

    op.create_table(
        "content_round_reviewers",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("identity_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["content_review_rounds.id"],
            name=op.f("fk_content_round_reviewers_round_id_content_review_rounds"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["identity_id"],
            ["identities.id"],
            name=op.f("fk_content_round_reviewers_identity_id_identities"),
        ),
        sa.PrimaryKeyConstraint("round_id", "identity_id", name=op.f("pk_content_round_reviewers")),
    )
    op.create_index(
        op.f("ix_content_round_reviewers_identity_id"), "content_round_reviewers", ["identity_id"]
    )

    op.create_table(
        "content_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_identity_id", sa.Integer(), nullable=False),
        sa.Column("verdict", sa.String(length=20), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        _item_fk("content_reviews"),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["content_review_rounds.id"],
            name=op.f("fk_content_reviews_round_id_content_review_rounds"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_identity_id"],
            ["identities.id"],
            name=op.f("fk_content_reviews_reviewer_identity_id_identities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_reviews")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_content_reviews_item_id"), "content_reviews", ["item_id"])
    op.create_index(op.f("ix_content_reviews_round_id"), "content_reviews", ["round_id"])
    op.create_index(
        op.f("ix_content_reviews_reviewer_identity_id"), "content_reviews", ["reviewer_identity_id"]
    )

    op.create_table(
        "content_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=60), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("scheduled_on", sa.Date(), nullable=True),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        _item_fk("content_posts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_posts")),
        sa.UniqueConstraint("item_id", "channel", name=op.f("uq_content_posts_item_id")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_content_posts_item_id"), "content_posts", ["item_id"])
    op.create_index(op.f("ix_content_posts_channel"), "content_posts", ["channel"])

    op.create_table(
        "content_performance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=60), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("views", sa.Integer(), nullable=True),
        sa.Column("reads", sa.Integer(), nullable=True),
        sa.Column("likes", sa.Integer(), nullable=True),
        sa.Column("origin", sa.String(length=500), nullable=True),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        _item_fk("content_performance"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_performance")),
        sa.UniqueConstraint(
            "item_id", "channel", "day", name=op.f("uq_content_performance_item_id")
        ),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_content_performance_channel_day", "content_performance", ["channel", "day"])


def downgrade() -> None:
    op.drop_index("ix_content_performance_channel_day", table_name="content_performance")
    op.drop_table("content_performance")
    op.drop_index(op.f("ix_content_posts_channel"), table_name="content_posts")
    op.drop_index(op.f("ix_content_posts_item_id"), table_name="content_posts")
    op.drop_table("content_posts")
    op.drop_index(op.f("ix_content_reviews_reviewer_identity_id"), table_name="content_reviews")
    op.drop_index(op.f("ix_content_reviews_round_id"), table_name="content_reviews")
    op.drop_index(op.f("ix_content_reviews_item_id"), table_name="content_reviews")
    op.drop_table("content_reviews")
    op.drop_index(
        op.f("ix_content_round_reviewers_identity_id"), table_name="content_round_reviewers"
    )
    op.drop_table("content_round_reviewers")
    op.drop_index(op.f("ix_content_review_rounds_item_id"), table_name="content_review_rounds")
    op.drop_table("content_review_rounds")
    op.drop_index(op.f("ix_content_authors_identity_id"), table_name="content_authors")
    op.drop_table("content_authors")
    op.drop_index(op.f("ix_content_items_deleted_at"), table_name="content_items")
    op.drop_index(op.f("ix_content_items_slug"), table_name="content_items")
    op.drop_index(op.f("ix_content_items_translation_of_id"), table_name="content_items")
    op.drop_index(op.f("ix_content_items_state"), table_name="content_items")
    op.drop_table("content_items")
