"""The ratings use cases against an in-memory database (no broker): a year's stars from records, votes and ticket
outcomes, computed by hand; recomputation as of the draft; a county's own rule table taking effect on its date."""
import datetime as dt
import uuid

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from kit import auth, config
from kit.messaging import OutboxWriter
from services.ratings import models as m
from services.ratings.auto_items import AutoItems
from services.ratings.campaigns import Campaigns
from services.ratings.domain.rules import load_example
from services.ratings.ledger import Ledger
from services.ratings.seed import seed
from services.ratings.star_ratings import StarRatings

NOW = dt.datetime(2026, 6, 1, 2, 0)
SETTINGS = config.load(environ={})
STREET = auth.Caller("3", "street1", (auth.Membership(role=auth.STREET, region_id=2, region_path="/1/2/"),))
BUREAU = auth.Caller("2", "bureau", (auth.Membership(role=auth.BUREAU, region_id=1, region_path="/1/"),))
COMPANY7 = auth.Caller("9", "company7", (auth.Membership(role=auth.COMPANY, company_id=7),))
SYSTEM = auth.Caller("system", "system", (auth.Membership(role=auth.SYSTEM),))


def resident(account, room):
    return auth.Caller(str(account), f"r{account}", (auth.Membership(role=auth.RESIDENT, compound_id=10, room=room,
                                                                     region_path="/1/2/3/"),))


@pytest.fixture
def session():
    engine = create_engine("sqlite://")
    m.Base.metadata.create_all(engine)
    with Session(engine) as session:
        seed(session, SETTINGS)  # chuxiong, the default
        for region_id, level, path in ((1, "county", "/1/"), (2, "street", "/1/2/"), (3, "community", "/1/2/3/")):
            session.add(m.RegionCopy(id=region_id, code=str(region_id), name=level, level=level, path=path,
                                     source_time=NOW))
        for compound_id, company_id, households in ((10, 7, 100), (11, 8, 50)):
            session.add(m.CompoundCopy(id=compound_id, code=f"C{compound_id}", name=f"小区{compound_id}",
                                       community_id=3, region_path="/1/2/3/", households=households,
                                       company_id=company_id, management_mode="professional", three_without=False,
                                       source_time=NOW))
            session.add(m.CompanyCopy(id=company_id, name=f"物业{company_id}", credit_code="x" * 18,
                                      state_owned=False, party_organization_form="joint", source_time=NOW))
        session.flush()
        yield session


def use(cls, session, caller, now=NOW):
    return cls(session, caller, OutboxWriter(m.OutboxEvent, "ratings", None), SETTINGS, now=now)


def event(at, **data):
    return {"event_id": str(uuid.uuid4()), "occurred_at": at.isoformat() + "Z", "data": data}


def record(session, caller, item_code, now=NOW, **extra):
    return use(Ledger, session, caller, now).record({"company_id": 7, "compound_id": 10, "item_code": item_code,
                                                     "evidence_note": "检查记录", **extra})


def build_year(session):
    """Company 7 at compound 10: credit records, a valid evaluation and four tickets."""
    record(session, STREET, "service_standard_breach")      # −3
    record(session, STREET, "emergency_service")            # +2
    auto = use(AutoItems, session, SYSTEM)
    for n in range(12):                                     # 12 × −1, capped at 10
        auto.ticket_overdue(event(NOW, overdue_handler_kind="company", overdue_handler_id=7, compound_id=10,
                                  code=f"T{n}", missed="claim"))
    auto.ticket_overdue(event(NOW, overdue_handler_kind="owners_org", overdue_handler_id=3, compound_id=10,
                              code="T99", missed="claim"))  # not the company's: no record
    campaigns = use(Campaigns, session, STREET)
    campaign = campaigns.open({"title": "评议", "region_id": 2, "closes_at": NOW + dt.timedelta(days=7),
                               "participation_threshold": 0.02})
    codes = [d["code"] for d in campaign["dimensions"]]
    use(Campaigns, session, resident(21, "1-1-101")).vote(campaign["id"], {"answers": {c: 4 for c in codes}})  # 80
    use(Campaigns, session, resident(22, "1-1-102")).vote(campaign["id"], {"answers": {c: 5 for c in codes}})  # 100
    campaigns.publish(campaign["id"])
    for ticket_id in (1, 2, 3, 4):
        auto.ticket_submitted(event(NOW, ticket_id=ticket_id, handler_kind="company", handler_id=7, compound_id=10))
    for ticket_id, on_time in ((1, True), (2, True), (3, False)):
        auto.ticket_resolved(event(NOW, ticket_id=ticket_id, on_time=on_time, handler_kind="company"))
    for ticket_id, satisfaction in ((1, "satisfied"), (2, "dissatisfied")):
        auto.ticket_rated(event(NOW, ticket_id=ticket_id, satisfaction=satisfaction))
    return campaign


def test_a_years_stars_computed_by_hand_with_the_chuxiong_table(session):
    build_year(session)
    rating = use(StarRatings, session, BUREAU).draft({"year": 2026})
    entries = {e["company_id"]: e for e in rating["entries"]}
    seven = entries[7]
    # credit: 100 + 2 − 3 − min(12 × 1, 10) = 89 → AA (85 ≤ 89 < 95)
    assert (seven["credit_score"], seven["credit_grade"]) == (89.0, "AA")
    # evaluation: two of 100 households (0.02 ≥ 0.02) → valid; (80 + 100) / 2 = 90
    assert seven["evaluation_score"] == 90.0
    # tickets: on time 2 of 3 resolved, satisfied 1 of 2 rated → 100 × (2/3 + 1/2) / 2 = 58.33
    assert seven["ticket_score"] == 58.33
    # composite: 0.4 × 90 + 0.4 × 89 + 0.2 × 58.33 = 83.27 → four stars (80 ≤ 83.27 < 90)
    assert (seven["composite"], seven["computed_stars"], seven["stars"]) == (83.27, 4, 4)
    # company 8: no records (100), no evaluation, no tickets → the credit weight alone → 100, five stars
    assert (entries[8]["composite"], entries[8]["computed_stars"]) == (100.0, 5)
    assert [e["company_id"] for e in rating["entries"]] == [8, 7]  # ranked by composite


def test_recomputing_as_of_the_draft_ignores_what_came_later(session):
    build_year(session)
    rating = use(StarRatings, session, BUREAU).draft({"year": 2026})
    later = NOW + dt.timedelta(days=3)
    # after the draft: an objection upheld against the −3 record, a new deduction, a ticket resolved, a vote closed
    breach = session.scalar(select(m.CreditRecord).where(m.CreditRecord.item_code == "service_standard_breach"))
    use(Ledger, session, COMPANY7, later).object(breach.id, "已整改")
    use(Ledger, session, STREET, later).decide(breach.id, "revoked", "核实")
    record(session, BUREAU, "fee_violation", later)
    use(AutoItems, session, SYSTEM, later).ticket_resolved(event(later, ticket_id=4, on_time=True,
                                                                 handler_kind="company"))
    check = use(StarRatings, session, BUREAU, later).verify(rating["id"])
    assert check["matches"] is True, check["differences"]
    # the same recomputed now does see them: 100 + 2 − 10 − 5 = 87; tickets 3 of 4 on time → (75 + 50) / 2
    fresh = use(StarRatings, session, BUREAU, later).recompute(rating["id"])
    seven = next(e for e in fresh["entries"] if e["company_id"] == 7)
    assert (seven["credit_score"], seven["ticket_score"]) == (87.0, 62.5)
    assert use(StarRatings, session, BUREAU, later).verify(rating["id"])["matches"] is True


def test_a_county_table_takes_effect_on_its_date(session):
    jiangxian = load_example("jiangxian")
    starts = NOW.date() + dt.timedelta(days=10)
    published = use(Ledger, session, BUREAU).publish_rule_table({"county_id": 1, "effective_from": starts,
                                                                 "table": jiangxian.to_dict()})
    assert published["code"] == "jiangxian"
    # before the date the default (chuxiong) is in force: its item codes
    record(session, STREET, "service_standard_breach")
    later = NOW + dt.timedelta(days=10)
    with pytest.raises(Exception) as refused:
        record(session, STREET, "service_standard_breach", later)  # not an item of the jiangxian table
    assert refused.value.status == 422
    record(session, STREET, "service_below_standard", later)  # jiangxian: −2
    score = use(Ledger, session, BUREAU, later).company_score(7, {})
    # jiangxian from its date: base 85; the chuxiong record keeps its 3 points; 85 − 3 − 2 = 80 → 3A (80 ≤ 80 < 90)
    assert (score["score"], score["grade"], score["rule_table"]["code"]) == (80.0, "3A", "jiangxian")
    # and a street may not publish a table, nor may a version go back
    with pytest.raises(Exception) as forbidden:
        use(Ledger, session, STREET).publish_rule_table({"county_id": 1, "effective_from": starts,
                                                         "table": jiangxian.to_dict()})
    assert forbidden.value.status == 403
    with pytest.raises(Exception) as stale:
        use(Ledger, session, BUREAU).publish_rule_table({"county_id": 1, "effective_from": starts,
                                                         "table": jiangxian.to_dict()})
    assert stale.value.status == 409


def test_every_event_written_validates_against_its_contract(session):
    build_year(session)
    use(StarRatings, session, BUREAU).draft({"year": 2026})
    types = {e.event_type for e in session.scalars(select(m.OutboxEvent))}
    assert {"credit_record_added", "evaluation_opened", "evaluation_published"} <= types


def test_the_demo_year_goes_through_the_same_use_cases(session):
    from services.ratings.demo import generate_last_year
    for n in range(12, 40):  # more compounds and companies, so the rating has something to rank
        session.add(m.CompoundCopy(id=n, code=f"C{n}", name=f"小区{n}", community_id=3, region_path="/1/2/3/",
                                   households=40 + n, company_id=7 + n % 6, management_mode="professional",
                                   three_without=False, source_time=NOW))
    for company_id in range(9, 13):
        session.add(m.CompanyCopy(id=company_id, name=f"物业{company_id}", credit_code="x" * 18, state_owned=False,
                                  party_organization_form="none", source_time=NOW))
    session.flush()
    made = generate_last_year(session, OutboxWriter(m.OutboxEvent, "ratings", None), SETTINGS, NOW.date())
    rating = use(StarRatings, session, BUREAU).get(made["star_rating_id"])
    assert rating["year"] == 2025 and rating["status"] == "final"
    assert made["ballots"] == session.scalar(select(m.Ballot.id).order_by(m.Ballot.id.desc()).limit(1))
    campaign = session.scalar(select(m.Campaign))
    valid = [c.valid for c in campaign.compounds]
    assert campaign.status == "published" and True in valid and False in valid  # around the 50 % threshold
    assert use(StarRatings, session, BUREAU).verify(made["star_rating_id"])["matches"] is True
    low = {e["company_id"] for e in rating["entries"] if e["stars"] <= 2}
    ordered = set(session.scalars(select(m.Rectification.company_id)))
    assert ordered == low and made["rectifications"] == bool(low)
    # the governance dashboard's star distribution is this final rating's
    from prometheus_client import REGISTRY
    from services.ratings import gauges
    gauges.measure(session)
    for stars in range(1, 6):
        expected = sum(1 for e in rating["entries"] if e["stars"] == stars)
        assert (REGISTRY.get_sample_value("redprop_star_rating_companies", {"stars": str(stars)}) or 0) == expected


def test_anyone_signed_in_reads_the_rule_table_in_force(session):
    for caller in (resident(21, "1-1-101"), COMPANY7, BUREAU):
        assert use(Ledger, session, caller).rule_table_in_force({})["code"] == "chuxiong"
    with pytest.raises(Exception) as missing:
        use(Ledger, session, COMPANY7).rule_table_in_force({"county_id": 2})  # a street, not a county
    assert missing.value.status == 404
