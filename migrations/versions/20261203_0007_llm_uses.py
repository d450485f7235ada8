"""llm_uses: the LLM calls made per person and workspace, for the hourly and monthly limits

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "llm_uses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("critique", "persona", name="llmkind", native_enum=False),
            nullable=False,
        ),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_llm_uses")),
    )
    op.create_index(op.f("ix_llm_uses_team_id_created_at"), "llm_uses", ["team_id", "created_at"])
    op.create_index(
        op.f("ix_llm_uses_team_id_user_id_created_at"),
        "llm_uses",
        ["team_id", "user_id", "created_at"],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_llm_uses_team_id_user_id_created_at"), table_name="llm_uses")
    op.drop_index(op.f("ix_llm_uses_team_id_created_at"), table_name="llm_uses")
    op.drop_table("llm_uses")
