"""Bolt listeners for the record: Add note (button and modal) and a follow-up's Done button.
(What the resolve modal writes besides the resolution is ``storage.record.notes``'s.)"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import ids
from bot.slack.acting import Acting, alert_id_of, log, tell
from bot.slack.blocks.render_record import follow_up_done, note_modal
from bot.slack.resolve_form import input_text, selected_value
from storage.actions import record_refusal
from storage.alerts import alert_brief, read_view
from storage.record.follow_ups import complete, get_follow_up
from storage.record.notes import add_note

NOTE_REFUSED = "Only members of the alert's team (and admins) may add notes to it."


class RecordListeners:
    def __init__(self, acting: Acting) -> None:
        self._acting = acting

    def register(self, app: AsyncApp) -> None:
        app.action(ids.ADD_NOTE)(self.open_note)
        app.view(ids.NOTE_MODAL)(self.submit_note)
        app.action(ids.FOLLOW_UP_DONE)(self.follow_up_done)

    async def _may_note(self, user: str, alert_id: int) -> bool:
        """Anyone on the alert's team (when the team lists members), and admins."""
        acting = self._acting
        alert = await alert_brief(acting.db, alert_id=alert_id)
        team = alert.team if alert is not None else None
        members = acting.rules.team_members.get(team or "")
        if members is None or user in members or acting.directory.has_role(user, "admin"):
            return True
        log.warning("action_refused", alert_id=alert_id, user=user, what="add a note")
        await record_refusal(
            acting.db, alert_id=alert_id, actor=user, what="add a note", now=acting.clock()
        )
        return False

    async def open_note(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        await ack()
        alert_id = alert_id_of(body["actions"][0])
        if alert_id is None:
            await tell(respond, "This button does not name an alert.")
            return
        acting = self._acting
        view = await read_view(acting.db, alert_id=alert_id, levels=acting.rules.levels)
        if view is None:
            await tell(respond, f"Alert #{alert_id} does not exist.")
            return
        if not await self._may_note(str(body["user"]["id"]), alert_id):
            await tell(respond, NOTE_REFUSED)
            return
        modal = note_modal(view, root_causes=acting.rules.root_causes)
        await client.views_open(trigger_id=body["trigger_id"], view=modal)

    async def submit_note(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        acting = self._acting
        values = body["view"]["state"]["values"]
        text = input_text(values, ids.NOTE_BLOCK, ids.NOTE_ACTION)
        cause = selected_value(values, ids.NOTE_CAUSE_BLOCK, ids.NOTE_CAUSE_ACTION) or None
        metadata = str(body["view"].get("private_metadata", ""))
        errors = {}
        if not text.strip():
            errors[ids.NOTE_BLOCK] = "Write the note."
        if cause is not None and cause not in acting.rules.root_causes:
            errors[ids.NOTE_CAUSE_BLOCK] = "Pick a root-cause category from the list."
        if not metadata.isdigit():
            errors[ids.NOTE_BLOCK] = "This form does not name an alert."
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        user, alert_id = str(body["user"]["id"]), int(metadata)
        if not await self._may_note(user, alert_id):
            await client.chat_postMessage(channel=user, text=NOTE_REFUSED)
            return
        result = await add_note(
            acting.db,
            alert_id=alert_id,
            author=user,
            text=text.strip(),
            root_cause=cause,
            request_key=f"view:{body['view']['id']}",
            now=acting.clock(),
        )
        log.info("note_added", alert_id=alert_id, user=user, ok=result.ok)
        if result.ok:
            acting.on_change()

    async def follow_up_done(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        acting = self._acting
        raw = str(body["actions"][0].get("value") or "")
        user = str(body["user"]["id"])
        item = await get_follow_up(acting.db, int(raw)) if raw.isdigit() else None
        if item is None:
            await tell(respond, "This follow-up no longer exists.")
            return
        if user not in (item.owner, item.created_by) and not acting.directory.has_role(
            user, "admin"
        ):
            await tell(
                respond, "Only the follow-up's owner, who took it on, or an admin may close it."
            )
            return
        done = await complete(acting.db, follow_up_id=item.id, user=user, now=acting.clock())
        if done is None:
            return
        log.info("follow_up_done", follow_up_id=item.id, user=user)
        acting.on_change()
        text, blocks = follow_up_done(done)
        await respond(text=text, blocks=blocks, replace_original=True)
