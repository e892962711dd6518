"""Messages about on-call overrides (``/tocsin cover``, ``/tocsin overrides``, swaps): pure,
from what the listener read. Times are shown in full in the rotation's time zone."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.slack import ids
from bot.slack.blocks.escape import mrkdwn
from escalation.cover_rules import ExistingOverride
from escalation.oncall import Shift
from storage.overrides import StoredOverride

Blocks = list[dict[str, Any]]
SWAP_OFFERS = 3
"""Upcoming shifts offered for a swap per rotation in ``/tocsin oncall``."""


@dataclass(frozen=True, slots=True)
class Proposal:
    """What a Confirm or Accept button carries: the override to save, and who asked."""

    rotation: str
    user: str
    start: datetime
    end: datetime
    maker: str
    nonce: str
    replaces: str | None = None

    def encode(self) -> str:
        data = {
            "r": self.rotation,
            "u": self.user,
            "s": int(self.start.timestamp()),
            "e": int(self.end.timestamp()),
            "m": self.maker,
            "n": self.nonce,
        }
        if self.replaces is not None:
            data["x"] = self.replaces
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def decode(cls, value: str) -> Proposal | None:
        try:
            data = json.loads(value)
            return cls(
                rotation=str(data["r"]),
                user=str(data["u"]),
                start=datetime.fromtimestamp(int(data["s"]), UTC),
                end=datetime.fromtimestamp(int(data["e"]), UTC),
                maker=str(data["m"]),
                nonce=str(data["n"]),
                replaces=str(data["x"]) if "x" in data else None,
            )
        except (ValueError, KeyError, TypeError, OverflowError, OSError):
            return None


def when(instant: datetime, timezone: str) -> str:
    """``Fri 2026-12-04 18:00 CET``: an instant in full, in ``timezone``."""
    local = instant.astimezone(ZoneInfo(timezone))
    return f"{local:%a %Y-%m-%d %H:%M} {local.tzname()}"


def span(start: datetime, end: datetime, timezone: str) -> str:
    total = int((end - start).total_seconds()) // 60
    days, rest = divmod(total, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{n}{u}" for n, u in ((days, "d"), (hours, "h"), (minutes, "m")) if n]
    length = " ".join(parts) or "0m"
    return f"from {when(start, timezone)} until {when(end, timezone)} ({length})"


def overlap_note(overlaps: Sequence[ExistingOverride], timezone: str) -> str:
    if not overlaps:
        return ""
    listed = "; ".join(f"#{o.id} <@{o.user}> {span(o.start, o.end, timezone)}" for o in overlaps)
    return (
        f"\n:warning: It overlaps {listed}. The later override wins: where they overlap, "
        "this one applies."
    )


def cover_preview(proposal: Proposal, timezone: str, note: str) -> tuple[str, Blocks]:
    who = "You" if proposal.user == proposal.maker else f"<@{proposal.user}>"
    text = (
        f"{who} will be on call for *{mrkdwn(proposal.rotation, 80)}* "
        f"{span(proposal.start, proposal.end, timezone)}.{note}\nSave this override?"
    )
    value = proposal.encode()
    buttons = [
        _button(ids.COVER_CONFIRM, "Confirm", value, style="primary"),
        _button(ids.COVER_DISMISS, "Cancel", "dismiss"),
    ]
    return text, [_section(text), {"type": "actions", "elements": buttons}]


def overrides_list(
    stored: Sequence[StoredOverride], timezones: Mapping[str, str]
) -> tuple[str, Blocks]:
    if not stored:
        return "No overrides made from Slack are in force or to come.", []
    text = f"*{len(stored)} override(s)* in force or to come"
    blocks: Blocks = [_section(text)]
    for o in stored[:40]:
        line = describe(o, timezones.get(o.rotation, "UTC"))
        block = _section(line)
        block["accessory"] = _button(ids.OVERRIDE_CANCEL, "Cancel", str(o.id), style="danger")
        blocks.append(block)
    return text, blocks


def describe(o: StoredOverride, timezone: str) -> str:
    swap = f" (swap, <@{o.replaces}>'s shift)" if o.replaces else ""
    return (
        f"#{o.id} *{mrkdwn(o.rotation, 80)}*: <@{o.user}> {span(o.start, o.end, timezone)}"
        f"{swap} — made by <@{o.made_by}> on {when(o.made_at, timezone)}"
    )


def swap_offers(rotation: str, shifts: Sequence[Shift], timezone: str) -> Blocks:
    """One "Swap with…" people menu per upcoming shift of the person asking."""
    blocks: Blocks = []
    for shift in shifts[:SWAP_OFFERS]:
        block_id = f"{ids.SWAP_BLOCK_PREFIX}{int(shift.start.timestamp())}:" + (
            f"{int(shift.end.timestamp())}:{rotation}"
        )
        blocks.append(
            {
                "type": "section",
                "block_id": block_id[:255],
                "text": {
                    "type": "mrkdwn",
                    "text": f"Your *{mrkdwn(rotation, 80)}* shift "
                    f"{span(shift.start, shift.end, timezone)}",
                },
                "accessory": {
                    "type": "users_select",
                    "action_id": ids.SWAP_ASK,
                    "placeholder": {"type": "plain_text", "text": "Swap with…"},
                },
            }
        )
    return blocks


def swap_request(proposal: Proposal, timezone: str) -> tuple[str, Blocks]:
    text = (
        f"<@{proposal.maker}> asks you to take their *{mrkdwn(proposal.rotation, 80)}* shift "
        f"{span(proposal.start, proposal.end, timezone)}."
    )
    value = proposal.encode()
    buttons = [
        _button(ids.SWAP_ACCEPT, "Accept", value, style="primary"),
        _button(ids.SWAP_DECLINE, "Decline", value),
    ]
    return text, [_section(text), {"type": "actions", "elements": buttons}]


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


def _button(action_id: str, label: str, value: str, *, style: str | None = None) -> Any:
    button: dict[str, Any] = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": label},
        "value": value,
    }
    if style is not None:
        button["style"] = style
    return button
