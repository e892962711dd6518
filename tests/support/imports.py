"""Pretend a package is not installed: every import of it (or of a submodule) raises
ImportError, through Python's own import machinery, until the test ends."""

from __future__ import annotations

import sys

import pytest


def hide_package(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    # A None entry in sys.modules makes `import name...` raise ModuleNotFoundError; submodules
    # already imported are hidden too, or `from name.sub import x` would still find them.
    for loaded in [m for m in sys.modules if m == name or m.startswith(f"{name}.")]:
        monkeypatch.setitem(sys.modules, loaded, None)
    monkeypatch.setitem(sys.modules, name, None)
