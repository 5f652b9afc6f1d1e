"""The deadline sweep (`Desk.sweep`) over many open tickets, on SQLite and PostgreSQL, without a broker.

    python -m bench.tickets_sweep [--sizes 10000,100000] [--due 100] [--warn 100] [--repeat 5]
                                  [--databases sqlite,postgresql] [--no-index-check]

For each database: a fresh tickets database (SQLite file under /tmp/redprop-bench-sweep, or a temporary
PostgreSQL database through kit.testing.temporary_database), migrated with Alembic (which seeds the categories),
a registry copy of 1 county, 3 streets, 24 communities, 238 compounds and 30 companies, then open tickets
(repair.elevator, handled by the company or, for self-managed compounds, the community) with `due_at` spread over
the next year. The same `--due` tickets are overdue and `--warn` more have passed their warning time whatever the
size, so a sweep that walks the indexes on `due_at` and `warn_at` costs the same at every size.

For each size it times `Desk.sweep()` as the system caller, with the real working calendar and an outbox writer:
the sweep itself (queries, escalations, timeline rows, outbox envelopes) and the flush that writes them, then rolls
back and repeats (`--repeat`, median shown); and a sweep when nothing is due (the every-30-s case). It prints the
plan (`EXPLAIN QUERY PLAN` / `EXPLAIN ANALYZE`) of every SELECT the sweep issued. At the largest size it then drops
the two indexes and times the same sweep again, to show what a scan would cost. Prints figures only.
"""
import argparse
import contextlib
import datetime as dt
import json
import os
import shutil
import statistics as pystats
import sys
import time
from pathlib import Path

if os.environ.get("BENCH_CODE_ROOT"):  # measure another copy of the tree (e.g. HEAD before a change)
    sys.path.insert(0, os.environ["BENCH_CODE_ROOT"])

from sqlalchemy import event, insert, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench.platform import synthetic_county  # noqa: E402
from kit import auth, config  # noqa: E402
from kit.db import make_engine  # noqa: E402
from kit.messaging import OutboxWriter  # noqa: E402
from kit.migrations import upgrade  # noqa: E402
from services.tickets import models as m  # noqa: E402
from services.tickets.desk import Desk  # noqa: E402
from services.tickets.domain.calendar import load_default_calendar  # noqa: E402

WORK_DIR = Path("/tmp/redprop-bench-sweep")
SYSTEM = auth.Caller(subject="system", username="bench", memberships=(auth.Membership(role=auth.SYSTEM),))
NOW = dt.datetime(2026, 11, 18, 10, 0)  # a Wednesday, working hours
SOURCE_TIME = dt.datetime(2026, 1, 1)


# ----- databases and the registry copy (also used by bench.tickets_stats) -----

@contextlib.contextmanager
def database(kind, name):
    """A fresh, migrated tickets database: yields (url, engine)."""
    if kind == "sqlite":
        shutil.rmtree(WORK_DIR / name, ignore_errors=True)
        (WORK_DIR / name).mkdir(parents=True)
        url = f"sqlite:///{WORK_DIR / name / 'tickets.db'}"
        holder = contextlib.nullcontext(url)
    else:
        from kit.testing import temporary_database
        holder = temporary_database("postgresql", WORK_DIR, f"bench_{name}")
    with holder as url:
        upgrade("tickets", url)
        engine = make_engine(url)
        try:
            yield url, engine
        finally:
            engine.dispose()
    if kind == "sqlite":
        shutil.rmtree(WORK_DIR / name, ignore_errors=True)


def registry(engine):
    """Regions, compounds (238 over 24 communities in 3 streets, 30 companies, every 9th self-managed) in the
    registry copy; returns the compound dicts."""
    regions, compounds = synthetic_county()
    compounds = [{**c, "owner_organization_id": None} for c in compounds]
    with engine.begin() as conn:
        conn.execute(insert(m.RegionCopy.__table__), [{**r, "source_time": SOURCE_TIME} for r in regions])
        conn.execute(insert(m.CompoundCopy.__table__), [{**c, "source_time": SOURCE_TIME} for c in compounds])
        conn.execute(insert(m.SyncState.__table__), [{"name": "registry", "synced_at": SOURCE_TIME}])
    return compounds


def category(engine, code="repair.elevator"):
    with Session(engine) as session:
        found = session.scalar(select(m.Category).where(m.Category.code == code))
        return found.id, found.claim_hours, found.resolve_hours


def bulk_insert(engine, table, rows, chunk=5000):
    """executemany on SQLite; on PostgreSQL one `INSERT ... SELECT FROM json_populate_recordset` per chunk (pg8000's
    executemany is a round trip a row, and a compiled multi-row VALUES is slow to build)."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(insert(table), rows)
            return
        columns = ", ".join(rows[0])
        sql = text(f"INSERT INTO {table.name} ({columns}) SELECT {columns} "
                   f"FROM json_populate_recordset(NULL::{table.name}, CAST(:rows AS json))")
        for i in range(0, len(rows), chunk):
            conn.execute(sql, {"rows": json.dumps(rows[i:i + chunk], default=str)})


def _open_ticket(n, compound, category_id, due_at, warn_at, created_at):
    company = compound["company_id"]
    kind, handler = ("company", company) if company else ("community", compound["community_id"])
    street = int(compound["region_path"].strip("/").split("/")[1])
    return {"code": f"B{n:08d}", "compound_id": compound["id"], "community_id": compound["community_id"],
            "street_id": street, "region_path": compound["region_path"], "company_id": company,
            "category_id": category_id, "title": "电梯故障", "description": "基准测试", "channel": "online",
            "reporter_account_id": 1000 + n % 500, "private": False, "priority": "high", "status": "submitted",
            "level": "compound" if company else "community", "handler_kind": kind, "handler_id": handler,
            "claim_deadline": due_at, "resolve_deadline": due_at + dt.timedelta(days=3), "due_at": due_at,
            "warn_at": warn_at, "escalations": 0, "urges": 0, "reopen_count": 0, "created_at": created_at,
            "updated_at": created_at}


def open_tickets(start, count, compounds, category_id, due, warn):
    """Tickets numbered start.. : the first `due` overdue, the next `warn` past their warning time, the rest due
    over the next year (warning 30 min before), spread deterministically."""
    rows = []
    for n in range(start, start + count):
        compound = compounds[(n * 7919) % len(compounds)]
        if n < due:
            due_at, warn_at = NOW - dt.timedelta(minutes=5 + n), None
        elif n < due + warn:
            due_at, warn_at = NOW + dt.timedelta(hours=2 + n % 5), NOW - dt.timedelta(minutes=1 + n % 50)
        else:
            due_at = NOW + dt.timedelta(hours=1, seconds=(n * 104729) % (365 * 86400))
            warn_at = due_at - dt.timedelta(minutes=30)
        rows.append(_open_ticket(n, compound, category_id, due_at, warn_at, NOW - dt.timedelta(hours=1)))
    return rows


# ----- the sweep -----

class StatementLog:
    def __init__(self, engine):
        self.engine = engine
        self.statements = []
        self.recording = False
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, _conn, _cursor, statement, parameters, _context, _executemany):
        if self.recording and statement.lstrip().upper().startswith("SELECT"):
            self.statements.append((statement, parameters))


def timed_sweep(engine, calendar, settings, now):
    """One sweep in its own session, rolled back: (sweep seconds, flush seconds, counts)."""
    with Session(engine) as session:
        desk = Desk(session, SYSTEM, OutboxWriter(m.OutboxEvent, "tickets", None), calendar, settings, now=now)
        t0 = time.perf_counter()
        counts = desk.sweep()
        t1 = time.perf_counter()
        session.flush()
        t2 = time.perf_counter()
        session.rollback()
    return t1 - t0, t2 - t1, counts


def measure(engine, calendar, settings, repeat):
    runs = [timed_sweep(engine, calendar, settings, NOW) for _ in range(repeat)]
    idle = [timed_sweep(engine, calendar, settings, NOW - dt.timedelta(days=2)) for _ in range(repeat)]
    med = lambda values: pystats.median(values) * 1000
    return {"sweep_ms": med([r[0] for r in runs]), "flush_ms": med([r[1] for r in runs]), "counts": runs[0][2],
            "idle_ms": med([r[0] for r in idle]), "idle_counts": idle[0][2]}


def explain(engine, calendar, settings):
    log = StatementLog(engine)
    log.recording = True
    timed_sweep(engine, calendar, settings, NOW)
    log.recording = False
    plans = []
    with engine.connect() as conn:
        for statement, parameters in log.statements:
            if "FROM tickets" not in statement and "FROM supervisions" not in statement:
                continue
            prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN ANALYZE "
            rows = conn.exec_driver_sql(prefix + statement, parameters).all()
            plan = [r[-1] for r in rows] if engine.dialect.name == "sqlite" else [r[0] for r in rows]
            where = statement[statement.find("WHERE"):].split("\n")[0][:100]
            plans.append((where, plan))
        conn.rollback()
    return plans


def run(kind, sizes, due, warn, repeat, index_check):
    settings = config.load(environ={})
    calendar = load_default_calendar()
    results = []
    with database(kind, "sweep") as (_url, engine):
        compounds = registry(engine)
        category_id, _claim, _resolve = category(engine)
        inserted = 0
        for size in sizes:
            t0 = time.perf_counter()
            bulk_insert(engine, m.Ticket.__table__, open_tickets(inserted, size - inserted, compounds, category_id,
                                                                  due, warn))
            inserted = size
            if kind == "postgresql":
                with engine.begin() as conn:
                    conn.exec_driver_sql("ANALYZE tickets")
            load_s = time.perf_counter() - t0
            r = measure(engine, calendar, settings, repeat)
            r.update(size=size, load_s=load_s)
            results.append(r)
            print(f"  {kind:<10} {size:>7} open tickets (loaded in {load_s:.1f} s): sweep {r['sweep_ms']:.1f} ms + "
                  f"final flush {r['flush_ms']:.1f} ms for {r['counts']}; nothing due: {r['idle_ms']:.2f} ms", flush=True)
        for where, plan in explain(engine, calendar, settings):
            print(f"    plan of {where}")
            for line in plan:
                print(f"      {line}")
        if index_check:
            with engine.begin() as conn:
                conn.exec_driver_sql("DROP INDEX ix_tickets_due_at")
                conn.exec_driver_sql("DROP INDEX ix_tickets_warn_at")
                if kind == "postgresql":
                    conn.exec_driver_sql("ANALYZE tickets")
            engine.dispose()  # no pooled connection keeps a statement prepared against the old schema
            r = measure(engine, calendar, settings, repeat)
            r.update(size=inserted, load_s=0, without_index=True)
            results.append(r)
            print(f"  {kind:<10} {inserted:>7} WITHOUT ix_tickets_due_at/warn_at: sweep {r['sweep_ms']:.1f} ms + "
                  f"flush {r['flush_ms']:.1f} ms; nothing due: {r['idle_ms']:.2f} ms", flush=True)
            for where, plan in explain(engine, calendar, settings)[:2]:
                print(f"    plan of {where}")
                for line in plan:
                    print(f"      {line}")
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--due", type=int, default=100)
    parser.add_argument("--warn", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--no-index-check", action="store_true")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    print(f"sweep as of {NOW:%Y-%m-%d %H:%M}: {args.due} overdue and {args.warn} to warn at every size; "
          f"median of {args.repeat}")
    for kind in args.databases.split(","):
        run(kind, sizes, args.due, args.warn, args.repeat, not args.no_index_check)


if __name__ == "__main__":
    main()
