"""The policy file as the service reads it: ``config``'s loader, told which formats the
source registry knows (``config`` imports nothing of the project, so it cannot look)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from config.policy import PolicyFile
from config.policy import load_policy as load_policy_file
from escalation.sources import FORMATS


def load_policy(path: Path, *, env: Mapping[str, str]) -> PolicyFile:
    """Read and validate the policy file; an integration's ``format`` must name a source."""
    return load_policy_file(path, env=env, formats=FORMATS)
