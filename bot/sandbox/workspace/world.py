"""The in-memory Slack workspace behind the fake Web API, the driver and the page."""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from collections.abc import Callable, Iterable

from bot.sandbox.workspace.files import FileStore
from bot.sandbox.workspace.interactions import ResponseUrls, Triggers, Views
from bot.sandbox.workspace.models import (
    DEFAULT_USERS,
    JSON,
    ApiError,
    Channel,
    Ephemeral,
    Fault,
    Message,
    Outage,
    SandboxError,
    User,
    View,
)
from bot.sandbox.workspace.ratelimit import ChannelRateLimiter, FaultPlan, Write, WriteLog
from bot.sandbox.workspace.socket_mode import SocketModeHub

_ID = re.compile(r"^[CDG][A-Z0-9]{8,}$")


def _short_hash(text: str) -> str:
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:8].upper()


class SlackWorld:
    """A Slack workspace: users, channels, messages, ephemerals, views, triggers, faults.

    `clock` (default `time.monotonic`) times trigger expiry, rate limits and the write log;
    `wall_clock` (default `time.time`) makes message timestamps. `views`, `triggers` and
    `response_urls` hold what interactions hand out; `write_log` every accepted write.
    `socket_mode` is Slack's Socket Mode side: connected apps, envelopes and their acks
    (acks are awaited `socket_ack_timeout` seconds, Slack's 3 s by default).
    """

    def __init__(
        self,
        *,
        users: Iterable[tuple[str, str, str]] = DEFAULT_USERS,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        rate_per_second: float = 1.0,
        burst: int = 3,
        trigger_ttl: float = 3.0,
        public_url: str = "http://127.0.0.1:8080/sandbox",
        team_id: str = "T0TOCSIN",
        team_domain: str = "tocsin-sandbox",
        app_id: str = "A0TOCSIN",
        bot_user_id: str = "U0TOCSIN",
        bot_id: str = "B0TOCSIN",
        bot_name: str = "tocsin",
        verification_token: str = "sandbox-verification-token",  # noqa: S107 - not a secret
        socket_ack_timeout: float = 3.0,
    ) -> None:
        self.clock = clock
        self.wall_clock = wall_clock
        self.public_url = public_url.rstrip("/")
        self.team_id, self.team_domain, self.app_id = team_id, team_domain, app_id
        self.bot_user_id, self.bot_id = bot_user_id, bot_id
        self.verification_token = verification_token
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.messages: dict[tuple[str, str], Message] = {}
        self.ephemerals: list[Ephemeral] = []
        self.usergroups: dict[str, list[str]] = {}
        self.limiter = ChannelRateLimiter(rate=rate_per_second, burst=burst, clock=clock)
        self.write_log = WriteLog()
        self.version = 0
        self.faults = FaultPlan()
        self.triggers = Triggers(clock=clock, ttl=trigger_ttl)
        self.views = Views(triggers=self.triggers, on_change=self.touch)
        self.response_urls = ResponseUrls(clock=clock, base_url=lambda: self.public_url)
        self.socket_mode = SocketModeHub(
            app_id=app_id,
            base_url=lambda: self.public_url,
            on_change=self.touch,
            ack_timeout=socket_ack_timeout,
            clock=clock,
        )
        self.files = FileStore()
        self.last_ts = 0  # in microseconds: the last message ts handed out (see next_ts)
        self._changed = asyncio.Event()
        self._listeners: list[Callable[[], None]] = []
        self.add_user(bot_user_id, bot_name, bot_name.capitalize(), bot_id=bot_id)
        for user_id, name, real_name in users:
            self.add_user(user_id, name, real_name)

    def touch(self) -> None:
        """Mark the world changed: bumps `version` and wakes `wait_for` callers."""
        self.version += 1
        self._changed.set()
        self._changed = asyncio.Event()
        for listener in self._listeners:
            listener()

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call `listener()` after every change (e.g. to save the workspace)."""
        self._listeners.append(listener)

    def reset(self) -> None:
        """Forget every message, ephemeral, open modal and file; channels and users stay, and
        new timestamps keep rising (a ts handed out before is never handed out again)."""
        self.messages.clear()
        self.ephemerals.clear()
        self.views.close_all()
        self.files.files.clear()
        self.touch()

    async def wait_for(
        self,
        predicate: Callable[[], bool],
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> None:
        """Wait until `predicate()` holds (checked after each change); TimeoutError if not."""
        async with asyncio.timeout(timeout):
            while not predicate():
                await self._changed.wait()

    def add_user(
        self,
        user_id: str,
        name: str,
        real_name: str | None = None,
        *,
        bot_id: str | None = None,
        email: str | None = None,
    ) -> User:
        user = User(
            user_id, name, real_name or name, is_bot=bot_id is not None, bot_id=bot_id, email=email
        )
        self.users[user_id] = user
        self.touch()
        return user

    def user(self, ref: str) -> User:
        """A user by id, name or @name; SandboxError if there is none."""
        name = ref.removeprefix("@")
        for user in self.users.values():
            if ref in (user.id, user.name) or name == user.name:
                return user
        raise SandboxError(f"no user {ref!r} in the sandbox (known: {sorted(self.users)})")

    def user_by_email(self, email: str) -> User | None:
        """The (human) user whose email address is ``email`` (case-insensitive), if any."""
        wanted = email.strip().lower()
        return next(
            (u for u in self.users.values() if not u.is_bot and u.address.lower() == wanted), None
        )

    def add_usergroup(self, group_id: str, user_ids: Iterable[str]) -> None:
        self.usergroups[group_id] = list(user_ids)

    @staticmethod
    def channel_id_for(name: str) -> str:
        """The stable id of the channel named `name` ("#alerts" and "alerts" are the same)."""
        return "C" + _short_hash(name.removeprefix("#").lower())

    def find_channel(self, ref: str) -> Channel | None:
        """A channel by id, "#name" or "name"; None if it does not exist."""
        if ref in self.channels:
            return self.channels[ref]
        return self.channels.get(self.channel_id_for(ref))

    def ensure_channel(self, name: str) -> Channel:
        name = name.removeprefix("#").lower()
        channel_id = self.channel_id_for(name)
        if channel_id not in self.channels:
            self.channels[channel_id] = Channel(channel_id, name, int(self.wall_clock()))
            self.touch()
        return self.channels[channel_id]

    def open_dm(self, user_id: str) -> Channel:
        """The bot's DM channel with `user_id` ("D…"), created on first use."""
        user = self.users.get(user_id)
        if user is None:
            raise ApiError("user_not_found")
        channel_id = "D" + _short_hash(user_id)
        if channel_id not in self.channels:
            self.channels[channel_id] = Channel(
                channel_id, user.name, int(self.wall_clock()), is_im=True, user=user_id
            )
            self.touch()
        return self.channels[channel_id]

    def resolve_for_post(self, ref: str) -> Channel:
        """Where chat.postMessage with `channel=ref` goes: an id, a user's DM, or a name."""
        if ref in self.channels:
            return self.channels[ref]
        if ref in self.users:
            return self.open_dm(ref)
        if _ID.match(ref):
            raise ApiError("channel_not_found")
        return self.ensure_channel(ref)

    def channel_by_id(self, channel_id: str) -> Channel:
        if channel_id not in self.channels:
            raise ApiError("channel_not_found")
        return self.channels[channel_id]

    def next_ts(self) -> str:
        """A message timestamp like "1700000000.000100", strictly increasing."""
        micros = max(int(self.wall_clock() * 1_000_000), self.last_ts + 1)
        self.last_ts = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def post_message(
        self,
        channel_id: str,
        *,
        text: str,
        blocks: list[JSON] | None = None,
        thread_ts: str | None = None,
        user: str | None = None,
        attachments: list[JSON] | None = None,
        metadata: JSON | None = None,
        files: list[JSON] | None = None,
    ) -> Message:
        """Store a message (from the bot unless `user` is given); replies join their thread."""
        parent = self.messages.get((channel_id, thread_ts)) if thread_ts else None
        if parent is not None and parent.thread_ts is not None:
            parent = self.messages.get((channel_id, parent.thread_ts), parent)
        message = Message(
            channel=channel_id,
            ts=self.next_ts(),
            text=text,
            blocks=list(blocks or []),
            user=user or self.bot_user_id,
            bot_id=self.bot_id if user in (None, self.bot_user_id) else None,
            thread_ts=parent.ts if parent is not None else thread_ts,
            attachments=list(attachments or []),
            metadata=metadata,
            files=list(files or []),
        )
        self.messages[(channel_id, message.ts)] = message
        if parent is not None:
            parent.replies.append(message.ts)
        self.touch()
        return message

    def message(self, channel_id: str, ts: str) -> Message:
        found = self.messages.get((channel_id, ts))
        if found is None:
            raise ApiError("message_not_found")
        return found

    def update_message(
        self,
        channel_id: str,
        ts: str,
        *,
        text: str | None,
        blocks: list[JSON] | None,
        attachments: list[JSON] | None = None,
    ) -> Message:
        """Edit a message in place, keeping the earlier version in its history."""
        message = self.message(channel_id, ts)
        old = {"text": message.text, "blocks": message.blocks, "replaced_at": self.next_ts()}
        message.history.append(old)
        if text is not None:
            message.text = text
        if blocks is not None:
            message.blocks = list(blocks)
        if attachments is not None:
            message.attachments = list(attachments)
        message.edited += 1
        self.touch()
        return message

    def delete_message(self, channel_id: str, ts: str) -> None:
        message = self.messages.pop((channel_id, ts), None)
        if message is not None and message.thread_ts is not None:
            parent = self.messages.get((channel_id, message.thread_ts))
            if parent is not None and ts in parent.replies:
                parent.replies.remove(ts)
        self.touch()

    def channel_messages(self, channel_id: str) -> list[Message]:
        """Top-level messages of a channel (thread parents included), oldest first."""
        found = [m for (c, _), m in self.messages.items() if c == channel_id]
        return sorted((m for m in found if m.thread_ts in (None, m.ts)), key=lambda m: m.ts)

    def thread(self, channel_id: str, ts: str) -> list[Message]:
        """A thread's parent and then its replies, oldest first."""
        parent = self.message(channel_id, ts)
        return [parent] + [self.messages[(channel_id, r)] for r in parent.replies]

    def post_ephemeral(
        self,
        channel_id: str,
        user: str,
        *,
        text: str,
        blocks: list[JSON] | None = None,
        thread_ts: str | None = None,
        source: str = "chat.postEphemeral",
    ) -> Ephemeral:
        ephemeral = Ephemeral(
            channel_id, user, self.next_ts(), text, list(blocks or []), thread_ts, source
        )
        self.ephemerals.append(ephemeral)
        self.touch()
        return ephemeral

    def ephemerals_for(self, user: str, channel_id: str | None = None) -> list[Ephemeral]:
        mine = [e for e in self.ephemerals if e.user == user]
        return [e for e in mine if channel_id in (None, e.channel)]

    def find_ephemeral(self, channel_id: str, ts: str) -> Ephemeral | None:
        return next((e for e in self.ephemerals if (e.channel, e.ts) == (channel_id, ts)), None)

    def record_write(self, channel_id: str, method: str, ts: str) -> None:
        self.write_log.record(Write(self.clock(), channel_id, method, ts))

    def max_writes_per_second(self, channel: str) -> int:
        """The most accepted writes to a channel (id or name) within any one second."""
        found = self.find_channel(channel)
        return self.write_log.max_per_window(found.id if found else channel)

    def fail_next(
        self,
        method: str,
        *,
        status: int = 500,
        count: int = 1,
        retry_after: int | None = None,
        error: str | None = None,
        channel: str | None = None,
        apply: bool = False,
    ) -> None:
        """Make the next `count` calls of Web API `method` (to `channel` only, if given) fail
        with HTTP `status`; with `apply`, Slack carries each call out before failing it."""
        self.faults.add(Fault(method, status, count, retry_after, error, channel, apply))

    def start_outage(
        self,
        *,
        status: int = 503,
        seconds: float | None = None,
        retry_after: int | None = None,
        hang: float = 0.0,
        apply: bool = False,
    ) -> Outage:
        """Take the whole Web API down (see `Outage`) for `seconds`, or until `end_outage`."""
        until = None if seconds is None else self.clock() + seconds
        self.faults.outage = Outage(status, retry_after, hang, apply, until)
        self.touch()
        return self.faults.outage

    def end_outage(self) -> None:
        self.faults.outage = None
        self.touch()

    def issue_trigger(self, user: str) -> str:
        """A trigger_id for `user`, as Slack sends with an interaction (see `trigger_ttl`)."""
        return self.triggers.issue(user)

    def open_views(self, user: str | None = None) -> list[View]:
        """Open modals (of one user if given), oldest first: the last is on top."""
        return self.views.open_for(user)
