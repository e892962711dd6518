"""Bolt listeners for the warning's buttons. Thin: ``ack()`` first, read, call, answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt import BoltResponse
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond, AsyncSay
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.policy.access import NOT_LISTED
from bot.slack import ids
from bot.slack.acting import USER_ID, Acting, alert_id_of, log, number, open_modal, tell
from bot.slack.blocks.command_text import HELP
from bot.slack.blocks.render import resolve_modal
from bot.slack.payload import dig, text_at
from bot.slack.resolve_form import ResolveForm, read_resolve_form
from escalation.events import Acknowledged, Assigned, Claimed, Resolved, Unacknowledged
from storage.alerts import alert_brief, read_view
from storage.record.notes import resolution_extras
from storage.requests import first_time

STAND_DOWN_REFUSED = (
    "Standing down a level 1 alert needs an approver: ask one of the policy's approvers to "
    "resolve it (or let the source resolve it)."
)


class Listeners:
    def __init__(self, acting: Acting) -> None:
        self._acting = acting

    def register(self, app: AsyncApp) -> None:
        app.middleware(self.skip_repeated_events)
        app.event("app_mention")(self.mentioned)
        app.action(ids.ACKNOWLEDGE)(self.acknowledge)
        app.action(ids.CLAIM)(self.claim)
        app.action(ids.UNACKNOWLEDGE)(self.unacknowledge)
        app.action(ids.ASSIGN)(self.assign)
        app.action(ids.RESOLVE)(self.open_resolve)
        app.view(ids.RESOLVE_MODAL)(self.submit_resolve)

    async def skip_repeated_events(
        self, body: dict[str, Any], next_: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        """Events API retries (``X-Slack-Retry-Num``) of an event already handled stop here."""
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not await first_time(
            self._acting.db, key=f"event:{event_id}", now=self._acting.clock()
        ):
            log.info("slack_event_repeat_ignored", event_id=event_id)
            return BoltResponse(status=200, body="")
        await next_()
        return None

    async def mentioned(self, event: dict[str, Any], say: AsyncSay) -> None:
        try:
            await say(text=HELP, thread_ts=event.get("thread_ts") or event.get("ts"))
        except SlackApiError as exc:  # an answer to a mention is best effort
            log.warning("mention_not_answered", error=str(exc.response.get("error", "")))

    async def acknowledge(self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        await self._acting.from_button(body, respond, "acknowledged", lambda u: Acknowledged(u))

    async def claim(self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        await self._acting.from_button(body, respond, "claimed", lambda u: Claimed(u))

    async def unacknowledge(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        await self._acting.from_button(body, respond, "unacknowledged", lambda u: Unacknowledged(u))

    async def assign(self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        assignee = text_at(body, "actions", 0, "selected_user")
        if not USER_ID.match(assignee):
            await tell(respond, "Pick a person to assign the alert to.")
            return
        access = self._acting.access
        if access is not None and not access.may_act(assignee):
            await tell(respond, f"<@{assignee}> is not among the people who may own alerts.")
            return
        await self._acting.from_button(
            body, respond, "assigned", lambda u: Assigned(actor=u, assignee=assignee)
        )

    async def open_resolve(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        await ack()
        alert_id = alert_id_of(body["actions"][0])
        if alert_id is None:
            await tell(respond, "This button does not name an alert.")
            return
        view = await read_view(self._acting.db, alert_id=alert_id, levels=self._acting.rules.levels)
        if view is None:
            await tell(respond, f"Alert #{alert_id} does not exist.")
            return
        if view.resolved_at is not None:
            await tell(respond, "This alert is already resolved.")
            return
        user = str(body["user"]["id"])
        if not await self._acting.may_act(user, alert_id, "resolve this alert"):
            await tell(respond, NOT_LISTED)
            return
        if not await self._acting.may_resolve(user, alert_id):
            await tell(respond, STAND_DOWN_REFUSED)
            return
        modal = resolve_modal(view, root_causes=self._acting.rules.root_causes)
        await open_modal(client, respond, trigger_id=body["trigger_id"], view=modal)

    async def submit_resolve(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        acting = self._acting
        alert_id = number(text_at(body, "view", "private_metadata"))
        alert = await alert_brief(acting.db, alert_id=alert_id) if alert_id is not None else None
        team = alert.team if alert is not None else None
        values = dig(body, "view", "state", "values")
        form = read_resolve_form(
            values if isinstance(values, dict) else {},
            root_causes=acting.rules.root_causes,
            timezone=acting.rules.timezone_of(team or ""),
            due_time=acting.rules.follow_up_due_time,
            now=acting.clock(),
        )
        if alert_id is None or team is None:
            form = {ids.RESOLVE_NOTE_BLOCK: "This form does not name an alert."}
        if not isinstance(form, ResolveForm) or alert_id is None:
            await ack(response_action="errors", errors=form if isinstance(form, dict) else {})
            return
        await ack()
        user = str(body["user"]["id"])
        if not await acting.may_resolve(user, alert_id):
            await client.chat_postMessage(channel=user, text=STAND_DOWN_REFUSED)
            return
        await acting.from_view(
            body,
            client,
            alert_id=alert_id,
            event=Resolved(actor=user, note=form.note, root_cause=form.root_cause),
            kind="resolved",
            also=resolution_extras(
                follow_up=form.follow_up, notes=form.notes, user=user, now=acting.clock()
            ),
        )
