"""The environment handed to a child process (benchmarks and tests start Tocsin as one).

The only place besides :mod:`config.settings` that reads ``os.environ``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

OWN_PREFIXES = ("SLACK_", "TOCSIN_")
"""Variables Tocsin reads: a child started with ``clean=True`` gets none of the caller's."""


def child_environment(overrides: Mapping[str, str], *, clean: bool = False) -> dict[str, str]:
    """This process's environment with ``overrides`` applied; with ``clean``, without the
    caller's own Slack and Tocsin settings first (so a developer's shell cannot leak in)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not (clean and key.startswith(OWN_PREFIXES))
    }
    env.update(overrides)
    return env
