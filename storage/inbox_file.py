"""On a SQLite file, the inbox lives in a file of its own beside the database.

SQLite has one writer per file. With the inbox in the database file, a webhook's commit —
what its 2xx waits for — waited for whatever worker transaction held the writer: the inbox
worker's batch holds it for everything it plans (~0.15 ms an event, a few hundred ms for a
batch of Alertmanager groups), and the intake answered at the pace of the worker
(bench/ingest_bench.py: ~6,500 alerts/s in batches of 100, POST p50 ~150 ms). In a file of
its own the inbox has a writer of its own: the intake's commits wait only for the worker's
short claims and done-marks of inbox rows, never for its alerts.

The file is ``ATTACH``-ed to every connection as :data:`SCHEMA`, so statements keep naming
the table ``inbox`` (SQLite looks a name up in the main file first; ``Database.upgrade``
moves the table out of it, :func:`move_out`). What SQLite cannot give across two files in
WAL mode is one atomic commit, so a transaction never writes both: the inbox worker
records the bodies it processed in ``inbox_done`` (in the main file, in the transaction that
writes their alerts) and marks them done in the inbox afterwards; a body found in
``inbox_done`` when claimed (the process died between the two commits) is marked done, not
processed again.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.schema import CreateIndex, CreateTable

from storage.tables import InboxRow, table_of

SCHEMA = "inbox_file"
"""The name the inbox file is attached under."""


def inbox_path(database: Path) -> Path:
    """The inbox file beside a database file: ``tocsin.db`` → ``tocsin-inbox.db``."""
    return database.with_name(f"{database.stem}-inbox{database.suffix}")


def _ddl() -> list[str]:
    table = table_of(InboxRow).to_metadata(MetaData(), schema=SCHEMA)
    dialect = sqlite.dialect()
    create = str(CreateTable(table, if_not_exists=True).compile(dialect=dialect)).strip()
    indexes = [
        str(CreateIndex(index, if_not_exists=True).compile(dialect=dialect)).strip()
        for index in sorted(table.indexes, key=lambda i: str(i.name))
    ]
    return [create, *indexes]


_DDL = _ddl()


def attach(dbapi_connection: Any, path: Path) -> None:
    """Attach the inbox file to a new connection (made if missing, with its table), with the
    pragmas the database file has."""
    cursor = dbapi_connection.cursor()
    cursor.execute(f"ATTACH DATABASE ? AS {SCHEMA}", (str(path),))
    cursor.execute(f"PRAGMA {SCHEMA}.journal_mode=WAL")
    cursor.execute(f"PRAGMA {SCHEMA}.synchronous=NORMAL")
    cursor.execute(f"PRAGMA {SCHEMA}.cache_size=-16384")
    for statement in _DDL:
        cursor.execute(statement)
    cursor.close()


_COLUMNS = ", ".join(c.name for c in table_of(InboxRow).columns)


def main_has_inbox(connection: Connection) -> bool:
    """Whether the database file itself still holds an inbox table (not yet moved out)."""
    found = connection.exec_driver_sql(
        "SELECT 1 FROM main.sqlite_master WHERE type = 'table' AND name = 'inbox'"
    ).first()
    return found is not None


def attached(connection: Connection) -> bool:
    rows = connection.exec_driver_sql("PRAGMA database_list").all()
    return any(row[1] == SCHEMA for row in rows)


def move_out(conn: Connection) -> int:
    """Move the database file's inbox rows into the inbox file, then drop its table: two
    commits, each writing one file, so a crash between them loses nothing (the copy is
    repeated, ignoring the rows already there, by the next start). Returns the rows moved;
    nothing to do where the inbox is already out or the file has no inbox file."""
    if not attached(conn) or not main_has_inbox(conn):
        conn.rollback()
        return 0
    moved = conn.exec_driver_sql(
        f"INSERT OR IGNORE INTO {SCHEMA}.inbox ({_COLUMNS}) "  # noqa: S608 - constants
        f"SELECT {_COLUMNS} FROM main.inbox"
    ).rowcount
    conn.commit()
    conn.exec_driver_sql("DROP TABLE main.inbox")  # its index goes with it
    conn.commit()
    return int(moved or 0)


def open_sqlite(database: Path | str, *, timeout: float = 30) -> sqlite3.Connection:
    """A plain ``sqlite3`` connection to a database file with its inbox file attached, when
    it has one: for tools that read both from outside the service (benchmarks)."""
    conn = sqlite3.connect(database, timeout=timeout)
    inbox = inbox_path(Path(database))
    if inbox.exists():
        conn.execute(f"ATTACH DATABASE ? AS {SCHEMA}", (str(inbox),))
    return conn


def forget_unknown_done(conn: Connection) -> int:
    """Drop the ``inbox_done`` entries past the inbox file's last body: the inbox file was
    lost or replaced by an older copy, and its next bodies will take those ids again — an
    entry left there would mark a new body done without processing it. Returns how many."""
    forgotten = conn.exec_driver_sql(
        "DELETE FROM main.inbox_done WHERE inbox_id > (SELECT coalesce(max(id), 0) FROM inbox)"
    ).rowcount
    return int(forgotten or 0)
