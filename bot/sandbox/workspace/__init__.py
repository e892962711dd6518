"""The fake Slack's in-memory workspace: users, channels, messages, files, modals, response
URLs, rate limits, Socket Mode connections — the state the Web API and the page act on."""
