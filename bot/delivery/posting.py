"""Posting to Slack at most once per outbox row, even when an attempt's outcome is unknown.

Every message Tocsin posts carries the outbox row's idempotency key in its message metadata
(``event_type`` ``tocsin_delivery``). When the previous attempt of a row may have taken effect
— the process died during it, the call timed out, Slack answered 5xx — the row is *in doubt*
and, before posting again, :class:`Poster` looks for a message carrying that key in the
channel (``conversations.history``) or the thread (``conversations.replies``) since the row
was written. Found: that message is the delivery. Not found: post.

One message may stand for several rows (a page DM naming several alerts): it then carries
every row's key (``outbox_keys``), so each row, whichever attempt finds it, knows it was sent
— the rows of one message need not be retried together. A delivery may carry more in its
metadata (``note``): what the message covered, read back from the message found
(``Posted.note``) when the attempt that posted it never heard back.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
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


OUTBOX_KEY, OUTBOX_KEYS = "outbox_key", "outbox_keys"


def delivery_metadata(
    key: str, note: Mapping[str, Any] | None = None, *, also: Sequence[str] = ()
) -> dict[str, Any]:
    """The metadata of a message delivering the row ``key`` (and the rows ``also``)."""
    payload: dict[str, Any] = {**(note or {}), OUTBOX_KEY: key}
    payload.pop(OUTBOX_KEYS, None)
    if also:
        payload[OUTBOX_KEYS] = [key, *also]
    return {"event_type": METADATA_EVENT, "event_payload": payload}


def keys_of(message: Mapping[str, Any]) -> set[str]:
    """The outbox keys ``message`` delivers: none unless it carries our metadata."""
    metadata = message.get("metadata") or {}
    payload = metadata.get("event_payload") or {}
    if metadata.get("event_type") != METADATA_EVENT:
        return set()
    listed = payload.get(OUTBOX_KEYS)
    keys = {k for k in listed if isinstance(k, str)} if isinstance(listed, list) else set()
    if isinstance(payload.get(OUTBOX_KEY), str):
        keys.add(payload[OUTBOX_KEY])
    return keys


@dataclass(frozen=True, slots=True)
class Posted:
    channel_id: str
    ts: str
    found: bool
    """True when an earlier attempt's message was found instead of posting again."""
    note: dict[str, Any] = field(default_factory=dict)
    """The ``note`` that message carries (see :meth:`Poster.post`): what *it* covered, which
    may be less than this attempt would have."""


def already_posted(item: Claimed, found: Posted) -> None:
    log.info(
        "delivery_already_posted",
        outbox_id=item.id,
        alert_id=item.alert_id,
        kind=item.kind,
        channel=found.channel_id,
        ts=found.ts,
    )


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
            if found is not None:
                already_posted(item, found)
                return found
        return await self.send(
            item.idempotency_key,
            channel=channel,
            text=text,
            blocks=blocks,
            thread_ts=thread_ts,
            note=note,
            **extra,
        )

    async def send(
        self,
        key: str,
        *,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        note: Mapping[str, Any] | None = None,
        also: Sequence[str] = (),
        **extra: Any,
    ) -> Posted:
        """Post a message delivering the row ``key`` (and the rows ``also``), without looking
        first: the caller has looked for any row that was in doubt."""
        response = await self._client.chat_postMessage(
            channel=channel,
            text=text,
            blocks=blocks,
            thread_ts=thread_ts,
            metadata=delivery_metadata(key, note, also=also),
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
        found = await self.find_keys([key], channel=channel, since=since, thread_ts=thread_ts)
        return found.get(key)

    async def find_keys(
        self,
        keys: Collection[str],
        *,
        channel: str,
        since: datetime,
        thread_ts: str | None = None,
    ) -> dict[str, Posted]:
        """The messages carrying any of ``keys`` posted to ``channel`` (or to the thread
        ``thread_ts`` there) since ``since``, by key, from one reading of the history."""
        found = await self._scan(set(keys), channel=channel, since=since, thread_ts=thread_ts)
        for key in keys:
            self._count("found" if key in found else "not_found")
        return found

    async def _scan(
        self, keys: set[str], *, channel: str, since: datetime, thread_ts: str | None
    ) -> dict[str, Posted]:
        found: dict[str, Posted] = {}
        channel_id = await self.channel_id(channel) if keys else None
        if channel_id is None:
            return found  # no such channel visible: nothing was posted there
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
                for key in (keys_of(message) & keys) - found.keys():
                    note = dict(message["metadata"]["event_payload"])
                    note.pop(OUTBOX_KEY, None)
                    note.pop(OUTBOX_KEYS, None)
                    found[key] = Posted(channel_id, str(message["ts"]), found=True, note=note)
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if cursor is None or found.keys() >= keys:
                return found
        log.warning(
            "delivery_lookup_incomplete", keys=sorted(keys - found.keys()), channel=channel_id
        )
        return found  # a duplicate is better than a page never sent

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
