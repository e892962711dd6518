"""storm summaries and storm pages remember when a post was attempted (look before posting)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22 08:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("storm", "storm_page"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("posting_at", storage.types.UTCDateTime(timezone=True), nullable=True)
            )


def downgrade() -> None:
    for table in ("storm", "storm_page"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("posting_at")
