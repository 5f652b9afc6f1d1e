"""Tickets keeps working without organizations, loses no event when killed, applies each event once."""
import json

import pytest
from kombu import Connection
from nameko.runners import ServiceRunner

from kit import config
from kit.contracts import make_envelope, open_envelope
from kit.messaging import events_exchange
from kit.runner import service_class
from kit.testing import ApiClient, Process, db_value, environment_for, load_demo, migrate, running, wait_until
from tests.probe import Listener

pytestmark = [pytest.mark.integration, pytest.mark.fault]
SERVICES = ("organizations", "tickets")


@pytest.fixture
def settings(settings_factory):
    return settings_factory(deployed=SERVICES)


def start(settings, name):
    runner = ServiceRunner(config.nameko_config(settings, name))
    runner.add_service(service_class(name))
    runner.start()
    return runner


def elevator_report():
    return {"category_code": "repair.elevator", "title": "电梯停运", "description": "2号楼电梯不动了"}


def test_tickets_are_taken_and_routed_while_organizations_is_down(settings):
    migrate(settings, SERVICES)
    load_demo(settings)
    organizations = start(settings, "organizations")
    with running(settings, "tickets", "gateway"):
        client = ApiClient(f"http://127.0.0.1:{settings['gateway']['port']}")
        wait_until(lambda: db_value(settings, "tickets", "SELECT count(*) FROM sync_state") == 1, timeout=60)
        resident, company = client.as_user("resident1"), client.as_user("company1")  # tokens before it goes
        organizations.stop()
        services = {s["name"]: s for s in client.get("/api/v1/services").json()["services"]}
        assert services["organizations"]["healthy"] is False and services["tickets"]["healthy"] is True
        submitted = resident.post("/api/v1/tickets", json=elevator_report())
        assert submitted.status_code == 201, submitted.text
        assert submitted.json()["handler_kind"] == "company"
        claimed = company.post(f"/api/v1/tickets/{submitted.json()['id']}/claim")
        assert claimed.status_code == 200 and claimed.json()["status"] == "claimed"
        assert client.get("/api/v1/ratings").status_code in (404, 503)


def test_the_same_registry_event_twice_changes_nothing_and_older_news_loses(settings):
    migrate(settings, SERVICES)
    load_demo(settings)
    with running(settings, "organizations", "tickets"):
        wait_until(lambda: db_value(settings, "tickets", "SELECT count(*) FROM sync_state") == 1, timeout=60)
        row = db_value(settings, "tickets", "SELECT id FROM compound_copies ORDER BY id LIMIT 1")
        state = {"compound_id": row, "code": "DUP", "name": "重复投递小区", "community_id": 3, "region_path": "/1/2/3/",
                 "households": 1, "floor_area": 1.0, "old_compound": False, "management_mode": "none",
                 "company_id": None, "contract_id": None, "owner_organization_id": None,
                 "owner_organization_type": None, "party_branch_id": None, "three_without": True}
        fresh = make_envelope("organizations", "compound_updated", state)
        stale = make_envelope("organizations", "compound_updated", {**state, "name": "过时的名字"})
        stale["occurred_at"] = "2020-01-01T00:00:00Z"
        with Connection(settings["amqp_uri"]) as connection:
            producer = connection.Producer()
            for envelope in (fresh, fresh, stale):
                producer.publish(envelope, exchange=events_exchange(settings),
                                 routing_key="organizations.compound_updated", serializer="json", delivery_mode=2,
                                 declare=[events_exchange(settings)])
        wait_until(lambda: db_value(settings, "tickets", f"SELECT count(*) FROM inbox WHERE event_id IN "
                                                       f"('{fresh['event_id']}', '{stale['event_id']}')") == 2,
                   timeout=30)
        assert db_value(settings, "tickets", f"SELECT name FROM compound_copies WHERE id = {row}") == "重复投递小区"
        assert db_value(settings, "tickets", f"SELECT count(*) FROM inbox WHERE event_id = '{fresh['event_id']}'") == 1


def test_a_ticket_committed_before_a_kill_is_announced_after_restart(settings):
    migrate(settings, SERVICES)
    load_demo(settings)
    listener = Listener(settings, "tickets.ticket_submitted")
    with running(settings, "organizations", "gateway"):
        client = ApiClient(f"http://127.0.0.1:{settings['gateway']['port']}")
        resident = client.as_user("resident1")
        silent = Process(environment_for(settings, outbox={"relay": False}), "tickets").start()
        try:
            wait_until(lambda: db_value(settings, "tickets", "SELECT count(*) FROM sync_state") == 1, timeout=60)
            submitted = resident.post("/api/v1/tickets", json=elevator_report())
            assert submitted.status_code == 201
            assert db_value(settings, "tickets", "SELECT count(*) FROM outbox WHERE published_at IS NULL "
                                               "AND event_type = 'ticket_submitted'") == 1
            assert listener.empty()
        finally:
            silent.kill()
        restarted = Process(environment_for(settings), "tickets").start()
        try:
            (event,) = listener.take(1, timeout=60)
            open_envelope(event)
            assert event["data"]["ticket_id"] == submitted.json()["id"]
            assert "电梯" not in json.dumps(event, ensure_ascii=False)  # no free text travels
        finally:
            restarted.stop()
            listener.close()
