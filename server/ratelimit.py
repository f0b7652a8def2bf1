"""A token bucket per connection (no I/O; the caller passes the clock)."""

from __future__ import annotations


class TokenBucket:
    """Allows `burst` messages at once and `rate` per second on average.

    A page sends a handful of messages per second at most; the bucket exists so one flooding
    client cannot monopolize the event loop or fill the store.
    """

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._updated = now

    def allow(self, now: float) -> bool:
        """Take one token if there is one; False means the client is over its limit."""
        elapsed = max(0.0, now - self._updated)
        self._updated = now
        self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate)
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True
