"""the record: follow-ups, recurrence key, thread count

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 01:09:28.098106
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "follow_up",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("due_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("done_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.String(length=64), nullable=True),
        sa.Column("next_remind_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reminders", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alert.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("follow_up", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_follow_up_alert_id"), ["alert_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_follow_up_next_remind_at"), ["next_remind_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_follow_up_owner"), ["owner"], unique=False)

    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recurrence_key", sa.String(length=64), nullable=True))
        batch_op.create_index(
            "ix_alert_fingerprint_fired_at", ["fingerprint", "fired_at"], unique=False
        )
        batch_op.create_index(
            "ix_alert_recurrence_key_fired_at", ["recurrence_key", "fired_at"], unique=False
        )

    with op.batch_alter_table("slack_message", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("thread_count", sa.Integer(), server_default="1", nullable=False)
        )


def downgrade() -> None:

    with op.batch_alter_table("slack_message", schema=None) as batch_op:
        batch_op.drop_column("thread_count")

    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index("ix_alert_recurrence_key_fired_at")
        batch_op.drop_index("ix_alert_fingerprint_fired_at")
        batch_op.drop_column("recurrence_key")

    with op.batch_alter_table("follow_up", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_follow_up_owner"))
        batch_op.drop_index(batch_op.f("ix_follow_up_next_remind_at"))
        batch_op.drop_index(batch_op.f("ix_follow_up_alert_id"))

    op.drop_table("follow_up")
