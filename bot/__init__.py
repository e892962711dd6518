"""Tocsin's shell: HTTP app, Slack, outbox sender, scheduler wiring, CLI, composition root."""
