"""JSON logs carrying the correlation id of the request (or event) being handled.

The id lives in a context variable: greenlets each have their own context, so concurrent workers do not mix
their ids. The gateway takes it from X-Request-ID or makes one; it travels in RPC context and event envelopes.
"""
import contextvars
import logging
import sys

from nameko.extensions import DependencyProvider
from pythonjsonlogger.json import JsonFormatter

correlation = contextvars.ContextVar("correlation_id", default=None)


class _ExpectedErrorFilter(logging.Filter):
    """nameko logs every expected error (a 4xx the caller caused) with its traceback; metrics count those."""

    def filter(self, record):
        return not (record.name == "nameko.containers" and str(record.msg).startswith("(expected)"))


class _CorrelationFilter(logging.Filter):
    def __init__(self, service):
        super().__init__()
        self.service = service

    def filter(self, record):
        record.correlation_id = correlation.get()
        record.service = self.service
        return True


def configure(service, level="INFO", stream=None):
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s",
                                       rename_fields={"levelname": "level", "asctime": "time"}))
    handler.addFilter(_CorrelationFilter(service))
    handler.addFilter(_ExpectedErrorFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("kombu", "amqp", "nameko", "urllib3", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


class CorrelationContext(DependencyProvider):
    """Puts the worker's correlation id in the logging context for the duration of the worker."""

    def worker_setup(self, worker_ctx):
        correlation.set(worker_ctx.data.get("correlation_id"))

    def worker_teardown(self, worker_ctx):
        correlation.set(None)
