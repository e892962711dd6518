"""Which Tocsin this is: the installed package's version (``tocsin --version``, ``/metrics``)."""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version


def tocsin_version() -> str:
    try:
        return version("tocsin")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def build_labels() -> dict[str, str]:
    """What ``tocsin_build_info`` carries: the version and the Python that runs it."""
    return {"version": tocsin_version(), "python": platform.python_version()}
