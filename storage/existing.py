"""Opening a database that must already be there: for the commands that only read.

``Database(url)`` makes a missing SQLite file (and its folder) on first use, which is right
for the service and wrong for ``tocsin report`` run from another folder: that made an empty
``./data/tocsin.db`` and then failed deep inside a query ("no such table: alert").
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, make_url

from storage.db import Database, alembic_config, sqlite_path

Unready = Literal["missing", "unreachable", "unmigrated", "behind", "ahead"]


class DatabaseNotReady(Exception):
    """The database cannot be read: ``where`` is the file or the URL (password hidden),
    ``problem`` what is wrong; ``kind`` tells the caller what to advise (``unmigrated`` and
    ``behind``: apply the migrations)."""

    def __init__(self, where: str, problem: str, *, kind: Unready) -> None:
        self.where = where
        self.problem = problem
        self.kind = kind
        super().__init__(f"{where}: {problem}")


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names (made absolute); ``None`` for PostgreSQL, an in-memory
    database or a ``file:`` URI."""
    path = sqlite_path(url)
    return None if path is None else Path(path).expanduser().absolute()


def shown_url(url: str) -> str:
    """The URL with its password replaced by ``***``, fit for a message."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL: say only which kind it is
        return url.partition(":")[0] + "://…"


async def open_existing(url: str) -> Database:
    """The database at ``url``, checked to exist and to be migrated to the newest revision,
    without creating anything; else :class:`DatabaseNotReady`."""
    file = sqlite_file(url)
    where = str(file) if file is not None else shown_url(url)
    if file is not None and not file.is_file():
        raise DatabaseNotReady(where, "no database here", kind="missing")
    db = Database(url, attach_inbox=False)  # the record only: the inbox file is not made
    try:
        async with db.engine.connect() as conn:
            current, head, known = await conn.run_sync(_revisions)
    except Exception as exc:
        await db.dispose()
        cause = getattr(exc, "orig", None) or exc  # the driver's error, not SQLAlchemy's
        reason = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
        raise DatabaseNotReady(
            where, f"cannot open it ({reason})", kind="unreachable"
        ) from None  # the chained error repeats the URL, password included
    if current == head:
        return db
    await db.dispose()
    if current is None:
        raise DatabaseNotReady(where, "no Tocsin tables (never migrated)", kind="unmigrated")
    if known:
        raise DatabaseNotReady(
            where, f"at migration {current}, this Tocsin needs {head}", kind="behind"
        )
    raise DatabaseNotReady(
        where,
        f"at migration {current}, unknown to this Tocsin (made by a newer version?)",
        kind="ahead",
    )


def _revisions(connection: Connection) -> tuple[str | None, str | None, bool]:
    script = ScriptDirectory.from_config(alembic_config())
    current = MigrationContext.configure(connection).get_current_revision()
    try:
        known = current is not None and script.get_revision(current) is not None
    except Exception:  # alembic's "no such revision"
        known = False
    return current, script.get_current_head(), known
