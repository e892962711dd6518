"""People the policy file names by email, looked up in Slack (``users.lookupByEmail``).

Found ids are cached for the life of the process (an email's user does not change); an email
Slack does not know is asked again on the next reload (the person may have joined since).
Transient failures (rate limits, Slack's 5xx, the connection) are retried with backoff; an
email that still cannot be looked up is a problem of the file like any other, at every place
it is written, and the file is not used.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import aiohttp
import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from config.people import emails_named, with_slack_ids
from config.policy import PolicyFile

log = structlog.get_logger("tocsin.policy")

NOT_FOUND = frozenset({"users_not_found", "user_not_found"})


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, aiohttp.ClientError | asyncio.TimeoutError | ConnectionError):
        return True
    if isinstance(exc, SlackApiError):
        status = getattr(exc.response, "status_code", 200)
        error = str(exc.response.get("error", ""))
        return status == 429 or status >= 500 or error in {"ratelimited", "internal_error"}
    return False


class PeopleLookup:
    """Turns the emails of a policy file into Slack ids (:meth:`slack_id` by subclasses)."""

    async def slack_id(self, email: str) -> str | None:
        """The Slack id of ``email``, ``None`` if there is no such user."""
        raise NotImplementedError

    async def resolve(self, policy: PolicyFile) -> tuple[PolicyFile, list[str]]:
        """``policy`` with its emails replaced by Slack ids, and the problems (``place:
        what is wrong``) of those that could not be resolved."""
        named = emails_named(policy)
        ids: dict[str, str] = {}
        problems: list[str] = []
        for email, places in named.items():
            try:
                found = await self.slack_id(email)
            except Exception as exc:  # Slack did not answer, after the retries
                reason = _reason(exc)
                log.warning("people_lookup_failed", email=email, error=reason)
                problems += [
                    f'{p}: "{email}" could not be looked up in Slack ({reason})' for p in places
                ]
                continue
            if found is None:
                missing = f'"{email}" is not a user of this Slack workspace'
                problems += [f"{p}: {missing}" for p in places]
            else:
                ids[email] = found
        return with_slack_ids(policy, ids), problems


class SlackPeople(PeopleLookup):
    """Asks Slack's ``users.lookupByEmail``."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        attempts: int = 4,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        self._client = client
        self._cache: dict[str, str] = {}
        self._retrying = AsyncRetrying(
            retry=retry_if_exception(_transient),
            wait=wait_random_exponential(multiplier=0.5, max=5),
            stop=stop_after_attempt(attempts),
            sleep=sleep if sleep is not None else asyncio.sleep,
            reraise=True,
        )

    async def slack_id(self, email: str) -> str | None:
        """The Slack id of ``email``, ``None`` if Slack has no such user. Raises what Slack
        raised when it could not answer, after the retries."""
        key = email.lower()
        if key in self._cache:
            return self._cache[key]
        try:
            async for attempt in self._retrying.copy():
                with attempt:
                    found = await self._client.users_lookupByEmail(email=email)
        except SlackApiError as exc:
            if str(exc.response.get("error", "")) in NOT_FOUND:
                return None
            raise
        user = found.get("user") or {}
        user_id = str(user.get("id", "")) if isinstance(user, dict) else ""
        if not user_id:
            return None
        self._cache[key] = user_id
        return user_id


def _reason(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error", "error"))
    return type(exc).__name__
