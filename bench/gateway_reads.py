"""Gateway → organizations reads against the bare gateway, measured in one run.

    python -m bench.gateway_reads [--clients 10,20,50] [--duration 10] [--warmup 2] [--path /api/v1/regions?page_size=20]
                                  [--loadgen wrk|python]

Starts its own platform (vhost `redprop-bench`, gateway on 127.0.0.1:18000, var dir /tmp/redprop-bench-var), then
for each client count loads `GET /health` (no RPC) and the RPC read, and prints requests/s, p50, p99 and the ratio
RPC/health, with the CPU time each process used. The load generator is a separate process (`wrk` when installed,
otherwise bench/loadgen.py). Prints figures only; it asserts nothing about timing.
"""
import argparse
import json
import re
import shutil
import subprocess
import sys
import time

import requests

from bench.platform import BASE_URL, cpu_seconds, rabbit_pid, running_platform, token

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text):
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * UNITS[unit]


def _wrk(url, clients, seconds, headers, latency=True):
    command = ["wrk", f"-t{min(2, clients)}", f"-c{clients}", f"-d{seconds}s", "--timeout", "30s"]
    if latency:
        command.append("--latency")
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run(command + [url], capture_output=True, text=True, check=True,
                         timeout=seconds + 60).stdout
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
              "requests": int(re.search(r"(\d+) requests in", out).group(1)),
              "errors": 0}
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    result["errors"] = (int(bad.group(1)) if bad else 0) + (sum(map(int, socket_errors.groups())) if socket_errors else 0)
    if latency:
        for label, key in (("50%", "p50_ms"), ("99%", "p99_ms")):
            result[key] = _ms(re.search(rf"^\s+{re.escape(label)}\s+(\S+)", out, re.M).group(1))
    return result


def measure(url, clients, duration, warmup, headers, loadgen):
    if loadgen == "wrk":
        if warmup:
            _wrk(url, clients, max(1, int(warmup)), headers, latency=False)
        return _wrk(url, clients, int(duration), headers)
    command = [sys.executable, "-m", "bench.loadgen", url, "--clients", str(clients), "--duration", str(duration),
               "--warmup", str(warmup)] + [arg for k, v in headers.items() for arg in ("--header", f"{k}: {v}")]
    out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=duration + warmup + 120)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _cpu(pids):
    return {name: cpu_seconds(pid) for name, pid in pids.items() if pid}


def run(levels, duration, warmup, path, loadgen):
    with running_platform() as procs:
        bearer = token()
        headers = {"Authorization": f"Bearer {bearer}"}
        check = requests.get(BASE_URL + path, headers=headers, timeout=30)
        check.raise_for_status()
        print(f"RPC read: GET {path} -> {check.status_code}, {len(check.content)} bytes; load generator: {loadgen}")
        pids = {"gateway": procs["gateway"].pid, "organizations": procs["organizations"].pid,
                "rabbitmq": rabbit_pid()}
        rows = []
        for clients in levels:
            row = {"clients": clients}
            for label, url, hdrs in (("health", BASE_URL + "/health", {}), ("rpc", BASE_URL + path, headers)):
                before, t0 = _cpu(pids), time.monotonic()
                row[label] = measure(url, clients, duration, warmup, hdrs, loadgen)
                elapsed, after = time.monotonic() - t0, _cpu(pids)
                row[label]["cpu"] = {k: round((after[k] - before[k]) / elapsed, 2) for k in after}
            row["ratio"] = row["rpc"]["rps"] / row["health"]["rps"] if row["health"]["rps"] else float("nan")
            rows.append(row)
            _print_row(row)
        return rows


def _print_row(row):
    for label in ("health", "rpc"):
        r = row[label]
        cpu = " ".join(f"{k}={v:.2f}" for k, v in r["cpu"].items())
        print(f"  {row['clients']:>3} clients  {label:<6} {r['rps']:>8.1f} req/s  p50 {r['p50_ms']:>7.1f} ms  "
              f"p99 {r['p99_ms']:>7.1f} ms  errors {r['errors']}  cpu(cores) {cpu}")
    print(f"  {row['clients']:>3} clients  ratio rpc/health = {row['ratio']:.0%}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", default="10,20,50")
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--path", default="/api/v1/regions?page_size=20")
    parser.add_argument("--loadgen", choices=("wrk", "python"), default="wrk" if shutil.which("wrk") else "python")
    parser.add_argument("--json", action="store_true", help="also print the figures as one JSON line")
    args = parser.parse_args()
    rows = run([int(c) for c in args.clients.split(",")], args.duration, args.warmup, args.path, args.loadgen)
    print()
    print("| clients | health req/s | health p50 / p99 ms | RPC req/s | RPC p50 / p99 ms | RPC/health |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        h, r = row["health"], row["rpc"]
        print(f"| {row['clients']} | {h['rps']:.0f} | {h['p50_ms']:.1f} / {h['p99_ms']:.1f} | {r['rps']:.0f} | "
              f"{r['p50_ms']:.1f} / {r['p99_ms']:.1f} | {row['ratio']:.0%} |")
    if args.json:
        print(json.dumps(rows))


if __name__ == "__main__":
    main()
