"""Webhook intake: the handler, body checks, the
routing key, per-integration rate limits."""
