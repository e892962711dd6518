"""The policy file's sections, one model each with its checks (``config.policy`` reads the
file and assembles them)."""
