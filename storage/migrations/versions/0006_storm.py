"""storm control: storms, their member alerts, one page per person per storm

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, storage.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "storm",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        _ts("started_at"),
        _ts("ended_at", nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("drawn_version", sa.Integer(), nullable=False),
        _ts("drawn_at", nullable=True),
        sa.Column("summary_channel_id", sa.String(length=64), nullable=True),
        sa.Column("summary_ts", sa.String(length=64), nullable=True),
        sa.Column("finished", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("storm", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_storm_status"), ["status"], unique=False)
        batch_op.create_index(
            "ux_storm_open_channel",
            ["channel"],
            unique=True,
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        )
    op.create_table(
        "storm_member",
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("storm_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        _ts("joined_at"),
        sa.Column("listed_ts", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["alert_id"], ["alert.id"]),
        sa.ForeignKeyConstraint(["storm_id"], ["storm.id"]),
        sa.PrimaryKeyConstraint("alert_id"),
    )
    with op.batch_alter_table("storm_member", schema=None) as batch_op:
        batch_op.create_index("ix_storm_member_listing", ["storm_id", "listed_ts"], unique=False)
    op.create_table(
        "storm_page",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("storm_id", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=255), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("top_level", sa.Integer(), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("drawn_version", sa.Integer(), nullable=False),
        _ts("drawn_at", nullable=True),
        sa.Column("channel_id", sa.String(length=64), nullable=True),
        sa.Column("ts", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["storm_id"], ["storm.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("storm_page", schema=None) as batch_op:
        batch_op.create_index("ux_storm_page_target", ["storm_id", "target"], unique=True)


def downgrade() -> None:
    op.drop_table("storm_page")
    op.drop_table("storm_member")
    with op.batch_alter_table("storm", schema=None) as batch_op:
        batch_op.drop_index("ux_storm_open_channel")
        batch_op.drop_index(batch_op.f("ix_storm_status"))
    op.drop_table("storm")
