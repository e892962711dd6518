"""Log lines: JSON that any value can go into, and no routine chatter from libraries."""

from __future__ import annotations

import json
import logging
import signal
from collections.abc import Iterator

import pytest
import structlog

from bot.runtime import logging_setup
from bot.runtime.logging_setup import NOISY_LOGGERS, configure_logging, flush_logs, redact_query


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """configure_logging changes process-wide state: put it back, so no handler keeps writing
    to this test's captured (then closed) stderr."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    on_sigterm = signal.getsignal(signal.SIGTERM)  # the service's writer sets its own
    yield
    signal.signal(signal.SIGTERM, on_sigterm)
    if logging_setup._writer is not None:  # the service's writer thread, if a test started it
        logging_setup._writer.close()
        logging_setup._writer = None
    structlog.reset_defaults()
    root.handlers[:] = handlers
    root.setLevel(level)
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET)


def test_a_json_line_holds_values_orjson_refuses(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(fmt="json", level="info")
    structlog.get_logger("t").info("odd_values", big=2**70, thing=object(), text="é")
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert (line["event"], line["big"], line["text"]) == ("odd_values", 2**70, "é")
    assert line["thing"].startswith("<object object")


def test_a_cached_logger_still_takes_each_line_s_context(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The service builds each logger once (``cache_loggers``); what a line is logged with
    (a request's id) is still that line's own."""
    configure_logging(fmt="json", level="info", cache_loggers=True)
    assert structlog.get_config()["cache_logger_on_first_use"] is True
    log = structlog.get_logger("t")
    for request_id in ("r-1", "r-2"):
        with structlog.contextvars.bound_contextvars(request_id=request_id):
            log.info("line", n=request_id)
    lines = [json.loads(text) for text in capsys.readouterr().err.strip().splitlines()]
    assert [(line["request_id"], line["n"]) for line in lines] == [("r-1", "r-1"), ("r-2", "r-2")]


def test_the_service_s_lines_and_the_libraries_go_out_through_one_writer_in_order(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(fmt="json", level="info", cache_loggers=True, background_writer=True)
    log = structlog.get_logger("t")
    log.info("first", n=1)
    logging.getLogger("uvicorn.error").warning("second")
    log.info("third", n=3)
    flush_logs()

    lines = [json.loads(text) for text in capsys.readouterr().err.strip().splitlines()]
    assert [line["event"] for line in lines] == ["first", "second", "third"]
    assert lines[1]["logger"] == "uvicorn.error"
    # SIGTERM (which uvicorn raises again after its graceful stop) writes the queue first
    assert callable(signal.getsignal(signal.SIGTERM))


def test_a_dropped_lines_notice_is_a_json_line_like_the_others() -> None:
    configure_logging(fmt="json", level="info", background_writer=True)
    assert logging_setup._writer is not None
    notice = json.loads(logging_setup._writer._dropped_line(7))
    assert (notice["event"], notice["count"], notice["level"]) == (
        "log_lines_dropped",
        7,
        "warning",
    )
    assert notice["timestamp"].endswith("Z")


def test_the_timer_library_logs_only_warnings_at_info_level() -> None:
    configure_logging(fmt="json", level="info")
    assert logging.getLogger("apscheduler.scheduler").getEffectiveLevel() == logging.WARNING
    configure_logging(fmt="json", level="debug")
    assert logging.getLogger("apscheduler").getEffectiveLevel() == logging.WARNING


def _last_json_line(capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    line: dict[str, object] = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    return line


def test_a_library_line_is_json_with_its_logger_and_level(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(fmt="json", level="info")
    logging.getLogger("uvicorn.error").warning("Invalid HTTP request received: %s", "x")
    line = _last_json_line(capsys)
    assert line["event"] == "Invalid HTTP request received: x"
    assert (line["logger"], line["level"]) == ("uvicorn.error", "warning")
    assert "timestamp" in line


def test_a_library_exception_is_one_json_line_with_its_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(fmt="json", level="info")
    try:
        raise ValueError("deep")
    except ValueError:
        logging.getLogger("sqlalchemy.pool").exception("connection failed")
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    line = json.loads(lines[0])
    assert line["event"] == "connection failed"
    assert "ValueError: deep" in line["exception"]


def _access_line() -> None:
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "POST", "/webhooks/am", "1.1", 202
    )


def test_the_access_log_is_off_unless_switched_on(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(fmt="json", level="info")
    _access_line()
    assert capsys.readouterr().err == ""


def test_the_access_log_when_on_is_json_fields(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(fmt="json", level="info", access_log=True)
    _access_line()
    line = _last_json_line(capsys)
    assert line["event"] == "http_request"
    assert (line["method"], line["path"], line["status"]) == ("POST", "/webhooks/am", 202)
    assert line["client"] == "127.0.0.1:5000"


@pytest.mark.parametrize("fmt", ["json", "console"])
def test_the_access_log_never_shows_a_query_value(
    fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(fmt=fmt, level="info", access_log=True)
    secret = "feed-token-Zx9_secret"
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d',
        "127.0.0.1:5000",
        "GET",
        f"/calendar/rotations/ops.ics?token={secret}&x=1",
        "1.1",
        200,
    )
    err = capsys.readouterr().err
    assert secret not in err
    assert "/calendar/rotations/ops.ics?token=[redacted]&x=[redacted]" in err


@pytest.mark.parametrize(
    ("target", "logged"),
    [
        ("/webhooks/am", "/webhooks/am"),
        ("/webhooks/am?token=s3cret", "/webhooks/am?token=[redacted]"),
        ("/review?", "/review"),
        ("/a?token=&flag", "/a?token=[redacted]&flag=[redacted]"),
        ("/a?t%6Fken=s3cret", "/a?token=[redacted]"),
    ],
)
def test_redact_query_keeps_the_path_and_names_only(target: str, logged: str) -> None:
    assert redact_query(target) == logged
