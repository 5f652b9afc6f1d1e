"""Which services this county deploys, and whether each one answers right now."""
import time

from kombu import Connection
from nameko.extensions import DependencyProvider
from nameko.rpc import RPC_QUEUE_TEMPLATE

from kit.config import SERVICE_NAMES


class Deployment(DependencyProvider):
    """A service is deployed when the county's settings list it; it is healthy when its RPC queue has consumers.
    Readings are cached for a moment so that a burst of requests costs one broker round trip."""

    CACHE_SECONDS = 2.0

    def setup(self):
        settings = self.container.config["REDPROP"]
        self.deployed = set(settings["deployed"]) | {"organizations"}
        self.amqp_uri = settings["amqp_uri"]
        self._cache = {}

    def consumers(self, service):
        cached = self._cache.get(service)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        try:
            with Connection(self.amqp_uri, connect_timeout=2) as connection:
                channel = connection.channel()
                _name, _messages, count = channel.queue_declare(RPC_QUEUE_TEMPLATE.format(service), passive=True)
        except Exception:  # no queue (never started) or broker away: nobody is consuming
            count = 0
        self._cache[service] = (time.monotonic() + self.CACHE_SECONDS, count)
        return count

    def status(self):
        return [{"name": name, "deployed": name in self.deployed,
                 "healthy": name in self.deployed and self.consumers(name) > 0} for name in SERVICE_NAMES]

    def get_dependency(self, worker_ctx):
        return self
