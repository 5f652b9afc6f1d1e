"""RPC between the gateway (or a tool) and the services.

Server side, `rpc` is nameko's entrypoint with a cheaper reply: replies go to a per-caller reply queue that dies
with the caller, so they are published transient and without publisher confirms (a lost reply shows up as a
timeout either way). Client side, `RpcClient` gives every call a timeout and turns "no such queue" into
ServiceNotDeployed (503) and a timeout into UpstreamTimeout (504).
"""
import hashlib
import json
import sys
from functools import wraps

import eventlet
import kombu.serialization
from nameko.amqp.publish import Publisher
from nameko.constants import NON_PERSISTENT
from nameko.exceptions import UnknownService, UnserializableValueError, serialize
from nameko.extensions import DependencyProvider
from nameko.rpc import MethodProxy, ReplyListener, Responder, Rpc, RpcConsumer, get_rpc_exchange
from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy.exc import IntegrityError

from kit.auth import TOKEN_CONTEXT_KEY
from kit.errors import ServiceNotDeployed, UpstreamTimeout, ValidationFailed

IDEMPOTENCY_CONTEXT_KEY = "idempotency_key"
CORRELATION_CONTEXT_KEY = "correlation_id"


class _ReplyPublisher(Publisher):
    use_confirms = False
    delivery_mode = NON_PERSISTENT


class _Responder(Responder):
    publisher_cls = _ReplyPublisher

    def send_response(self, result, exc_info):
        error = serialize(exc_info[1]) if exc_info is not None else None
        try:
            kombu.serialization.dumps(result, "json")
        except Exception:
            exc_info = sys.exc_info()
            error = serialize(UnserializableValueError(result))
            result = None
        self.publisher_cls(self.amqp_uri).publish(
            {"result": result, "error": error}, serializer="json", exchange=self.exchange,
            routing_key=self.message.properties["reply_to"],
            correlation_id=self.message.properties.get("correlation_id"))
        return result, exc_info


class _RpcConsumer(RpcConsumer):
    def handle_result(self, message, result, exc_info):
        responder = _Responder(self.container.config["AMQP_URI"], get_rpc_exchange(self.container.config),
                               "json", message)
        result, exc_info = responder.send_response(result, exc_info)
        self.queue_consumer.ack_message(message)
        return result, exc_info


class RpcEntrypoint(Rpc):
    rpc_consumer = _RpcConsumer()


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


class RpcClient(DependencyProvider):
    """`self.rpc.call(service, method, context=..., **kwargs)` from inside a nameko service (the gateway)."""

    reply_listener = ReplyListener()

    def __init__(self, timeout=None):
        self.timeout = timeout

    def setup(self):
        settings = self.container.config["REDPROP"]
        self.timeout = self.timeout or settings["rpc"]["timeout"]

    def get_dependency(self, worker_ctx):
        return _Caller(worker_ctx, self.reply_listener, self.timeout)


class _Caller:
    def __init__(self, worker_ctx, reply_listener, timeout):
        self.worker_ctx = worker_ctx
        self.reply_listener = reply_listener
        self.timeout = timeout

    def call(self, service, method, context=None, timeout=None, **kwargs):
        if context:
            self.worker_ctx.data.update({k: v for k, v in context.items() if v is not None})
        proxy = MethodProxy(self.worker_ctx, service, method, self.reply_listener, delivery_mode=NON_PERSISTENT)
        try:
            reply = proxy.call_async(**kwargs)
        except UnknownService:
            raise ServiceNotDeployed(f"the {service} service is not deployed in this county",
                                     details={"service": service}) from None
        try:
            with eventlet.Timeout(timeout or self.timeout):
                return reply.result()
        except eventlet.Timeout:
            raise UpstreamTimeout(f"the {service} service did not answer in time",
                                  details={"service": service}) from None


def standalone_call(settings, service, method, token=None, timeout=30, **kwargs):
    """One RPC from outside any service (CLI, tests, benchmarks)."""
    context = {TOKEN_CONTEXT_KEY: token} if token else {}
    config = {"AMQP_URI": settings["amqp_uri"], "serializer": "json"}
    with ClusterRpcProxy(config, context_data=context, timeout=timeout) as cluster:
        return getattr(getattr(cluster, service), method)(**kwargs)
