"""Noise control in the database: silences, groups, storms, metric alerts dropped as noise."""
