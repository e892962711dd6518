"""What Slack hands out with interactions: trigger_ids, response_urls, and the modals opened."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable

from bot.sandbox.workspace.blocks import assign_ids
from bot.sandbox.workspace.models import JSON, ApiError, ResponseUrl, View

RESPONSE_URL_TTL = 30 * 60.0
RESPONSE_URL_USES = 5
VIEW_STACK_LIMIT = 3


def _with_ids(definition: JSON) -> JSON:
    view = dict(definition)
    view["blocks"] = assign_ids(view.get("blocks", []))
    return view


class Triggers:
    """trigger_ids: each valid for `ttl` seconds of `clock` and usable once, like Slack's."""

    def __init__(self, *, clock: Callable[[], float], ttl: float) -> None:
        self._clock = clock
        self.ttl = ttl
        self._issued: dict[str, tuple[float, str, bool]] = {}  # id -> (issued at, user, used)
        self._ids = itertools.count(1)

    def issue(self, user: str) -> str:
        trigger_id = f"{next(self._ids)}.{secrets.randbelow(10**10)}.{secrets.token_hex(16)}"
        self._issued[trigger_id] = (self._clock(), user, False)
        return trigger_id

    def redeem(self, trigger_id: str) -> str:
        """Use a trigger_id; returns its user, or raises ApiError as views.open answers."""
        if trigger_id not in self._issued:
            raise ApiError("invalid_trigger_id")
        issued, user, used = self._issued[trigger_id]
        if self._clock() - issued > self.ttl:
            raise ApiError("expired_trigger_id")
        if used:
            raise ApiError("exchanged_trigger_id")
        self._issued[trigger_id] = (issued, user, True)
        return user


class ResponseUrls:
    """response_urls pointing at the sandbox's `/response/{token}` receiver."""

    def __init__(self, *, clock: Callable[[], float], base_url: Callable[[], str]) -> None:
        self._clock = clock
        self._base_url = base_url
        self._issued: dict[str, ResponseUrl] = {}

    def issue(
        self, *, channel: str, user: str, message_ts: str | None, is_ephemeral: bool = False
    ) -> str:
        token = secrets.token_urlsafe(16)
        self._issued[token] = ResponseUrl(
            token, channel, user, message_ts, is_ephemeral, issued_at=self._clock()
        )
        return f"{self._base_url()}/response/{token}"

    def use(self, token: str) -> ResponseUrl:
        """Count one use (Slack allows 5 within 30 minutes); ApiError when spent or unknown."""
        found = self._issued.get(token)
        if found is None or self._clock() - found.issued_at > RESPONSE_URL_TTL:
            raise ApiError("expired_url", status=404)
        if found.uses >= RESPONSE_URL_USES:
            raise ApiError("used_url", status=404)
        found.uses += 1
        return found


class Views:
    """Open modal views, in stacks of at most three (views.push)."""

    def __init__(self, *, triggers: Triggers, on_change: Callable[[], None]) -> None:
        self._triggers = triggers
        self._on_change = on_change
        self._open: dict[str, View] = {}
        self.last_id = 0  # the number in the last view id handed out

    def _new(self, user: str, trigger_id: str, definition: JSON, parent: View | None) -> View:
        self.last_id += 1
        view_id = f"V0SBX{self.last_id:05d}"
        view = View(
            view_id,
            user,
            trigger_id,
            _with_ids(definition),
            hash=secrets.token_hex(8),
            root_view_id=parent.root_view_id if parent else view_id,
            previous_view_id=parent.id if parent else None,
        )
        self._open[view_id] = view
        self._on_change()
        return view

    def open(self, trigger_id: str, definition: JSON) -> View:
        return self._new(self._triggers.redeem(trigger_id), trigger_id, definition, None)

    def push(self, trigger_id: str, definition: JSON) -> View:
        """views.push: a new view on top of the user's open modal."""
        user = self._triggers.redeem(trigger_id)
        stack = self.open_for(user)
        if not stack:
            raise ApiError("not_found")
        return self.push_on(stack[-1], definition, trigger_id=trigger_id)

    def push_on(self, parent: View, definition: JSON, *, trigger_id: str = "") -> View:
        """A view pushed onto `parent`'s stack (also `response_action: push`)."""
        depth = len([v for v in self._open.values() if v.root_view_id == parent.root_view_id])
        if depth >= VIEW_STACK_LIMIT:
            raise ApiError("push_limit_reached")
        return self._new(parent.user, trigger_id or parent.trigger_id, definition, parent)

    def get(self, view_id: str | None = None, *, external_id: str | None = None) -> View:
        for view in self._open.values():
            if view_id is not None and view.id == view_id:
                return view
            if external_id is not None and view.definition.get("external_id") == external_id:
                return view
        raise ApiError("not_found")

    def update(self, view: View, definition: JSON, *, expected_hash: str | None = None) -> View:
        if expected_hash and expected_hash != view.hash:
            raise ApiError("hash_conflict")
        view.definition = _with_ids(definition)
        view.hash = secrets.token_hex(8)
        view.typed = {}
        self._on_change()
        return view

    def close(self, view_id: str, *, whole_stack: bool = False) -> None:
        view = self._open.pop(view_id, None)
        if view is not None and whole_stack:
            for other in [v for v in self._open.values() if v.root_view_id == view.root_view_id]:
                self._open.pop(other.id)
        self._on_change()

    def open_for(self, user: str | None = None) -> list[View]:
        """Open views (of one user if given), oldest first: the last is on top."""
        return [v for v in self._open.values() if user is None or v.user == user]

    def close_all(self) -> None:
        self._open.clear()
        self._on_change()

    def restore(self, views: list[View], *, last_id: int) -> None:
        """Reopen views kept from an earlier run; new ids continue after `last_id`."""
        self._open = {view.id: view for view in views}
        self.last_id = last_id
