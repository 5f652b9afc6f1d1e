"""No event is lost and no effect is applied twice, with real processes killed on the real broker."""
import json

import pytest
import requests
from kombu import Connection

from kit import metrics
from kit.contracts import open_envelope
from kit.messaging import list_parked, replay_parked
from kit.rpc import standalone_call
from kit.testing import (ApiClient, Process, db_value, environment_for, free_port, load_demo, migrate, running,
                         wait_until)
from tests.probe import PROBE, Listener, register_company

pytestmark = [pytest.mark.integration, pytest.mark.fault]


@pytest.fixture
def probe_settings(settings_factory, tmp_path):
    return settings_factory(services={"probe": {"db_url": f"sqlite:///{tmp_path / 'probe.db'}",
                                                "metrics_port": free_port()}})


def test_event_written_before_a_kill_is_published_after_restart(settings):
    migrate(settings)
    listener = Listener(settings, "organizations.company_registered")
    env = environment_for(settings)
    silent = Process(environment_for(settings, outbox={"relay": False}), "organizations").start()
    try:
        wait_until(lambda: _answers(settings), timeout=30)
        company = register_company(settings, "先提交后发布物业", 1)
        assert db_value(settings, "organizations", "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 1
        assert listener.empty()
    finally:
        silent.kill()  # SIGKILL after the commit, before any publish
    restarted = Process(env, "organizations").start()
    try:
        (event,) = listener.take(1)
        assert event["data"]["company_id"] == company["id"]
        open_envelope(event)
        wait_until(lambda: db_value(settings, "organizations", "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0)
    finally:
        restarted.stop()
        listener.close()


def _answers(settings):
    try:
        return standalone_call(settings, "organizations", "ping", timeout=2)["ok"]
    except Exception:
        return False


@pytest.mark.parametrize("point", ["before_commit", "after_commit"])
def test_consumer_killed_mid_handler_applies_its_effect_once(probe_settings, tmp_path, point):
    settings = probe_settings
    migrate(settings)
    marker = tmp_path / "in-handler"
    env = environment_for(settings)
    probe = Process(env, PROBE, {"PROBE_PAUSE": point, "PROBE_MARKER": str(marker)}).start()
    with running(settings, "organizations"):
        wait_until(lambda: _consuming(settings, "redprop.probe.on_company_registered"), timeout=30)
        register_company(settings, "中途被杀物业", 2)
        wait_until(marker.exists, timeout=30)
        probe.kill()
        restarted = Process(env, PROBE).start()
        try:
            wait_until(lambda: db_value(settings, "probe", "SELECT count(*) FROM effects") >= 1, timeout=30)
            wait_until(lambda: _drained(settings, "redprop.probe.on_company_registered"), timeout=30)
            assert db_value(settings, "probe", "SELECT count(*) FROM effects") == 1
            assert db_value(settings, "probe", "SELECT count(*) FROM inbox") == 1
        finally:
            restarted.stop()


def _queue_state(settings, name):
    with Connection(settings["amqp_uri"]) as connection:
        _q, messages, consumers = connection.default_channel.queue_declare(name, passive=True)
        return messages, consumers


def _consuming(settings, name):
    try:
        return _queue_state(settings, name)[1] > 0
    except Exception:
        return False


def _drained(settings, name):
    messages, _consumers = _queue_state(settings, name)
    return messages == 0


def test_poison_message_is_parked_and_the_others_keep_flowing(probe_settings):
    settings = probe_settings
    migrate(settings)
    parked_before = metrics.MESSAGES_PARKED.labels(queue="redprop.probe.on_company_registered")._value.get()
    with running(settings, "organizations", PROBE):
        register_company(settings, "正常物业甲", 3)
        poison = register_company(settings, "POISON 物业", 4)
        register_company(settings, "正常物业乙", 5)
        wait_until(lambda: db_value(settings, "probe", "SELECT count(*) FROM effects") == 2, timeout=30)
        parked = wait_until(lambda: list_parked(settings), timeout=30)
        assert len(parked) == 1
        assert parked[0]["queue"] == "redprop.probe.on_company_registered"
        assert parked[0]["attempts"] == settings["messaging"]["max_attempts"]
        assert "always fails" in parked[0]["reason"]
        assert parked[0]["event_type"] == "company_registered"
        assert metrics.MESSAGES_PARKED.labels(queue=parked[0]["queue"])._value.get() == parked_before + 1
        # replay sends it back; it fails its attempts again and is parked again, nothing else is affected
        assert replay_parked(settings, event_id=parked[0]["event_id"]) == 1
        wait_until(lambda: metrics.MESSAGES_PARKED.labels(queue=parked[0]["queue"])._value.get()
                   == parked_before + 2, timeout=30)
        assert len(list_parked(settings)) == 1
        assert db_value(settings, "probe", "SELECT count(*) FROM effects") == 2
        assert db_value(settings, "probe", f"SELECT count(*) FROM effects WHERE company_id = {poison['id']}") == 0


def test_every_published_event_matches_its_contract(settings):
    migrate(settings)
    listener = Listener(settings, "organizations.#")
    load_demo(settings)
    expected = db_value(settings, "organizations", "SELECT count(*) FROM outbox")
    try:
        with running(settings, "organizations"):
            events = listener.take(expected, timeout=120)
        assert len({e["event_id"] for e in events}) == expected
        for event in events:
            open_envelope(event)  # raises on any payload that breaks its contract
        text_of_all = json.dumps(events, ensure_ascii=False)
        assert "1380635" not in text_of_all  # demo people's phone numbers never travel in events
    finally:
        listener.close()


def test_processes_serve_metrics_and_stop_promptly(settings):
    migrate(settings)
    load_demo(settings)
    env = environment_for(settings)
    organizations = Process(env, "organizations").start()
    gateway = Process(env, "gateway").start()
    try:
        client = ApiClient(f"http://127.0.0.1:{settings['gateway']['port']}")
        wait_until(lambda: _ok(client, "/health/ready"), timeout=30)
        client.login("bureau")
        assert client.get("/api/v1/compounds?page_size=5").status_code == 200
        gateway_metrics = requests.get(f"http://127.0.0.1:{settings['gateway']['metrics_port']}/metrics").text
        assert 'redprop_http_requests_total{method="GET",route="/api/v1/compounds",status="200"} 1.0' \
            in gateway_metrics
        assert "redprop_http_request_latency_seconds_bucket" in gateway_metrics
        port = settings.service("organizations")["metrics_port"]
        service_metrics = requests.get(f"http://127.0.0.1:{port}/metrics").text
        assert 'redprop_entrypoint_calls_total{entrypoint="list_compounds",kind="RpcEntrypoint",outcome="ok",' \
               'service="organizations"} 1.0' in service_metrics
        assert "redprop_entrypoint_latency_seconds_bucket" in service_metrics
        assert 'redprop_outbox_backlog{service="organizations"} 0.0' in wait_until(
            lambda: _metrics_with(port, 'redprop_outbox_backlog{service="organizations"} 0.0'), timeout=60)
        assert "redprop_parked_messages" in service_metrics
    finally:
        for process in (gateway, organizations):
            process.proc.terminate()
        for process in (gateway, organizations):
            assert process.proc.wait(timeout=15) is not None  # SIGTERM is honoured promptly


def _ok(client, path):
    try:
        return client.get(path).status_code == 200
    except requests.ConnectionError:
        return False


def _metrics_with(port, line):
    text_ = requests.get(f"http://127.0.0.1:{port}/metrics").text
    return text_ if line in text_ else None
