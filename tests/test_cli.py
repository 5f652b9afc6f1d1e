"""The operator's commands against a test vhost and database."""
import os
import subprocess
import sys

import pytest

from kit.config import ROOT
from kit.testing import environment_for, migrate, running, wait_until
from tests.probe import PROBE, register_company

pytestmark = pytest.mark.integration


def redprop(settings, *args, timeout=60):
    env = {**os.environ, **environment_for(settings), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "redprop.cli", *args], env=env, cwd=str(ROOT), timeout=timeout,
                          capture_output=True, text=True)


@pytest.fixture
def settings(settings_factory, tmp_path):
    from kit.testing import free_port
    return settings_factory(services={"probe": {"db_url": f"sqlite:///{tmp_path / 'probe.db'}",
                                                "metrics_port": free_port()}})


def test_status_events_tail_and_dead_letters(settings):
    migrate(settings)
    env = {**os.environ, **environment_for(settings), "PYTHONPATH": str(ROOT)}
    tail = subprocess.Popen([sys.executable, "-m", "redprop.cli", "events", "tail", "--count", "1",
                             "--pattern", "organizations.company_registered"], env=env, cwd=str(ROOT),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with running(settings, "organizations", PROBE):
        wait_until(lambda: "listening" in (tail.stderr.readline() or ""), timeout=30)
        register_company(settings, "POISON 命令行物业", 11)
        out, _ = tail.communicate(timeout=30)
        assert '"event_type": "company_registered"' in out
        status = redprop(settings, "status")
        assert status.returncode == 0, status.stderr
        assert "organizations" in status.stdout and "1 consumer(s)" in status.stdout
        wait_until(lambda: "1 parked message(s)" in redprop(settings, "dlq", "list").stderr, timeout=60)
        listed = redprop(settings, "dlq", "list")
        assert "redprop.probe.on_company_registered" in listed.stdout and "always fails" in listed.stdout
        replayed = redprop(settings, "dlq", "replay", "--queue", "redprop.probe.on_company_registered")
        assert "replayed 1 message(s)" in replayed.stdout


def test_demo_refuses_production_and_a_second_load(settings):
    refused = subprocess.run([sys.executable, "-m", "redprop.cli", "demo"], cwd=str(ROOT), capture_output=True,
                             text=True, env={**os.environ, **environment_for(settings), "PYTHONPATH": str(ROOT),
                                             "REDPROP_ENV": "production", "REDPROP_JWT_SECRET": "x" * 32})
    assert refused.returncode != 0 and "production" in refused.stderr
    first = redprop(settings, "demo", timeout=180)
    assert first.returncode == 0, first.stderr
    assert "community1" in first.stdout
    second = redprop(settings, "demo")
    assert second.returncode != 0 and "not empty" in second.stderr
