"""A county that deploys ratings without tickets and notifications: manual records and owner evaluations alone
make scores and stars; the missing services answer 503."""
import datetime as dt

import pytest

from kit.testing import demo_platform, wait_for_registry_events

pytestmark = pytest.mark.integration
SERVICES = ("organizations", "ratings")


@pytest.fixture
def platform(settings_factory):
    settings = settings_factory(deployed=SERVICES)
    with demo_platform(settings, SERVICES) as client:
        yield settings, client


def test_ratings_works_on_manual_records_and_evaluations_alone(platform):
    settings, client = platform
    assert client.as_user("resident1").get("/api/v1/tickets").status_code == 503
    bureau, street, resident = (client.as_user(u) for u in ("bureau", "street1", "resident1"))
    home = resident.get("/api/v1/me").json()["memberships"][0]["compound_id"]
    compound = bureau.get(f"/api/v1/compounds/{home}").json()
    company = compound["company_id"]
    wait_for_registry_events(settings)  # the demo's party organizations already earned bonuses
    before = bureau.get(f"/api/v1/credit/scores/{company}").json()
    recorded = street.post("/api/v1/credit/records", json={
        "company_id": company, "compound_id": home, "item_code": "service_standard_breach",
        "evidence_note": "巡查记录 inspection note"})
    assert recorded.status_code == 201, recorded.text
    after = bureau.get(f"/api/v1/credit/scores/{company}").json()
    assert after["deduction"] == before["deduction"] + 3
    # chuxiong: base 100 + bonuses − deductions, within 0…100
    assert after["score"] == min(100.0, 100 + after["bonus"] - after["deduction"])
    street_id = street.get("/api/v1/me").json()["memberships"][0]["region_id"]
    closes = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%S")
    campaign = street.post("/api/v1/evaluations", json={
        "title": "业主评议", "region_id": street_id, "closes_at": closes, "compound_ids": [home],
        "participation_threshold": round(0.5 / compound["households"], 6)}).json()
    answers = {"service_attitude": 4, "sanitation": 4, "order_security": 4, "facility_maintenance": 4,
               "fees_transparency": 4}
    assert resident.post(f"/api/v1/evaluations/{campaign['id']}/votes", json={"answers": answers}).status_code == 201
    published = street.post(f"/api/v1/evaluations/{campaign['id']}/publish").json()
    assert published["compounds"][0]["valid"] is True and published["compounds"][0]["score"] == 80.0

    rating = bureau.post("/api/v1/star-ratings", json={"year": dt.date.today().year}).json()
    entry = next(e for e in rating["entries"] if e["company_id"] == company)
    # evaluation 20 × 4 = 80; no tickets → the weights 0.4/0.4 renormalised to halves
    assert entry["ticket_score"] is None and entry["evaluation_score"] == 80.0
    assert entry["credit_score"] == after["score"]
    assert entry["composite"] == round((after["score"] + 80) / 2, 2)
    thresholds = ((5, 90), (4, 80), (3, 70), (2, 60), (1, 0))  # chuxiong's star thresholds
    assert entry["computed_stars"] == next(stars for stars, least in thresholds if entry["composite"] >= least)
    assert bureau.get(f"/api/v1/star-ratings/{rating['id']}/verification").json()["matches"] is True
    ranked = bureau.get("/api/v1/rankings", params={"by": "credit_score"}).json()
    assert ranked["source"] == "provisional"  # the draft is not published yet
    ours = next(row for row in ranked["items"] if row["company_id"] == company)
    assert ours["credit_score"] == after["score"]
