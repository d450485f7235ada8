"""a workspace's calibration of the offline scoring layer

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scoring_calibrations",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("calibration", sa.JSON(), nullable=False),
        sa.Column("labels", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("team_id", name=op.f("pk_scoring_calibrations")),
    )


def downgrade() -> None:
    op.drop_table("scoring_calibrations")
