"""The base of every platform service: the dependencies each one carries and its health check."""
from kit.auth import CurrentCaller
from kit.config import SettingsProvider
from kit.db import Database
from kit.logs import CorrelationContext
from kit.metrics import EntrypointMetrics
from kit.rpc import RequestContext, rpc


class PlatformService:
    """Subclasses set `name`, `idempotency_model` and their own `outbox = Outbox(models.OutboxEvent)`."""
    db = Database()
    caller = CurrentCaller()
    request = RequestContext()
    settings = SettingsProvider()
    metrics = EntrypointMetrics()
    correlation = CorrelationContext()

    @rpc
    def ping(self):
        return {"service": self.name, "ok": True}
