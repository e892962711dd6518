"""SIGKILL with escalations due: after a restart each overdue step runs exactly once."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import httpx
import pytest

from config.environment import child_environment
from tests.support.servers import free_port

pytestmark = pytest.mark.e2e
TOKEN = "kill-test-token"
POLICY = """
levels:
  1: {name: critical}
  2: {name: major}
  3: {name: minor}
integrations:
  - {name: generic, format: generic, token: "${TOCSIN_WEBHOOK_TOKEN}"}
default_route: {team: ops, channel: "#alerts", policy: fast}
policies:
  fast:
    tiers:
      - {notify: [{user: U0ALICE}], after: 1s}
      - {notify: [{user: U0BOB}], after: 2s}
"""


class Service:
    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.db = tmp / "tocsin.db"
        self.log = tmp / "serve.log"
        (tmp / "policy.yaml").write_text(POLICY)
        self.env = child_environment({}, clean=True)
        self.env.update(
            TOCSIN_PORT=str(self.port),
            TOCSIN_DATABASE_URL=f"sqlite:///{self.db}",
            TOCSIN_CONFIG=str(tmp / "policy.yaml"),
            TOCSIN_WEBHOOK_TOKEN=TOKEN,
            TOCSIN_ESCALATION_TICK_SECONDS="0.5",
            TOCSIN_LOG_FORMAT="json",
        )
        self.process: subprocess.Popen[bytes] | None = None
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=5)

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "serve"], env=self.env, stdout=out, stderr=out
            )
        self.wait("ready", self.ready, seconds=30)

    def ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"tocsin serve exited:\n{self.log.read_text()[-3000:]}")
        try:
            return self.http.get("/readyz").status_code == 200
        except httpx.TransportError:
            return False

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)
        self.http.close()

    def wait(self, what: str, check: object, seconds: float) -> None:
        assert callable(check)
        deadline = time.monotonic() + seconds
        while not check():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out: {what}\n{self.log.read_text()[-3000:]}")
            time.sleep(0.1)

    def query(self, sql: str) -> list[tuple[object, ...]]:
        with sqlite3.connect(self.db, timeout=30) as conn:
            return list(conn.execute(sql).fetchall())


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    found = Service(tmp_path)
    try:
        yield found
    finally:
        found.stop()


def test_overdue_steps_run_exactly_once_after_sigkill(service: Service) -> None:
    service.start()
    alerts = 30
    for n in range(alerts):
        response = service.http.post(
            "/webhooks/generic",
            json={"title": f"Kill test {n}", "level": 2},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        assert response.status_code == 202
    service.wait(
        "every alert stored",
        lambda: service.query("SELECT count(*) FROM alert")[0][0] == alerts,
        seconds=20,
    )
    service.kill()  # tier 1 falls due about now, tier 2 while the service is down
    service.start()

    def all_paged_twice() -> bool:
        rows = service.query("SELECT count(*) FROM alert_event WHERE kind = 'paged'")
        return cast(int, rows[0][0]) >= 2 * alerts

    service.wait("both tiers paged for every alert", all_paged_twice, seconds=30)
    steps = service.query("SELECT alert_id, summary FROM alert_event WHERE kind = 'paged'")
    per_step = Counter((alert_id, str(summary).split(":")[0]) for alert_id, summary in steps)
    assert len(per_step) == 2 * alerts
    assert set(per_step.values()) == {1}, "a step ran twice"
    pages = service.query("SELECT alert_id, payload FROM outbox WHERE kind = 'page_dm'")
    assert len(pages) == 2 * alerts
