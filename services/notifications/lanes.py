"""Sending lanes: one green thread per target (a webhook subscription, a person's channels) that has deliveries
due, at most `send_concurrency` at once. A target's deliveries go one at a time and in order; a slow or failing
target holds up only its own lane, never another's."""
import eventlet
from nameko.extensions import DependencyProvider

from kit.config import settings_of


class SendingLanes(DependencyProvider):
    def setup(self):
        self.busy = set()
        self.stopping = False
        self.pool = eventlet.GreenPool(settings_of(self.container)["notifications"]["send_concurrency"])

    def stop(self):
        self.stopping = True  # lanes finish the delivery in hand (bounded by the request timeout) and stop
        self.pool.waitall()

    def kill(self):
        self.stopping = True

    def get_dependency(self, worker_ctx):
        return self

    def open(self, target, drain):
        """Run `drain(target, lanes)` in a lane unless one is draining that target already or all lanes are busy
        (the next tick tries again). Returns whether a lane was opened."""
        if self.stopping or target in self.busy or not self.pool.free():
            return False
        self.busy.add(target)

        def run():
            try:
                drain(target, self)
            finally:
                self.busy.discard(target)
        self.pool.spawn_n(run)
        return True
