"""The seam between Slack listeners and the domain: apply an event, answer the person."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import structlog
from slack_bolt.async_app import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.policy.access import NOT_LISTED, AccessPolicy
from bot.policy.directory import PolicyDirectory
from bot.policy.rules import Rules
from bot.policy.stored_overrides import StoredOverrides
from bot.runtime.clock import Clock
from bot.slack import ids
from escalation.events import Event
from escalation.policy import EscalationPolicy
from storage.actions import alert_policy, apply_action, record_refusal
from storage.db import Database
from storage.noise.group_actions import apply_to_group, group_lead
from storage.requests import ActionResult, Also

log = structlog.get_logger("tocsin.slack")
USER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}\Z")
_VERBS = {
    "acknowledged": "acknowledge",
    "claimed": "claim",
    "unacknowledged": "unacknowledge",
    "assigned": "assign",
    "resolved": "resolve",
    "snoozed": "snooze",
    "escalation_requested": "escalate",
    "approved": "approve",
    "denied": "deny",
}


_NUMBER = re.compile(r"[0-9]{1,9}")


def number(text: str) -> int | None:
    """A non-negative id as sent in a button, a modal or a command (ASCII digits that fit a
    database integer), else ``None``."""
    return int(text) if _NUMBER.fullmatch(text) else None


def alert_id_of(action: dict[str, Any]) -> int | None:
    """The alert a button names: its value (``42`` or ``42:3``) or its block id."""
    raw = str(action.get("value") or "").split(":", 1)[0] or str(
        action.get("block_id", "")
    ).removeprefix(ids.ACTIONS_BLOCK_PREFIX)
    return number(raw)


def seq_of(action: dict[str, Any]) -> int | None:
    _, _, seq = str(action.get("value") or "").partition(":")
    return number(seq)


async def tell(respond: AsyncRespond, text: str) -> None:
    """A private answer to the person who pressed."""
    await respond(text=text, response_type="ephemeral", replace_original=False)


async def open_modal(
    client: AsyncWebClient, respond: AsyncRespond, *, trigger_id: str, view: Any
) -> None:
    """Open a modal; if Slack refuses (a trigger expires after 3 s), say so privately."""
    try:
        await client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as exc:
        error = str(exc.response.get("error", "") or exc.response.status_code)
        log.warning("modal_not_opened", error=error)
        await tell(respond, f"Slack would not open the form ({error}); press the button again.")


class Acting:
    def __init__(
        self,
        *,
        db: Database,
        rules: Rules,
        clock: Clock,
        on_change: Callable[[], None],
        directory: PolicyDirectory,
        access: AccessPolicy | None = None,
        refused: Callable[[str], None] = lambda _reason: None,
        stored_overrides: StoredOverrides | None = None,
    ) -> None:
        self.stored_overrides = stored_overrides
        self.db = db
        self.rules = rules
        self.clock = clock
        self.on_change = on_change
        self.directory = directory
        self.access = access
        self.refused = refused

    async def refresh_overrides(self) -> None:
        """Layer the overrides made from Slack into the directory before resolving who is on
        call (a page written by an action, ``/tocsin oncall``)."""
        if self.stored_overrides is not None:
            await self.stored_overrides.refresh()

    async def may_act(self, user: str, alert_id: int | None, what: str) -> bool:
        """Whether ``user`` may act on alerts at all (``access.responders``); a refusal about
        an alert is kept in its timeline (``AUTH-2``)."""
        well_formed = USER_ID.match(user) is not None
        if well_formed and (self.access is None or self.access.may_act(user)):
            return True
        self.refused("not_allowed")
        log.warning("action_refused", alert_id=alert_id, user=user, what=what, why="not listed")
        if alert_id is not None and well_formed:
            await record_refusal(
                self.db, alert_id=alert_id, actor=user, what=what, now=self.clock(), rule="AUTH-2"
            )
        return False

    async def apply(
        self,
        *,
        alert_id: int,
        user: str,
        event: Event,
        kind: str,
        request_key: str,
        also: Also | None = None,
    ) -> ActionResult:
        if not await self.may_act(user, alert_id, f"{_VERBS.get(kind, kind)} this alert"):
            return ActionResult(False, NOT_LISTED, "AUTH-2")
        await self.refresh_overrides()
        grouped = await apply_to_group(
            self.db,
            alert_id=alert_id,
            event=event,
            kind=kind,
            actor=user,
            request_key=request_key,
            now=self.clock(),
            directory=self.directory,
            also=also,
        )
        if grouped is not None:
            result = grouped
        else:
            # escalation of a group is its lead's: Snooze / Escalate… on its warning act there
            alert_id = await group_lead(self.db, alert_id) or alert_id
            result = await apply_action(
                self.db,
                alert_id=alert_id,
                event=event,
                kind=kind,
                actor=user,
                request_key=request_key,
                now=self.clock(),
                directory=self.directory,
                also=also,
            )
        log.info(
            "alert_action", alert_id=alert_id, user=user, kind=kind, ok=result.ok, rule=result.rule
        )
        if result.ok:
            self.on_change()
        elif result.duplicate:
            self.refused("replayed")
        else:
            self.refused("unknown_alert" if result.rule is None else "not_now")
        return result

    async def may_approve(self, user: str, alert_id: int, what: str) -> bool:
        """Approvers of the alert's policy, and admins; a refusal is kept in the timeline."""
        return await self._approver_or_refuse(
            user, alert_id, what, await alert_policy(self.db, alert_id)
        )

    async def may_resolve(self, user: str, alert_id: int) -> bool:
        policy = await alert_policy(self.db, alert_id)
        if policy is None or not policy.stand_down_needs_approval:
            return True
        return await self._approver_or_refuse(
            user, alert_id, "stand down this level 1 alert", policy
        )

    async def _approver_or_refuse(
        self, user: str, alert_id: int, what: str, policy: EscalationPolicy | None
    ) -> bool:
        approvers = policy.approvers if policy is not None else ()
        if user in approvers or self.directory.has_role(user, "admin"):
            return True
        self.refused("not_approver")
        log.warning("action_refused", alert_id=alert_id, user=user, what=what)
        if USER_ID.match(user):
            await record_refusal(
                self.db, alert_id=alert_id, actor=user, what=what, now=self.clock()
            )
        return False

    async def from_view(
        self,
        body: dict[str, Any],
        client: AsyncWebClient,
        *,
        alert_id: int,
        event: Event,
        kind: str,
        also: Also | None = None,
    ) -> None:
        """Apply the event a submitted modal stands for (acted on once per view); a refusal
        goes to the person by DM, as the modal is already closed."""
        user = str(body["user"]["id"])
        result = await self.apply(
            alert_id=alert_id,
            user=user,
            event=event,
            kind=kind,
            request_key=f"view:{body['view']['id']}",
            also=also,
        )
        if not result.ok and not result.duplicate:
            await client.chat_postMessage(channel=user, text=result.message)

    async def from_button(
        self,
        body: dict[str, Any],
        respond: AsyncRespond,
        kind: str,
        make: Callable[[str], Event],
    ) -> None:
        """Apply the event a button press stands for; refusals are told privately."""
        action = body["actions"][0]
        user = str(body["user"]["id"])
        alert_id = alert_id_of(action)
        if alert_id is None:
            await tell(respond, "This button does not name an alert.")
            return
        result = await self.apply(
            alert_id=alert_id,
            user=user,
            event=make(user),
            kind=kind,
            request_key=f"action:{body.get('trigger_id') or action.get('action_ts')}",
        )
        if not result.ok and not result.duplicate:
            await tell(respond, result.message)
