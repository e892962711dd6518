"""The sandbox kept across restarts: its workspace in one JSON file (Tocsin puts it beside its
SQLite database), so warnings posted before a restart can still be pressed and updated after.

Kept: users, user groups, channels and DMs, messages (threads, edits and their history,
metadata, shared files), uploaded files, open modals, and the counters that make timestamps and
view ids (so a new ts is still later than every kept one). Not kept: ephemerals (Slack drops
them too), trigger_ids and response_urls (short-lived), rate limits, faults, Socket Mode links.

A change is written `delay` seconds later, together with every change made meanwhile (a storm
of posts writes the file about once per `delay`), through a temporary file and `os.replace`
(a crash leaves the old file or the new one, never half of one); `close()` writes what is left.
Writing runs on the event loop (the workspace must not change while it is written out), so a
big workspace waits longer between writes: at least `COST_FACTOR` times the last write's
duration (10,000 edited warnings, ~20 MB: ~0.3 s a write, one every ~3 s).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import structlog

from bot.sandbox.workspace.files import SandboxFile
from bot.sandbox.workspace.models import JSON, Channel, Message, User, View
from bot.sandbox.workspace.world import SlackWorld

FORMAT = 1
SAVE_DELAY = 1.0
COST_FACTOR = 10

log = structlog.get_logger("tocsin.sandbox")


class StateFileError(ValueError):
    """The file is not a sandbox state this version can read (names what is wrong)."""


def snapshot(world: SlackWorld) -> JSON:
    """What is kept of `world`, as JSON-ready data."""
    return {
        "format": FORMAT,
        "last_ts": world.last_ts,
        "last_view_id": world.views.last_id,
        "users": [vars(u) for u in world.users.values()],
        "usergroups": world.usergroups,
        "channels": [vars(c) for c in world.channels.values()],
        "messages": [vars(m) for m in world.messages.values()],  # serialised at once, not copied
        "views": [vars(v) for v in world.views.open_for()],
        "files": [_file_data(f) for f in world.files.files.values() if f.completed],
    }


def _file_data(found: SandboxFile) -> JSON:
    data = dict(vars(found))
    data["content"] = base64.b64encode(found.content or b"").decode("ascii")
    return data


def _records(data: JSON, key: str) -> list[dict[str, Any]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise StateFileError(f"'{key}' must be a list of objects")
    return value


def _int(data: JSON, key: str) -> int:
    value = data.get(key, 0)
    if not isinstance(value, int) or value < 0:
        raise StateFileError(f"'{key}' must be a whole number >= 0, not {value!r}")
    return value


def restore(world: SlackWorld, data: object) -> None:
    """Put the kept state `data` into `world`; StateFileError (world untouched) if it is not
    one this version wrote."""
    if not isinstance(data, dict):
        raise StateFileError("the file must hold a JSON object")
    if data.get("format") != FORMAT:
        raise StateFileError(f"'format' must be {FORMAT}, not {data.get('format')!r}")
    groups = data.get("usergroups", {})
    if not isinstance(groups, dict):
        raise StateFileError("'usergroups' must be an object")
    try:
        users = [User(**u) for u in _records(data, "users")]
        channels = [Channel(**c) for c in _records(data, "channels")]
        messages = [Message(**m) for m in _records(data, "messages")]
        views = [View(**v) for v in _records(data, "views")]
        files = [
            SandboxFile(**{**f, "content": base64.b64decode(f["content"], validate=True)})
            for f in _records(data, "files")
        ]
    except (TypeError, KeyError, ValueError) as error:
        raise StateFileError(f"a record does not fit: {error}") from error
    last_ts, last_view_id = _int(data, "last_ts"), _int(data, "last_view_id")
    world.users.update({u.id: u for u in users})
    world.usergroups.update({str(k): list(v) for k, v in groups.items()})
    world.channels.update({c.id: c for c in channels})
    world.messages.update({(m.channel, m.ts): m for m in messages})
    world.views.restore(views, last_id=last_view_id)
    world.files.files.update({f.id: f for f in files})
    world.last_ts = max(world.last_ts, last_ts)
    world.touch()


def write_atomically(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file in the same folder and `os.replace`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


class SandboxStateFile:
    """Keeps a SlackWorld in the JSON file at `path`: `load_into(world)` once, then every
    change is saved `delay` seconds later, or `COST_FACTOR` times the last write's duration
    if that is longer (`sleep` waits and `timer` measures, replaceable in tests); `close()`
    saves what is pending and stops. `writes` counts the files written."""

    def __init__(
        self,
        path: Path,
        *,
        delay: float = SAVE_DELAY,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.path = path
        self.delay = delay
        self._sleep = sleep
        self._timer = timer
        self.writes = 0
        self.last_write_seconds = 0.0
        self.pending: asyncio.Task[None] | None = None
        self._world: SlackWorld | None = None
        self._dirty = False
        self._closed = False

    def load_into(self, world: SlackWorld) -> bool:
        """Restore `world` from the file, if there is one; True if something was restored.
        A file that cannot be read or understood is renamed aside (one warning) and the
        sandbox starts empty."""
        self._world = world
        restored = False
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            text = None
        except (OSError, UnicodeDecodeError) as error:
            self._set_aside(f"unreadable: {error}")
            text = None
        if text is not None:
            try:
                restore(world, json.loads(text))
                restored = True
            except (ValueError, RecursionError) as error:  # JSONDecodeError, StateFileError
                self._set_aside(str(error))
        world.on_change(self._changed)
        return restored

    def _set_aside(self, problem: str) -> None:
        aside = self.path.with_name(f"{self.path.name}.bad-{time.strftime('%Y%m%dT%H%M%S')}")
        try:
            self.path.rename(aside)
        except OSError as error:
            aside = Path(f"(could not rename: {error})")
        log.warning(
            "sandbox_state_not_restored", path=str(self.path), problem=problem, moved_to=str(aside)
        )

    def _changed(self) -> None:
        if self._closed:
            return
        self._dirty = True
        if self.pending is None or self.pending.done():
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no loop yet (set-up): close() saves it
                return
            self.pending = loop.create_task(self._save_later())

    async def _save_later(self) -> None:
        while self._dirty and not self._closed:
            await self._sleep(max(self.delay, COST_FACTOR * self.last_write_seconds))
            self.save()

    def save(self) -> None:
        """Write the world now (an error is logged: the sandbox goes on in memory)."""
        if self._world is None:
            return
        self._dirty = False
        started = self._timer()
        text = json.dumps(snapshot(self._world), separators=(",", ":"))
        try:
            write_atomically(self.path, text)
        except OSError as error:
            log.warning("sandbox_state_not_saved", path=str(self.path), error=str(error))
            return
        finally:
            self.last_write_seconds = self._timer() - started
        self.writes += 1

    def close(self) -> None:
        """Save what is pending and stop saving."""
        self._closed = True
        if self.pending is not None:
            self.pending.cancel()
        if self._dirty:
            self.save()
