"""rotation calendars: the last good copy of each calendar-fed rotation's feed

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 13:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rotation_calendar",
        sa.Column("rotation", sa.String(length=255), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("fetched_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("rotation"),
    )


def downgrade() -> None:
    op.drop_table("rotation_calendar")
