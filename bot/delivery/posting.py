"""Posting to Slack at most once per outbox row, even when an attempt's outcome is unknown.

Every message Tocsin posts carries the outbox row's idempotency key in its message metadata
(``event_type`` ``tocsin_delivery``). When the previous attempt of a row may have taken effect
— the process died during it, the call timed out, Slack answered 5xx — the row is *in doubt*
and, before posting again, :class:`Poster` looks for a message carrying that key in the
channel (``conversations.history``) or the thread (``conversations.replies``) since the row
was written. Found: that message is the delivery. Not found: post.

A delivery may carry more in its metadata (``note``): what the message covered, read back
from the message found (``Posted.note``) when the attempt that posted it never heard back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from slack_sdk.web.async_client import AsyncWebClient

from bot.runtime.metrics import Metrics
from storage.outbox import Claimed

log = structlog.get_logger("tocsin.outbox")
METADATA_EVENT = "tocsin_delivery"
CLOCK_MARGIN = timedelta(minutes=10)
"""How far before the row was written to look (clock skew between Tocsin and Slack)."""
MAX_PAGES = 10
PAGE = 200


def delivery_metadata(key: str, note: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {"event_type": METADATA_EVENT, "event_payload": {**(note or {}), "outbox_key": key}}


def carries_key(message: dict[str, Any], key: str) -> bool:
    metadata = message.get("metadata") or {}
    payload = metadata.get("event_payload") or {}
    return bool(metadata.get("event_type") == METADATA_EVENT and payload.get("outbox_key") == key)


@dataclass(frozen=True, slots=True)
class Posted:
    channel_id: str
    ts: str
    found: bool
    """True when an earlier attempt's message was found instead of posting again."""
    note: dict[str, Any] = field(default_factory=dict)
    """The ``note`` that message carries (see :meth:`Poster.post`): what *it* covered, which
    may be less than this attempt would have."""


class Poster:
    def __init__(self, client: AsyncWebClient, *, metrics: Metrics | None = None) -> None:
        self._client = client
        self._metrics = metrics
        self._channel_ids: dict[str, str] = {}

    async def post(
        self,
        item: Claimed,
        *,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        note: Mapping[str, Any] | None = None,
        **extra: Any,
    ) -> Posted:
        """Post for ``item``, or find what an earlier attempt of it posted. ``note`` goes in
        the message's metadata, so a later attempt that finds it knows what it covered."""
        if item.in_doubt:
            found = await self.find(item, channel=channel, thread_ts=thread_ts)
            self._count("found" if found else "not_found")
            if found is not None:
                log.info(
                    "delivery_already_posted",
                    outbox_id=item.id,
                    alert_id=item.alert_id,
                    kind=item.kind,
                    channel=found.channel_id,
                    ts=found.ts,
                )
                return found
        response = await self._client.chat_postMessage(
            channel=channel,
            text=text,
            blocks=blocks,
            thread_ts=thread_ts,
            metadata=delivery_metadata(item.idempotency_key, note),
            **extra,
        )
        channel_id = str(response["channel"])
        if not channel_id.startswith("D"):
            self._channel_ids.setdefault(channel, channel_id)
        return Posted(channel_id, str(response["ts"]), found=False)

    async def find(
        self, item: Claimed, *, channel: str, thread_ts: str | None = None
    ) -> Posted | None:
        """The message an earlier attempt of ``item`` posted, if there is one."""
        return await self.find_key(
            item.idempotency_key, channel=channel, since=item.created_at, thread_ts=thread_ts
        )

    async def find_key(
        self, key: str, *, channel: str, since: datetime, thread_ts: str | None = None
    ) -> Posted | None:
        """A message carrying ``key`` (see :func:`delivery_metadata`) posted to ``channel`` (or
        to the thread ``thread_ts`` there) since ``since``, if there is one."""
        channel_id = await self.channel_id(channel)
        if channel_id is None:
            return None  # no such channel visible: nothing was posted there
        oldest = f"{(since - CLOCK_MARGIN).timestamp():.6f}"
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            args: dict[str, Any] = {
                "channel": channel_id,
                "oldest": oldest,
                "include_all_metadata": True,
                "limit": PAGE,
            }
            if cursor:
                args["cursor"] = cursor
            if thread_ts is None:
                response = await self._client.conversations_history(**args)
            else:
                response = await self._client.conversations_replies(ts=thread_ts, **args)
            for message in response.get("messages") or []:
                if carries_key(message, key):
                    note = dict(message["metadata"]["event_payload"])
                    note.pop("outbox_key", None)
                    return Posted(channel_id, str(message["ts"]), found=True, note=note)
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if cursor is None:
                return None
        log.warning("delivery_lookup_incomplete", key=key, channel=channel_id)
        return None  # a duplicate is better than a page never sent

    async def channel_id(self, channel: str) -> str | None:
        """A channel id for a channel id, a user id (their DM) or a ``#name``."""
        if channel in self._channel_ids:
            return self._channel_ids[channel]
        if channel.startswith("U") or channel.startswith("W"):
            opened = await self._client.conversations_open(users=channel)
            return str(opened["channel"]["id"])
        if not channel.startswith("#"):
            return channel
        name = channel.removeprefix("#").lower()
        cursor: str | None = None
        while True:
            args: dict[str, Any] = {
                "types": "public_channel,private_channel",
                "exclude_archived": True,
                "limit": 1000,
            }
            if cursor:
                args["cursor"] = cursor
            response = await self._client.conversations_list(**args)
            for found in response.get("channels") or []:
                if str(found.get("name", "")).lower() == name:
                    self._channel_ids[channel] = str(found["id"])
                    return str(found["id"])
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if cursor is None:
                return None

    def _count(self, result: str) -> None:
        if self._metrics is not None:
            self._metrics.in_doubt_lookups.labels(result=result).inc()
