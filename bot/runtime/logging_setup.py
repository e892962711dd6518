"""structlog: readable in a terminal, JSON in production (or as TOCSIN_LOG_FORMAT says).

Tocsin's own lines go straight through structlog. Every other library's lines (uvicorn,
APScheduler, slack_sdk, SQLAlchemy, alembic, …) come through the standard library's logging
and are rendered by the same processors (structlog's ``ProcessorFormatter``): with JSON on,
every line on stderr is one JSON object.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson
import structlog
from structlog.typing import EventDict, WrappedLogger


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

ACCESS_LOGGER = "uvicorn.access"
REDACTED = "[redacted]"


def redact_query(path: str) -> str:
    """A request target as logged: every query value replaced by ``[redacted]`` (webhook and
    calendar feed tokens travel as ``?token=``; query strings are secrets), names kept."""
    path, mark, query = path.partition("?")
    if not mark:
        return path
    names = [name for name, _ in parse_qsl(query, keep_blank_values=True)]
    return f"{path}?{urlencode([(n, REDACTED) for n in names], safe='[]')}" if names else path


def _library_fields(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """A library's line names its logger; uvicorn's access line becomes fields."""
    record = event_dict.get("_record")
    if not isinstance(record, logging.LogRecord):
        return event_dict
    event_dict["logger"] = record.name
    args = event_dict.pop("positional_args", None)
    if record.name == ACCESS_LOGGER and isinstance(args, tuple) and len(args) == 5:
        client, method, path, http_version, status = args
        event_dict.update(
            event="http_request",
            client=client,
            method=method,
            path=redact_query(path) if isinstance(path, str) else path,
            http_version=http_version,
            status=status,
        )
    return event_dict


def configure_logging(
    *, fmt: str, level: str, access_log: bool = False, cache_loggers: bool = False
) -> None:
    """Render every line as ``fmt`` says, from ``level`` up. ``cache_loggers`` (the service):
    each logger is built once, on its first line, instead of on every line (~2 µs a line;
    tests leave it off, so that ``structlog.testing.capture_logs`` sees every line)."""
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer(serializer=_dumps)
        if use_json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    shared: list[structlog.types.Processor] = [
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, _library_fields],
            pass_foreign_args=True,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    logging.basicConfig(level=numeric, handlers=[handler], force=True)
    for name in ("uvicorn", "uvicorn.error", ACCESS_LOGGER):  # as uvicorn's own config leaves them
        library = logging.getLogger(name)
        library.handlers.clear()
        library.propagate = True
        library.disabled = False
    # apscheduler logs two lines per timer wake-up (every few seconds) at INFO
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(max(numeric, logging.WARNING))
    if access_log:
        logging.getLogger(ACCESS_LOGGER).setLevel(logging.INFO)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            *shared,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=cache_loggers,
    )
