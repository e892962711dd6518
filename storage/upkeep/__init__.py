"""Keeping the database healthy: WAL checkpoints, start-up recovery, retention, figures."""
