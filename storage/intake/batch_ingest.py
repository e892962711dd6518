"""Many inbox bodies in one transaction: what most events are — a repeat of an open alert,
a new alert on its own or in a group — planned in memory and written with a few bulk
statements; the rest through the ORM, one event at a time
(:func:`storage.intake.ingest.apply_event`), in arrival order, so the outcome is the one
:func:`storage.intake.ingest.process` gives body by body.

Fingerprints are each integration's own: the batch knows alerts by (integration,
fingerprint), as :func:`storage.alerts.find_open` does.

The batch reads once what the events need: the open alerts of all their fingerprints (only
the columns a repeat needs), the silences, the latest firings of the fingerprints with no
open alert (when a flapping rule is set) and the open groups of their group keys. An event
then takes the bulk path when nothing but alert state, timeline and outbox rows change:

- a repeat firing of an open alert (no metric, no truncation count, not graded worse);
- a resolution of an alert in no group;
- a new alert that no silence mutes, that is not flapping, has no mirror, no truncation
  count and is not noise: on its own, starting a group, or joining one.

Anything else (silenced, flapping, metrics, grouped resolutions, acknowledgements at the
source, mirrors…) goes through the ORM: first the planned rows are written (so it sees
them), then the event, then the other alerts it changed (a group's new lead…) are read
again. An event of a fingerprint that took the ORM path (or was resolved) in this batch
takes the ORM path too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, func, text
from sqlalchemy import event as orm_events
from sqlalchemy import select as sa_select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from escalation.events import Transition
from escalation.model import AlertEvent, SourceStatus, Status
from escalation.noise.flapping import detect
from escalation.noise.grouping import group_key, join
from escalation.noise.silences import Silence, event_values, muting
from escalation.outbox_kinds import GroupListPayload, OutboxKind
from escalation.policy import EscalationPolicy
from escalation.ports import Directory
from escalation.record.recurrence import recurrence_key
from escalation.state import AlertRefired, ResolvedAtSource, open_alert, step_at_once, transition
from escalation.triage.grading import Grade, Noise, grade
from escalation.triage.routing import Routing, route_all
from storage.alerts import STATE_FIELDS, new_row_values, state_fields, state_values
from storage.batch import insert_many, update_many
from storage.db import Database
from storage.effects import Stepped, TransitionRows, resolution_values, transition_rows
from storage.intake.inbox import InboxItem, finish_done, record_done
from storage.intake.ingest import (
    IngestOutcome,
    IngestRules,
    apply_event,
    graded_line,
    routed_line,
)
from storage.intake.open_alerts import (
    NO_COUNT,
    KeptOpen,
    Key,
    OpenAlert,
    by_integration,
    chunks,
    read_open,
)
from storage.intake.source_updates import TRUNCATED, truncated_alerts
from storage.noise.group_store import list_key
from storage.noise.silences import current_silences
from storage.outbox import outbox_values
from storage.tables import (
    AlertEventRow,
    AlertGroupRow,
    AlertRow,
    OutboxRow,
    ResolutionRow,
    table_of,
)


@dataclass(frozen=True, slots=True)
class Body:
    """A claimed inbox body and its events, parsed (``storage.intake.ingest.parse``)."""

    item: InboxItem
    events: Sequence[AlertEvent]


async def process_batch(
    db: Database,
    bodies: Sequence[Body],
    rules: IngestRules,
    *,
    now: datetime,
    budget: int | None = None,
    directory: Directory | None = None,
    before_commit: Callable[[], None] | None = None,
    after_commit: Callable[[], None] | None = None,
    kept: KeptOpen | None = None,
) -> list[IngestOutcome]:
    """Apply every event of the bodies, in order, and mark them done — one transaction.
    Returns each body's outcome (as ``process`` would have).

    ``budget`` ends the transaction early, after the first body that reaches it: an event
    on the bulk path costs 1, one on the ORM path :data:`ORM_COST`. Then only the first
    bodies are done (as many as outcomes are returned; at least one).

    With a ``directory``, new alerts whose first tier is due at once are paged in the
    transaction, as ``process`` does. ``before_commit`` runs when everything is written but
    not committed, ``after_commit`` once it committed — where the inbox is a file of its own,
    before the bodies are marked done there (fault tests).

    ``kept``: the open alerts earlier transactions of this process left
    (:class:`storage.intake.open_alerts.KeptOpen`), used where their rows are as written,
    and given this transaction's once it has committed."""
    outcomes: list[IngestOutcome] = []
    apart = await db.inbox_apart()
    async with db.write() as session:
        batch = _Batch(
            session, rules, now=now, is_sqlite=db.is_sqlite, directory=directory, kept=kept
        )
        try:
            await batch.start(
                [(body.item.integration, event) for body in bodies for event in body.events]
            )
            for body in bodies:
                if budget is not None and outcomes and batch.cost >= budget:
                    break
                outcome = IngestOutcome()
                for event in body.events:
                    await batch.apply(event, outcome, integration=body.item.integration)
                outcomes.append(outcome)
            await batch.write()
        finally:
            batch.close()
        done = [body.item.id for body in bodies[: len(outcomes)]]
        await record_done(await session.connection(), done, now=now, apart=apart)
        if before_commit is not None:
            before_commit()
    if kept is not None:
        kept.keep(batch.open_alerts())
    if after_commit is not None:
        after_commit()
    if apart:
        await finish_done(db, done, now=now)
    return outcomes


ORM_COST = 25
"""What an event on the ORM path counts against a batch's budget, an event on the bulk path
counting 1: about how much longer it takes (a few ms against ~0.15 ms)."""


@dataclass(slots=True, eq=False)
class _Group:
    """An open group of a key: read from the database, or started by the batch."""

    key: str
    group_id: int | None
    """``None`` until a group started by the batch is written."""
    stored_anchor_id: int | None = None
    """The anchor of a group read from the database."""
    anchor: OpenAlert | None = None
    """The anchor of a group started by the batch."""
    window_seconds: int = 0

    @property
    def anchor_id(self) -> int | None:
        return self.stored_anchor_id if self.anchor is None else self.anchor.alert_id


@dataclass(frozen=True, slots=True)
class _Decision:
    """What a new alert's event is graded and routed to, and its group key (pure: worked
    out once, before the batch's groups are read)."""

    level: Grade | Noise
    routing: Routing | None
    group_key: str | None
    window_seconds: int


@dataclass(slots=True)
class _Planned:
    """Rows planned and not yet written, in arrival order (their alert's id filled in when
    written)."""

    opened: list[OpenAlert]
    changed: dict[int, OpenAlert]
    lines: list[tuple[OpenAlert, dict[str, Any]]]
    outbox: list[tuple[OpenAlert | None, int, int, dict[str, Any]]]
    """(alert, its version after the transition, the row's index in it, the columns); with
    no alert, the row's whole columns (a group's list)."""
    groups: list[_Group]
    """Groups started by the batch, not yet written."""
    resolutions: list[tuple[OpenAlert, Transition]]
    counted: list[tuple[list[int], OpenAlert]]
    """Outcome lists to append the alert's id to."""

    @classmethod
    def empty(cls) -> _Planned:
        return cls([], {}, [], [], [], [], [])

    def __bool__(self) -> bool:
        return bool(self.opened or self.changed or self.lines or self.outbox or self.counted)


class _Batch:
    def __init__(
        self,
        session: AsyncSession,
        rules: IngestRules,
        *,
        now: datetime,
        is_sqlite: bool,
        directory: Directory | None,
        kept: KeptOpen | None = None,
    ) -> None:
        self._session = session
        self._kept = kept
        self._directory = directory
        self._rules = rules
        self._now = now
        self._is_sqlite = is_sqlite
        self._open: dict[Key, OpenAlert] = {}
        self._earlier: dict[Key, list[datetime]] = {}
        self._orm: set[Key] = set()
        """Fingerprints that took the ORM path (or were resolved): their events keep to it."""
        self._silences: list[Silence] = []
        self._planned = _Planned.empty()
        self._written: dict[object, TransitionRows] = {}
        self._policies: dict[tuple[str, int], tuple[EscalationPolicy, dict[str, Any]]] = {}
        self._decisions: dict[int, _Decision] = {}
        """By ``id()`` of the event (the batch holds its events while it runs)."""
        self._groups: dict[str, _Group | None] = {}
        """Open groups by key (``None``: known to have none) — forgotten after an event on
        the ORM path, which may start or resolve one."""
        self._touched: set[Key] = set()
        """Fingerprints of the alerts the ORM path flushed (``_note_flush``)."""
        self._redrawn: set[tuple[str, object]] = set()
        """The warnings (``("group", id)`` for a group's, ``("alert", entry)`` for an
        alert's own) and member lists (``("list", key)``) the batch has asked to redraw:
        each is drawn from the state at delivery, so once per transaction stands for every
        later change in it (:meth:`_plan`)."""
        self.cost = 0
        """The events applied so far, weighed (:data:`ORM_COST`)."""
        orm_events.listen(session.sync_session, "after_flush", self._note_flush)

    def close(self) -> None:
        orm_events.remove(self._session.sync_session, "after_flush", self._note_flush)

    def open_alerts(self) -> list[OpenAlert]:
        """The open alerts the batch knows, as it wrote them (once :meth:`write` ran)."""
        return list(self._open.values())

    async def start(self, events: Sequence[tuple[str, AlertEvent]]) -> None:
        """Read what the events (each with its integration) need: silences, open alerts,
        latest firings, open groups."""
        self._silences = await current_silences(self._session, now=self._now)
        conn = await self._session.connection()
        wanted = list(dict.fromkeys((name, event.fingerprint) for name, event in events))
        await self._read_open(conn, wanted, kept=self._kept)
        new = [
            event
            for name, event in events
            if event.status is SourceStatus.FIRING and (name, event.fingerprint) not in self._open
        ]
        flapping = self._rules.noise.flapping
        if flapping is not None and flapping.fires >= 2:
            closed = list(
                dict.fromkeys(
                    (name, event.fingerprint)
                    for name, event in events
                    if event.status is SourceStatus.FIRING
                    and (name, event.fingerprint) not in self._open
                )
            )
            for name, chunk in by_integration(closed):
                for fingerprint, fired_at in await _latest_firings(
                    conn, name, chunk, flapping.fires
                ):
                    self._earlier.setdefault((name, fingerprint), []).append(fired_at)
        keys = set()
        for event in new:
            decision = self._decision(event)
            if decision.group_key is not None:
                keys.add(decision.group_key)
        await self._read_groups(conn, sorted(keys))

    def _decision(self, event: AlertEvent) -> _Decision:
        found = self._decisions.get(id(event))
        if found is None:
            rules = self._rules
            level = grade(event, rules.grading, default_level=rules.default_level)
            routing, key, window = None, None, 0
            if isinstance(level, Grade):
                routing = route_all(
                    event, level.level, rules.routes, fallback=rules.fallback, now=self._now
                )
                where = routing.primary
                rule = rules.noise.group_rule(where.route_index)
                key = group_key(event, rule=rule, team=where.team, channel=where.channel)
                window = rule.window_seconds
            found = self._decisions[id(event)] = _Decision(level, routing, key, window)
        return found

    async def _read_groups(self, conn: AsyncConnection, keys: list[str]) -> None:
        """The open group of each key (``find_open_group``: the latest not resolved nor
        closed), or ``None``."""
        for key in keys:
            self._groups[key] = None
        for chunk in chunks(keys):
            query = (
                sa_select(_GROUP.c.key, _GROUP.c.id, _GROUP.c.anchor_id)
                .where(
                    _GROUP.c.key.in_(chunk),
                    _GROUP.c.resolved_at.is_(None),
                    _GROUP.c.closes_at > self._now,
                )
                .order_by(_GROUP.c.id)
            )
            for key, group_id, anchor_id in (await conn.execute(query)).all():
                self._groups[key] = _Group(key, group_id, stored_anchor_id=anchor_id)

    async def _read_open(
        self, conn: AsyncConnection, keys: list[Key], *, kept: KeptOpen | None = None
    ) -> None:
        """The open alerts of ``keys`` (integration, fingerprint), locked on PostgreSQL
        (:func:`storage.intake.open_alerts.read_open`); those ``kept`` as their rows are
        taken from there."""
        for entry in await read_open(conn, keys, lock=not self._is_sqlite, kept=kept):
            self._open[entry.key] = entry

    async def apply(self, event: AlertEvent, outcome: IngestOutcome, *, integration: str) -> None:
        self.cost += 1
        key = (integration, event.fingerprint)
        if key not in self._orm:
            entry = self._open.get(key)
            if event.status is SourceStatus.FIRING:
                if entry is not None and self._repeat(entry, event, outcome):
                    return
                if entry is None and await self._opened(event, outcome, integration=integration):
                    return
            elif event.status is SourceStatus.RESOLVED:
                if entry is None:
                    outcome.ignored += 1
                    return
                if entry.group_id is None:
                    self._resolve(entry, outcome)
                    return
        await self._through_orm(event, outcome, integration=integration)

    # --- the bulk path -------------------------------------------------------------------

    def _repeat(self, entry: OpenAlert, event: AlertEvent, outcome: IngestOutcome) -> bool:
        """A repeat firing that changes nothing but the alert's state (what
        ``refresh_details``, ``note_truncation`` and ``regrade_open`` leave alone)."""
        if event.metric is not None or not _count_kept(entry.truncated, event):
            return False
        new = _graded(event, self._rules)
        if isinstance(new, Grade) and new.level < entry.level:
            return False
        tr = transition(entry.state, AlertRefired(), policy=entry.policy, now=self._now)
        self._plan(entry, tr, kind="refired")
        self._planned.counted.append((outcome.updated, entry))
        return True

    def _resolve(self, entry: OpenAlert, outcome: IngestOutcome) -> None:
        """Resolved at the source, in no group (no lead to hand over, no list to redraw)."""
        tr = transition(entry.state, ResolvedAtSource(), policy=entry.policy, now=self._now)
        self._plan(entry, tr, kind="resolved")
        self._planned.counted.append((outcome.resolved, entry))
        # it has no open alert now; a new one would need its latest firings: the ORM path
        self._open.pop(entry.key, None)
        self._orm.add(entry.key)

    async def _opened(self, event: AlertEvent, outcome: IngestOutcome, *, integration: str) -> bool:
        """A new alert on its own, starting a group or joining one (``open_new``'s last two
        cases), unless a silence, flapping or anything else rare applies."""
        rules, now = self._rules, self._now
        decision = self._decision(event)
        level, routing = decision.level, decision.routing
        if isinstance(level, Noise) or routing is None or truncated_alerts(event) > 0:
            return False
        if routing.mirrors:
            return False
        where = routing.primary
        values = event_values(event, team=where.team, level=level.level)
        if self._silences and muting(self._silences, values, now=now) is not None:
            return False
        flapping = rules.noise.flapping
        earlier = self._earlier.get((integration, event.fingerprint), ())
        if earlier and detect(earlier, now=now, rule=flapping) is not None:
            return False
        group = None
        if decision.group_key is not None:
            group = await self._group(decision.group_key)
            if group is not None and group.anchor_id is None:
                await self.write()  # the anchor opened in this batch: its id is in the line
        policy, snapshot = self._policy(where.policy, level.level)
        fired_at = min(event.starts_at or now, now)
        if group is None:
            tr = open_alert(fired_at=fired_at, policy=policy, now=now)
        else:
            assert group.anchor_id is not None
            tr = join(fired_at=fired_at, now=now, anchor_id=group.anchor_id)
        row = new_row_values(
            event,
            integration=integration,
            level=level.level,
            grade_reason=level.reason,
            team=where.team,
            channel=where.channel,
            policy=policy,
            snapshot=snapshot,
        )
        row["recurrence_key"] = recurrence_key(event.title, event.labels, rules.key_labels)
        entry = OpenAlert(
            alert_id=None,
            integration=integration,
            fingerprint=event.fingerprint,
            level=level.level,
            team=where.team,
            group_id=None if group is None else group.group_id,
            policy=policy,
            stored=None,
            state=tr.state,
            version=1,
            truncated=row["details"].get(TRUNCATED, NO_COUNT),
            new=row,
        )
        row["group_id"] = entry.group_id
        self._open[entry.key] = entry
        self._planned.opened.append(entry)
        self._plan(entry, tr, kind="fired", opening=True)
        if group is not None:
            # the member list, like the warning, is drawn from the state at delivery: the
            # first member to join in this transaction asks for it for all (a notification
            # of 1,000 alerts: one row, not 999 for the sender to claim)
            if self._first_ask(("list", group.key)):
                assert group.group_id is not None
                assert group.anchor_id is not None
                self._planned.outbox.append(
                    (None, 0, 0, _list_row(group.group_id, group.anchor_id, now=now))
                )
        elif decision.group_key is not None:
            started = _Group(
                decision.group_key, None, anchor=entry, window_seconds=decision.window_seconds
            )
            self._groups[decision.group_key] = started
            self._planned.groups.append(started)
        lines = self._planned.lines
        lines.append((entry, graded_line(0, level.level, level.reason, now=now)))
        lines.append((entry, routed_line(0, where, now=now)))
        self._planned.counted.append((outcome.opened, entry))
        if self._directory is not None:
            stepped = step_at_once(tr.state, policy=policy, now=now)
            if stepped is not None:  # inserted as stepped: version 2, as if updated after
                self._plan(entry, stepped, kind="step")
                self._planned.counted.append((outcome.stepped, entry))
        return True

    async def _group(self, key: str) -> _Group | None:
        if key not in self._groups:
            await self._read_groups(await self._session.connection(), [key])
        return self._groups[key]

    def _policy(self, name: str, level: int) -> tuple[EscalationPolicy, dict[str, Any]]:
        """``policy_for`` and its snapshot, once per batch (alerts of one policy and level
        share the snapshot object: ``storage.batch`` serialises it once)."""
        key = (name, level)
        if key not in self._policies:
            policy = self._rules.policy_for(name, level)
            self._policies[key] = (policy, policy.to_snapshot())
        return self._policies[key]

    def _plan(self, entry: OpenAlert, tr: Transition, *, kind: str, opening: bool = False) -> None:
        """What ``persist_transition`` writes for ``tr``, planned — but a warning edit only
        the first time in the transaction for that warning (an alert's own, or its group's,
        which its members share): the edit is drawn from the state when it is delivered, so
        the first stands for the rest (a group of 100 fired again: one edit, not 100)."""
        if not opening:
            entry.version += 1
            if entry.new is None and entry.alert_id is not None:
                self._planned.changed[entry.alert_id] = entry
        entry.state = tr.state
        rows = transition_rows(
            self._written, tr, kind=kind, actor=None, now=self._now, directory=self._directory
        )
        self._planned.lines.append((entry, rows.line))
        if rows.resolution:
            self._planned.resolutions.append((entry, tr))
        for index, values in enumerate(rows.outbox):
            if values["kind"] == OutboxKind.UPDATE_WARNING.value:
                shown_on = ("alert", entry) if entry.group_id is None else ("group", entry.group_id)
                if not self._first_ask(shown_on):
                    continue
            self._planned.outbox.append((entry, entry.version, index, values))

    def _first_ask(self, redraw: tuple[str, object]) -> bool:
        """Whether the transaction asks for ``redraw`` for the first time (it now has)."""
        if redraw in self._redrawn:
            return False
        self._redrawn.add(redraw)
        return True

    # --- writing -------------------------------------------------------------------------

    async def write(self) -> None:
        """Write every planned row: new alerts (numbered in arrival order), the state of the
        alerts that changed, their timeline lines, resolutions and outbox rows."""
        planned, self._planned = self._planned, _Planned.empty()
        if not planned:
            return
        conn = await self._session.connection()
        if planned.groups:
            group_ids = await self._new_ids(conn, "alert_group", len(planned.groups))
            for group, group_id in zip(planned.groups, group_ids, strict=True):
                assert group.anchor is not None
                assert group.anchor.new is not None
                group.group_id = group.anchor.group_id = group_id
                group.anchor.new["group_id"] = group_id
        if planned.opened:
            ids = await self._new_ids(conn, "alert", len(planned.opened))
            rows = []
            for entry, alert_id in zip(planned.opened, ids, strict=True):
                assert entry.new is not None
                entry.alert_id = alert_id
                rows.append(
                    {
                        "id": alert_id,
                        **entry.new,
                        **state_values(entry.state),
                        "version": entry.version,
                    }
                )
                entry.new = None
                entry.stored = entry.state
            await insert_many(conn, _ALERT, rows)
        await insert_many(
            conn,
            _GROUP,
            [
                {
                    "id": group.group_id,
                    "key": group.key,
                    "anchor_id": group.anchor_id,
                    "lead_id": group.anchor_id,
                    "opened_at": self._now,
                    "closes_at": self._now + timedelta(seconds=group.window_seconds),
                    "resolved_at": None,
                    "list_channel_id": None,
                    "list_ts": None,
                    "list_more": [],
                }
                for group in planned.groups
            ],
        )
        updates: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for alert_id, entry in planned.changed.items():
            assert entry.stored is not None
            params: dict[str, Any] = {"id": alert_id}
            before, after = state_fields(entry.stored), state_fields(entry.state)
            for name, old, new in zip(STATE_FIELDS, before, after, strict=True):
                if old is not new and old != new:  # a transition keeps what it leaves
                    params[name] = new.value if isinstance(new, Status) else new
            params["version"] = entry.version
            updates.setdefault(tuple(params), []).append(params)
            entry.stored = entry.state
        for batch in updates.values():
            batch.sort(key=lambda row: row["id"])  # as an ORM flush, in primary key order
            await update_many(conn, _ALERT, batch)
        await insert_many(
            conn, _EVENT, [{**line, "alert_id": _id(entry)} for entry, line in planned.lines]
        )
        await insert_many(
            conn,
            _RESOLUTION,
            [
                resolution_values(
                    Stepped(_id(entry), 0, entry.fingerprint, entry.level, entry.team, tr.state, tr)
                )
                for entry, tr in planned.resolutions
            ],
        )
        await insert_many(
            conn,
            _OUTBOX,
            [
                values
                if entry is None
                else {
                    **values,
                    "idempotency_key": f"alert:{_id(entry)}:v{version}:{index}",
                    "alert_id": _id(entry),
                }
                for entry, version, index, values in planned.outbox
            ],
        )
        for counted, entry in planned.counted:
            counted.append(_id(entry))

    async def _new_ids(self, conn: AsyncConnection, table: str, count: int) -> list[int]:
        """Ids for new rows of ``table``, so they are inserted without ``RETURNING`` (as the
        inbox does): after the largest on SQLite (the single writer holds the file), from the
        table's sequence on PostgreSQL."""
        if self._is_sqlite:
            top = int((await conn.execute(_SQLITE_TOP[table])).scalar_one())
            return list(range(top + 1, top + 1 + count))
        found = await conn.execute(_PG_NEXT_IDS[table], {"count": count})
        return [int(row[0]) for row in found.all()]

    # --- the ORM path --------------------------------------------------------------------

    async def _through_orm(
        self, event: AlertEvent, outcome: IngestOutcome, *, integration: str
    ) -> None:
        self.cost += ORM_COST - 1
        await self.write()
        session = self._session
        await apply_event(
            session,
            event,
            self._rules,
            outcome,
            integration=integration,
            silences=self._silences,
            now=self._now,
            directory=self._directory,
        )
        await session.flush()
        key = (integration, event.fingerprint)
        self._orm.add(key)
        self._open.pop(key, None)
        self._groups.clear()
        session.expunge_all()  # later reads see the rows written in bulk, not stale objects
        # other alerts it changed (a group's new lead, say): read again as they now are
        touched = [key for key in self._touched if key not in self._orm]
        self._touched.clear()
        for touched_key in touched:
            self._open.pop(touched_key, None)
        if touched:
            await self._read_open(await session.connection(), touched)

    def _note_flush(self, session: Session, _context: object) -> None:
        for found in (*session.new, *session.dirty, *session.deleted):
            if isinstance(found, AlertRow):
                self._touched.add((found.integration, found.fingerprint))


def _list_row(group_id: int, anchor_id: int, *, now: datetime) -> dict[str, Any]:
    """``enqueue_list``'s row: (re)draw the group's member list."""
    payload = GroupListPayload(group=group_id)
    values = outbox_values(
        key=list_key(group_id), kind=OutboxKind.GROUP_LIST, now=now, payload=payload
    )
    values["alert_id"] = anchor_id
    return values


def _id(entry: OpenAlert) -> int:
    assert entry.alert_id is not None
    return entry.alert_id


async def _latest_firings(
    conn: AsyncConnection, integration: str, fingerprints: Sequence[str], fires: int
) -> list[tuple[str, datetime]]:
    """When each fingerprint's latest ``fires`` alerts from ``integration`` fired
    (``open_new``'s look for flapping, for many fingerprints at once)."""
    numbered = (
        sa_select(
            _ALERT.c.fingerprint,
            _ALERT.c.fired_at,
            func.row_number()
            .over(partition_by=_ALERT.c.fingerprint, order_by=_ALERT.c.id.desc())
            .label("n"),
        )
        .where(_ALERT.c.integration == integration, _ALERT.c.fingerprint.in_(fingerprints))
        .subquery()
    )
    query = sa_select(numbered.c.fingerprint, numbered.c.fired_at).where(numbered.c.n <= fires)
    return [(fp, at) for fp, at in (await conn.execute(query)).all()]


_ALERT: Table = table_of(AlertRow)
_EVENT: Table = table_of(AlertEventRow)
_OUTBOX: Table = table_of(OutboxRow)
_RESOLUTION: Table = table_of(ResolutionRow)
_GROUP: Table = table_of(AlertGroupRow)
# the table names are constants of this module
_SQLITE_TOP = {
    name: text(f"SELECT coalesce(max(id), 0) FROM {name}")  # noqa: S608
    for name in ("alert", "alert_group")
}
_PG_NEXT_IDS = {
    name: text(
        f"SELECT nextval(pg_get_serial_sequence('{name}', 'id')) "  # noqa: S608
        "FROM generate_series(1, :count)"
    )
    for name in ("alert", "alert_group")
}


_GRADES_KEPT = 4096
_grades: dict[int, tuple[AlertEvent, IngestRules, Grade | Noise]] = {}


def _graded(event: AlertEvent, rules: IngestRules) -> Grade | Noise:
    """``grade(event, …)`` under ``rules``, remembered for this event object: a parser may
    give the very same (immutable) event for an alert sent again unchanged (Alertmanager's
    repeats), and a repeat is graded only to see whether its level went up. Kept by the
    event's id with the event itself (so the id is not reused while kept), at most
    :data:`_GRADES_KEPT`, the oldest forgotten first; new rules (a policy reload) miss."""
    seen = _grades.get(id(event))
    if seen is not None and seen[0] is event and seen[1] is rules:
        return seen[2]
    found = grade(event, rules.grading, default_level=rules.default_level)
    _grades[id(event)] = (event, rules, found)
    if len(_grades) > _GRADES_KEPT:
        del _grades[next(iter(_grades))]
    return found


def _count_kept(stored: object, event: AlertEvent) -> bool:
    """A repeat leaves the alert's truncation count as it is and adds no line about it —
    ``refresh_details`` and ``note_truncation`` would change nothing. So Alertmanager's
    repeats, which always carry the count (0 unless it left alerts out), stay on the bulk
    path."""
    if TRUNCATED not in event.details and stored is NO_COUNT:
        return True
    return truncated_alerts(event) == 0 and type(stored) is int and stored == 0
