"""Ticket submission through the gateway, and the delay from the HTTP 201 to the `ticket_submitted` event.

    python -m bench.tickets_submit [--clients 20] [--duration 10] [--warmup 2] [--sample 200]
                                   [--loadgen wrk|python]

Starts its own platform with organizations and tickets deployed (vhost `redprop-bench`, gateway on
127.0.0.1:18000, var dir /tmp/redprop-bench-var, demo county), waits until tickets has copied the registry, logs
in as `resident1` and POSTs `/api/v1/tickets` (repair.elevator, no photo).

1. Event delay at low load: one client submits `--sample` tickets one after the other.
2. Throughput: `--clients` closed-loop clients for `--duration` s after `--warmup` s (wrk with a Lua body, or the
   Python client below); req/s, p50, p99 and the CPU of each process.
3. Event delay under load: the Python client at `--clients` for `--duration` s, every 201 matched to its event.

The events are read from an exclusive queue bound to `tickets.ticket_submitted` on `redprop.events` (declared
before any load). Each 201 and each event is stamped with the wall clock on arrival (both in processes on this
machine); the delay is event arrival - 201 arrival, matched by ticket id (`id` in the 201, `data.ticket_id` in
the event); negative means the event was there first. Also shown: `occurred_at` (written in the service's
transaction, before its commit) to each arrival. Prints figures only; asserts nothing about timing.
"""
import argparse
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import requests

from bench.gateway_reads import _ms
from bench.loadgen import percentile
from bench.platform import (BASE_URL, ENV, MANAGEMENT, ROOT, VAR_DIR, VHOST, cpu_seconds, rabbit_pid, running_platform,
                            token)

PATH = "/api/v1/tickets"
BODY = {"category_code": "repair.elevator", "title": "电梯故障", "description": "基准测试"}
SERVICES = ("organizations", "tickets")


# ----- the client process (`python -m bench.tickets_submit client ...`) -----

def client_main(argv):
    """Closed-loop POST clients, one thread and one keep-alive session each; stops after `count` requests in all
    or after warmup+duration seconds. Prints one JSON line: {"samples": [[sent, answered, status, id], ...]} with
    wall-clock times (time.time())."""
    parser = argparse.ArgumentParser(prog="tickets_submit client")
    parser.add_argument("bearer")
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--seconds", type=float, default=0)
    args = parser.parse_args(argv)
    url = BASE_URL + PATH
    stop_at = time.monotonic() + (args.seconds or 3600)
    lock = threading.Lock()
    issued = [0]
    samples = [[] for _ in range(args.clients)]

    def client(i):
        session = requests.Session()
        session.headers.update({"Authorization": f"Bearer {args.bearer}"})
        while time.monotonic() < stop_at:
            with lock:
                if args.count and issued[0] >= args.count:
                    return
                issued[0] += 1
            sent = time.time()
            try:
                response = session.post(url, json=BODY, timeout=30)
                answered = time.time()
                ticket_id = response.json().get("id") if response.status_code == 201 else None
                samples[i].append([sent, answered, response.status_code, ticket_id])
            except (requests.RequestException, ValueError):
                samples[i].append([sent, time.time(), 0, None])

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({"samples": [s for per in samples for s in per]}))


def run_client(bearer, clients, count=0, seconds=0):
    command = [sys.executable, "-m", "bench.tickets_submit", "client", bearer, "--clients", str(clients),
               "--count", str(count), "--seconds", str(seconds)]
    out = subprocess.run(command, capture_output=True, text=True, check=True,
                         timeout=(seconds or 0) + 120 + count * 0.5, env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])["samples"]


# ----- the event listener (a thread of this process; the load runs in other processes) -----

class EventListener(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        self.arrivals = {}  # ticket id -> (arrival wall time, occurred_at as epoch seconds)
        self.ready = threading.Event()
        self._stop_flag = False

    def run(self):
        from kombu import Connection, Consumer, Exchange, Queue
        exchange = Exchange("redprop.events", type="topic", durable=True)
        queue = Queue(f"bench.tickets-submitted.{uuid.uuid4().hex[:8]}", exchange=exchange,
                      routing_key="tickets.ticket_submitted", exclusive=True, auto_delete=True)
        with Connection(ENV["REDPROP_AMQP_URI"]) as connection:
            def on_message(body, message):
                now = time.time()
                if isinstance(body, (bytes, str)):
                    body = json.loads(body)
                occurred = datetime.fromisoformat(body["occurred_at"].replace("Z", "+00:00")).timestamp()
                self.arrivals[body["data"]["ticket_id"]] = (now, occurred)

            with Consumer(connection, queues=[queue], callbacks=[on_message], no_ack=True, accept=["json"]):
                self.ready.set()
                while not self._stop_flag:
                    try:
                        connection.drain_events(timeout=0.2)
                    except socket.timeout:
                        pass

    def stop(self):
        self._stop_flag = True
        self.join(5)

    def wait_for(self, ids, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and any(i not in self.arrivals for i in ids):
            time.sleep(0.05)
        return sum(1 for i in ids if i in self.arrivals)


def event_delays(samples, listener):
    ok = [s for s in samples if s[2] == 201 and s[3] is not None]
    got = listener.wait_for([s[3] for s in ok])
    delays, after_occurred, reply_after_occurred = [], [], []
    for _sent, answered, _status, ticket_id in ok:
        if ticket_id in listener.arrivals:
            arrived, occurred = listener.arrivals[ticket_id]
            delays.append((arrived - answered) * 1000)
            after_occurred.append((arrived - occurred) * 1000)
            reply_after_occurred.append((answered - occurred) * 1000)
    stats = lambda values: {"p50": percentile(sorted(values), .5), "p99": percentile(sorted(values), .99),
                            "max": max(values) if values else float("nan")}
    return {"submitted": len(ok), "errors": len(samples) - len(ok), "events": got,
            "delay_ms": stats(delays), "event_after_occurred_ms": stats(after_occurred),
            "reply_after_occurred_ms": stats(reply_after_occurred),
            "event_first": sum(1 for d in delays if d < 0)}


def latency_stats(samples, seconds):
    ok = sorted((s[1] - s[0]) * 1000 for s in samples if s[2] == 201)
    return {"requests": len(samples), "errors": sum(1 for s in samples if s[2] != 201),
            "rps": len(ok) / seconds, "p50_ms": percentile(ok, .5), "p99_ms": percentile(ok, .99)}


# ----- wrk for the throughput figure -----

def wrk_post(bearer, clients, seconds, warmup):
    """wrk with a Lua script that makes every request the POST above; parsed like bench.gateway_reads."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False, encoding="utf-8") as script:
        script.write('wrk.method = "POST"\n')
        script.write(f"wrk.body = [[{json.dumps(BODY, ensure_ascii=False)}]]\n")
        script.write('wrk.headers["Content-Type"] = "application/json"\n')
        script.write(f'wrk.headers["Authorization"] = "Bearer {bearer}"\n')
    try:
        def once(secs, latency):
            command = ["wrk", f"-t{min(2, clients)}", f"-c{clients}", f"-d{secs}s", "--timeout", "30s",
                       "-s", script.name] + (["--latency"] if latency else []) + [BASE_URL + PATH]
            out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=secs + 60).stdout
            result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
                      "requests": int(re.search(r"(\d+) requests in", out).group(1))}
            bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
            sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
            result["errors"] = (int(bad.group(1)) if bad else 0) + (sum(map(int, sock.groups())) if sock else 0)
            if latency:
                for label, key in (("50%", "p50_ms"), ("99%", "p99_ms")):
                    result[key] = _ms(re.search(rf"^\s+{re.escape(label)}\s+(\S+)", out, re.M).group(1))
            return result
        if warmup:
            once(max(1, int(warmup)), False)
        return once(int(seconds), True)
    finally:
        os.unlink(script.name)


# ----- the platform -----

def _delete_bench_queues(prefix="redprop.tickets."):
    """Tickets' durable handler queues in the bench vhost: removed before and after, so the organizations-only
    benchmarks do not fill them and the next run starts without stale registry events."""
    auth = ("guest", "guest")
    try:
        queues = requests.get(f"{MANAGEMENT}/queues/{VHOST}", auth=auth, timeout=10).json()
        for q in queues:
            if q["name"].startswith(prefix):
                requests.delete(f"{MANAGEMENT}/queues/{VHOST}/{requests.utils.quote(q['name'], safe='')}",
                                auth=auth, timeout=10)
    except (requests.RequestException, ValueError):
        pass


def wait_for_registry_copy(timeout=90):
    """Until the tickets service has copied organizations' snapshot (its sync_state row)."""
    path = Path(VAR_DIR) / "tickets.db"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=2) as db:
                if db.execute("SELECT count(*) FROM sync_state").fetchone()[0]:
                    return time.monotonic()
        except sqlite3.Error:
            pass
        time.sleep(0.3)
    raise RuntimeError("tickets did not copy the registry in time")


def outbox_backlog():
    with sqlite3.connect(f"file:{Path(VAR_DIR) / 'tickets.db'}?mode=ro", uri=True, timeout=5) as db:
        return db.execute("SELECT count(*) FROM outbox WHERE published_at IS NULL").fetchone()[0]


def wait_outbox_drained(timeout=120):
    """(backlog when called, seconds until the tickets outbox had nothing left to publish)."""
    t0 = time.monotonic()
    backlog = outbox_backlog()
    while outbox_backlog() and time.monotonic() - t0 < timeout:
        time.sleep(0.05)
    return backlog, time.monotonic() - t0


def _cpu(pids):
    return {name: cpu_seconds(pid) for name, pid in pids.items() if pid}


def _fmt(d):
    return f"p50 {d['p50']:.1f} ms, p99 {d['p99']:.1f} ms, max {d['max']:.1f} ms"


def _print_delays(label, r):
    print(f"{label}: {r['submitted']} submitted (errors {r['errors']}), {r['events']} events received")
    print(f"  event after the 201:          {_fmt(r['delay_ms'])}  (event first in {r['event_first']})")
    print(f"  event after occurred_at:      {_fmt(r['event_after_occurred_ms'])}")
    print(f"  201 after occurred_at:        {_fmt(r['reply_after_occurred_ms'])}", flush=True)


def run(clients, duration, warmup, sample, loadgen):
    _delete_bench_queues()
    results = {}
    try:
        with running_platform(services=SERVICES) as procs:
            t0 = time.monotonic()
            wait_for_registry_copy()
            print(f"registry copied {time.monotonic() - t0:.1f} s after the gateway was ready", flush=True)
            bearer = token("resident1")
            for _ in range(50):  # the resident's compound may still be on its way
                check = requests.post(BASE_URL + PATH, json=BODY, headers={"Authorization": f"Bearer {bearer}"},
                                      timeout=30)
                if check.status_code == 201:
                    break
                time.sleep(0.3)
            check.raise_for_status()
            print(f"POST {PATH} as resident1 -> {check.status_code}, {len(check.content)} bytes; "
                  f"load generator: {loadgen}", flush=True)
            listener = EventListener()
            listener.start()
            listener.ready.wait(10)
            pids = {"gateway": procs["gateway"].pid, "organizations": procs["organizations"].pid,
                    "tickets": procs["tickets"].pid, "rabbitmq": rabbit_pid()}

            # 1. one client, one submission after the other
            t0 = time.monotonic()
            samples = run_client(bearer, 1, count=sample)
            results["sequential"] = event_delays(samples, listener)
            results["sequential"].update(latency_stats(samples, time.monotonic() - t0))
            _print_delays(f"1 client, {sample} sequential submissions", results["sequential"])
            print(f"  request p50 {results['sequential']['p50_ms']:.1f} ms, p99 {results['sequential']['p99_ms']:.1f} ms")

            # 2. throughput at `clients`
            before, t0 = _cpu(pids), time.monotonic()
            if loadgen == "wrk":
                tp = wrk_post(bearer, clients, duration, warmup)
            else:
                samples = run_client(bearer, clients, seconds=warmup + duration)
                cut = min(s[0] for s in samples) + warmup
                tp = latency_stats([s for s in samples if s[0] >= cut], duration)
            elapsed, after = time.monotonic() - t0, _cpu(pids)
            tp["cpu"] = {k: round((after[k] - before[k]) / elapsed, 2) for k in after}
            results["throughput"] = tp
            cpu = " ".join(f"{k}={v:.2f}" for k, v in tp["cpu"].items())
            print(f"{clients} clients ({loadgen}, {duration:.0f} s after {warmup:.0f} s warm-up): "
                  f"{tp['rps']:.1f} req/s, p50 {tp['p50_ms']:.1f} ms, p99 {tp['p99_ms']:.1f} ms, "
                  f"errors {tp['errors']}; cpu(cores) {cpu}", flush=True)
            backlog, drained = wait_outbox_drained()  # phase 3 must not queue behind this run's events
            tp.update(backlog_at_end=backlog, drain_s=drained)
            print(f"  outbox backlog when the load ended: {backlog} events, published {drained:.1f} s later "
                  f"(~{backlog / drained if drained else 0:.0f} events/s while catching up)", flush=True)

            # 3. the 201 -> event delay under the same load
            t0 = time.monotonic()
            samples = run_client(bearer, clients, seconds=duration)
            backlog, drained = wait_outbox_drained()
            results["loaded"] = event_delays(samples, listener)
            results["loaded"].update(backlog_at_end=backlog, drain_s=drained)
            results["loaded"].update(latency_stats(samples, time.monotonic() - t0))
            _print_delays(f"{clients} clients (python client, {duration:.0f} s)", results["loaded"])
            print(f"  outbox backlog when the load ended: {backlog} events, published {drained:.1f} s later")
            print(f"  python client: {results['loaded']['rps']:.1f} req/s, p50 {results['loaded']['p50_ms']:.1f} ms, "
                  f"p99 {results['loaded']['p99_ms']:.1f} ms")
            listener.stop()
    finally:
        _delete_bench_queues()
    return results


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "client":
        return client_main(sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--sample", type=int, default=200)
    parser.add_argument("--loadgen", choices=("wrk", "python"),
                        default="wrk" if __import__("shutil").which("wrk") else "python")
    parser.add_argument("--json", action="store_true", help="also print the figures as one JSON line")
    args = parser.parse_args()
    results = run(args.clients, args.duration, args.warmup, args.sample, args.loadgen)
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
