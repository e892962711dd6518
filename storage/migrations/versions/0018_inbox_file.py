"""Bodies processed are recorded with their alerts (``inbox_done``), for an inbox kept in a
file of its own (``storage.inbox_file``; on a SQLite file ``Database.upgrade`` moves the
inbox there after the migrations, in two commits that can each be repeated)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inbox_done",
        sa.Column("inbox_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("inbox_id"),
    )


def downgrade() -> None:
    op.drop_table("inbox_done")
