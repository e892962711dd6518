"""The heap after start-up: what the service has built is there to stay."""

from __future__ import annotations

import gc


def freeze_startup_objects() -> None:
    """Collect what start-up left behind, then move every object alive now (modules, the
    composed service, its settings and policies) out of the cyclic garbage collector's sight.

    A full collection walks every tracked object, and one runs each time a quarter as many as
    survived the last one have survived since — about every second batch of the escalation
    engine (a step's state, transition and rows are ~35 objects, alive until the batch is
    written). Walking the ~130,000 objects of start-up each time cost ~20 µs per escalation
    step on the 2-core benchmark machine; frozen, a full collection walks only what is new
    (``bench/step_profile.py``)."""
    gc.collect()
    gc.freeze()
