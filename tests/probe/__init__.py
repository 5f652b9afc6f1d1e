"""A consumer service for the fault and CLI tests, and the helpers that drive it."""
from kombu import Connection, Queue

from kit.auth import system_token
from kit.messaging import events_exchange
from kit.testing import wait_until
from kit.rpc import standalone_call
from services.organizations.domain.credit_code import make_credit_code

PROBE = "tests.probe.service:ProbeService"


def register_company(settings, name, n):
    """Register a company through organizations' RPC as the system; the probe hears of it."""
    return standalone_call(settings, "organizations", "create_company", token=system_token(settings),
                           data={"name": name, "credit_code": make_credit_code(f"91371526MA{n:07d}")})


class Listener:
    """A queue bound to some events, declared before anything publishes so nothing is missed."""

    def __init__(self, settings, pattern):
        self.connection = Connection(settings["amqp_uri"])
        self.queue = Queue("test-listener", exchange=events_exchange(settings), routing_key=pattern,
                           durable=False)(self.connection.default_channel)
        self.queue.declare()

    def take(self, count, timeout=20):
        found = []

        def more():
            message = self.queue.get(no_ack=True, accept=["json"])
            if message is not None:
                found.append(message.decode())
            return len(found) >= count
        wait_until(more, timeout=timeout, interval=0.02)
        return found

    def empty(self):
        return self.queue.get(no_ack=True) is None

    def close(self):
        self.connection.release()
