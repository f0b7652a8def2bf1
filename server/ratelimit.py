"""Token buckets: messages per connection, stored bytes per address (no I/O; the caller passes
the clock)."""

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

    def allow(self, now: float, cost: float = 1.0) -> bool:
        """Take `cost` tokens if there are that many; False means the client is over its limit."""
        self._refill(now)
        if self._tokens < cost:
            return False
        self._tokens -= cost
        return True

    def full(self, now: float) -> bool:
        """Whether the bucket has refilled completely (so forgetting it changes nothing)."""
        self._refill(now)
        return self._tokens >= self.burst

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self._updated)
        self._updated = now
        self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate)


class ByteBudgets:
    """Bytes each client address may store: `per_hour`, refilled continuously, a burst of it.

    Keyed by address, not connection, because reconnecting is free. Buckets that have refilled
    are forgotten once there are many, so the table stays as small as the set of active senders.
    """

    PRUNE_AT = 10_000

    def __init__(self, per_hour: int) -> None:
        self.per_hour = per_hour
        self._buckets: dict[str, TokenBucket] = {}

    def take(self, address: str, size: int, now: float) -> bool:
        """Charge `size` bytes to `address`; False (nothing charged) when it is over budget."""
        bucket = self._buckets.get(address)
        if bucket is None:
            if len(self._buckets) >= self.PRUNE_AT:
                self._buckets = {a: b for a, b in self._buckets.items() if not b.full(now)}
            bucket = self._buckets[address] = TokenBucket(self.per_hour / 3600, self.per_hour, now)
        return bucket.allow(now, size)
