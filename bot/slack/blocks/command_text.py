"""Texts for ``/tocsin`` sub-commands (shared with the CLI where it fits): pure, from what
the listener read."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from bot.policy.directory import PolicyDirectory
from bot.policy.rules import Rules
from bot.slack.blocks.escape import mrkdwn
from escalation.model import LevelSpec
from escalation.oncall import next_shifts
from escalation.simulate import format_offset, simulate
from storage.alerts import AlertBrief

HELP = """*Tocsin* — alert dispatch and escalation
• `/tocsin list` — open alerts, most severe first
• `/tocsin show <alert id>` — the warning and its whole timeline
• `/tocsin followups [mine]` — open follow-ups, earliest due first
• `/tocsin oncall [rotation]` — who is on call now and next; "Swap with…" your next shifts
• `/tocsin cover <rotation> [@person] <from> <until <to>|for <duration>>` — take a period, \
e.g. `cover primary fri 18:00 until mon 09:00`
• `/tocsin overrides [rotation]` — overrides made from Slack, each with Cancel
• `/tocsin heartbeats` — heartbeats: last ping, when the next is expected, status
• `/tocsin escalate <alert id> <reason>` — ask for the next tier now
• `/tocsin silence <matchers> <duration> [starting <when>] <comment>` — mute matching \
alerts, e.g. `service=db,env=~prod.* 2h upgrading`
• `/tocsin silences` — silences in force or scheduled · `/tocsin unsilence <id>` — end one
• `/tocsin policy simulate <policy> <level>` — who would be paged when (approvers)
• `/tocsin report [7d|30d|YYYY-MM-DD..YYYY-MM-DD] [team] [in #channel]` — the review \
figures, up to 400 days (`in #channel`: approvers)
• `/tocsin help` — this help
Alerts arrive by webhook; act on them with the buttons on each warning."""

LIST_LIMIT = 25


def alerts_text(alerts: Sequence[AlertBrief], levels: Mapping[int, LevelSpec]) -> str:
    """``/tocsin list``: the open alerts read (at most ``LIST_LIMIT``)."""
    if not alerts:
        return ":white_check_mark: No open alerts."
    first = f" (first {LIST_LIMIT})" if len(alerts) == LIST_LIMIT else ""
    lines = [f"*{len(alerts)} open alert(s)*" + first]
    for alert in alerts:
        level = levels.get(alert.level)
        name = level.name if level else f"level {alert.level}"
        emoji = level.emoji if level else ""
        owner = f" · owner <@{alert.owner}>" if alert.owner else ""
        lines.append(
            f"{emoji} #{alert.id} *{mrkdwn(name, 40)}* {mrkdwn(alert.title, 150)} "
            f"— {alert.status}{owner} · {alert.channel}"
        )
    return "\n".join(lines)


def oncall_text(directory: PolicyDirectory, *, now: datetime, only: Sequence[str]) -> str:
    names = [n for n in directory.rotations if not only or n in only]
    if not names:
        return "No on-call rotations are configured." if not only else "No such rotation."
    lines = []
    for name in names:
        current, *following = next_shifts(directory.rotations[name], at=now, count=2)
        cover = " (override)" if current.override else ""
        if not following:  # a calendar rotation's fallback, with no shift in the calendar ahead
            lines.append(
                f"*{mrkdwn(name, 80)}*: <@{current.user}>{cover} (fallback: the calendar "
                "has no shift ahead)"
            )
            continue
        lines.append(
            f"*{mrkdwn(name, 80)}*: <@{current.user}>{cover} until "
            f"<!date^{int(current.end.timestamp())}^{{date_short_pretty}} {{time}}|"
            f"{current.end:%Y-%m-%d %H:%M} UTC>, then <@{following[0].user}>"
        )
    return "\n".join(lines)


def simulate_lines(
    rules: Rules, directory: PolicyDirectory, policy: str, level: int, *, now: datetime
) -> list[str]:
    steps = simulate(rules.policy_for(policy, level), start=now, directory=directory)
    if not steps:
        return ["Nobody is ever paged: the policy has no tiers."]
    return [
        f"{format_offset(s.offset):>8}  {s.rule:<26} {', '.join(s.paged) or '—'}" for s in steps
    ]


def simulate_text(
    rules: Rules, directory: PolicyDirectory, args: Sequence[str], *, now: datetime
) -> str:
    if len(args) != 2 or args[0] not in rules.policies or args[1] not in ("1", "2", "3"):
        known = ", ".join(sorted(rules.policies))
        return f"Usage: `/tocsin policy simulate <policy> <1|2|3>` (policies: {known})"
    lines = simulate_lines(rules, directory, args[0], int(args[1]), now=now)
    header = f"If nobody acts on a level {args[1]} alert under *{mrkdwn(args[0], 80)}*:"
    return header + "\n```\n" + "\n".join(lines) + "\n```"
