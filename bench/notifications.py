"""Notifications (issue 5): events into people's inboxes, and webhook fan-out to 100 subscribers.

    python -m bench.notifications [--databases sqlite,postgresql] [--events 5000] [--staff 5] [--residents 20000]
                                  [--webhook-events 200] [--rate 20] [--subscribers 1,100] [--send-batch N]
                                  [--slow-seconds S] [--answer-ms MS] [--json]
    BENCH_CODE_ROOT=/tmp/redprop-head python -m bench.notifications    # the service from another copy of the tree
    BENCH_PROFILE_DIR=/tmp/prof python -m bench.notifications          # the service under cProfile

For each database (SQLite file under /tmp/redprop-bench-notifications/<kind>, or a temporary PostgreSQL database
through kit.testing.temporary_database; REDPROP_TEST_POSTGRES names the server) the benchmark makes its own
RabbitMQ vhost (kit.testing.temporary_vhost, through the management API; with `rabbitmqctl` when the API does
not answer), migrates the notifications database, declares its topology and starts **one real notifications
process** (`python -m kit.runner notifications`, as kit.testing.Process and bench.platform do), deployed alone.

The registry copy and the membership copy are **inserted directly** into the notifications database before the
service starts (with a `sync_state` row, so the service does not ask organizations for a snapshot): county 1
(`/1/`), 3 streets, 24 communities, 238 compounds, 30 companies; memberships of 5 bureau staff, 3 staff per street
and community, `--staff` (5) staff per company, 3 owners' organization members per compound and `--residents`
(20,000) residents, about 21,000 rows. That is the state after the copy has caught up, and it measures the
service's own work only: running organizations with the demo county would give one account per company (one
message per event), put organizations' processes on the same 2 vCPUs, and mix the demo load's backlog of ~1,000
registry events into the notifications queues while measuring.

Events are published as the tickets service's outbox relay publishes them: `kit.contracts.make_envelope`
(validated against contracts/tickets.py), to the `redprop.events` topic exchange with routing key
`tickets.ticket_submitted`, persistent, JSON, `message_id` = event id, one publisher confirm per message. Every
event is handled by the company (`handler_kind` "company") of a company-managed compound, companies in rotation.

1. **Inbox**: 100 warm-up events, then `--events` (5,000) published as fast as the confirms allow; timed from
   the first publish until the `messages` table holds `--events` x `--staff` new rows (polled every 0.1 s).
   Prints events/s and messages/s, the handler queue's backlog when publishing ended (so the publisher is seen
   not to be the limit) and the rate at which the service drained it alone ("events/s after"), and the CPU
   (cores) the service, RabbitMQ, the PostgreSQL backends of this database and this process used meanwhile.
2. **Webhooks**: a receiver in its own process (`python -m bench.notifications receiver PORT SECRETS`, a
   ThreadingHTTPServer answering 204) verifies every request's `X-Redprop-Signature` with its subscription's secret
   and stamps its arrival (time.time()). Subscriptions are created through the service's RPC
   (`create_subscription` as the system caller, `tickets.ticket_submitted`, region 1), URL
   `http://127.0.0.1:PORT/hook/<n>`, so the receiver knows whose secret to use. For each subscriber count of
   `--subscribers` (1, then 100: the baseline and the fan-out in one session), `--webhook-events` (200) events are
   published at `--rate` (20/s), each stamped just before its publish; the round ends when every delivery has
   arrived (or nothing arrived for 60 s). Per round: deliveries/s (from the first publish to the last receipt,
   and while sending), publish -> receipt latency p50/p99/max, publish -> delivery queued (the deliveries'
   `created_at`, written by the event handler) p50/p99, the time the sender sat idle (gaps over 0.25 s between
   receipts), the median gap between receipts (while a backlog waits: the sender's time per delivery), and CPU.

`--slow-seconds S` makes the first subscriber answer after S seconds (still inside `webhook_timeout`), to show
what one slow subscriber does to the others; `--answer-ms MS` makes every other subscriber answer after MS ms,
as a receiver across a network would. `--send-batch N` overrides `notifications.send_batch` (deliveries the
1-second `send_due` timer takes per round; default 100). All three are for diagnostic runs.

The work directory (SQLite files, settings, the service's and the receiver's logs) is left under
/tmp/redprop-bench-notifications for inspection and replaced by the next run. Prints figures only; asserts
nothing about timing.
"""
import argparse
import contextlib
import datetime as dt
import json
import logging
import os
import shutil
import signal
import socket
import statistics as pystats
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

if os.environ.get("BENCH_CODE_ROOT"):  # measure another copy of the tree (e.g. HEAD before a change)
    sys.path.insert(0, os.environ["BENCH_CODE_ROOT"])

import requests  # noqa: E402

from bench.loadgen import percentile  # noqa: E402
from bench.platform import (COMPANIES, COMPOUNDS, ROOT, EventPublisher, code_root, cpu_seconds,  # noqa: E402
                            rabbit_pid, synthetic_county)

WORK_DIR = Path("/tmp/redprop-bench-notifications")
SOURCE_TIME = dt.datetime(2026, 1, 1)
HANDLER = "on_tickets_ticket_submitted"
IDLE_GAP = 0.25  # seconds between two receipts that count as the sender waiting, not sending


# ----- the webhook receiver (`python -m bench.notifications receiver PORT SECRETS_FILE`, its own process) -----

def receiver_main(argv):
    """POST /hook/<n>: verify the signature with subscription n's secret (read from SECRETS_FILE, a JSON object
    {n: secret}, re-read when n is unknown), record [n, event_id, delivery id, arrival, signature ok], answer 204.
    GET /count: {"count", "bad"}; GET /records: every record."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import parse_qs, urlsplit
    from services.notifications.domain.webhooks import HEADER, verify

    port, secrets_path = int(argv[0]), Path(argv[1])
    secrets, records, counts = {}, [], {"count": 0, "bad": 0}
    lock = threading.Lock()

    def secret_of(index):
        if index not in secrets:
            try:
                secrets.update({int(k): v for k, v in json.loads(secrets_path.read_text()).items()})
            except (OSError, ValueError):
                pass
        return secrets.get(index)

    class Receiver(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive for a client that keeps its connection, as real servers allow

        def do_POST(self):
            arrived = time.time()
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            url = urlsplit(self.path)
            try:
                index = int(url.path.rstrip("/").rsplit("/", 1)[-1])
            except ValueError:
                index = -1
            secret = secret_of(index)
            ok = secret is not None and verify(secret, self.headers.get(HEADER, ""), body, time.time())
            try:
                event_id = json.loads(body).get("event_id")
            except ValueError:
                event_id, ok = None, False
            with lock:
                records.append([index, event_id, self.headers.get("X-Redprop-Delivery"), arrived, ok])
                counts["count"] += 1
                counts["bad"] += 0 if ok else 1
            time.sleep(float(parse_qs(url.query).get("delay", ["0"])[0]))  # a slow subscriber (--slow-seconds)
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self):
            with lock:
                payload = dict(counts) if self.path == "/count" else list(records)
            body = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Receiver)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server.serve_forever()


@contextlib.contextmanager
def receiver_process(port, secrets_path, log_path):
    with open(log_path, "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "bench.notifications", "receiver", str(port),
                                 str(secrets_path)], cwd=str(ROOT), stdout=log, stderr=subprocess.STDOUT,
                                env={**os.environ, "PYTHONPATH": str(ROOT)})  # this file, whatever the code root
    try:
        _wait(lambda: _listening(port), 15, "the webhook receiver did not start")
        yield proc
    finally:
        _terminate(proc)


def _listening(port):
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _receiver(port, path):
    return requests.get(f"http://127.0.0.1:{port}{path}", timeout=30).json()


# ----- processes and waiting -----

def _wait(predicate, timeout, message, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except Exception:  # the service or the receiver is still starting
            pass
        time.sleep(interval)
    raise RuntimeError(message)


def _terminate(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@contextlib.contextmanager
def service_process(settings, log_path):
    """The notifications service in its own process, with the settings of this run (written to a YAML file)."""
    from kit.testing import call, environment_for
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("REDPROP")}, **environment_for(settings),
           "PYTHONPATH": str(code_root()), "PYTHONWARNINGS": "ignore::DeprecationWarning"}
    command = [sys.executable, "-m", "kit.runner", "notifications"]
    if os.environ.get("BENCH_PROFILE_DIR"):  # diagnostics: run under cProfile, stats written on stop
        profile = Path(os.environ["BENCH_PROFILE_DIR"]) / f"notifications-{Path(log_path).parent.name}.prof"
        profile.parent.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "bench._profiled_runner", "notifications", str(profile)]
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(command, env=env, cwd=str(code_root()), stdout=log, stderr=subprocess.STDOUT)
    try:
        def answers():
            if proc.poll() is not None:
                raise SystemExit(f"the notifications service exited with {proc.returncode}; see {log_path}")
            return call(settings, "notifications", "ping", timeout=5)["ok"]
        deadline = time.monotonic() + 60
        while True:
            try:
                if answers():
                    break
            except SystemExit:
                raise
            except Exception:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the notifications service did not answer in time; see {log_path}")
                time.sleep(0.3)
        yield proc
    finally:
        _terminate(proc)


@contextlib.contextmanager
def temporary_vhost():
    """kit.testing.temporary_vhost (the management API); `rabbitmqctl` when the API does not answer."""
    from kit.testing import RABBIT_HOST, RABBIT_MANAGEMENT
    from kit.testing import temporary_vhost as through_api
    try:
        requests.get(f"{RABBIT_MANAGEMENT}/api/overview", timeout=5).raise_for_status()
    except requests.RequestException:
        name = f"redprop-bench-{uuid.uuid4().hex[:10]}"
        ctl = lambda *a: subprocess.run(["rabbitmqctl", "-q", *a], check=True, capture_output=True,  # noqa: E731
                                        timeout=60)
        ctl("add_vhost", name)
        try:
            ctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
            yield f"amqp://guest:guest@{RABBIT_HOST}/{name}"
        finally:
            ctl("delete_vhost", name)
        return
    with through_api() as uri:
        yield uri


def _postgres_backends(database):
    """PostgreSQL backends serving `database` (the process title names it), not other people's."""
    pids = []
    try:
        out = subprocess.run(["pgrep", "-u", "postgres"], capture_output=True, text=True, timeout=5).stdout.split()
    except Exception:
        return pids
    for pid in out:
        with contextlib.suppress(OSError):
            if f" {database} ".encode() in Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" "):
                pids.append(int(pid))
    return pids


class CpuMeter:
    """CPU seconds (user + system) of named processes between start() and stop(), in cores. A name may map to a
    function returning pids (PostgreSQL backends, which come and go: counted while they exist)."""

    def __init__(self, pids):
        self.pids = {name: pid for name, pid in pids.items() if pid}

    def _read(self):
        values = {}
        for name, pid in self.pids.items():
            values[name] = {}
            for p in (pid() if callable(pid) else [pid]):
                with contextlib.suppress(OSError, IndexError):
                    values[name][p] = cpu_seconds(p)
        return values

    def start(self):
        self.t0, self.before = time.monotonic(), self._read()
        return self

    def stop(self):
        elapsed, after = time.monotonic() - self.t0, self._read()
        return {name: round(sum(cpu - self.before[name].get(p, 0.0) for p, cpu in after[name].items()) / elapsed, 2)
                for name in after}


# ----- the copies, written directly -----

def fill_copies(engine, staff, residents):
    """Registry and membership copies as organizations' snapshot would leave them; returns the company-managed
    compounds (dicts) to report tickets in."""
    from sqlalchemy import insert
    from services.notifications import models as m
    regions, compounds = synthetic_county()
    memberships = []

    def member(role, **scope):
        n = len(memberships) + 1
        memberships.append({"id": n, "account_id": 100_000 + n, "role": role, "region_id": None, "company_id": None,
                            "compound_id": None, "organization_id": None, "department_id": None, "active": True,
                            "source_time": SOURCE_TIME, **scope})
    for _ in range(5):
        member("bureau", region_id=1)
    for region in regions[1:]:
        for _ in range(3):
            member(region["level"], region_id=region["id"])
    for company in range(1, COMPANIES + 1):
        for _ in range(staff):
            member("company", company_id=company)
    for compound in compounds:
        for _ in range(3):
            member("owners_org", compound_id=compound["id"], organization_id=compound["owner_organization_id"])
    for r in range(residents):
        member("resident", compound_id=compounds[r % COMPOUNDS]["id"])
    with engine.begin() as conn:
        conn.execute(insert(m.RegionCopy.__table__), [{**r, "source_time": SOURCE_TIME} for r in regions])
        conn.execute(insert(m.CompoundCopy.__table__), [{**c, "source_time": SOURCE_TIME} for c in compounds])
        conn.execute(insert(m.REGISTRY.sync_state.__table__), [{"name": "registry", "synced_at": SOURCE_TIME}])
        for i in range(0, len(memberships), 5000):
            conn.execute(insert(m.MembershipCopy.__table__), memberships[i:i + 5000])
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    return [c for c in compounds if c["company_id"]], len(memberships)


# ----- events -----

def ticket_submitted(n, compound, now):
    """A valid tickets.ticket_submitted envelope (validated by make_envelope against contracts/tickets.py)."""
    from kit.contracts import make_envelope
    return make_envelope("tickets", "ticket_submitted", {
        "ticket_id": 1_000_000 + n, "code": f"GT{n:08d}", "compound_id": compound["id"],
        "community_id": compound["community_id"], "region_path": compound["region_path"],
        "category_code": "repair.elevator", "channel": "online", "status": "submitted", "level": "compound",
        "handler_kind": "company", "handler_id": compound["company_id"], "company_id": compound["company_id"],
        "priority": "normal", "private": False, "reporter_account_id": 500_000 + n % 1000,
        "claim_deadline": now + dt.timedelta(hours=2), "resolve_deadline": now + dt.timedelta(days=2),
        "escalations": 0, "actor_account_id": 500_000 + n % 1000}, correlation_id=f"bench-{n}")


def _scalar(engine, sql):
    from sqlalchemy import text
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar()


def _wait_for_count(read, target, stall=60, interval=0.1, label="", progress_every=15):
    """Poll `read()` until it reaches `target`; gives up after `stall` s without progress. (reached, when, last)."""
    last, last_change, last_print = read(), time.monotonic(), time.monotonic()
    while last < target:
        time.sleep(interval)
        value = read()
        now = time.monotonic()
        if value != last:
            last, last_change = value, now
        elif now - last_change > stall:
            return False, now, last
        if label and now - last_print > progress_every:
            print(f"    ... {label}: {last:,} of {target:,}", flush=True)
            last_print = now
    return True, time.monotonic(), last


# ----- 1. events into inboxes -----

def inbox_phase(engine, publisher, compounds, staff, events, pids, start_at=0, warmup=100):
    from kit.messaging import handler_queue_name
    queue = handler_queue_name("notifications", HANDLER)
    now = dt.datetime.now(dt.timezone.utc)
    count = lambda: _scalar(engine, "SELECT count(*) FROM messages")  # noqa: E731

    before = count()
    for n in range(start_at, start_at + warmup):
        publisher.publish(ticket_submitted(n, compounds[n % len(compounds)], now))
    reached, _, _ = _wait_for_count(count, before + warmup * staff, label="warm-up messages")
    if not reached:
        raise RuntimeError("the warm-up events did not reach the inbox")

    start_at += warmup
    envelopes = [ticket_submitted(n, compounds[n % len(compounds)], now) for n in range(start_at, start_at + events)]
    before = count()
    target = before + events * staff
    meter = CpuMeter(pids).start()
    t0 = time.monotonic()
    for envelope in envelopes:
        publisher.publish(envelope)
    published = time.monotonic()
    backlog = publisher.queue_depth(queue)
    reached, done, last = _wait_for_count(count, target, label="inbox messages")
    cpu = meter.stop()
    elapsed = done - t0
    handled = _scalar(engine, f"SELECT count(*) FROM inbox WHERE handler = '{HANDLER}'")
    result = {"events": events, "staff": staff, "messages": last - before, "expected_messages": events * staff,
              "complete": reached, "seconds": elapsed, "publish_seconds": published - t0,
              "backlog_when_published": backlog, "events_per_s": events / elapsed if reached else float("nan"),
              "drain_per_s": backlog / (done - published) if reached and done > published else float("nan"),
              "messages_per_s": (last - before) / elapsed, "handled_in_total": handled, "cpu": cpu}
    return result, start_at + events


# ----- 2. webhook fan-out -----

def create_subscriptions(settings, port, have, want, secrets, secrets_path, slow_seconds=0, answer_ms=0):
    from nameko.standalone.rpc import ClusterRpcProxy
    from kit.auth import TOKEN_CONTEXT_KEY, system_token
    config = {"AMQP_URI": settings["amqp_uri"], "serializer": "json"}
    with ClusterRpcProxy(config, context_data={TOKEN_CONTEXT_KEY: system_token(settings)}, timeout=30) as cluster:
        for n in range(have, want):
            created = cluster.notifications.create_subscription(data={
                "name": f"bench receiver {n}", "url": _hook_url(port, n, slow_seconds, answer_ms),
                "event_types": ["tickets.ticket_submitted"], "region_id": 1})
            secrets[n] = created["secret"]
    tmp = secrets_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(secrets))
    os.replace(tmp, secrets_path)


def _hook_url(port, n, slow_seconds, answer_ms):
    delay = slow_seconds if n == 0 and slow_seconds else answer_ms / 1000
    return f"http://127.0.0.1:{port}/hook/{n}" + (f"?delay={delay:g}" if delay else "")


def _stats(values):
    ordered = sorted(values)
    return {"p50": percentile(ordered, .5), "p99": percentile(ordered, .99),
            "max": ordered[-1] if ordered else float("nan")}


def webhook_round(engine, publisher, port, compounds, subscribers, events, rate, pids, start_at):
    from sqlalchemy import select
    from services.notifications import models as m
    expected = events * subscribers
    received_before = _receiver(port, "/count")["count"]
    meter = CpuMeter(pids).start()
    stamps = {}
    t0 = time.monotonic()
    first_publish = time.time()
    for i in range(events):
        target = t0 + i / rate
        delay = target - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        n = start_at + i
        envelope = ticket_submitted(n, compounds[n % len(compounds)], dt.datetime.now(dt.timezone.utc))
        stamps[envelope["event_id"]] = time.time()
        publisher.publish(envelope)
    publish_span = time.monotonic() - t0
    reached, _, _ = _wait_for_count(lambda: _receiver(port, "/count")["count"], received_before + expected,
                                    interval=0.25, label=f"deliveries to {subscribers} subscriber(s)")
    cpu = meter.stop()
    records = [r for r in _receiver(port, "/records") if r[1] in stamps]
    arrivals = sorted(r[3] for r in records)
    latencies = [(r[3] - stamps[r[1]]) * 1000 for r in records]
    with engine.connect() as conn:
        rows = conn.execute(select(m.Delivery.event_id, m.Delivery.created_at, m.Delivery.status,
                                   m.Delivery.attempts).where(m.Delivery.channel == "webhook")).all()
    rows = [r for r in rows if r.event_id in stamps]
    queued = {}
    for row in rows:
        queued.setdefault(row.event_id, row.created_at.replace(tzinfo=dt.timezone.utc).timestamp())
    statuses = {}
    for row in rows:
        statuses[row.status] = statuses.get(row.status, 0) + 1
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:])]
    idle = sum(g for g in gaps if g > IDLE_GAP)
    busy_gaps = [g for g in gaps if g <= IDLE_GAP]
    per_second = {}
    for a in arrivals:
        per_second[int(a)] = per_second.get(int(a), 0) + 1
    end_to_end = (arrivals[-1] - first_publish) if arrivals else float("nan")
    sending = (arrivals[-1] - arrivals[0]) if len(arrivals) > 1 else float("nan")
    return {"subscribers": subscribers, "events": events, "rate": rate, "expected": expected,
            "received": len(records), "complete": reached, "bad_signatures": sum(1 for r in records if not r[4]),
            "duplicates": len(records) - len({(r[0], r[1]) for r in records}),
            "retried": sum(1 for r in rows if r.attempts > 1), "statuses": statuses,
            "publish_seconds": publish_span, "end_to_end_seconds": end_to_end, "sending_seconds": sending,
            "deliveries_per_s": len(records) / end_to_end if arrivals else float("nan"),
            "sending_per_s": len(records) / sending if len(arrivals) > 1 else float("nan"),
            "best_second": max(per_second.values()) if per_second else 0,
            "latency_ms": _stats(latencies),
            "queued_ms": _stats([(queued[e] - stamps[e]) * 1000 for e in queued]),
            "idle_seconds": idle, "idle_gaps": sum(1 for g in gaps if g > IDLE_GAP),
            "median_gap_ms": pystats.median(busy_gaps) * 1000 if busy_gaps else float("nan"),
            "cpu": cpu}, start_at + events


# ----- one database -----

def run(kind, args):
    from kit.db import make_engine
    from kit.testing import build_settings, free_port, migrate
    directory = WORK_DIR / kind
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    overrides = {"notifications": {"send_batch": args.send_batch}} if args.send_batch else {}
    results = {"database": kind}
    with contextlib.ExitStack() as stack:
        uri = stack.enter_context(temporary_vhost())
        settings = build_settings(stack, uri, directory, kind, deployed=("notifications",), **overrides)
        migrate(settings, ("notifications",))
        engine = make_engine(settings.db_url("notifications"))
        stack.callback(engine.dispose)
        compounds, memberships = fill_copies(engine, args.staff, args.residents)
        results["memberships"] = memberships
        print(f"[{kind}] copies written: {len(compounds)} company-managed compounds, {memberships:,} memberships "
              f"({args.staff} staff at each of {COMPANIES} companies); send_batch "
              f"{settings['notifications']['send_batch']}", flush=True)
        service = stack.enter_context(service_process(settings, directory / "notifications.log"))
        publisher = EventPublisher(settings)
        stack.callback(publisher.close)
        pids = {"service": service.pid, "rabbitmq": rabbit_pid(), "bench": os.getpid()}
        if kind == "postgresql":
            database = settings.db_url("notifications").rsplit("/", 1)[1]
            pids["postgres"] = lambda: _postgres_backends(database)

        inbox, next_n = inbox_phase(engine, publisher, compounds, args.staff, args.events, pids)
        results["inbox"] = inbox
        print(f"[{kind}] inbox: {inbox['events']:,} events -> {inbox['messages']:,} messages "
              f"{'' if inbox['complete'] else '(INCOMPLETE: nothing new for 60 s) '}in "
              f"{inbox['seconds']:.1f} s: {inbox['events_per_s']:.0f} events/s, {inbox['messages_per_s']:.0f} "
              f"messages/s (published in {inbox['publish_seconds']:.1f} s, {inbox['backlog_when_published']:,} "
              f"waiting in the handler's queue then); cpu {_cpu(inbox['cpu'])}", flush=True)

        port = free_port()
        secrets, secrets_path = {}, directory / "secrets.json"
        secrets_path.write_text("{}")
        receiver = stack.enter_context(receiver_process(port, secrets_path, directory / "receiver.log"))
        pids["receiver"] = receiver.pid
        results["webhooks"] = []
        for subscribers in args.subscribers:
            create_subscriptions(settings, port, len(secrets), subscribers, secrets, secrets_path,
                                 args.slow_seconds, args.answer_ms)
            r, next_n = webhook_round(engine, publisher, port, compounds, subscribers, args.webhook_events,
                                      args.rate, pids, next_n)
            results["webhooks"].append(r)
            print(f"[{kind}] webhooks, {subscribers} subscriber(s): {r['received']:,} of {r['expected']:,} "
                  f"deliveries (bad signatures {r['bad_signatures']}, duplicates {r['duplicates']}, retried "
                  f"{r['retried']}) in {r['end_to_end_seconds']:.1f} s: {r['deliveries_per_s']:.1f} deliveries/s; "
                  f"latency p50 {r['latency_ms']['p50']:.0f} ms, p99 {r['latency_ms']['p99']:.0f} ms; sender idle "
                  f"{r['idle_seconds']:.1f} s in {r['idle_gaps']} gaps; cpu {_cpu(r['cpu'])}", flush=True)
    return results


def _cpu(cpu):
    return " ".join(f"{k}={v:.2f}" for k, v in cpu.items())


def print_tables(all_results):
    print()
    print("Events into inboxes (tickets.ticket_submitted to a company's staff)")
    print("| database | events | messages | seconds | events/s | messages/s | publish s | queued when published "
          "| events/s after | CPU service / rabbit / pg / bench |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for res in all_results:
        i = res["inbox"]
        c = i["cpu"]
        print(f"| {res['database']} | {i['events']:,} | {i['messages']:,} | {i['seconds']:.1f} | "
              f"{i['events_per_s']:.0f} | {i['messages_per_s']:.0f} | {i['publish_seconds']:.1f} | "
              f"{i['backlog_when_published']:,} | {i['drain_per_s']:.0f} | "
              f"{c.get('service', 0):.2f} / {c.get('rabbitmq', 0):.2f} / "
              f"{c.get('postgres', 0):.2f} / {c.get('bench', 0):.2f} |")
    print()
    print("Webhook fan-out (events published at a steady rate; latency from the publish to the receiver)")
    print("| database | subscribers | events @ rate | deliveries | end to end s | deliveries/s | while sending /s "
          "| best second | latency p50 / p99 / max ms | queued p50 / p99 ms | sender idle s | median gap ms "
          "| CPU service / receiver |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for res in all_results:
        base = None
        for r in res["webhooks"]:
            lat, q, c = r["latency_ms"], r["queued_ms"], r["cpu"]
            print(f"| {res['database']} | {r['subscribers']} | {r['events']} @ {r['rate']:g}/s | "
                  f"{r['received']:,}/{r['expected']:,} | {r['end_to_end_seconds']:.1f} | "
                  f"{r['deliveries_per_s']:.1f} | {r['sending_per_s']:.1f} | {r['best_second']} | "
                  f"{lat['p50']:.0f} / {lat['p99']:.0f} / {lat['max']:.0f} | {q['p50']:.0f} / {q['p99']:.0f} | "
                  f"{r['idle_seconds']:.1f} | {r['median_gap_ms']:.1f} | "
                  f"{c.get('service', 0):.2f} / {c.get('receiver', 0):.2f} |")
            base = base or r
        if base and len(res["webhooks"]) > 1:
            last = res["webhooks"][-1]
            print(f"|  | ratio {last['subscribers']}/{base['subscribers']} |  | "
                  f"{last['expected'] / base['expected']:.0f}x | "
                  f"{last['end_to_end_seconds'] / base['end_to_end_seconds']:.1f}x | "
                  f"{last['deliveries_per_s'] / base['deliveries_per_s']:.1f}x |  |  | "
                  f"{last['latency_ms']['p50'] / base['latency_ms']['p50']:.0f}x / "
                  f"{last['latency_ms']['p99'] / base['latency_ms']['p99']:.0f}x |  |  |  |  |")


def _exit_on_signal(signum, _frame):
    raise SystemExit(128 + signum)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "receiver":
        return receiver_main(sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--events", type=int, default=5000, help="events for the inbox phase")
    parser.add_argument("--staff", type=int, default=5, help="staff accounts per company (messages per event)")
    parser.add_argument("--residents", type=int, default=20000, help="resident memberships in the copy")
    parser.add_argument("--webhook-events", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20, help="events per second in the webhook rounds")
    parser.add_argument("--subscribers", default="1,100", help="subscriber counts, one round each, ascending")
    parser.add_argument("--send-batch", type=int, default=None, help="override notifications.send_batch")
    parser.add_argument("--slow-seconds", type=float, default=0,
                        help="the first subscriber answers after this many seconds (diagnostics)")
    parser.add_argument("--answer-ms", type=float, default=0,
                        help="every other subscriber answers after this many ms, as a remote one would (diagnostics)")
    parser.add_argument("--json", action="store_true", help="also print the figures as one JSON line")
    args = parser.parse_args()
    args.subscribers = sorted(int(s) for s in args.subscribers.split(","))
    logging.getLogger("amqp").setLevel(logging.ERROR)  # "Received method ... during closing channel" on RPC close
    # SIGTERM (and SIGINT, which background shells ignore) end the benchmark through the finally blocks.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    signal.signal(signal.SIGINT, _exit_on_signal)
    print(f"notifications benchmark: {args.events:,} events into inboxes ({args.staff} staff per company), then "
          f"{args.webhook_events} events at {args.rate:g}/s to {', '.join(map(str, args.subscribers))} webhook "
          f"subscriber(s); {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}", flush=True)
    all_results = [run(kind, args) for kind in args.databases.split(",")]
    print_tables(all_results)
    if args.json:
        print(json.dumps(all_results, default=str))


if __name__ == "__main__":
    main()
