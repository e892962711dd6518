"""The policy file as the service reads it: ``config``'s loader, told which formats the
source registry knows and the template sandbox's check (``config`` imports nothing of the
project, so it cannot look)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from config.policy import PolicyFile
from config.policy import load_policy as load_policy_file
from escalation.sources import FORMATS
from escalation.sources.template import check_source


def load_policy(path: Path, *, env: Mapping[str, str]) -> PolicyFile:
    """Read and validate the policy file; an integration's ``format`` must name a source, and
    a template mapping's templates and expressions must compile."""
    return load_policy_file(path, env=env, formats=FORMATS, template_check=check_source)
