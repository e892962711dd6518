"""Bolt listeners. Thin: ``ack()`` first, read the request, call the service, answer."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from slack_bolt import BoltResponse
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond, AsyncSay
from slack_sdk.web.async_client import AsyncWebClient

from bot.clock import Clock
from bot.rules import Rules
from bot.slack import ids
from bot.slack.commands import HELP, handle_command
from bot.slack.render import resolve_modal
from escalation.state import Acknowledged, Assigned, Claimed, Event, Resolved, Unacknowledged
from storage.actions import apply_action, first_time
from storage.alerts import load_view
from storage.db import Database

log = structlog.get_logger("tocsin.slack")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}$")


def _alert_id(action: dict[str, Any]) -> int | None:
    raw = action.get("value") or str(action.get("block_id", "")).removeprefix(
        ids.ACTIONS_BLOCK_PREFIX
    )
    return int(raw) if isinstance(raw, str) and raw.isdigit() else None


class Listeners:
    def __init__(
        self, *, db: Database, rules: Rules, clock: Clock, on_change: Callable[[], None]
    ) -> None:
        self._db = db
        self._rules = rules
        self._clock = clock
        self._on_change = on_change

    def register(self, app: AsyncApp) -> None:
        app.middleware(self.skip_repeated_events)
        app.event("app_mention")(self.mentioned)
        app.action(ids.ACKNOWLEDGE)(self.acknowledge)
        app.action(ids.CLAIM)(self.claim)
        app.action(ids.UNACKNOWLEDGE)(self.unacknowledge)
        app.action(ids.ASSIGN)(self.assign)
        app.action(ids.RESOLVE)(self.open_resolve)
        app.view(ids.RESOLVE_MODAL)(self.submit_resolve)
        app.command(ids.SLASH_COMMAND)(self.command)

    async def skip_repeated_events(
        self, body: dict[str, Any], next_: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        """Events API retries (``X-Slack-Retry-Num``) of an event already handled stop here."""
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not await first_time(self._db, key=f"event:{event_id}", now=self._clock()):
            log.info("slack_event_repeat_ignored", event_id=event_id)
            return BoltResponse(status=200, body="")
        await next_()
        return None

    async def mentioned(self, event: dict[str, Any], say: AsyncSay) -> None:
        await say(text=HELP, thread_ts=event.get("thread_ts") or event.get("ts"))

    async def acknowledge(self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        await self._act(body, respond, "acknowledged", lambda user, _: Acknowledged(actor=user))

    async def claim(self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        await self._act(body, respond, "claimed", lambda user, _: Claimed(actor=user))

    async def unacknowledge(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        await self._act(body, respond, "unacknowledged", lambda user, _: Unacknowledged(actor=user))

    async def assign(self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        assignee = str(body["actions"][0].get("selected_user") or "")
        if not _USER_ID.match(assignee):
            await _tell(respond, "Pick a person to assign the alert to.")
            return
        await self._act(
            body, respond, "assigned", lambda user, _: Assigned(actor=user, assignee=assignee)
        )

    async def open_resolve(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
    ) -> None:
        await ack()
        alert_id = _alert_id(body["actions"][0])
        if alert_id is None:
            await _tell(respond, "This button does not name an alert.")
            return
        async with self._db.read() as session:
            view = await load_view(session, alert_id, self._rules.levels)
        if view is None:
            await _tell(respond, f"Alert #{alert_id} does not exist.")
            return
        if view.resolved_at is not None:
            await _tell(respond, "This alert is already resolved.")
            return
        modal = resolve_modal(view, root_causes=self._rules.root_causes)
        await client.views_open(trigger_id=body["trigger_id"], view=modal)

    async def submit_resolve(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        values = body["view"]["state"]["values"]
        note = (values.get(ids.RESOLVE_NOTE_BLOCK, {}).get(ids.RESOLVE_NOTE_ACTION) or {}).get(
            "value"
        ) or ""
        selected = (
            values.get(ids.RESOLVE_CAUSE_BLOCK, {}).get(ids.RESOLVE_CAUSE_ACTION) or {}
        ).get("selected_option") or {}
        cause = str(selected.get("value") or "")
        errors = {}
        if not note.strip():
            errors[ids.RESOLVE_NOTE_BLOCK] = "Say what was done."
        if cause not in self._rules.root_causes:
            errors[ids.RESOLVE_CAUSE_BLOCK] = "Pick a root-cause category from the list."
        metadata = str(body["view"].get("private_metadata", ""))
        if not metadata.isdigit():
            errors[ids.RESOLVE_NOTE_BLOCK] = "This form does not name an alert."
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        user = str(body["user"]["id"])
        result = await apply_action(
            self._db,
            alert_id=int(metadata),
            event=Resolved(actor=user, note=note.strip(), root_cause=cause),
            kind="resolved",
            actor=user,
            request_key=f"view:{body['view']['id']}",
            now=self._clock(),
        )
        log.info("resolve_submitted", alert_id=int(metadata), user=user, ok=result.ok)
        if result.ok:
            self._on_change()
        elif not result.duplicate:
            await client.chat_postMessage(channel=user, text=result.message)

    async def command(self, ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        text = await handle_command(
            str(command.get("text", "")), db=self._db, levels=self._rules.levels
        )
        await respond(text=text, response_type="ephemeral")

    async def _act(
        self,
        body: dict[str, Any],
        respond: AsyncRespond,
        kind: str,
        make: Callable[[str, int], Event],
    ) -> None:
        action = body["actions"][0]
        user = str(body["user"]["id"])
        alert_id = _alert_id(action)
        if alert_id is None:
            await _tell(respond, "This button does not name an alert.")
            return
        result = await apply_action(
            self._db,
            alert_id=alert_id,
            event=make(user, alert_id),
            kind=kind,
            actor=user,
            request_key=f"action:{body.get('trigger_id') or action.get('action_ts')}",
            now=self._clock(),
        )
        log.info(
            "alert_action", alert_id=alert_id, user=user, kind=kind, ok=result.ok, rule=result.rule
        )
        if result.ok:
            self._on_change()
        elif not result.duplicate:
            await _tell(respond, result.message)


async def _tell(respond: AsyncRespond, text: str) -> None:
    """A private answer to the person who pressed."""
    await respond(text=text, response_type="ephemeral", replace_original=False)
