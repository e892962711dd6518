"""``/tocsin heartbeats``: one line per heartbeat with its status, last ping and expected."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.slack.blocks.heartbeat_text import heartbeats_text
from escalation.heartbeats import HeartbeatSpec
from storage.heartbeats import HeartbeatState

T0 = datetime(2026, 12, 6, 3, 12, tzinfo=UTC)


def spec(name: str) -> HeartbeatSpec:
    return HeartbeatSpec(
        name=name, interval_seconds=300, grace_seconds=120, level=1, integrations=("am",)
    )


def state(name: str, *, last: datetime | None, missing: bool = False) -> HeartbeatState:
    return HeartbeatState(
        name=name,
        first_seen_at=T0,
        last_ping_at=last,
        due_at=T0,
        pings=0 if last is None else 1,
        missing_since=T0 if missing else None,
        alert_id=7 if missing else None,
    )


def test_each_heartbeat_shows_status_last_ping_and_when_the_next_is_expected() -> None:
    specs = {n: spec(n) for n in ("live", "late", "dead", "new", "unseen")}
    states = {
        "live": state("live", last=T0 + timedelta(minutes=9)),
        "late": state("late", last=T0 + timedelta(minutes=4)),
        "dead": state("dead", last=T0, missing=True),
        "new": state("new", last=None),
    }
    text = heartbeats_text(specs, states, now=T0 + timedelta(minutes=10))
    lines = text.splitlines()
    assert lines[0] == "*5 heartbeat(s)*"
    assert lines[1] == (
        "• `live` — :large_green_circle: ok · last ping 03:21 UTC · expected by 03:26 UTC"
        " (grace 2m)"
    )
    assert ":large_yellow_circle: late" in lines[2]
    assert ":red_circle: missing" in lines[3]
    assert lines[3].endswith("· alert #7")
    assert ":red_circle: missing · last ping never" in lines[4]  # 10 min since first seen
    assert lines[5] == "• `unseen` — not watched yet"


def test_no_heartbeats_says_where_to_configure_them() -> None:
    assert "heartbeats:" in heartbeats_text({}, {}, now=T0)
