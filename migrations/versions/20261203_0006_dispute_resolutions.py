"""disputes resolved by an admin: agreed (with the corrected levels, a calibration label) or
disagreed (with why), and when the disputer was told

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 08:37:04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("critique_feedback", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "resolution",
                sa.Enum("agreed", "disagreed", name="disputeresolution", native_enum=False),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("resolved_by", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("resolved_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("resolution_note", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("labels", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("told_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("critique_feedback", schema=None) as batch_op:
        batch_op.drop_column("told_at")
        batch_op.drop_column("labels")
        batch_op.drop_column("resolution_note")
        batch_op.drop_column("resolved_at")
        batch_op.drop_column("resolved_by")
        batch_op.drop_column("resolution")
