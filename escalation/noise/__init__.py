"""Noise rules: silences, grouping, flapping and storms."""
