"""The disclosure board (公示栏) and notices (公告) with organizations, ratings and notifications deployed (no
tickets): publishing by the company and the owners' organization, the public board without a token, the check that
reminds and reports each lapse once (which ratings turns into one deduction), the disclosure rate, and notices to
compounds and buildings with activity sign-ups. Runs on SQLite and PostgreSQL."""
import datetime as dt
import json

import pytest

from kit.testing import DATABASE_KINDS, _county, call, db_execute, db_value, wait_until

pytestmark = pytest.mark.integration

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture(scope="module", params=DATABASE_KINDS)
def county(request, tmp_path_factory):
    for settings, client in _county(request, tmp_path_factory, ("organizations", "ratings", "notifications")):
        memberships = db_value(settings, "organizations", "SELECT count(*) FROM memberships")
        wait_until(lambda: db_value(settings, "notifications", "SELECT count(*) FROM membership_copies")
                   >= memberships, timeout=60)
        yield settings, client


def me(client, username):
    return client.as_user(username).get("/api/v1/me").json()["memberships"][0]


def home(client):
    """resident1's compound: served by company1, with owners1's owners' organization."""
    compound_id = me(client, "resident1")["compound_id"]
    return client.as_user("bureau").get(f"/api/v1/compounds/{compound_id}").json()


def publish(user, compound_id, item_code, title, files=None):
    body = {"compound_id": compound_id, "item_code": item_code, "title": title, "content": f"{title}：详见附件。",
            "period": "2026年"}
    if files:
        return user.post("/api/v1/disclosures", data={"disclosure": json.dumps(body, ensure_ascii=False)},
                         files=[("files", f) for f in files])
    return user.post("/api/v1/disclosures", json=body)


def backdate(settings, disclosure_id, days):
    """The publication was made `days` ago (the only way a test can wait a year)."""
    when = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days)).replace(tzinfo=None)
    assert db_execute(settings, "notifications", "UPDATE disclosures SET published_at = :when WHERE id = :id",
                      when=when, id=disclosure_id) == 1


def board_item(client, compound_id, item_code):
    board = client.get(f"/api/v1/public/compounds/{compound_id}/disclosures")
    assert board.status_code == 200, board.text
    return next(i for i in board.json()["items"] if i["item_code"] == item_code)


def inbox(user, event_type):
    return [m for m in user.get("/api/v1/inbox", params={"page_size": 500}).json()["items"]
            if m["event_type"] == event_type]


def lapses(settings, compound_id, item_code):
    return db_value(settings, "notifications", "SELECT count(*) FROM disclosure_alerts WHERE kind = 'overdue' AND "
                                               f"compound_id = {compound_id} AND item_code = '{item_code}'")


def test_a_stale_fee_standard_is_shown_stale_reminded_and_deducted_once_per_lapse(county):
    settings, client = county
    compound = home(client)
    company1 = client.as_user("company1")
    published = publish(company1, compound["id"], "fee_standards", "2026年物业收费标准",
                        files=[("收费标准.pdf", PDF, "application/pdf")])
    assert published.status_code == 201, published.text
    disclosure = published.json()
    assert disclosure["publisher"] == "company" and disclosure["attachments"][0]["content_type"] == "application/pdf"
    assert board_item(client, compound["id"], "fee_standards")["state"] == "current"
    download = client.get(disclosure["attachments"][0]["url"])  # public, like the board
    assert download.status_code == 200 and download.content == PDF

    backdate(settings, disclosure["id"], 400)  # the default freshness of fee standards is 365 days
    item = board_item(client, compound["id"], "fee_standards")
    assert item["state"] == "stale" and item["state_label"].startswith("已过期")
    assert item["current"]["id"] == disclosure["id"]

    call(settings, "notifications", "check_disclosures")
    call(settings, "notifications", "check_disclosures")  # the same day again: nothing new
    assert lapses(settings, compound["id"], "fee_standards") == 1
    wait_until(lambda: inbox(company1, "disclosure_overdue"), timeout=30)
    reminder = inbox(company1, "disclosure_overdue")[0]
    assert "收费标准" in reminder["body"] and reminder["link"].endswith(f"/compounds/{compound['id']}/disclosures")
    assert not inbox(client.as_user("company2"), "disclosure_overdue")

    def deductions():
        return client.as_user("bureau").get("/api/v1/credit/records", params={
            "company_id": compound["company_id"], "item_code": "disclosure_overdue"}).json()["total"]
    wait_until(lambda: deductions() == 1, timeout=30)

    # published again, it is current; once that publication is stale too, it is a second lapse
    again = publish(company1, compound["id"], "fee_standards", "2027年物业收费标准").json()
    assert board_item(client, compound["id"], "fee_standards")["state"] == "current"
    call(settings, "notifications", "check_disclosures")
    assert lapses(settings, compound["id"], "fee_standards") == 1
    backdate(settings, again["id"], 380)
    call(settings, "notifications", "check_disclosures")
    assert lapses(settings, compound["id"], "fee_standards") == 2
    wait_until(lambda: deductions() == 2, timeout=30)


def test_an_item_falling_due_reminds_its_publisher_first(county):
    settings, client = county
    compound = home(client)
    owners1 = client.as_user("owners1")
    published = publish(owners1, compound["id"], "maintenance_fund", "维修资金使用情况公示")
    assert published.status_code == 201, published.text
    backdate(settings, published.json()["id"], 170)  # 180-day period, reminders 14 days ahead
    assert board_item(client, compound["id"], "maintenance_fund")["state"] == "due_soon"
    call(settings, "notifications", "check_disclosures")
    wait_until(lambda: inbox(owners1, "disclosure_due_soon"), timeout=30)
    assert "维修资金" in inbox(owners1, "disclosure_due_soon")[0]["body"]
    assert not inbox(client.as_user("company1"), "disclosure_due_soon")  # the owners' item is theirs alone


def test_the_public_board_needs_no_token_and_shows_no_person(county):
    settings, client = county
    compound = home(client)
    publish(client.as_user("company1"), compound["id"], "complaint_channels", "投诉方式和渠道")
    board = client.get(f"/api/v1/public/compounds/{compound['id']}/disclosures")
    assert board.status_code == 200 and "Authorization" not in board.request.headers
    payload = board.json()
    assert payload["compound"]["id"] == compound["id"] and payload["company"]["id"] == compound["company_id"]
    assert {i["item_code"] for i in payload["items"]} >= {"fee_standards", "owners_rules", "maintenance_fund"}
    text = board.text
    assert "published_by" not in text and "account" not in text and "1380635" not in text  # demo phones
    names = db_value(settings, "organizations", "SELECT string_agg(name, '|') FROM people"
                     if settings.db_url("organizations").startswith("postgresql") else
                     "SELECT group_concat(name, '|') FROM people")
    assert names and not any(name in text for name in names.split("|"))
    assert client.get("/api/v1/public/compounds/999999/disclosures").status_code == 404
    assert client.get("/api/v1/disclosures", params={"compound_id": compound["id"]}).status_code == 401


def test_only_the_publisher_publishes_and_bad_input_changes_nothing(county):
    settings, client = county
    compound = home(client)
    before = db_value(settings, "notifications", "SELECT count(*) FROM disclosures")
    company1, owners1 = client.as_user("company1"), client.as_user("owners1")
    for user, item in ((client.as_user("company2"), "fee_standards"), (company1, "owners_rules"),
                       (owners1, "fee_standards"), (client.as_user("resident1"), "public_income")):
        assert publish(user, compound["id"], item, "不该发布").status_code == 403
    assert publish(company1, compound["id"], "weather", "未知事项").status_code == 422
    refused = publish(company1, compound["id"], "public_income", "公共收益", files=[("x.txt", b"plain text", "text/plain")])
    assert refused.status_code == 415 and refused.json()["error"] == "unsupported_media_type"
    assert db_value(settings, "notifications", "SELECT count(*) FROM disclosures") == before
    assert publish(owners1, compound["id"], "owners_rules", "管理规约").status_code == 201

    bureau = client.as_user("bureau")
    county_id = me(client, "bureau")["region_id"]
    assert client.as_user("street1").put("/api/v1/disclosures/policy", json={
        "region_id": county_id, "items": [{"item_code": "public_income", "freshness_days": 30}]}).status_code == 403
    assert bureau.put("/api/v1/disclosures/policy", json={
        "region_id": county_id, "items": [{"item_code": "public_income", "freshness_days": 2}]}).status_code == 422
    policy = bureau.put("/api/v1/disclosures/policy", json={
        "region_id": county_id, "items": [{"item_code": "public_income", "freshness_days": 91}]})
    assert policy.status_code == 200, policy.text
    assert next(i for i in policy.json()["items"] if i["item_code"] == "public_income")["freshness_days"] == 91
    assert board_item(client, compound["id"], "public_income")["freshness_days"] == 91


def test_the_disclosure_rate_per_region(county):
    settings, client = county
    compound = home(client)
    publish(client.as_user("company1"), compound["id"], "service_standards", "服务标准和内容")
    rate = client.as_user("bureau").get("/api/v1/disclosures/rate")
    assert rate.status_code == 200, rate.text
    figures = rate.json()
    assert figures["level"] == "county" and figures["compounds"] > 0 and figures["children"]
    assert figures["owed_items"] == sum(c["owed_items"] for c in figures["children"])
    assert figures["disclosed_items"] >= 1 and 0 < figures["rate"] < 1
    assert figures["rate"] == round(figures["disclosed_items"] / figures["owed_items"], 4)
    community = client.as_user("community1").get("/api/v1/disclosures/rate").json()
    assert community["level"] == "community" and community["disclosed_items"] >= 1
    assert client.as_user("resident1").get("/api/v1/disclosures/rate").status_code in (403, 404)


def new_resident(client, username, compound_id, room):
    created = client.as_user("admin").post("/api/v1/accounts", json={
        "username": username, "password": "resident-pass",
        "memberships": [{"role": "resident", "compound_id": compound_id, "room": room}]})
    assert created.status_code == 201, created.text
    return client.as_user(username, "resident-pass")


def test_notices_reach_their_buildings_and_activities_take_sign_ups(county):
    settings, client = county
    compound = home(client)
    building2 = new_resident(client, "notice-b2", compound["id"], "2-1-201")
    building3 = new_resident(client, "notice-b3", compound["id"], "3-2-302")
    resident1 = client.as_user("resident1")  # building 1
    wait_until(lambda: db_value(settings, "notifications",
                                "SELECT count(*) FROM membership_copies WHERE building IN ('2', '3')") >= 2)
    company1 = client.as_user("company1")
    notice = company1.post("/api/v1/notices", json={
        "title": "2号楼停水通知", "body": "12月1日9:00-12:00 2号楼停水检修。", "compound_ids": [compound["id"]],
        "buildings": ["2"]})
    assert notice.status_code == 201, notice.text
    notice = notice.json()
    assert notice["publisher_kind"] == "company"
    wait_until(lambda: inbox(building2, "notice_published"), timeout=30)
    assert "停水" in inbox(building2, "notice_published")[0]["title"]
    assert [n["id"] for n in building2.get("/api/v1/notices").json()["items"]] == [notice["id"]]
    assert notice["id"] not in [n["id"] for n in resident1.get("/api/v1/notices").json()["items"]]
    assert resident1.get(f"/api/v1/notices/{notice['id']}").status_code == 404
    assert not inbox(building3, "notice_published")
    assert client.as_user("company2").post("/api/v1/notices", json={
        "title": "越权通知", "body": "x", "compound_ids": [compound["id"]]}).status_code == 403
    assert company1.post("/api/v1/notices", json={"title": "缺少目标", "body": "x"}).status_code == 422

    starts = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=5)).isoformat()
    activity = client.as_user("community1").post("/api/v1/notices", json={
        "kind": "activity", "title": "市民接待日", "body": "社区书记、物业经理与业主面对面。",
        "region_id": me(client, "community1")["region_id"], "starts_at": starts, "location": "社区党群服务站",
        "signup": True, "capacity": 1})
    assert activity.status_code == 201, activity.text
    activity = activity.json()
    assert activity["publisher_kind"] == "community" and compound["id"] in activity["compound_ids"]
    joined = building3.post(f"/api/v1/notices/{activity['id']}/signup")
    assert joined.status_code == 200 and joined.json()["signups"] == 1 and joined.json()["signed_up"] is True
    assert building3.post(f"/api/v1/notices/{activity['id']}/signup").status_code == 409
    full = building2.post(f"/api/v1/notices/{activity['id']}/signup")
    assert full.status_code == 409 and "full" in full.json()["message"]
    assert company1.post(f"/api/v1/notices/{activity['id']}/signup").status_code == 403
    assert company1.post(f"/api/v1/notices/{activity['id']}/withdraw").status_code == 403
    withdrawn = client.as_user("community1").post(f"/api/v1/notices/{activity['id']}/withdraw")
    assert withdrawn.status_code == 200 and withdrawn.json()["withdrawn_at"]
    wait_until(lambda: inbox(building3, "notice_withdrawn"), timeout=30)
    assert not inbox(building2, "notice_withdrawn")
