"""``/tocsin`` sub-commands."""

from __future__ import annotations

from collections.abc import Mapping

from sqlmodel import col, select

from bot.slack.escape import mrkdwn
from escalation.model import LevelSpec, Status
from storage.db import Database
from storage.tables import AlertRow

HELP = """*Tocsin* — alert dispatch and escalation
• `/tocsin list` — open alerts, most severe first
• `/tocsin help` — this help
Alerts arrive by webhook; act on them with the buttons on each warning."""


async def handle_command(text: str, *, db: Database, levels: Mapping[int, LevelSpec]) -> str:
    words = text.split()
    verb = words[0].lower() if words else "help"
    if verb == "list":
        return await _list(db, levels)
    if verb == "help":
        return HELP
    return f"Unknown command `{mrkdwn(verb, 40)}`.\n\n{HELP}"


async def _list(db: Database, levels: Mapping[int, LevelSpec]) -> str:
    async with db.read() as session:
        rows = (
            await session.exec(
                select(AlertRow)
                .where(AlertRow.status != Status.RESOLVED.value)
                .order_by(col(AlertRow.level), col(AlertRow.fired_at))
                .limit(25)
            )
        ).all()
    if not rows:
        return ":white_check_mark: No open alerts."
    lines = [f"*{len(rows)} open alert(s)*" + (" (first 25)" if len(rows) == 25 else "")]
    for row in rows:
        level = levels.get(row.level)
        name = level.name if level else f"level {row.level}"
        emoji = level.emoji if level else ""
        owner = f" · owner <@{row.owner}>" if row.owner else ""
        lines.append(
            f"{emoji} #{row.id} *{mrkdwn(name, 40)}* {mrkdwn(row.title, 150)} "
            f"— {row.status}{owner} · {row.channel}"
        )
    return "\n".join(lines)
