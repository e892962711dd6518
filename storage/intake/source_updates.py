"""What a source's later events change on an alert besides its state: Alertmanager's count
of alerts it left out, and the source's own acknowledgement."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from escalation.events import AcknowledgedAtSource, IllegalTransition
from escalation.model import AlertEvent
from escalation.state import transition
from storage.alerts import policy_of, state_of
from storage.effects import persist_transition
from storage.tables import AlertEventRow, AlertRow

TRUNCATED = "truncatedAlerts"


def truncated_alerts(event: AlertEvent) -> int:
    """How many alerts Alertmanager (or Grafana) left out of the notification this came in."""
    value = event.details.get(TRUNCATED)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def refresh_details(row: AlertRow, event: AlertEvent) -> None:
    """A repeat of the alert brings the source's current truncation count: keep it, so the
    warning (redrawn by the refire) shows the latest one. (The latest metric reading is kept
    by re-grading, ``storage.intake.regrading.regrade_open``, which first compares it with the
    previous one.)"""
    if TRUNCATED in event.details or TRUNCATED in row.details:
        row.details = {**row.details, TRUNCATED: truncated_alerts(event)}  # a new dict: saved


def note_truncation(session: AsyncSession, row: AlertRow, event: AlertEvent, now: datetime) -> None:
    """A timeline line saying how many alerts the source left out of this notification."""
    count = truncated_alerts(event)
    if count <= 0:
        return
    assert row.id is not None
    tool = "Grafana" if event.source == "grafana" else "Alertmanager"
    session.add(
        AlertEventRow(
            alert_id=row.id,
            at=now,
            kind="source_notice",
            rule="SOURCE-TRUNCATED",
            summary=f"{tool} truncated {count} alert{'s' if count != 1 else ''} "
            "from this notification (max_alerts); they are not in Tocsin",
        )
    )


async def acknowledge_at_source(session: AsyncSession, row: AlertRow, *, now: datetime) -> bool:
    """Apply the source's acknowledgement; ``False`` if the alert was already acknowledged."""
    try:
        tr = transition(state_of(row), AcknowledgedAtSource(), policy=policy_of(row), now=now)
    except IllegalTransition:
        return False
    await persist_transition(session, row, tr, kind="acknowledged", actor=None, now=now)
    return True
