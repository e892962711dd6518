"""Fault points: places where a test makes the process kill itself (SIGKILL), to prove that a
crash at exactly that moment loses nothing and doubles nothing.

Off unless ``TOCSIN_FAULT_POINT`` names a point (tests only; never set it in production).
With it set, the process dies the first time it reaches that point.
"""

from __future__ import annotations

import os
import signal

import structlog

from bot.runtime.logging_setup import flush_logs
from config.settings import FaultPoint

log = structlog.get_logger("tocsin.faults")


class FaultPoints:
    def __init__(self, armed: FaultPoint | None = None) -> None:
        self.armed = armed

    def reached(self, point: FaultPoint) -> None:
        if point != self.armed:
            return
        log.warning("fault_point_kill", point=point, pid=os.getpid())
        flush_logs()  # the line above, written before the process is gone
        os.kill(os.getpid(), signal.SIGKILL)


NO_FAULTS = FaultPoints()
