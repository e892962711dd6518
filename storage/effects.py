"""Persist a transition: the new state, its timeline line, its outbox rows, its record —
all in the caller's transaction."""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Table
from sqlmodel.ext.asyncio.session import AsyncSession

from escalation.events import (
    AlertState,
    CloseApproval,
    Effect,
    Page,
    PostThreadNote,
    PostWarning,
    RecordResolution,
    Remind,
    RequestApproval,
    Transition,
    UpdateWarning,
)
from escalation.model import Status
from escalation.outbox_kinds import (
    ApprovalClosePayload,
    ApprovalRequestPayload,
    NoPayload,
    OutboxKind,
    OutboxPayload,
    PageChannelPayload,
    PageWebhookPayload,
    ThreadNotePayload,
    page_dm,
    reminder,
    thread_lines,
)
from escalation.policy import TargetKind
from escalation.ports import Directory
from escalation.state import time_to_acknowledge, time_to_resolve
from escalation.timeline import shown_in_thread, timeline_kind
from storage.alerts import apply_state
from storage.batch import insert_many, update_many
from storage.outbox import enqueue, outbox_values
from storage.tables import AlertEventRow, AlertRow, OutboxRow, ResolutionRow, table_of
from storage.timeline import THREAD_DELAY, line_values

Outgoing = tuple[OutboxKind, OutboxPayload]
"""An outbox row to write: its kind and its payload."""


class _NoRotations:
    def on_call(self, rotation: str, *, at: datetime) -> str | None:
        return None


async def persist_transition(
    session: AsyncSession,
    row: AlertRow,
    tr: Transition,
    *,
    kind: str,
    actor: str | None,
    now: datetime,
    directory: Directory | None = None,
) -> None:
    """``row`` must already be in ``session`` (new rows are flushed here to get their id)."""
    if row.id is None:
        session.add(row)
        await session.flush()
    else:
        apply_state(row, tr.state)
        session.add(row)
    assert row.id is not None
    decided = _decide(tr, kind=kind, now=now, directory=directory)
    session.add(AlertEventRow(**decided.line(row.id, actor=actor, now=now)))
    rows, resolution = decided.rows, decided.resolution
    if resolution:
        session.add(ResolutionRow(**_resolution_values(_AlertKey.of(row), tr)))
    for index, (outbox_kind, payload) in enumerate(rows):
        await enqueue(
            session,
            key=f"alert:{row.id}:v{row.version}:{index}",
            alert_id=row.id,
            kind=outbox_kind,
            payload=payload,
            now=now,
            delay=THREAD_DELAY if outbox_kind is OutboxKind.THREAD_LINES else None,
        )


@dataclass(frozen=True, slots=True)
class Stepped:
    """An existing alert (as read from its row) and a transition to persist for it."""

    alert_id: int
    version: int
    """The row's version before the transition (it becomes ``version + 1``)."""
    fingerprint: str
    level: int
    team: str
    before: AlertState
    """The state as read from the row."""
    tr: Transition


async def persist_transitions(
    session: AsyncSession,
    items: Sequence[Stepped],
    *,
    kind: str,
    actor: str | None,
    now: datetime,
    directory: Directory | None = None,
) -> None:
    """What :func:`persist_transition` does for each item, for many existing alerts at once:
    the same rows, written with a few statements (``storage.batch``) instead of ORM objects.

    As in an ORM flush, only the state columns that changed are updated (one statement per set
    of changed columns, rows in id order); timeline, outbox and resolution rows are inserted
    in item order, so they get the ids the ORM would have given them.
    """
    if not items:
        return
    updates: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    timeline: list[dict[str, Any]] = []
    outbox: list[dict[str, Any]] = []
    resolutions: list[dict[str, Any]] = []
    written: dict[object, TransitionRows] = {}
    for item in items:
        version = item.version + 1
        before, after = _state_values(item.before), _state_values(item.tr.state)
        params: dict[str, Any] = {"id": item.alert_id}
        for name, old, new in zip(_STATE_FIELDS, before, after, strict=True):
            if old != new:
                params[name] = new.value if isinstance(new, Status) else new
        params["version"] = version
        updates.setdefault(tuple(params), []).append(params)
        rows = transition_rows(
            written, item.tr, kind=kind, actor=actor, now=now, directory=directory
        )
        timeline.append({**rows.line, "alert_id": item.alert_id})
        if rows.resolution:
            resolutions.append(_resolution_values(_AlertKey.of(item), item.tr))
        for index, values in enumerate(rows.outbox):
            key = f"alert:{item.alert_id}:v{version}:{index}"
            outbox.append({**values, "idempotency_key": key, "alert_id": item.alert_id})
    conn = await session.connection()
    for batch in updates.values():
        batch.sort(key=_by_id)  # an ORM flush, too, updates rows in primary key order
        await update_many(conn, _ALERT_TABLE, batch)
    await insert_many(conn, _EVENT_TABLE, timeline)
    await insert_many(conn, _RESOLUTION_TABLE, resolutions)
    await insert_many(conn, _OUTBOX_TABLE, outbox)


@dataclass(frozen=True, slots=True)
class TransitionRows:
    """The rows a transition writes besides its state, as column values, but for the
    alert's keys (``alert_id``; the outbox rows' ``idempotency_key``)."""

    line: dict[str, Any]
    outbox: tuple[dict[str, Any], ...]
    resolution: bool


def transition_rows(
    written: dict[object, TransitionRows],
    tr: Transition,
    *,
    kind: str,
    actor: str | None,
    now: datetime,
    directory: Directory | None,
) -> TransitionRows:
    """What the transitions of a batch write, worked out once for all those with the same
    rule, summary and effects: their rows are the same (at the same ``now``) but for the
    alert's keys. Alerts stepped together often are (one tier of one policy), and rows they
    share are also serialised once (``storage.batch`` converts an object given twice once)."""
    try:
        key = (tr.rule, tr.summary, tr.effects)
        found = written.get(key)
    except TypeError:  # an effect that is not a value (not hashable): worked out on its own
        key, found = None, None
    if found is None:
        decided = _decide(tr, kind=kind, now=now, directory=directory)
        thread_at = now + THREAD_DELAY
        outbox = []
        for outbox_kind, payload in decided.rows:
            values = outbox_values(key="", kind=outbox_kind, payload=payload, now=now)
            if outbox_kind is OutboxKind.THREAD_LINES:
                values["next_attempt_at"] = thread_at
            outbox.append(values)
        found = TransitionRows(
            decided.line(0, actor=actor, now=now), tuple(outbox), decided.resolution
        )
        if key is not None:
            written[key] = found
    return found


def resolution_values(item: Stepped) -> dict[str, Any]:
    """The resolution record row of a transition that resolves ``item``'s alert."""
    return _resolution_values(_AlertKey.of(item), item.tr)


_ALERT_TABLE: Table = table_of(AlertRow)
_EVENT_TABLE: Table = table_of(AlertEventRow)
_RESOLUTION_TABLE: Table = table_of(ResolutionRow)
_OUTBOX_TABLE: Table = table_of(OutboxRow)
_STATE_FIELDS = tuple(f.name for f in fields(AlertState))
_state_values = operator.attrgetter(*_STATE_FIELDS)
_by_id = operator.itemgetter("id")


@dataclass(frozen=True, slots=True)
class _Decided:
    """What a transition writes besides the new state."""

    kind: str
    rule: str
    summary: str
    """The transition's summary, with whoever a page actually reached."""
    rows: list[Outgoing]
    """Outbox rows (kind, payload) in delivery order; the thread line comes last."""
    resolution: bool

    def line(self, alert_id: int, *, actor: str | None, now: datetime) -> dict[str, Any]:
        return line_values(
            alert_id, kind=self.kind, rule=self.rule, actor=actor, summary=self.summary, now=now
        )


def _decide(tr: Transition, *, kind: str, now: datetime, directory: Directory | None) -> _Decided:
    """The outbox rows of a transition's effects, in order, and its timeline line.

    Thread notes and the people a page reached go into one ``thread_lines`` row with the
    timeline line (one thread reply per transition, merged further at delivery)."""
    rows: list[Outgoing] = []
    notes: list[str] = []
    reached: list[str] = []
    resolution = False
    for effect in tr.effects:
        if isinstance(effect, RecordResolution):
            resolution = True
        elif isinstance(effect, PostThreadNote):
            notes.append(effect.text)
        elif isinstance(effect, Page):
            page_rows, who = _page_rows(effect, now=now, directory=directory or _NoRotations())
            rows.extend(page_rows)
            reached.extend(who)
        else:
            rows.extend(_outbox_rows(effect, now=now, directory=directory or _NoRotations()))
    summary = tr.summary + (f" → reached {', '.join(reached)}" if reached else "")
    line_kind = timeline_kind(tr.rule, default=kind)
    if shown_in_thread(line_kind):
        line = thread_lines(rule=tr.rule, text=summary, now=now, notes=notes)
        rows.append((OutboxKind.THREAD_LINES, line))
    return _Decided(line_kind, tr.rule, summary, rows, resolution)


def _outbox_rows(effect: Effect, *, now: datetime, directory: Directory) -> list[Outgoing]:
    match effect:
        case PostWarning():
            return [(OutboxKind.POST_WARNING, NoPayload())]
        case UpdateWarning():
            return [(OutboxKind.UPDATE_WARNING, NoPayload())]
        case PostThreadNote(text=text):
            return [(OutboxKind.THREAD_NOTE, ThreadNotePayload(text=text))]
        case Page():
            return _page_rows(effect, now=now, directory=directory)[0]
        case RequestApproval(seq=seq, tier=tier, approvers=approvers, reason=reason):
            return [
                (
                    OutboxKind.APPROVAL_REQUEST,
                    ApprovalRequestPayload(
                        seq=seq, tier=tier, reason=reason, by=effect.requested_by, approver=who
                    ),
                )
                for who in approvers
            ]
        case CloseApproval(seq=seq, outcome=outcome):
            return [(OutboxKind.APPROVAL_CLOSE, ApprovalClosePayload(seq=seq, outcome=outcome))]
        case Remind(user=user, deadline=deadline):
            if not user:
                return []
            return [(OutboxKind.REMINDER, reminder(user=user, deadline=deadline))]
        case RecordResolution():
            return []


def _page_rows(
    page: Page, *, now: datetime, directory: Directory
) -> tuple[list[Outgoing], list[str]]:
    """The page's deliveries, and who it reached (mentions, for the thread and timeline)."""
    tier, cycle, rule = page.tier, page.cycle, page.rule
    rows: list[Outgoing] = []
    mentions: list[str] = []
    for target in page.targets:
        if target.kind is TargetKind.USER:
            dm = page_dm(tier=tier, cycle=cycle, rule=rule, user=target.ref)
            rows.append((OutboxKind.PAGE_DM, dm))
            mentions.append(f"<@{target.ref}>")
        elif target.kind is TargetKind.ONCALL:
            user = directory.on_call(target.ref, at=now)
            if user is None:
                mentions.append(f"nobody (rotation {target.ref} has no one on call)")
                continue
            dm = page_dm(tier=tier, cycle=cycle, rule=rule, user=user, rotation=target.ref)
            rows.append((OutboxKind.PAGE_DM, dm))
            mentions.append(f"<@{user}> (on call for {target.ref})")
        elif target.kind is TargetKind.GROUP:
            mentions.append(f"<!subteam^{target.ref}>")
        elif target.kind is TargetKind.CHANNEL:
            paged = PageChannelPayload(tier=tier, cycle=cycle, rule=rule, channel=target.ref)
            rows.append((OutboxKind.PAGE_CHANNEL, paged))
            mentions.append(target.ref)
        else:
            hook = PageWebhookPayload(tier=tier, cycle=cycle, rule=rule, webhook=target.ref)
            rows.append((OutboxKind.PAGE_WEBHOOK, hook))
            mentions.append(f"webhook {target.ref}")
    return rows, mentions or ["nobody"]


@dataclass(frozen=True, slots=True)
class _AlertKey:
    """What a resolution record takes from the alert row."""

    alert_id: int
    fingerprint: str
    level: int
    team: str

    @classmethod
    def of(cls, row: AlertRow | Stepped) -> _AlertKey:
        alert_id = row.alert_id if isinstance(row, Stepped) else row.id
        assert alert_id is not None
        return cls(alert_id, row.fingerprint, row.level, row.team)


def _resolution_values(alert: _AlertKey, tr: Transition) -> dict[str, Any]:
    state = tr.state
    assert state.resolved_at is not None
    return {
        "alert_id": alert.alert_id,
        "fingerprint": alert.fingerprint,
        "level": alert.level,
        "team": alert.team,
        "resolved_at": state.resolved_at,
        "resolved_by": state.resolved_by,
        "by_source": state.resolved_by_source,
        "note": state.resolution_note,
        "root_cause": state.root_cause,
        "acknowledged_by": state.acknowledged_by,
        "owner": state.owner,
        "time_to_acknowledge_s": time_to_acknowledge(state),
        "time_to_resolve_s": time_to_resolve(state),
    }
