"""Prometheus metrics. Labels carry service, entrypoint, route templates and error codes, never personal data."""
import time

from nameko.extensions import DependencyProvider
from prometheus_client import Counter, Gauge, Histogram, start_http_server

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

ENTRYPOINT_CALLS = Counter("redprop_entrypoint_calls_total",
                           "Entrypoint calls by outcome: ok, rejected (caller's mistake), error (our fault)",
                           ["service", "entrypoint", "kind", "outcome"])
ENTRYPOINT_LATENCY = Histogram("redprop_entrypoint_latency_seconds", "Entrypoint latency",
                               ["service", "entrypoint", "kind"], buckets=LATENCY_BUCKETS)
ENTRYPOINT_ERRORS = Counter("redprop_entrypoint_errors_total", "Entrypoint errors by error code",
                            ["service", "entrypoint", "error"])
HTTP_REQUESTS = Counter("redprop_http_requests_total", "Gateway HTTP requests", ["method", "route", "status"])
HTTP_LATENCY = Histogram("redprop_http_request_latency_seconds", "Gateway HTTP latency", ["method", "route"],
                         buckets=LATENCY_BUCKETS)
OUTBOX_BACKLOG = Gauge("redprop_outbox_backlog", "Events written but not yet published", ["service"])
OUTBOX_PUBLISHED = Counter("redprop_outbox_published_total", "Events published from the outbox", ["service"])
MESSAGES_RETRIED = Counter("redprop_messages_retried_total", "Event deliveries sent back for a retry", ["queue"])
MESSAGES_PARKED = Counter("redprop_messages_parked_total", "Event deliveries parked after the retry limit",
                          ["queue"])
PARKED_DEPTH = Gauge("redprop_parked_messages", "Messages waiting in the parked (dead-letter) queue")
OUTBOX_OLDEST_AGE = Gauge("redprop_outbox_oldest_age_seconds",
                          "Age of the oldest event written but not yet published (0 when none waits)", ["service"])
QUEUE_DEPTH = Gauge("redprop_queue_messages", "Messages ready in a platform queue (polled by the gateway)",
                    ["service", "queue"])
QUEUE_CONSUMERS = Gauge("redprop_queue_consumers", "Consumers on a platform queue (polled by the gateway)",
                        ["service", "queue"])

# Governance figures, read from each service's own database by its `measure` timer (so every process of a service
# reports the same value: dashboards take max()). Labels are states, levels and star counts only.
TICKETS = Gauge("redprop_tickets", "Tickets by status", ["status"])
TICKETS_OVERDUE = Gauge("redprop_tickets_overdue", "Open tickets past their claim or resolve deadline")
TICKETS_ESCALATED_30D = Gauge("redprop_tickets_escalated_30d", "Tickets escalated in the last 30 days, by the level "
                                                               "they reached", ["level"])
TICKETS_ON_TIME_30D = Gauge("redprop_tickets_on_time_ratio_30d",
                            "Share of tickets resolved in the last 30 days that were resolved on time")
TICKETS_RATED_30D = Gauge("redprop_tickets_rated_30d", "Ratings given in the last 30 days, by satisfaction",
                          ["satisfaction"])
DISCLOSURE_RATE = Gauge("redprop_disclosure_rate", "Share of owed disclosure items in date, per county", ["county"])
DISCLOSURE_ITEMS = Gauge("redprop_disclosure_items", "Owed disclosure items by state", ["state"])
STAR_COMPANIES = Gauge("redprop_star_rating_companies", "Companies per star count in the latest final star rating",
                       ["stars"])


def set_gauge(gauge, values, label):
    """Set a labelled gauge from {label value: number}; labels seen before and now absent go to zero."""
    for child_labels in list(gauge._metrics):
        if child_labels[0] not in values:
            gauge.labels(*child_labels).set(0)
    for key, value in values.items():
        gauge.labels(str(key)).set(value)


def serve(port):
    start_http_server(port)


def outcome_of(exc_info):
    """ok; rejected (the caller's mistake: a 4xx application error); error (a fault of ours)."""
    if exc_info is None:
        return "ok"
    return "rejected" if getattr(exc_info[1], "status", 500) < 500 else "error"


def error_code(exc):
    return getattr(exc, "code", None) or type(exc).__name__


class EntrypointMetrics(DependencyProvider):
    """Counts and times every entrypoint of the service it is declared on."""

    def setup(self):
        self.service = self.container.service_name
        self._started = {}

    def worker_setup(self, worker_ctx):
        self._started[worker_ctx] = time.perf_counter()

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        started = self._started.pop(worker_ctx, None)
        entrypoint = worker_ctx.entrypoint
        name, kind = entrypoint.method_name, type(entrypoint).__name__
        if started is not None:
            ENTRYPOINT_LATENCY.labels(self.service, name, kind).observe(time.perf_counter() - started)
        outcome = outcome_of(exc_info)
        ENTRYPOINT_CALLS.labels(self.service, name, kind, outcome).inc()
        if exc_info is not None:
            ENTRYPOINT_ERRORS.labels(self.service, name, error_code(exc_info[1])).inc()

    def worker_teardown(self, worker_ctx):
        self._started.pop(worker_ctx, None)
