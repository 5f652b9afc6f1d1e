"""Run one service (or the gateway) as its own process: `python -m kit.runner organizations`.

Monkey-patches first, configures JSON logs, serves /metrics on the process's port, declares the broker topology,
starts the container and stops it promptly on SIGTERM/SIGINT.
"""
import kit  # noqa: F401  (silences eventlet's import-time notice)
import eventlet

eventlet.monkey_patch()  # noqa: E402  (must precede every other import that touches sockets or threads)

import importlib  # noqa: E402
import logging  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402

from nameko.runners import ServiceRunner  # noqa: E402

from kit import config, logs, metrics  # noqa: E402
from kit.messaging import declare_topology, poll_parked_depth, poll_queues, service_queues  # noqa: E402

SERVICE_CLASSES = {
    "organizations": "services.organizations.service:OrganizationsService",
    "tickets": "services.tickets.service:TicketsService",
    "ratings": "services.ratings.service:RatingsService",
    "notifications": "services.notifications.service:NotificationsService",
    "gateway": "gateway.service:GatewayService",
}

log = logging.getLogger("redprop.runner")


def service_class(name):
    """A platform service by name, or any service class given as "module:Class" (tests use this)."""
    module_name, class_name = SERVICE_CLASSES.get(name, name).split(":")
    return getattr(importlib.import_module(module_name), class_name)


def metrics_port(settings, name):
    return settings["gateway"]["metrics_port"] if name == "gateway" else settings.service(name)["metrics_port"]


def _keep_hub_awake():
    # An idle eventlet hub can take a minute to notice SIGTERM; a short sleep loop keeps it responsive.
    while True:
        eventlet.sleep(0.5)


def run(target, settings=None):
    settings = settings or config.load()
    settings.jwt_secret()  # fail at start-up, not at the first request, when production has no secret
    cls = service_class(target)
    name = cls.name
    logs.configure(name)
    if name != "gateway":
        declare_topology(settings, name, cls)
    metrics.serve(metrics_port(settings, name))
    runner = ServiceRunner(config.nameko_config(settings, name))
    runner.add_service(cls)

    def shutdown(signum, _frame):
        log.info("stopping", extra={"signal": signum})
        eventlet.spawn_n(runner.stop)

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    runner.start()
    eventlet.spawn_n(_keep_hub_awake)
    eventlet.spawn_n(poll_parked_depth, settings)
    if name == "gateway":
        eventlet.spawn_n(poll_queues, settings, {
            service: service_queues(settings, service, service_class(service)) for service in settings["deployed"]})
    log.info("started", extra={"metrics_port": metrics_port(settings, name)})
    runner.wait()


if __name__ == "__main__":
    run(sys.argv[1])
