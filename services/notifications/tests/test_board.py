"""The board and the demo board against an in-memory database (no broker): the check reminds and reports each
lapse once, with the events it writes to the outbox; the public board and the rate agree with it."""
import datetime as dt

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from kit import auth, config
from kit.messaging import OutboxWriter
from services.notifications import models as m
from services.notifications.board import Board
from services.notifications.demo import generate_board
from services.notifications.domain import disclosure as rules

TODAY = dt.date(2026, 11, 22)
NOW = dt.datetime.combine(TODAY, dt.time(2, 0))
SETTINGS = config.load(environ={})
SYSTEM = auth.system_caller("test")
COMPANY7 = auth.Caller("9", "company7", (auth.Membership(role=auth.COMPANY, company_id=7),))
BUREAU = auth.Caller("2", "bureau", (auth.Membership(role=auth.BUREAU, region_id=1, region_path="/1/"),))


@pytest.fixture
def session():
    engine = create_engine("sqlite://")
    m.Base.metadata.create_all(engine)
    with Session(engine) as session:
        for region_id, level, parent, path in ((1, "county", None, "/1/"), (2, "street", 1, "/1/2/"),
                                               (3, "community", 2, "/1/2/3/"), (4, "community", 2, "/1/2/4/")):
            session.add(m.RegionCopy(id=region_id, code=str(region_id), name=level, level=level, parent_id=parent,
                                     path=path, source_time=NOW))
        # 10: company 7 and owners' organization 5; 11: company 8 only; 12: self-managed, no body
        for compound_id, community, company_id, owners in ((10, 3, 7, 5), (11, 4, 8, None), (12, 4, None, None)):
            session.add(m.CompoundCopy(id=compound_id, code=f"C{compound_id}", name=f"小区{compound_id}",
                                       community_id=community, region_path=f"/1/2/{community}/", households=100,
                                       company_id=company_id, owner_organization_id=owners,
                                       management_mode="professional", three_without=False, source_time=NOW))
        session.flush()
        yield session


def board(session, caller=SYSTEM, now=NOW):
    return Board(session, caller, OutboxWriter(m.OutboxEvent, "notifications", None), SETTINGS, now)


def events(session, event_type):
    return [row.envelope["data"] for row in session.scalars(
        select(m.OutboxEvent).where(m.OutboxEvent.event_type == event_type))]


def test_the_check_reminds_then_reports_a_lapse_once(session):
    published = board(session, COMPANY7, NOW - dt.timedelta(days=360)).publish({
        "compound_id": 10, "item_code": "fee_standards", "title": "收费标准", "content": "0.6 元/㎡·月"})
    assert published["publisher"] == "company"
    assert board(session).check() == {"compounds": 3, "due_soon": 1, "overdue": 0}
    assert events(session, "disclosure_due_soon")[0] | {"item_code": "fee_standards", "company_id": 7,
                                                        "due_on": str(TODAY + dt.timedelta(days=5))} == \
        events(session, "disclosure_due_soon")[0]
    assert board(session).check()["due_soon"] == 0  # the same due date: no second reminder

    later = NOW + dt.timedelta(days=5)
    assert board(session, now=later).check() == {"compounds": 3, "due_soon": 0, "overdue": 1}
    assert board(session, now=later + dt.timedelta(days=3)).check()["overdue"] == 0  # still the same lapse
    [lapse] = events(session, "disclosure_overdue")
    assert lapse["state"] == "stale" and lapse["owner_organization_id"] is None and lapse["region_path"] == "/1/2/3/"

    # a month on, the items never published are missing: the company's six and the owners' three, each once
    month = NOW + dt.timedelta(days=31)
    assert board(session, now=month).check()["overdue"] == 9 + 6 - 1
    owners = [e for e in events(session, "disclosure_overdue") if e["owner_organization_id"] == 5]
    assert {e["item_code"] for e in owners} == {"owners_rules", "owners_organization", "maintenance_fund"}
    assert all(e["company_id"] is None for e in owners)  # ratings deducts from companies for their own items only
    assert board(session, now=month).check()["overdue"] == 0


def test_the_public_board_and_the_rate_agree(session):
    board(session, COMPANY7, NOW - dt.timedelta(days=10)).publish({
        "compound_id": 10, "item_code": "complaint_channels", "title": "投诉渠道", "content": "0635-0000000"})
    public = board(session, auth.ANONYMOUS).public_board(10)
    states = {i["item_code"]: i["state"] for i in public["items"]}
    assert states["complaint_channels"] == rules.CURRENT and states["fee_standards"] == rules.PENDING
    assert len(states) == 9 and public["rate"] == round(1 / 9, 4)
    assert board(session, auth.ANONYMOUS).public_board(12)["items"] == []  # self-managed: nothing owed
    rate = board(session, BUREAU).rate({})
    assert (rate["owed_items"], rate["disclosed_items"], rate["compounds"]) == (15, 1, 3)
    assert [(c["region_id"], c["owed_items"]) for c in rate["children"]] == [(2, 15)]
    assert board(session, BUREAU).rate({"region_id": 4})["owed_items"] == 6
    from prometheus_client import REGISTRY  # the check reports the same figures to Prometheus
    board(session).check()
    assert REGISTRY.get_sample_value("redprop_disclosure_rate", {"county": "1"}) == rate["rate"]
    assert REGISTRY.get_sample_value("redprop_disclosure_items", {"state": "current"}) == 1


def test_a_county_sets_its_own_periods(session):
    board(session, BUREAU).set_policy({"region_id": 3, "items": [{"item_code": "public_income",
                                                                  "freshness_days": 30}]})
    assert board(session).periods(1)["public_income"] == 30 and board(session).periods(2)["public_income"] == 90
    with pytest.raises(Exception) as refused:
        board(session, COMPANY7).set_policy({"region_id": 1, "items": [{"item_code": "public_income",
                                                                          "freshness_days": 30}]})
    assert refused.value.status == 403


def test_the_demo_board_is_lived_in(session):
    made = generate_board(session, OutboxWriter(m.OutboxEvent, "notifications", None), SETTINGS, TODAY)
    assert made["disclosures"] > 0 and made["notices"] == 2
    counts = board(session).check()
    assert counts["overdue"] > 0
    rate = board(session, BUREAU).rate({})["rate"]
    assert 0.4 < rate < 1
    assert session.scalar(select(func.count()).select_from(m.Notice)) == 2
