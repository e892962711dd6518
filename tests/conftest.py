"""Session-wide: print how many fuzz cases ran (the figure the README quotes)."""

from __future__ import annotations

from typing import Any

from tests.support.fuzz import CASES, PROFILE


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not CASES:
        return
    terminalreporter.section(f"fuzz cases run (profile {PROFILE})")
    for name, count in sorted(CASES.items()):
        terminalreporter.write_line(f"{count:>8}  {name}")
    terminalreporter.write_line(f"{sum(CASES.values()):>8}  in all")
