"""Stable Slack action and callback ids. Messages already posted carry these strings, so they
never change once released; add new ones instead."""

from __future__ import annotations

from typing import Final

ACKNOWLEDGE: Final = "tocsin.acknowledge"
CLAIM: Final = "tocsin.claim"
ASSIGN: Final = "tocsin.assign"
UNACKNOWLEDGE: Final = "tocsin.unacknowledge"
RESOLVE: Final = "tocsin.resolve"

RESOLVE_MODAL: Final = "tocsin.resolve_modal"
RESOLVE_NOTE_BLOCK: Final = "resolution"
RESOLVE_NOTE_ACTION: Final = "note"
RESOLVE_CAUSE_BLOCK: Final = "root_cause"
RESOLVE_CAUSE_ACTION: Final = "category"

ACTIONS_BLOCK_PREFIX: Final = "tocsin.actions."
SLASH_COMMAND: Final = "/tocsin"

ALERT_ACTIONS: Final = (ACKNOWLEDGE, CLAIM, ASSIGN, UNACKNOWLEDGE, RESOLVE)
