"""Sliding-window rate limits for the chat API, shared through Redis when there is one.

A sliding log (the times of the requests allowed in the last minute) means "at
most N in any 60 seconds": a fixed per-minute counter would let 2N through
either side of the minute boundary, and its verdict would depend on when the
minute happened to turn. Refused requests are not logged, so a resident who
waits the advertised Retry-After is let in.

With Redis every web process counts against the same log; without it (the
embedded single-process install) an in-memory log is exact. A Redis outage
lets messages through rather than turning residents away: the limit protects
the queue, it is not what keeps a message safe.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)

WINDOW_SECONDS = 60
"""Length of the sliding window, in seconds."""

MEMORY_KEYS_LIMIT = 10_000
"""Keys the in-memory limiter holds before it drops those with nothing left in the window."""

Clock = Callable[[], float]


class RateLimiter(Protocol):
    def hit(self, key: str, limit: int) -> int | None:
        """Count one request against `key`; None if allowed, else whole seconds until one would be."""


def _wait(oldest: float, now: float) -> int:
    """Whole seconds (at least 1) until the oldest logged request leaves the window."""
    return max(1, math.ceil(oldest + WINDOW_SECONDS - now))


# Atomic: prune, check and record in one step, so two web processes cannot both
# take the last place in the window.
_SLIDING_LOG = """
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('EXPIRE', KEYS[1], window + 1)
  return false
end
return redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]
"""


class RedisRateLimiter:
    def __init__(self, connection, prefix: str = "triage:ratelimit:", clock: Clock = time.time) -> None:
        self.prefix = prefix
        self.clock = clock
        self._script = connection.register_script(_SLIDING_LOG)

    def hit(self, key: str, limit: int) -> int | None:
        from redis.exceptions import RedisError

        now = self.clock()
        try:
            oldest = self._script(keys=[f"{self.prefix}{key}"],
                                  args=[repr(now), WINDOW_SECONDS, limit, uuid.uuid4().hex])
        except RedisError as exc:
            log.warning("rate limiter unavailable; request allowed", extra={"error": exc.__class__.__name__})
            return None
        return None if oldest is None else _wait(float(oldest), now)


class MemoryRateLimiter:
    def __init__(self, clock: Clock = time.time) -> None:
        self.clock = clock
        self._logs: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, limit: int) -> int | None:
        now = self.clock()
        with self._lock:
            if len(self._logs) > MEMORY_KEYS_LIMIT:
                self._logs = {k: v for k, v in self._logs.items() if v and v[-1] > now - WINDOW_SECONDS}
            times = self._logs.setdefault(key, deque())
            while times and times[0] <= now - WINDOW_SECONDS:
                times.popleft()
            if len(times) >= limit:
                return _wait(times[0], now)
            times.append(now)
        return None


def limiter_for(queue) -> RateLimiter:
    """Redis-backed when the runtime's queue is Redis, else in this process's memory."""
    if queue.kind == "redis":
        return RedisRateLimiter(queue.connection)
    return MemoryRateLimiter()
