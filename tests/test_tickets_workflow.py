"""The rest of the ticket workflow through the gateway: supervision, urging, pause, return and reassign,
duplicates and merge, cancel, return visits, category rules edited by the bureau."""
import pytest

from tests.test_tickets_flow import act

pytestmark = pytest.mark.integration


def elevator(client, **extra):
    answer = client.post("/api/v1/tickets", json={"category_code": "repair.elevator", "title": "电梯异响",
                                                  "description": "1号楼电梯运行有异响", **extra})
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_supervision_is_issued_answered_and_on_the_timeline(ticket_county):
    _settings, client = ticket_county
    street, company = client.as_user("street1"), client.as_user("company1")
    tid = elevator(client.as_user("resident1"))["id"]
    assert act(company, tid, "supervise", note="x").status_code == 403
    supervised = act(street, tid, "supervise", note="请于今日内处理", deadline_hours=4).json()
    (order,) = supervised["supervisions"]
    assert order["level"] == "street" and order["answer"] is None
    answer = company.post(f"/api/v1/tickets/{tid}/supervisions/{order['id']}/answer", json={"answer": "已安排维保"})
    assert answer.status_code == 200 and answer.json()["supervisions"][0]["answer"] == "已安排维保"
    again = company.post(f"/api/v1/tickets/{tid}/supervisions/{order['id']}/answer", json={"answer": "再答"})
    assert again.status_code == 409
    actions = [step["action"] for step in answer.json()["timeline"]]
    assert actions == ["submit", "supervise", "answer_supervision"]


def test_urging_is_rate_limited(ticket_county):
    _settings, client = ticket_county
    resident = client.as_user("resident1")
    tid = elevator(resident)["id"]
    assert act(resident, tid, "urge").json()["urges"] == 1
    too_soon = act(resident, tid, "urge")
    assert too_soon.status_code == 429 and too_soon.json()["details"]["retry_after"] > 0
    assert act(client.as_user("company1"), tid, "urge").status_code == 403


def test_pause_resume_return_reassign_and_cancel(ticket_county):
    _settings, client = ticket_county
    resident, company, community = (client.as_user(u) for u in ("resident1", "company1", "community1"))
    first = elevator(resident)
    tid = first["id"]
    act(company, tid, "claim")
    act(company, tid, "start")
    assert act(company, tid, "pause").status_code == 422  # a pause needs its reason
    paused = act(company, tid, "pause", note="等待配件").json()
    assert paused["status"] == "paused" and paused["due_at"] is None
    resumed = act(company, tid, "resume").json()
    assert resumed["status"] == "in_progress" and resumed["due_at"]
    second = elevator(resident)
    returned = act(company, second["id"], "return", note="不属于物业服务范围").json()
    assert returned["status"] == "returned"
    elsewhere = act(community, second["id"], "reassign", handler_kind="company", handler_id=999999)
    assert elsewhere.status_code == 422
    community_id = returned["community_id"]
    reassigned = act(community, second["id"], "reassign", handler_kind="community", handler_id=community_id).json()
    assert (reassigned["status"], reassigned["level"]) == ("submitted", "community")
    cancelled = act(resident, second["id"], "cancel").json()
    assert cancelled["status"] == "cancelled"
    assert act(resident, second["id"], "urge").status_code == 409


def test_duplicates_are_suggested_and_merged(ticket_county):
    _settings, client = ticket_county
    resident, community = client.as_user("resident1"), client.as_user("community1")
    first, second = elevator(resident), elevator(resident)
    suggested = resident.get(f"/api/v1/tickets/{second['id']}/duplicates").json()["items"]
    assert first["id"] in [t["id"] for t in suggested]
    assert act(resident, second["id"], "merge", into_ticket_id=first["id"]).status_code == 403
    merged = act(community, second["id"], "merge", into_ticket_id=first["id"]).json()
    assert merged["status"] == "merged" and merged["merged_into_id"] == first["id"]
    absorbed = community.get(f"/api/v1/tickets/{first['id']}").json()["timeline"]
    assert absorbed[-1]["action"] == "absorb"


def test_return_visit_after_closing(ticket_county):
    _settings, client = ticket_county
    resident, company, community = (client.as_user(u) for u in ("resident1", "company1", "community1"))
    tid = elevator(resident)["id"]
    act(company, tid, "claim")
    act(company, tid, "resolve", note="已修复")
    act(resident, tid, "accept", satisfaction="basically_satisfied")
    visited = act(community, tid, "return-visit", note="电话回访，居民认可", satisfaction="satisfied").json()
    assert visited["status"] == "closed"
    assert visited["timeline"][-1]["data"] == {"satisfaction": "satisfied"}
    assert act(company, tid, "return-visit", note="x").status_code == 403


def test_the_bureau_edits_category_rules(ticket_county):
    _settings, client = ticket_county
    bureau = client.as_user("bureau")
    categories = {c["code"]: c for c in bureau.get("/api/v1/ticket-categories").json()["items"]}
    assert categories["order.illegal_building"]["responsible"] == "department"
    elevator_id = categories["repair.elevator"]["id"]
    assert client.as_user("community1").patch(f"/api/v1/ticket-categories/{elevator_id}",
                                              json={"claim_hours": 2}).status_code == 403
    changed = bureau.patch(f"/api/v1/ticket-categories/{elevator_id}", json={"claim_hours": 0.5})
    assert changed.status_code == 200 and changed.json()["claim_hours"] == 0.5
    bureau.patch(f"/api/v1/ticket-categories/{elevator_id}", json={"claim_hours": categories["repair.elevator"]
                                                                      ["claim_hours"]})
    department = elevator(client.as_user("resident1"), category_code="order.cooking_fumes")
    assert (department["handler_kind"], department["level"]) == ("department", "department")
