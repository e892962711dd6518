"""The outbox's pending rows by alert: what every claim asks of every row it looks at

A row may be claimed only if no earlier pending row of its alert is in its stream. That look
used the index of all rows by alert, and PostgreSQL, whose statistics lag behind an outbox
that grows by thousands of rows a second in a storm, sometimes joined it with the index of
all pending rows — a bitmap of every pending row, built again for every row looked at: one
claim of 2,000 storm rows took 5 s with 25,000 pending. This partial index answers the look
by itself, and holds only the rows still pending.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 11:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pending = sa.text("status = 'pending'")
    op.create_index(
        "ix_outbox_pending_alert",
        "outbox",
        ["alert_id", "id"],
        unique=False,
        sqlite_where=pending,
        postgresql_where=pending,
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_pending_alert", table_name="outbox")
