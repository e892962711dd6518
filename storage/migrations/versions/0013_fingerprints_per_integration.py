"""fingerprints are each integration's own: open alerts are unique per (integration, fingerprint)

Every alert row has always kept the integration it came from (``alert.integration``, not
null since 0001), so existing rows need no new value: only the indexes change. An alert
open before the upgrade is found afterwards by its own integration and fingerprint, as
before. The fingerprint columns stay ``VARCHAR(255)``; the parsers now refuse a longer
fingerprint (they took 256 characters, which PostgreSQL refused at ingest).

Downgrading puts back the unique index on the fingerprint alone: it fails while two open
alerts of different integrations share a fingerprint (resolve one of them first).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

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


def downgrade() -> None:
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
