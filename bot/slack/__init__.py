"""Slack: action ids, escaping, Block Kit renderers and Bolt listeners."""
