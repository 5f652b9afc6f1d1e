"""Notifications stopped for a while and started again: what happened meanwhile reaches the inbox, once."""
import time

import pytest

from kit.testing import ApiClient, db_value, load_demo, migrate, running, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.fault]
SERVICES = ("organizations", "tickets", "notifications")


@pytest.fixture
def settings(settings_factory):
    return settings_factory(deployed=SERVICES)


def submitted_messages(company, codes):
    items = company.get("/api/v1/inbox", params={"page_size": 500}).json()["items"]
    return [m for m in items if m["event_type"] == "ticket_submitted" and any(c in m["title"] for c in codes)]


def test_events_while_notifications_is_down_are_delivered_once_after_restart(settings):
    migrate(settings, SERVICES)
    load_demo(settings)
    with running(settings, "organizations", "tickets", "gateway"):
        client = ApiClient(f"http://127.0.0.1:{settings['gateway']['port']}")
        with running(settings, "notifications"):  # first start: copies the registry and its memberships
            memberships = db_value(settings, "organizations", "SELECT count(*) FROM memberships")
            wait_until(lambda: db_value(settings, "notifications", "SELECT count(*) FROM membership_copies")
                       >= memberships, timeout=60)
        wait_until(lambda: db_value(settings, "tickets", "SELECT count(*) FROM sync_state") == 1, timeout=60)
        resident, company = client.as_user("resident1"), client.as_user("company1")
        codes = [resident.post("/api/v1/tickets", json={
            "category_code": "repair.elevator", "title": f"电梯故障 {n}", "description": "停运"}).json()["code"]
            for n in range(3)]
        assert company.get("/api/v1/inbox").status_code in (503, 504)  # notifications is down
        with running(settings, "notifications"):
            wait_until(lambda: len(submitted_messages(company, codes)) == 3, timeout=60)
        with running(settings, "notifications"):  # and a further restart sends nothing again
            time.sleep(2)  # time to redeliver, if anything were left unacknowledged
            assert len(submitted_messages(company, codes)) == 3
            assert len({m["title"] for m in submitted_messages(company, codes)}) == 3
