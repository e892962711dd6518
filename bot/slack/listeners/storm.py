"""The storm's button: acknowledge every firing alert of a storm at once."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.slack import ids
from bot.slack.acting import Acting, log, tell
from storage.noise.storms import acknowledge_members


class StormListener:
    def __init__(self, acting: Acting) -> None:
        self._acting = acting

    def register(self, app: AsyncApp) -> None:
        app.action(ids.STORM_ACKNOWLEDGE)(self.acknowledge_storm)

    async def acknowledge_storm(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        action = body["actions"][0]
        user = str(body["user"]["id"])
        raw = str(action.get("value") or "")
        if not raw.isdigit():
            await tell(respond, "This button does not name a storm.")
            return
        acting = self._acting
        await acting.refresh_overrides()  # what this writes resolves on-call targets with it
        count = await acknowledge_members(
            acting.db,
            int(raw),
            actor=user,
            request_key=f"action:{body.get('trigger_id') or action.get('action_ts')}",
            now=acting.clock(),
            directory=acting.directory,
        )
        if count is None:
            return  # a retry of a request already handled
        log.info("storm_acknowledged", storm_id=int(raw), user=user, alerts=count)
        acting.on_change()
        await tell(
            respond,
            f"You acknowledged {count:,} firing alert(s) of this storm: their escalation stops. "
            "Each is still listed in the storm's thread.",
        )
