"""The disclosure board's rules, worked by hand: states, due dates, reminders, the rate and who owes what."""
import datetime as dt

import pytest

from services.notifications.domain import disclosure as d
from services.notifications.domain.routing import audience

DAY = dt.date(2026, 11, 22)


def days(n):
    return dt.timedelta(days=n)


@pytest.mark.parametrize("published_ago, state, due_in", [
    (0, d.CURRENT, 365),
    (350, d.CURRENT, 15),
    (351, d.DUE_SOON, 14),     # warn_days 14: the reminder window opens
    (364, d.DUE_SOON, 1),
    (365, d.STALE, 0),         # the due day itself is already late
    (900, d.STALE, -535),
])
def test_a_published_item_is_current_then_due_soon_then_stale(published_ago, state, due_in):
    assessment = d.assess(DAY - days(published_ago), DAY - days(1000), DAY, 365, 30, 14)
    assert assessment == d.Assessment(state, DAY + days(due_in))


def test_a_never_published_item_is_pending_for_the_grace_period_then_missing():
    assert d.assess(None, DAY - days(29), DAY, 365, 30, 14) == d.Assessment(d.PENDING, DAY + days(1))
    assert d.assess(None, DAY - days(30), DAY, 365, 30, 14) == d.Assessment(d.MISSING, DAY)


def test_alerts_remind_before_the_due_day_and_report_the_lapse():
    assert d.alert_kind(d.Assessment(d.CURRENT, DAY + days(20)), DAY, 14) is None
    assert d.alert_kind(d.Assessment(d.DUE_SOON, DAY + days(3)), DAY, 14) == d.REMINDER
    assert d.alert_kind(d.Assessment(d.PENDING, DAY + days(20)), DAY, 14) is None
    assert d.alert_kind(d.Assessment(d.PENDING, DAY + days(14)), DAY, 14) == d.REMINDER
    assert d.alert_kind(d.Assessment(d.STALE, DAY), DAY, 14) == d.OVERDUE
    assert d.alert_kind(d.Assessment(d.MISSING, DAY - days(3)), DAY, 14) == d.OVERDUE


def test_the_rate_counts_items_in_date():
    assert d.rate([]) is None
    assert d.rate([d.CURRENT, d.DUE_SOON, d.STALE, d.MISSING]) == 0.5
    assert d.rate([d.PENDING, d.CURRENT, d.CURRENT]) == 0.6667  # not yet published is not disclosed


def test_a_compound_owes_the_items_of_the_bodies_it_has():
    both = d.publishers(company_id=7, owner_organization_id=3)
    assert len(both) == len(d.ITEMS)
    assert {(i.code, kind, pid) for i, kind, pid in both if kind == d.OWNERS_ORG} == {
        ("owners_rules", d.OWNERS_ORG, 3), ("owners_organization", d.OWNERS_ORG, 3),
        ("maintenance_fund", d.OWNERS_ORG, 3)}
    assert {kind for _i, kind, _p in d.publishers(company_id=7, owner_organization_id=None)} == {d.COMPANY}
    assert d.publishers(company_id=None, owner_organization_id=None) == []  # self-managed without owners' body


def test_every_item_carries_chinese_and_a_sane_default_period():
    for item in d.ITEMS:
        assert any("\u4e00" <= ch <= "\u9fff" for ch in item.name) and 30 <= item.freshness_days <= 1095


def test_notices_reach_whole_compounds_or_named_buildings_and_withdrawals_the_signed_up():
    whole = audience("notifications", "notice_published", {"compound_ids": [4, 5], "buildings": []})
    assert whole.homes == ((4, None), (5, None))
    some = audience("notifications", "notice_published", {"compound_ids": [4], "buildings": ["3", "7"]})
    assert some.homes == ((4, "3"), (4, "7"))
    assert audience("notifications", "notice_withdrawn", {"notice_id": 9, "signup": True}).signups_of == 9
    assert audience("notifications", "notice_withdrawn", {"notice_id": 9, "signup": False}).signups_of is None
    lapse = audience("notifications", "disclosure_overdue", {"company_id": None, "owner_organization_id": 3})
    assert lapse.bodies == (("owners_org", "organization_id", 3),)
