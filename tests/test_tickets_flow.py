"""Tickets through the gateway with the demo county: the 高唐 flow, deadlines and escalation, privacy, errors."""
import datetime as dt
import io

import pytest
from PIL import Image

from kit.auth import system_token
from kit.rpc import standalone_call

pytestmark = pytest.mark.integration


def photo(gps=True):
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = image.getexif()
    if gps:
        exif[0x8825] = {1: "N", 2: (36.0, 51.0, 0.0)}
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


def report(client, **overrides):
    ticket = {"category_code": "repair.common_parts", "title": "楼道灯坏了", "description": "3号楼2单元楼道灯不亮",
              "location_detail": "3-2", **overrides}
    import json
    return client.post("/api/v1/tickets", data={"ticket": json.dumps(ticket, ensure_ascii=False)},
                       files=[("photos", ("light.jpg", photo(), "image/jpeg"))])


def act(client, ticket_id, action, **body):
    return client.post(f"/api/v1/tickets/{ticket_id}/{action}", json=body)


def sweep(settings, when):
    return standalone_call(settings, "tickets", "sweep_deadlines", token=system_token(settings),
                           now=when.isoformat())


def test_the_gaotang_flow_report_claim_resolve_reject_reopen_close(ticket_county):
    _settings, client = ticket_county
    resident = client.as_user("resident1")
    company = client.as_user("company1")
    community = client.as_user("community1")
    submitted = report(resident)
    assert submitted.status_code == 201, submitted.text
    ticket = submitted.json()
    assert ticket["status"] == "submitted" and ticket["handler_kind"] == "company" and ticket["level"] == "compound"
    assert ticket["claim_deadline"] and ticket["resolve_deadline"]
    assert len(ticket["attachments"]) == 1
    tid = ticket["id"]
    assert tid in [t["id"] for t in company.get("/api/v1/tickets?assigned=true").json()["items"]]
    assert act(company, tid, "resolve", note="修好了").status_code == 409  # not claimed yet
    assert act(resident, tid, "claim").status_code == 403
    assert act(company, tid, "claim").json()["status"] == "claimed"
    assert act(company, tid, "start").json()["status"] == "in_progress"
    assert act(company, tid, "resolve", note="已更换灯泡").json()["status"] == "resolved"
    rejected = act(resident, tid, "reject", note="还是不亮", speed_score=2, attitude_score=3)
    assert rejected.json()["status"] == "reopen_requested" and rejected.json()["satisfaction"] == "dissatisfied"
    assert act(company, tid, "approve-reopen").status_code == 403  # the community decides, not the company
    assert act(community, tid, "approve-reopen").json()["status"] == "reopened"
    assert act(company, tid, "claim").json()["status"] == "claimed"
    assert act(company, tid, "resolve", note="更换线路").json()["status"] == "resolved"
    closed = act(resident, tid, "accept", satisfaction="satisfied", speed_score=4, attitude_score=5)
    assert closed.json()["status"] == "closed" and closed.json()["solved_level"] == "compound"
    timeline = client.as_user("bureau").get(f"/api/v1/tickets/{tid}").json()["timeline"]
    steps = [(s["action"], s["actor_party"]) for s in timeline]
    assert steps == [("submit", "reporter"), ("claim", "handler"), ("start", "handler"), ("resolve", "handler"),
                     ("reject", "reporter"), ("approve_reopen", "community"), ("claim", "handler"),
                     ("resolve", "handler"), ("accept", "reporter")]
    assert all(s["at"] and s["actor_account_id"] for s in timeline)


def test_unclaimed_tickets_escalate_level_by_level_on_a_driven_clock(ticket_county):
    settings, client = ticket_county
    resident = client.as_user("resident1")
    ticket = report(resident).json()
    tid = ticket["id"]
    claim_deadline = dt.datetime.fromisoformat(ticket["claim_deadline"])
    sweep(settings, claim_deadline - dt.timedelta(minutes=1))
    assert client.as_user("bureau").get(f"/api/v1/tickets/{tid}").json()["level"] == "compound"
    sweep(settings, claim_deadline + dt.timedelta(minutes=1))
    at_community = client.as_user("bureau").get(f"/api/v1/tickets/{tid}").json()
    assert (at_community["level"], at_community["handler_kind"]) == ("community", "community")
    second_deadline = dt.datetime.fromisoformat(at_community["claim_deadline"])
    assert second_deadline > claim_deadline
    sweep(settings, second_deadline + dt.timedelta(minutes=1))
    at_street = client.as_user("bureau").get(f"/api/v1/tickets/{tid}").json()
    assert (at_street["level"], at_street["escalations"]) == ("street", 2)
    assert dt.datetime.fromisoformat(at_street["claim_deadline"]) > second_deadline
    assert act(client.as_user("street1"), tid, "claim").json()["status"] == "claimed"
    assert act(client.as_user("company1"), tid, "resolve", note="x").status_code == 404  # no longer theirs to see


def test_privacy_and_jurisdiction(ticket_county):
    _settings, client = ticket_county
    staff = client.as_user("community1")
    compound_id = staff.get("/api/v1/tickets?page_size=1").json()["items"]
    resident_compound = client.as_user("resident1").get("/api/v1/compounds").json()["items"][0]["id"]
    taken = staff.post("/api/v1/tickets", json={
        "compound_id": resident_compound, "category_code": "complaint.fees", "title": "物业费收费标准有疑问",
        "description": "来电反映收费过高", "channel": "hotline", "reporter_name": "王先生",
        "reporter_phone": "13912345678"})
    assert taken.status_code == 201, taken.text
    ticket = taken.json()
    assert ticket["private"] is True and ticket["reporter_phone"] == "13912345678"  # the staff who took it
    as_company = client.as_user("company1").get(f"/api/v1/tickets/{ticket['id']}").json()
    assert as_company["reporter_phone"] == "139****5678" and as_company["reporter_name"] == "王先生"
    assert client.as_user("owners1").get(f"/api/v1/tickets/{ticket['id']}").status_code == 404  # private
    assert client.as_user("company2").get(f"/api/v1/tickets/{ticket['id']}").status_code == 404
    assert client.as_user("community2").get(f"/api/v1/tickets/{ticket['id']}").status_code == 404
    del compound_id


def test_uploads_are_checked_by_content(ticket_county):
    settings, client = ticket_county
    resident = client.as_user("resident1")
    tid = report(resident).json()["id"]
    fake = resident.post(f"/api/v1/tickets/{tid}/attachments", files={"file": ("x.jpg", b"just text", "image/jpeg")})
    assert fake.status_code == 415 and fake.json()["error"] == "unsupported_media_type"
    limit = settings["gateway"]["max_body_bytes"]
    big = resident.post(f"/api/v1/tickets/{tid}/attachments",
                        files={"file": ("big.jpg", b"\xff\xd8\xff" + b"0" * (limit + 10), "image/jpeg")})
    assert big.status_code == 413 and big.json()["error"] == "payload_too_large"
    added = resident.post(f"/api/v1/tickets/{tid}/attachments", files={"file": ("p.jpg", photo(), "image/jpeg")})
    assert added.status_code == 201
    name = added.json()["attachments"][-1]["name"]
    stored = resident.get(f"/api/v1/tickets/{tid}/attachments/{name}")
    assert stored.status_code == 200 and stored.headers["Content-Type"] == "image/jpeg"
    assert 0x8825 not in Image.open(io.BytesIO(stored.content)).getexif()  # GPS gone


def test_bad_ticket_input(ticket_county):
    _settings, client = ticket_county
    resident = client.as_user("resident1")
    unknown = resident.post("/api/v1/tickets", json={"category_code": "nope", "title": "xx", "description": "yy"})
    assert unknown.status_code == 422
    group = resident.post("/api/v1/tickets", json={"category_code": "repair", "title": "xx", "description": "yy"})
    assert group.status_code == 422
    no_photo = resident.post("/api/v1/tickets", json={"category_code": "repair.common_parts", "title": "xx",
                                                     "description": "yy"})
    assert no_photo.status_code == 422 and "photos" in no_photo.json()["details"]
    other = client.as_user("community2").get("/api/v1/compounds?page_size=1").json()["items"][0]["id"]
    elsewhere = resident.post("/api/v1/tickets", json={"compound_id": other, "category_code": "repair.elevator",
                                                      "title": "xx", "description": "yy"})
    assert elsewhere.status_code == 403
    assert client.as_user("company1").post("/api/v1/tickets", json={
        "category_code": "repair.elevator", "title": "xx", "description": "yy"}).status_code == 403


def test_a_ticket_overdue_at_the_top_stays_flagged_overdue(ticket_county):
    settings, client = ticket_county
    bureau = client.as_user("bureau")
    tid = report(client.as_user("resident1")).json()["id"]
    for level in ("community", "street", "bureau"):
        deadline = dt.datetime.fromisoformat(bureau.get(f"/api/v1/tickets/{tid}").json()["claim_deadline"])
        sweep(settings, deadline + dt.timedelta(minutes=1))
        assert bureau.get(f"/api/v1/tickets/{tid}").json()["level"] == level
    deadline = dt.datetime.fromisoformat(bureau.get(f"/api/v1/tickets/{tid}").json()["claim_deadline"])
    counts = sweep(settings, deadline + dt.timedelta(minutes=1))
    assert counts["overdue"] >= 1
    top = bureau.get(f"/api/v1/tickets/{tid}").json()
    assert (top["level"], top["escalations"], top["overdue"]) == ("bureau", 3, True)
    assert tid in [t["id"] for t in bureau.get("/api/v1/tickets?overdue=true&page_size=500").json()["items"]]
    again = sweep(settings, deadline + dt.timedelta(hours=2))
    assert again["overdue"] == 0  # reported once
    assert act(bureau, tid, "claim").json()["overdue"] is False


def test_warnings_before_deadlines_and_auto_close_of_unrated_tickets(ticket_county):
    settings, client = ticket_county
    resident, company = client.as_user("resident1"), client.as_user("company1")
    ticket = report(resident).json()
    claim_deadline = dt.datetime.fromisoformat(ticket["claim_deadline"])
    warned = sweep(settings, claim_deadline - dt.timedelta(seconds=30))
    assert warned["warned"] >= 1 and warned["overdue"] == 0
    tid = ticket["id"]
    act(company, tid, "claim")
    resolved = act(company, tid, "resolve", note="处理完毕").json()
    resolved_at = dt.datetime.fromisoformat(resolved["resolved_at"])
    sweep(settings, resolved_at + dt.timedelta(days=settings["tickets"]["auto_close_days"] - 1))
    assert client.as_user("bureau").get(f"/api/v1/tickets/{tid}").json()["status"] == "resolved"
    closed = sweep(settings, resolved_at + dt.timedelta(days=settings["tickets"]["auto_close_days"], minutes=1))
    assert closed["auto_closed"] >= 1
    final = client.as_user("bureau").get(f"/api/v1/tickets/{tid}").json()
    assert final["status"] == "closed" and final["timeline"][-1]["action"] == "auto_close"
