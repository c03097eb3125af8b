"""Reports: saved monthly, annual and weekly outputs.

Revision ID: 0012_reports
Revises: 0011_governance
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_reports"
down_revision = "0011_governance"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("period", sa.String(length=20), nullable=False),
        sa.Column("lang", sa.String(length=10), nullable=False),
        sa.Column("format", sa.String(length=10), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("generated_at", sa.DateTime(), nullable=False),
        sa.Column("generated_by", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
        sa.UniqueConstraint("kind", "period", "lang", "format", name=op.f("uq_reports_kind")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_reports_kind"), "reports", ["kind"])
    op.create_index(op.f("ix_reports_generated_at"), "reports", ["generated_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_reports_generated_at"), table_name="reports")
    op.drop_index(op.f("ix_reports_kind"), table_name="reports")
    op.drop_table("reports")
