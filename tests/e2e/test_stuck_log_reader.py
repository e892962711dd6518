"""A log reader that stops reading never stops the service (bot/runtime/log_writer.py).

`tocsin serve`'s stdout and stderr go to a pipe that nobody reads — a container runtime's log
driver or journald that has fallen behind: the pipe fills after a few hundred lines. Webhooks
are still answered and their alerts still reach the channel."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.process import serve_process_unread

pytestmark = pytest.mark.e2e
TOKEN = "e2e-webhook-token"
PIPE_BYTES = 65_536  # Linux's default pipe capacity


def firing(n: int) -> dict[str, Any]:
    return {
        "version": "4",
        "status": "firing",
        "receiver": "tocsin",
        "groupKey": f"{{}}:{{n={n}}}",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": f"DiskFull{n}", "severity": "warning"},
                "annotations": {"summary": f"disk {n} is full"},
                "startsAt": "2026-12-07T10:00:00Z",
                "fingerprint": f"stuck{n:011d}",
            }
        ],
    }


def test_webhooks_are_answered_and_alerts_posted_while_nobody_reads_the_log(
    tmp_path: Path,
) -> None:
    with (
        serve_process_unread(tmp_path, TOCSIN_WEBHOOK_TOKEN=TOKEN) as (base, _),
        httpx.Client(base_url=base, timeout=10) as http,
    ):
        # each accepted webhook logs a line of ~150 bytes: 1,000 fill the pipe twice over
        sent = 1_000
        for n in range(sent):
            answer = http.post(
                "/webhooks/alertmanager",
                json=firing(n),
                headers={"Authorization": f"Bearer {TOKEN}"},
            )
            assert answer.status_code == 202, answer.text

        def alerts_open() -> int:
            text = http.get("/metrics").text
            counts = [
                float(line.rsplit(" ", 1)[1])
                for line in text.splitlines()
                if line.startswith("tocsin_alerts_open{")
            ]
            return int(sum(counts))

        def something_in_the_channel() -> bool:
            state = http.get("/sandbox/state", params={"user": "U0ALICE"}).json()
            return any(channel["messages"] for channel in state["channels"])

        deadline = time.monotonic() + 60
        while alerts_open() < sent or not something_in_the_channel():
            assert time.monotonic() < deadline, f"{alerts_open()} of {sent} alerts opened"
            time.sleep(0.2)
        assert 150 * sent > 2 * PIPE_BYTES
