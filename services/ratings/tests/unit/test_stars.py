"""Star ratings: ticket score, composite with renormalised weights, thresholds, veto cap, rectification."""
from dataclasses import replace

import pytest

from services.ratings.domain.rules import load_example
from services.ratings.domain.stars import (
    STAR_LABELS, Components, TicketTally, composite, needs_rectification, stars_for, ticket_score)

CHUXIONG = load_example("chuxiong")     # weights evaluation 0.4, credit 0.4, tickets 0.2; 5★ ≥ 90, 4★ ≥ 80 ...
JIANGXIAN = load_example("jiangxian")   # weights evaluation 0.5, credit 0.3, tickets 0.2; 5★ ≥ 92, 4★ ≥ 85 ...


def test_ticket_score():
    # on time 12/16 = 0.75, satisfied 9/10 = 0.9 → 100 × (0.75 + 0.9) / 2 = 82.5
    assert ticket_score(TicketTally(received=20, resolved=16, resolved_on_time=12, rated=10, satisfied=9)) == 82.5
    # nothing rated: on time 6/8 alone → 75
    assert ticket_score(TicketTally(received=10, resolved=8, resolved_on_time=6, rated=0, satisfied=0)) == 75.0
    # nothing resolved yet but rated (a ticket rated then reopened): 3/4 → 75
    assert ticket_score(TicketTally(received=5, resolved=0, resolved_on_time=0, rated=4, satisfied=3)) == 75.0
    # 100 × (2/3 + 1) / 2 = 83.333… → 83.33
    assert ticket_score(TicketTally(received=3, resolved=3, resolved_on_time=2, rated=3, satisfied=3)) == 83.33
    # received but neither resolved nor rated: nothing to judge
    assert ticket_score(TicketTally(received=3, resolved=0, resolved_on_time=0, rated=0, satisfied=0)) is None


def test_composite_chuxiong():
    # 0.4×88 + 0.4×93 + 0.2×82.5 = 35.2 + 37.2 + 16.5 = 88.9 → 4★
    full = Components(evaluation=88, credit=93, tickets=82.5, veto=False)
    assert composite(CHUXIONG, full) == 88.9
    assert stars_for(CHUXIONG, 88.9, veto=False) == 4
    # tickets not deployed: (35.2 + 37.2) / (0.4 + 0.4) = 72.4 / 0.8 = 90.5 → 5★
    no_tickets = Components(evaluation=88, credit=93, tickets=None, veto=False)
    assert composite(CHUXIONG, no_tickets) == 90.5
    assert stars_for(CHUXIONG, 90.5, veto=False) == 5


def test_composite_jiangxian():
    # 0.5×88 + 0.3×93 + 0.2×82.5 = 44 + 27.9 + 16.5 = 88.4 → 4★ (85 ≤ 88.4 < 92)
    assert composite(JIANGXIAN, Components(evaluation=88, credit=93, tickets=82.5, veto=False)) == 88.4
    # no tickets: (44 + 27.9) / 0.8 = 89.875 → 89.88
    assert composite(JIANGXIAN, Components(evaluation=88, credit=93, tickets=None, veto=False)) == 89.88
    # no evaluation: (27.9 + 16.5) / 0.5 = 88.8
    assert composite(JIANGXIAN, Components(evaluation=None, credit=93, tickets=82.5, veto=False)) == 88.8
    # credit alone: 93 → 5★
    assert composite(JIANGXIAN, Components(evaluation=None, credit=93, tickets=None, veto=False)) == 93.0
    assert stars_for(JIANGXIAN, 93.0, veto=False) == 5


def test_composite_without_anything_or_weight():
    assert composite(CHUXIONG, Components(evaluation=None, credit=None, tickets=None, veto=False)) is None
    no_ticket_weight = replace(CHUXIONG, star_weights={"evaluation": 0.5, "credit": 0.5, "tickets": 0.0})
    assert composite(no_ticket_weight, Components(evaluation=None, credit=None, tickets=70, veto=False)) is None
    assert composite(no_ticket_weight, Components(evaluation=80, credit=60, tickets=10, veto=False)) == 70.0


@pytest.mark.parametrize("table, value, veto, stars", [
    (CHUXIONG, 100, False, 5),
    (CHUXIONG, 90, False, 5),          # at the threshold
    (CHUXIONG, 89.99, False, 4),
    (CHUXIONG, 70, False, 3),
    (CHUXIONG, 60, False, 2),
    (CHUXIONG, 59.99, False, 1),
    (CHUXIONG, 0, False, 1),
    (CHUXIONG, 95, True, 2),           # veto caps at 2★
    (CHUXIONG, 45, True, 1),           # the cap never raises
    (JIANGXIAN, 92, False, 5),
    (JIANGXIAN, 91.99, False, 4),
    (JIANGXIAN, 75, False, 3),
    (JIANGXIAN, 74.99, False, 2),
    (JIANGXIAN, 95, True, 1),          # veto caps at 1★
    (JIANGXIAN, None, False, None),
    (JIANGXIAN, None, True, None),
])
def test_stars_for(table, value, veto, stars):
    assert stars_for(table, value, veto) == stars


def test_needs_rectification():
    assert [needs_rectification(CHUXIONG, s) for s in (1, 2, 3, 4, 5)] == [True, True, False, False, False]
    assert [needs_rectification(JIANGXIAN, s) for s in (1, 2, 3)] == [True, True, False]
    assert needs_rectification(JIANGXIAN, None) is False
    assert needs_rectification(replace(JIANGXIAN, rectify_at_or_below=0), 1) is False


def test_labels():
    assert sorted(STAR_LABELS) == [1, 2, 3, 4, 5]
    assert STAR_LABELS[5] == "五星 five stars"
