"""Pure Block Kit renderers and text escaping: data in, Slack blocks out, no I/O."""
