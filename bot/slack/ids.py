"""Stable Slack action and callback ids. Messages already posted carry these strings, so they
never change once released; add new ones instead."""

from __future__ import annotations

from typing import Final

ACKNOWLEDGE: Final = "tocsin.acknowledge"
CLAIM: Final = "tocsin.claim"
ASSIGN: Final = "tocsin.assign"
UNACKNOWLEDGE: Final = "tocsin.unacknowledge"
RESOLVE: Final = "tocsin.resolve"
SNOOZE: Final = "tocsin.snooze"
ESCALATE: Final = "tocsin.escalate"
APPROVE: Final = "tocsin.approve"
DENY: Final = "tocsin.deny"
STORM_ACKNOWLEDGE: Final = "tocsin.storm_acknowledge"  # value: the storm id

RESOLVE_MODAL: Final = "tocsin.resolve_modal"
RESOLVE_NOTE_BLOCK: Final = "resolution"
RESOLVE_NOTE_ACTION: Final = "note"
RESOLVE_CAUSE_BLOCK: Final = "root_cause"
RESOLVE_CAUSE_ACTION: Final = "category"

ESCALATE_MODAL: Final = "tocsin.escalate_modal"
DENY_MODAL: Final = "tocsin.deny_modal"
REASON_BLOCK: Final = "reason"
REASON_ACTION: Final = "text"

ACTIONS_BLOCK_PREFIX: Final = "tocsin.actions."
SLASH_COMMAND: Final = "/tocsin"

ALERT_ACTIONS: Final = (ACKNOWLEDGE, CLAIM, ASSIGN, UNACKNOWLEDGE, RESOLVE, SNOOZE, ESCALATE)

# Snooze menu values: minutes, or "tomorrow" (09:00 next day in the team's time zone).
SNOOZE_CHOICES: Final = (("15", "15 minutes"), ("60", "1 hour"), ("240", "4 hours"))
SNOOZE_TOMORROW: Final = "tomorrow"

# The record (notes, follow-ups); the resolve modal's optional follow-up and notes inputs.
ADD_NOTE: Final = "tocsin.add_note"
NOTE_MODAL: Final = "tocsin.note_modal"
NOTE_BLOCK: Final = "note"
NOTE_ACTION: Final = "text"
NOTE_CAUSE_BLOCK: Final = "note_root_cause"
NOTE_CAUSE_ACTION: Final = "category"
FOLLOW_UP_DONE: Final = "tocsin.follow_up_done"
RESOLVE_FOLLOW_UP_BLOCK: Final = "follow_up"
RESOLVE_FOLLOW_UP_ACTION: Final = "text"
RESOLVE_FOLLOW_UP_OWNER_BLOCK: Final = "follow_up_owner"
RESOLVE_FOLLOW_UP_OWNER_ACTION: Final = "user"
RESOLVE_FOLLOW_UP_DUE_BLOCK: Final = "follow_up_due"
RESOLVE_FOLLOW_UP_DUE_ACTION: Final = "date"
RESOLVE_NOTES_BLOCK: Final = "notes"
RESOLVE_NOTES_ACTION: Final = "text"
# Noise control: the Silence menu on a warning (values as SNOOZE_CHOICES), ending a silence
SILENCE: Final = "tocsin.silence"
END_SILENCE: Final = "tocsin.end_silence"
# On-call overrides from Slack: /tocsin cover's Confirm / Cancel (value: the proposal, JSON),
# /tocsin overrides' Cancel (value: the override id), and swaps from /tocsin oncall: a people
# menu per shift (block id: prefix + "<start>:<end>:<rotation>", epoch seconds), Accept /
# Decline in the colleague's DM (value: the proposal, JSON).
COVER_CONFIRM: Final = "tocsin.cover_confirm"
COVER_DISMISS: Final = "tocsin.cover_dismiss"
OVERRIDE_CANCEL: Final = "tocsin.override_cancel"
SWAP_ASK: Final = "tocsin.swap_ask"
SWAP_BLOCK_PREFIX: Final = "tocsin.swap."
SWAP_ACCEPT: Final = "tocsin.swap_accept"
SWAP_DECLINE: Final = "tocsin.swap_decline"
