"""Log lines: JSON that any value can go into, and no routine chatter from libraries."""

from __future__ import annotations

import json
import logging

import pytest
import structlog

from bot.runtime.logging_setup import NOISY_LOGGERS, configure_logging


@pytest.fixture(autouse=True)
def _restore_logging() -> object:
    yield
    structlog.reset_defaults()
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET)


def test_a_json_line_holds_values_orjson_refuses(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(fmt="json", level="info")
    structlog.get_logger("t").info("odd_values", big=2**70, thing=object(), text="é")
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert (line["event"], line["big"], line["text"]) == ("odd_values", 2**70, "é")
    assert line["thing"].startswith("<object object")


def test_the_timer_library_logs_only_warnings_at_info_level() -> None:
    configure_logging(fmt="json", level="info")
    assert logging.getLogger("apscheduler.scheduler").getEffectiveLevel() == logging.WARNING
    configure_logging(fmt="json", level="debug")
    assert logging.getLogger("apscheduler").getEffectiveLevel() == logging.WARNING
