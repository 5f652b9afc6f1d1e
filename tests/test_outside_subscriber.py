"""infra/rabbitmq/definitions.json on a real broker: every process on its own narrow user, and an outside subscriber.

The county here runs like production: the users, permissions, topic permissions, policies and exchanges of
definitions.json are imported into the test's temporary vhost (users renamed with a unique prefix, since users are
broker-wide; their development passwords unchanged), the migrate step declares the topology as `ops`, and each
service and the gateway connect as their own user. An outside subscriber in its own process, written with pika and
the read-only user, follows a ticket's life and checks every event against docs/asyncapi.yaml. One run uses classic
queues and SQLite, the other quorum queues (where the policies' delivery limit and dead-lettering act) and PostgreSQL.
"""
import contextlib
import json
import subprocess
import sys
import uuid
from urllib.parse import quote

import pika
import pytest
import requests
from pika.exceptions import ChannelClosedByBroker

from kit.config import ROOT, Settings
from kit.messaging import declare_topology, list_parked, replay_parked, subscriptions
from kit.migrations import upgrade
from kit.runner import service_class
from kit.testing import (RABBIT_HOST, RABBIT_MANAGEMENT, ApiClient, build_settings, db_value, load_demo, running,
                         temporary_vhost, wait_until)
from tests.probe.outside_subscriber import Contracts

pytestmark = pytest.mark.integration

DEFINITIONS = ROOT / "infra" / "rabbitmq" / "definitions.json"
ASYNCAPI = ROOT / "docs" / "asyncapi.yaml"
SERVICES = ("organizations", "tickets", "ratings", "notifications")
OUTSIDER = "ext-hotline"  # the read-only user of definitions.json; its queues are ext.hotline.*
LIFE = {"ticket_submitted", "ticket_claimed", "ticket_started", "ticket_resolved", "ticket_rated", "ticket_closed"}


def dev_password(user):
    return f"{user}-dev-password"  # the documented development passwords behind the hashes in definitions.json


def import_definitions(vhost, prefix):
    """definitions.json's users (renamed), permissions, topic permissions, policies and exchanges, into `vhost`."""
    definitions = json.loads(DEFINITIONS.read_text(encoding="utf-8"))
    (source_vhost,) = [v["name"] for v in definitions["vhosts"]]

    def local(entry, renamed=True):
        assert entry["vhost"] == source_vhost
        entry = {**entry, "vhost": vhost}
        if renamed and "user" in entry:
            entry["user"] = prefix + entry["user"]
        return entry
    users = [{**u, "name": prefix + u["name"]} for u in definitions["users"] if "administrator" not in u["tags"]]
    body = {"users": users,
            "permissions": [local(p) for p in definitions["permissions"] if p["user"] != "admin"],
            "topic_permissions": [local(t) for t in definitions["topic_permissions"]],
            "policies": [local(p, renamed=False) for p in definitions["policies"]],
            "exchanges": [local(e, renamed=False) for e in definitions["exchanges"]],
            "queues": [local(q, renamed=False) for q in definitions["queues"]],
            "bindings": [local(b, renamed=False) for b in definitions["bindings"]]}
    requests.post(f"{RABBIT_MANAGEMENT}/api/definitions", json=body, timeout=30).raise_for_status()
    return [u["name"] for u in users]


def amqp_url(prefix, user, vhost):
    return f"amqp://{quote(prefix + user, safe='')}:{dev_password(user)}@{RABBIT_HOST}/{quote(vhost, safe='')}"


@contextlib.contextmanager
def channel_of(url):
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        yield connection
    finally:
        if connection.is_open:
            connection.close()


def refused(connection, action):
    """Run `action(channel)` on a fresh channel; True when the broker closes the channel with ACCESS_REFUSED."""
    channel = connection.channel()
    channel.confirm_delivery()  # a refused publish then surfaces here, not silently later
    try:
        action(channel)
    except ChannelClosedByBroker as exc:
        return exc.reply_code == 403
    channel.close()
    return False


@pytest.fixture(scope="module", params=[("sqlite", "classic"), ("postgresql", "quorum")], ids=lambda p: "-".join(p))
def narrow_county(request, tmp_path_factory):
    """Organizations, tickets, ratings, notifications and the gateway, each on its own user from definitions.json,
    with the demo county: (settings, client, user URLs by definitions name, vhost)."""
    database_kind, queue_type = request.param
    prefix = f"redprop-test-{uuid.uuid4().hex[:8]}-"
    with contextlib.ExitStack() as stack:
        guest_uri = stack.enter_context(temporary_vhost())
        vhost = guest_uri.rsplit("/", 1)[1]
        users = import_definitions(vhost, prefix)
        stack.callback(lambda: [requests.delete(f"{RABBIT_MANAGEMENT}/api/users/{quote(u, safe='')}", timeout=10)
                                for u in users])
        settings = build_settings(stack, guest_uri, tmp_path_factory.mktemp("narrow"), database_kind,
                                  deployed=SERVICES, messaging={"queue_type": queue_type})
        urls = {u.removeprefix(prefix): amqp_url(prefix, u.removeprefix(prefix), vhost) for u in users}
        as_user = {name: Settings({**settings, "amqp_uri": urls[name]}) for name in (*SERVICES, "gateway", "ops")}
        for name in SERVICES:
            upgrade(name, settings.db_url(name))
            declare_topology(as_user["ops"], name, service_class(name))  # `redprop migrate` runs as ops
            declare_topology(as_user[name], name, service_class(name))  # and kit.runner again, as the service
        load_demo(settings)
        for name in (*SERVICES, "gateway"):
            stack.enter_context(running(as_user[name], name))
        client = ApiClient(f"http://127.0.0.1:{settings['gateway']['port']}")
        wait_until(lambda: client.get("/health").status_code == 200, timeout=15)
        for copier in ("tickets", "ratings", "notifications"):
            wait_until(lambda: db_value(settings, copier, "SELECT count(*) FROM sync_state") > 0, timeout=60)
        yield settings, client, urls, vhost


@contextlib.contextmanager
def outside_subscriber(url, tmp_path, *patterns, name="hotline"):
    """The subscriber in its own process (no platform code, not monkey-patched); yields a reader of its lines."""
    out = tmp_path / f"subscriber-{uuid.uuid4().hex[:6]}.jsonl"
    command = [sys.executable, str(ROOT / "tests" / "probe" / "outside_subscriber.py"), "--url", url,
               "--name", name, "--asyncapi", str(ASYNCAPI)] + [arg for p in patterns for arg in ("--bind", p)]
    with open(out, "wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, cwd=str(ROOT))

    def lines():
        assert process.poll() is None, out.read_text()
        text = out.read_text(encoding="utf-8")
        return [json.loads(line) for line in text.split("\n")[:-1] if line.startswith("{")]  # whole lines
    try:
        wait_until(lambda: any("ready" in line for line in lines()), timeout=30)
        yield lines
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def live_a_ticket(client):
    """A ticket's whole life through the gateway: reported, claimed, started, resolved, rated and closed."""
    resident, company = client.as_user("resident1"), client.as_user("company1")
    submitted = resident.post("/api/v1/tickets", json={"category_code": "repair.water_pressure",
                                                       "title": "顶楼水压不足", "description": "6号楼顶楼早晚水压很低"})
    assert submitted.status_code == 201, submitted.text
    tid = submitted.json()["id"]
    for action in ("claim", "start"):
        assert company.post(f"/api/v1/tickets/{tid}/{action}", json={}).status_code == 200
    assert company.post(f"/api/v1/tickets/{tid}/resolve", json={"note": "已更换加压泵"}).status_code == 200
    closed = resident.post(f"/api/v1/tickets/{tid}/accept", json={"satisfaction": "satisfied", "speed_score": 5,
                                                                  "attitude_score": 4})
    assert closed.status_code == 200 and closed.json()["status"] == "closed", closed.text
    return tid


def test_an_outside_subscriber_follows_a_tickets_life_and_validates_every_event(narrow_county, tmp_path):
    settings, client, urls, _vhost = narrow_county
    with outside_subscriber(urls[OUTSIDER], tmp_path, "tickets.#") as lines:
        tid = live_a_ticket(client)

        def life_seen():
            mine = [line for line in lines() if line.get("envelope", {}).get("data", {}).get("ticket_id") == tid]
            return mine if {line["event_type"] for line in mine} >= LIFE else None
        wait_until(life_seen, timeout=30)
        received = [line for line in lines() if "ready" not in line]
    assert received and all(line["routing_key"].startswith("tickets.") for line in received)
    assert [line for line in received if line["errors"] or line.get("unknown")] == []  # all match the document
    mine = [line for line in received if line.get("envelope", {}).get("data", {}).get("ticket_id") == tid]
    assert sorted(line["event_type"] for line in mine) == sorted(LIFE)  # each once
    for line in mine:
        envelope = line["envelope"]
        assert line["routing_key"] == f"tickets.{envelope['event_type']}" and envelope["source"] == "tickets"
        assert envelope["occurred_at"].endswith("Z")
        assert envelope["version"] in Contracts(ASYNCAPI).versions(line["routing_key"])
    # the same events reached the platform's own consumers, each on its own user
    by_id = {line["event_id"]: line["event_type"] for line in mine}
    for service, expected in (("ratings", {"ticket_submitted", "ticket_resolved", "ticket_rated"}),
                              ("notifications", {"ticket_submitted", "ticket_resolved"})):
        ids = ", ".join(f"'{event_id}'" for event_id in by_id)
        wait_until(lambda: db_value(settings, service, f"SELECT count(DISTINCT event_id) FROM inbox "
                                                       f"WHERE event_id IN ({ids})") >= len(expected), timeout=20)
        recorded = {by_id[event_id] for event_id in by_id
                    if db_value(settings, service, f"SELECT count(*) FROM inbox WHERE event_id = '{event_id}'")}
        assert recorded >= expected, (service, recorded)


def test_the_read_only_user_cannot_publish_or_declare_outside_its_names(narrow_county):
    _settings, _client, urls, _vhost = narrow_county
    with channel_of(urls[OUTSIDER]) as connection:
        own = connection.channel()
        own.queue_declare("ext.hotline.probe", durable=True)  # its own names work
        own.queue_bind("ext.hotline.probe", "redprop.events", "tickets.ticket_closed")
        own.queue_purge("ext.hotline.probe")
        envelope = json.dumps({"event_id": str(uuid.uuid4()), "event_type": "ticket_closed"}).encode()
        assert refused(connection, lambda ch: ch.basic_publish("redprop.events", "tickets.ticket_closed", envelope))
        assert refused(connection, lambda ch: ch.basic_publish("", "ext.hotline.probe", envelope))
        assert refused(connection, lambda ch: ch.basic_publish("nameko-rpc", "tickets.get_ticket", b"{}"))
        assert refused(connection, lambda ch: ch.queue_declare("hotline.events", durable=True))
        assert refused(connection, lambda ch: ch.queue_declare("ext.cityplatform.events", durable=True))
        assert refused(connection, lambda ch: ch.exchange_declare("hotline.exchange", "topic"))
        assert refused(connection, lambda ch: ch.exchange_declare("redprop.events", "topic", durable=True))
        assert refused(connection, lambda ch: ch.queue_bind("ext.hotline.probe", "redprop.events", "ratings.#"))
        assert refused(connection, lambda ch: ch.queue_bind("ext.hotline.probe", "nameko-rpc", "tickets.*"))
        assert refused(connection, lambda ch: ch.basic_get("rpc-tickets"))
        assert refused(connection, lambda ch: ch.basic_get("redprop.tickets.on_compound_registered"))
        assert refused(connection, lambda ch: ch.queue_delete("redprop.parked"))
        own.queue_delete("ext.hotline.probe")


def test_each_service_is_confined_to_its_own_names(narrow_county):
    _settings, _client, urls, _vhost = narrow_county
    fake = b'{"event_id": "00000000-0000-0000-0000-000000000000"}'
    with channel_of(urls["tickets"]) as tickets:
        assert refused(tickets, lambda ch: ch.basic_publish("redprop.events", "organizations.compound_updated", fake))
        assert refused(tickets, lambda ch: ch.basic_publish("nameko-rpc", "ratings.list_credit_records", b"{}"))
        assert refused(tickets, lambda ch: ch.queue_bind("rpc-tickets", "nameko-rpc", "organizations.*"))
        assert refused(tickets, lambda ch: ch.queue_declare("redprop.ratings.on_anything", durable=True))
        assert refused(tickets, lambda ch: ch.basic_get("rpc-organizations"))
    with channel_of(urls["gateway"]) as gateway:
        assert refused(gateway, lambda ch: ch.basic_publish("redprop.events", "tickets.ticket_closed", fake))
        assert refused(gateway, lambda ch: ch.basic_get("rpc-tickets"))
    with channel_of(urls["organizations"]) as organizations:
        assert refused(organizations, lambda ch: ch.basic_publish("redprop.events", "tickets.ticket_closed", fake))
        assert refused(organizations, lambda ch: ch.basic_publish("", "redprop.parked", fake))


def test_broken_events_are_parked_by_each_service_and_listed_by_ops(narrow_county):
    settings, _client, urls, vhost = narrow_county
    event_id = str(uuid.uuid4())
    broken = json.dumps({"event_id": event_id, "event_type": "region_created", "version": 1,
                         "source": "organizations", "occurred_at": "2025-01-01T00:00:00Z", "data": {"nope": 1}})
    with channel_of(f"amqp://guest:guest@{RABBIT_HOST}/{quote(vhost, safe='')}") as connection:
        connection.channel().basic_publish("redprop.events", "organizations.region_created", broken,
                                           pika.BasicProperties(content_type="application/json", delivery_mode=2))
    expected = {f"redprop.{service}.{method}" for service in SERVICES
                for method, source, event in subscriptions(service_class(service))
                if (source, event) == ("organizations", "region_created")}
    assert {q.split(".")[1] for q in expected} == {"tickets", "ratings", "notifications"}
    ops = Settings({**settings, "amqp_uri": urls["ops"]})

    def parked():
        found = {p["queue"]: p for p in list_parked(ops) if p["event_id"] == event_id}
        return found if set(found) == expected else None
    found = wait_until(parked, timeout=30)  # each service parked it (write on amq.default, its retry queue)
    assert all(p["reason"].startswith("contract") for p in found.values())
    assert replay_parked(ops, event_id=event_id) == len(expected)  # `redprop dlq replay` as ops: parked again
    wait_until(parked, timeout=30)


def test_policies_match_the_queues_the_code_declares(narrow_county):
    """The handler and delay-queue policies carry quorum-only keys (delivery-limit, dead-letter-strategy): RabbitMQ
    applies them to quorum queues only, and classic queues (development) run without them."""
    settings, _client, urls, vhost = narrow_county
    queue_type = settings["messaging"]["queue_type"]
    quorum = queue_type == "quorum"
    expected = {}
    for service in SERVICES:
        for method, _source, _event in subscriptions(service_class(service)):
            expected[f"redprop.{service}.{method}"] = "redprop-event-handlers" if quorum else None
            expected[f"redprop.{service}.{method}.retry"] = "redprop-retry-queues" if quorum else None
        expected[f"rpc-{service}"] = "redprop-rpc-requests"
    with channel_of(urls[OUTSIDER]) as connection:
        connection.channel().queue_declare("ext.hotline.policy-probe", durable=True)
    expected["ext.hotline.policy-probe"] = "ext-subscribers"

    def queues():  # the management API's view lags the broker by its statistics interval
        found = requests.get(f"{RABBIT_MANAGEMENT}/api/queues/{quote(vhost, safe='')}", timeout=30,
                             params={"columns": "name,policy,arguments"}).json()
        policy = {q["name"]: q.get("policy") or None for q in found}
        return found if {name: policy.get(name, "missing") for name in expected} == expected else None
    found = wait_until(queues, timeout=30)
    assert {q["arguments"].get("x-queue-type", "classic") for q in found if q["name"].startswith("redprop.")} \
        == {queue_type}
    if queue_type != "quorum":
        return
    # a message a handler's queue delivers more than the delivery limit goes to the parked queue (the broker does it)
    guest = f"amqp://guest:guest@{RABBIT_HOST}/{quote(vhost, safe='')}"
    probe = "redprop.tickets.on_probe_delivery_limit"
    with channel_of(guest) as connection:
        channel = connection.channel()
        channel.queue_declare(probe, durable=True, arguments={"x-queue-type": "quorum"})
        channel.basic_publish("", probe, b'{"event_id": "delivery-limit-probe"}',
                              pika.BasicProperties(content_type="application/json", delivery_mode=2))
        wait_until(lambda: requests.get(f"{RABBIT_MANAGEMENT}/api/queues/{quote(vhost, safe='')}/{probe}",
                                        timeout=10).json().get("policy") == "redprop-event-handlers", timeout=20)
        for _ in range(40):
            method, _props, _body = channel.basic_get(probe)
            if method is None:
                break
            channel.basic_nack(method.delivery_tag, requeue=True)
        channel.queue_delete(probe)
    ops = Settings({**settings, "amqp_uri": urls["ops"]})
    parked = wait_until(lambda: [p for p in list_parked(ops) if p["event_id"] == "delivery-limit-probe"], timeout=20)
    assert parked[0]["queue"] == probe and parked[0]["reason"] == "delivery_limit"
