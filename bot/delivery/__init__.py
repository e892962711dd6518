"""Getting effects out: the outbox sender, deliveries, posting once, lanes, storm control, Slack
health, outbound webhooks.
"""
