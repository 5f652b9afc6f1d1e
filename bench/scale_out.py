"""Scale-out: tickets with one process, then with two on the same queues, handling the same kind of events.

    python -m bench.scale_out [--events 4000] [--database postgresql|sqlite]

One run, one broker vhost, one tickets database (a temporary PostgreSQL database by default: several processes of
a service are a production set-up, and SQLite's single writer would measure the file lock). The demo county is
loaded into organizations' database only; organizations does not run, so nothing but this benchmark publishes.
Its 238 `compound_registered` payloads are sent again as `organizations.compound_updated` events, each with a
fresh event id and a later time, so every event is a real upsert of tickets' registry copy plus its inbox row
(the work every registry change costs each copying service).

Round 1 starts one tickets process (`python -m kit.runner tickets`), publishes --events events as fast as the
broker confirms them, and times until tickets' inbox holds them all. Round 2 starts a second process on the same
queues (its own metrics port) and does the same with as many new events. Prints events/s per round, their ratio,
and the CPU each process used. Prints figures only; asserts nothing about timing.
"""
import argparse
import contextlib
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from bench.platform import EventPublisher, cpu_seconds
from kit.contracts import make_envelope
from kit.db import normalize_url
from kit.testing import (Process, build_settings, environment_for, free_port, load_demo, migrate, temporary_vhost,
                         wait_until)

HANDLER = "on_compound_updated"


def compound_states(settings):
    engine = create_engine(normalize_url(settings.db_url("organizations")))
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT envelope FROM outbox WHERE event_type = 'compound_registered' "
                                 "ORDER BY id")).scalars().all()
    engine.dispose()
    return [(json.loads(row) if isinstance(row, str) else row)["data"] for row in rows]


def handled(engine):
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM inbox WHERE handler = '{HANDLER}'")).scalar()


def one_round(publisher, engine, states, events, processes, start):
    before = {p.proc.pid: cpu_seconds(p.proc.pid) for p in processes}
    already = handled(engine)
    began = time.monotonic()
    for n in range(events):
        envelope = make_envelope("organizations", "compound_updated", states[n % len(states)])
        envelope["occurred_at"] = (start + dt.timedelta(microseconds=n)).isoformat() + "Z"  # later news wins
        publisher.publish(envelope)
    published = time.monotonic() - began
    wait_until(lambda: handled(engine) >= already + events, timeout=600, interval=0.05)
    seconds = time.monotonic() - began
    cpu = {p.proc.pid: cpu_seconds(p.proc.pid) - before[p.proc.pid] for p in processes}
    return {"processes": len(processes), "events": events, "seconds": seconds, "published_in": published,
            "per_second": events / seconds, "cpu": list(cpu.values())}


def run(args):
    with contextlib.ExitStack() as stack:
        directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="redprop-scale-")))
        uri = stack.enter_context(temporary_vhost())
        settings = build_settings(stack, uri, directory, args.database, deployed=("organizations", "tickets"),
                                  outbox={"relay": False})
        migrate(settings, ("organizations", "tickets"))
        load_demo(settings)
        states = compound_states(settings)
        env = environment_for(settings)
        engine = create_engine(normalize_url(settings.db_url("tickets")))
        stack.callback(engine.dispose)
        publisher = EventPublisher(settings)
        stack.callback(publisher.close)
        first = Process(env, "tickets").start()
        stack.callback(first.stop)
        wait_until(lambda: _consumers(settings) >= 1, timeout=60)
        start = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) + dt.timedelta(seconds=1)
        one_round(publisher, engine, states, min(500, args.events), [first], start)  # warm-up
        results = [one_round(publisher, engine, states, args.events, [first], start + dt.timedelta(seconds=1))]
        second = Process(env, "tickets", {"REDPROP__services__tickets__metrics_port": str(free_port())}).start()
        stack.callback(second.stop)
        wait_until(lambda: _consumers(settings) >= 2, timeout=60)
        results.append(one_round(publisher, engine, states, args.events, [first, second],
                                 start + dt.timedelta(seconds=2)))
    return results


def _consumers(settings):
    from kombu import Connection
    from kit.messaging import handler_queue_name
    with Connection(settings["amqp_uri"]) as connection:
        return connection.default_channel.queue_declare(handler_queue_name("tickets", HANDLER), passive=True)[2]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=4000)
    parser.add_argument("--database", default="postgresql", choices=["postgresql", "sqlite"])
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(f"scale-out: tickets handling {args.events:,} organizations.compound_updated events per round "
          f"({args.database}; {os.cpu_count()} CPUs, load average {load:.2f})", flush=True)
    results = run(args)
    print(f"{'processes':>9} {'events':>7} {'seconds':>8} {'events/s':>9}  cpu seconds per process")
    for r in results:
        print(f"{r['processes']:>9} {r['events']:>7,} {r['seconds']:>8.2f} {r['per_second']:>9.0f}  "
              + ", ".join(f"{c:.2f}" for c in r["cpu"]))
    print(f"two processes / one: {results[1]['per_second'] / results[0]['per_second']:.2f}x")


if __name__ == "__main__":
    sys.exit(main())
