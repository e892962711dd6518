"""Heartbeats (dead man's switch): pings, and the check the escalation engine runs on its
timer — open the alert of every heartbeat silent for longer than its interval plus grace.

Everything lives in the database (storage.heartbeats): a restart, or several replicas,
neither loses nor doubles a missing heartbeat's alert.
"""

from __future__ import annotations

from datetime import datetime

import structlog

from bot.runtime.clock import Clock
from bot.runtime.wakeup import Signal
from storage.db import Database
from storage.heartbeats import Ping, next_due, open_missing, record_ping, sync
from storage.intake.ingest import IngestRules

log = structlog.get_logger("tocsin.heartbeats")


class UnknownHeartbeat(KeyError):
    pass


class Heartbeats:
    def __init__(
        self, *, db: Database, rules: IngestRules, clock: Clock, on_change: Signal
    ) -> None:
        self._db = db
        self._rules = rules
        self._specs = dict(rules.heartbeats)
        self._clock = clock
        self._on_change = on_change
        self._synced = False

    def use_rules(self, rules: IngestRules) -> None:
        """A reloaded policy file: its heartbeats from now on, synced at the next check (a new
        heartbeat's clock starts then; a changed interval or grace applies)."""
        self._rules = rules
        self._specs = dict(rules.heartbeats)
        self._synced = False

    @property
    def configured(self) -> bool:
        return bool(self._specs)

    async def sync(self) -> None:
        """A row for every configured heartbeat (its clock starts now if it is new), due
        times as the policy file says now. Run at start; the first check runs it too."""
        if self._specs:
            await sync(self._db, self._specs, now=self._clock())
        self._synced = True

    async def ping(self, name: str) -> Ping:
        spec = self._specs.get(name)
        if spec is None:
            raise UnknownHeartbeat(name)
        done = await record_ping(self._db, spec, self._rules, now=self._clock())
        if done.resolved_alert is not None:
            log.info("heartbeat_resumed", heartbeat=name, alert_id=done.resolved_alert)
            self._on_change.set()
        return done

    async def check(self) -> int:
        """Open the alerts of the heartbeats missing now; returns how many were opened."""
        if not self._specs:
            return 0
        if not self._synced:
            await self.sync()
        opened = await open_missing(self._db, self._specs, self._rules, now=self._clock())
        if opened:
            log.warning("heartbeats_missing", alert_ids=opened)
            self._on_change.set()
        return len(opened)

    async def next_due(self) -> datetime | None:
        return await next_due(self._db, list(self._specs))
