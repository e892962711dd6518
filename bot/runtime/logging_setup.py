"""structlog: readable in a terminal, JSON in production (or as TOCSIN_LOG_FORMAT says)."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

import orjson
import structlog


def _dumps(value: Any, **kwargs: Any) -> str:
    """orjson (a JSON log line in ~2 µs instead of ~15 µs: one per webhook); the standard
    library for what orjson refuses (an integer beyond 64 bits, a non-string key)."""
    try:
        return orjson.dumps(value, default=kwargs.get("default")).decode()
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(value, **kwargs)


NOISY_LOGGERS = (
    "uvicorn.access",
    "slack_bolt",
    "slack_sdk",
    "aiosqlite",
    "httpx",
    "alembic",
    "apscheduler",
)
"""Libraries whose INFO lines are routine: shown from WARNING up (or at TOCSIN_LOG_LEVEL)."""


def configure_logging(*, fmt: str, level: str) -> None:
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer(serializer=_dumps)
        if use_json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    logging.basicConfig(stream=sys.stderr, level=numeric, format="%(message)s", force=True)
    # apscheduler logs two lines per timer wake-up (every few seconds) at INFO
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(max(numeric, logging.WARNING))
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
