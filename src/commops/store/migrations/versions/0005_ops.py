"""Operations workflows: the audit log every state change writes.

Revision ID: 0005_ops
Revises: 0004_identity
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005_ops"
down_revision = "0004_identity"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "ops_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("record_type", sa.String(length=40), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("from_state", sa.String(length=40), nullable=True),
        sa.Column("to_state", sa.String(length=40), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("details", JSON, nullable=False, server_default="{}"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ops_log")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_ops_log_at"), "ops_log", ["at"])
    op.create_index("ix_ops_log_record", "ops_log", ["record_type", "record_id"])


def downgrade() -> None:
    op.drop_index("ix_ops_log_record", table_name="ops_log")
    op.drop_index(op.f("ix_ops_log_at"), table_name="ops_log")
    op.drop_table("ops_log")
