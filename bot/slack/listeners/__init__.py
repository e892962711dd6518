"""Thin Bolt listeners and slash sub-commands: ack, check, call a function, answer."""
