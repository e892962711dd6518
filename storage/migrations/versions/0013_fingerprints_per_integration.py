"""fingerprints are each integration's own: open alerts are unique per (integration, fingerprint)

Every alert row has always kept the integration it came from (``alert.integration``, not
null since 0001), so existing rows need no new value: only the indexes change. An alert
open before the upgrade is found afterwards by its own integration and fingerprint, as
before. Noise drops are counted per integration and fingerprint too (``noise_drop``'s primary
key gains ``integration``, which every row has); a row that counted two integrations' drops
stays with the integration it was first counted for. The fingerprint columns stay
``VARCHAR(255)``; the parsers now refuse a longer fingerprint (they took 256 characters,
which PostgreSQL refused at ingest).

Downgrading puts back the unique index on the fingerprint alone: it fails while two open
alerts of different integrations share a fingerprint (resolve one of them first).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = sa.text("status != 'resolved'")


def upgrade() -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index("ux_alert_open_fingerprint")
        batch_op.create_index(
            "ux_alert_open_integration_fingerprint",
            ["integration", "fingerprint"],
            unique=True,
            sqlite_where=_OPEN,
            postgresql_where=_OPEN,
        )
        batch_op.drop_index("ix_alert_fingerprint_fired_at")
        batch_op.create_index(
            "ix_alert_integration_fingerprint_fired_at",
            ["integration", "fingerprint", "fired_at"],
            unique=False,
        )

    _noise_drop_key(["fingerprint", "integration"])


def _noise_drop_key(columns: list[str]) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("noise_drop_pkey", "noise_drop", type_="primary")
        op.create_primary_key("noise_drop_pkey", "noise_drop", columns)
        return
    # SQLite cannot alter a primary key: the table is copied, from its definition with the
    # new key (as 0003 made it)
    with op.batch_alter_table(
        "noise_drop", recreate="always", copy_from=_noise_drop_table(columns)
    ) as batch_op:
        batch_op.create_index("ix_noise_drop_last_at", ["last_at"], unique=False)


def _noise_drop_table(key: list[str]) -> sa.Table:
    return sa.Table(
        "noise_drop",
        sa.MetaData(),
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
        sa.PrimaryKeyConstraint(*key),
    )


def downgrade() -> None:
    _noise_drop_key(["fingerprint"])  # fails while two integrations share a fingerprint
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index("ix_alert_integration_fingerprint_fired_at")
        batch_op.create_index(
            "ix_alert_fingerprint_fired_at", ["fingerprint", "fired_at"], unique=False
        )
        batch_op.drop_index("ux_alert_open_integration_fingerprint")
        batch_op.create_index(
            "ux_alert_open_fingerprint",
            ["fingerprint"],
            unique=True,
            sqlite_where=_OPEN,
            postgresql_where=_OPEN,
        )
