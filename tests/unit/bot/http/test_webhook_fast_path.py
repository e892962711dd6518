"""The webhook fast path: the two POST endpoints go straight to their handlers, everything
else reaches the app, and a handler that fails is a 500 (logged), not a dropped connection."""

from __future__ import annotations

import httpx
import pytest
from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

from bot.http.intake.webhooks import WebhookFastPath, Webhooks


class Calls:
    def __init__(self) -> None:
        self.seen: list[str] = []

    async def receive(self, name: str, request: Request) -> Response:
        body = await request.body()
        self.seen.append(f"receive {name} {body.decode()}")
        if name == "broken":
            raise RuntimeError("boom")
        return JSONResponse({"integration": name}, status_code=202)

    async def enqueue(self, request: Request) -> Response:
        self.seen.append("enqueue")
        return JSONResponse({"status": "success"}, status_code=202)


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    await PlainTextResponse(f"app {scope['method']} {scope['path']}")(scope, receive, send)


def client(calls: Calls) -> httpx.AsyncClient:
    webhooks = Webhooks(
        router=APIRouter(),
        receive=calls.receive,
        enqueue=calls.enqueue,
        holds_token=lambda request: False,
    )
    transport = httpx.ASGITransport(app=WebhookFastPath(app, webhooks=webhooks))
    return httpx.AsyncClient(transport=transport, base_url="http://tocsin")


async def test_posts_to_a_webhook_or_the_enqueue_path_go_to_their_handlers() -> None:
    calls = Calls()
    async with client(calls) as http:
        first = await http.post("/webhooks/alertmanager", content=b"{}")
        second = await http.post("/v2/enqueue", content=b"{}")
    assert (first.status_code, first.json()) == (202, {"integration": "alertmanager"})
    assert second.json() == {"status": "success"}
    assert calls.seen == ["receive alertmanager {}", "enqueue"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/webhooks/alertmanager"),
        ("GET", "/webhooks"),
        ("POST", "/webhooks/"),
        ("POST", "/webhooks/a/b"),
        ("POST", "/webhooksx"),
        ("POST", "/slack/events"),
    ],
)
async def test_every_other_request_reaches_the_app(method: str, path: str) -> None:
    calls = Calls()
    async with client(calls) as http:
        answer = await http.request(method, path)
    assert answer.text == f"app {method} {path}"
    assert calls.seen == []


async def test_a_handler_that_fails_is_answered_with_a_500(
    capsys: pytest.CaptureFixture[str],
) -> None:
    calls = Calls()
    async with client(calls) as http:
        answer = await http.post("/webhooks/broken", content=b"{}")
    assert (answer.status_code, answer.json()) == (500, {"error": "internal error"})
    logged = capsys.readouterr()
    assert "webhook_failed" in logged.out + logged.err
