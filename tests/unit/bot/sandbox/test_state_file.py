"""The sandbox kept in a file across restarts: round trip, atomic writes, a bad file set aside,
many changes written once, and timestamps that keep rising after a reload."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from bot.sandbox import SandboxStateFile, SlackWorld
from bot.sandbox.workspace.state_file import snapshot

RESOLVE_VIEW = {
    "type": "modal",
    "callback_id": "resolve",
    "title": {"type": "plain_text", "text": "Resolve alert"},
    "private_metadata": "alert-7",
    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Resolve it?"}}],
}


class WallClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def busy_world(wall: WallClock | None = None) -> SlackWorld:
    """A world with something of everything that is kept."""
    world = SlackWorld(wall_clock=wall or WallClock(1_800_000_000.0))
    world.add_usergroup("S0ONCALL", ["U0ALICE", "U0BOB"])
    alerts = world.ensure_channel("alerts")
    parent = world.post_message(
        alerts.id,
        text="MAJOR: disk full",
        blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "*disk full*"}}],
        metadata={"event_type": "tocsin_alert", "event_payload": {"alert_id": 7}},
    )
    world.post_message(alerts.id, text="Acknowledged by alice", thread_ts=parent.ts)
    world.update_message(alerts.id, parent.ts, text="MAJOR: disk full (acked)", blocks=None)
    dm = world.open_dm("U0BOB")
    world.post_message(dm.id, text="You are paged")
    found = world.files.reserve("chart.png", 4, "a chart")
    world.files.receive(found.ticket, b"\x89PNG")
    found.completed, found.shares = True, [alerts.id]
    world.views.open(world.issue_trigger("U0ALICE"), RESOLVE_VIEW)
    return world


def test_a_world_comes_back_whole_from_its_file(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.json"
    before = busy_world()
    kept = SandboxStateFile(path)
    assert kept.load_into(before) is False  # no file yet
    kept.save()

    after = SlackWorld()
    assert SandboxStateFile(path).load_into(after) is True
    assert snapshot(after) == snapshot(before)
    alerts = after.find_channel("#alerts")
    assert alerts is not None
    [parent] = after.channel_messages(alerts.id)
    assert parent.text == "MAJOR: disk full (acked)"
    assert parent.history[0]["text"] == "MAJOR: disk full"
    assert parent.metadata == {"event_type": "tocsin_alert", "event_payload": {"alert_id": 7}}
    assert [m.text for m in after.thread(alerts.id, parent.ts)][1] == "Acknowledged by alice"
    [view] = after.open_views("U0ALICE")
    assert view.private_metadata == "alert-7"
    [file] = after.files.files.values()
    assert file.content == b"\x89PNG"
    assert after.usergroups["S0ONCALL"] == ["U0ALICE", "U0BOB"]


def test_after_a_reload_new_timestamps_and_view_ids_stay_later_than_kept_ones(
    tmp_path: Path,
) -> None:
    path = tmp_path / "sandbox.json"
    before = busy_world(WallClock(1_800_000_000.0))
    kept = SandboxStateFile(path)
    kept.load_into(before)
    kept.save()
    newest = max(ts for _, ts in before.messages)
    [old_view] = before.open_views()

    # the machine's clock went back an hour while Tocsin was down
    after = SlackWorld(wall_clock=WallClock(1_800_000_000.0 - 3600))
    SandboxStateFile(path).load_into(after)
    alerts = after.ensure_channel("alerts")
    posted = after.post_message(alerts.id, text="new")
    assert float(posted.ts) > float(newest)
    assert (alerts.id, posted.ts) not in before.messages
    new_view = after.views.open(after.issue_trigger("U0BOB"), RESOLVE_VIEW)
    assert new_view.id > old_view.id


def test_a_write_replaces_the_file_whole_or_not_at_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "sandbox.json"
    world = busy_world()
    kept = SandboxStateFile(path)
    kept.load_into(world)
    kept.save()
    good = path.read_text()
    replaced: list[tuple[str, str]] = []
    real_replace = os.replace

    def failing_replace(src: str, dst: str) -> None:
        replaced.append((str(src), str(dst)))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    world.post_message(world.ensure_channel("alerts").id, text="lost in the crash")
    with capture_logs() as logs:
        kept.save()
    [(src, dst)] = replaced
    assert Path(src).parent == path.parent
    assert src != dst == str(path)
    assert path.read_text() == good  # the old file, untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sandbox.json"]  # no temp file left
    assert [e["event"] for e in logs] == ["sandbox_state_not_saved"]
    assert kept.writes == 1

    monkeypatch.setattr(os, "replace", real_replace)
    kept.save()
    assert "lost in the crash" in path.read_text()
    assert kept.writes == 2


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        json.dumps({"format": 99, "messages": []}),
        json.dumps({"format": 1, "messages": [{"channel": "C1", "surprise": True}]}),
        json.dumps({"format": 1, "last_ts": "soon"}),
        json.dumps([1, 2, 3]),
    ],
)
def test_a_bad_file_is_set_aside_with_one_warning_and_the_sandbox_starts_empty(
    tmp_path: Path, content: str
) -> None:
    path = tmp_path / "sandbox.json"
    path.write_text(content)
    world = SlackWorld()
    kept = SandboxStateFile(path)
    with capture_logs() as logs:
        assert kept.load_into(world) is False
    assert world.messages == {}
    assert world.channels == {}
    [warning] = logs
    assert warning["event"] == "sandbox_state_not_restored"
    assert warning["log_level"] == "warning"
    [aside] = [p for p in tmp_path.iterdir() if p.name.startswith("sandbox.json.bad-")]
    assert aside.read_text() == content
    assert warning["moved_to"] == str(aside)
    assert not path.exists()

    world.post_message(world.ensure_channel("alerts").id, text="fresh start")
    kept.save()
    assert SandboxStateFile(path).load_into(SlackWorld()) is True


async def test_many_changes_are_written_once_after_the_delay(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.json"
    gate = asyncio.Event()
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        await gate.wait()

    world = SlackWorld()
    kept = SandboxStateFile(path, delay=0.5, sleep=sleep)
    kept.load_into(world)
    alerts = world.ensure_channel("alerts")
    for i in range(200):
        world.post_message(alerts.id, text=f"storm {i}")
    first = kept.pending
    await asyncio.sleep(0)  # the save task starts waiting
    for i in range(200, 300):
        world.post_message(alerts.id, text=f"storm {i}")
    assert kept.pending is first
    assert first is not None
    assert kept.writes == 0
    assert not path.exists()

    gate.set()
    await first
    assert kept.writes == 1
    assert waits == [0.5]
    assert len(json.loads(path.read_text())["messages"]) == 300

    world.post_message(alerts.id, text="later")  # a new change: a new write
    assert kept.pending is not first
    assert kept.pending is not None
    await kept.pending
    assert kept.writes == 2


async def test_close_writes_what_is_pending_and_stops_saving(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.json"
    world = SlackWorld()
    kept = SandboxStateFile(path, delay=3600)
    kept.load_into(world)
    world.post_message(world.ensure_channel("alerts").id, text="before the stop")
    pending = kept.pending
    assert pending is not None
    kept.close()
    assert kept.writes == 1
    assert "before the stop" in path.read_text()
    with pytest.raises(asyncio.CancelledError):
        await pending
    world.post_message(world.ensure_channel("alerts").id, text="after the stop")
    assert kept.pending is pending
    assert kept.writes == 1


def test_changes_made_before_the_event_loop_runs_are_written_on_close(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.json"
    world = SlackWorld()
    kept = SandboxStateFile(path)
    kept.load_into(world)
    world.post_message(world.ensure_channel("alerts").id, text="no loop yet")
    assert kept.pending is None
    kept.close()
    assert "no loop yet" in path.read_text()


def test_reset_forgets_messages_but_timestamps_keep_rising() -> None:
    wall = WallClock(1_800_000_000.0)
    world = busy_world(wall)
    newest = max(float(ts) for _, ts in world.messages)
    alerts = world.find_channel("alerts")
    assert alerts is not None
    world.reset()
    assert world.messages == {}
    assert world.open_views() == []
    assert world.files.files == {}
    assert world.find_channel("alerts") is alerts  # channels and users stay
    assert float(world.post_message(alerts.id, text="after").ts) > newest


async def test_a_slow_write_spaces_out_the_next_ones(tmp_path: Path) -> None:
    waits: list[float] = []
    readings = iter([100.0, 100.4, 200.0, 200.01, 300.0, 300.01])  # 0.4 s, then 0.01 s writes

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    world = SlackWorld()
    kept = SandboxStateFile(
        tmp_path / "sandbox.json", delay=1.0, sleep=sleep, timer=lambda: next(readings)
    )
    kept.load_into(world)
    alerts = world.ensure_channel("alerts")
    for text in ("first", "second", "third"):
        world.post_message(alerts.id, text=text)
        assert kept.pending is not None
        await kept.pending
    assert waits == [1.0, pytest.approx(4.0), pytest.approx(1.0)]  # 10 x the last write's 0.4 s
