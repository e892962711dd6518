"""Failed review sign-ins, limited: at most ``per_client`` failures per client address and
``overall`` failures in all per ``window_seconds``; past that, sign-in answers 429 until the
oldest failure leaves the window. A right token never counts; the API's bearer token is not
limited (it is compared in constant time and is meant for scripts).

Behind a proxy every client has the proxy's address, so ``per_client`` then limits everyone
together; ``overall`` holds either way (guessing a long random token stays hopeless).
Memory is bounded: at most ``MAX_CLIENTS`` addresses are remembered.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable

MAX_CLIENTS = 10_000


class LoginLimiter:
    def __init__(
        self,
        *,
        per_client: int = 5,
        overall: int = 30,
        window_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._per_client, self._overall = per_client, overall
        self._window = window_seconds
        self._clock = clock
        self._clients: OrderedDict[str, deque[float]] = OrderedDict()
        self._all: deque[float] = deque()

    def retry_after(self, client: str) -> int:
        """Seconds until ``client`` may try again; 0 if it may now."""
        now = self._clock()
        self._forget(self._all, now)
        mine = self._clients.get(client)
        if mine is not None:
            self._forget(mine, now)
        waits = [0.0]
        if len(self._all) >= self._overall:
            waits.append(self._all[0] + self._window - now)
        if mine is not None and len(mine) >= self._per_client:
            waits.append(mine[0] + self._window - now)
        return max(0, math.ceil(max(waits)))

    def failed(self, client: str) -> None:
        now = self._clock()
        self._all.append(now)
        mine = self._clients.pop(client, None) or deque()
        mine.append(now)
        self._clients[client] = mine  # most recent last
        while len(self._clients) > MAX_CLIENTS:
            self._clients.popitem(last=False)

    def _forget(self, times: deque[float], now: float) -> None:
        while times and times[0] <= now - self._window:
            times.popleft()
