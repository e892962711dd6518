"""Background work on timers: the inbox worker, the escalation engine, follow-up reminders, hand-
offs, retention, the digest.
"""
