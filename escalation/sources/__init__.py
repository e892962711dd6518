"""Webhook payload parsers, one per source format.

A parser takes the already-decoded JSON body (what ``json.loads`` returned) and gives the
events in it, or raises :class:`escalation.errors.PayloadError`.
"""

from __future__ import annotations

from collections.abc import Callable

from escalation.model import AlertEvent
from escalation.sources.alertmanager import parse_alertmanager
from escalation.sources.generic import parse_generic
from escalation.sources.grafana import parse_grafana
from escalation.sources.pagerduty import parse_pagerduty

Parser = Callable[[object], list[AlertEvent]]

PARSERS: dict[str, Parser] = {
    "alertmanager": parse_alertmanager,
    "generic": parse_generic,
    "grafana": parse_grafana,
    "pagerduty": parse_pagerduty,
}

FORMATS: tuple[str, ...] = tuple(PARSERS)

__all__ = [
    "FORMATS",
    "PARSERS",
    "Parser",
    "parse_alertmanager",
    "parse_generic",
    "parse_grafana",
    "parse_pagerduty",
]
