"""Q&A desk: question assignments.

Revision ID: 0008_qna
Revises: 0007_content
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_qna"
down_revision = "0007_content"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "qna_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_uid", sa.String(length=40), nullable=False),
        sa.Column("source_name", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=300), nullable=True),
        sa.Column("target", sa.String(length=300), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("assignee_identity_id", sa.Integer(), nullable=True),
        sa.Column("assigned_at", sa.DateTime(), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("answer_uid", sa.String(length=40), nullable=True),
        sa.Column("answerer_identity_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignee_identity_id"],
            ["identities.id"],
            name=op.f("fk_qna_assignments_assignee_identity_id_identities"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["answerer_identity_id"],
            ["identities.id"],
            name=op.f("fk_qna_assignments_answerer_identity_id_identities"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qna_assignments")),
        sa.UniqueConstraint("question_uid", name=op.f("uq_qna_assignments_question_uid")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_qna_assignments_state"), "qna_assignments", ["state"])
    op.create_index(
        op.f("ix_qna_assignments_assignee_identity_id"),
        "qna_assignments",
        ["assignee_identity_id"],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_qna_assignments_assignee_identity_id"), table_name="qna_assignments")
    op.drop_index(op.f("ix_qna_assignments_state"), table_name="qna_assignments")
    op.drop_table("qna_assignments")
