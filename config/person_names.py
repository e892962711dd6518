"""How the policy file names a person: a Slack user id (``U012ABCDEF``) or an email address
(``alice@example.com``, resolved to the Slack id at start and on reload, see config.people)."""

from __future__ import annotations

import re

SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}\Z")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+\Z")


def is_email(value: str) -> bool:
    return EMAIL.match(value) is not None


def person_problem(value: str) -> str | None:
    """What is wrong with ``value`` as a person, or ``None``."""
    if SLACK_USER.match(value) or is_email(value):
        return None
    return f'"{value}" is not a Slack user id (like U012ABCDEF) or an email address'


def person(value: str) -> str:
    """A pydantic validator: ``value`` names a person."""
    problem = person_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value
