"""Persist a transition: the new state, its timeline line, its outbox rows, its record —
all in the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from escalation.events import (
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
from escalation.policy import TargetKind
from escalation.ports import Directory
from escalation.state import time_to_acknowledge, time_to_resolve
from storage.alerts import apply_state
from storage.outbox import enqueue
from storage.tables import AlertEventRow, AlertRow, ResolutionRow


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
    session.add(
        AlertEventRow(
            alert_id=row.id, at=now, kind=kind, rule=tr.rule, actor=actor, summary=tr.summary
        )
    )
    rows: list[tuple[str, dict[str, Any]]] = []
    for effect in tr.effects:
        if isinstance(effect, RecordResolution):
            session.add(_resolution(row, tr))
        else:
            rows.extend(_outbox_rows(effect, now=now, directory=directory or _NoRotations()))
    for index, (outbox_kind, payload) in enumerate(rows):
        await enqueue(
            session,
            key=f"alert:{row.id}:v{row.version}:{index}",
            alert_id=row.id,
            kind=outbox_kind,
            payload=payload,
            now=now,
        )


def _outbox_rows(
    effect: Effect, *, now: datetime, directory: Directory
) -> list[tuple[str, dict[str, Any]]]:
    match effect:
        case PostWarning():
            return [("post_warning", {})]
        case UpdateWarning():
            return [("update_warning", {})]
        case PostThreadNote(text=text):
            return [("thread_note", {"text": text})]
        case Page():
            return _page_rows(effect, now=now, directory=directory)
        case RequestApproval(seq=seq, tier=tier, approvers=approvers, reason=reason):
            base = {"seq": seq, "tier": tier, "reason": reason, "by": effect.requested_by}
            return [("approval_request", {**base, "approver": who}) for who in approvers]
        case CloseApproval(seq=seq, outcome=outcome):
            return [("approval_close", {"seq": seq, "outcome": outcome})]
        case Remind(user=user, deadline=deadline):
            at = deadline.isoformat() if deadline else None
            return [("reminder", {"user": user, "deadline": at})] if user else []
        case RecordResolution():
            return []


def _page_rows(
    page: Page, *, now: datetime, directory: Directory
) -> list[tuple[str, dict[str, Any]]]:
    why = {"tier": page.tier, "cycle": page.cycle, "rule": page.rule}
    rows: list[tuple[str, dict[str, Any]]] = []
    mentions: list[str] = []
    for target in page.targets:
        if target.kind is TargetKind.USER:
            rows.append(("page_dm", {**why, "user": target.ref}))
            mentions.append(f"<@{target.ref}>")
        elif target.kind is TargetKind.ONCALL:
            user = directory.on_call(target.ref, at=now)
            if user is None:
                mentions.append(f"nobody (rotation {target.ref} has no one on call)")
                continue
            rows.append(("page_dm", {**why, "user": user, "rotation": target.ref}))
            mentions.append(f"<@{user}> (on call for {target.ref})")
        elif target.kind is TargetKind.GROUP:
            mentions.append(f"<!subteam^{target.ref}>")
        elif target.kind is TargetKind.CHANNEL:
            rows.append(("page_channel", {**why, "channel": target.ref}))
            mentions.append(target.ref)
        else:
            rows.append(("page_webhook", {**why, "webhook": target.ref}))
            mentions.append(f"webhook {target.ref}")
    line = f":mega: Paging tier {page.tier + 1} ({page.rule}): " + (", ".join(mentions) or "—")
    return [("thread_note", {"text": line}), *rows]


def _resolution(row: AlertRow, tr: Transition) -> ResolutionRow:
    state = tr.state
    assert row.id is not None
    assert state.resolved_at is not None
    return ResolutionRow(
        alert_id=row.id,
        fingerprint=row.fingerprint,
        level=row.level,
        team=row.team,
        resolved_at=state.resolved_at,
        resolved_by=state.resolved_by,
        by_source=state.resolved_by_source,
        note=state.resolution_note,
        root_cause=state.root_cause,
        acknowledged_by=state.acknowledged_by,
        owner=state.owner,
        time_to_acknowledge_s=time_to_acknowledge(state),
        time_to_resolve_s=time_to_resolve(state),
    )
