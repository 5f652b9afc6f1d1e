"""Scoring and ranking a county's companies (issue 4): 5,000 companies, 200,000 credit records, 1,000,000 votes.

    python -m bench.ratings_scoring [--scale 0.1,1.0] [--database postgresql|sqlite] [--repeat 3] [--no-explain]
    BENCH_CODE_ROOT=/tmp/redprop-head python -m bench.ratings_scoring    # the same against another copy of the tree

For each scale (default 0.1 then 1.0, in one process, so the growth from a tenth is printed) a fresh ratings
database (a temporary PostgreSQL database through kit.testing.temporary_database, REDPROP_TEST_POSTGRES names the
server; or a SQLite file under /tmp/redprop-bench-ratings), migrated with kit.migrations.upgrade (which seeds the
default credit rule table, chuxiong), then synthetic data inserted with Core `insert()` executemany in batches
(on PostgreSQL with SQLAlchemy's insertmanyvalues enabled for this engine, so a batch goes as multi-row VALUES
instead of one pg8000 round trip a row), deterministic (random.Random(4)), at scale 1.0:

- registry copy: 1 county (id 1, "/1/"), 3 streets, 24 communities; 10,000 compounds (2 per company, 100–300
  households, company_id set); 5,000 companies;
- 200,000 credit records of the year (15 % from the year before, so validity matters): items drawn from the
  chuxiong table with its points and validity (valid_until = occurred_on + validity_days), ~1 in 2,000 a
  one-vote-veto `major_accident`, weaker companies getting more records; automatic items from the system, manual
  ones from a street or the bureau; 1 % revoked, 0.5 % objected; county 1, region_path the compound's (the
  county's for company-wide items), rule_table_id the seeded table;
- one campaign for the year over every compound, closed but not yet published, and 1,000,000 ballots (about
  100 a compound: 25–75 % participation against a 50 % threshold, so about half the compounds are valid), answers
  on the five chuxiong dimensions and the score from `domain.evaluation.ballot_score`;
- 100,000 ticket outcomes of the year (90 % resolved, 80 % of those on time, 70 % rated).

Then ANALYZE, and times, each in a fresh session (median of --repeat where it is cheap):

1. publish: `Campaigns._publish(campaign)` as the system caller with an outbox stub that only counts (the grouped
   ballot query, the 10,000 compound results, the company results), and the flush that writes them; rolled back
   and repeated. Once more with the real `OutboxWriter` (the event's contract validation and its outbox row), then
   published for good (with the stub) so the next steps see the results;
2. `star_ratings.compute_entries(session, table, 1, "/1/", year, as_of)`: every company's credit, evaluation and
   ticket components, composite and stars: what a draft, its verification and provisional rankings run;
3. `domain.ranking.rank(entries, "composite")`;
4. `inputs.credit_scores(...)` alone: the grouped credit-sums query and one `score_from_sums` per company.

Steps 1, 2 and 4 also show their SQL alone: the SELECTs they issued, replayed with the same parameters and every
row fetched (no ORM objects, no scoring in Python). It prints a table of seconds per step and scale with the ratio
between the largest and smallest scale, and at the largest scale the plan (EXPLAIN (ANALYZE, BUFFERS) / EXPLAIN
QUERY PLAN) of the credit-sums query, the ballot aggregation, the `companies_in` union and the ticket tallies.
Prints figures only; asserts nothing about timing.
"""
import argparse
import contextlib
import dataclasses
import datetime as dt
import os
import random
import resource
import shutil
import statistics as pystats
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

if os.environ.get("BENCH_CODE_ROOT"):  # measure another copy of the tree (e.g. HEAD before a change)
    sys.path.insert(0, os.environ["BENCH_CODE_ROOT"])

from sqlalchemy import event, insert  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from kit import auth, config  # noqa: E402
from kit.db import make_engine  # noqa: E402
from kit.messaging import OutboxWriter  # noqa: E402
from kit.migrations import upgrade  # noqa: E402
from services.ratings import inputs, models as m  # noqa: E402
from services.ratings.campaigns import Campaigns  # noqa: E402
from services.ratings.domain.evaluation import ballot_score  # noqa: E402
from services.ratings.domain.ranking import rank  # noqa: E402
from services.ratings.star_ratings import compute_entries  # noqa: E402

WORK_DIR = Path("/tmp/redprop-bench-ratings")
SYSTEM = auth.Caller(subject="system", username="bench", memberships=(auth.Membership(role=auth.SYSTEM),))
YEAR = 2026
SOURCE_TIME = dt.datetime(2026, 1, 1)
OPENED_AT = dt.datetime(2026, 11, 15, 9, 0)
CLOSES_AT = dt.datetime(2026, 12, 15, 18, 0)
PUBLISHED_AT = dt.datetime(2026, 12, 16, 9, 0)
AS_OF = dt.datetime(2027, 1, 5, 10, 0)          # the draft for 2026, made early in 2027: credit read on 31 December
COUNTY_ID, COUNTY_PATH = 1, "/1/"
STREETS, COMMUNITIES = 3, 24

FULL = {"companies": 5_000, "records": 200_000, "votes": 1_000_000, "tickets": 100_000}
COMPOUNDS_PER_COMPANY = 2
BATCH = 10_000

# how often each chuxiong item is recorded (relative); major_accident is the one-vote veto
ITEM_WEIGHTS = {"ticket_overdue": 30, "complaint_substantiated": 15, "supervision_overdue": 8,
                "disclosure_overdue": 6, "fee_violation": 3, "service_standard_breach": 6,
                "rectification_refused": 1, "major_accident": 0.05, "party_organization_set_up": 8,
                "demonstration_award": 2, "government_honour": 6, "old_compound_takeover": 8,
                "emergency_service": 7}
COMPANY_WIDE = {"party_organization_set_up", "government_honour"}   # recorded without a compound


class CountingOutbox:
    """Stands in for kit.messaging.OutboxWriter: counts the events instead of writing them."""

    def __init__(self):
        self.events = Counter()

    def add(self, session, event_type, data):
        self.events[event_type] += 1


class StatementLog:
    """The statements an engine executes while `recording` (so the benchmark can replay and EXPLAIN them)."""

    def __init__(self, engine):
        self.recording = False
        self.captured = []
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, _conn, _cursor, statement, parameters, _context, _many):
        if self.recording:
            self.captured.append((statement, parameters))

    @contextlib.contextmanager
    def recorded(self):
        self.captured, self.recording = [], True
        try:
            yield self
        finally:
            self.recording = False


def replay(engine, captured, repeat):
    """The SQL alone: each captured SELECT executed again with its parameters and all rows fetched (no ORM, no
    Python scoring); median over `repeat` of the sum."""
    selects = [(s, p) for s, p in captured if s.lstrip().upper().startswith("SELECT")]
    runs = []
    for _ in range(repeat):
        with engine.connect() as conn:
            t0 = time.perf_counter()
            for statement, parameters in selects:
                conn.exec_driver_sql(statement, parameters).fetchall()
            runs.append(time.perf_counter() - t0)
            conn.rollback()
    return pystats.median(runs)


# ----- database and data -----

@contextlib.contextmanager
def database(kind, name):
    """A fresh ratings database, migrated and seeded: yields an engine."""
    if kind == "sqlite":
        shutil.rmtree(WORK_DIR / name, ignore_errors=True)
        (WORK_DIR / name).mkdir(parents=True)
        holder = contextlib.nullcontext(f"sqlite:///{WORK_DIR / name / 'ratings.db'}")
    else:
        from kit.testing import temporary_database
        holder = temporary_database("postgresql", WORK_DIR, f"bench_{name}")
    with holder as url:
        upgrade("ratings", url)
        engine = make_engine(url)
        if engine.dialect.name == "postgresql":
            # Core executemany as multi-row INSERT ... VALUES pages (pg8000 would otherwise send one row a trip)
            engine.dialect.use_insertmanyvalues_wo_returning = True
        try:
            yield engine
        finally:
            engine.dispose()
    if kind == "sqlite":
        shutil.rmtree(WORK_DIR / name, ignore_errors=True)


def insert_batches(engine, table, rows):
    """Core insert() executemany, BATCH rows a statement, one transaction; returns the row count."""
    count = 0
    with engine.begin() as conn:
        batch = []
        for row in rows:
            batch.append(row)
            if len(batch) == BATCH:
                conn.execute(insert(table), batch)
                count += len(batch)
                batch = []
        if batch:
            conn.execute(insert(table), batch)
            count += len(batch)
    return count


def sizes(scale):
    return {key: max(1, round(value * scale)) for key, value in FULL.items()}


def spread_votes(rng, households, total):
    """Votes per compound: 25–75 % participation, then scaled so they add up to `total` (none above households)."""
    votes = [round(h * rng.uniform(0.25, 0.75)) for h in households]
    factor = total / sum(votes)
    votes = [min(h, round(v * factor)) for v, h in zip(votes, households)]
    i, diff = 0, total - sum(votes)
    while diff:
        step = 1 if diff > 0 else -1
        if 0 <= votes[i] + step <= households[i]:
            votes[i] += step
            diff -= step
        i = (i + 1) % len(votes)
    return votes


def build(engine, scale, table, table_id):
    """Insert the synthetic county; returns {what: (rows, seconds)}."""
    n = sizes(scale)
    rng = random.Random(4)
    companies = n["companies"]
    compounds = companies * COMPOUNDS_PER_COMPANY
    loaded = {}

    def timed(name, model, rows):
        t0 = time.perf_counter()
        count = insert_batches(engine, model.__table__, rows)
        loaded[name] = (count, time.perf_counter() - t0)
        print(f"    {name:<18} {count:>9,} rows in {loaded[name][1]:6.1f} s", flush=True)

    # registry copy
    regions = [{"id": COUNTY_ID, "code": "C1", "name": "County", "level": "county", "parent_id": None,
                "path": COUNTY_PATH}]
    for s in range(STREETS):
        regions.append({"id": 2 + s, "code": f"S{s}", "name": f"Street {s}", "level": "street",
                        "parent_id": COUNTY_ID, "path": f"/1/{2 + s}/"})
    for c in range(COMMUNITIES):
        street = 2 + c % STREETS
        regions.append({"id": 10 + c, "code": f"M{c}", "name": f"Community {c}", "level": "community",
                        "parent_id": street, "path": f"/1/{street}/{10 + c}/"})
    quality = [rng.uniform(2.6, 4.6) for _ in range(companies)]       # mean answer its owners give, 1–5
    households = [rng.randint(100, 300) for _ in range(compounds)]
    company_of = [1 + i % companies for i in range(compounds)]        # compound index → company id
    path_of = [regions[1 + STREETS + i % COMMUNITIES]["path"] for i in range(compounds)]
    timed("region_copies", m.RegionCopy, ({**r, "source_time": SOURCE_TIME} for r in regions))
    timed("company_copies", m.CompanyCopy, (
        {"id": 1 + c, "name": f"物业公司 {c}", "credit_code": f"91530000BENCH{c:05d}", "state_owned": c % 7 == 0,
         "party_organization_form": ("independent", "joint", "none")[c % 3], "source_time": SOURCE_TIME}
        for c in range(companies)))
    timed("compound_copies", m.CompoundCopy, (
        {"id": 1 + i, "code": f"X{i:05d}", "name": f"小区 {i}", "community_id": 10 + i % COMMUNITIES,
         "region_path": path_of[i], "households": households[i], "company_id": company_of[i], "contract_id": None,
         "owner_organization_id": None, "management_mode": "company", "three_without": False,
         "source_time": SOURCE_TIME} for i in range(compounds)))

    # credit records: weaker companies get more
    items = {item.code: item for item in table.items}
    codes = list(ITEM_WEIGHTS)
    item_cum = list(_cumulative(ITEM_WEIGHTS[c] for c in codes))
    company_cum = list(_cumulative(0.3 + (4.6 - q) for q in quality))
    year_start = dt.date(YEAR, 1, 1)

    def records():
        for r in range(n["records"]):
            item = items[rng.choices(codes, cum_weights=item_cum)[0]]
            company = 1 + rng.choices(range(companies), cum_weights=company_cum)[0]
            compound = company - 1 + companies * rng.randrange(COMPOUNDS_PER_COMPANY)  # index of one of its two
            wide = item.code in COMPANY_WIDE
            day = rng.randrange(365) if rng.random() < 0.85 else -rng.randrange(1, 366)   # 15 % the year before
            occurred = year_start + dt.timedelta(days=day)
            recorded = dt.datetime.combine(occurred, dt.time(10)) + dt.timedelta(days=rng.randrange(1, 4))
            recorded = min(recorded, AS_OF - dt.timedelta(days=1))
            revoked = rng.random() < 0.01
            objected = not revoked and rng.random() < 0.005
            yield {"company_id": company, "compound_id": None if wide else 1 + compound, "county_id": COUNTY_ID,
                   "region_path": COUNTY_PATH if wide else path_of[compound], "rule_table_id": table_id,
                   "item_code": item.code, "item_name": item.name, "kind": item.kind, "points": item.points,
                   "veto": item.veto, "occurred_on": occurred,
                   "valid_until": occurred + dt.timedelta(days=item.validity_days),
                   "source": "automatic" if item.automatic else "manual",
                   "authority": "system" if item.automatic else item.authorities[-1],
                   "evidence_kind": "ticket" if item.automatic else "document", "evidence_ref": f"E{r}",
                   "evidence_note": None, "source_event_id": f"bench-{r}" if item.automatic else None,
                   "status": "revoked" if revoked else "objected" if objected else "active",
                   "recorded_by": None if item.automatic else 100 + r % 50, "recorded_at": recorded,
                   "objection": "不属实" if objected else None, "objected_by": 7 if objected else None,
                   "objected_at": recorded + dt.timedelta(days=2) if objected else None,
                   "decision": "revoked" if revoked else None, "decision_note": None,
                   "decided_by": 9 if revoked else None,
                   "decided_at": recorded + dt.timedelta(days=9) if revoked else None,
                   "revoked_at": recorded + dt.timedelta(days=9) if revoked else None}
    timed("credit_records", m.CreditRecord, records())

    # the campaign (closed, not yet published) and its ballots
    dimensions = list(table.dimensions)
    with engine.begin() as conn:
        conn.execute(insert(m.Campaign.__table__), [{
            "id": 1, "title": f"{YEAR} 年度业主评议", "region_id": COUNTY_ID, "region_path": COUNTY_PATH, "year": YEAR,
            "dimensions": [dataclasses.asdict(d) for d in dimensions],
            "participation_threshold": table.participation_threshold, "status": "open", "closes_at": CLOSES_AT,
            "created_by": None, "created_at": OPENED_AT, "published_at": None}])
    timed("campaign_compounds", m.CampaignCompound, (
        {"campaign_id": 1, "compound_id": 1 + i, "company_id": company_of[i], "households": households[i]}
        for i in range(compounds)))
    votes = spread_votes(rng, households, n["votes"])
    window = int((CLOSES_AT - OPENED_AT).total_seconds())

    def ballots():
        account = 0
        for i in range(compounds):
            q = quality[company_of[i] - 1]
            for room in range(1, votes[i] + 1):
                answers = {d.code: min(5, max(1, round(rng.gauss(q, 0.9)))) for d in dimensions}
                account += 1
                yield {"campaign_id": 1, "compound_id": 1 + i, "company_id": company_of[i], "room": f"{room}",
                       "account_id": account, "answers": answers, "score": ballot_score(dimensions, answers),
                       "cast_at": OPENED_AT + dt.timedelta(seconds=rng.randrange(window))}
    timed("ballots", m.Ballot, ballots())

    def outcomes():
        for t in range(n["tickets"]):
            i = rng.randrange(compounds)
            submitted = dt.datetime(YEAR, 1, 1, 8) + dt.timedelta(minutes=rng.randrange(350 * 24 * 60))
            resolved = submitted + dt.timedelta(hours=rng.randrange(1, 120)) if rng.random() < 0.9 else None
            rated = resolved is not None and rng.random() < 0.7
            yield {"ticket_id": 1 + t, "company_id": company_of[i], "compound_id": 1 + i, "year": YEAR,
                   "submitted_at": submitted, "resolved_at": resolved,
                   "resolved_on_time": (rng.random() < 0.8) if resolved else None,
                   "rated_at": resolved + dt.timedelta(hours=6) if rated else None,
                   "satisfaction": rng.choices(("satisfied", "basically_satisfied", "dissatisfied"),
                                               (70, 20, 10))[0] if rated else None}
    timed("ticket_outcomes", m.TicketOutcome, outcomes())

    t0 = time.perf_counter()
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    loaded["analyze"] = (0, time.perf_counter() - t0)
    return loaded


def _cumulative(weights):
    total = 0.0
    for w in weights:
        total += w
        yield total


# ----- the steps -----

def timed_publish(engine, log, settings, outbox):
    """_publish + flush in a fresh session, rolled back: seconds of each and the statements _publish issued."""
    with Session(engine) as session:
        campaign = session.get(m.Campaign, 1)
        office = Campaigns(session, SYSTEM, outbox, settings, now=PUBLISHED_AT)
        with log.recorded():
            t0 = time.perf_counter()
            office._publish(campaign)
            t1 = time.perf_counter()
        session.flush()
        t2 = time.perf_counter()
        session.rollback()
    return {"publish": t1 - t0, "flush": t2 - t1, "total": t2 - t0, "captured": list(log.captured)}


def publish_for_good(engine, settings):
    with Session(engine) as session:
        Campaigns(session, SYSTEM, CountingOutbox(), settings, now=PUBLISHED_AT)._publish(session.get(m.Campaign, 1))
        session.commit()


def timed_in_session(engine, log, work):
    """work(session, table) in a fresh session: (seconds, result, statements issued)."""
    with Session(engine) as session:
        _row, table = inputs.rule_table(session, COUNTY_ID, inputs.year_end(YEAR, AS_OF))
        with log.recorded():
            t0 = time.perf_counter()
            result = work(session, table)
            seconds = time.perf_counter() - t0
        session.rollback()
    return seconds, result, list(log.captured)


def first(captured, needle):
    return next(((s, p) for s, p in captured if needle in s), None)


def measure(engine, repeat, settings):
    log = StatementLog(engine)
    out = {}
    # 1. publish
    runs = [timed_publish(engine, log, settings, CountingOutbox()) for _ in range(repeat)]
    for key in ("total", "publish", "flush"):
        out[f"publish_{key}"] = pystats.median(r[key] for r in runs)
    ballot_sql = first(runs[0]["captured"], "FROM ballots")
    out["publish_sql"] = replay(engine, [ballot_sql], repeat)
    out["publish_outbox"] = timed_publish(engine, log, settings, OutboxWriter(m.OutboxEvent, "ratings", None))["total"]
    publish_for_good(engine, settings)

    # 2. compute_entries
    def entries_of(session, table):
        return compute_entries(session, table, COUNTY_ID, COUNTY_PATH, YEAR, AS_OF)
    runs = [timed_in_session(engine, log, entries_of) for _ in range(repeat)]
    out["entries"] = pystats.median(r[0] for r in runs)
    out["entries_sql"] = replay(engine, runs[0][2], repeat)
    out["entries_statements"] = ["companies_in union" if "UNION" in s else s.split("FROM", 1)[-1].split()[0]
                                 for s, _ in runs[0][2]]
    entries = runs[0][1]
    union_sql = first(runs[0][2], "UNION")
    tickets_sql = first(runs[0][2], "FROM ticket_outcomes")

    # 3. rank
    times = []
    for _ in range(max(repeat, 5)):
        t0 = time.perf_counter()
        ranked = rank(entries, "composite")
        times.append(time.perf_counter() - t0)
    out["rank"] = pystats.median(times)

    # 4. credit_scores alone
    def scores_of(session, table):
        return inputs.credit_scores(session, table, inputs.year_end(YEAR, AS_OF), AS_OF,
                                    m.CreditRecord.county_id == COUNTY_ID)
    runs = [timed_in_session(engine, log, scores_of) for _ in range(repeat)]
    out["credit"] = pystats.median(r[0] for r in runs)
    credit_sql = first(runs[0][2], "FROM credit_records")
    out["credit_sql"] = replay(engine, [credit_sql], repeat)

    stars = Counter(e["computed_stars"] for e in entries)
    out["summary"] = {
        "entries": len(entries), "ranked": sum(1 for r in ranked if r["rank"] is not None),
        "with_evaluation": sum(1 for e in entries if e["evaluation_score"] is not None),
        "with_tickets": sum(1 for e in entries if e["ticket_score"] is not None),
        "veto": sum(1 for e in entries if e["veto"]), "credit_scored": len(runs[0][1]),
        "stars": dict(sorted(stars.items(), key=lambda kv: (kv[0] is None, -(kv[0] or 0)))),
        "grades": dict(sorted(Counter(e["credit_grade"] for e in entries).items())),
        "top": [(r["company_id"], r["composite"], r["computed_stars"]) for r in ranked[:3]]}
    out["plans"] = {"credit sums (inputs.credit_sums)": credit_sql, "ballot aggregation (Campaigns._publish)":
                    ballot_sql, "companies_in (union)": union_sql,
                    "ticket tallies (inputs.ticket_tallies)": tickets_sql}
    return out


def explain(engine, plans):
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            for setting in ("work_mem", "shared_buffers", "max_parallel_workers_per_gather"):
                print(f"    {setting} = {conn.exec_driver_sql(f'SHOW {setting}').scalar()}")
        for name, captured in plans.items():
            if captured is None:
                continue
            statement, parameters = captured
            print(f"  plan of the {name}:")
            for line in statement.strip().splitlines():
                print(f"      | {line}")
            if engine.dialect.name == "postgresql":
                rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).all()
                plan = [r[0] for r in rows]
            else:
                rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
                plan = [r[-1] for r in rows]
            for line in plan:
                print(f"      {line}")
        conn.rollback()


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


STEPS = (("load (insert, all tables, ANALYZE)", "load"), ("  of which ballots", "load_ballots"),
         ("1. publish: _publish + flush", "publish_total"),
         ("   _publish (load, grouped query, results)", "publish_publish"),
         ("   the grouped ballot query alone", "publish_sql"),
         ("   flush (compound result UPDATEs)", "publish_flush"),
         ("   same, with the real OutboxWriter (once)", "publish_outbox"),
         ("2. compute_entries", "entries"), ("   its SQL alone", "entries_sql"),
         ("3. rank (composite)", "rank"),
         ("4. credit_scores", "credit"), ("   the credit-sums query alone", "credit_sql"))


def code_state():
    root = os.environ.get("BENCH_CODE_ROOT") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        head = subprocess.run(["git", "-C", root, "log", "-1", "--format=%h", "--", "services/ratings"],
                              capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "--", "services/ratings"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        head, dirty = "?", ""
    return f"{root} (services/ratings last committed in {head or 'n/a'}{', modified' if dirty else ''})"


def run(kind, scales, repeat, show_plans):
    settings = config.load(environ={})
    print(f"code: {code_state()}")
    print(f"ratings scoring on {kind}, year {YEAR} as of {AS_OF:%Y-%m-%d %H:%M}; median of {repeat} "
          f"(rank: of {max(repeat, 5)}); the real-outbox publish once", flush=True)
    results = {}
    for scale in scales:
        n = sizes(scale)
        name = f"ratings_{str(scale).replace('.', '_')}"
        print(f"\nscale {scale:g}: {n['companies']:,} companies, {n['companies'] * COMPOUNDS_PER_COMPANY:,} "
              f"compounds, {n['records']:,} credit records, {n['votes']:,} votes, {n['tickets']:,} ticket outcomes",
              flush=True)
        with database(kind, name) as engine:
            with Session(engine) as session:
                row, table = inputs.rule_table(session, COUNTY_ID, inputs.year_end(YEAR, AS_OF))
                table_id = row.id
            t0 = time.perf_counter()
            loaded = build(engine, scale, table, table_id)
            load_s = time.perf_counter() - t0
            print(f"    loaded and analyzed in {load_s:.1f} s (ANALYZE {loaded['analyze'][1]:.1f} s)", flush=True)
            r = measure(engine, repeat, settings)
            r.update(load=load_s, load_ballots=loaded["ballots"][1], n=n)
            results[scale] = r
            s = r["summary"]
            print(f"    1. publish {r['publish_total']:.3f} s (_publish {r['publish_publish']:.3f} s, its ballot query "
                  f"alone {r['publish_sql']:.3f} s; flush {r['publish_flush']:.3f} s); with the real OutboxWriter "
                  f"{r['publish_outbox']:.3f} s", flush=True)
            print(f"    2. compute_entries {r['entries']:.3f} s (its {len(r['entries_statements'])} SELECTs alone "
                  f"{r['entries_sql']:.3f} s, on {', '.join(r['entries_statements'])}): "
                  f"{s['entries']:,} entries, {s['with_evaluation']:,} with a valid evaluation, "
                  f"{s['with_tickets']:,} with tickets, {s['veto']} vetoed; stars {s['stars']}; grades {s['grades']}",
                  flush=True)
            print(f"    3. rank {r['rank'] * 1000:.1f} ms ({s['ranked']:,} ranked; top {s['top']})", flush=True)
            print(f"    4. credit_scores {r['credit']:.3f} s (the query alone {r['credit_sql']:.3f} s) for "
                  f"{s['credit_scored']:,} companies; peak RSS {peak_rss_mb():.0f} MB", flush=True)
            if show_plans and scale == scales[-1]:
                explain(engine, r["plans"])
    report(scales, results)


def report(scales, results):
    first, last = scales[0], scales[-1]
    print("\n| step | " + " | ".join(f"scale {s:g}" for s in scales)
          + (f" | ratio {last:g}/{first:g} |" if len(scales) > 1 else " |"))
    print("| --- | " + " | ".join("---:" for _ in scales) + (" | ---: |" if len(scales) > 1 else " |"))
    for label, key in (("companies", "companies"), ("credit records", "records"), ("votes", "votes"),
                       ("ticket outcomes", "tickets")):
        cells = [f"{results[s]['n'][key]:,}" for s in scales]
        ratio = f" | {results[last]['n'][key] / results[first]['n'][key]:.1f}" if len(scales) > 1 else ""
        print(f"| {label} | " + " | ".join(cells) + ratio + " |")
    for label, key in STEPS:
        cells = [_seconds(results[s][key]) for s in scales]
        ratio = ""
        if len(scales) > 1:
            ratio = f" | {results[last][key] / results[first][key]:.1f}" if results[first][key] else " | –"
        print(f"| {label} | " + " | ".join(cells) + ratio + " |")


def _seconds(value):
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="0.1,1.0",
                        help="comma-separated scales; 1.0 = 5,000 companies, 200,000 records, 1,000,000 votes")
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-explain", action="store_true", help="do not print the plans at the largest scale")
    args = parser.parse_args()
    scales = sorted(float(s) for s in args.scale.split(","))
    run(args.database, scales, args.repeat, not args.no_explain)


if __name__ == "__main__":
    main()
