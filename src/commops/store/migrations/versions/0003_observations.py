"""Observations (dated readings such as downloads) and a status per source.

Revision ID: 0003_observations
Revises: 0002_sync_runs
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003_observations"
down_revision = "0002_sync_runs"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("status", JSON, nullable=False, server_default="{}"))
    op.create_table(
        "observations",
        sa.Column("id", BIGID, autoincrement=True, nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("series", sa.String(length=300), nullable=False),
        sa.Column("observed_at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("decreased", sa.Boolean(), nullable=False),
        sa.Column("attributes", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name=op.f("fk_observations_source_id_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observations")),
        sa.UniqueConstraint(
            "source_id", "series", "observed_at", name=op.f("uq_observations_source_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("observations")
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("status")
