"""Reloading the policy file without a restart: on SIGHUP and when the file changes.

Each reload reads the whole file again, validates it, looks up the people it names by email
and builds its rules; only then does the service switch to it (bot.policy.live), in one step.
A file whose content is what already runs is left alone. A file that cannot be used changes
nothing that runs: every problem is logged (``policy_reload_refused``, one line with all of
them), the admins of the running policy get one DM per refused content, ``/readyz`` shows
``config.status: stale`` with the problems, and ``tocsin_config_stale`` is 1 until a good
file is read. Alerts already raised keep the escalation policy they were raised with (it is
stored with them), as they always have.

Several replicas each watch and reload their own file; ``/readyz`` shows each one's version.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Literal

import structlog
import watchfiles
from slack_sdk.web.async_client import AsyncWebClient

from bot.policy.live import LivePolicy, Snapshot, content_version
from bot.policy.people_lookup import PeopleLookup
from bot.policy.policy_file import read_bytes, read_snapshot
from bot.runtime.metrics import Metrics
from config.policy import PolicyError

log = structlog.get_logger("tocsin.policy")


def concerns(name: str, _change: watchfiles.Change, path: str) -> bool:
    """A change to the file ``name`` itself, or to Kubernetes' ``..data`` link that a
    ConfigMap's files point through."""
    changed = Path(path).name
    return changed == name or changed.startswith("..data")


Result = Literal["applied", "unchanged", "refused"]


class PolicyReloader:
    def __init__(
        self,
        *,
        live: LivePolicy,
        env: Mapping[str, str],
        people: PeopleLookup | None,
        metrics: Metrics,
        slack: AsyncWebClient | None,
    ) -> None:
        self.live = live
        self._env = env
        self.people = people
        self._metrics = metrics
        self._slack = slack
        self._lock = asyncio.Lock()
        self._pending: set[asyncio.Task[None]] = set()
        self.show(live.current)

    @property
    def path(self) -> Path:
        return self.live.current.path

    def show(self, snapshot: Snapshot) -> None:
        self._metrics.config_version.info({"version": snapshot.version})
        self._metrics.config_stale.set(1 if self.live.stale else 0)

    async def reload(self, reason: str) -> Result:
        """Read the file again and switch to it if it can be used (one reload at a time)."""
        async with self._lock:
            result = await self._reload(reason)
        self._metrics.config_reloads.labels(result=result).inc()
        return result

    async def _reload(self, reason: str) -> Result:
        path = self.path
        try:
            version = content_version(await asyncio.to_thread(read_bytes, path))
        except PolicyError as exc:
            return await self._refuse(exc, version="unreadable", reason=reason)
        if version == self.live.current.version and not self.live.stale:
            log.debug("policy_reload_unchanged", path=str(path), version=version, reason=reason)
            return "unchanged"
        try:
            snapshot = await read_snapshot(path, env=self._env, people=self.people)
        except PolicyError as exc:
            return await self._refuse(exc, version=version, reason=reason)
        old = self.live.current.version
        self.live.switch(snapshot)
        self.show(snapshot)
        log.info(
            "policy_reloaded", path=str(path), version=snapshot.version, previous=old, reason=reason
        )
        return "applied"

    async def _refuse(self, exc: PolicyError, *, version: str, reason: str) -> Result:
        already = self.live.refused_version == version and self.live.errors == tuple(exc.problems)
        self.live.refuse(version, exc.problems)
        self.show(self.live.current)
        log.error(
            "policy_reload_refused",
            path=str(exc.path),
            running=self.live.current.version,
            refused=version,
            reason=reason,
            problems=exc.problems,
        )
        if not already:
            await self._tell_admins(exc)
        return "refused"

    async def _tell_admins(self, exc: PolicyError) -> None:
        if self._slack is None:
            return
        running = self.live.current
        admins = [u for u, p in running.policy.people.items() if "admin" in p.roles]
        listed = "\n".join(f"• {p}" for p in exc.problems)
        text = (
            f":warning: The policy file `{exc.path}` was changed but cannot be used, so Tocsin "
            f"keeps running the previous one (version {running.version}). "
            f"{len(exc.problems)} problem(s):\n{listed}"
        )
        for admin in admins:
            try:
                opened = await self._slack.conversations_open(users=admin)
                channel = opened["channel"]["id"]
                await self._slack.chat_postMessage(channel=channel, text=text)
            except Exception as error:  # a DM that fails must not stop the reload
                log.warning("policy_admin_dm_failed", user=admin, error=type(error).__name__)

    def reload_soon(self, reason: str) -> None:
        """Start a reload from a signal handler (kept referenced until it ends)."""
        task = asyncio.get_running_loop().create_task(self._reload_logged(reason))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _reload_logged(self, reason: str) -> None:
        try:
            await self.reload(reason)
        except Exception:  # a reload that fails unexpectedly leaves the running policy as is
            log.exception("policy_reload_failed", reason=reason)

    def listen_for_sighup(self) -> None:
        """Reload on SIGHUP from now on (where the platform has it)."""
        hup = getattr(signal, "SIGHUP", None)
        if hup is not None:
            asyncio.get_running_loop().add_signal_handler(hup, self.reload_soon, "SIGHUP")

    def stop_listening(self) -> None:
        hup = getattr(signal, "SIGHUP", None)
        if hup is not None:
            asyncio.get_running_loop().remove_signal_handler(hup)

    async def watch(self, *, stop: asyncio.Event | None = None) -> None:
        """Reload whenever the file changes. Its directory is watched, since editors and
        Kubernetes ConfigMaps replace the file rather than write it in place; changes to
        other files there (a SQLite database beside it…) are not looked at, and a change
        that leaves the file's content as it runs is ignored."""
        folder = self.path.absolute().parent
        log.info("policy_watch_started", path=str(self.path))
        async for _ in watchfiles.awatch(
            folder,
            watch_filter=partial(concerns, self.path.name),
            stop_event=stop,
            debounce=300,
            step=50,
            recursive=False,
        ):
            await self._reload_logged("file changed")  # the watcher outlives any one reload
