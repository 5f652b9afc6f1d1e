"""Statistics over a generated year of demo tickets, checked against counts made here from the raw records."""
import collections
import csv
import datetime as dt
import io

import pytest
from sqlalchemy.orm import Session

from kit.db import make_engine
from services.tickets import demo
from services.tickets.domain.calendar import load_default_calendar

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def demo_year(ticket_county):
    settings, client = ticket_county
    engine = make_engine(settings.db_url("tickets"))
    with Session(engine) as session:
        records = demo.generate_year(session, load_default_calendar(), dt.date(2025, 1, 1), 1500)
        session.commit()
    engine.dispose()
    return settings, client, records


def expected_by(records, key):
    rows = collections.defaultdict(collections.Counter)
    for r in records:
        row = rows[r[key]]
        row["received"] += 1
        row["claimed_on_time"] += r["claimed_at"] is not None and r["claimed_at"] <= r["claim_deadline"]
        row["resolved"] += r["resolved_at"] is not None
        row["resolved_on_time"] += r["resolved_at"] is not None and r["resolved_at"] <= r["resolve_deadline"]
        row["escalated"] += r["escalations"] > 0
        row["rated"] += r["satisfaction"] is not None
        row["content"] += r["satisfaction"] in ("satisfied", "basically_satisfied")
        if r["solved_level"]:
            row["solved_at_" + r["solved_level"]] += 1
    return rows


def year_stats(client, by, fmt="json"):
    return client.as_user("bureau").get(f"/api/v1/stats/tickets?by={by}&since=2025-01-01&until=2025-12-31"
                                        f"&format={fmt}")


@pytest.mark.parametrize("by, key", [("company", "company_id"), ("community", "community_id")])
def test_statistics_match_independent_counts(demo_year, by, key):
    _settings, client, records = demo_year
    answer = year_stats(client, by)
    assert answer.status_code == 200, answer.text
    rows = {row["key"]: row for row in answer.json()["rows"]}
    expected = expected_by(records, key)
    assert set(rows) == set(expected)
    for group, counts in expected.items():
        row = rows[group]
        assert row["received"] == counts["received"]
        assert row["claimed_on_time"] == counts["claimed_on_time"]
        assert row["resolved"] == counts["resolved"]
        assert row["resolved_on_time"] == counts["resolved_on_time"]
        assert row["escalated"] == counts["escalated"]
        assert row["rated"] == counts["rated"]
        assert row["satisfaction_rate"] == (round(counts["content"] / counts["rated"], 4) if counts["rated"] else 0.0)
        for level in ("compound", "community", "street", "bureau", "department"):
            assert row["solved_at"][level] == counts["solved_at_" + level]


def test_county_row_and_csv_export(demo_year):
    _settings, client, records = demo_year
    county = year_stats(client, "county").json()["rows"]
    assert len(county) == 1 and county[0]["received"] == len(records)
    assert 0 < county[0]["escalated"] < len(records)  # the year has late claims, and most are on time
    exported = year_stats(client, "company", "csv")
    assert exported.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in exported.headers["Content-Disposition"]
    table = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert sum(int(row["received"]) for row in table) == len(records)


def test_statistics_respect_jurisdiction(demo_year):
    _settings, client, records = demo_year
    community1 = client.as_user("community1")
    mine = community1.get("/api/v1/stats/tickets?by=community&since=2025-01-01&until=2025-12-31").json()["rows"]
    assert len(mine) == 1
    assert mine[0]["received"] == sum(1 for r in records if r["community_id"] == mine[0]["key"])
    assert client.as_user("resident1").get("/api/v1/stats/tickets").status_code == 403


@pytest.mark.parametrize("by", ["company", "street", "county"])
def test_database_sums_agree_with_facts_counted_in_python(demo_year, by):
    """The GROUP BY path (stats_query) and the reference path (domain.statistics over facts) give the same rows."""
    settings, client, _records = demo_year
    from sqlalchemy import select

    from services.tickets import models
    from services.tickets.desk import fact_of
    from services.tickets.domain import statistics
    engine = make_engine(settings.db_url("tickets"))
    with Session(engine) as session:
        facts = [fact_of(t) for t in session.scalars(
            select(models.Ticket).where(models.Ticket.created_at < dt.datetime(2026, 1, 1)))]
    engine.dispose()
    expected = json_roundtrip(statistics.group_statistics(facts, by))
    answered = year_stats(client, by).json()["rows"]
    assert [row["key"] for row in answered] == [row["key"] for row in expected]
    for got, want in zip(answered, expected):
        # the database adds floats in another order: the mean may differ in its last rounded digit
        assert got.pop("mean_handling_hours") == pytest.approx(want.pop("mean_handling_hours"), abs=0.011)
        assert got == want


def json_roundtrip(rows):
    import json
    return json.loads(json.dumps(rows, default=str))
