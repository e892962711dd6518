"""a group's member list spans several thread messages: the later ones are remembered

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 07:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alert_group", schema=None) as batch_op:
        batch_op.add_column(sa.Column("list_more", sa.JSON(), server_default="[]", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("alert_group", schema=None) as batch_op:
        batch_op.drop_column("list_more")
