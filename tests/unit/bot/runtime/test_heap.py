"""The service's heap settings once it has started (bot/runtime/heap.py)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from bot.runtime.heap import COLLECT_EVERY, freeze_startup_objects


@pytest.fixture
def restored_collector() -> Iterator[None]:
    thresholds = gc.get_threshold()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("restored_collector")
def test_after_start_up_the_objects_alive_are_frozen_and_young_passes_come_less_often() -> None:
    gc.set_threshold(700, 10, 10)
    kept = [object() for _ in range(3)], {"policy": ["a", "b"]}

    freeze_startup_objects()

    assert gc.get_freeze_count() > 0
    # frozen: out of the full passes' walk
    assert not any(o is kept[1] for o in gc.get_objects(generation=2))
    assert gc.isenabled()  # cycles made later are still collected, only less often
    assert gc.get_threshold() == COLLECT_EVERY
    assert COLLECT_EVERY[0] >= 10_000
