"""PostgreSQL: room on each page of ``alert`` for its updates, and the timeline's reference
to its alert no longer checked row by row

A repeat firing updates its alert (count, last seen, version) and adds a timeline line. With
full pages every update moved the row and added an entry to each of the table's nine
indexes; with 30 % of each page left free, PostgreSQL keeps the new row version on the same
page and touches no index (a "HOT" update: none of the columns a repeat changes is indexed).
Rows already stored get the room as they are rewritten.

The foreign key from ``alert_event.alert_id`` ran a lookup and a row lock on ``alert`` for
every timeline line inserted: about 60 % of the database's work per repeat firing. Nothing
deletes alerts, and every line names an alert its transaction read or inserted, so the
reference cannot point nowhere; the model still declares it (the ORM orders its inserts by
it) and SQLite, whose check is one probe of a primary key, keeps the constraint.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 11:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ALERT_FILLFACTOR = 70
TIMELINE_FOREIGN_KEY = "alert_event_alert_id_fkey"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"ALTER TABLE alert SET (fillfactor = {ALERT_FILLFACTOR})")
    op.execute(f"ALTER TABLE alert_event DROP CONSTRAINT IF EXISTS {TIMELINE_FOREIGN_KEY}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE alert RESET (fillfactor)")
    op.create_foreign_key(TIMELINE_FOREIGN_KEY, "alert_event", "alert", ["alert_id"], ["id"])
