"""a storm page names the alerts that paged the person since its last new message

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 11:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("storm_page", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fresh", sa.JSON(), server_default="[]", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("storm_page", schema=None) as batch_op:
        batch_op.drop_column("fresh")
