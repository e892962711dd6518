"""What each kind of outbox row does in Slack (or at an outbound webhook)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, assert_never

import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery.group_list import GroupList
from bot.delivery.outbound import OutboundPager, OutboundTarget, page_payload
from bot.delivery.page_links import PageLinks
from bot.delivery.posting import Posted, Poster, already_posted
from bot.delivery.slack_health import outcome_unknown
from bot.runtime.clock import Clock
from bot.slack.blocks.render import notification_text, warning_blocks
from bot.slack.blocks.render_pages import (
    PageLine,
    approval_closed,
    approval_request,
    page_dm,
    page_dms,
    reminder,
)
from bot.slack.blocks.render_record import follow_up_reminder, thread_message
from escalation.model import AlertView, LevelSpec, Status
from escalation.outbox_kinds import (
    ApprovalClosePayload,
    ApprovalRequestPayload,
    OutboxKind,
    PageWebhookPayload,
    read_approval_close,
    read_approval_request,
    read_follow_up_reminder,
    read_group_list,
    read_page_channel,
    read_page_dm,
    read_page_link,
    read_page_webhook,
    read_reminder,
    read_thread_lines,
    read_thread_note,
)
from storage import outbox
from storage.alerts import read_view
from storage.db import Database
from storage.intake.mirrors import mirrors_of, record_mirror_posted
from storage.messages import find_message, record_posted
from storage.noise.group_store import message_alert_of, warning_for
from storage.page_links import NamedAlert
from storage.record.approvals import approval_messages, record_approval_message
from storage.record.follow_ups import get_follow_up
from storage.tables import AlertMirrorRow
from storage.timeline import pending_thread_lines, set_thread_count

log = structlog.get_logger("tocsin.outbox")
PAGED_ROWS = "paged_rows"
"""What a page DM naming several alerts said it stood for in earlier builds, before it listed
every row's key (``posting.OUTBOX_KEYS``): the ``page_dm`` rows' ids. Still read, so a row in
doubt across an upgrade is not paged twice."""
LINES_THROUGH, THREAD_COUNT = "lines_through", "thread_count"
"""What a thread reply's metadata says it covered: the last ``thread_lines`` row (the rows of
an alert are sent in id order, so every pending row up to it) and the fire count it told."""


def covered_by(note: Mapping[str, Any], pending: list[int], *, count: int) -> tuple[list[int], int]:
    """The pending rows (of ``pending``) and the fire count a reply found in Slack covered,
    from its ``note``. A reply without one (posted before notes were kept) covers no later
    row for sure: they are posted again — a line said twice rather than a line lost."""
    through, told = note.get(LINES_THROUGH), note.get(THREAD_COUNT)
    rows = [row_id for row_id in pending if isinstance(through, int) and row_id <= through]
    return rows, told if isinstance(told, int) else count


class Deliveries:
    def __init__(
        self,
        *,
        db: Database,
        client: AsyncWebClient,
        levels: Mapping[int, LevelSpec],
        clock: Clock,
        pager: OutboundPager | None = None,
        webhooks: Mapping[str, OutboundTarget] | None = None,
        recent_days: int = 30,
        poster: Poster | None = None,
    ) -> None:
        self._recent_days = recent_days
        self._db = db
        self._client = client
        self._poster = poster or Poster(client)
        self._levels = levels
        self._clock = clock
        self._pager = pager
        self._webhooks = webhooks or {}
        self._group_lists = GroupList(db=db, client=client, poster=self._poster, clock=clock)
        self._links = PageLinks(db=db, client=client, clock=clock, view=self._view)

    async def probe(self) -> None:
        """One cheap Slack call: does Slack answer again?"""
        await self._client.auth_test()

    async def deliver(self, item: outbox.Claimed) -> None:
        """Deliver one row. A payload its kind cannot read raises ``OutboxPayloadError``; a
        kind this version does not know (a newer version wrote it) raises ``ValueError``:
        either way the row stays in the outbox and is tried again later."""
        alert_id = item.alert_id
        if alert_id is None:
            raise ValueError(f"outbox row {item.id} of kind {item.kind} has no alert")
        kind = OutboxKind.of(item.kind)
        if kind is None:
            raise ValueError(f"unknown outbox kind {item.kind!r}")
        # Exhaustive: mypy fails on a kind that has no case here (assert_never).
        match kind:
            case OutboxKind.POST_WARNING | OutboxKind.UPDATE_WARNING:
                await self._draw(item, alert_id)
            case OutboxKind.THREAD_LINES:
                await self._thread_lines(item, alert_id)
            case OutboxKind.FOLLOW_UP_REMINDER:
                await self._follow_up_reminder(item)
            case OutboxKind.GROUP_LIST:
                listed = read_group_list(item.payload)
                await self._group_lists.draw(item, listed["group"], page=listed.get("page", 0))
            case OutboxKind.THREAD_NOTE:
                note = read_thread_note(item.payload)
                await self._thread(item, alert_id, note["text"])
            case OutboxKind.PAGE_DM:
                await self.deliver_pages([item])
            case OutboxKind.PAGE_CHANNEL:
                paged = read_page_channel(item.payload)
                link = await self._links.kept_link(alert_id)
                text, blocks = page_dm(
                    await self._view(alert_id),
                    tier=paged["tier"],
                    rule=paged["rule"],
                    rotation=None,
                    link=link,
                )
                posted = await self._poster.post(
                    item, channel=paged["channel"], text=text, blocks=blocks, unfurl_links=False
                )
                named = [NamedAlert(alert_id, paged["tier"], paged["rule"], None, bool(link))]
                await self._links.remember(
                    lane=paged["channel"], channel_id=posted.channel_id, ts=posted.ts, named=named
                )
            case OutboxKind.PAGE_WEBHOOK:
                hook = read_page_webhook(item.payload)
                await self._webhook(item, await self._view(alert_id), hook)
            case OutboxKind.APPROVAL_REQUEST:
                asked = read_approval_request(item.payload)
                await self._ask(item, await self._view(alert_id), asked)
            case OutboxKind.APPROVAL_CLOSE:
                closed = read_approval_close(item.payload)
                await self._close_approval(await self._view(alert_id), closed)
            case OutboxKind.PAGE_LINK:
                pending = read_page_link(item.payload)
                await self._links.redraw(pending["channel_id"], pending["ts"])
            case OutboxKind.REMINDER:
                user = read_reminder(item.payload)["user"]
                view = await self._view(alert_id)
                text = reminder(view, deadline=view.owner_deadline_at)
                await self._dm(item, user, text, None)
            case _:
                assert_never(kind)

    async def deliver_pages(self, items: list[outbox.Claimed]) -> list[int]:
        """Page one person: one new DM naming each alert of the ``page_dm`` rows due together
        for that user (most urgent first), so the person hears of all of them within Slack's
        pace of a message a second. Each alert links its warning when its link is known
        already; the others are linked by a paced edit later (``PageLinks``), so a page never
        waits for a call to Slack other than its own. Rows whose earlier attempt may have
        posted (in doubt) are looked for first, all in one reading of the DM: those found
        are not named again, whichever message of which attempt named them. Returns the
        rows delivered: all of them."""
        user = read_page_dm(items[0].payload)["user"]
        channel = await self._dm_channel(user)
        done = await self._paged_already(items, channel)
        items = [item for item in items if item.id not in done]
        if not items:
            return done
        lines = []
        for item in items:
            dm = read_page_dm(item.payload)
            alert_id = item.alert_id or 0
            view = await self._view(alert_id)
            link = await self._links.kept_link(alert_id)
            lines.append(PageLine(view, dm["tier"], dm["rule"], dm.get("rotation"), link))
        lines.sort(key=lambda line: line.alert.level.number)  # the most urgent first
        text, blocks = page_dms(lines)
        posted = await self._poster.send(
            items[0].idempotency_key,
            channel=channel,
            text=text,
            blocks=blocks,
            unfurl_links=False,
            also=[item.idempotency_key for item in items[1:]],
        )
        await self._links.remember(
            lane=f"dm:{user}",
            channel_id=posted.channel_id,
            ts=posted.ts,
            named=[
                NamedAlert(line.alert.id, line.tier, line.rule, line.rotation, bool(line.link))
                for line in lines
            ],
        )
        return done + [item.id for item in items]

    async def _paged_already(self, items: list[outbox.Claimed], channel: str) -> list[int]:
        """The rows of ``items`` an earlier attempt's DM in ``channel`` named."""
        doubtful = [item for item in items if item.in_doubt]
        if not doubtful:
            return []
        found = await self._poster.find_keys(
            [item.idempotency_key for item in doubtful],
            channel=channel,
            since=min(item.created_at for item in doubtful),
        )
        named: set[int] = set()
        for posted in found.values():  # a DM posted before keys were listed names row ids
            listed = posted.note.get(PAGED_ROWS)
            if isinstance(listed, list):
                named.update(n for n in listed if isinstance(n, int))
        done = []
        for item in items:
            message = found.get(item.idempotency_key)
            if message is not None:
                already_posted(item, message)
            if message is not None or item.id in named:
                done.append(item.id)
        return done

    async def _view(self, alert_id: int) -> AlertView:
        view = await read_view(
            self._db, alert_id=alert_id, levels=self._levels, recent_days=self._recent_days
        )
        if view is None:
            raise LookupError(f"alert {alert_id} does not exist")
        return view

    async def _dm(
        self, item: outbox.Claimed, user: str, text: str, blocks: list[dict[str, Any]] | None
    ) -> Posted:
        return await self._poster.post(
            item,
            channel=await self._dm_channel(user),
            text=text,
            blocks=blocks,
            unfurl_links=False,
        )

    async def _dm_channel(self, user: str) -> str:
        opened = await self._client.conversations_open(users=user)
        return str(opened["channel"]["id"])

    async def _thread(self, item: outbox.Claimed, alert_id: int, text: str) -> None:
        message_id = await message_alert_of(self._db, alert_id=alert_id)
        message = await find_message(self._db, message_id)
        if message is None:
            raise LookupError(f"alert {alert_id} has no Slack message yet")
        await self._poster.post(
            item,
            channel=message.channel_id,
            thread_ts=message.ts,
            text=text,
            unfurl_links=False,
            unfurl_media=False,
        )

    async def _webhook(
        self, item: outbox.Claimed, view: AlertView, hook: PageWebhookPayload
    ) -> None:
        name = hook["webhook"]
        target = self._webhooks.get(name)
        if target is None or self._pager is None:
            raise LookupError(f"no outbound webhook named {name!r} is configured")
        body = page_payload(
            alert_id=view.id,
            title=view.title,
            level=view.level.number,
            level_name=view.level.name,
            tier=hook["tier"] + 1,
            rule=hook["rule"],
            url=None,
            status=view.status.value,
        )
        await self._pager.send(target, payload=body, idempotency_key=f"tocsin-outbox-{item.id}")

    async def _ask(
        self, item: outbox.Claimed, view: AlertView, asked: ApprovalRequestPayload
    ) -> None:
        approver, seq = asked["approver"], asked["seq"]
        text, blocks = approval_request(
            view, seq=seq, tier=asked["tier"], reason=asked["reason"], requested_by=asked["by"]
        )
        posted = await self._dm(item, approver, text, blocks)
        await record_approval_message(
            self._db,
            alert_id=view.id,
            seq=seq,
            approver=approver,
            channel_id=posted.channel_id,
            ts=posted.ts,
        )

    async def _close_approval(self, view: AlertView, closed: ApprovalClosePayload) -> None:
        seq, outcome = closed["seq"], closed["outcome"]
        text, blocks = approval_closed(view, tier=view.approval_tier, outcome=outcome)
        for message in await approval_messages(self._db, alert_id=view.id, seq=seq):
            await self._client.chat_update(
                channel=message.channel_id, ts=message.ts, text=text, blocks=blocks
            )

    async def _draw(self, item: outbox.Claimed, alert_id: int) -> None:
        """Post or redraw the warning from current state. A grouped alert redraws its group's
        warning; only ``post_warning`` of the warning's own alert ever posts (an update of a
        warning never posted — a silenced or grouped alert — has nothing to update)."""
        redundant = await outbox.pending_update_ids(self._db, alert_id, after_id=item.id)
        message_id, view_id, group = await warning_for(self._db, alert_id=alert_id)
        view = await self._view(view_id)
        if group is not None and len(group.members) > 1:
            view = replace(view, group=group)
        text, blocks = notification_text(view), warning_blocks(view)
        message = await find_message(self._db, message_id)
        if message is None:
            if item.kind != OutboxKind.POST_WARNING or message_id != alert_id:
                log.info("warning_not_shown", alert_id=alert_id, status=view.status.value)
                # Nor are its copies (routes with ``continue``): a silenced alert shows nowhere.
                await outbox.mark_done(self._db, redundant, now=self._clock())
                return
            else:
                posted = await self._post_current(item, view.channel, text, blocks)
                await record_posted(
                    self._db,
                    alert_id=alert_id,
                    channel_id=posted.channel_id,
                    ts=posted.ts,
                    now=self._clock(),
                )
                log.info("warning_posted", alert_id=alert_id, channel=view.channel)
                await self._links.after_warning(alert_id)
        else:
            await self._client.chat_update(
                channel=message.channel_id, ts=message.ts, text=text, blocks=blocks
            )
            log.info("warning_updated", alert_id=alert_id, status=view.status.value)
        await self._draw_mirrors(item, view, text)
        await outbox.mark_done(self._db, redundant, now=self._clock())

    async def _thread_lines(self, item: outbox.Claimed, alert_id: int) -> None:
        """Every timeline line pending for the alert, in one reply in its warning's thread.

        Lines of an alert shown on another's warning (a group member: the group's member
        list in that thread says how it stands) or never shown (silenced) stay in the
        timeline only."""
        later = await pending_thread_lines(self._db, alert_id, after_id=item.id)
        message_id = await message_alert_of(self._db, alert_id=alert_id)
        message = await find_message(self._db, message_id)
        view = await self._view(alert_id)
        if message_id != alert_id or (message is None and view.status is Status.SILENCED):
            log.info("thread_lines_not_shown", alert_id=alert_id)
            await outbox.mark_done(self._db, [i for i, _ in later], now=self._clock())
            return
        if message is None:
            raise LookupError(f"alert {alert_id} has no Slack message yet")
        payloads = [read_thread_lines(item.payload), *(payload for _, payload in later)]
        text = thread_message(payloads, shown=message.thread_count, count=view.count)
        covered = [row_id for row_id, _ in later]
        posted = await self._poster.post(
            item,
            channel=message.channel_id,
            thread_ts=message.ts,
            text=text,
            unfurl_links=False,
            unfurl_media=False,
            note={LINES_THROUGH: covered[-1] if covered else item.id, THREAD_COUNT: view.count},
        )
        count = view.count
        if posted.found:
            # An earlier attempt posted this reply: it holds the lines pending *then*; lines
            # queued since (a later tier stepped meanwhile) stay pending, for the next reply.
            covered, count = covered_by(posted.note, covered, count=message.thread_count)
        if count != message.thread_count:
            await set_thread_count(self._db, alert_id, count)
        await outbox.mark_done(self._db, covered, now=self._clock())

    async def _follow_up_reminder(self, item: outbox.Claimed) -> None:
        found = await get_follow_up(self._db, read_follow_up_reminder(item.payload)["follow_up_id"])
        if found is None or found.done_at is not None:
            return  # done since the reminder was queued: nothing to say
        text, blocks = follow_up_reminder(found, now=self._clock())
        await self._dm(item, found.owner, text, blocks)

    async def _post_current(
        self, item: outbox.Claimed, channel: str, text: str, blocks: list[dict[str, Any]]
    ) -> Posted:
        """Post a warning (or its copy) drawn from the current state; when an earlier attempt
        of ``item`` turns out to have posted it, redraw that message instead."""
        posted = await self._poster.post(
            item, channel=channel, text=text, blocks=blocks, unfurl_links=False
        )
        if posted.found:
            await self._client.chat_update(
                channel=posted.channel_id, ts=posted.ts, text=text, blocks=blocks
            )
        return posted

    async def _draw_mirrors(self, item: outbox.Claimed, view: AlertView, text: str) -> None:
        """Post or redraw the copies in the channels of routes matched with ``continue``."""
        mirrors = await mirrors_of(self._db, view.id)
        if not mirrors:
            return
        blocks = warning_blocks(view, mirror=True)
        for mirror in mirrors:
            try:
                await self._draw_mirror(item, view.id, mirror, text, blocks)
            except SlackApiError as exc:
                if outcome_unknown(exc):
                    # Slack may have posted the copy: the row is retried in doubt, and the
                    # retry looks for the copy before posting it (a few seconds' wait for
                    # the alert's pages, against a copy posted twice)
                    raise
                # A copy Slack refuses must never hold up the alert's own deliveries (pages
                # come after this row in the alert's outbox order); the next redraw tries it.
                log.warning(
                    "mirror_failed",
                    alert_id=view.id,
                    channel=mirror.channel,
                    error=str(exc.response.get("error", exc)),
                )

    async def _draw_mirror(
        self,
        item: outbox.Claimed,
        alert_id: int,
        mirror: AlertMirrorRow,
        text: str,
        blocks: list[dict[str, Any]],
    ) -> None:
        if mirror.ts is None or mirror.channel_id is None:
            # The copy carries a key of its own, derived from the row drawing it: when that
            # row's attempt is in doubt (it may have posted the copy before the process died
            # or the answer was lost), the copy is looked for before it is posted again.
            copy = replace(item, idempotency_key=f"{item.idempotency_key}:copy:{mirror.channel}")
            posted = await self._post_current(copy, mirror.channel, text, blocks)
            await record_mirror_posted(
                self._db,
                alert_id=alert_id,
                channel=mirror.channel,
                channel_id=posted.channel_id,
                ts=posted.ts,
                now=self._clock(),
            )
        else:
            await self._client.chat_update(
                channel=mirror.channel_id, ts=mirror.ts, text=text, blocks=blocks
            )
