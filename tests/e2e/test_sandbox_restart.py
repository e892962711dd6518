"""The sandbox survives a restart of `tocsin serve`: a warning posted before it is still in the
channel after, and pressing Acknowledge on it updates it in place."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.slack import ids
from tests.support.process import serve_process

pytestmark = pytest.mark.e2e
TOKEN = "e2e-restart-webhook-token"
FIRING = {
    "version": "4",
    "status": "firing",
    "receiver": "tocsin",
    "groupKey": "{}:{}",
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "DiskFull", "severity": "warning"},
            "annotations": {"summary": "disk 97% full on db-1"},
            "startsAt": "2026-11-21T10:00:00Z",
            "fingerprint": "e2e0000000000042",
        }
    ],
}


def wait_for(what: str, check: Callable[[], Any], log: Path, seconds: float = 15) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}; log:\n{log.read_text()[-3000:]}")


def alerts_channel(base: str) -> dict[str, Any] | None:
    state = httpx.get(f"{base}/sandbox/state", params={"user": "U0ALICE"}, timeout=10).json()
    return next((c for c in state["channels"] if c["name"] == "alerts"), None)


def test_a_warning_posted_before_a_restart_can_be_acknowledged_after_it(tmp_path: Path) -> None:
    with serve_process(tmp_path, TOCSIN_WEBHOOK_TOKEN=TOKEN) as (base, log):
        response = httpx.post(
            f"{base}/webhooks/alertmanager",
            json=FIRING,
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=10,
        )
        assert response.status_code == 202, response.text
        channel = wait_for(
            "the warning", lambda: (c := alerts_channel(base)) and c["messages"] and c, log
        )
        [before] = channel["messages"]
    assert (tmp_path / "sandbox.json").exists()  # beside tocsin.db

    with serve_process(tmp_path, TOCSIN_WEBHOOK_TOKEN=TOKEN) as (base, log):
        after = alerts_channel(base)
        assert after is not None, "the channel was forgotten"
        assert [m["ts"] for m in after["messages"]] == [before["ts"]]
        assert after["id"] == channel["id"]
        pressed = httpx.post(
            f"{base}/sandbox/act",
            json={"kind": "button", "user": "U0ALICE", "action_id": ids.ACKNOWLEDGE,
                  "channel": after["id"], "ts": before["ts"]},
            timeout=10,
        )  # fmt: skip
        assert pressed.status_code == 200, pressed.text
        assert pressed.json()["ok"] is True, pressed.text

        def acknowledged() -> bool:
            found = alerts_channel(base)
            assert found is not None
            [message] = found["messages"]  # updated in place: still the one warning
            text = json.dumps(message["blocks"])
            return message["ts"] == before["ts"] and "Acknowledged* by <@U0ALICE>" in text

        wait_for("the acknowledgement on the old warning", acknowledged, log)
