"""A group's member list in its warning's thread: every member, in as many messages as it
takes (see :func:`bot.slack.blocks.render_noise.group_list_pages`).

Each outbox row draws one message, so a long list goes out at the channel's pace like any
other delivery: the first message's row (queued on every change of the group) redraws it and
queues a row for the first later message whose text changed; that row draws it and queues the
next changed one, and so on. A later message whose text is as last drawn (its digest is
remembered) is not redrawn.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery.posting import Poster
from bot.runtime.clock import Clock
from bot.slack.blocks.render_noise import group_list_pages
from escalation.outbox_kinds import OutboxKind, OutboxPayloadError, read_group_list
from storage import outbox
from storage.db import Database
from storage.messages import find_message
from storage.noise.group_store import (
    enqueue_list_page,
    group_list_of,
    record_list_message,
    record_list_page,
)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def next_changed(drawn: Sequence[dict[str, str]], texts: Sequence[str], *, after: int) -> int:
    """The first later message (index into ``texts``, after ``after``) not drawn yet or drawn
    with another text; 0 when there is none."""
    for page in range(max(after + 1, 1), len(texts)):
        if page - 1 >= len(drawn) or drawn[page - 1].get("digest") != digest(texts[page]):
            return page
    return 0


class GroupList:
    def __init__(
        self, *, db: Database, client: AsyncWebClient, poster: Poster, clock: Clock
    ) -> None:
        self._db = db
        self._client = client
        self._poster = poster
        self._clock = clock

    async def draw(self, item: outbox.Claimed, group_id: int, *, page: int = 0) -> None:
        """Draw message ``page`` (0: the first) of the group's member list. Later rows for
        the same message, queued before it is drawn, are done by this drawing (it shows
        the group as it is now): a thousand members joining within one delivery interval
        cost one listing."""
        same = await self._same_message_rows(item, group_id, page)
        await self._draw(item, group_id, page=page)
        await outbox.mark_done(self._db, same, now=self._clock())

    async def _same_message_rows(self, item: outbox.Claimed, group_id: int, page: int) -> list[int]:
        if item.alert_id is None:
            return []
        pending = await outbox.pending_of(
            self._db, item.alert_id, OutboxKind.GROUP_LIST, after_id=item.id
        )
        same = []
        for row_id, payload in pending:
            try:
                listed = read_group_list(payload)
            except OutboxPayloadError:
                continue
            if listed["group"] == group_id and listed.get("page", 0) == page:
                same.append(row_id)
        return same

    async def _draw(self, item: outbox.Claimed, group_id: int, *, page: int) -> None:
        group = await group_list_of(self._db, group_id=group_id)
        if group is None:
            return
        message = await find_message(self._db, group.anchor_id)
        if message is None:
            raise LookupError(f"group {group_id} has no warning yet")
        texts = group_list_pages(group.summary)
        if page >= len(texts):
            return
        drawn = list(group.list_more)
        channel = group.list_channel_id or message.channel_id
        if page == 0:
            if group.list_ts is None:
                posted = await self._poster.post(
                    item,
                    channel=message.channel_id,
                    thread_ts=message.ts,
                    text=texts[0],
                    unfurl_links=False,
                )
                await record_list_message(
                    self._db, group_id=group_id, channel_id=posted.channel_id, ts=posted.ts
                )
            else:
                await self._client.chat_update(channel=channel, ts=group.list_ts, text=texts[0])
        elif page - 1 > len(drawn):
            page = 0  # an earlier message is missing: the chain below starts from it
        elif page - 1 == len(drawn) or drawn[page - 1].get("digest") != digest(texts[page]):
            ts = await self._draw_later(item, drawn, page, channel, message.ts, texts[page])
            await record_list_page(
                self._db, group_id=group_id, page=page, ts=ts, digest=digest(texts[page])
            )
            entry = {"ts": ts, "digest": digest(texts[page])}
            drawn[page - 1 : page] = [entry]
        following = next_changed(drawn, texts, after=page)
        if following:
            await enqueue_list_page(self._db, group_id=group_id, page=following, now=self._clock())

    async def _draw_later(
        self,
        item: outbox.Claimed,
        drawn: Sequence[dict[str, str]],
        page: int,
        channel: str,
        thread_ts: str,
        text: str,
    ) -> str:
        if page - 1 < len(drawn):
            ts = drawn[page - 1]["ts"]
            await self._client.chat_update(channel=channel, ts=ts, text=text)
            return ts
        posted = await self._poster.post(
            item, channel=channel, thread_ts=thread_ts, text=text, unfurl_links=False
        )
        return posted.ts
