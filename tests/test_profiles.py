"""County profiles: organizations alone answers 503 for the rest; a silent service answers 504."""
import os
import signal
import subprocess
import sys

import pytest

from kit.config import ROOT
from kit.testing import answers, ApiClient, environment_for, migrate, running, wait_until

pytestmark = pytest.mark.integration



def test_redprop_up_organizations_alone(settings):
    """The README's run command with one service: the demo county loads and other services answer 503."""
    env = {**os.environ, **environment_for(settings), "PYTHONPATH": str(ROOT)}
    env.pop("REDPROP_DEPLOYED", None)
    up = subprocess.Popen([sys.executable, "-m", "redprop.cli", "up", "organizations"], env=env, cwd=str(ROOT),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        client = ApiClient(f"http://127.0.0.1:{settings['gateway']['port']}")
        wait_until(lambda: answers(client, "/health/ready"), timeout=120)
        client.login("bureau")
        assert client.get("/api/v1/stats/coverage").json()["compounds"] == 238
        for method, path in (("GET", "/api/v1/tickets"), ("POST", "/api/v1/tickets/1/claim"),
                             ("GET", "/api/v1/tickets/1/claim"), ("GET", "/api/v1/evaluations"),
                             ("GET", "/api/v1/credit/scores"), ("GET", "/api/v1/inbox"),
                             ("GET", "/api/v1/public/compounds/1/disclosures")):
            answer = client.request(method, path)
            assert answer.status_code == 503, path
            assert answer.json()["error"] == "service_not_deployed"
        georeport = client.get("/open311/v2/services.json")  # GeoReport's own error format
        assert georeport.status_code == 503 and georeport.json()[0]["code"] == 503
        deployed = {s["name"]: s["deployed"] for s in client.get("/api/v1/services").json()["services"]}
        assert deployed == {"organizations": True, "tickets": False, "ratings": False, "notifications": False}
    finally:
        os.killpg(up.pid, signal.SIGTERM)
        output, _ = up.communicate(timeout=30)
    assert "resident1" in output and "http://localhost:" in output  # demo accounts and the URL were printed


def test_a_deployed_service_that_does_not_answer_gives_504(settings_factory):
    settings = settings_factory(rpc={"timeout": 1})
    migrate(settings)
    with running(settings, "organizations"):
        pass  # its RPC queue now exists; nobody consumes it any more
    with running(settings, "gateway"):
        client = ApiClient(f"http://127.0.0.1:{settings['gateway']['port']}")
        wait_until(lambda: answers(client, "/health"), timeout=15)
        answer = client.post("/api/v1/auth/token", json={"username": "bureau", "password": "demo"})
        assert answer.status_code == 504 and answer.json()["error"] == "upstream_timeout"
        services = {s["name"]: s for s in client.get("/api/v1/services").json()["services"]}
        assert services["organizations"]["healthy"] is False
        assert client.get("/health/ready").status_code == 503


def test_a_listed_service_that_never_ran_answers_503(settings_factory):
    settings = settings_factory(deployed=["organizations", "tickets"])
    with running(settings, "gateway"):
        client = ApiClient(f"http://127.0.0.1:{settings['gateway']['port']}")
        wait_until(lambda: answers(client, "/health"), timeout=15)
        answer = client.post("/api/v1/auth/token", json={"username": "bureau", "password": "demo"})
        assert answer.status_code == 503 and answer.json()["error"] == "service_not_deployed"
