"""`tocsin serve` started as a process, in sandbox mode, walked as a user would: webhook in,
warning in the sandbox, buttons, the resolve modal, repeats and resolution at the source."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import httpx
import pytest

from bot.slack import ids
from tests.support.process import serve_process

pytestmark = pytest.mark.e2e
TOKEN = "e2e-webhook-token"


class Tocsin:
    def __init__(self, base: str, log: Path) -> None:
        self.base = base
        self.log = log
        self.http = httpx.Client(base_url=base, timeout=10)

    def webhook(self, integration: str, payload: Any) -> httpx.Response:
        return self.http.post(
            f"/webhooks/{integration}", json=payload, headers={"Authorization": f"Bearer {TOKEN}"}
        )

    def state(self, user: str = "U0ALICE") -> dict[str, Any]:
        result: dict[str, Any] = self.http.get("/sandbox/state", params={"user": user}).json()
        return result

    def wait(self, what: str, check: Callable[[], Any], seconds: float = 15) -> Any:
        """Poll the running service until ``check()`` gives something truthy."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            found = check()
            if found:
                return found
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}; log:\n{self.log.read_text()[-3000:]}")

    def alerts_messages(self) -> list[dict[str, Any]]:
        for channel in self.state()["channels"]:
            if channel["name"] == "alerts":
                return list(channel["messages"])
        return []

    def act(self, **data: Any) -> dict[str, Any]:
        response = self.http.post("/sandbox/act", json=data)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result


@pytest.fixture
def tocsin(tmp_path: Path) -> Iterator[Tocsin]:
    with serve_process(tmp_path, TOCSIN_WEBHOOK_TOKEN=TOKEN) as (base, log):
        service = Tocsin(base, log)
        try:
            yield service
        finally:
            service.http.close()


def blocks_text(message: dict[str, Any]) -> str:
    return json.dumps(message["blocks"]) + cast(str, message["text"])


def test_webhook_to_resolution_in_the_sandbox(tocsin: Tocsin) -> None:
    firing = {
        "version": "4",
        "status": "firing",
        "receiver": "tocsin",
        "groupKey": "{}:{}",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "HighLatency", "severity": "warning"},
                "annotations": {"summary": "p99 latency above 2s on checkout"},
                "startsAt": "2026-11-21T10:00:00Z",
                "fingerprint": "e2e0000000000001",
            }
        ],
    }
    # 2. a graded warning appears in the channel the route names
    assert tocsin.webhook("alertmanager", firing).status_code == 202
    [message] = tocsin.wait("the warning", tocsin.alerts_messages)
    assert "MAJOR: p99 latency above 2s on checkout" in blocks_text(message)
    where = {"channel": tocsin.state()["channels"][0]["id"], "ts": message["ts"]}

    def message_with(needle: str) -> Callable[[], dict[str, Any] | None]:
        def check() -> dict[str, Any] | None:
            for m in tocsin.alerts_messages():
                if m["ts"] == message["ts"] and needle in blocks_text(m):
                    return m
            return None

        return check

    # 5. a repeat updates the same warning
    assert tocsin.webhook("alertmanager", firing).status_code == 202
    tocsin.wait("the repeat count", message_with("Fired 2 times"))
    assert len(tocsin.alerts_messages()) == 1

    # 3. acknowledge, claim, assign: updated in place
    tocsin.act(kind="button", user="U0ALICE", action_id=ids.ACKNOWLEDGE, **where)
    tocsin.wait("the acknowledgement", message_with("Acknowledged* by <@U0ALICE>"))
    tocsin.act(kind="button", user="U0BOB", action_id=ids.CLAIM, **where)
    tocsin.wait("the claim", message_with("owner <@U0BOB>"))
    tocsin.act(
        kind="user_select",
        user="U0BOB",
        action_id=ids.ASSIGN,
        selected_user="U0CAROL",
        **where,
    )
    tocsin.wait("the assignment", message_with("owner <@U0CAROL>"))

    # 4. resolve through the modal
    tocsin.act(kind="button", user="U0CAROL", action_id=ids.RESOLVE, **where)
    [view] = tocsin.wait("the resolve modal", lambda: tocsin.state("U0CAROL")["views"])
    result = tocsin.act(
        kind="submit_view",
        user="U0CAROL",
        view_id=view["id"],
        values={
            ids.RESOLVE_NOTE_BLOCK: {ids.RESOLVE_NOTE_ACTION: "Restarted the cache tier"},
            ids.RESOLVE_CAUSE_BLOCK: {ids.RESOLVE_CAUSE_ACTION: "software change"},
        },
    )
    assert result["ok"], result
    resolved = tocsin.wait("the resolution", message_with("*Resolved* by <@U0CAROL>"))
    assert "Restarted the cache tier" in blocks_text(resolved)

    # 4b. resolved at the source, marked as such
    other = json.loads(json.dumps(firing))
    other["alerts"][0]["fingerprint"] = "e2e0000000000002"
    other["alerts"][0]["annotations"]["summary"] = "Disk filling on db-2"
    assert tocsin.webhook("alertmanager", other).status_code == 202
    tocsin.wait("the second warning", lambda: len(tocsin.alerts_messages()) == 2)
    other["alerts"][0]["status"] = other["status"] = "resolved"
    assert tocsin.webhook("alertmanager", other).status_code == 202
    tocsin.wait(
        "the resolution by the source",
        lambda: any("Resolved* by the source" in blocks_text(m) for m in tocsin.alerts_messages()),
    )


def test_the_sandbox_page_refuses_actions_from_another_sites_page(tocsin: Tocsin) -> None:
    press = {"kind": "button", "user": "U0BOB"}
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        refused = tocsin.http.post("/sandbox/act", json=press, headers=headers)
        assert refused.status_code == 403, refused.text
        assert "another site" in refused.json()["error"] or "evil.example" in refused.text
