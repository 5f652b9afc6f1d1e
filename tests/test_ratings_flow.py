"""Ratings through the gateway with organizations and tickets: automatic deductions from ticket events (once, even
delivered twice), recording authorities, validity and veto, objections, one vote per household, star ratings from
draft to final, rectification and elimination. Runs on SQLite and PostgreSQL."""
import datetime as dt

import pytest
from kombu import Connection

from kit.messaging import events_exchange
from kit.testing import call, db_value, wait_for_registry_events, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def county(ratings_county):
    settings, client = ratings_county
    wait_for_registry_events(settings)
    return settings, client


def me(client, username):
    user = client.as_user(username)
    return user, user.get("/api/v1/me").json()


def home_compound(client):
    _, who = me(client, "resident1")
    return who["memberships"][0]["compound_id"]


def company_of(client, compound_id):
    return client.as_user("bureau").get(f"/api/v1/compounds/{compound_id}").json()["company_id"]


def score(user, company_id, **query):
    response = user.get(f"/api/v1/credit/scores/{company_id}", params=query)
    assert response.status_code == 200, response.text
    return response.json()


def test_an_overdue_escalation_deducts_from_the_company_once(county):
    settings, client = county
    resident = client.as_user("resident1")
    ticket = resident.post("/api/v1/tickets", json={"category_code": "repair.elevator", "title": "电梯停运",
                                                    "description": "3号楼电梯不动"}).json()
    assert ticket["handler_kind"] == "company"
    later = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%S")
    call(settings, "tickets", "sweep_deadlines", now=later)
    bureau = client.as_user("bureau")

    def deductions():
        return bureau.get("/api/v1/credit/records", params={"item_code": "ticket_overdue",
                                                            "company_id": ticket["handler_id"]}).json()["items"]
    wait_until(lambda: any(r["evidence_ref"].startswith(ticket["code"]) for r in deductions()), timeout=30)
    mine = [r for r in deductions() if r["evidence_ref"].startswith(ticket["code"])]
    assert len(mine) == 1
    assert mine[0] | {"kind": "deduction", "source": "automatic", "evidence_kind": "ticket", "points": 1.0} == mine[0]
    assert mine[0]["compound_id"] == ticket["compound_id"]

    # the same event delivered again (a redelivery after a lost ack) adds nothing
    envelope = db_value(settings, "tickets", "SELECT envelope FROM outbox WHERE event_type = 'ticket_overdue' "
                                             "ORDER BY id DESC LIMIT 1")
    envelope = envelope if isinstance(envelope, dict) else __import__("json").loads(envelope)
    with Connection(settings["amqp_uri"]) as connection:
        connection.Producer().publish(envelope, exchange=events_exchange(settings),
                                      routing_key="tickets.ticket_overdue", serializer="json", delivery_mode=2)
    wait_until(lambda: db_value(settings, "ratings", "SELECT count(*) FROM inbox WHERE event_id = "
                                                     f"'{envelope['event_id']}'") == 1, timeout=10)
    bureau.get("/api/v1/credit/records")  # one more round trip after the redelivery was consumed
    assert len([r for r in deductions() if r["evidence_ref"].startswith(ticket["code"])]) == 1
    scored = score(bureau, ticket["handler_id"])
    assert scored["items"]["ticket_overdue"] <= -1


def test_only_the_named_authority_records_and_evidence_is_required(county):
    _, client = county
    compound = home_compound(client)
    company = company_of(client, compound)
    record = {"company_id": company, "compound_id": compound, "item_code": "service_standard_breach",
              "evidence_note": "巡查发现楼道堆物未清理 corridors blocked"}
    assert client.as_user("community1").post("/api/v1/credit/records", json=record).status_code == 403
    assert client.as_user("company1").post("/api/v1/credit/records", json=record).status_code == 403
    street = client.as_user("street1")
    bureau_only = {**record, "item_code": "fee_violation"}
    refused = street.post("/api/v1/credit/records", json=bureau_only)
    assert refused.status_code == 403 and refused.json()["details"]["authorities"] == ["bureau"]
    no_evidence = {k: v for k, v in record.items() if k != "evidence_note"}
    assert street.post("/api/v1/credit/records", json=no_evidence).status_code == 422
    automatic = {**record, "item_code": "ticket_overdue"}
    assert street.post("/api/v1/credit/records", json=automatic).status_code == 422
    before = score(street, company)
    made = street.post("/api/v1/credit/records", json=record)
    assert made.status_code == 201, made.text
    assert made.json()["authority"] == "street" and made.json()["in_force"] is True
    after = score(street, company)
    assert after["deduction"] == pytest.approx(before["deduction"] + 3)
    assert client.as_user("resident1").post("/api/v1/credit/records", json=record).status_code == 403


def test_a_record_past_its_validity_no_longer_counts(county):
    _, client = county
    compound = home_compound(client)
    company = company_of(client, compound)
    bureau = client.as_user("bureau")
    made = bureau.post("/api/v1/credit/records", json={
        "company_id": company, "compound_id": compound, "item_code": "emergency_service",
        "evidence_note": "暴雨夜间抢险 flood rescue"}).json()
    valid_until = dt.date.fromisoformat(made["valid_until"])
    last_day = score(bureau, company, on=(valid_until - dt.timedelta(days=1)).isoformat())
    next_day = score(bureau, company, on=valid_until.isoformat())
    assert any(r["id"] == made["id"] for r in last_day["records_in_force"])
    assert all(r["id"] != made["id"] for r in next_day["records_in_force"])
    assert "emergency_service" in last_day["items"] and "emergency_service" not in next_day["items"]
    # nor can a record be made that would already have expired
    long_ago = (dt.date.today() - dt.timedelta(days=400)).isoformat()
    assert bureau.post("/api/v1/credit/records", json={
        "company_id": company, "compound_id": compound, "item_code": "emergency_service", "occurred_on": long_ago,
        "evidence_note": "旧事"}).status_code == 422


def test_a_veto_item_caps_the_grade_and_blacklists(county):
    _, client = county
    bureau = client.as_user("bureau")
    _, company2 = me(client, "company2")
    company = company2["memberships"][0]["company_id"]
    served = bureau.get("/api/v1/compounds", params={"company_id": company}).json()["items"]
    assert score(bureau, company)["grade"] != "C"
    made = bureau.post("/api/v1/credit/records", json={
        "company_id": company, "compound_id": served[0]["id"] if served else None, "item_code": "major_accident",
        "evidence_note": "电梯事故调查报告 accident report"})
    assert made.status_code == 201, made.text
    scored = score(bureau, company)
    assert scored["veto"] is True and scored["grade"] == "C" and scored["standing"] == "black"
    black = bureau.get("/api/v1/credit/scores", params={"standing": "black"}).json()["items"]
    assert company in [row["company_id"] for row in black]


def test_objections_are_decided_by_the_authority(county):
    _, client = county
    compound = home_compound(client)
    company = company_of(client, compound)
    street = client.as_user("street1")
    made = street.post("/api/v1/credit/records", json={
        "company_id": company, "compound_id": compound, "item_code": "rectification_refused",
        "evidence_note": "整改通知书未回复"}).json()
    before = score(street, company)
    assert client.as_user("company2").post(f"/api/v1/credit/records/{made['id']}/objection",
                                           json={"reason": "不是我们"}).status_code in (403, 404)
    company1 = client.as_user("company1")
    objected = company1.post(f"/api/v1/credit/records/{made['id']}/objection", json={"reason": "已按期整改，附照片"})
    assert objected.status_code == 200 and objected.json()["status"] == "objected"
    assert company1.post(f"/api/v1/credit/records/{made['id']}/objection",
                         json={"reason": "again"}).status_code == 409
    assert score(street, company)["score"] == before["score"]  # counts until decided
    assert client.as_user("community1").post(f"/api/v1/credit/records/{made['id']}/decision",
                                             json={"decision": "revoked", "note": "x" * 3}).status_code == 403
    decided = street.post(f"/api/v1/credit/records/{made['id']}/decision",
                          json={"decision": "revoked", "note": "核实已整改 verified"})
    assert decided.status_code == 200 and decided.json()["status"] == "revoked"
    assert score(street, company)["score"] == pytest.approx(min(100.0, before["score"] + 10))


def new_resident(client, username, compound_id, room):
    admin = client.as_user("admin")
    created = admin.post("/api/v1/accounts", json={"username": username, "password": "resident-pass",
                                                   "memberships": [{"role": "resident", "compound_id": compound_id,
                                                                    "room": room}]})
    assert created.status_code == 201, created.text
    return client.as_user(username, "resident-pass")


def open_campaign(client, compound, threshold, title):
    closes = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%S")
    street = client.as_user("street1")
    _, who = me(client, "street1")
    opened = street.post("/api/v1/evaluations", json={
        "title": title, "region_id": who["memberships"][0]["region_id"], "closes_at": closes,
        "compound_ids": [compound], "participation_threshold": threshold})
    assert opened.status_code == 201, opened.text
    return opened.json()


ANSWERS = {"service_attitude": 5, "sanitation": 4, "order_security": 4, "facility_maintenance": 3,
           "fees_transparency": 5}


def test_one_vote_per_household_and_participation_decides_validity(county):
    _, client = county
    compound = home_compound(client)
    households = client.as_user("bureau").get(f"/api/v1/compounds/{compound}").json()["households"]
    threshold = round(1.5 / households, 6)  # two households are enough, one is not
    campaign = open_campaign(client, compound, threshold, "2026年度业主评议 owner evaluation")
    resident1 = client.as_user("resident1")
    cast = resident1.post(f"/api/v1/evaluations/{campaign['id']}/votes", json={"answers": ANSWERS})
    assert cast.status_code == 201, cast.text
    # 20 × (0.2·5 + 0.2·4 + 0.2·4 + 0.25·3 + 0.15·5) = 20 × 4.1 = 82
    assert cast.json()["score"] == pytest.approx(82.0)
    assert resident1.post(f"/api/v1/evaluations/{campaign['id']}/votes",
                          json={"answers": ANSWERS}).status_code == 409
    same_room = new_resident(client, "spouse101", compound, "1-1-101")
    assert same_room.post(f"/api/v1/evaluations/{campaign['id']}/votes",
                          json={"answers": ANSWERS}).status_code == 409
    assert client.as_user("company1").post(f"/api/v1/evaluations/{campaign['id']}/votes",
                                           json={"answers": ANSWERS}).status_code == 403
    incomplete = {k: v for k, v in ANSWERS.items() if k != "sanitation"}
    neighbour = new_resident(client, "neighbour202", compound, "2-1-202")
    assert neighbour.post(f"/api/v1/evaluations/{campaign['id']}/votes",
                          json={"answers": incomplete}).status_code == 422
    low = {k: 1 for k in ANSWERS}
    assert neighbour.post(f"/api/v1/evaluations/{campaign['id']}/votes", json={"answers": low}).status_code == 201
    published = client.as_user("street1").post(f"/api/v1/evaluations/{campaign['id']}/publish")
    assert published.status_code == 200, published.text
    result = published.json()["compounds"][0]
    assert result["votes"] == 2 and result["valid"] is True
    assert result["score"] == pytest.approx((82.0 + 20.0) / 2)
    assert resident1.post(f"/api/v1/evaluations/{campaign['id']}/votes",
                          json={"answers": ANSWERS}).status_code == 409

    thin = open_campaign(client, compound, threshold, "补充评议 second round")
    assert resident1.post(f"/api/v1/evaluations/{thin['id']}/votes", json={"answers": ANSWERS}).status_code == 201
    published = client.as_user("street1").post(f"/api/v1/evaluations/{thin['id']}/publish").json()
    assert published["compounds"][0] | {"votes": 1, "valid": False, "score": None} == published["compounds"][0]
    assert published["companies"][0]["valid"] is False and published["companies"][0]["score"] is None
    # residents see the published result of their compound
    seen = resident1.get(f"/api/v1/evaluations/{thin['id']}").json()
    assert seen["compounds"][0]["valid"] is False and seen["my_households"][0]["voted"] is True


def test_star_rating_goes_draft_notice_final(county):
    settings, client = county
    bureau = client.as_user("bureau")
    year = dt.date.today().year
    drafted = bureau.post("/api/v1/star-ratings", json={"year": year})
    assert drafted.status_code == 201, drafted.text
    rating = drafted.json()
    assert rating["status"] == "draft" and len(rating["entries"]) >= 30
    assert bureau.post("/api/v1/star-ratings", json={"year": year}).status_code == 409
    assert client.as_user("admin").post(f"/api/v1/star-ratings/{rating['id']}/publish").status_code == 403
    assert client.as_user("street1").post(f"/api/v1/star-ratings/{rating['id']}/publish").status_code == 404
    assert client.as_user("resident1").get(f"/api/v1/star-ratings/{rating['id']}").status_code == 404  # a draft

    verification = bureau.get(f"/api/v1/star-ratings/{rating['id']}/verification").json()
    assert verification["matches"] is True, verification["differences"]
    assert verification["entries"] == len(rating["entries"])
    # a record made after the draft does not count in it: recomputing as of the draft still gives the same
    compound = home_compound(client)
    assert bureau.post("/api/v1/credit/records", json={
        "company_id": company_of(client, compound), "compound_id": compound, "item_code": "fee_violation",
        "evidence_note": "超标准收费 overcharging"}).status_code == 201
    assert bureau.get(f"/api/v1/star-ratings/{rating['id']}/verification").json()["matches"] is True

    _, company1 = me(client, "company1")
    company = company1["memberships"][0]["company_id"]
    entry = next(e for e in rating["entries"] if e["company_id"] == company)
    assert entry["evaluation_score"] is not None and entry["credit_score"] is not None
    adjusted = bureau.patch(f"/api/v1/star-ratings/{rating['id']}/entries/{company}",
                            json={"stars": 2, "note": "现场检查发现问题 inspection findings"})
    assert adjusted.status_code == 200

    noticed = bureau.post(f"/api/v1/star-ratings/{rating['id']}/publish").json()
    assert noticed["status"] == "notice" and noticed["notice_until"]
    assert bureau.patch(f"/api/v1/star-ratings/{rating['id']}/entries/{company}",
                        json={"stars": 5, "note": "change"}).status_code == 409
    assert client.as_user("resident1").get(f"/api/v1/star-ratings/{rating['id']}").status_code == 200
    assert client.as_user("company2").post(f"/api/v1/star-ratings/{rating['id']}/entries/{company}/objection",
                                           json={"reason": "not ours"}).status_code == 403
    objected = client.as_user("company1").post(f"/api/v1/star-ratings/{rating['id']}/entries/{company}/objection",
                                               json={"reason": "整改已完成，申请复核 please review"})
    assert objected.status_code == 200
    assert bureau.post(f"/api/v1/star-ratings/{rating['id']}/finalize").status_code == 409  # notice running
    after_notice = (dt.datetime.fromisoformat(noticed["notice_until"]) + dt.timedelta(minutes=1)).isoformat()
    assert call(settings, "ratings", "sweep_ratings", now=after_notice)["star_ratings_finalized"] == 0  # pending
    decided = bureau.post(f"/api/v1/star-ratings/{rating['id']}/entries/{company}/decision",
                          json={"decision": "upheld", "stars": 4, "note": "复核属实 review upheld"})
    assert decided.status_code == 200
    assert next(e for e in decided.json()["entries"] if e["company_id"] == company)["stars"] == 4
    assert call(settings, "ratings", "sweep_ratings", now=after_notice)["star_ratings_finalized"] == 1
    final = bureau.get(f"/api/v1/star-ratings/{rating['id']}").json()
    assert final["status"] == "final"
    assert bureau.patch(f"/api/v1/star-ratings/{rating['id']}/entries/{company}",
                        json={"stars": 4, "note": "too late"}).status_code == 409
    assert bureau.post(f"/api/v1/star-ratings/{rating['id']}/entries/{company}/decision",
                       json={"decision": "rejected", "note": "too late"}).status_code == 409
    low = {e["company_id"] for e in final["entries"] if e["stars"] is not None and e["stars"] <= 2}
    orders = bureau.get("/api/v1/rectifications", params={"star_rating_id": rating["id"],
                                                          "page_size": 500}).json()["items"]
    assert {o["company_id"] for o in orders} == low
    ranked = bureau.get("/api/v1/rankings", params={"year": year, "by": "composite"}).json()
    assert ranked["source"].endswith("(final)")
    ranks = [row["rank"] for row in ranked["items"] if row["rank"] is not None]
    assert ranks == sorted(ranks) and ranks[0] == 1
    # a street's ranking: the companies serving its compounds, ranked among themselves
    street, street_account = me(client, "street1")
    street_ranking = street.get("/api/v1/rankings", params={"year": year}).json()
    street_compounds = street.get("/api/v1/compounds", params={
        "region_id": street_account["memberships"][0]["region_id"], "page_size": 500}).json()["items"]
    serving = {c["company_id"] for c in street_compounds if c["company_id"]}
    assert {row["company_id"] for row in street_ranking["items"]} >= serving
    assert {row["company_id"] for row in street_ranking["items"]} <= {row["company_id"] for row in ranked["items"]}
    assert street_ranking["items"][0]["rank"] == 1

    # the home compound: four stars now, a valid evaluation of 100 and a project credit above 85 → demonstration
    compound = home_compound(client)
    households = bureau.get(f"/api/v1/compounds/{compound}").json()["households"]
    praise = open_campaign(client, compound, round(1.5 / households, 6), "示范评议 demonstration round")
    for username, password in (("resident1", "demo"), ("neighbour202", "resident-pass")):
        assert client.as_user(username, password).post(f"/api/v1/evaluations/{praise['id']}/votes", json={
            "answers": {k: 5 for k in ANSWERS}}).status_code == 201
    client.as_user("street1").post(f"/api/v1/evaluations/{praise['id']}/publish")
    selected = bureau.post("/api/v1/demonstration-projects", json={"year": year})
    assert selected.status_code == 201, selected.text
    projects = selected.json()["items"]
    assert [p["rank"] for p in projects] == list(range(1, len(projects) + 1))
    assert all(p["stars"] >= 4 and p["evaluation_score"] >= 85 and p["credit_score"] >= 85 for p in projects)
    assert compound in [p["compound_id"] for p in projects]
    awards = bureau.get("/api/v1/credit/records", params={"item_code": "demonstration_award",
                                                          "compound_id": compound}).json()["items"]
    assert len(awards) == 1 and awards[0]["kind"] == "bonus"
    assert bureau.post("/api/v1/demonstration-projects", json={"year": year}).status_code == 409


def test_rectification_escalates_and_recommends_elimination(county):
    _, client = county
    compound = home_compound(client)
    company = company_of(client, compound)
    street, bureau, company1 = (client.as_user(u) for u in ("street1", "bureau", "company1"))
    ordered = street.post("/api/v1/rectifications", json={"company_id": company, "compound_id": compound,
                                                          "items": ["楼道堆物清理 clear the corridors"]})
    assert ordered.status_code == 201, ordered.text
    order = ordered.json()
    assert order["status"] == "issued" and order["level"] == "street"
    assert street.post(f"/api/v1/rectifications/{order['id']}/reinspection",
                       json={"passed": True, "note": "未回复"}).status_code == 409
    assert client.as_user("company2").post(f"/api/v1/rectifications/{order['id']}/response",
                                           json={"response": "done"}).status_code in (403, 404)
    assert company1.post(f"/api/v1/rectifications/{order['id']}/response",
                         json={"response": "已清理 cleared"}).json()["status"] == "responded"
    failed = street.post(f"/api/v1/rectifications/{order['id']}/reinspection",
                         json={"passed": False, "note": "仍有堆物 still blocked"}).json()
    assert failed["status"] == "issued" and failed["level"] == "bureau" and failed["failures"] == 1
    company1.post(f"/api/v1/rectifications/{order['id']}/response", json={"response": "再次清理 cleared again"})
    assert street.post(f"/api/v1/rectifications/{order['id']}/reinspection",
                       json={"passed": False, "note": "x" * 3}).status_code == 403  # the bureau re-inspects now
    escalated = bureau.post(f"/api/v1/rectifications/{order['id']}/reinspection",
                            json={"passed": False, "note": "复查不合格 failed again"}).json()
    assert escalated["status"] == "escalated" and escalated["eliminations"]
    assert escalated["eliminations"][0]["compound_id"] == compound
    seen = client.as_user("owners1").get("/api/v1/rectifications/eliminations").json()["items"]
    assert any(r["rectification_id"] == order["id"] for r in seen)
