"""pytest fixtures for services on the real broker and databases.

Each test gets its own RabbitMQ vhost (through the management API) and its own databases (a SQLite file, or a
fresh PostgreSQL database), so tests never see each other's queues or rows.
"""
import base64
import contextlib
import copy
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
from nameko.runners import ServiceRunner
from sqlalchemy import create_engine, text

from kit import config
from kit.auth import system_token
from kit.db import normalize_url
from kit.config import ROOT
from kit.messaging import declare_topology
from kit.migrations import upgrade
from kit.rpc import standalone_call

RABBIT_MANAGEMENT = os.environ.get("REDPROP_TEST_RABBIT_MANAGEMENT", "http://guest:guest@127.0.0.1:15672")
RABBIT_HOST = os.environ.get("REDPROP_TEST_RABBIT_HOST", "127.0.0.1:5672")
POSTGRES_ADMIN_URL = os.environ.get("REDPROP_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
DATABASE_KINDS = ("sqlite", "postgresql")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def temporary_vhost():
    name = f"redprop-test-{uuid.uuid4().hex[:10]}"
    requests.put(f"{RABBIT_MANAGEMENT}/api/vhosts/{name}", timeout=10).raise_for_status()
    requests.put(f"{RABBIT_MANAGEMENT}/api/permissions/{name}/guest",
                 json={"configure": ".*", "write": ".*", "read": ".*"}, timeout=10).raise_for_status()
    try:
        yield f"amqp://guest:guest@{RABBIT_HOST}/{name}"
    finally:
        requests.delete(f"{RABBIT_MANAGEMENT}/api/vhosts/{name}", timeout=10)


@contextlib.contextmanager
def temporary_database(kind, directory, name):
    if kind == "sqlite":
        yield f"sqlite:///{directory / (name + '.db')}"
        return
    database = f"redprop_test_{name}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_ADMIN_URL.replace("postgresql://", "postgresql+pg8000://"),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{database}"'))
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + database
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


def build_settings(stack, amqp_uri, directory, database_kind, deployed=("organizations",), **overrides):
    """Settings for a test: own vhost, own databases, free ports, fast retries."""
    needs_database = set(deployed) | {"organizations"}
    services = {}
    for name in config.SERVICE_NAMES:
        kind = database_kind if name in needs_database else "sqlite"
        services[name] = {"db_url": stack.enter_context(temporary_database(kind, directory, name)),
                          "metrics_port": free_port()}
    tree = {"amqp_uri": amqp_uri, "var_dir": str(directory / "var"), "deployed": list(deployed),
            "messaging": {"retry_base_delay": 0.05, "retry_max_delay": 0.2, "max_attempts": 3},
            "outbox": {"idle_interval": 0.1}, "rpc": {"timeout": 10},
            "jwt": {"secret": "test-secret-" + uuid.uuid4().hex},
            "gateway": {"host": "127.0.0.1", "port": free_port(), "metrics_port": free_port()},
            "services": services}
    config._merge(tree, overrides)
    return config.load(environ={}, extra=tree)


@pytest.fixture
def vhost():
    with temporary_vhost() as uri:
        yield uri


@pytest.fixture(params=DATABASE_KINDS)
def database_kind(request):
    return request.param


@pytest.fixture
def settings_factory(vhost, tmp_path, database_kind):
    with contextlib.ExitStack() as stack:
        yield lambda **kwargs: build_settings(stack, vhost, tmp_path, database_kind, **kwargs)


@pytest.fixture
def settings(settings_factory):
    return settings_factory()


def migrate(settings, services=("organizations",)):
    from kit.runner import service_class
    for name in services:
        upgrade(name, settings.db_url(name))
        declare_topology(settings, name, service_class(name))


@contextlib.contextmanager
def running(settings, *names):
    """Run services (and/or the gateway) in this process until the block ends."""
    from kit.runner import service_class
    runners = []
    try:
        for name in names:
            cls = service_class(name)
            runner = ServiceRunner(config.nameko_config(settings, cls.name))
            runner.add_service(cls)
            runner.start()
            runners.append(runner)
        yield
    finally:
        for runner in reversed(runners):
            runner.stop()


class ApiClient:
    """A small HTTP client for the gateway with token handling."""

    def __init__(self, base_url):
        self.base_url = base_url
        self.session = requests.Session()
        self.token = None

    def login(self, username, password="demo"):
        response = self.session.post(f"{self.base_url}/api/v1/auth/token",
                                     json={"username": username, "password": password}, timeout=30)
        assert response.status_code == 200, response.text
        self.token = response.json()["access_token"]
        return self

    def as_user(self, username, password="demo"):
        return ApiClient(self.base_url).login(username, password)

    def request(self, method, path, **kwargs):
        headers = kwargs.pop("headers", {})
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return self.session.request(method, f"{self.base_url}{path}", headers=headers, timeout=60, **kwargs)

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.request("POST", path, **kwargs)

    def put(self, path, **kwargs):
        return self.request("PUT", path, **kwargs)

    def patch(self, path, **kwargs):
        return self.request("PATCH", path, **kwargs)

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs)


def load_demo(settings):
    from sqlalchemy.orm import Session
    from kit.db import make_engine
    from kit.messaging import OutboxWriter
    from services.organizations import demo
    from services.organizations.models import OutboxEvent
    engine = make_engine(settings.db_url("organizations"))
    with Session(engine) as session:
        accounts = demo.load(session, OutboxWriter(OutboxEvent, "organizations", "demo-load"), "demo")
        session.commit()
    engine.dispose()
    return accounts


@contextlib.contextmanager
def demo_platform(settings, services=("organizations",)):
    """The services and the gateway on the real broker, with the demo county loaded; yields an ApiClient once
    every service answers (and tickets has copied the registry)."""
    migrate(settings, services)
    load_demo(settings)
    with running(settings, *services, "gateway"):
        client = ApiClient(f"http://127.0.0.1:{settings['gateway']['port']}")
        wait_until(lambda: client.get("/health").status_code == 200, timeout=15)
        for copier in set(services) & {"tickets", "ratings", "notifications"}:
            wait_until(lambda: _registry_copied(settings, copier), timeout=60)
        yield client


def _registry_copied(settings, service):
    return db_value(settings, service, "SELECT count(*) FROM sync_state") > 0


def wait_for_registry_events(settings, service="ratings", timeout=60):
    """Until `service` has applied every registry event organizations published (the demo load's backlog)."""
    from kit.messaging import subscriptions
    from kit.runner import service_class
    handlers = {method: event for method, source, event in subscriptions(service_class(service))
                if source == "organizations"}
    events = ", ".join(f"'{e}'" for e in sorted(set(handlers.values())))
    names = ", ".join(f"'{h}'" for h in sorted(handlers))
    published = db_value(settings, "organizations", f"SELECT count(*) FROM outbox WHERE event_type IN ({events})")
    wait_until(lambda: db_value(settings, service, f"SELECT count(*) FROM inbox WHERE handler IN ({names})")
               >= published, timeout=timeout)


def db_value(settings, service, sql):
    """One value from a service's database (tests look at what a service stored)."""
    engine = create_engine(normalize_url(settings.db_url(service)))
    with engine.connect() as conn:
        value = conn.execute(text(sql)).scalar()
    engine.dispose()
    return value


def db_execute(settings, service, sql, **params):
    """Change a service's database behind its back: tests use it only to move a stored time into the past."""
    engine = create_engine(normalize_url(settings.db_url(service)))
    with engine.begin() as conn:
        changed = conn.execute(text(sql), params).rowcount
    engine.dispose()
    return changed


def _county(request, tmp_path_factory, services, **overrides):
    """The demo county on the named services and the gateway, per module and database kind: (settings, client)."""
    with contextlib.ExitStack() as stack:
        uri = stack.enter_context(temporary_vhost())
        settings = build_settings(stack, uri, tmp_path_factory.mktemp(services[-1]), request.param,
                                  deployed=services, **overrides)
        yield settings, stack.enter_context(demo_platform(settings, services))


@pytest.fixture(scope="module", params=DATABASE_KINDS)
def ticket_county(request, tmp_path_factory):
    """Organizations, tickets and the gateway with the demo county."""
    yield from _county(request, tmp_path_factory, ("organizations", "tickets"))


@pytest.fixture(scope="module", params=DATABASE_KINDS)
def ratings_county(request, tmp_path_factory):
    """Organizations, tickets, ratings and the gateway with the demo county."""
    yield from _county(request, tmp_path_factory, ("organizations", "tickets", "ratings"))


@pytest.fixture(scope="module", params=DATABASE_KINDS)
def notifications_county(request, tmp_path_factory):
    """Organizations, tickets, notifications and the gateway with the demo county, retries a second apart."""
    yield from _county(request, tmp_path_factory, ("organizations", "tickets", "notifications"),
                       notifications={"retry_base_delay": 0.5, "retry_max_delay": 2})


@pytest.fixture(scope="module", params=DATABASE_KINDS)
def demo_county(request, tmp_path_factory):
    """One demo county per test module and database kind: (settings, ApiClient). Tests must not depend on each
    other's changes; the ones that change data use their own objects."""
    with contextlib.ExitStack() as stack:
        uri = stack.enter_context(temporary_vhost())
        settings = build_settings(stack, uri, tmp_path_factory.mktemp("county"), request.param)
        client = stack.enter_context(demo_platform(settings))
        yield settings, client


def call(settings, service, method, **kwargs):
    """RPC as the system (tests and tools)."""
    return standalone_call(settings, service, method, token=system_token(settings), **kwargs)


def upload(name, content):
    return {"file": (name, content)}


def b64(content):
    return base64.b64encode(content).decode()


class Process:
    """A service in its own OS process (for fault tests that kill it)."""

    def __init__(self, settings_env, name, extra_env=None, module="kit.runner"):
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("REDPROP")}
        self.env = {**inherited, **settings_env, **(extra_env or {}), "PYTHONPATH": str(ROOT)}
        self.name = name
        self.module = module
        self.proc = None
        # its logs go to a file beside the test's settings (an unread pipe would block the process when full)
        self.log_path = Path(settings_env["REDPROP_CONFIG"]).with_suffix(f".{name.split(':')[-1]}.log")

    def start(self):
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", self.module, self.name], env=self.env,
                                         cwd=str(ROOT), stdout=log, stderr=subprocess.STDOUT)
        return self

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


@contextlib.contextmanager
def county_processes(profile, database_kind, directory):
    """A county on a profile as a county runs it: each service and the gateway its own process (told the profile
    by REDPROP_PROFILE), on a fresh vhost and databases, with the demo county loaded and copied. Yields
    (settings, client, processes by name); a test may stop and start them."""
    deployed = config.load(environ={"REDPROP_PROFILE": profile})["deployed"]
    with contextlib.ExitStack() as stack:
        uri = stack.enter_context(temporary_vhost())
        settings = build_settings(stack, uri, directory, database_kind, deployed=deployed)
        migrate(settings, deployed)
        load_demo(settings)
        env = environment_for(settings)
        processes = {name: Process(env, name, {"REDPROP_PROFILE": profile}) for name in (*deployed, "gateway")}
        for process in processes.values():
            stack.callback(process.stop)
            process.start()
        client = ApiClient(f"http://127.0.0.1:{settings['gateway']['port']}")
        wait_until(lambda: answers(client, "/health/ready"), timeout=60)
        wait_until(lambda: _all_healthy(client, deployed), timeout=60)  # every RPC queue has its consumer
        for copier in set(deployed) - {"organizations"}:
            wait_until(lambda: _registry_copied(settings, copier), timeout=60)
        yield settings, client, processes


def _all_healthy(client, deployed):
    services = {s["name"]: s["healthy"] for s in client.get("/api/v1/services").json()["services"]}
    return all(services.get(name) for name in deployed)


def answers(client, path):
    """Whether the gateway answers 200 (False while it is down)."""
    try:
        return client.get(path).status_code == 200
    except OSError:
        return False


def environment_for(settings, **extra):
    """Environment variables that make a child process load the same settings as `settings`."""
    import yaml
    path = settings.var_dir / f"settings-{uuid.uuid4().hex[:6]}.yaml"
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    tree = copy.deepcopy(dict(settings))  # the overrides must not leak into the caller's settings
    config._merge(tree, extra)
    path.write_text(yaml.safe_dump(dict(tree)))
    return {"REDPROP_CONFIG": str(path)}


def wait_until(predicate, timeout=20.0, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError("condition not met in time")
