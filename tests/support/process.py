"""`tocsin serve` as a separate process, for the end-to-end tests."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from config.environment import child_environment
from tests.support.servers import free_port


@contextlib.contextmanager
def serve_process(tmp_path: Path, **env_extra: str) -> Iterator[tuple[str, Path]]:
    """Start ``python -m bot serve`` in sandbox mode (no SLACK_* or TOCSIN_* from outside) on a
    free port with a fresh SQLite file; wait until ready; yield (base URL, log file)."""
    with _serve_process(tmp_path, env_extra, unread_output=False) as started:
        yield started


@contextlib.contextmanager
def serve_process_unread(tmp_path: Path, **env_extra: str) -> Iterator[tuple[str, Path]]:
    """:func:`serve_process` with stdout and stderr going to pipes that nobody reads (the log
    file stays empty), as when a log reader has stopped."""
    with _serve_process(tmp_path, env_extra, unread_output=True) as started:
        yield started


@contextlib.contextmanager
def _serve_process(
    tmp_path: Path, env_extra: dict[str, str], *, unread_output: bool
) -> Iterator[tuple[str, Path]]:
    port = free_port()
    env = child_environment({}, clean=True)
    env.update(
        TOCSIN_PORT=str(port),
        TOCSIN_DATABASE_URL=f"sqlite:///{tmp_path / 'tocsin.db'}",
        TOCSIN_LOG_FORMAT="json",
    )
    env.update(env_extra)  # may replace the defaults above (but not the port)
    env["TOCSIN_PORT"] = str(port)
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        output = subprocess.PIPE if unread_output else out
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"],
            env=env,
            stdout=output,
            stderr=output,
            cwd=tmp_path,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise AssertionError(f"tocsin serve exited:\n{log.read_text()}")
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"tocsin serve not ready in 30 s:\n{log.read_text()}")
            time.sleep(0.1)
        yield base, log
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        finally:
            print(f"--- tocsin serve log ---\n{log.read_text()[-5000:]}")  # shown on failure
