"""Slack's pace per conversation shared by the replicas; one replica at a time draws a storm page

Revision ID: 0017
Revises: 0012
Create Date: 2026-12-06 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0017"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "lane_pace",
        sa.Column("lane", sa.String(length=300), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("held_until", storage.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("lane"),
    )
    with op.batch_alter_table("storm_page", schema=None) as batch_op:
        batch_op.add_column(sa.Column("drawing_until", storage.types.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("storm_page", schema=None) as batch_op:
        batch_op.drop_column("drawing_until")
    op.drop_table("lane_pace")
