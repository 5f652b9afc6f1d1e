"""A small closed-loop HTTP load generator (fallback when `wrk` is not installed), run as its own process:

    python -m bench.loadgen URL --clients 10 --duration 10 --warmup 2 [--header "Authorization: Bearer ..."]

Prints one JSON line: {"requests", "errors", "rps", "p50_ms", "p99_ms"}. One thread and one keep-alive
requests.Session per client.
"""
import argparse
import json
import threading
import time

import requests


def percentile(sorted_values, fraction):
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values) + 0.5) - 1))
    return sorted_values[index]


def run(url, clients, duration, warmup, headers):
    start = time.monotonic()
    measure_from = start + warmup
    stop_at = measure_from + duration
    latencies = [[] for _ in range(clients)]
    errors = [0] * clients

    def client(i):
        session = requests.Session()
        session.headers.update(headers)
        while True:
            t0 = time.monotonic()
            if t0 >= stop_at:
                break
            try:
                ok = session.get(url, timeout=30).status_code < 400
            except requests.RequestException:
                ok = False
            t1 = time.monotonic()
            if t0 >= measure_from:
                latencies[i].append(t1 - t0)
                if not ok:
                    errors[i] += 1

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(duration + warmup + 60)
    values = sorted(v for per in latencies for v in per)
    return {"requests": len(values), "errors": sum(errors), "rps": len(values) / duration,
            "p50_ms": percentile(values, 0.50) * 1000, "p99_ms": percentile(values, 0.99) * 1000}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--header", action="append", default=[])
    args = parser.parse_args()
    if not args.url.startswith("http://127.0.0.1:"):
        parser.error("only http://127.0.0.1 targets")
    headers = dict(h.split(": ", 1) for h in args.header)
    print(json.dumps(run(args.url, args.clients, args.duration, args.warmup, headers)))


if __name__ == "__main__":
    main()
