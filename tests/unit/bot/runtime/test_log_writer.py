"""The service's log lines are written by a thread of their own (bot/runtime/log_writer.py):
in order, together, and never holding up whoever logs them."""

from __future__ import annotations

import io
import threading

from bot.runtime.log_writer import LineWriter


class RecordingStream(io.StringIO):
    """A stream that counts its writes and can be made to hang, as a pipe nobody reads."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0
        self.open_gate = threading.Event()
        self.open_gate.set()
        self.entered = threading.Event()

    def write(self, text: str) -> int:
        self.entered.set()
        self.open_gate.wait()
        self.writes += 1
        return super().write(text)


def dropped(count: int) -> str:
    return f"dropped {count}"


def test_lines_are_written_in_the_order_they_were_handed_over() -> None:
    stream = RecordingStream()
    writer = LineWriter(stream, dropped_line=dropped)
    for n in range(500):
        writer.write(f"line {n}")

    assert writer.flush()
    assert stream.getvalue().splitlines() == [f"line {n}" for n in range(500)]
    writer.close()


def test_lines_that_gathered_while_the_stream_was_busy_go_out_in_one_write() -> None:
    stream = RecordingStream()
    stream.open_gate.clear()
    writer = LineWriter(stream, dropped_line=dropped)
    writer.write("first")
    assert stream.entered.wait(5)  # the writer is inside the stream's write, held there
    for n in range(100):
        writer.write(f"later {n}")

    stream.open_gate.set()
    assert writer.flush()
    assert stream.writes == 2
    assert stream.getvalue().splitlines() == ["first", *[f"later {n}" for n in range(100)]]
    writer.close()


def test_a_stream_that_stops_taking_lines_never_holds_up_the_logger_and_the_drop_is_told() -> None:
    stream = RecordingStream()
    stream.open_gate.clear()
    writer = LineWriter(stream, dropped_line=dropped, max_waiting=10)
    writer.write("stuck")
    assert stream.entered.wait(5)
    for n in range(25):  # returns at once although nothing can be written
        writer.write(f"waiting {n}")

    assert writer.dropped == 15
    stream.open_gate.set()
    assert writer.flush()
    lines = stream.getvalue().splitlines()
    assert lines == ["stuck", *[f"waiting {n}" for n in range(10)], "dropped 15"]
    writer.close()


def test_close_writes_what_is_queued_and_later_lines_are_written_at_once() -> None:
    stream = RecordingStream()
    writer = LineWriter(stream, dropped_line=dropped)
    writer.write("before")
    writer.close()
    assert stream.getvalue() == "before\n"

    writer.write("after")
    assert stream.getvalue() == "before\nafter\n"
    assert writer.flush()


def test_a_broken_stream_loses_its_lines_but_not_the_writer() -> None:
    stream = RecordingStream()
    writer = LineWriter(stream, dropped_line=dropped)
    stream.close()  # writes now raise ValueError
    writer.write("into the void")
    assert writer.flush()
    writer.close()
