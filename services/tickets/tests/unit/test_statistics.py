import csv
import io
from datetime import datetime, timedelta

import pytest

from kit.errors import ValidationFailed
from services.tickets.domain.statistics import (
    GROUPINGS, TicketFacts, group_statistics, p90, ratio, summarize, to_csv)

T0 = datetime(2024, 5, 1, 9, 0)


def h(hours):
    return T0 + timedelta(hours=hours)


def fact(ticket_id, **overrides):
    values = dict(ticket_id=ticket_id, compound_id=11, community_id=21, street_id=31, company_id=100, created_at=T0,
                  claimed_at=None, resolved_at=None, claim_deadline=None, resolve_deadline=None, status="open",
                  satisfaction=None, escalations=0, solved_level=None, handling_hours=None)
    values.update(overrides)
    return TicketFacts(**values)


# Five tickets whose expected numbers are worked out by hand below.
FACTS = [
    # on time both ways, satisfied, solved at compound, 4 h
    fact(1, claimed_at=h(1), claim_deadline=h(2), resolved_at=h(20), resolve_deadline=h(24), status="closed",
         satisfaction="satisfied", solved_level="compound", handling_hours=4.0),
    # late both ways, dissatisfied, escalated once, solved at community, 10 h
    fact(2, claimed_at=h(3), claim_deadline=h(2), resolved_at=h(30), resolve_deadline=h(24), status="closed",
         satisfaction="dissatisfied", escalations=1, solved_level="community", handling_hours=10.0),
    # no deadlines at all: counts as on time; basically satisfied; solved at compound, 2.5 h
    fact(3, compound_id=12, claimed_at=h(1), resolved_at=h(5), status="closed",
         satisfaction="basically_satisfied", solved_level="compound", handling_hours=2.5),
    # never claimed, escalated twice, another company, another community
    fact(4, compound_id=13, community_id=22, company_id=200, claim_deadline=h(2), resolve_deadline=h(24),
         escalations=2),
    # compound without a company, another community and street; exactly at both deadlines (still on time)
    fact(5, compound_id=14, community_id=23, street_id=32, company_id=None, claimed_at=h(2), claim_deadline=h(2),
         resolved_at=h(24), resolve_deadline=h(24), status="closed", satisfaction="satisfied", escalations=1,
         solved_level="street", handling_hours=7.1),
]

ZERO_LEVELS = {"compound": 0, "community": 0, "street": 0, "bureau": 0, "department": 0}
ZERO_SHARES = {"compound": 0.0, "community": 0.0, "street": 0.0, "bureau": 0.0, "department": 0.0}


def test_helpers():
    assert ratio(1, 3) == 0.3333
    assert ratio(2, 3) == 0.6667
    assert ratio(5, 0) == 0.0
    assert p90([]) is None
    assert p90([5]) == 5
    assert p90(range(1, 11)) == 9      # ceil(0.9 * 10) = 9th value
    assert p90(range(11, 0, -1)) == 10  # ceil(0.9 * 11) = 10th value, input order irrelevant


def test_summary_of_everything():
    s = summarize(FACTS)
    assert s == {
        "received": 5,
        "claimed": 4,                       # 1, 2, 3, 5
        "claimed_on_time": 3,               # 1, 3 (no deadline), 5 (exactly at it)
        "claimed_on_time_rate": 0.6,        # 3 / 5 received
        "resolved": 4,
        "resolved_on_time": 3,
        "resolved_on_time_rate": 0.6,
        "mean_handling_hours": 5.9,         # (4 + 10 + 2.5 + 7.1) / 4
        "p90_handling_hours": 10.0,         # ceil(3.6) = 4th of [2.5, 4, 7.1, 10]
        "rated": 4,
        "satisfied": 2,
        "basically_satisfied": 1,
        "dissatisfied": 1,
        "satisfaction_rate": 0.75,          # (2 + 1) / 4
        "escalated": 3,                     # 2, 4, 5
        "escalations": 4,                   # 1 + 2 + 1
        "solved_at": {**ZERO_LEVELS, "compound": 2, "community": 1, "street": 1},
        "solved_at_share": {**ZERO_SHARES, "compound": 0.5, "community": 0.25, "street": 0.25},
    }


def test_empty_summary_has_zero_rates_and_no_hours():
    s = summarize([])
    assert s["received"] == 0
    assert s["claimed_on_time_rate"] == s["resolved_on_time_rate"] == s["satisfaction_rate"] == 0.0
    assert s["mean_handling_hours"] is None and s["p90_handling_hours"] is None
    assert s["solved_at_share"] == ZERO_SHARES


def test_hours_are_rounded_to_two_decimals():
    facts = [fact(1, resolved_at=h(1), handling_hours=1.234), fact(2, resolved_at=h(1), handling_hours=1.0)]
    s = summarize(facts)
    assert s["mean_handling_hours"] == 1.12   # 2.234 / 2 = 1.117
    assert s["p90_handling_hours"] == 1.23    # ceil(1.8) = 2nd of [1.0, 1.234]


def test_unresolved_tickets_hours_are_ignored():
    s = summarize([fact(1, handling_hours=99.0), fact(2, resolved_at=h(3), handling_hours=3.0)])
    assert s["mean_handling_hours"] == 3.0


def test_by_company_with_company_less_row_last():
    rows = group_statistics(FACTS, "company")
    assert [r["key"] for r in rows] == [100, 200, None]
    c100, c200, none = rows

    # company 100: tickets 1, 2, 3
    assert (c100["received"], c100["claimed"], c100["claimed_on_time"], c100["claimed_on_time_rate"]) == (
        3, 3, 2, 0.6667)
    assert (c100["resolved"], c100["resolved_on_time"], c100["resolved_on_time_rate"]) == (3, 2, 0.6667)
    assert c100["mean_handling_hours"] == 5.5      # (4 + 10 + 2.5) / 3
    assert c100["p90_handling_hours"] == 10.0      # ceil(2.7) = 3rd
    assert (c100["rated"], c100["satisfaction_rate"]) == (3, 0.6667)
    assert (c100["escalated"], c100["escalations"]) == (1, 1)
    assert c100["solved_at"] == {**ZERO_LEVELS, "compound": 2, "community": 1}
    assert c100["solved_at_share"] == {**ZERO_SHARES, "compound": 0.6667, "community": 0.3333}

    # company 200: ticket 4, never claimed
    assert (c200["received"], c200["claimed"], c200["claimed_on_time_rate"], c200["resolved"]) == (1, 0, 0.0, 0)
    assert c200["mean_handling_hours"] is None and c200["p90_handling_hours"] is None
    assert (c200["rated"], c200["satisfaction_rate"]) == (0, 0.0)
    assert (c200["escalated"], c200["escalations"]) == (1, 2)
    assert c200["solved_at_share"] == ZERO_SHARES

    # no company: ticket 5
    assert (none["received"], none["claimed_on_time_rate"], none["resolved_on_time_rate"]) == (1, 1.0, 1.0)
    assert (none["mean_handling_hours"], none["p90_handling_hours"]) == (7.1, 7.1)
    assert none["solved_at_share"] == {**ZERO_SHARES, "street": 1.0}


def test_by_compound_community_street():
    by_compound = group_statistics(FACTS, "compound")
    assert [(r["key"], r["received"]) for r in by_compound] == [(11, 2), (12, 1), (13, 1), (14, 1)]
    assert by_compound[0]["claimed_on_time"] == 1 and by_compound[0]["escalations"] == 1

    by_community = group_statistics(FACTS, "community")
    assert [(r["key"], r["received"]) for r in by_community] == [(21, 3), (22, 1), (23, 1)]

    by_street = group_statistics(FACTS, "street")
    assert [(r["key"], r["received"], r["resolved"], r["escalations"]) for r in by_street] == [
        (31, 4, 3, 3), (32, 1, 1, 1)]


def test_county_is_one_row():
    rows = group_statistics(iter(FACTS), "county")
    assert len(rows) == 1
    assert rows[0]["key"] == "county"
    assert rows[0]["received"] == 5 and rows[0]["satisfaction_rate"] == 0.75


def test_every_grouping_is_accepted_and_others_rejected():
    for by in GROUPINGS:
        group_statistics([], by)
    with pytest.raises(ValidationFailed):
        group_statistics(FACTS, "province")


def test_facts_reject_unknown_values():
    with pytest.raises(ValidationFailed):
        fact(1, satisfaction="happy")
    with pytest.raises(ValidationFailed):
        fact(1, solved_level="mayor")
    with pytest.raises(ValidationFailed):
        fact(1, escalations=-1)


def test_csv_has_bom_crlf_and_flattened_header():
    rows = group_statistics(FACTS, "company")
    text = to_csv(rows)
    assert text.startswith("\ufeff")
    assert "\r\n" in text and text.endswith("\r\n")
    assert text.count("\r\n") == 4  # header + 3 rows

    parsed = list(csv.reader(io.StringIO(text[1:])))
    header = parsed[0]
    assert header[:4] == ["key", "received", "claimed", "claimed_on_time"]
    assert "solved_at" not in header
    assert "solved_at_compound" in header and "solved_at_share_department" in header
    assert header.index("solved_at_department") < header.index("solved_at_share_compound")

    company_100 = dict(zip(header, parsed[1]))
    assert company_100["key"] == "100"
    assert company_100["claimed_on_time_rate"] == "0.6667"
    assert company_100["solved_at_compound"] == "2"
    company_200 = dict(zip(header, parsed[2]))
    assert company_200["mean_handling_hours"] == ""   # None is an empty cell
    assert dict(zip(header, parsed[3]))["key"] == ""


def test_csv_keeps_chinese_and_defuses_formulas():
    rows = [{"key": "=HYPERLINK(\"x\")", "name": "幸福小区", **summarize([])}]
    parsed = list(csv.reader(io.StringIO(to_csv(rows)[1:])))
    row = dict(zip(parsed[0], parsed[1]))
    assert row["key"] == "'=HYPERLINK(\"x\")"
    assert row["name"] == "幸福小区"
    assert to_csv(rows).encode("utf-8").startswith(b"\xef\xbb\xbf")


def test_csv_without_rows_is_header_only():
    text = to_csv([])
    assert text.startswith("\ufeffkey,received,")
    assert text.count("\r\n") == 1
