"""The heap after start-up: what the service has built is there to stay, and what it builds
for one batch is gone by the next."""

from __future__ import annotations

import gc

COLLECT_EVERY = (20_000, 20, 20)
"""The cyclic collector's thresholds once the service runs (CPython's are 700, 10, 10):
a young pass every 20,000 container allocations net of frees, an older one every 20 young
passes, a full one every 20 older ones (and, as always, only when the survivors since the
last full pass are a quarter of what it kept).

Reference counting frees almost everything the service allocates (a batch's rows, states,
transitions, answers); the cyclic collector exists for the rare cycle. At 700, a young pass
ran in the middle of nearly every batch and promoted what that batch still held, so the
older generations filled with objects already dead a moment later, and a full pass — which
walks every object not frozen, among them the events parsed at the door and not yet
processed (up to 20,000, :class:`storage.intake.inbox.ParsedBodies`) — ran every second or
so under load, ~60 ms each. Measured with a ``gc.callbacks`` timer in ``tocsin serve``
during the ingest bench's single-alert phase (SQLite, 2 cores, ~22 s of the process's CPU
each): 2.6 s in the collector at CPython's thresholds (2,750 young, 250 older, 23 full
passes), 0.8 s at these (48, 2, 1). Larger first thresholds saved little more and made
each young pass longer (a pause of the event loop). Memory: a cycle lives at most until
the next young pass, i.e. among 20,000 allocations."""


def freeze_startup_objects() -> None:
    """Collect what start-up left behind, move every object alive now (modules, the
    composed service, its settings and policies) out of the cyclic garbage collector's
    sight, and collect less often from now on (:data:`COLLECT_EVERY`).

    A full collection walks every tracked object, and one runs each time a quarter as many as
    survived the last one have survived since — about every second batch of the escalation
    engine (a step's state, transition and rows are ~35 objects, alive until the batch is
    written). Walking the ~130,000 objects of start-up each time cost ~20 µs per escalation
    step on the 2-core benchmark machine; frozen, a full collection walks only what is new
    (``bench/step_profile.py``)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*COLLECT_EVERY)
