"""Fixed-window rate limits for the chat API, shared through Redis when there is one.

With Redis every web process counts against the same windows; without it (the
embedded single-process install) an in-memory counter is exact. A Redis outage
lets messages through rather than turning residents away: the limit protects
the queue, it is not what keeps a message safe.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Protocol

log = logging.getLogger(__name__)

WINDOW_SECONDS = 60
"""Length of one rate-limit window, in seconds."""


class RateLimiter(Protocol):
    def hit(self, key: str, limit: int) -> int | None:
        """Count one request against `key`; None if allowed, else seconds until the window resets."""


def _window(now: float) -> tuple[int, int]:
    """The current window's number and the whole seconds left in it (at least 1)."""
    return int(now // WINDOW_SECONDS), max(1, WINDOW_SECONDS - int(now % WINDOW_SECONDS))


class RedisRateLimiter:
    def __init__(self, connection, prefix: str = "triage:ratelimit:") -> None:
        self.connection = connection
        self.prefix = prefix

    def hit(self, key: str, limit: int) -> int | None:
        from redis.exceptions import RedisError

        window, left = _window(time.time())
        name = f"{self.prefix}{key}:{window}"
        try:
            pipe = self.connection.pipeline()
            pipe.incr(name)
            pipe.expire(name, WINDOW_SECONDS * 2)
            count = pipe.execute()[0]
        except RedisError as exc:
            log.warning("rate limiter unavailable; request allowed", extra={"error": exc.__class__.__name__})
            return None
        return None if count <= limit else left


class MemoryRateLimiter:
    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, limit: int) -> int | None:
        window, left = _window(time.time())
        with self._lock:
            if len(self._counts) > 10_000:
                self._counts = {k: v for k, v in self._counts.items() if v[0] == window}
            seen_window, count = self._counts.get(key, (window, 0))
            count = count + 1 if seen_window == window else 1
            self._counts[key] = (window, count)
        return None if count <= limit else left


def limiter_for(queue) -> RateLimiter:
    """Redis-backed when the runtime's queue is Redis, else in this process's memory."""
    if queue.kind == "redis":
        return RedisRateLimiter(queue.connection)
    return MemoryRateLimiter()
