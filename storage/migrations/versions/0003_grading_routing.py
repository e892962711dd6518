"""grading and routing: mirrors of warnings in other channels, metric alerts dropped as noise

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_mirror",
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=255), nullable=False),
        sa.Column("route_index", sa.Integer(), nullable=True),
        sa.Column("channel_id", sa.String(length=64), nullable=True),
        sa.Column("ts", sa.String(length=64), nullable=True),
        sa.Column("posted_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["alert_id"], ["alert.id"]),
        sa.PrimaryKeyConstraint("alert_id", "channel"),
    )
    op.create_table(
        "noise_drop",
        sa.Column("fingerprint", sa.String(length=255), nullable=False),
        sa.Column("integration", sa.String(length=64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("metric", sa.String(length=255), nullable=False),
        sa.Column("category", sa.String(length=255), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("first_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_value", sa.Float(), nullable=False),
        sa.Column("last_baseline", sa.Float(), nullable=True),
        sa.Column("last_deviation", sa.Float(), nullable=False),
        sa.Column("reason", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("fingerprint"),
    )
    with op.batch_alter_table("noise_drop", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_noise_drop_last_at"), ["last_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("noise_drop", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_noise_drop_last_at"))
    op.drop_table("noise_drop")
    op.drop_table("alert_mirror")
