"""A sliding-window limiter for logins, per process (each gateway replica keeps its own window)."""
import collections
import math
import time

from nameko.extensions import DependencyProvider


class SlidingWindow:
    def __init__(self, limit, window_seconds=60.0, clock=time.monotonic):
        self.limit = limit
        self.window = window_seconds
        self.clock = clock
        self._hits = collections.defaultdict(collections.deque)

    def hit(self, key):
        """Record an attempt; return None if allowed, else the seconds to wait."""
        now = self.clock()
        hits = self._hits[key]
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return max(1, math.ceil(hits[0] + self.window - now))
        hits.append(now)
        if len(self._hits) > 100_000:  # bound memory under a flood of distinct keys
            self._hits.clear()
        return None


class LoginLimiter(DependencyProvider):
    """Login attempts per username and, more loosely, per client address."""

    def setup(self):
        section = self.container.config["REDPROP"]["gateway"]
        self.per_user = SlidingWindow(section["login_attempts_per_minute"])
        self.per_address = SlidingWindow(section["login_attempts_per_minute_per_ip"])

    def check(self, username, address):
        """None if the attempt may go ahead, else the seconds to wait."""
        return self.per_address.hit(address) or self.per_user.hit(username)

    def get_dependency(self, worker_ctx):
        return self
