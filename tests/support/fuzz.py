"""Hypothesis settings for the fuzz tests, and a count of the cases they ran.

``TOCSIN_FUZZ_PROFILE=ci`` (the default) is reproducible and bounded: derandomized, a fixed
number of examples per test. ``TOCSIN_FUZZ_PROFILE=long`` draws fresh random cases and runs
20 times as many (``bench/abuse_bench.py`` and whoever hunts for bugs use it).
The session prints how many cases each fuzz test ran (tests/conftest.py).
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

PROFILE = os.environ.get("TOCSIN_FUZZ_PROFILE", "ci")
SCALE = {"ci": 1, "long": 20}.get(PROFILE, 1)
settings.register_profile("ci", derandomize=True, deadline=None, database=None, print_blob=True)
settings.register_profile("long", deadline=None, print_blob=True)
settings.load_profile(PROFILE if PROFILE in ("ci", "long") else "ci")

CASES: Counter[str] = Counter()


def fuzz(examples: int) -> settings:
    """Settings for a fuzz test: ``examples`` cases in CI, scaled by the profile."""
    return settings(max_examples=examples * SCALE, suppress_health_check=list(HealthCheck))


def ran(name: str) -> None:
    CASES[name] += 1


_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | st.sampled_from(["", "firing", "resolved", "1", "2024-05-01T10:15:30Z", "http://x.example"])
)
json_values: st.SearchStrategy[Any] = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=6)
    ),
    max_leaves=25,
)
