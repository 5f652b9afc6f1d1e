"""Start an isolated platform for a benchmark: its own RabbitMQ vhost, ports and var dir, so a developer's running
platform (default vhost and ports) is untouched. Used as a context manager; the processes are stopped on exit."""
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
VHOST = "redprop-bench"
MANAGEMENT = "http://127.0.0.1:15672/api"
GATEWAY_PORT = int(os.environ.get("BENCH_GATEWAY_PORT", "18000"))  # metrics on 19100.. (BENCH_METRICS_PORT)
METRICS_PORT = int(os.environ.get("BENCH_METRICS_PORT", "19100"))
BASE_URL = f"http://127.0.0.1:{GATEWAY_PORT}"
VAR_DIR = "/tmp/redprop-bench-var"

ENV = {
    "REDPROP_AMQP_URI": f"amqp://guest:guest@127.0.0.1:5672/{VHOST}",
    "REDPROP_VAR_DIR": VAR_DIR,
    "REDPROP_DEPLOYED": "organizations",
    "REDPROP__gateway__port": str(GATEWAY_PORT),
    "REDPROP__gateway__metrics_port": str(METRICS_PORT),
    "REDPROP__services__organizations__metrics_port": str(METRICS_PORT + 1),
    "REDPROP__services__tickets__metrics_port": str(METRICS_PORT + 2),
    "REDPROP__gateway__login_attempts_per_minute": "1000",
    "PYTHONWARNINGS": "ignore::DeprecationWarning",
}


def ensure_vhost():
    auth = ("guest", "guest")
    requests.put(f"{MANAGEMENT}/vhosts/{VHOST}", auth=auth, timeout=10).raise_for_status()
    requests.put(f"{MANAGEMENT}/permissions/{VHOST}/guest", auth=auth, timeout=10,
                 json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()


def code_root():
    """The checkout whose code the platform runs: BENCH_CODE_ROOT (a copy of the tree, e.g. with the previous
    kit/rpc.py, for a before/after comparison in one session) or this one."""
    return Path(os.environ.get("BENCH_CODE_ROOT") or ROOT)


def _env(extra=None, services=("organizations",)):
    deployed = ",".join(services)
    env = {**os.environ, **ENV, "PYTHONPATH": str(code_root()), "REDPROP_DEPLOYED": deployed,
           "REDPROP__deployed": "[" + deployed + "]", **(extra or {})}
    return env


def _ensure_ports_free(count):
    """Refuse to start when another platform already listens on the bench ports: its gateway would answer the
    readiness check and take the load."""
    for port in [GATEWAY_PORT] + [METRICS_PORT + i for i in range(count)]:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                raise RuntimeError(f"port {port} is in use by another process; stop it or set BENCH_GATEWAY_PORT "
                                   f"and BENCH_METRICS_PORT")


def _wait_ready(procs, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, proc in procs.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode} during start-up")
        try:
            if requests.get(f"{BASE_URL}/health/ready", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise RuntimeError("the platform did not become ready in time")


def _stop(procs):
    for proc in procs.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 10
    for proc in procs.values():
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def _exit_on_signal(signum, _frame):
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def running_platform(fresh=True, extra_env=None, log_dir=None, services=("organizations",)):
    """Migrate, load the demo county, run `services` (organizations alone unless told, and always first) and the
    gateway; yield {name: Popen}. The gateway is told that exactly these services are deployed."""
    services = tuple(dict.fromkeys(("organizations",) + tuple(services)))
    # SIGTERM (and SIGINT, which background shells ignore) end the benchmark through the finally below.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    signal.signal(signal.SIGINT, _exit_on_signal)
    _ensure_ports_free(len(services) + 1)
    ensure_vhost()
    if fresh:
        shutil.rmtree(VAR_DIR, ignore_errors=True)
    env = _env(extra_env, services)
    cli = [sys.executable, "-m", "redprop.cli"]
    subprocess.run(cli + ["migrate", *services], env=env, cwd=code_root(), check=True, stdout=subprocess.DEVNULL)
    subprocess.run(cli + ["demo"], env=env, cwd=code_root(), check=False, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    log_dir = Path(log_dir or VAR_DIR)
    log_dir.mkdir(parents=True, exist_ok=True)
    procs = {}
    try:
        for name in services + ("gateway",):
            log = open(log_dir / f"{name}.log", "ab")
            command = [sys.executable, "-m", "kit.runner", name]
            if os.environ.get("BENCH_PROFILE_DIR"):  # diagnostics: run under cProfile, stats written on stop
                command = [sys.executable, "-m", "bench._profiled_runner", name,
                           os.path.join(os.environ["BENCH_PROFILE_DIR"], f"{name}.prof")]
            procs[name] = subprocess.Popen(command, env=env, cwd=code_root(),
                                           stdout=log, stderr=subprocess.STDOUT)
            log.close()
        _wait_ready(procs)
        yield procs
    finally:
        _stop(procs)


def token(username="bureau", password="demo"):
    response = requests.post(f"{BASE_URL}/api/v1/auth/token", json={"username": username, "password": password},
                             timeout=30)
    response.raise_for_status()
    return response.json()["access_token"]


def cpu_seconds(pid):
    """User+system CPU seconds a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rabbit_pid():
    try:
        out = subprocess.run(["pgrep", "-f", "beam.smp"], capture_output=True, text=True, timeout=5).stdout.split()
        return int(out[0]) if out else None
    except Exception:
        return None


if __name__ == "__main__":
    # `python -m bench.platform [SECONDS]`: keep the isolated platform up for manual checks (curl, wrk), then stop.
    with running_platform() as _procs:
        print(f"up: {BASE_URL} (vhost {VHOST}, var {VAR_DIR}); pids " +
              ", ".join(f"{k}={v.pid}" for k, v in _procs.items()), flush=True)
        time.sleep(float(sys.argv[1]) if len(sys.argv) > 1 else 300)


# ----- a synthetic county and an event publisher, shared by the benchmarks -----
STREETS, COMMUNITIES, COMPOUNDS, COMPANIES = 3, 24, 238, 30


def synthetic_county():
    """Regions and compounds as the registry copy holds them: 238 compounds over 24 communities in 3 streets,
    served by 30 companies, every 9th self-managed; each compound has an owners' organization (1000 + index)."""
    regions = [{"id": 1, "code": "C1", "name": "County", "level": "county", "parent_id": None, "path": "/1/"}]
    for s in range(STREETS):
        regions.append({"id": 2 + s, "code": f"S{s}", "name": f"Street {s}", "level": "street", "parent_id": 1,
                        "path": f"/1/{2 + s}/"})
    for c in range(COMMUNITIES):
        street = 2 + c % STREETS
        regions.append({"id": 10 + c, "code": f"M{c}", "name": f"Community {c}", "level": "community",
                        "parent_id": street, "path": f"/1/{street}/{10 + c}/"})
    compounds = []
    for i in range(COMPOUNDS):
        community = regions[1 + STREETS + i % COMMUNITIES]
        self_managed = i % 9 == 8
        compounds.append({"id": 1 + i, "code": f"X{i:04d}", "name": f"Compound {i}", "community_id": community["id"],
                          "region_path": community["path"], "households": 300,
                          "company_id": None if self_managed else 1 + i % COMPANIES,
                          "owner_organization_id": 1000 + i, "three_without": False,
                          "management_mode": "self" if self_managed else "company"})
    return regions, compounds


class EventPublisher:
    """Publishes envelopes the way the outbox relay does (persistent, with publisher confirms)."""

    def __init__(self, settings):
        from kombu import Connection
        from kit.messaging import CONFIRMED, events_exchange
        self.connection = Connection(settings["amqp_uri"], transport_options=CONFIRMED)
        self.exchange = events_exchange(settings)
        self.producer = self.connection.Producer()

    def publish(self, envelope):
        self.producer.publish(envelope, exchange=self.exchange,
                              routing_key=f"{envelope['source']}.{envelope['event_type']}", serializer="json",
                              delivery_mode=2, message_id=envelope["event_id"],
                              headers={"event_version": envelope["version"]}, retry=True,
                              retry_policy={"max_retries": 3})

    def queue_depth(self, name):
        _name, count, _consumers = self.connection.default_channel.queue_declare(name, passive=True)
        return count

    def close(self):
        self.connection.release()
