"""The fake Slack Web API served over HTTP, and the checks Slack makes on what it is sent
(Block Kit limits, arguments, response_url messages, file uploads)."""
