"""The eight county profiles (infra/profiles/): organizations plus any combination of tickets, ratings and
notifications. Each starts as processes, as a county would run it (every process told its profile by
REDPROP_PROFILE), and a smoke flow goes through the gateway: the deployed services work, the others answer 503 with
the JSON envelope. Every profile runs on SQLite, the whole platform on PostgreSQL too."""
import pytest

from kit import config
from kit.testing import county_processes, wait_until

pytestmark = pytest.mark.integration

OPTIONAL = ("tickets", "ratings", "notifications")
CASES = [(name, "sqlite") for name in config.profiles()] + [("full", "postgresql")]


def test_there_are_eight_profiles_one_per_combination():
    deployed = {name: config.load(environ={"REDPROP_PROFILE": name})["deployed"] for name in config.profiles()}
    assert len(deployed) == 8 and all(d[0] == "organizations" for d in deployed.values())
    assert {frozenset(d[1:]) for d in deployed.values()} == {
        frozenset(c) for c in ((), ("tickets",), ("ratings",), ("notifications",), ("tickets", "ratings"),
                               ("tickets", "notifications"), ("ratings", "notifications"), OPTIONAL)}
    with pytest.raises(ValueError):
        config.load(environ={"REDPROP_PROFILE": "everything"})


def not_deployed(answer):
    return answer.status_code == 503 and answer.json()["error"] == "service_not_deployed"


@pytest.mark.parametrize("profile, database_kind", CASES, ids=[f"{p}-{d}" for p, d in CASES])
def test_a_profile_runs_its_services_and_refuses_the_others(profile, database_kind, tmp_path):
    with county_processes(profile, database_kind, tmp_path) as (settings, client, processes):
        deployed = [name for name in processes if name != "gateway"]
        services = {s["name"]: s for s in client.get("/api/v1/services").json()["services"]}
        assert {name for name, s in services.items() if s["deployed"]} == set(deployed)
        assert all(services[name]["healthy"] for name in deployed)
        bureau, resident, company = (client.as_user(u) for u in ("bureau", "resident1", "company1"))
        assert bureau.get("/api/v1/stats/coverage").json()["compounds"] == 238
        home = resident.get("/api/v1/me").json()["memberships"][0]["compound_id"]
        company_id = bureau.get(f"/api/v1/compounds/{home}").json()["company_id"]

        report = {"category_code": "repair.elevator", "title": f"{profile} 电梯故障", "description": "电梯异响"}
        submitted = resident.post("/api/v1/tickets", json=report)
        if "tickets" in deployed:
            assert submitted.status_code == 201, submitted.text
            ticket = submitted.json()
            assert ticket["handler_kind"] == "company"
            assert company.post(f"/api/v1/tickets/{ticket['id']}/claim", json={}).status_code == 200
        else:
            assert not_deployed(submitted)
            assert client.get("/open311/v2/services.json").status_code == 503

        record = bureau.post("/api/v1/credit/records", json={
            "company_id": company_id, "compound_id": home, "item_code": "fee_violation",
            "evidence_note": "超标准收费 overcharging"})
        if "ratings" in deployed:
            assert record.status_code == 201, record.text
            assert bureau.get(f"/api/v1/credit/scores/{company_id}").status_code == 200
        else:
            assert not_deployed(record) and not_deployed(bureau.get("/api/v1/rankings"))

        board = client.get(f"/api/v1/public/compounds/{home}/disclosures")  # no token
        if "notifications" in deployed:
            assert board.status_code == 200 and board.json()["compound"]["id"] == home
            if "tickets" in deployed:  # the company hears of the ticket
                wait_until(lambda: any(ticket["code"] in m["title"]
                                       for m in company.get("/api/v1/inbox").json()["items"]), timeout=30)
        else:
            assert not_deployed(board) and not_deployed(company.get("/api/v1/inbox"))
