"""PostgreSQL: the outbox's and the storm members' references to their alert no longer
checked row by row

Each outbox row inserted ran the foreign key's lookup of its alert and a row lock on it
(``FOR KEY SHARE``): three rows for every new alert paged at once (its warning, its page and
the line its thread will show), ~67 µs of the database's time each with three replicas
writing (``auto_explain`` during ``bench.ingest_bench --phase single``: the check took 60 to
90 % of each batch's insert). A storm's member rows did the same. As for the timeline
(migration 0019): nothing deletes alerts, and every one of these rows names an alert its
transaction inserted or read, so the reference cannot point nowhere. The models still
declare the keys (the ORM orders its inserts by them), and SQLite, whose check is one probe
of a primary key, keeps them.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-08 02:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DROPPED = (
    ("outbox", "outbox_alert_id_fkey"),
    ("storm_member", "storm_member_alert_id_fkey"),
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, key in DROPPED:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {key}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, key in DROPPED:
        op.create_foreign_key(key, table, "alert", ["alert_id"], ["id"])
