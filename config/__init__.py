"""Typed settings and the policy file format. Imports nothing from the project."""
