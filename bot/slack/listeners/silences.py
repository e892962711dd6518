"""Silences from Slack: ``/tocsin silence|silences|unsilence``, the Silence menu on a
warning, and the End buttons. Thin: check who may, call storage, answer privately."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.slack import ids
from bot.slack.acting import Acting, alert_id_of, log, tell
from bot.slack.blocks.render_noise import silence_refusal, silence_text, silences_blocks
from escalation.model import Status
from escalation.noise.label_matchers import Matcher
from escalation.noise.silence_access import Person, Refused, may_manage, team_for_new_silence
from escalation.noise.silence_command import SilenceCommandError, parse_silence_command
from escalation.noise.silences import matchers_for_alert
from escalation.snooze import snooze_until
from storage.alerts import alert_brief
from storage.noise import silences
from storage.requests import first_time

VERBS = ("silence", "silences", "unsilence")
Answer = tuple[str, list[dict[str, Any]] | None]


class SilenceListeners:
    def __init__(self, acting: Acting) -> None:
        self._acting = acting

    def register(self, app: AsyncApp) -> None:
        app.action(ids.SILENCE)(self.silence_from_warning)
        app.action(ids.END_SILENCE)(self.end_from_button)

    def _person(self, user: str) -> Person:
        directory = self._acting.directory
        return Person(
            user=user,
            teams=directory.teams_of(user),
            admin=directory.has_role(user, "admin"),
            teams_defined=directory.teams_defined,
        )

    async def _refused(self, user: str, what: str, refusal: Refused, alert_id: int | None) -> str:
        log.warning("silence_refused", user=user, what=what, alert_id=alert_id)
        await silences.record_silence_refusal(
            self._acting.db, alert_id=alert_id, actor=user, what=what, now=self._acting.clock()
        )
        return f":no_entry: {refusal.message}"

    # --- /tocsin silence | silences | unsilence --------------------------------------------

    async def command(self, verb: str, args: str, user: str, request_key: str) -> Answer:
        if verb == "silences":
            return await self._list()
        if verb == "unsilence":
            raw = args.strip().lstrip("#")
            if not raw.isdigit():
                return "Usage: `/tocsin unsilence <silence id>` (see `/tocsin silences`)", None
            return await self._end(int(raw), user, alert_id=None), None
        return await self._create_from_command(args, user, request_key), None

    async def _create_from_command(self, args: str, user: str, request_key: str) -> str:
        acting = self._acting
        now = acting.clock()
        try:
            request = parse_silence_command(args, now=now)
        except SilenceCommandError as exc:
            return silence_refusal(field=exc.field, problem=exc.problem)
        try:
            team = team_for_new_silence(self._person(user), request.matchers)
        except Refused as refusal:
            return await self._refused(user, "create this silence", refusal, None)
        if not await first_time(acting.db, key=request_key, now=now):
            return "This command was already handled."
        return await self._create(
            user,
            matchers=request.matchers,
            team=team,
            starts_at=request.starts_at,
            ends_at=request.ends_at,
            comment=request.comment,
        )

    async def _create(
        self,
        user: str,
        *,
        matchers: tuple[Matcher, ...],
        team: str | None,
        starts_at: datetime,
        ends_at: datetime,
        comment: str,
    ) -> str:
        acting = self._acting
        outcome = await silences.create_silence(
            acting.db,
            matchers=matchers,
            starts_at=starts_at,
            ends_at=ends_at,
            team=team,
            created_by=user,
            comment=comment,
            now=acting.clock(),
        )
        acting.on_change()
        log.info("silence_created", silence_id=outcome.silence.id, user=user, team=team)
        muted = len(outcome.muted)
        if outcome.silence.starts_at > acting.clock():
            what = "Scheduled (maintenance window)"
        else:
            what = f"In force; {muted} open alert(s) muted now"
        return (
            f":no_bell: {what}: {silence_text(outcome.silence)}\n"
            f"End it with `/tocsin unsilence {outcome.silence.id}`."
        )

    async def _list(self) -> Answer:
        acting = self._acting
        now = acting.clock()
        found = await silences.list_silences(acting.db, now=now)
        muted = await silences.muted_counts(acting.db, [s.id for s in found])
        return silences_blocks(found, now=now, muted=muted)

    async def _end(self, silence_id: int, user: str, *, alert_id: int | None) -> str:
        acting = self._acting
        found = await silences.get_silence(acting.db, silence_id)
        if found is None:
            return f"There is no silence #{silence_id}."
        if user != found.created_by:
            try:
                may_manage(self._person(user), found.team, what=f"end silence #{silence_id}")
            except Refused as refusal:
                return await self._refused(user, f"end silence #{silence_id}", refusal, alert_id)
        result = await silences.end_silence(
            acting.db, silence_id=silence_id, actor=user, now=acting.clock()
        )
        if not result.ok:
            return result.message
        acting.on_change()
        log.info("silence_ended", silence_id=silence_id, user=user)
        return (
            f":bell: Silence #{silence_id} ended; "
            f"{len(result.released)} alert(s) that still fire are posted again."
        )

    # --- buttons and menus ------------------------------------------------------------------

    async def silence_from_warning(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        action, user = body["actions"][0], str(body["user"]["id"])
        alert_id = alert_id_of(action)
        choice = str((action.get("selected_option") or {}).get("value") or "")
        if alert_id is None:
            await tell(respond, "This menu does not name an alert.")
            return
        acting = self._acting
        alert = await alert_brief(acting.db, alert_id=alert_id)
        if alert is None or alert.status == Status.RESOLVED:
            await tell(respond, "This alert is resolved; there is nothing to silence.")
            return
        try:
            may_manage(self._person(user), alert.team, what=f"silence team {alert.team}'s alerts")
        except Refused as refusal:
            await tell(respond, await self._refused(user, "silence this alert", refusal, alert_id))
            return
        now = acting.clock()
        try:
            until = snooze_until(choice, now=now, timezone=acting.rules.timezone_of(alert.team))
        except ValueError:
            await tell(respond, "Pick a silence length from the menu.")
            return
        key = f"action:{body.get('trigger_id') or action.get('action_ts')}"
        if not await first_time(acting.db, key=key, now=now):
            return
        matchers = matchers_for_alert(alert.labels, fingerprint=alert.fingerprint)
        text = await self._create(
            user,
            matchers=matchers,
            team=alert.team,
            starts_at=now,
            ends_at=until,
            comment=f"from the warning of #{alert_id}: {alert.title[:200]}",
        )
        await tell(respond, text)

    async def end_from_button(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        action, user = body["actions"][0], str(body["user"]["id"])
        raw = str(action.get("value") or "")
        if not raw.isdigit():
            await tell(respond, "This button does not name a silence.")
            return
        block = str(action.get("block_id", "")).removeprefix(ids.ACTIONS_BLOCK_PREFIX)
        key = f"action:{body.get('trigger_id') or action.get('action_ts')}"
        if not await first_time(self._acting.db, key=key, now=self._acting.clock()):
            return
        text = await self._end(int(raw), user, alert_id=int(block) if block.isdigit() else None)
        await tell(respond, text)
