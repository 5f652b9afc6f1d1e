"""Import rate for a CSV of compounds, through the gateway and in-process.

    python -m bench.import_compounds [--rows 10000] [--skip-inprocess] [--skip-gateway]

Through the gateway: starts its own platform (vhost `redprop-bench`, port 18000, var dir /tmp/redprop-bench-var,
demo county), builds a CSV whose community codes come from `GET /api/v1/regions?level=community`, and POSTs it to
`/api/v1/imports/compounds` (multipart field `file`) as `bureau`, with the platform's default settings (uploads
wait up to `rpc.upload_timeout`, 300 s).
In-process: the same rows through `read_table` and `Importer.compounds` on a fresh SQLite file, no broker.
Prints rows/s and seconds; asserts nothing about timing.
"""
import argparse
import csv
import io
import os
import shutil
import subprocess
import sys
import time

import requests

from bench.platform import BASE_URL, ENV, ROOT, running_platform, token

INPROC_VAR_DIR = "/tmp/redprop-bench-inproc"
COLUMNS = ["code", "name", "community_code", "address", "longitude", "latitude", "year_built", "building_count",
           "households", "floor_area", "old_compound", "self_managed"]


def make_csv(community_codes, rows, prefix="BENCH"):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for i in range(rows):
        writer.writerow([f"{prefix}{i:06d}", f"Bench compound {i}", community_codes[i % len(community_codes)],
                         f"{i} Bench Road", f"{116.2 + (i % 100) / 1000:.5f}", f"{36.8 + (i % 97) / 1000:.5f}",
                         1980 + i % 40, 1 + i % 12, 50 + i % 400, 3000.0 + i % 5000,
                         "1" if i % 3 == 0 else "0", "1" if i % 7 == 0 else "0"])
    return out.getvalue().encode("utf-8")


def community_codes_via_api(headers):
    codes, page = [], 1
    while True:
        r = requests.get(f"{BASE_URL}/api/v1/regions", params={"level": "community", "page_size": 500, "page": page},
                         headers=headers, timeout=30)
        r.raise_for_status()
        body = r.json()
        codes += [item["code"] for item in body["items"]]
        if page * body["page_size"] >= body["total"]:
            return codes
        page += 1


def through_gateway(rows):
    with running_platform():
        headers = {"Authorization": f"Bearer {token()}"}
        codes = community_codes_via_api(headers)
        content = make_csv(codes, rows)
        print(f"gateway: {rows} rows over {len(codes)} communities, CSV {len(content) / 1e6:.2f} MB")
        t0 = time.perf_counter()
        response = requests.post(f"{BASE_URL}/api/v1/imports/compounds", headers=headers, timeout=600,
                                 files={"file": ("compounds.csv", content, "text/csv")})
        seconds = time.perf_counter() - t0
        print(f"  POST /api/v1/imports/compounds -> {response.status_code} {response.text[:200]}")
        print(f"  {seconds:.2f} s total, {rows / seconds:.0f} rows/s")
        check = requests.get(f"{BASE_URL}/api/v1/compounds", params={"page_size": 1}, headers=headers, timeout=30)
        print(f"  compounds visible to bureau afterwards: {check.json().get('total')}")
        return seconds


def in_process(rows):
    shutil.rmtree(INPROC_VAR_DIR, ignore_errors=True)
    env = {**os.environ, **ENV, "REDPROP_VAR_DIR": INPROC_VAR_DIR, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-m", "redprop.cli", "demo"], env=env, cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    os.environ.update({"REDPROP_VAR_DIR": INPROC_VAR_DIR})
    from sqlalchemy import select
    from sqlalchemy.orm import Session
    from kit import config
    from kit.auth import Caller, Membership
    from kit.db import make_engine
    from kit.messaging import OutboxWriter
    from services.organizations import models as m
    from services.organizations.domain.tabular import read_table
    from services.organizations.registry import Importer, Registry

    settings = config.load()
    engine = make_engine(settings.db_url("organizations"))
    with Session(engine) as session:
        identity = Registry(session, None).authenticate("bureau", settings["demo"]["password"])
        codes = list(session.scalars(select(m.Region.code).where(m.Region.level == "community")))
    caller = Caller(subject=str(identity["subject"]), username=identity["username"],
                    memberships=tuple(Membership(**ms) for ms in identity["memberships"]))
    content = make_csv(codes, rows)
    t0 = time.perf_counter()
    parsed = read_table("compounds.csv", content)
    t1 = time.perf_counter()
    with Session(engine) as session:
        registry = Registry(session, caller, OutboxWriter(m.OutboxEvent, "organizations", "bench-import"))
        result = Importer(registry).compounds(parsed)
        t2 = time.perf_counter()
        session.commit()
    t3 = time.perf_counter()
    engine.dispose()
    print(f"in-process: {result}")
    print(f"  parse {t1 - t0:.2f} s, validate+insert+outbox {t2 - t1:.2f} s, commit {t3 - t2:.2f} s; "
          f"{t3 - t0:.2f} s total, {rows / (t3 - t0):.0f} rows/s")
    return t3 - t0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--skip-gateway", action="store_true")
    parser.add_argument("--skip-inprocess", action="store_true")
    args = parser.parse_args()
    if not args.skip_gateway:
        through_gateway(args.rows)
    if not args.skip_inprocess:
        in_process(args.rows)


if __name__ == "__main__":
    main()
