"""``/tocsin show <alert>`` and ``/tocsin followups [mine]``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.policy.rules import Rules
from bot.slack.blocks.escape import mrkdwn
from bot.slack.blocks.render_record import follow_ups_text, show_blocks
from storage.db import Database
from storage.record.follow_ups import open_follow_ups
from storage.timeline import view_and_timeline

SHOW_USAGE = "Usage: `/tocsin show <alert id>` (the id is the #number on the warning)"


async def show(
    db: Database, rules: Rules, args: Sequence[str]
) -> tuple[str, list[dict[str, Any]] | None]:
    """The warning in brief and its whole timeline, or a message saying what is wrong."""
    if len(args) != 1 or not args[0].lstrip("#").isdigit():
        return SHOW_USAGE, None
    alert_id = int(args[0].lstrip("#"))
    found = await view_and_timeline(
        db, alert_id=alert_id, levels=rules.levels, recent_days=rules.last_time_days
    )
    if found is None:
        return f"There is no alert #{alert_id}.", None
    return show_blocks(*found)


async def follow_ups(db: Database, args: Sequence[str], *, user: str, now: datetime) -> str:
    mine = [a.lower() for a in args] == ["mine"]
    if args and not mine:
        return f"Usage: `/tocsin followups [mine]` (not `{mrkdwn(' '.join(args), 40)}`)"
    items, total = await open_follow_ups(db, owner=user if mine else None)
    return follow_ups_text(items, total=total, now=now, whose=" of yours" if mine else "")
