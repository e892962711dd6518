"""The record kept after an alert: notes, follow-ups, and which earlier alerts count as the
same problem ("last time")."""
