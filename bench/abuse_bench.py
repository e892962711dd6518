"""Abuse benchmark: what each check refuses, and whether a noisy integration starves a quiet one.

    .venv/bin/python -m bench.abuse_bench [--flood 2000] [--quiet 100] [--fuzz ci|long]

On the real service (its HTTP server on loopback, SQLite, the fake Slack over HTTP), it
1. sends a fixed mix of hostile requests (bad tokens, unknown integrations, each kind of
   malformed body, forged, stale and oversized Slack requests) and prints
   ``tocsin_requests_refused_total{reason}`` as read from ``/metrics``;
2. floods one integration (``noisy``: 600/min, burst 60) from 16 concurrent clients while a
   quiet integration posts ``--quiet`` alerts one at a time, and prints how many of each were
   accepted or refused and the quiet one's latency;
3. with ``--fuzz``, runs the fuzz tests under that hypothesis profile and prints the cases run.

Timings are indicative on a shared machine; the counts are exact. The last line is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bot.sandbox.signing import sign_request
from config.environment import child_environment
from tests.support.harness import SIGNING_SECRET, WEBHOOK_TOKEN, Harness, running_tocsin
from tests.support.policies import example_policy

INTEGRATIONS = (
    '  - {name: noisy, format: generic, token: "${TOCSIN_WEBHOOK_TOKEN}",'
    " rate_limit: {per_minute: 600, burst: 60}}\n"
    '  - {name: quiet, format: generic, token: "${TOCSIN_WEBHOOK_TOKEN}",'
    " rate_limit: {per_minute: 100000, burst: 10000}}\n"
)
AUTH = {"Authorization": f"Bearer {WEBHOOK_TOKEN}", "Content-Type": "application/json"}
HOSTILE_BODIES: dict[str, tuple[bytes, str]] = {
    "duplicate key": (b'{"title": "a", "title": "b"}', "application/json"),
    "not UTF-8": (b'{"title": "\xff"}', "application/json"),
    "not JSON": (b"{nope", "application/json"),
    "nested 10,000 deep": (b"[" * 10_000, "application/json"),
    "NaN": (b'{"title": "a", "v": NaN}', "application/json"),
    "NUL in a string": (b'{"title": "a\\u0000"}', "application/json"),
    "form content type": (b"title=a", "application/x-www-form-urlencoded"),
    "5,000 labels": (
        json.dumps({"title": "a", "labels": {f"k{i}": "v" for i in range(5000)}}).encode(),
        "application/json",
    ),
    "2 MiB body": (b" " * (2 << 20), "application/json"),
}


async def refusals(tocsin: Harness, each: int) -> dict[str, float]:
    http, base = tocsin.http, tocsin.base_url
    for _ in range(each):
        await http.post(
            f"{base}/webhooks/quiet",
            json={"title": "x"},
            headers={"Authorization": "Bearer wrong-token"},
        )
        await http.post(f"{base}/webhooks/nope", json={"title": "x"}, headers=AUTH)
        for body, content_type in HOSTILE_BODIES.values():
            headers = {**AUTH, "Content-Type": content_type}
            await http.post(f"{base}/webhooks/quiet", content=body, headers=headers)
        now = int(time.time())
        for secret, at, form in (
            ("forged", now, "payload=%7B%7D"),
            (SIGNING_SECRET, now - 600, "payload=%7B%7D"),
            (SIGNING_SECRET, now, "payload=" + "a" * (2 << 20)),
            (SIGNING_SECRET, now, "payload=%5B1%5D"),
        ):
            headers = sign_request(signing_secret=secret, body=form, timestamp=at)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            await http.post(f"{base}/slack/events", content=form, headers=headers)
    text = (await http.get(f"{base}/metrics")).text
    found = re.findall(r'^tocsin_requests_refused_total\{reason="([^"]+)"\} (\S+)$', text, re.M)
    return {reason: float(count) for reason, count in found}


async def flood(tocsin: Harness, *, total: int, quiet: int) -> dict[str, Any]:
    http, base = tocsin.http, tocsin.base_url
    counts: dict[str, dict[int, int]] = {"noisy": {}, "quiet": {}}
    body = json.dumps({"title": "flood", "fingerprint": "flood"}).encode()
    remaining = total

    async def noisy_client() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            status = (
                await http.post(f"{base}/webhooks/noisy", content=body, headers=AUTH)
            ).status_code
            counts["noisy"][status] = counts["noisy"].get(status, 0) + 1

    latencies: list[float] = []

    async def quiet_client() -> None:
        for i in range(quiet):
            started = time.perf_counter()
            payload = {"title": f"quiet {i % 5}", "fingerprint": f"quiet-{i % 5}"}
            status = (
                await http.post(f"{base}/webhooks/quiet", json=payload, headers=AUTH)
            ).status_code
            latencies.append((time.perf_counter() - started) * 1000)
            counts["quiet"][status] = counts["quiet"].get(status, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(quiet_client(), *(noisy_client() for _ in range(16)))
    latencies.sort()
    return {
        "seconds": round(time.perf_counter() - started, 2),
        "noisy": counts["noisy"],
        "quiet": counts["quiet"],
        "quiet_latency_ms_p50": round(statistics.median(latencies), 1),
        "quiet_latency_ms_p99": round(latencies[int(len(latencies) * 0.99) - 1], 1),
    }


def fuzz(profile: str) -> dict[str, int]:
    tests = [
        "tests/unit/bot/test_body_checks.py",
        "tests/unit/escalation/sources/test_parsers_fuzzed.py",
        "tests/integration/test_abuse_webhooks.py::test_fuzzed_bodies_never_cause_a_5xx_and_are_stored_only_when_accepted",
        "tests/integration/test_abuse_slack.py::test_fuzzed_signed_slack_requests_never_crash_or_answer_5xx",
        "tests/integration/test_openapi_schemathesis.py",
    ]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests],
        env=child_environment({"TOCSIN_FUZZ_PROFILE": profile}),
        capture_output=True,
        text=True,
        check=False,
    )
    print(done.stdout[-3000:])
    cases = {m[1].strip(): int(m[0]) for m in re.findall(r"^\s+(\d+)  (.+)$", done.stdout, re.M)}
    cases["exit status"] = done.returncode
    return cases


async def main(args: argparse.Namespace) -> None:
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        policy = example_policy(Path(tmp), integrations=INTEGRATIONS)
        async with (
            running_tocsin(database_url=f"sqlite:///{tmp}/bench.db", config_path=policy) as tocsin,
            httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=32)) as http,
        ):
            tocsin.http = http
            figures["refused"] = await refusals(tocsin, args.each)
            figures["flood"] = await flood(tocsin, total=args.flood, quiet=args.quiet)
    print(f"\nRequests refused, {args.each} of each hostile request (from /metrics):")
    for reason, count in sorted(figures["refused"].items()):
        print(f"  {reason:<20} {count:>6.0f}")
    f = figures["flood"]
    print(f"\nFlood of {args.flood} to 'noisy' with {args.quiet} to 'quiet' in {f['seconds']} s:")
    print(f"  noisy: {f['noisy']}\n  quiet: {f['quiet']}")
    print(f"  quiet latency p50 {f['quiet_latency_ms_p50']} ms, p99 {f['quiet_latency_ms_p99']} ms")
    if args.fuzz:
        figures["fuzz"] = fuzz(args.fuzz)
    print(json.dumps(figures))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--each", type=int, default=10, help="copies of each hostile request")
    parser.add_argument("--flood", type=int, default=2000, help="requests to the noisy integration")
    parser.add_argument("--quiet", type=int, default=100, help="requests to the quiet one")
    parser.add_argument("--fuzz", choices=["ci", "long"], help="also run the fuzz tests")
    asyncio.run(main(parser.parse_args()))
