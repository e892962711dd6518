"""What a refused 1 MiB webhook costs the server, by path (issue 15, item 4).

    .venv/bin/python -m bench.refusal_cost_bench [--each 30]

On the real service (its HTTP server on loopback, SQLite, the fake Slack), it sends ``--each``
1 MiB bodies, one at a time, that are refused for their token: a wrong ``Authorization``
header on ``/webhooks/generic``, and a wrong ``routing_key`` in the body on
``/webhooks/pagerduty`` and ``/v2/enqueue`` (a PagerDuty event with 30,000 small custom
details, the routing key last; and a body holding the key 40,000 times). It prints the
median and p90 time to the answer (client side, loopback: the upload is included). The last
line is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

from tests.support.harness import Harness, running_tocsin
from tests.support.policies import example_policy

MIB = 1 << 20


def pagerduty_event() -> bytes:
    details = {f"k{i}": {"v": i, "s": "x"} for i in range(30_000)}
    event = {
        "event_action": "trigger",
        "payload": {"summary": "x", "source": "y", "severity": "info", "custom_details": details},
    }
    body = json.dumps(event)[:-1]
    body += ', "pad": "' + "p" * (MIB - len(body) - 40) + '", "routing_key": "wrong-key"}'
    return body.encode()


def many_keys() -> bytes:
    one = '{"routing_key": "wrong-key"}, '
    count = (MIB - 20) // len(one)
    return ('{"x": [' + one * (count - 1) + one[:-2] + "]}").encode()


async def timed(
    tocsin: Harness, path: str, body: bytes, headers: dict[str, str], each: int
) -> dict[str, float | int]:
    times: list[float] = []
    statuses: set[int] = set()
    for _ in range(each):
        started = time.perf_counter()
        response = await tocsin.http.post(f"{tocsin.base_url}{path}", content=body, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        statuses.add(response.status_code)
    times.sort()
    return {
        "status": min(statuses) if len(statuses) == 1 else -1,
        "p50_ms": round(statistics.median(times), 1),
        "p90_ms": round(times[int(len(times) * 0.9) - 1], 1),
    }


async def main(args: argparse.Namespace) -> None:
    json_type = {"Content-Type": "application/json"}
    event, keys = pagerduty_event(), many_keys()
    generic = json.dumps({"title": "x", "pad": "p" * (MIB - 40)}).encode()
    cases = {
        "generic, wrong Bearer token": (
            "/webhooks/generic",
            generic,
            {**json_type, "Authorization": "Bearer wrong"},
        ),
        "pagerduty, wrong routing_key": ("/webhooks/pagerduty", event, json_type),
        "/v2/enqueue, wrong routing_key": ("/v2/enqueue", event, json_type),
        "pagerduty, routing_key x40,000": ("/webhooks/pagerduty", keys, json_type),
        "/v2/enqueue, routing_key x40,000": ("/v2/enqueue", keys, json_type),
    }
    figures: dict[str, dict[str, float | int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        policy = example_policy(Path(tmp))
        async with running_tocsin(
            database_url=f"sqlite:///{tmp}/bench.db", config_path=policy
        ) as tocsin:
            for name, (path, body, headers) in cases.items():
                figures[name] = await timed(tocsin, path, body, headers, args.each)
    print(f"\nRefused 1 MiB bodies, {args.each} of each, one at a time:")
    for name, f in figures.items():
        print(f"  {name:<34} HTTP {f['status']}  p50 {f['p50_ms']:>6} ms  p90 {f['p90_ms']:>6} ms")
    print(json.dumps(figures))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--each", type=int, default=30, help="requests of each kind")
    asyncio.run(main(parser.parse_args()))
