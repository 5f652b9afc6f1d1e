"""RPC between the gateway (or a tool) and the services.

Both ends keep one long-lived AMQP connection each for their RPC traffic instead of nameko's per-message publisher
pools; see docs/PERFORMANCE.md for the figures.

Server side, `rpc` is nameko's entrypoint with a cheaper reply: replies go to a per-caller reply queue that dies
with the caller, so they are serialized once and published transient, without publisher confirms (a lost reply
shows up as a timeout either way), on one connection shared by the service's workers.

Client side, `RpcClient` publishes requests transient and without publisher confirms on one connection per
process, with the `mandatory` flag: a request no queue takes (service never started) comes straight back as a
basic.return on the same connection, and the call raises ServiceNotDeployed (503) at once. Replies are consumed
without acks from an exclusive queue on that connection by one green thread. Every call has a timeout
(UpstreamTimeout, 504). The caller's context (token, correlation id, idempotency key) travels as nameko's
`nameko.*` headers, so services read it as usual.
"""
import hashlib
import json
import logging
import socket
import sys
import uuid
from functools import wraps

import eventlet
import kombu.serialization
from eventlet.event import Event
from eventlet.semaphore import Semaphore
from kombu import Connection, Consumer, Producer, Queue
from nameko.constants import HEADER_PREFIX, NON_PERSISTENT
from nameko.exceptions import UnserializableValueError, deserialize, serialize
from nameko.extensions import DependencyProvider, SharedExtension
from nameko.rpc import RPC_REPLY_QUEUE_TEMPLATE, Rpc, RpcConsumer, get_rpc_exchange
from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy.exc import IntegrityError

from kit.auth import TOKEN_CONTEXT_KEY
from kit.errors import AppError, ServiceNotDeployed, UpstreamTimeout, ValidationFailed

log = logging.getLogger("redprop.rpc")

IDEMPOTENCY_CONTEXT_KEY = "idempotency_key"
CORRELATION_CONTEXT_KEY = "correlation_id"


def _release_quietly(connection):
    if connection is not None:
        try:
            connection.release()
        except Exception:  # pragma: no cover - already broken
            pass


class _Channel:
    """One AMQP connection and channel, used by many green threads in turn (a lock keeps their frames apart).
    Reconnects on the next use after a failure."""

    def __init__(self, amqp_uri, exchange):
        self.amqp_uri = amqp_uri
        self.exchange = exchange
        self.lock = Semaphore(1)
        self.connection = None
        self.producer = None

    def open(self):
        if self.connection is None:
            connection = Connection(self.amqp_uri, heartbeat=0, connect_timeout=5)
            try:
                channel = connection.channel()
                self.exchange(channel).declare()
                self.producer = Producer(channel, exchange=self.exchange, auto_declare=False)
            except Exception:
                connection.release()
                raise
            self.connection = connection
        return self.producer

    def close(self):
        connection, self.connection, self.producer = self.connection, None, None
        _release_quietly(connection)

    def publish_raw(self, payload, content_type, content_encoding, **kwargs):
        """Publish an already-serialized body; one reconnect and retry on a connection failure."""
        with self.lock:
            for attempt in (1, 2):
                try:
                    self.open().publish(payload, content_type=content_type, content_encoding=content_encoding,
                                        retry=False, **kwargs)
                    return
                except Exception:
                    self.close()
                    if attempt == 2:
                        raise


class _ReplyChannel(SharedExtension):
    """The service's connection for RPC replies, shared by its workers."""

    def setup(self):
        self.channel = _Channel(self.container.config["AMQP_URI"], get_rpc_exchange(self.container.config))

    def stop(self):
        self.channel.close()

    def kill(self):
        self.channel.close()


def _encode_reply(result, exc_info):
    """Serialize the reply once; a result JSON cannot carry becomes an UnserializableValueError."""
    error = serialize(exc_info[1]) if exc_info is not None else None
    try:
        return result, exc_info, kombu.serialization.dumps({"result": result, "error": error}, "json")
    except Exception:
        exc_info = sys.exc_info()
        error = serialize(UnserializableValueError(result))
        return None, exc_info, kombu.serialization.dumps({"result": None, "error": error}, "json")


class _RpcConsumer(RpcConsumer):
    reply_channel = _ReplyChannel()

    def handle_result(self, message, result, exc_info):
        result, exc_info, (content_type, encoding, payload) = _encode_reply(result, exc_info)
        reply_to = message.properties.get("reply_to")
        if reply_to:
            try:
                self.reply_channel.channel.publish_raw(
                    payload, content_type, encoding, routing_key=reply_to, delivery_mode=NON_PERSISTENT,
                    correlation_id=message.properties.get("correlation_id"))
            except Exception:
                log.exception("could not publish an RPC reply; the caller will time out")
        self.queue_consumer.ack_message(message)
        return result, exc_info


class RpcEntrypoint(Rpc):
    rpc_consumer = _RpcConsumer()

    def __init__(self, expected_exceptions=AppError, **kwargs):
        # A caller's mistake (4xx) is an expected outcome, not a fault worth a traceback in the logs.
        super().__init__(expected_exceptions=expected_exceptions, **kwargs)


rpc = RpcEntrypoint.decorator


class RequestContext(DependencyProvider):
    """`self.request`: the context the caller sent (idempotency key, correlation id)."""

    class Context:
        def __init__(self, data):
            self.idempotency_key = data.get(IDEMPOTENCY_CONTEXT_KEY)
            self.correlation_id = data.get(CORRELATION_CONTEXT_KEY)

    def get_dependency(self, worker_ctx):
        return self.Context(worker_ctx.data)


def _fingerprint(args, kwargs):
    return hashlib.sha256(json.dumps([args, kwargs], sort_keys=True, default=str).encode()).hexdigest()


def idempotent(method):
    """For create endpoints: a repeated Idempotency-Key from the same caller returns the first response and
    changes nothing. The record is written in the same transaction as the effect. Needs `self.db`,
    `self.request`, `self.caller` and the service's `idempotency_model`."""
    @wraps(method)
    def wrapper(self, *args, **kwargs):
        key = self.request.idempotency_key
        if not key:
            return method(self, *args, **kwargs)
        scope = f"{self.caller().subject}:{method.__name__}:{key}"[:300]
        fingerprint = _fingerprint(args, kwargs)
        model = self.idempotency_model

        def replay(record):
            if record.response["fingerprint"] != fingerprint:
                raise ValidationFailed("this Idempotency-Key was used with a different request",
                                       code="idempotency_key_reused")
            return record.response["result"]
        try:
            with self.db.transaction() as session:
                record = session.get(model, scope)
                if record is not None:
                    return replay(record)
                result = method(self, *args, **kwargs)
                session.add(model(scope=scope, response={"fingerprint": fingerprint, "result": result}))
                return result
        except IntegrityError:  # the same key raced in concurrently and committed first
            with self.db.transaction() as session:
                record = session.get(model, scope)
                if record is None:
                    raise
                return replay(record)
    return wrapper


_RETURNED = object()  # the broker handed the request back: no queue is bound for that service


class _RpcBus(SharedExtension):
    """Outgoing calls of one process: requests and replies on one connection, replies drained by one green thread."""

    def setup(self):
        config = self.container.config
        self.amqp_uri = config["AMQP_URI"]
        self.heartbeat = config.get("HEARTBEAT", 60)
        self.exchange = get_rpc_exchange(config)
        self.reply_key = uuid.uuid4().hex
        self.queue = Queue(RPC_REPLY_QUEUE_TEMPLATE.format(self.container.service_name, self.reply_key),
                           exchange=self.exchange, routing_key=self.reply_key, exclusive=True, auto_delete=True,
                           durable=False)
        self.pending = {}
        self.lock = Semaphore(1)
        self.connection = None
        self.producer = None
        self.running = False
        self.thread = None
        self.wakeup = Event()

    def start(self):
        self.running = True
        self.thread = self.container.spawn_managed_thread(self._drain, identifier="rpc-reply-drain")

    def stop(self):
        self.running = False
        if not self.wakeup.ready():
            self.wakeup.send()
        self._drop()
        if self.thread is not None:
            self.thread.kill()

    kill = stop

    # ----- connection -----
    def _open(self):
        """The producer on a live connection (caller holds the lock)."""
        if self.connection is None:
            connection = Connection(self.amqp_uri, heartbeat=self.heartbeat, connect_timeout=5)
            try:
                channel = connection.channel()
                self.exchange(channel).declare()
                channel.events["basic_return"].add(self._on_return)
                Consumer(channel, queues=[self.queue], callbacks=[self._on_reply], no_ack=True,
                         accept=["json"]).consume()
                self.producer = Producer(channel, exchange=self.exchange, auto_declare=False)
            except Exception:
                connection.release()
                raise
            self.connection = connection
            if not self.wakeup.ready():
                self.wakeup.send()
        return self.producer

    def _drop(self, failed=False):
        connection, self.connection, self.producer = self.connection, None, None
        _release_quietly(connection)
        if failed:  # replies to requests sent on the old connection are gone with its queue
            pending, self.pending = self.pending, {}
            for event in pending.values():
                if not event.ready():
                    event.send_exception(UpstreamTimeout("the connection to the message broker was lost"))

    def _drain(self):
        while self.running:
            connection = self.connection
            if connection is None:
                self.wakeup.wait()  # the first call (or a reconnect) opens the connection
                self.wakeup = Event()
                continue
            try:
                connection.drain_events(timeout=1)
            except socket.timeout:
                try:
                    with self.lock:  # it may write a heartbeat frame: keep it apart from publishes
                        connection.heartbeat_check()
                except Exception:
                    self._lost(connection)
            except Exception:
                self._lost(connection)

    def _lost(self, connection):
        if not self.running:
            return
        log.warning("RPC connection to the broker lost; reconnecting on the next call")
        with self.lock:
            if self.connection is connection:
                self._drop(failed=True)
        eventlet.sleep(0.5)

    # ----- messages -----
    def _on_reply(self, body, message):
        event = self.pending.pop(message.properties.get("correlation_id"), None)
        if event is not None and not event.ready():
            event.send(body)

    def _on_return(self, _exc, _exchange, _routing_key, message):
        event = self.pending.pop(message.properties.get("correlation_id"), None)
        if event is not None and not event.ready():
            event.send(_RETURNED)

    def call(self, service, method, headers, kwargs, timeout):
        correlation_id = uuid.uuid4().hex
        event = Event()
        self.pending[correlation_id] = event
        try:
            content_type, encoding, payload = kombu.serialization.dumps({"args": (), "kwargs": kwargs}, "json")
            with self.lock:
                for attempt in (1, 2):
                    try:
                        self._open().publish(
                            payload, content_type=content_type, content_encoding=encoding, retry=False,
                            routing_key=f"{service}.{method}", mandatory=True, delivery_mode=NON_PERSISTENT,
                            reply_to=self.reply_key, correlation_id=correlation_id, headers=headers,
                            expiration=timeout)  # nobody waits for an answer after that
                        break
                    except Exception:
                        self._drop()
                        if attempt == 2:
                            raise UpstreamTimeout("the message broker is unreachable",
                                                  details={"service": service}) from None
            try:
                with eventlet.Timeout(timeout):
                    body = event.wait()
            except eventlet.Timeout:
                raise UpstreamTimeout(f"the {service} service did not answer in time",
                                      details={"service": service}) from None
        finally:
            self.pending.pop(correlation_id, None)
        if body is _RETURNED:
            raise ServiceNotDeployed(f"the {service} service is not deployed in this county",
                                     details={"service": service})
        if body.get("error"):
            raise deserialize(body["error"])
        return body["result"]


class RpcClient(DependencyProvider):
    """`self.rpc.call(service, method, context=..., **kwargs)` from inside a nameko service (the gateway)."""

    bus = _RpcBus()

    def __init__(self, timeout=None):
        self.timeout = timeout

    def setup(self):
        settings = self.container.config["REDPROP"]
        self.timeout = self.timeout or settings["rpc"]["timeout"]

    def get_dependency(self, worker_ctx):
        return _Caller(worker_ctx, self.bus, self.timeout)


class _Caller:
    def __init__(self, worker_ctx, bus, timeout):
        self.worker_ctx = worker_ctx
        self.bus = bus
        self.timeout = timeout

    def call(self, service, method, context=None, timeout=None, **kwargs):
        if context:
            self.worker_ctx.data.update({k: v for k, v in context.items() if v is not None})
        headers = {f"{HEADER_PREFIX}.{k}": v for k, v in self.worker_ctx.context_data.items() if v is not None}
        return self.bus.call(service, method, headers, kwargs, timeout or self.timeout)


def standalone_call(settings, service, method, token=None, timeout=30, **kwargs):
    """One RPC from outside any service (CLI, tests, benchmarks)."""
    context = {TOKEN_CONTEXT_KEY: token} if token else {}
    config = {"AMQP_URI": settings["amqp_uri"], "serializer": "json"}
    with ClusterRpcProxy(config, context_data=context, timeout=timeout) as cluster:
        return getattr(getattr(cluster, service), method)(**kwargs)
