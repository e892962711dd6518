"""The service's log lines go out through a thread of their own.

Written where they were made, each line was a ``write`` (and a flush) on the event loop's
thread: when the stream is slow — a file on the disk SQLite is syncing to, a pipe that a
container runtime or journald reads late — the loop waited, and with it every webhook,
button and page. Sampled during the ingest bench's single-alert phase (py-spy, SQLite), the
line's write was ~10 % of the loop thread's time; and a log reader that stops reading (a
full pipe) would have stopped the service. Here a line is handed to a queue (a fraction of a
microsecond) and a writer thread, woken by a line, waits 10 ms and writes what has gathered
in one call (so under load it wakes ~100 times a second, whatever the rate of lines); past
``max_waiting`` lines waiting, new lines are counted and dropped, and a line saying how many
is written once the stream takes lines again. The service stays up whatever its log does.

On exit (``close``, also run at interpreter exit) what is queued is written first; what a
killed process had queued and not yet written — the last moment's lines — is lost.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import TextIO

_STOP = object()


class LineWriter:
    """Lines written to ``stream`` by a writer thread, in the order they were handed over."""

    def __init__(
        self,
        stream: TextIO,
        *,
        dropped_line: Callable[[int], str],
        max_waiting: int = 50_000,
        max_batch: int = 5_000,
        linger: float = 0.01,
    ) -> None:
        """``dropped_line(n)``: the line that says ``n`` lines were dropped (rendered as the
        service's other lines are). ``linger``: seconds the writer waits after a line wakes
        it, for others to join it (a line is written at most that much later)."""
        self._stream = stream
        self._dropped_line = dropped_line
        self._max_waiting = max_waiting
        self._max_batch = max_batch
        self._linger = linger
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._dropped = 0
        self._reported = 0
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="tocsin-log", daemon=True)
        self._thread.start()

    @property
    def dropped(self) -> int:
        """Lines dropped so far because ``max_waiting`` were waiting."""
        return self._dropped

    def write(self, line: str) -> None:
        """Hand ``line`` (without its newline) to the writer; never waits."""
        if self._closed:
            self._write_now([line])
            return
        if self._queue.qsize() >= self._max_waiting:
            self._dropped += 1
            return
        self._queue.put(line)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every line handed over before this call is written (``False`` if that
        took longer than ``timeout`` seconds)."""
        if self._closed:
            return True
        written = threading.Event()
        self._queue.put(written)
        return written.wait(timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued, then stop the thread; later lines are written at once."""
        if self._closed:
            return
        self._queue.put(_STOP)
        self._thread.join(timeout)
        self._closed = True

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if self._linger and isinstance(item, str):
                # let the lines of a busy moment gather: one wake-up and one write for them,
                # not one per line, each taking the interpreter's lock from the event loop
                time.sleep(self._linger)
            lines: list[str] = []
            marks: list[threading.Event] = []
            stop = False
            while True:
                if isinstance(item, str):
                    lines.append(item)
                elif isinstance(item, threading.Event):
                    marks.append(item)
                else:
                    stop = True
                    break
                if len(lines) >= self._max_batch:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            dropped = self._dropped - self._reported
            if dropped:
                lines.append(self._dropped_line(dropped))
                self._reported += dropped
            self._write_now(lines)
            for mark in marks:
                mark.set()
            if stop:
                return

    def _write_now(self, lines: list[str]) -> None:
        if not lines:
            return
        try:
            self._stream.write("\n".join(lines) + "\n")
            self._stream.flush()
        except (OSError, ValueError):
            pass  # a closed or broken stream: nowhere left to say so
