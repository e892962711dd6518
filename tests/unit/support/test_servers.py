"""The port a restarted test process keeps is one no other test is handed."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.support import servers
from tests.support.servers import LOWEST_FIXED_PORT, restartable_port


def test_a_restartable_port_is_free_and_below_the_ephemeral_range() -> None:
    lowest_ephemeral = int(servers.EPHEMERAL_RANGE.read_text().split()[0])
    port = restartable_port()
    assert LOWEST_FIXED_PORT <= port < lowest_ephemeral
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", port))  # free: binding it does not raise


def test_without_room_below_the_ephemeral_range_any_free_port_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    narrow = tmp_path / "range"
    narrow.write_text("1024\t65000\n")
    monkeypatch.setattr(servers, "EPHEMERAL_RANGE", narrow)
    port = restartable_port()
    assert 1024 <= port <= 65535
