"""``/tocsin`` in Slack."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import ids
from bot.slack.acting import Acting, number
from bot.slack.blocks.command_text import (
    HELP,
    LIST_LIMIT,
    alerts_text,
    oncall_text,
    simulate_text,
)
from bot.slack.blocks.escape import mrkdwn
from bot.slack.blocks.heartbeat_text import heartbeats_text
from bot.slack.blocks.noise_text import DAY, noise_footer
from bot.slack.listeners import record_commands
from bot.slack.listeners.overrides import VERBS as OVERRIDE_VERBS
from bot.slack.listeners.overrides import OverrideListeners
from bot.slack.listeners.report_command import ReportCommand
from bot.slack.listeners.silences import VERBS as SILENCE_VERBS
from bot.slack.listeners.silences import SilenceListeners
from bot.slack.listeners.swaps import SwapListeners
from escalation.events import EscalationRequested
from storage.alerts import open_alerts
from storage.heartbeats import states as heartbeat_states
from storage.noise.dropped import noise_totals


class CommandListener:
    def __init__(
        self,
        acting: Acting,
        *,
        report: ReportCommand | None = None,
        override_channels: Mapping[str, str] | None = None,
    ) -> None:
        self._acting = acting
        self._report = report
        self._silences = SilenceListeners(acting)
        self._overrides = OverrideListeners(
            acting, channels={} if override_channels is None else override_channels
        )
        self._swaps = SwapListeners(self._overrides)

    def register(self, app: AsyncApp) -> None:
        app.command(ids.SLASH_COMMAND)(self.command)
        self._silences.register(app)
        self._overrides.register(app)
        self._swaps.register(app)

    async def command(
        self,
        ack: AsyncAck,
        command: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
    ) -> None:
        await ack()
        words = str(command.get("text", "")).split()
        verb = words[0].lower() if words else "help"
        user = str(command.get("user_id", ""))
        acting = self._acting
        if verb == "show":
            text, blocks = await record_commands.show(acting.db, acting.rules, words[1:])
            await respond(text=text, blocks=blocks, response_type="ephemeral")
            return
        if verb == "report" and self._report is not None:
            await self._report(
                words[1:],
                user=user,
                request_key=f"report:{command.get('trigger_id')}",
                respond=respond,
                client=client,
            )
            return
        if verb in SILENCE_VERBS:
            _, _, args = str(command.get("text", "")).strip().partition(" ")
            key = f"command:{command.get('trigger_id')}"
            text, blocks = await self._silences.command(verb, args, user, key)
            await respond(text=text, blocks=blocks, response_type="ephemeral")
            return
        if verb in OVERRIDE_VERBS:
            nonce = f"{user}:{command.get('trigger_id')}"
            text, blocks = await self._overrides.command(verb, words[1:], user, nonce)
            await respond(text=text, blocks=blocks, response_type="ephemeral")
            return
        if verb == "oncall":
            await acting.refresh_overrides()
            text = oncall_text(acting.directory, now=acting.clock(), only=words[1:])
            offers = self._swaps.offers(user, only=words[1:])
            blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}, *offers]
            await respond(text=text, blocks=blocks, response_type="ephemeral")
            return
        if verb == "followups":
            text = await record_commands.follow_ups(
                acting.db, words[1:], user=user, now=acting.clock()
            )
        elif verb == "list":
            alerts = await open_alerts(acting.db, limit=LIST_LIMIT)
            text = alerts_text(alerts, acting.rules.levels)
            total, distinct = await noise_totals(acting.db, since=acting.clock() - DAY)
            text += noise_footer(total=total, distinct=distinct)
        elif verb == "heartbeats":
            specs = acting.rules.ingest.heartbeats
            stored = await heartbeat_states(acting.db) if specs else {}
            text = heartbeats_text(specs, stored, now=acting.clock())
        elif verb == "escalate":
            text = await self._escalate(words[1:], user, command)
        elif verb == "policy" and words[1:2] == ["simulate"]:
            if not (
                acting.directory.has_role(user, "approver")
                or acting.directory.has_role(user, "admin")
            ):
                text = "Only approvers and admins may simulate policies."
            else:
                await acting.refresh_overrides()
                text = simulate_text(acting.rules, acting.directory, words[2:], now=acting.clock())
        elif verb == "help":
            text = HELP
        else:
            text = f"Unknown command `{mrkdwn(verb, 40)}`.\n\n{HELP}"
        await respond(text=text, response_type="ephemeral")

    async def _escalate(self, args: list[str], user: str, command: dict[str, Any]) -> str:
        alert_id = number(args[0].lstrip("#")) if args else None
        if len(args) < 2 or alert_id is None:
            return "Usage: `/tocsin escalate <alert id> <reason>`"
        result = await self._acting.apply(
            alert_id=alert_id,
            user=user,
            event=EscalationRequested(actor=user, reason=" ".join(args[1:])),
            kind="escalation_requested",
            request_key=f"command:{command.get('trigger_id')}",
        )
        return f"Alert #{alert_id}: {result.message}"
