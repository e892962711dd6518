"""``/tocsin report [7d|30d|<from>..<to>] [team] [in #channel]``: the review, privately to the
caller (ephemeral, through the command's response_url), or posted to a channel.

Who may: a private report, whoever may act on alerts (``access.responders``); ``in #channel``,
approvers and admins (:class:`bot.policy.access.AccessPolicy`). Periods are bounded
(``escalation.review.period``); a request is handled once (``processed_request``), so a
replayed one posts nothing again; the review's figures are summed in a worker thread.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import structlog
from slack_bolt.async_app import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.policy.access import NOT_LISTED, NOT_PUBLISHER, AccessPolicy
from bot.review.reports import make_review, report_zone, review_dict
from bot.runtime.clock import Clock
from bot.slack.blocks.escape import mrkdwn
from bot.slack.blocks.report_blocks import report_message
from config.policy import PolicyFile
from escalation.review.period import parse_period
from storage.db import Database
from storage.requests import first_time
from storage.review.facts import ReviewFilter

log = structlog.get_logger("tocsin.slack")
USAGE = "Usage: `/tocsin report [7d|30d|YYYY-MM-DD..YYYY-MM-DD] [team] [in #channel]`"
_PERIOD = re.compile(r"^(\d+[hdw]|\d{4}-\d\d-\d\d\.\.\d{4}-\d\d-\d\d)$")
_CHANNEL_REF = re.compile(r"^<#([CG][A-Z0-9]+)(?:\|[^>]*)?>$|^(#[a-z0-9][a-z0-9._-]{0,79})$")


@dataclass(frozen=True)
class ReportRequest:
    period: str
    team: str | None
    channel: str | None


def parse_report_args(words: Sequence[str], *, teams: Sequence[str]) -> ReportRequest:
    """Words after ``report``, in any order; ValueError with a message for the person."""
    period, team, channel = "7d", None, None
    rest = list(words)
    while rest:
        word = rest.pop(0)
        if word.lower() == "in":
            if not rest:
                raise ValueError(f"Say which channel after `in`.\n{USAGE}")
            target = _CHANNEL_REF.match(rest.pop(0))
            if target is None:
                raise ValueError(f"Name the channel like `#ops`.\n{USAGE}")
            channel = target.group(1) or target.group(2)
        elif _PERIOD.match(word):
            period = word
        elif team is None and (not teams or word in teams):
            team = word
        else:
            known = ", ".join(teams) or "none"
            raise ValueError(
                f"`{mrkdwn(word, 40)}` is not a period or a team (teams: {known}).\n{USAGE}"
            )
    return ReportRequest(period=period, team=team, channel=channel)


class ReportCommand:
    def __init__(
        self,
        *,
        db: Database,
        policy: PolicyFile,
        clock: Clock,
        access: AccessPolicy,
        refused: Callable[[str], None] = lambda _reason: None,
    ) -> None:
        self._db = db
        self._policy = policy
        self._clock = clock
        self._access = access
        self._refused = refused

    def use_policy(self, policy: PolicyFile) -> None:
        """Answer by ``policy`` from the next command on (a reloaded policy)."""
        self._policy = policy

    def _refusal(self, user: str, request: ReportRequest) -> str | None:
        if not self._access.may_read_reports(user):
            self._refused("not_allowed")
            return NOT_LISTED
        if request.channel is not None and not self._access.may_post_reports(user):
            self._refused("not_approver")
            return NOT_PUBLISHER
        return None

    async def __call__(
        self,
        words: Sequence[str],
        *,
        user: str,
        request_key: str,
        respond: AsyncRespond,
        client: AsyncWebClient,
    ) -> None:
        """``request_key`` names the Slack request (its trigger id): a replay does nothing."""
        try:
            request = parse_report_args(words, teams=list(self._policy.teams))
        except ValueError as exc:
            await respond(text=str(exc), response_type="ephemeral")
            return
        try:
            zone = report_zone(self._policy, request.team)
            since, until = parse_period(request.period, now=self._clock(), zone=zone)
        except ValueError as exc:
            await respond(text=f"Period {exc}.\n{USAGE}", response_type="ephemeral")
            return
        refusal = self._refusal(user, request)
        if refusal is not None:
            log.warning("report_refused", user=user, channel=request.channel)
            await respond(text=refusal, response_type="ephemeral")
            return
        if not await first_time(self._db, key=request_key, now=self._clock()):
            log.info("report_replay_ignored", user=user, channel=request.channel)
            await respond(text="This command was already handled.", response_type="ephemeral")
            return
        spec = ReviewFilter(since=since, until=until, team=request.team)
        data = await review_dict(await make_review(self._db, self._policy, spec))
        title = f"Tocsin review · {request.team or 'all teams'} · {request.period}"
        names = {u: p.name for u, p in self._policy.people.items()}
        text, blocks = report_message(data, title=title, names=names)
        if request.channel is None:
            await respond(text=text, blocks=[b.to_dict() for b in blocks],
                          response_type="ephemeral")  # fmt: skip
            return
        try:
            await client.chat_postMessage(channel=request.channel, text=text, blocks=blocks)
        except SlackApiError as exc:
            error = exc.response.get("error", "unknown error")
            log.warning("report_post_failed", channel=request.channel, error=error, user=user)
            await respond(
                text=f"Could not post to {request.channel}: `{mrkdwn(str(error), 80)}`. "
                "Is Tocsin invited there?",
                response_type="ephemeral",
            )
            return
        log.info("report_posted", channel=request.channel, user=user, team=request.team)
        await respond(text=f"Posted the report to {request.channel}.", response_type="ephemeral")
