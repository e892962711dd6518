"""The ingest benchmark's load generator (bench/ingest_bench.py): one phase of webhooks sent
from processes of their own over keep-alive HTTP/1.1 connections of a minimal client
(:class:`KeepAlive`), closed loop or paced, with each answer's status and latency."""

from __future__ import annotations

import asyncio
import gc
import json
import multiprocessing
import time
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

import uvloop

TOKEN = "bench-webhook-token"  # noqa: S105 - the benchmark's own throwaway token


@dataclass(frozen=True)
class Phase:
    name: str
    integration: str
    bodies: list[bytes]
    alerts_per_body: int
    seconds: float
    connections: int
    rate: float | None = None
    """Requests per second for an open-loop phase; ``None``: closed loop."""


@dataclass
class LoadResult:
    statuses: dict[int, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    accepted: list[tuple[int, int]] = field(default_factory=list)
    """(inbox id, index of the body sent) of every 202."""
    elapsed: float = 0.0


def run_load(url: str, phase: Phase, offset: int, stride: int) -> LoadResult:
    # The load generator's own garbage-collector passes (a full one took ~75 ms here: the
    # phase's bodies, tasks and answers) would stall every request in flight and be counted
    # as the server's latency; it runs for seconds, so it collects before and after instead.
    gc.collect()
    gc.disable()
    try:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(_load(url, phase, offset, stride))
    finally:
        gc.enable()


class KeepAlive:
    """One keep-alive HTTP/1.1 connection that POSTs prepared bodies: the load generator's
    own CPU per request is a fraction of an HTTP library's, so on a 2-core machine the
    server, not the client, sets the pace. Answers must carry a Content-Length (Tocsin's do).
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, host: str, port: int) -> KeepAlive:
        return cls(*await asyncio.open_connection(host, port))

    async def post(self, head: bytes, body: bytes) -> tuple[int, bytes]:
        self.writer.write(head + body)
        answer = await self.reader.readuntil(b"\r\n\r\n")
        status = int(answer[9:12])
        at = answer.lower().find(b"\r\ncontent-length:")
        if at < 0:
            raise RuntimeError(f"an answer without Content-Length: {answer[:200]!r}")
        length = int(answer[at + 17 : answer.index(b"\r\n", at + 2)])
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


async def _load(url: str, phase: Phase, offset: int, stride: int) -> LoadResult:
    result = LoadResult()
    address = urlsplit(url)
    host, port = address.hostname or "127.0.0.1", address.port or 80
    path = f"/webhooks/{phase.integration}"
    heads = [
        (
            f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Authorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        for body in phase.bodies
    ]
    indexes = iter(range(offset, len(phase.bodies), stride))
    idle: asyncio.Queue[KeepAlive] = asyncio.Queue()
    for _ in range(phase.connections):
        idle.put_nowait(await KeepAlive.open(host, port))

    async def send(index: int, scheduled: float) -> None:
        connection = await idle.get()
        try:
            status, body = await connection.post(heads[index], phase.bodies[index])
        finally:
            idle.put_nowait(connection)
        done = time.perf_counter()
        result.statuses[status] = result.statuses.get(status, 0) + 1
        result.latencies_ms.append((done - scheduled) * 1000)
        if status == 202:
            result.accepted.append((json.loads(body)["inbox_id"], index))

    start = time.perf_counter()
    end = start + phase.seconds
    if phase.rate is None:

        async def worker() -> None:
            for index in indexes:
                now = time.perf_counter()
                if now >= end:
                    return
                await send(index, now)

        await asyncio.gather(*(worker() for _ in range(phase.connections)))
    else:
        interval = stride / phase.rate
        tasks = []
        for n, index in enumerate(indexes):
            scheduled = start + n * interval
            if scheduled >= end:
                break
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(send(index, scheduled)))
        await asyncio.gather(*tasks)
    result.elapsed = time.perf_counter() - start
    while not idle.empty():
        idle.get_nowait().close()
    return result


def load_in_processes(url: str, phase: Phase, processes: int) -> LoadResult:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(processes) as pool:
        parts = pool.starmap(run_load, [(url, phase, k, processes) for k in range(processes)])
    total = LoadResult(elapsed=max(p.elapsed for p in parts))
    for part in parts:
        for status, count in part.statuses.items():
            total.statuses[status] = total.statuses.get(status, 0) + count
        total.latencies_ms += part.latencies_ms
        total.accepted += part.accepted
    return total


def load_spread(urls: list[str], phase: Phase) -> LoadResult:
    """One load process per URL, body k to ``urls[k % n]``, as a load balancer spreads them;
    ``phase.connections`` in flight in all."""
    if len(urls) == 1:
        return load_in_processes(urls[0], phase, 1)
    n = len(urls)
    share = replace(phase, connections=max(1, phase.connections // n))
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(n) as pool:
        parts = pool.starmap(run_load, [(urls[k], share, k, n) for k in range(n)])
    total = LoadResult(elapsed=max(p.elapsed for p in parts))
    for part in parts:
        for status, count in part.statuses.items():
            total.statuses[status] = total.statuses.get(status, 0) + count
        total.latencies_ms += part.latencies_ms
        total.accepted += part.accepted
    return total
