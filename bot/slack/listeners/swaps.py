"""Swaps from Slack: ``/tocsin oncall`` offers a "Swap with…" people menu for each of the
asker's upcoming shifts; the colleague picked gets a DM with Accept / Decline. Accepting saves
an override (kind ``swap``: the colleague on call over that shift) and tells both; declining
tells the asker. Thin: the rules are the cover's (bot.slack.listeners.overrides)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.policy.access import NOT_LISTED
from bot.slack import ids
from bot.slack.acting import USER_ID, log, tell
from bot.slack.blocks.escape import mrkdwn
from bot.slack.blocks.override_blocks import SWAP_OFFERS, Blocks, Proposal, span, swap_offers
from bot.slack.blocks.override_blocks import swap_request as swap_request_blocks
from bot.slack.listeners.overrides import OverrideListeners
from escalation.oncall import shifts_between
from storage.requests import first_time

_EPOCH = re.compile(r"[0-9]{1,11}")
OFFER_DAYS = 14
"""How far ahead ``/tocsin oncall`` looks for the asker's shifts to offer for a swap."""


class SwapListeners:
    def __init__(self, overrides: OverrideListeners) -> None:
        self.overrides = overrides
        self.acting = overrides.acting

    def register(self, app: AsyncApp) -> None:
        app.action(ids.SWAP_ASK)(self.ask)
        app.action(ids.SWAP_ACCEPT)(self.accept)
        app.action(ids.SWAP_DECLINE)(self.decline)

    def offers(self, user: str, *, only: list[str]) -> Blocks:
        """ "Swap with…" menus for ``user``'s next shifts (after overrides) in each rotation."""
        now = self.acting.clock()
        blocks: Blocks = []
        for name, rotation in self.acting.directory.rotations.items():
            if only and name not in only:
                continue
            end = now + timedelta(days=OFFER_DAYS)
            mine = [
                s
                for s in shifts_between(rotation, start=now, end=end)
                if s.user == user and s.end > now
            ]
            blocks.extend(swap_offers(name, mine[:SWAP_OFFERS], rotation.timezone))
        return blocks

    async def ask(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        await ack()
        user = str(body["user"]["id"])
        action = body["actions"][0]
        colleague = str(action.get("selected_user") or "")
        shift = _shift_of(str(action.get("block_id") or ""))
        if not await self.acting.may_act(user, None, "ask for a swap"):
            await tell(respond, NOT_LISTED)
            return
        if shift is None or not USER_ID.match(colleague):
            await tell(respond, "This menu does not name a shift and a person.")
            return
        name, start, end = shift
        rotation = self.overrides.rotation(name)
        if rotation is None:
            await tell(respond, f"There is no rotation *{mrkdwn(name, 80)}* any more.")
            return
        if colleague == user:
            await tell(respond, "Pick someone else to take your shift.")
            return
        await self.acting.refresh_overrides()
        live = self.acting.directory.rotations.get(name, rotation)
        if not any(s.user == user for s in shifts_between(live, start=start, end=end)):
            await tell(respond, "That shift is no longer yours.")
            return
        nonce = str(body.get("trigger_id") or action.get("action_ts") or "")
        proposal = Proposal(name, colleague, start, end, user, nonce, replaces=user)
        problems, _, fitted = await self.overrides.check(proposal, rotation)
        if problems:
            log.warning("swap_refused", user=user, colleague=colleague, rotation=name)
            await tell(respond, ":no_entry: " + " ".join(problems))
            return
        text, blocks = swap_request_blocks(fitted, rotation.timezone)
        try:
            await client.chat_postMessage(channel=colleague, text=text, blocks=blocks)
        except SlackApiError as exc:
            log.warning("swap_request_not_sent", colleague=colleague, error=str(exc))
            await tell(respond, f"Slack would not let me ask <@{colleague}>; try again later.")
            return
        await tell(
            respond,
            f"Asked <@{colleague}> to take your *{mrkdwn(name, 80)}* shift "
            f"{span(fitted.start, fitted.end, rotation.timezone)}; you will hear back here.",
        )

    async def accept(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        await ack()
        proposal = await self._mine(body, respond)
        if proposal is None:
            return
        saved = await self.overrides.save(
            proposal, client, kind="swap", key=f"swap:{proposal.nonce}"
        )
        if isinstance(saved, str):
            await tell(respond, saved)
            return
        zone = self.overrides.rotation(proposal.rotation)
        shown = span(saved.start, saved.end, zone.timezone if zone else "UTC")
        where = f"*{mrkdwn(saved.rotation, 80)}* {shown}"
        await respond(
            text=f":white_check_mark: You take <@{proposal.maker}>'s shift on {where}.",
            blocks=[],
            replace_original=True,
        )
        await client.chat_postMessage(
            channel=proposal.maker,
            text=f":white_check_mark: <@{saved.user}> accepted: they take your shift on {where}.",
        )

    async def decline(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        await ack()
        proposal = await self._mine(body, respond)
        if proposal is None:
            return
        if not await first_time(
            self.acting.db, key=f"swap-declined:{proposal.nonce}", now=self.acting.clock()
        ):
            return
        zone = self.overrides.rotation(proposal.rotation)
        shown = span(proposal.start, proposal.end, zone.timezone if zone else "UTC")
        where = f"*{mrkdwn(proposal.rotation, 80)}* {shown}"
        log.info("swap_declined", rotation=proposal.rotation, user=proposal.user)
        await respond(text=f"You declined the shift on {where}.", blocks=[], replace_original=True)
        await client.chat_postMessage(
            channel=proposal.maker,
            text=f"<@{proposal.user}> declined to take your shift on {where}.",
        )

    async def _mine(self, body: dict[str, Any], respond: AsyncRespond) -> Proposal | None:
        """The proposal a button carries, if the one pressing is the colleague asked."""
        proposal = Proposal.decode(str(body["actions"][0].get("value") or ""))
        if proposal is None or proposal.user != str(body["user"]["id"]):
            await tell(respond, "This request is not addressed to you.")
            return None
        return proposal


def _shift_of(block_id: str) -> tuple[str, datetime, datetime] | None:
    """The rotation and shift a "Swap with…" menu's block id names."""
    if not block_id.startswith(ids.SWAP_BLOCK_PREFIX):
        return None
    start, _, rest = block_id.removeprefix(ids.SWAP_BLOCK_PREFIX).partition(":")
    end, _, name = rest.partition(":")
    if not (_EPOCH.fullmatch(start) and _EPOCH.fullmatch(end)) or not name:
        return None
    begins, ends = int(start), int(end)
    if ends <= begins:
        return None
    return name, datetime.fromtimestamp(begins, UTC), datetime.fromtimestamp(ends, UTC)
