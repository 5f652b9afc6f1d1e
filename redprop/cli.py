"""`redprop`: run the platform and operate it.

    redprop up [SERVICE ...]     migrate, load the demo county if empty, run the services and the gateway
    redprop migrate [SERVICE ...] upgrade databases and declare broker topology
    redprop demo                 load the demo county into an empty registry
    redprop status               services, outbox backlogs, parked messages
    redprop events tail          print events as they pass
    redprop dlq list | replay    inspect and replay parked messages
    redprop revision SERVICE -m  write a migration after changing a service's models (developers)
"""
import json
import os
import sys

import click

from kit import config
from kit.config import ROOT, SERVICE_NAMES

PYTHON = sys.executable


def available_services():
    """Services whose code is present in this checkout."""
    return [name for name in SERVICE_NAMES if (ROOT / "services" / name / "service.py").exists()]


def _selected(services, settings=None):
    """The named services, or else the county's deployed ones that this checkout has; organizations always."""
    default = [s for s in (settings or config.load())["deployed"] if s in available_services()]
    chosen = list(dict.fromkeys(("organizations",) + tuple(services or default)))
    unknown = [s for s in chosen if s not in SERVICE_NAMES]
    if unknown:
        raise click.BadParameter(f"unknown service(s): {', '.join(unknown)}; choose from {', '.join(SERVICE_NAMES)}")
    missing = [s for s in chosen if s not in available_services()]
    if missing:
        raise click.BadParameter(f"not built yet in this checkout: {', '.join(missing)}")
    return chosen


@click.group(help=__doc__)
def main():
    pass


def _migrate(settings, services):
    from kit.messaging import declare_topology
    from kit.migrations import upgrade
    from kit.runner import service_class
    for name in services:
        upgrade(name, settings.db_url(name))
        declare_topology(settings, name, service_class(name))
        click.echo(f"migrated {name}: database and broker topology")


@main.command(help="Upgrade each service's database (Alembic) and declare its queues and bindings.")
@click.argument("services", nargs=-1)
def migrate(services):
    _migrate(config.load(), _selected(services))


def _registry_is_empty(settings):
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session
    from kit.db import make_engine
    from services.organizations.models import Region
    engine = make_engine(settings.db_url("organizations"))
    with Session(engine) as session:
        empty = session.scalar(select(func.count()).select_from(Region)) == 0
    engine.dispose()
    return empty


def _load_demo(settings):
    from sqlalchemy.orm import Session
    from kit.db import make_engine
    from kit.messaging import OutboxWriter
    from services.organizations import demo
    from services.organizations.models import OutboxEvent
    engine = make_engine(settings.db_url("organizations"))
    with Session(engine) as session:
        accounts = demo.load(session, OutboxWriter(OutboxEvent, "organizations", "demo-load"),
                             settings["demo"]["password"])
        session.commit()
    engine.dispose()
    return accounts


def _print_accounts(settings, accounts):
    click.echo(f"\nDemo accounts (password: {settings['demo']['password']!r}; refused when REDPROP_ENV=production):")
    for username, role, where in accounts:
        click.echo(f"  {username:<12} {role:<12} {where}")


@main.command(help="Load the demo county (高唐-like) into an empty registry.")
def demo():
    settings = config.load()
    if settings.production:
        raise click.ClickException("the demo county is not loaded in production")
    _migrate(settings, ["organizations"])
    if not _registry_is_empty(settings):
        raise click.ClickException("the registry is not empty; the demo county loads only into an empty one")
    _print_accounts(settings, _load_demo(settings))


@main.command(help="Run the selected services (default: the county's deployed ones, all in development) and the "
                   "gateway, each its own process.")
@click.argument("services", nargs=-1)
@click.option("--profile", type=click.Choice(config.profiles()),
              help="A county profile from infra/profiles/ (organizations plus some of tickets, ratings, notifications).")
@click.option("--no-demo", is_flag=True, help="Do not load the demo county into an empty registry.")
def up(services, profile, no_demo):
    from honcho.manager import Manager
    from honcho.printer import Printer
    if profile:
        if services:
            raise click.BadParameter("name services or a profile, not both")
        os.environ["REDPROP_PROFILE"] = profile  # the children load it too
    chosen = _selected(services)
    os.environ["REDPROP_DEPLOYED"] = ",".join(chosen)
    settings = config.load()
    settings.jwt_secret()  # create the development secret once, before the processes race for it
    _migrate(settings, chosen)
    if not no_demo and not settings.production and _registry_is_empty(settings):
        click.echo("loading the demo county …")
        _print_accounts(settings, _load_demo(settings))
        os.environ["REDPROP__demo__tickets_per_year"] = "2400"  # tickets adds a year of history on first sync
        os.environ["REDPROP__demo__ratings_history"] = "true"   # ratings adds last year's evaluation and stars
        os.environ["REDPROP__demo__board_history"] = "true"     # notifications fills the disclosure board
    gateway = settings["gateway"]
    click.echo(f"\nRed Property platform: http://localhost:{gateway['port']}/api/v1  "
               f"(OpenAPI: /api/openapi.json; services: {', '.join(chosen)}; metrics on ports "
               f"{gateway['metrics_port']}, " + ", ".join(str(settings.service(s)['metrics_port']) for s in chosen)
               + ")\n")
    manager = Manager(Printer(sys.stdout))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore::DeprecationWarning"}
    for name in chosen + ["gateway"]:
        manager.add_process(name, f"{PYTHON} -m kit.runner {name}", env=env, cwd=str(ROOT))
    manager.loop()
    sys.exit(manager.returncode)


@main.command(help="Which services answer, their outbox backlog and the parked messages.")
def status():
    from kombu import Connection
    from nameko.rpc import RPC_QUEUE_TEMPLATE
    from sqlalchemy import create_engine, text
    from kit.db import normalize_url
    from kit.messaging import parked_depth
    settings = config.load()
    with Connection(settings["amqp_uri"], connect_timeout=3) as connection:
        for name in SERVICE_NAMES:
            try:
                _q, messages, consumers = connection.channel().queue_declare(RPC_QUEUE_TEMPLATE.format(name),
                                                                            passive=True)
                state = f"{consumers} consumer(s), {messages} waiting request(s)"
            except Exception:
                state = "not running"
            backlog = "-"
            url = settings.service(name).get("db_url") or ""
            local_file = settings.var_dir / f"{name}.db"
            if name in available_services() and (url or local_file.exists()):
                try:
                    engine = create_engine(normalize_url(settings.db_url(name)))
                    with engine.connect() as conn:
                        backlog = conn.execute(text("SELECT count(*) FROM outbox WHERE published_at IS NULL")).scalar()
                    engine.dispose()
                except Exception:
                    backlog = "not migrated"
            click.echo(f"{name:<14} {state:<40} outbox backlog: {backlog}")
    click.echo(f"parked messages: {parked_depth(settings)}")


@main.group(help="Events on the bus.")
def events():
    pass


@events.command(help="Print events as they pass (a temporary queue bound to PATTERN, default all).")
@click.option("--pattern", default="#", help="Routing key pattern: '<source>.<event_type>', * for one word, # for any, e.g. 'organizations.*'.")
@click.option("--count", default=0, help="Stop after this many events (0: run until interrupted).")
def tail(pattern, count):
    from kombu import Connection, Queue
    from kit.messaging import events_exchange
    settings = config.load()
    seen = 0
    with Connection(settings["amqp_uri"]) as connection:
        queue = Queue(exclusive=True, auto_delete=True, exchange=events_exchange(settings), routing_key=pattern)

        def show(body, message):
            nonlocal seen
            click.echo(json.dumps(body, ensure_ascii=False))
            message.ack()
            seen += 1
        with connection.Consumer(queue, callbacks=[show], accept=["json"]):
            click.echo(f"listening on {settings['messaging']['events_exchange']} for {pattern!r}", err=True)
            while not count or seen < count:
                try:
                    connection.drain_events(timeout=1)
                except TimeoutError:
                    continue


@main.group(help="Parked (dead-lettered) messages.")
def dlq():
    pass


@dlq.command("list", help="List parked messages with the queue they came from and why they were parked.")
def dlq_list():
    from kit.messaging import list_parked
    parked = list_parked(config.load())
    for item in parked:
        click.echo(json.dumps(item, ensure_ascii=False))
    click.echo(f"{len(parked)} parked message(s)", err=True)


@dlq.command("replay", help="Send parked messages back to their handlers (all, or one event / one queue).")
@click.option("--event-id", default=None)
@click.option("--queue", default=None)
def dlq_replay(event_id, queue):
    from kit.messaging import replay_parked
    click.echo(f"replayed {replay_parked(config.load(), event_id=event_id, queue=queue)} message(s)")


@main.command(help="Write a new Alembic migration for SERVICE from the difference between its models and its "
                    "migrations (developers, after changing models.py).")
@click.argument("service")
@click.option("-m", "--message", required=True, help="What the migration does.")
def revision(service, message):
    import tempfile
    from alembic import command
    from kit.migrations import alembic_config
    _selected([service])
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{scratch}/schema.db"
        command.upgrade(alembic_config(service, url), "head")  # the schema only: seeds may need the new tables
        command.revision(alembic_config(service, url), message=message, autogenerate=True)


@main.command(help="Write docs/asyncapi.yaml from the event contracts.")
def asyncapi():
    from kit.asyncapi import write
    click.echo(write())


if __name__ == "__main__":
    main()
