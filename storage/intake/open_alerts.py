"""The open alerts an inbox batch works on: read once per transaction (only the columns a
repeat needs), and kept by the worker between its transactions.

A repeat firing is most of what a busy inbox holds (Alertmanager sends every alert of a group
again with each notification of the group), and building an open alert from its row — its
29 state fields, its policy, its details — cost as much of the event loop's thread as the
repeat itself. So the inbox worker keeps (:class:`KeptOpen`) the alerts its committed
transactions left, with the version they were written at; the next transaction reads only
the id and version of each alert it needs and rebuilds an alert only where its row was
written since (by the engine, a button, another replica…) or is not kept. Every write of an
alert row bumps its version: the bulk writers set it, and for the ORM
:func:`storage.tables` bumps it on any flush that changes the row and leaves the version as
it was.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Executable, Table, Text, cast
from sqlalchemy import select as sa_select
from sqlalchemy.ext.asyncio import AsyncConnection

from escalation.events import AlertState
from escalation.model import Status
from escalation.policy import EscalationPolicy
from storage.alerts import STATE_FIELDS, policy_of_snapshot, state_of_columns
from storage.batch import Reader
from storage.id_sets import one_of
from storage.intake.source_updates import TRUNCATED
from storage.tables import AlertRow, table_of

_T = TypeVar("_T")

Key = tuple[str, str]
"""(integration, fingerprint): what names an open alert."""


@dataclass(slots=True, eq=False)
class OpenAlert:
    """An open alert as a batch sees it: as stored (``stored``), and as planned."""

    alert_id: int | None
    """``None`` until a new alert's row is written."""
    integration: str
    fingerprint: str
    level: int
    team: str
    group_id: int | None
    policy: EscalationPolicy
    stored: AlertState | None
    """Its state in the database; ``None`` for an alert opened by the batch, not yet written."""
    state: AlertState
    version: int
    truncated: object
    """Its details' truncation count as stored (:data:`NO_COUNT` when they have none):
    a repeat that leaves it as it is changes nothing but the alert's state."""
    new: dict[str, Any] | None = None
    """The columns of a new alert's row (but its state), until it is written."""

    @property
    def key(self) -> Key:
        return (self.integration, self.fingerprint)


NO_COUNT = object()
"""An alert whose details hold no truncation count."""

KEPT_OPEN = 8192
"""Open alerts the inbox worker keeps between transactions (~1 KiB each)."""


class KeptOpen:
    """Open alerts as this process's committed transactions left them, by key, at most
    ``size`` (the least recently used forgotten first). A transaction takes out what it uses
    (:meth:`take`) and gives back what it committed (:meth:`keep`): an alert of a transaction
    that failed is not kept, since what it planned was never written."""

    def __init__(self, size: int = KEPT_OPEN) -> None:
        self._size = size
        self._alerts: dict[Key, OpenAlert] = {}

    def __len__(self) -> int:
        return len(self._alerts)

    def __contains__(self, key: Key) -> bool:
        return key in self._alerts

    def take(self, key: Key) -> OpenAlert | None:
        return self._alerts.pop(key, None)

    def keep(self, alerts: Iterable[OpenAlert]) -> None:
        """``alerts`` as written and committed (not a new alert whose row is not written)."""
        kept = self._alerts
        for alert in alerts:
            if alert.alert_id is None or alert.new is not None or alert.stored is not alert.state:
                continue
            kept.pop(alert.key, None)
            kept[alert.key] = alert
        while len(kept) > self._size:
            del kept[next(iter(kept))]


async def read_open(
    conn: AsyncConnection, keys: Sequence[Key], *, lock: bool, kept: KeptOpen | None = None
) -> list[OpenAlert]:
    """The open alerts of ``keys`` (one a key at most: a unique index). With ``lock``
    (PostgreSQL) they are locked as :func:`lock_open` locks them (``FOR NO KEY UPDATE``: rows
    inserted elsewhere that reference them still go in): a replica whose batch repeats the
    same alerts waits for this one's commit and then reads what it wrote.

    An alert ``kept`` at the version its row has is taken from there (the row's id and
    version read, not the rest); the others are read whole."""
    found: list[OpenAlert] = []
    for name, chunk in by_integration(keys, whole=lock):
        where = _open_of(name, chunk, lock=lock)
        if kept is None or not any((name, fingerprint) in kept for fingerprint in chunk):
            query = sa_select(*_OPEN.columns).where(*where).order_by(_ALERT.c.id)
            if lock:
                query = query.with_for_update(key_share=True)
            found.extend(await _whole(conn, query))
            continue
        versions = (
            sa_select(_ALERT.c.id, _ALERT.c.version, _ALERT.c.fingerprint)
            .where(*where)
            .order_by(_ALERT.c.id)
        )
        if lock:
            versions = versions.with_for_update(key_share=True)
        stale: list[int] = []
        for row in (await conn.execute(versions)).all():
            alert_id, version, fingerprint = int(row[0]), int(row[1]), str(row[2])
            alert = kept.take((name, fingerprint))
            if alert is not None and alert.alert_id == alert_id and alert.version == version:
                found.append(alert)
            else:
                stale.append(alert_id)
        for ids in chunks(stale):  # locked above already
            found.extend(await _whole(conn, sa_select(*_OPEN.columns).where(_ALERT.c.id.in_(ids))))
    return found


async def lock_open(conn: AsyncConnection, keys: Iterable[Key]) -> None:
    """Lock the open alerts of ``keys`` (PostgreSQL) in the one order every inbox
    transaction takes them in: by integration name, then by id, each integration's alerts in
    one statement. Two transactions that lock in one order wait for each other, never for
    each other at once: locking in chunks (each in id order) let two batches of the same
    alerts, cut into chunks differently, each hold a chunk the other was waiting for
    (PostgreSQL then aborts one: ``deadlock detected``)."""
    for name, fingerprints in by_integration(keys, whole=True):
        query = (
            sa_select(_ALERT.c.id)
            .where(*_open_of(name, fingerprints, lock=True))
            .order_by(_ALERT.c.id)
            .with_for_update(key_share=True)
        )
        await conn.execute(query)


def _open_of(name: str, fingerprints: Sequence[str], *, lock: bool) -> tuple[Any, ...]:
    """The conditions naming the open alerts of ``fingerprints`` sent to ``name``; on
    PostgreSQL (``lock``) the fingerprints are one array parameter, however many."""
    matches = one_of(_ALERT.c.fingerprint, fingerprints, postgres=lock)
    return (_ALERT.c.integration == name, matches, _ALERT.c.status != Status.RESOLVED.value)


async def _whole(conn: AsyncConnection, query: Executable) -> list[OpenAlert]:
    """The alerts ``query`` (of :data:`_OPEN`'s columns) finds, built from their rows."""
    rows = (await conn.execute(query)).all()
    return [_from_columns(row) for row in _OPEN.decode(conn.dialect, rows)]


def chunks(values: Sequence[_T], size: int = 500) -> list[Sequence[_T]]:
    return [values[at : at + size] for at in range(0, len(values), size)]


def by_integration(keys: Iterable[Key], *, whole: bool = False) -> list[tuple[str, Sequence[str]]]:
    """The fingerprints of ``keys`` by integration (in name order), in chunks (SQLite's bound
    parameters are limited) — or ``whole``, all of an integration's at once, for a statement
    that takes them as one array parameter and locks them (see :func:`lock_open`)."""
    by_name: dict[str, list[str]] = {}
    for name, fingerprint in keys:
        by_name.setdefault(name, []).append(fingerprint)
    if whole:
        return sorted(by_name.items())
    return [(name, chunk) for name in sorted(by_name) for chunk in chunks(by_name[name])]


_ALERT: Table = table_of(AlertRow)
_KEY_FIELDS = ("id", "version", "integration", "fingerprint", "level", "team", "group_id")
_OPEN = Reader(
    (
        *(_ALERT.c[name] for name in (*_KEY_FIELDS, *STATE_FIELDS)),
        cast(_ALERT.c.details, Text).label("details"),
        cast(_ALERT.c.policy_snapshot, Text).label("policy_snapshot"),
    )
)
"""What a repeat needs of an open alert: its keys, state, details (as JSON text, only looked
at for a truncation count) and policy snapshot (as JSON text)."""
_STATE_AT = len(_KEY_FIELDS)
_DETAILS_AT = _STATE_AT + len(STATE_FIELDS)


def _from_columns(row: Sequence[Any]) -> OpenAlert:
    alert_id, version, integration, fingerprint, level, team, group_id = row[:_STATE_AT]
    state = state_of_columns(row[_STATE_AT:_DETAILS_AT])
    details, snapshot = row[_DETAILS_AT], row[_DETAILS_AT + 1]
    return OpenAlert(
        alert_id=alert_id,
        integration=integration,
        fingerprint=fingerprint,
        level=level,
        team=team,
        group_id=group_id,
        policy=policy_of_snapshot(snapshot),
        stored=state,
        state=state,
        version=version,
        truncated=_stored_truncation(details),
    )


_SHORT_DETAILS = 2048
"""Stored details up to this long have their truncation count cached."""


def _stored_truncation(details: str | None) -> object:
    """The truncation count in an alert's stored details (JSON text), or :data:`NO_COUNT`."""
    if not details or TRUNCATED not in details:
        return NO_COUNT
    if len(details) > _SHORT_DETAILS:
        return _truncation_in(details)
    return _cached_truncation(details)


def _truncation_in(details: str) -> object:
    value: object = json.loads(details).get(TRUNCATED, NO_COUNT)
    return value


_cached_truncation = functools.lru_cache(maxsize=1024)(_truncation_in)
"""Cached: the alerts of one notification store the same details (the receiver,
Alertmanager's address, the count)."""
