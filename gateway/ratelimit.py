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

    def wait(self, key):
        """None if `key` is under its limit, else the seconds until it is."""
        now = self.clock()
        hits = self._hits.get(key)
        if not hits:
            return None
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return max(1, math.ceil(hits[0] + self.window - now))
        return None

    def record(self, key):
        if len(self._hits) > 100_000:  # bound memory under a flood of distinct keys
            self._hits.clear()
        self._hits[key].append(self.clock())

    def hit(self, key):
        """Record an attempt if allowed; return None if it was, else the seconds to wait."""
        wait = self.wait(key)
        if wait is None:
            self.record(key)
        return wait


class LoginLimiter(DependencyProvider):
    """Failed logins per username, and all login attempts (more loosely) per client address."""

    def setup(self):
        section = self.container.config["REDPROP"]["gateway"]
        self.per_user = SlidingWindow(section["login_attempts_per_minute"])
        self.per_address = SlidingWindow(section["login_attempts_per_minute_per_ip"])

    def check(self, username, address):
        """None if the attempt may go ahead, else the seconds to wait."""
        return self.per_user.wait(username) or self.per_address.hit(address)

    def failed(self, username):
        self.per_user.record(username)

    def get_dependency(self, worker_ctx):
        return self
