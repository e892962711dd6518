"""structlog: readable in a terminal, JSON in production (or as TOCSIN_LOG_FORMAT says).

Tocsin's own lines go straight through structlog. Every other library's lines (uvicorn,
APScheduler, slack_sdk, SQLAlchemy, alembic, …) come through the standard library's logging
and are rendered by the same processors (structlog's ``ProcessorFormatter``): with JSON on,
every line on stderr is one JSON object.
"""

from __future__ import annotations

import atexit
import json
import logging
import signal
import sys
import threading
from types import FrameType
from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson
import structlog
from structlog.typing import EventDict, WrappedLogger

from bot.runtime.log_writer import LineWriter


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


class _QueuedLogger:
    """structlog's logger for the service: each rendered line goes to the writer thread."""

    def __init__(self, writer: LineWriter) -> None:
        self._writer = writer

    def msg(self, message: str) -> None:
        self._writer.write(message)

    log = debug = info = warn = warning = msg
    fatal = failure = err = error = critical = exception = msg


class _QueuedHandler(logging.Handler):
    """The standard library's lines (uvicorn, SQLAlchemy, …), formatted where they are
    logged and written by the same thread as Tocsin's own, so the two stay in order."""

    def __init__(self, writer: LineWriter) -> None:
        super().__init__()
        self._writer = writer

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._writer.write(self.format(record))
        except Exception:  # logging's own rule: a bad record never raises
            self.handleError(record)


_writer: LineWriter | None = None


def _start_writer(renderer: structlog.types.Processor) -> LineWriter:
    global _writer  # one writer thread per process, replaced on reconfiguring
    if _writer is not None:
        _writer.close()
        atexit.unregister(_writer.close)

    stamp = structlog.processors.TimeStamper(fmt="iso", utc=True)

    def dropped_line(count: int) -> str:
        fields = {
            "event": "log_lines_dropped",
            "count": count,
            "why": "the log stream was not taking lines",
            "level": "warning",
        }
        return str(renderer(None, "warning", stamp(None, "warning", fields)))

    _writer = LineWriter(sys.stderr, dropped_line=dropped_line)
    atexit.register(_writer.close)  # a normal exit writes what is queued; SIGTERM:
    _write_queue_before_termination()
    return _writer


def flush_logs(timeout: float = 5.0) -> None:
    """Write every line logged so far before going on (a process about to kill itself)."""
    if _writer is not None:
        _writer.flush(timeout)
    sys.stdout.flush()
    sys.stderr.flush()


def _write_queue_before_termination() -> None:
    """On SIGTERM, write the queued lines before the process ends. uvicorn stops gracefully on
    SIGTERM and then raises it again with the handler it found installed, so that the exit
    status says SIGTERM; with the default handler the process would end at once, without the
    interpreter's exit hooks, and the shutdown's own lines (``workers_stopped``, …) would be
    lost in the writer's queue. This handler writes them, then ends the process the default
    way. (Signal handlers can only be set from the main thread.)"""
    if threading.current_thread() is not threading.main_thread():
        return

    def flush_then_end(signum: int, _: FrameType | None) -> None:
        flush_logs()
        signal.signal(signum, signal.SIG_DFL)
        signal.raise_signal(signum)

    signal.signal(signal.SIGTERM, flush_then_end)


def configure_logging(
    *,
    fmt: str,
    level: str,
    access_log: bool = False,
    cache_loggers: bool = False,
    background_writer: bool = False,
) -> None:
    """Render every line as ``fmt`` says, from ``level`` up. ``cache_loggers`` (the service):
    each logger is built once, on its first line, instead of on every line (~2 µs a line;
    tests leave it off, so that ``structlog.testing.capture_logs`` sees every line).
    ``background_writer`` (the service): lines are written by a thread of their own
    (:mod:`bot.runtime.log_writer`), never on the event loop; commands write at once."""
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
    writer = _start_writer(renderer) if background_writer else None
    handler: logging.Handler = (
        _QueuedHandler(writer) if writer is not None else logging.StreamHandler(sys.stderr)
    )
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
        logger_factory=(
            structlog.PrintLoggerFactory(file=sys.stderr)
            if writer is None
            else (lambda *_: _QueuedLogger(writer))
        ),
        cache_logger_on_first_use=cache_loggers,
    )
