"""The records the sandbox's Slack workspace holds: users, channels, messages, views."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]

DEFAULT_USERS: tuple[tuple[str, str, str], ...] = (  # (id, name, real name)
    ("U0ALICE", "alice", "Alice Archer"),
    ("U0BOB", "bob", "Bob Baker"),
    ("U0CAROL", "carol", "Carol Chen"),
    ("U0DAVE", "dave", "Dave Diaz"),
)


class SandboxError(ValueError):
    """A sandbox operation that Slack (or a Slack user) could not have done."""


REQUIRED_INPUT = "Please complete this required field."


class InputsMissing(SandboxError):
    """A modal submitted with required inputs empty: Slack's client refuses it itself and
    shows ``errors`` (block_id → message) under those inputs; the bot never hears of it."""

    def __init__(self, missing: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{block}/{action} is required" for block, action in missing))
        self.errors = {block: REQUIRED_INPUT for block, _ in missing}


class ApiError(Exception):
    """A Web API call that Slack answers with `{"ok": false, "error": error}`."""

    def __init__(
        self,
        error: str,
        *,
        status: int = 200,
        messages: list[str] | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.messages = messages or []
        self.retry_after = retry_after

    def to_body(self) -> JSON:
        """The JSON body Slack answers with."""
        body: JSON = {"ok": False, "error": self.error}
        if self.messages:
            body["errors"] = self.messages
            body["response_metadata"] = {"messages": [f"[ERROR] {m}" for m in self.messages]}
        return body


@dataclass
class User:
    id: str
    name: str
    real_name: str
    is_bot: bool = False
    bot_id: str | None = None
    email: str | None = None
    """What users.lookupByEmail finds the user by (default ``<name>@example.com``)."""

    @property
    def address(self) -> str:
        return self.email or f"{self.name}@example.com"

    def to_api(self, team_id: str) -> JSON:
        """The user as users.info / users.list show it."""
        return {
            "id": self.id,
            "team_id": team_id,
            "name": self.name,
            "deleted": False,
            "real_name": self.real_name,
            "tz": "Etc/UTC",
            "tz_offset": 0,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "profile": {
                "real_name": self.real_name,
                "display_name": self.name,
                "email": None if self.is_bot else self.address,
                "bot_id": self.bot_id,
                "team": team_id,
            },
        }


@dataclass
class Channel:
    id: str
    name: str
    created: int
    is_im: bool = False
    user: str | None = None  # the other party of a DM

    def to_api(self) -> JSON:
        """The channel as conversations.info shows it."""
        data: JSON = {
            "id": self.id,
            "created": self.created,
            "is_archived": False,
            "is_im": self.is_im,
            "is_private": self.is_im,
            "is_member": True,
        }
        if self.is_im:
            data.update({"user": self.user, "is_open": True})
        else:
            data.update(
                {"name": self.name, "is_channel": True, "is_group": False, "is_general": False}
            )
        return data


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    blocks: list[JSON]
    user: str
    bot_id: str | None = None
    thread_ts: str | None = None
    attachments: list[JSON] = field(default_factory=list)
    files: list[JSON] = field(default_factory=list)  # shared by files.completeUploadExternal
    edited: int = 0
    history: list[JSON] = field(default_factory=list)  # earlier versions, oldest first
    replies: list[str] = field(default_factory=list)  # ts of thread replies (parents only)
    metadata: JSON | None = None  # message metadata: {"event_type": …, "event_payload": {…}}

    def to_api(self, *, team_id: str, app_id: str, with_metadata: bool = False) -> JSON:
        """The message as chat.postMessage / conversations.history return it (the history
        methods show `metadata` only when asked with `include_all_metadata`)."""
        data: JSON = {
            "type": "message",
            "user": self.user,
            "text": self.text,
            "blocks": self.blocks,
            "ts": self.ts,
            "team": team_id,
        }
        if self.attachments:
            data["attachments"] = self.attachments
        if self.files:
            data["files"] = self.files
        if self.bot_id is not None:
            data.update({"bot_id": self.bot_id, "app_id": app_id})
        if self.thread_ts is not None:
            data["thread_ts"] = self.thread_ts
        if self.replies:
            data.update(
                {"thread_ts": self.ts, "reply_count": len(self.replies)},
                latest_reply=self.replies[-1],
            )
        if self.edited:
            data["edited"] = {"user": self.user, "ts": self.history[-1]["replaced_at"]}
        if with_metadata and self.metadata is not None:
            data["metadata"] = self.metadata
        return data


@dataclass
class Ephemeral:
    channel: str
    user: str  # who sees it
    ts: str
    text: str
    blocks: list[JSON]
    thread_ts: str | None = None
    source: str = "chat.postEphemeral"

    def to_api(self) -> JSON:
        data: JSON = {"type": "message", "text": self.text, "blocks": self.blocks, "ts": self.ts}
        if self.thread_ts is not None:
            data["thread_ts"] = self.thread_ts
        return data


@dataclass
class View:
    id: str
    user: str
    trigger_id: str
    definition: JSON  # what the bot sent: type, title, blocks, submit, close, …
    hash: str
    root_view_id: str
    previous_view_id: str | None = None
    typed: dict[str, dict[str, str]] = field(default_factory=dict)
    """What the user last typed in its inputs (block_id → action_id → value): Slack's client
    keeps it while the modal stays open — through a refused submit — until the view is
    updated."""

    @property
    def callback_id(self) -> str:
        return str(self.definition.get("callback_id", ""))

    @property
    def private_metadata(self) -> str:
        return str(self.definition.get("private_metadata", ""))

    @property
    def blocks(self) -> list[JSON]:
        blocks: list[JSON] = self.definition.get("blocks", [])
        return blocks

    def to_api(self, *, team_id: str, app_id: str, bot_id: str, state: JSON | None = None) -> JSON:
        """The view as views.open returns it and as view_submission payloads carry it."""
        data: JSON = {
            "type": "modal",
            "callback_id": "",
            "private_metadata": "",
            "external_id": "",
            "clear_on_close": False,
            "notify_on_close": False,
            "submit": None,
            "close": None,
        }
        data.update(self.definition)
        data.update(
            {
                "id": self.id,
                "team_id": team_id,
                "state": {"values": state or {}},
                "hash": self.hash,
                "previous_view_id": self.previous_view_id,
                "root_view_id": self.root_view_id,
                "app_id": app_id,
                "app_installed_team_id": team_id,
                "bot_id": bot_id,
            }
        )
        return data


@dataclass
class Fault:
    """An injected failure for the next call(s) of one Web API method."""

    method: str
    status: int
    count: int
    retry_after: int | None = None
    error: str | None = None
    channel: str | None = None
    """Only calls whose ``channel`` argument is this (as the caller wrote it: a name or id)."""
    apply: bool = False
    """Slack carries the call out, then answers with the error (its outcome looks unknown)."""

    @property
    def error_code(self) -> str:
        if self.error is not None:
            return self.error
        if self.status == 429:
            return "ratelimited"
        if self.status == 503:
            return "service_unavailable"
        return "internal_error" if self.status >= 500 else "fatal_error"


@dataclass
class ResponseUrl:
    """What a response_url given out with an interaction points at."""

    token: str
    channel: str
    user: str
    message_ts: str | None
    is_ephemeral: bool
    issued_at: float
    uses: int = 0


@dataclass
class Outage:
    """Slack down: every Web API call fails the same way until `until` (the world's clock) or
    until the outage is ended by hand.

    `status` 500/503 answers `{"ok": false}` with that status; 429 answers `ratelimited` with
    `Retry-After: retry_after`. `hang` holds each answer that many seconds first (a client
    with a shorter timeout sees no answer at all); with `apply` the call takes effect before
    the answer is held — the case where the caller cannot know whether it happened.
    """

    status: int = 503
    retry_after: int | None = None
    hang: float = 0.0
    apply: bool = False
    until: float | None = None

    @property
    def error_code(self) -> str:
        return Fault("*", self.status, 1).error_code
