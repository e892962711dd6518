"""The escalation engine's APScheduler timer wakes it at the earliest due time, not only on
its safety interval."""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import col, select

from bot.runtime.clock import system_clock
from bot.runtime.wakeup import Wakeup
from bot.workers.escalation_engine import EscalationEngine
from escalation.model import AlertEvent, SourceStatus
from escalation.policy import EscalationPolicy, Target, TargetKind, Tier
from escalation.state import open_alert
from escalation.timeline import STEP_RULES
from storage.alerts import new_row
from storage.db import Database
from storage.tables import AlertEventRow


class NoRotations:
    def on_call(self, rotation: str, *, at: datetime) -> str | None:
        return None


async def test_a_step_due_soon_runs_long_before_the_safety_interval(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'timer.db'}")
    await db.upgrade()
    policy = EscalationPolicy(
        name="p", tiers=(Tier(targets=(Target(TargetKind.USER, "U0ALICE"),), after_seconds=1),)
    )
    now = datetime.now(UTC)
    async with db.write() as session:
        opened = open_alert(fired_at=now, policy=policy, now=now)
        event = AlertEvent(fingerprint="fp", status=SourceStatus.FIRING, title="t", source="s")
        session.add(
            new_row(
                event,
                opened.state,
                integration="generic",
                level=2,
                grade_reason="test",
                team="ops",
                channel="#alerts",
                policy=policy,
            )
        )
    engine = EscalationEngine(
        db=db,
        directory=NoRotations(),
        clock=system_clock,
        wakeup=Wakeup(),
        on_stepped=Wakeup(),
        safety_seconds=120,  # far longer than the test may take
    )
    task = asyncio.create_task(engine.run())
    try:
        deadline = time.monotonic() + 30
        while True:
            async with db.read() as session:
                steps = (
                    await session.exec(
                        select(AlertEventRow).where(col(AlertEventRow.rule).in_(STEP_RULES))
                    )
                ).all()
            if steps:
                break
            assert time.monotonic() < deadline, "the timer never woke the engine"
            await asyncio.sleep(0.05)
        [step] = steps
        assert step.at >= now + timedelta(seconds=1)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await db.dispose()
