"""Identity resolution: blocking keys, decisions, suggestions, the audit log, flag origins.

Revision ID: 0004_identity
Revises: 0003_observations
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004_identity"
down_revision = "0003_observations"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _pair_table(name: str, *columns: sa.Column) -> None:  # type: ignore[type-arg]
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("identity_a_id", sa.Integer(), nullable=False),
        sa.Column("identity_b_id", sa.Integer(), nullable=False),
        *columns,
        sa.ForeignKeyConstraint(
            ["identity_a_id"],
            ["identities.id"],
            name=op.f(f"fk_{name}_identity_a_id_identities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["identity_b_id"],
            ["identities.id"],
            name=op.f(f"fk_{name}_identity_b_id_identities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
        sa.UniqueConstraint(
            "identity_a_id", "identity_b_id", name=op.f(f"uq_{name}_identity_a_id")
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f(f"ix_{name}_identity_a_id"), name, ["identity_a_id"])
    op.create_index(op.f(f"ix_{name}_identity_b_id"), name, ["identity_b_id"])


def upgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("flag_origins", JSON, nullable=False, server_default="{}"))
    with op.batch_alter_table("identities") as batch:
        batch.add_column(sa.Column("names", JSON, nullable=False, server_default="[]"))
        batch.add_column(sa.Column("resolved_at", sa.DateTime(), nullable=True))
        batch.create_index(op.f("ix_identities_resolved_at"), ["resolved_at"])
    with op.batch_alter_table("organizations") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(length=40), nullable=False, server_default="company")
        )
    op.create_table(
        "identity_keys",
        sa.Column("identity_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["identity_id"],
            ["identities.id"],
            name=op.f("fk_identity_keys_identity_id_identities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("identity_id", "key", name=op.f("pk_identity_keys")),
    )
    op.create_index("ix_identity_keys_key", "identity_keys", ["key"])
    _pair_table(
        "identity_decisions",
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column("origin", sa.String(length=40), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    _pair_table(
        "merge_suggestions",
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("evidence", JSON, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
    )
    op.create_index(op.f("ix_merge_suggestions_status"), "merge_suggestions", ["status"])
    op.create_table(
        "identity_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("changes", JSON, nullable=False),
        sa.Column("undone_by_id", sa.Integer(), nullable=True),
        sa.Column("undo_of_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_log")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_identity_log_action"), "identity_log", ["action"])
    op.create_index(op.f("ix_identity_log_created_at"), "identity_log", ["created_at"])


def downgrade() -> None:
    op.drop_table("identity_log")
    op.drop_table("merge_suggestions")
    op.drop_table("identity_decisions")
    op.drop_index("ix_identity_keys_key", table_name="identity_keys")
    op.drop_table("identity_keys")
    with op.batch_alter_table("organizations") as batch:
        batch.drop_column("kind")
    with op.batch_alter_table("identities") as batch:
        batch.drop_index(op.f("ix_identities_resolved_at"))
        batch.drop_column("resolved_at")
        batch.drop_column("names")
    with op.batch_alter_table("members") as batch:
        batch.drop_column("flag_origins")
