"""Runtime plumbing: the clock, wake-ups, metrics, logging, the heap, fault points."""
