"""Session-wide: print how many fuzz cases ran (the figure docs/security.md quotes), also when
the tests run in several xdist workers (each sends its counts to the controller)."""

from __future__ import annotations

from typing import Any

from tests.support.fuzz import CASES, PROFILE

FUZZ_CASES = "fuzz_cases"


def pytest_sessionfinish(session: Any) -> None:
    sent = getattr(session.config, "workeroutput", None)  # set in an xdist worker only
    if sent is not None:
        sent[FUZZ_CASES] = dict(CASES)


def pytest_testnodedown(node: Any, error: Any) -> None:
    """An xdist worker finished: add its fuzz counts to the controller's."""
    for name, count in getattr(node, "workeroutput", {}).get(FUZZ_CASES, {}).items():
        CASES[name] = CASES.get(name, 0) + int(count)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not CASES:
        return
    terminalreporter.section(f"fuzz cases run (profile {PROFILE})")
    for name, count in sorted(CASES.items()):
        terminalreporter.write_line(f"{count:>8}  {name}")
    terminalreporter.write_line(f"{sum(CASES.values()):>8}  in all")
