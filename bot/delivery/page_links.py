"""The link from a page to its warning, added by an edit when the page went first.

A page never waits for its channel, so it is often in the person's DM before the warning is
in the channel. Such a page names the channel; once the warning is posted, the page message
is redrawn with a link to it ("open the warning"). An edit notifies no one, which is right:
the page already rang. The edit is an outbox row of its own (``page_link``), paced in the
page's conversation like every other write there. Links are asked of Slack
(``chat.getPermalink``) once per warning and kept. A link that cannot be had is not an error
of the page or of the warning: it is logged and the message keeps naming the channel.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.runtime.clock import Clock
from bot.slack.blocks.render_pages import PageLine, page_dms
from escalation.model import AlertView
from storage import page_links
from storage.db import Database
from storage.messages import find_message
from storage.noise.group_store import warning_for
from storage.page_links import NamedAlert

log = structlog.get_logger("tocsin.outbox")


class PageLinks:
    def __init__(
        self,
        *,
        db: Database,
        client: AsyncWebClient,
        clock: Clock,
        view: Callable[[int], Awaitable[AlertView]],
    ) -> None:
        self._db = db
        self._client = client
        self._clock = clock
        self._view = view

    async def kept_link(self, alert_id: int) -> str | None:
        """The warning's link if it is known already (no call to Slack: a page must not wait
        for one); ``None`` otherwise — the page is then linked by a later edit."""
        message_id, _, _ = await warning_for(self._db, alert_id=alert_id)
        message = await find_message(self._db, message_id)
        return message.permalink if message is not None and message.permalink else None

    async def link_of(self, alert_id: int) -> str | None:
        """The link to the warning that shows ``alert_id`` (its group's, for a member), or
        ``None`` while there is none."""
        message_id, _, _ = await warning_for(self._db, alert_id=alert_id)
        message = await find_message(self._db, message_id)
        if message is None:
            return None
        if message.permalink:
            return message.permalink
        try:
            answer = await self._client.chat_getPermalink(
                channel=message.channel_id, message_ts=message.ts
            )
        except SlackApiError as exc:
            log.warning("warning_link_unavailable", alert_id=alert_id, error=str(exc))
            return None
        link = str(answer.get("permalink") or "")
        if not link:
            return None
        await page_links.keep_permalink(self._db, message_id, link)
        return link

    async def remember(
        self, *, lane: str, channel_id: str, ts: str, named: Sequence[NamedAlert]
    ) -> None:
        """A page message was posted in ``lane`` naming these alerts (some without a link).
        For those whose warning is in the channel already (its link was not known yet), the
        edit that links it is queued now; for the others, when their warning is posted."""
        await page_links.remember(
            self._db, lane=lane, channel_id=channel_id, ts=ts, named=named, now=self._clock()
        )
        for n in named:
            if n.linked:
                continue
            message_id, _, _ = await warning_for(self._db, alert_id=n.alert_id)
            if await find_message(self._db, message_id) is not None:
                await page_links.link_when_posted(
                    self._db, n.alert_id, now=self._clock(), message=(channel_id, ts)
                )

    async def after_warning(self, alert_id: int) -> None:
        """The alert's warning was just posted: queue an edit of each page that named it
        without a link (in the page's own conversation, at its pace). Never raises: the
        warning is delivered whatever becomes of its pages' links."""
        try:
            await page_links.link_when_posted(self._db, alert_id, now=self._clock())
        except Exception:
            log.exception("page_link_failed", alert_id=alert_id)

    async def redraw(self, channel_id: str, ts: str) -> None:
        """Redraw a page message with the links of the warnings that exist now."""
        named = await page_links.named_by(self._db, channel_id, ts)
        if not named:
            return
        lines, linked = [], []
        for n in named:
            link = await self.link_of(n.alert_id)
            if link is not None:
                linked.append(n.alert_id)
            view = await self._view(n.alert_id)
            lines.append(PageLine(view, n.tier, n.rule, n.rotation, link))
        text, blocks = page_dms(lines)
        await self._client.chat_update(channel=channel_id, ts=ts, text=text, blocks=blocks)
        await page_links.mark_linked(self._db, channel_id, ts, linked)
        log.info("page_linked", channel_id=channel_id, ts=ts, alerts=linked)
