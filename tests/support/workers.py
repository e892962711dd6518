"""Workers as the tests drive them: on a fixed clock, drained by hand."""

from __future__ import annotations

from datetime import datetime

from bot.runtime.wakeup import Wakeup
from bot.workers.inbox_worker import InboxWorker
from storage.db import Database
from storage.intake.ingest import IngestRules


def inbox_worker(
    db: Database, rules: IngestRules, *, now: datetime, bodies: int = 200, events: int = 1000
) -> InboxWorker:
    """An inbox worker whose clock stands at ``now``, claiming ``bodies`` at a time and
    ``events`` to a transaction; call ``drain()`` to process what is pending."""
    return InboxWorker(
        db=db,
        rules=rules,
        clock=lambda: now,
        wakeup=Wakeup(),
        on_processed=Wakeup(),
        poll_seconds=1,
        batch_bodies=bodies,
        batch_events=events,
    )
