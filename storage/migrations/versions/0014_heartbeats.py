"""heartbeats: each heartbeat's last ping, when it is due, and its missing spell's claim

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "heartbeat",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("first_seen_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("last_ping_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("due_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("pings", sa.Integer(), nullable=False),
        sa.Column("missing_since", storage.types.UTCDateTime(), nullable=True),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_index(op.f("ix_heartbeat_due_at"), "heartbeat", ["due_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_heartbeat_due_at"), table_name="heartbeat")
    op.drop_table("heartbeat")
