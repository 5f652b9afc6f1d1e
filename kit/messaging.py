"""Events over RabbitMQ: topology, the outbox relay, and event handlers that retry with backoff and then park.

Topology: one durable topic exchange (`messaging.events_exchange`); an event is published with routing key
`<source>.<event_type>`. Each handler has its own durable queue `redprop.<service>.<method>` plus a delay queue
`<queue>.retry` whose expired messages dead-letter back into the handler's queue. After `messaging.max_attempts`
failed deliveries a message is parked in `messaging.parked_queue` with the reason in its headers; `redprop dlq`
lists and replays parked messages.
"""
import inspect
import logging
import threading
from functools import partial

import eventlet
from kombu import Connection, Exchange, Queue
from nameko.amqp.publish import Publisher
from nameko.exceptions import ContainerBeingKilled
from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR, DependencyProvider
from nameko.messaging import Consumer
from sqlalchemy import func, select

from kit import metrics
from kit.config import settings_of
from kit.contracts import ContractViolation, make_envelope, open_envelope
from kit.db import WROTE_EVENTS, Database, utcnow

log = logging.getLogger(__name__)

ATTEMPTS_HEADER = "x-redprop-attempts"
ORIGIN_QUEUE_HEADER = "x-redprop-queue"
REASON_HEADER = "x-redprop-reason"
CONFIRMED = {"confirm_publish": True}


def events_exchange(settings):
    return Exchange(settings["messaging"]["events_exchange"], type="topic", durable=True)


def _queue_arguments(settings, **extra):
    args = dict(extra)
    if settings["messaging"]["queue_type"] == "quorum":
        args["x-queue-type"] = "quorum"
    return args


def handler_queue_name(service_name, method_name):
    return f"redprop.{service_name}.{method_name}"


def handler_queues(settings, service_name, method_name, source, event_type):
    name = handler_queue_name(service_name, method_name)
    main = Queue(name, exchange=events_exchange(settings), routing_key=f"{source}.{event_type}", durable=True,
                 queue_arguments=_queue_arguments(settings))
    retry = Queue(f"{name}.retry", durable=True, queue_arguments=_queue_arguments(
        settings, **{"x-dead-letter-exchange": "", "x-dead-letter-routing-key": name}))
    return main, retry


def parked_queue(settings):
    return Queue(settings["messaging"]["parked_queue"], durable=True, queue_arguments=_queue_arguments(settings))


def subscriptions(service_cls):
    """(method name, source, event type) of every event handler on a service class."""
    found = []
    for name, method in inspect.getmembers(service_cls, inspect.isfunction):
        for entrypoint in getattr(method, ENTRYPOINT_EXTENSIONS_ATTR, ()):
            if isinstance(entrypoint, EventHandler):
                found.append((name, entrypoint.source, entrypoint.event_type))
    return sorted(found)


def declare_topology(settings, service_name, service_cls, connection=None):
    """Declare the exchange, the parked queue and this service's handler queues and bindings (idempotent)."""
    own = connection is None
    connection = connection or Connection(settings["amqp_uri"])
    try:
        channel = connection.default_channel
        events_exchange(settings)(channel).declare()
        parked_queue(settings)(channel).declare()
        for method_name, source, event_type in subscriptions(service_cls):
            for queue in handler_queues(settings, service_name, method_name, source, event_type):
                queue(channel).declare()
    finally:
        if own:
            connection.release()


def retry_delay(settings, attempt):
    section = settings["messaging"]
    return min(section["retry_base_delay"] * (2 ** (attempt - 1)), section["retry_max_delay"])


class EventHandler(Consumer):
    """Handles `<source>.<event_type>` events. The envelope is validated against its contract before the handler
    runs; the message is acknowledged only after the handler returned (its transaction committed). A failing
    handler's message goes to the delay queue and comes back, up to `max_attempts`, then is parked. A message that
    breaks its contract is parked at once: retrying cannot fix it."""

    def __init__(self, source, event_type, **kwargs):
        self.source = source
        self.event_type = event_type
        super().__init__(queue=None, **kwargs)

    def setup(self):
        self.settings = settings_of(self.container)
        self.queue, self.retry_queue = handler_queues(
            self.settings, self.container.service_name, self.method_name, self.source, self.event_type)
        self.publisher = Publisher(self.container.config["AMQP_URI"],
                                   declare=[self.retry_queue, parked_queue(self.settings)])
        super().setup()

    def handle_message(self, body, message):
        try:
            envelope = open_envelope(body)
        except ContractViolation as exc:
            log.error("parking event that breaks its contract", extra={"queue": self.queue.name,
                                                                       "details": exc.details})
            self._park(body, message, f"contract: {exc.message}")
            self.queue_consumer.ack_message(message)
            return
        context_data = self.unpack_message_headers(message)
        context_data["correlation_id"] = envelope.get("correlation_id")
        try:
            self.container.spawn_worker(self, (envelope,), {}, context_data=context_data,
                                        handle_result=partial(self.handle_result, message))
        except ContainerBeingKilled:
            self.queue_consumer.requeue_message(message)

    def handle_result(self, message, worker_ctx, result=None, exc_info=None):
        if exc_info is not None:
            attempts = int((message.headers or {}).get(ATTEMPTS_HEADER, 0)) + 1
            reason = f"{exc_info[0].__name__}: {str(exc_info[1])[:300]}"
            if attempts < self.settings["messaging"]["max_attempts"]:
                self._retry(worker_ctx.args[0], message, attempts, reason)
            else:
                self._park(worker_ctx.args[0], message, reason, attempts)
        self.queue_consumer.ack_message(message)
        return result, exc_info

    def _headers(self, message, **extra):
        headers = dict(message.headers or {})
        headers.update({ORIGIN_QUEUE_HEADER: self.queue.name, **extra})
        return headers

    def _retry(self, body, message, attempts, reason):
        delay = retry_delay(self.settings, attempts)
        log.warning("event handler failed; retrying", extra={"queue": self.queue.name, "attempt": attempts,
                                                             "delay": delay, "reason": reason})
        metrics.MESSAGES_RETRIED.labels(queue=self.queue.name).inc()
        self.publisher.publish(body, exchange="", routing_key=self.retry_queue.name, expiration=delay,
                               headers=self._headers(message, **{ATTEMPTS_HEADER: attempts, REASON_HEADER: reason}),
                               message_id=message.properties.get("message_id"))

    def _park(self, body, message, reason, attempts=None):
        log.error("event parked", extra={"queue": self.queue.name, "reason": reason})
        metrics.MESSAGES_PARKED.labels(queue=self.queue.name).inc()
        headers = self._headers(message, **{REASON_HEADER: reason})
        if attempts is not None:
            headers[ATTEMPTS_HEADER] = attempts
        self.publisher.publish(body, exchange="", routing_key=parked_queue(self.settings).name, headers=headers,
                               message_id=message.properties.get("message_id"))


event_handler = EventHandler.decorator


def first_delivery(session, inbox_model, envelope, handler):
    """Record that `handler` applies `envelope` now; False if it already did (a redelivery). Call inside the
    transaction that applies the effect, so the record and the effect commit or roll back together."""
    key = {"event_id": envelope["event_id"], "handler": handler}
    if session.get(inbox_model, key) is not None:
        return False
    session.add(inbox_model(**key))
    session.flush()  # a concurrent duplicate fails here on the primary key and is retried, then skipped
    return True


class OutboxWriter:
    def __init__(self, model, source, correlation_id):
        self.model = model
        self.source = source
        self.correlation_id = correlation_id

    def add(self, session, event_type, data):
        envelope = make_envelope(self.source, event_type, data, correlation_id=self.correlation_id)
        session.add(self.model(event_id=envelope["event_id"], source=self.source, event_type=event_type,
                               version=envelope["version"], envelope=envelope))
        session.info[WROTE_EVENTS] = True
        return envelope


class Outbox(DependencyProvider):
    """`self.outbox.add(session, event_type, data)` writes an event in the caller's transaction. A relay thread
    publishes unpublished rows with publisher confirms, oldest first, and marks them published; it is woken by
    every commit and polls while idle. A crash between publish and mark republishes: consumers are idempotent."""

    def __init__(self, model):
        self.model = model
        self._wakeup = threading.Event()
        self._running = False

    def setup(self):
        self.settings = settings_of(self.container)
        self.source = self.container.service_name

    def start(self):
        self.database = next(ext for ext in self.container.dependencies if isinstance(ext, Database))
        if self.settings["outbox"]["relay"]:
            self._running = True
            self.container.spawn_managed_thread(self._run, identifier="outbox-relay")

    def stop(self):
        self._running = False
        self._wakeup.set()

    def wake(self):
        self._wakeup.set()

    def get_dependency(self, worker_ctx):
        return OutboxWriter(self.model, self.source, worker_ctx.data.get("correlation_id"))

    def _run(self):
        connection = None
        failures = 0
        while self._running:
            try:
                if connection is None:
                    connection = Connection(self.settings["amqp_uri"], transport_options=CONFIRMED)
                    events_exchange(self.settings)(connection.default_channel).declare()
                published = self.relay_once(connection.Producer())
                failures = 0
            except Exception:
                failures += 1
                log.exception("outbox relay failed; retrying")
                self._measure_backlog()
                if connection is not None:
                    connection.release()
                    connection = None
                eventlet.sleep(min(0.5 * failures, 10))
                continue
            if published < self.settings["outbox"]["batch_size"]:
                self._wakeup.wait(self.settings["outbox"]["idle_interval"])
                self._wakeup.clear()
        if connection is not None:
            connection.release()

    def relay_once(self, producer):
        exchange = events_exchange(self.settings)
        with self.database.session_factory() as session:
            query = (select(self.model).where(self.model.published_at.is_(None)).order_by(self.model.id)
                     .limit(self.settings["outbox"]["batch_size"]))
            if session.bind.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = session.scalars(query).all()
            for row in rows:
                producer.publish(row.envelope, exchange=exchange, routing_key=f"{row.source}.{row.event_type}",
                                 serializer="json", delivery_mode=2, message_id=row.event_id,
                                 headers={"event_version": row.version}, retry=True,
                                 retry_policy={"max_retries": 3})
                row.published_at = utcnow()
            session.commit()
        if rows:
            metrics.OUTBOX_PUBLISHED.labels(service=self.source).inc(len(rows))
        self._measure_backlog()
        return len(rows)

    def _measure_backlog(self):
        try:
            with self.database.session_factory() as session:
                backlog, oldest = session.execute(select(func.count(), func.min(self.model.created_at))
                                                  .where(self.model.published_at.is_(None))).one()
            metrics.OUTBOX_BACKLOG.labels(service=self.source).set(backlog)
            age = (utcnow() - oldest).total_seconds() if oldest is not None else 0
            metrics.OUTBOX_OLDEST_AGE.labels(service=self.source).set(max(age, 0))
        except Exception:  # the database is away too; the gauge keeps its last value
            log.warning("could not measure the outbox backlog")


# ----- parked messages (dead-letter queue) -----

def _drain(settings, connection):
    queue = parked_queue(settings)(connection.default_channel)
    queue.declare()
    messages = []
    while True:
        message = queue.get(no_ack=False, accept=["json"])
        if message is None:
            return messages
        messages.append(message)


def describe_parked(message):
    headers = message.headers or {}
    body = message.decode() if isinstance(message.body, (bytes, str)) else message.body
    deaths = headers.get("x-death") or [{}]  # parked by the broker itself (a quorum queue's delivery limit)
    return {"queue": headers.get(ORIGIN_QUEUE_HEADER) or deaths[0].get("queue"),
            "reason": headers.get(REASON_HEADER) or deaths[0].get("reason"),
            "attempts": headers.get(ATTEMPTS_HEADER), "event_id": body.get("event_id") if isinstance(body, dict)
            else None, "event_type": body.get("event_type") if isinstance(body, dict) else None}


def list_parked(settings):
    """Parked messages, left in place (they are returned to the queue when the channel closes unacked)."""
    with Connection(settings["amqp_uri"]) as connection:
        return [describe_parked(m) for m in _drain(settings, connection)]


def replay_parked(settings, event_id=None, queue=None):
    """Send parked messages back to their handler's queue with a fresh attempt count; returns how many."""
    replayed = 0
    with Connection(settings["amqp_uri"], transport_options=CONFIRMED) as connection:
        producer = connection.Producer()
        for message in _drain(settings, connection):
            info = describe_parked(message)
            if (event_id and info["event_id"] != event_id) or (queue and info["queue"] != queue) \
                    or not info["queue"]:
                continue
            headers = {k: v for k, v in (message.headers or {}).items()
                       if k not in (ATTEMPTS_HEADER, REASON_HEADER, ORIGIN_QUEUE_HEADER)}
            producer.publish(message.decode(), exchange="", routing_key=info["queue"], serializer="json",
                             delivery_mode=2, headers=headers,
                             message_id=message.properties.get("message_id"))
            message.ack()
            replayed += 1
    return replayed


def parked_depth(settings):
    with Connection(settings["amqp_uri"]) as connection:
        try:
            _name, count, _consumers = connection.default_channel.queue_declare(
                settings["messaging"]["parked_queue"], passive=True)
        except connection.channel_errors:  # not declared yet: nothing was ever parked
            return 0
        return count


def poll_parked_depth(settings, interval=15):
    """Keep the parked-messages gauge current (spawned by each process)."""
    while True:
        try:
            metrics.PARKED_DEPTH.set(parked_depth(settings))
        except Exception:  # the broker may be away; the gauge keeps its last value
            log.warning("could not read the parked queue depth")
        eventlet.sleep(interval)


def service_queues(settings, service_name, service_cls):
    """The queues a service consumes: its RPC queue and one per event handler."""
    from nameko.rpc import RPC_QUEUE_TEMPLATE
    return [RPC_QUEUE_TEMPLATE.format(service_name)] + [
        handler_queue_name(service_name, method) for method, _source, _event in subscriptions(service_cls)]


def _queue_state(connection, queue):
    """(ready messages, consumers) of a queue; (0, 0) when it was never declared (the service never started)."""
    channel = connection.channel()
    try:
        _name, depth, consumers = channel.queue_declare(queue, passive=True)
        return depth, consumers
    except connection.channel_errors:
        return 0, 0
    finally:
        try:
            channel.close()
        except Exception:  # already closed by the broker's refusal
            pass


def poll_queues(settings, queues_by_service, interval=15):
    """Keep depth and consumer gauges of the deployed services' queues current (spawned by the gateway, which
    outlives any one service: a queue whose consumers all went away shows 0)."""
    while True:
        try:
            with Connection(settings["amqp_uri"]) as connection:
                for service, queues in queues_by_service.items():
                    for queue in queues:
                        depth, consumers = _queue_state(connection, queue)
                        metrics.QUEUE_DEPTH.labels(service, queue).set(depth)
                        metrics.QUEUE_CONSUMERS.labels(service, queue).set(consumers)
        except Exception:
            log.warning("could not read the queues")
        eventlet.sleep(interval)

