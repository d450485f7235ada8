"""when a practice session's scorecard was settled

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 08:46:08.615413
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("practice_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scorecard_settled_at", sa.DateTime(), nullable=True))
    # Sessions that ended before had their scorecard posted then: nothing is owed to them.
    op.execute(
        "UPDATE practice_sessions SET scorecard_settled_at = ended_at WHERE ended_at IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("practice_sessions", schema=None) as batch_op:
        batch_op.drop_column("scorecard_settled_at")
