"""Notifications with organizations and tickets: inbox messages for the people an event concerns, and a webhook
subscriber (a real HTTP server in its own process) that verifies signatures and, failing three times, is retried
with backoff and gets each event once. Runs on SQLite and PostgreSQL."""
import datetime as dt
import json
import subprocess
import sys

import pytest

from kit.config import ROOT
from kit.testing import call, db_value, free_port, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def county(notifications_county):
    settings, client = notifications_county
    memberships = db_value(settings, "organizations", "SELECT count(*) FROM memberships")
    wait_until(lambda: db_value(settings, "notifications", "SELECT count(*) FROM membership_copies") >= memberships,
               timeout=60)
    return settings, client


def report(client, title):
    submitted = client.as_user("resident1").post("/api/v1/tickets", json={
        "category_code": "repair.elevator", "title": title, "description": "电梯停在3楼不动"})
    assert submitted.status_code == 201, submitted.text
    return submitted.json()


def messages(user, **query):
    return user.get("/api/v1/inbox", params=query).json()


def test_a_ticket_reaches_the_company_and_an_escalation_the_community(county):
    settings, client = county
    ticket = report(client, "电梯停运 inbox")
    company = client.as_user("company1")
    wait_until(lambda: any(ticket["code"] in m["title"] for m in messages(company)["items"]), timeout=30)
    message = next(m for m in messages(company)["items"] if ticket["code"] in m["title"])
    assert message["event_type"] == "ticket_submitted" and message["link"] == f"/api/v1/tickets/{ticket['id']}"
    assert "新工单" in message["title"] and message["read_at"] is None
    assert "电梯停在" not in message["body"]  # the report's own words (and the reporter) stay in tickets
    unread = company.get("/api/v1/inbox/unread-count").json()["unread"]
    assert company.post(f"/api/v1/inbox/{message['id']}/read").json()["read_at"] is not None
    assert company.get("/api/v1/inbox/unread-count").json()["unread"] == unread - 1
    assert client.as_user("company2").post(f"/api/v1/inbox/{message['id']}/read").status_code == 404

    later = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%S")
    call(settings, "tickets", "sweep_deadlines", now=later)
    community = client.as_user("community1")
    wait_until(lambda: any(m["event_type"] == "ticket_escalated" and ticket["code"] in m["title"]
                           for m in messages(community)["items"]), timeout=30)
    escalated = next(m for m in messages(community)["items"] if m["event_type"] == "ticket_escalated")
    assert "升级" in escalated["title"]
    assert not any(m["event_type"] == "ticket_escalated" for m in messages(client.as_user("community2"))["items"])


@pytest.fixture
def receiver(tmp_path):
    started = []

    def start(port, secret, fail_first):
        log = tmp_path / "received.jsonl"
        log.touch()
        process = subprocess.Popen([sys.executable, "-m", "tests.probe.webhook_receiver", str(port), secret,
                                    str(log), str(fail_first)], cwd=str(ROOT))
        started.append(process)
        return log
    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=10)


def test_a_failing_subscriber_is_retried_with_backoff_and_gets_each_event_once(county, receiver):
    settings, client = county
    admin = client.as_user("admin")
    port = free_port()
    created = admin.post("/api/v1/webhooks", json={
        "name": "12345 hotline", "url": f"http://127.0.0.1:{port}/events", "event_types": ["tickets.ticket_submitted"]})
    assert created.status_code == 201, created.text
    subscription = created.json()
    assert subscription["secret"] and "secret" not in admin.get(f"/api/v1/webhooks/{subscription['id']}").json()
    assert client.as_user("resident1").post("/api/v1/webhooks", json={
        "name": "my system", "url": "http://127.0.0.1:1/", "event_types": ["*"]}).status_code == 403

    log = receiver(port, subscription["secret"], fail_first=3)
    wait_until(lambda: _listening(port), timeout=10)
    report(client, "电梯停运 webhook")

    def received():
        return [json.loads(line) for line in log.read_text().splitlines()]
    wait_until(lambda: any(r["answered"] == 204 for r in received()), timeout=60)
    ours = [r for r in received() if r["event_type"] == "ticket_submitted"]
    assert [r["answered"] for r in ours] == [500, 500, 500, 204]
    assert all(r["signature_ok"] for r in ours) and len({r["event_id"] for r in ours}) == 1
    gaps = [b["at"] - a["at"] for a, b in zip(ours, ours[1:])]
    assert gaps == sorted(gaps), gaps  # the waits grow: backoff

    deliveries = admin.get(f"/api/v1/webhooks/{subscription['id']}/deliveries").json()["items"]
    mine = [d for d in deliveries if d["event_id"] == ours[0]["event_id"]]
    assert len(mine) == 1 and mine[0] | {"status": "sent", "attempts": 4, "last_status_code": 204} == mine[0]
    report(client, "电梯又停 webhook")  # the next event goes through at once, and the first is not sent again
    wait_until(lambda: len([r for r in received() if r["answered"] == 204]) == 2, timeout=30)
    assert len({r["event_id"] for r in received() if r["answered"] == 204}) == 2


def _listening(port):
    import socket
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0
