"""`tocsin send-test` posts one sample to each integration of the policy file, by the
integration's name, in its format, with its own token (and Grafana's signature when it has one)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from typer.testing import CliRunner

from bot.cli import app as cli
from bot.sandbox.testing import serve_app

POLICY = """
levels:
  1: {name: critical}
  2: {name: major}
  3: {name: minor}
integrations:
  - {name: prod-am, format: alertmanager, token: am-token-0123}
  - {name: kuma, format: uptime_kuma, token: kuma-token-0123}
  - {name: dashboards, format: grafana, token: graf-token-0123, hmac_secret: graf-secret-0123}
default_route: {team: ops, channel: '#alerts', policy: quick}
policies:
  quick:
    tiers:
      - {notify: [{channel: '#alerts'}], after: 0m}
"""


async def test_each_integration_gets_its_formats_sample_by_its_name_and_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    received: list[tuple[str, str, bytes, str | None]] = []

    async def webhook(request: Request) -> Response:
        body = await request.body()
        received.append(
            (
                request.path_params["name"],
                request.headers.get("authorization", ""),
                body,
                request.headers.get("x-grafana-alerting-signature"),
            )
        )
        return JSONResponse({"status": "accepted"}, status_code=202)

    path = tmp_path / "policy.yaml"
    path.write_text(POLICY)
    monkeypatch.setenv("TOCSIN_CONFIG", str(path))
    receiver = Starlette(routes=[Route("/webhooks/{name}", webhook, methods=["POST"])])
    async with AsyncExitStack() as stack:
        base = await stack.enter_async_context(serve_app(receiver))
        result = await asyncio.to_thread(CliRunner().invoke, cli, ["send-test", "--url", base])

    assert result.exit_code == 0, result.output
    assert [name for name, *_ in received] == ["prod-am", "kuma", "dashboards"]
    tokens = {name: auth for name, auth, _, _ in received}
    assert tokens == {
        "prod-am": "Bearer am-token-0123",
        "kuma": "Bearer kuma-token-0123",
        "dashboards": "Bearer graf-token-0123",
    }
    _, _, body, signature = received[2]
    expected = hmac.new(b"graf-secret-0123", body, hashlib.sha256).hexdigest()
    assert signature == expected
    assert b'"heartbeat"' in received[1][2]  # Uptime Kuma's shape, not Alertmanager's
