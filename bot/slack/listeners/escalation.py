"""Bolt listeners for escalation: snooze, escalate, approve, deny."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.policy.access import NOT_LISTED
from bot.slack import ids
from bot.slack.acting import Acting, alert_id_of, number, open_modal, seq_of, tell
from bot.slack.blocks.render_pages import reason_modal
from bot.slack.payload import text_at
from escalation.events import EscalationApproved, EscalationDenied, EscalationRequested, Snoozed
from escalation.snooze import snooze_until
from storage.alerts import alert_brief


class EscalationListeners:
    def __init__(self, acting: Acting) -> None:
        self._acting = acting

    def register(self, app: AsyncApp) -> None:
        app.action(ids.SNOOZE)(self.snooze)
        app.action(ids.ESCALATE)(self.open_escalate)
        app.view(ids.ESCALATE_MODAL)(self.submit_escalate)
        app.action(ids.APPROVE)(self.approve)
        app.action(ids.DENY)(self.open_deny)
        app.view(ids.DENY_MODAL)(self.submit_deny)

    async def snooze(self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        action = body["actions"][0]
        choice = text_at(action, "selected_option", "value")
        alert_id = alert_id_of(action)
        if alert_id is None:
            await tell(respond, "This menu does not name an alert.")
            return
        alert = await alert_brief(self._acting.db, alert_id=alert_id)
        team = alert.team if alert else ""
        try:
            until = snooze_until(
                choice, now=self._acting.clock(), timezone=self._acting.rules.timezone_of(team)
            )
        except ValueError:
            await tell(respond, "Pick a snooze length from the menu.")
            return
        await self._acting.from_button(
            body, respond, "snoozed", lambda u: Snoozed(actor=u, until=until)
        )

    async def open_escalate(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        await ack()
        alert_id = alert_id_of(body["actions"][0])
        if alert_id is None:
            await tell(respond, "This button does not name an alert.")
            return
        if not await self._acting.may_act(str(body["user"]["id"]), alert_id, "escalate this alert"):
            await tell(respond, NOT_LISTED)
            return
        modal = reason_modal(
            callback_id=ids.ESCALATE_MODAL,
            metadata=str(alert_id),
            title="Escalate",
            label="Why does this need the next tier now?",
            submit="Ask",
        )
        await open_modal(client, respond, trigger_id=body["trigger_id"], view=modal)

    async def submit_escalate(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        reason = _reason(body)
        alert_id = number(text_at(body, "view", "private_metadata"))
        if not reason or alert_id is None:
            await ack(response_action="errors", errors={ids.REASON_BLOCK: "Give a reason."})
            return
        await ack()
        user = str(body["user"]["id"])
        await self._acting.from_view(
            body,
            client,
            alert_id=alert_id,
            event=EscalationRequested(actor=user, reason=reason),
            kind="escalation_requested",
        )

    async def approve(self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        action, user = body["actions"][0], str(body["user"]["id"])
        alert_id, seq = alert_id_of(action), seq_of(action)
        if alert_id is None or seq is None:
            await tell(respond, "This button does not name an approval request.")
            return
        if not await self._acting.may_approve(user, alert_id, "approve this escalation"):
            await tell(respond, "You are not allowed to approve escalations of this alert.")
            return
        await self._acting.from_button(
            body, respond, "approved", lambda u: EscalationApproved(actor=u, seq=seq)
        )

    async def open_deny(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        await ack()
        action, user = body["actions"][0], str(body["user"]["id"])
        alert_id, seq = alert_id_of(action), seq_of(action)
        if alert_id is None or seq is None:
            await tell(respond, "This button does not name an approval request.")
            return
        if not await self._acting.may_approve(user, alert_id, "deny this escalation"):
            await tell(respond, "You are not allowed to deny escalations of this alert.")
            return
        modal = reason_modal(
            callback_id=ids.DENY_MODAL,
            metadata=f"{alert_id}:{seq}",
            title="Deny escalation",
            label="Why not? (the current tier keeps the alert)",
            submit="Deny",
        )
        await open_modal(client, respond, trigger_id=body["trigger_id"], view=modal)

    async def submit_deny(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        reason = _reason(body)
        alert_part, _, seq_part = text_at(body, "view", "private_metadata").partition(":")
        alert_id, seq = number(alert_part), number(seq_part)
        if not reason or alert_id is None or seq is None:
            await ack(response_action="errors", errors={ids.REASON_BLOCK: "Give a reason."})
            return
        await ack()
        user = str(body["user"]["id"])
        if not await self._acting.may_approve(user, alert_id, "deny this escalation"):
            return
        await self._acting.from_view(
            body,
            client,
            alert_id=alert_id,
            event=EscalationDenied(actor=user, seq=seq, reason=reason),
            kind="denied",
        )


def _reason(body: dict[str, Any]) -> str:
    return text_at(
        body, "view", "state", "values", ids.REASON_BLOCK, ids.REASON_ACTION, "value"
    ).strip()
