"""``/tocsin heartbeats``: each heartbeat, its last ping, when the next is expected, its
status. Pure: the heartbeats as configured and as stored, and the time, come in."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from bot.slack.blocks.escape import mrkdwn
from config.durations import format_duration
from escalation.heartbeats import (
    HeartbeatSpec,
    HeartbeatStatus,
    clock_time,
    expected_by,
    status_of,
)
from storage.heartbeats import HeartbeatState

MARKS = {
    HeartbeatStatus.OK: ":large_green_circle: ok",
    HeartbeatStatus.WAITING: ":white_circle: no ping yet",
    HeartbeatStatus.LATE: ":large_yellow_circle: late (in its grace)",
    HeartbeatStatus.MISSING: ":red_circle: missing",
}


def heartbeats_text(
    specs: Mapping[str, HeartbeatSpec], states: Mapping[str, HeartbeatState], *, now: datetime
) -> str:
    if not specs:
        return "No heartbeats are configured (`heartbeats:` in the policy file)."
    lines = [f"*{len(specs)} heartbeat(s)*"]
    for name, spec in specs.items():
        state = states.get(name)
        if state is None:  # configured, not yet stored: its clock starts at the next start
            lines.append(f"• `{mrkdwn(name, 64)}` — not watched yet")
            continue
        zone = spec.timezone
        status = (
            HeartbeatStatus.MISSING
            if state.missing_since is not None
            else status_of(
                spec, last_ping=state.last_ping_at, first_seen=state.first_seen_at, now=now
            )
        )
        last = (
            "never"
            if state.last_ping_at is None
            else clock_time(state.last_ping_at, now=now, zone=zone)
        )
        expected = clock_time(
            expected_by(spec, last_ping=state.last_ping_at, first_seen=state.first_seen_at),
            now=now,
            zone=zone,
        )
        alert = f" · alert #{state.alert_id}" if state.alert_id is not None else ""
        lines.append(
            f"• `{mrkdwn(name, 64)}` — {MARKS[status]} · last ping {last} · "
            f"expected by {expected} (grace {format_duration(spec.grace_seconds)}){alert}"
        )
    return "\n".join(lines)
