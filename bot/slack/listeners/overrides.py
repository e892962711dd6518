"""On-call overrides from Slack: ``/tocsin cover`` (echoed back with Confirm / Cancel before
anything is saved), ``/tocsin overrides`` (each with Cancel). Thin: parse and check with the
pure rules (escalation.cover_time, escalation.cover_rules), save through storage.overrides,
answer privately, post every change to the rotation's channel."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.policy.access import NOT_LISTED
from bot.slack import ids
from bot.slack.acting import Acting, log, number, tell
from bot.slack.blocks.escape import mrkdwn
from bot.slack.blocks.override_blocks import (
    Blocks,
    Proposal,
    cover_preview,
    describe,
    overlap_note,
    overrides_list,
    span,
)
from escalation.cover_rules import CoverRequest, check_cover
from escalation.cover_time import USAGE, PeriodError, parse_period
from escalation.oncall import Rotation
from storage.overrides import (
    NewOverride,
    StoredOverride,
    cancel_override,
    find_override,
    overrides_ending_after,
    save_override,
)

VERBS = ("cover", "overrides")
COVER_USAGE = f"Usage: `/tocsin cover <rotation> [@person] <from> <until|for> …`. {USAGE}"
_MENTION = re.compile(r"<@([UW][A-Z0-9]{2,20})(?:\|[^>]*)?>")
Answer = tuple[str, Blocks | None]


class OverrideListeners:
    def __init__(self, acting: Acting, *, channels: Mapping[str, str]) -> None:
        self.acting = acting
        self.channels = channels

    def register(self, app: AsyncApp) -> None:
        app.action(ids.COVER_CONFIRM)(self.confirm)
        app.action(ids.COVER_DISMISS)(self.dismiss)
        app.action(ids.OVERRIDE_CANCEL)(self.cancel)

    # --- shared with swaps ----------------------------------------------------------------

    def rotation(self, name: str) -> Rotation | None:
        return self.acting.directory.policy_rotations.get(name)

    def may_name_others(self, user: str) -> bool:
        access = self.acting.access
        return (
            access.may_manage_on_call(user)
            if access is not None
            else self.acting.directory.has_role(user, "admin")
        )

    async def check(
        self, proposal: Proposal, rotation: Rotation
    ) -> tuple[list[str], str, Proposal]:
        """Refusals (empty when it may be saved), the overlap note, and the proposal with its
        start moved to now when the period has begun."""
        now = self.acting.clock()
        existing = await overrides_ending_after(self.acting.db, now, rotation=rotation.name)
        result = check_cover(
            CoverRequest(
                rotation=rotation.name,
                members=rotation.members,
                maker=proposal.maker,
                user=proposal.user,
                start=proposal.start,
                end=proposal.end,
                may_name_others=self.may_name_others(proposal.maker),
            ),
            now=now,
            existing=[o.as_existing() for o in existing],
        )
        fitted = Proposal(
            rotation=proposal.rotation,
            user=proposal.user,
            start=result.start,
            end=result.end,
            maker=proposal.maker,
            nonce=proposal.nonce,
            replaces=proposal.replaces,
        )
        return list(result.problems), overlap_note(result.overlaps, rotation.timezone), fitted

    async def save(
        self, proposal: Proposal, client: AsyncWebClient, *, kind: str, key: str
    ) -> StoredOverride | str:
        """Check again and save; the override, or why not (as a sentence)."""
        rotation = self.rotation(proposal.rotation)
        if rotation is None:
            return f"There is no rotation *{mrkdwn(proposal.rotation, 80)}* any more."
        problems, _, fitted = await self.check(proposal, rotation)
        if problems:
            return ":no_entry: " + " ".join(problems)
        new = NewOverride(
            rotation=fitted.rotation,
            user=fitted.user,
            start=fitted.start,
            end=fitted.end,
            kind=kind,
            made_by=fitted.maker,
            replaces=fitted.replaces,
        )
        saved = await save_override(self.acting.db, new, now=self.acting.clock(), request_key=key)
        if saved is None:
            return "This was already saved."
        log.info("override_saved", id=saved.id, rotation=saved.rotation, kind=kind)
        await self.acting.refresh_overrides()
        await self.announce(
            client,
            saved.rotation,
            f":calendar: Override saved: {describe(saved, rotation.timezone)}",
        )
        return saved

    async def announce(self, client: AsyncWebClient, rotation: str, text: str) -> None:
        channel = self.channels.get(rotation)
        if not channel:
            return
        try:
            await client.chat_postMessage(channel=channel, text=text)
        except Exception as exc:  # the change is saved; a failed notice is only logged
            log.warning("override_notice_failed", rotation=rotation, error=str(exc))

    # --- /tocsin cover, /tocsin overrides ---------------------------------------------------

    async def command(self, verb: str, words: list[str], user: str, nonce: str) -> Answer:
        if not await self.acting.may_act(user, None, f"/tocsin {verb}"):
            return NOT_LISTED, None
        if verb == "overrides":
            return await self.list(words)
        return await self.cover(words, user, nonce)

    async def cover(self, words: list[str], user: str, nonce: str) -> Answer:
        if len(words) < 2:
            return COVER_USAGE, None
        rotation = self.rotation(words[0])
        if rotation is None:
            known = ", ".join(sorted(self.acting.directory.policy_rotations)) or "none"
            return f"No rotation *{mrkdwn(words[0], 80)}* (rotations: {known}).", None
        rest, covering = words[1:], user
        if mention := _MENTION.fullmatch(rest[0]):
            covering, rest = mention[1], rest[1:]
        elif rest[0].startswith("@"):
            return "Name the person with a mention (pick them from the list after `@`).", None
        now = self.acting.clock()
        try:
            period = parse_period(rest, now=now, timezone=rotation.timezone)
        except PeriodError as exc:
            return str(exc), None
        proposal = Proposal(rotation.name, covering, period.start, period.end, user, nonce)
        problems, note, fitted = await self.check(proposal, rotation)
        if problems:
            return ":no_entry: " + " ".join(problems), None
        return cover_preview(fitted, rotation.timezone, note)

    async def list(self, words: list[str]) -> Answer:
        name = words[0] if words else None
        if name is not None and self.rotation(name) is None:
            return f"No rotation *{mrkdwn(name, 80)}*.", None
        stored = await overrides_ending_after(self.acting.db, self.acting.clock(), rotation=name)
        zones = {n: r.timezone for n, r in self.acting.directory.policy_rotations.items()}
        return overrides_list(stored, zones)

    # --- buttons ------------------------------------------------------------------------

    async def confirm(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        await ack()
        action = body["actions"][0]
        user = str(body["user"]["id"])
        proposal = Proposal.decode(str(action.get("value") or ""))
        if proposal is None or proposal.maker != user:
            await tell(respond, "This button is not one of yours.")
            return
        saved = await self.save(proposal, client, kind="cover", key=f"cover:{proposal.nonce}")
        if isinstance(saved, str):
            await tell(respond, saved)
            return
        text = f":white_check_mark: Saved override #{saved.id}: " + describe(
            saved, self._zone(saved.rotation)
        )
        await respond(text=text, blocks=[], replace_original=True)

    async def dismiss(self, ack: AsyncAck, respond: AsyncRespond) -> None:
        await ack()
        await respond(text="Nothing saved.", blocks=[], replace_original=True)

    async def cancel(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        await ack()
        user = str(body["user"]["id"])
        override_id = number(str(body["actions"][0].get("value") or ""))
        found = None if override_id is None else await find_override(self.acting.db, override_id)
        if found is None:
            await tell(respond, "There is no such override.")
            return
        if user not in (found.made_by, found.user, found.replaces) and not self.may_name_others(
            user
        ):
            log.warning("override_cancel_refused", id=found.id, user=user)
            await tell(
                respond,
                ":no_entry: Only whoever made this override, the person covering, approvers "
                "and admins may cancel it.",
            )
            return
        cancelled = await cancel_override(
            self.acting.db, found.id, by=user, now=self.acting.clock()
        )
        if cancelled is None:
            await tell(respond, f"Override #{found.id} was already cancelled.")
            return
        await self.acting.refresh_overrides()
        zone = self._zone(found.rotation)
        log.info("override_cancelled", id=found.id, user=user)
        await tell(respond, f"Cancelled override #{found.id}.")
        await self.announce(
            client,
            found.rotation,
            f":wastebasket: <@{user}> cancelled override #{found.id} (<@{found.user}> on "
            f"*{mrkdwn(found.rotation, 80)}* {span(found.start, found.end, zone)}).",
        )

    def _zone(self, rotation: str) -> str:
        found = self.rotation(rotation)
        return found.timezone if found else "UTC"
