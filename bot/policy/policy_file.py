"""The policy file as the service reads it: ``config``'s loader, told which formats the
source registry knows and the template sandbox's check (``config`` imports nothing of the
project, so it cannot look), and the whole snapshot a reload switches to (see
bot.policy.live)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from pathlib import Path

from bot.policy.live import Snapshot, content_version
from bot.policy.people_lookup import PeopleLookup
from bot.policy.rules import build_rules
from config.people import people_places
from config.places import line_of, load_with_lines, with_line
from config.policy import PolicyError, PolicyFile, parse_policy
from config.policy import load_policy as load_policy_file
from escalation.sources import FORMATS
from escalation.sources.template import check_source


def load_policy(path: Path, *, env: Mapping[str, str]) -> PolicyFile:
    """Read and validate the policy file; an integration's ``format`` must name a source, and
    a template mapping's templates and expressions must compile."""
    return load_policy_file(path, env=env, formats=FORMATS, template_check=check_source)


def snapshot_of(path: Path, text: bytes, policy: PolicyFile) -> Snapshot:
    return Snapshot(
        path=path, version=content_version(text), policy=policy, rules=build_rules(policy)
    )


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise PolicyError(path, [f"cannot read the file: {exc.strerror or exc}"]) from exc


async def read_snapshot(
    path: Path, *, env: Mapping[str, str], people: PeopleLookup | None
) -> Snapshot:
    """The file at ``path`` validated, its emails resolved (with ``people``), its rules
    built. Raises :class:`PolicyError` with every problem, each with its line."""
    text = await asyncio.to_thread(read_bytes, path)
    decoded = text.decode("utf-8", errors="replace")
    policy = parse_policy(decoded, env=env, path=path, formats=FORMATS, template_check=check_source)
    if people is not None:
        policy, problems = await people.resolve(policy)
        if problems:
            _, lines = load_with_lines(decoded)
            problems.sort(key=lambda p: line_of(p.partition(": ")[0], lines) or 0)
            raise PolicyError(path, [with_line(p, lines) for p in problems])
    return snapshot_of(path, text, policy)


def people_among(policy: PolicyFile, ids: Iterable[str]) -> list[str]:
    """The people of ``ids`` the policy names (sorted), e.g. the sandbox's fake users."""
    wanted = set(ids)
    return sorted({person for _, person in people_places(policy) if person in wanted})


def load_snapshot(path: Path, *, env: Mapping[str, str]) -> Snapshot:
    """The file at ``path`` as start-up reads it (people named by email are looked up once
    the event loop runs, see bot.workers.policy_reload)."""
    text = read_bytes(path)
    policy = parse_policy(
        text.decode("utf-8", errors="replace"),
        env=env,
        path=path,
        formats=FORMATS,
        template_check=check_source,
    )
    return snapshot_of(path, text, policy)
