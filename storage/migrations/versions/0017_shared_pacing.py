"""Slack's pace per conversation shared by the replicas; one replica at a time draws a storm
page; a page sent before its warning gets the warning's link by an edit

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0017"
down_revision: str | None = "0016"
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
    with op.batch_alter_table("slack_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("permalink", sa.String(length=500), nullable=True))
    op.create_table(
        "page_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("lane", sa.String(length=300), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("ts", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("rotation", sa.String(length=255), nullable=True),
        sa.Column("linked", sa.Boolean(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_page_link_alert_id", "page_link", ["alert_id"], unique=False)
    op.create_index("ix_page_link_message", "page_link", ["channel_id", "ts"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_page_link_message", table_name="page_link")
    op.drop_index("ix_page_link_alert_id", table_name="page_link")
    op.drop_table("page_link")
    with op.batch_alter_table("slack_message", schema=None) as batch_op:
        batch_op.drop_column("permalink")
    with op.batch_alter_table("storm_page", schema=None) as batch_op:
        batch_op.drop_column("drawing_until")
    op.drop_table("lane_pace")
