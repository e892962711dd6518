"""on-call overrides made from Slack (cover, swap), kept with who made and cancelled each

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "oncall_override",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rotation", sa.String(length=255), nullable=False),
        sa.Column("user", sa.String(length=64), nullable=False),
        sa.Column("start", storage.types.UTCDateTime(), nullable=False),
        sa.Column("end", storage.types.UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("replaces", sa.String(length=64), nullable=True),
        sa.Column("made_by", sa.String(length=64), nullable=False),
        sa.Column("made_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("cancelled_by", sa.String(length=64), nullable=True),
        sa.Column("cancelled_at", storage.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_oncall_override_rotation", "oncall_override", ["rotation"])
    op.create_index("ix_oncall_override_end", "oncall_override", ["end"])


def downgrade() -> None:
    op.drop_index("ix_oncall_override_end", table_name="oncall_override")
    op.drop_index("ix_oncall_override_rotation", table_name="oncall_override")
    op.drop_table("oncall_override")
