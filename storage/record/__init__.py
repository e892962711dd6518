"""The record in the database: notes, follow-ups, approval messages."""
