"""Prometheus (infra/prometheus/): promtool accepts the configuration and the alert rules and passes the rules' unit
tests (alerts_test.yml); every alert is complete (for, severity, summary, description, a runbook section that exists)
and tested firing and not firing; and a real Prometheus server (Debian's `prometheus` package), configured from
infra/prometheus/prometheus.yml with the targets moved to the test's ports, scrapes every process of a running
platform, finds the platform's series and every metric the alerts use, and evaluates the rules without error.

Without promtool or prometheus the tests that need them are skipped, except in CI (CI=true), where they fail:
.ci/run installs the package."""
import contextlib
import copy
import os
import re
import shutil
import subprocess

import pytest
import requests
import yaml

from kit import config
from kit.config import ROOT
from kit.testing import (ApiClient, Process, answers, build_settings, db_value, environment_for, free_port,
                         load_demo, migrate, temporary_vhost, wait_until)

pytestmark = pytest.mark.integration

PROMETHEUS_DIR = ROOT / "infra" / "prometheus"
CONFIG = PROMETHEUS_DIR / "prometheus.yml"
RULES = PROMETHEUS_DIR / "alerts.yml"
RULE_TESTS = PROMETHEUS_DIR / "alerts_test.yml"
OPERATIONS = ROOT / "docs" / "OPERATIONS.md"
SERVICES = ("organizations", "tickets", "ratings", "notifications")
PROCESSES = (*SERVICES, "gateway")
SEVERITIES = {"critical", "warning", "info"}
METRIC_NAME = re.compile(r"\b((?:redprop|rabbitmq)_[a-z0-9_]+)\b")
BROKER_METRICS = "127.0.0.1:15692"  # the local broker's rabbitmq_prometheus, when it is enabled


def in_ci():
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def tool(name):
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (Debian: apt-get install prometheus)"
        if in_ci():
            pytest.fail(f"{message}; .ci/run should have installed it")
        pytest.skip(f"{message}; CI fails here instead of skipping")
    return path


def promtool(*args):
    result = subprocess.run([tool("promtool"), *args], cwd=str(ROOT), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"promtool {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def alert_rules():
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def referenced_metrics():
    """Metric names the alert expressions use (the platform's and the broker's)."""
    return {name for rule in alert_rules() for name in METRIC_NAME.findall(rule["expr"])}


def github_anchor(heading):
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


# ----- promtool -----

def test_promtool_accepts_the_configuration_and_its_rule_files():
    output = promtool("check", "config", str(CONFIG))
    assert "SUCCESS" in output and "1 rule files found" in output


def test_promtool_accepts_the_alert_rules():
    output = promtool("check", "rules", str(RULES))
    assert f"SUCCESS: {len(alert_rules())} rules found" in output


def test_the_alert_rules_pass_their_unit_tests():
    assert "SUCCESS" in promtool("test", "rules", str(RULE_TESTS))


# ----- the files themselves -----

def test_every_alert_has_a_duration_a_severity_and_a_runbook_that_exists():
    anchors = {github_anchor(line.lstrip("#")) for line in OPERATIONS.read_text(encoding="utf-8").splitlines()
               if line.startswith("#") and not line.startswith("#!")}
    names = [rule["alert"] for rule in alert_rules()]
    assert len(names) == len(set(names)), "alert names must be unique"
    for rule in alert_rules():
        name = rule["alert"]
        assert rule.get("for"), f"{name} has no `for:`"
        assert rule.get("labels", {}).get("severity") in SEVERITIES, f"{name}: severity must be one of {SEVERITIES}"
        annotations = rule.get("annotations", {})
        assert annotations.get("summary") and annotations.get("description"), f"{name} needs summary and description"
        runbook = annotations.get("runbook", "")
        assert runbook.startswith("docs/OPERATIONS.md#"), f"{name}: runbook must name a section of docs/OPERATIONS.md"
        assert runbook.split("#", 1)[1] in anchors, f"{name}: docs/OPERATIONS.md has no section {runbook!r}"


def test_every_alert_is_tested_firing_and_not_firing():
    cases = [case for test in yaml.safe_load(RULE_TESTS.read_text())["tests"] for case in test["alert_rule_test"]]
    firing = {case["alertname"] for case in cases if case.get("exp_alerts")}
    quiet = {case["alertname"] for case in cases if not case.get("exp_alerts")}
    names = {rule["alert"] for rule in alert_rules()}
    assert names - firing == set(), "alerts never shown firing in alerts_test.yml"
    assert names - quiet == set(), "alerts never shown quiet in alerts_test.yml"
    assert (firing | quiet) - names == set(), "alerts_test.yml tests alerts that alerts.yml does not have"


def test_the_scrape_config_names_every_process_on_its_default_port():
    defaults = config.load(environ={})
    ports = {name: defaults["gateway"]["metrics_port"] if name == "gateway" else defaults.service(name)["metrics_port"]
             for name in PROCESSES}
    jobs = {job["job_name"]: job for job in yaml.safe_load(CONFIG.read_text())["scrape_configs"]}
    targets = {}
    for static in jobs["redprop"]["static_configs"]:
        for target in static["targets"]:
            targets[static["labels"]["process"]] = int(target.rsplit(":", 1)[1])
    assert targets == ports


# ----- a real Prometheus against a running platform -----

def scrape_config_for(ports, prometheus_port, broker):
    """infra/prometheus/prometheus.yml for this test: the same jobs, labels and relabeling, the targets moved to the
    test's ports, scraped every second; the broker's job only when its metrics answer here."""
    tree = yaml.safe_load(CONFIG.read_text())
    tree["global"].update({"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"})
    tree["rule_files"] = [str(RULES)]
    jobs = []
    for job in copy.deepcopy(tree["scrape_configs"]):
        if job["job_name"] == "redprop":
            for static in job["static_configs"]:
                static["targets"] = [f"127.0.0.1:{ports[static['labels']['process']]}"]
        elif job["job_name"] == "rabbitmq":
            if not broker:
                continue
            job["static_configs"] = [{"targets": [BROKER_METRICS]}]
        elif job["job_name"] == "prometheus":
            job["static_configs"] = [{"targets": [f"127.0.0.1:{prometheus_port}"]}]
        jobs.append(job)
    tree["scrape_configs"] = jobs
    return tree


def broker_metrics_answer():
    try:
        return requests.get(f"http://{BROKER_METRICS}/metrics", timeout=2).status_code == 200
    except requests.RequestException:
        return False


class PrometheusServer:
    def __init__(self, directory, tree):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config_path = directory / "prometheus.yml"
        self.data = directory / "prometheus-data"
        self.log_path = directory / "prometheus.log"
        self.tree = tree
        self.proc = None

    def start(self):
        self.config_path.write_text(yaml.safe_dump(self.tree(self.port), sort_keys=False))
        promtool("check", "config", str(self.config_path))
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [tool("prometheus"), f"--config.file={self.config_path}", f"--storage.tsdb.path={self.data}",
                 f"--web.listen-address=127.0.0.1:{self.port}", "--storage.tsdb.retention.time=1h"],
                cwd=str(self.config_path.parent), stdout=log, stderr=subprocess.STDOUT)
        wait_until(self.ready, timeout=30)
        return self

    def ready(self):
        assert self.proc.poll() is None, f"prometheus exited:\n{self.log_path.read_text()[-3000:]}"
        try:
            return requests.get(f"{self.url}/-/ready", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def api(self, path, **params):
        answer = requests.get(f"{self.url}/api/v1/{path}", params=params, timeout=10)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["status"] == "success", body
        return body["data"]

    def query(self, expr):
        return self.api("query", query=expr)["result"]

    def labels_of(self, expr, label):
        return {series["metric"].get(label) for series in self.query(expr)}


@contextlib.contextmanager
def platform_processes(directory):
    """The whole platform with the demo county on SQLite, each service and the gateway its own process."""
    with contextlib.ExitStack() as stack:
        uri = stack.enter_context(temporary_vhost())
        settings = build_settings(stack, uri, directory, "sqlite", deployed=SERVICES)
        migrate(settings, SERVICES)
        load_demo(settings)
        env = environment_for(settings)
        for name in PROCESSES:
            process = Process(env, name)
            stack.callback(process.stop)
            process.start()
        client = ApiClient(f"http://127.0.0.1:{settings['gateway']['port']}")
        wait_until(lambda: answers(client, "/health/ready"), timeout=60)
        for copier in SERVICES[1:]:
            wait_until(lambda: db_value(settings, copier, "SELECT count(*) FROM sync_state") > 0, timeout=60)
        yield settings, client



def metrics_ports(settings):
    return {name: settings["gateway"]["metrics_port"] if name == "gateway" else settings.service(name)["metrics_port"]
            for name in PROCESSES}


def test_a_real_prometheus_scrapes_every_process_and_finds_the_platform_series(tmp_path):
    tool("prometheus")
    broker = broker_metrics_answer()
    with contextlib.ExitStack() as stack:
        settings, client = stack.enter_context(platform_processes(tmp_path))
        ports = metrics_ports(settings)
        server = PrometheusServer(tmp_path, lambda own_port: scrape_config_for(ports, own_port, broker))
        stack.callback(server.stop)
        server.start()

        # every process is scraped and up
        def all_up():
            up = {series["metric"]["process"]: series["value"][1] for series in server.query('up{job="redprop"}')}
            return up if set(up) == set(PROCESSES) and set(up.values()) == {"1"} else None
        try:
            wait_until(all_up, timeout=60, interval=0.5)
        except TimeoutError:
            pytest.fail(f"not every process is up: {server.query('up')}")
        jobs = {series["metric"]["job"]: series["value"][1] for series in server.query("up")}
        assert jobs.get("prometheus") == "1"
        if broker:
            assert jobs.get("rabbitmq") == "1"

        # a little traffic once every process has been scraped (so rates see it grow): log in, look around, report
        # a ticket, ask for something that is not there
        resident = client.as_user("resident1")
        assert resident.get("/api/v1/me").status_code == 200
        submitted = resident.post("/api/v1/tickets", json={"category_code": "repair.elevator",
                                                           "title": "电梯故障 metrics", "description": "电梯异响"})
        assert submitted.status_code == 201, submitted.text
        assert resident.get("/api/v1/no-such-thing").status_code == 404

        # the platform's series, labelled with the process they come from
        expectations = {
            "gateway requests": ('redprop_http_requests_total{process="gateway", method="POST", '
                                 'route="/api/v1/tickets", status="201"}'),
            "gateway logins": ('redprop_http_requests_total{process="gateway", route="/api/v1/auth/token", '
                               'status="200"}'),
            "gateway 404s": 'redprop_http_requests_total{process="gateway", route="unmatched", status="404"}',
            "gateway latency": 'redprop_http_request_latency_seconds_bucket{process="gateway", le="+Inf"}',
            "the login RPC": ('redprop_entrypoint_calls_total{process="organizations", service="organizations", '
                              'kind="RpcEntrypoint", outcome="ok"}'),
            "the ticket RPC": ('redprop_entrypoint_calls_total{process="tickets", service="tickets", '
                               'entrypoint="submit_ticket", kind="RpcEntrypoint", outcome="ok"}'),
            "RPC latency": 'redprop_entrypoint_latency_seconds_bucket{process="tickets", kind="RpcEntrypoint"}',
            "tickets' registry events": ('redprop_entrypoint_calls_total{process="tickets", kind="EventHandler", '
                                         'outcome="ok"}'),
            "ratings hearing of the ticket": ('redprop_entrypoint_calls_total{process="ratings", '
                                              'entrypoint="on_ticket_submitted", kind="EventHandler"}'),
            "notifications' events": 'redprop_entrypoint_calls_total{process="notifications", kind="EventHandler"}',
            "the deadline sweep and other timers": 'redprop_entrypoint_calls_total{process="tickets", kind="Timer"}',
            "the tickets' measure": ('redprop_entrypoint_calls_total{process="tickets", entrypoint="measure", '
                                     'kind="Timer"}'),
            "organizations' published events": 'redprop_outbox_published_total{process="organizations"} > 0',
            "tickets' published events": 'redprop_outbox_published_total{process="tickets"} > 0',
            "overdue tickets": 'redprop_tickets_overdue{process="tickets"}',
            **{f"consumers of rpc-{name}": f'redprop_queue_consumers{{process="gateway", queue="rpc-{name}"}} > 0'
               for name in SERVICES},
        }

        def missing():
            return {what: expr for what, expr in expectations.items() if not server.query(expr)}
        try:
            wait_until(lambda: not missing(), timeout=90, interval=0.5)  # the measure timer first runs after 30 s
        except TimeoutError:
            pytest.fail(f"Prometheus did not find: {missing()}")

        # service-wide series from every process of the platform
        def from_every_service(expr):
            return server.labels_of(expr, "service") == set(SERVICES)
        for outbox_metric in ("redprop_outbox_backlog", "redprop_outbox_oldest_age_seconds"):
            wait_until(lambda: from_every_service(outbox_metric), timeout=30, interval=0.5)
            assert all(series["metric"]["process"] == series["metric"]["service"]
                       for series in server.query(outbox_metric))
        # the gateway sees a consumer on every queue of every service (RedpropQueueWithoutConsumer's condition is
        # false; its first poll may predate the services' consumers, the next comes 15 s later)
        wait_until(lambda: not server.query("max by (service, queue) (redprop_queue_consumers) == 0"), timeout=40,
                   interval=0.5)
        assert server.labels_of("redprop_queue_consumers", "service") == set(SERVICES)
        assert server.labels_of("redprop_parked_messages", "process") == set(PROCESSES)
        # a metric's own `service` label never clashes with the target's labels
        calls = server.query("redprop_entrypoint_calls_total")
        assert calls and all(s["metric"]["service"] == s["metric"]["process"] and "exported_service" not in s["metric"]
                             for s in calls)
        # the gateway p99 evaluates on the real series (a new series' first count is no increase to rate(), so keep
        # calling a route that already existed before Prometheus started)
        def p99():
            assert client.get("/health/ready").status_code == 200
            answer = server.query("histogram_quantile(0.99, sum by (le) "
                                  "(rate(redprop_http_request_latency_seconds_bucket[1m])))")
            return answer and answer[0]["value"][1] != "NaN" and float(answer[0]["value"][1])
        assert 0 < wait_until(p99, timeout=30, interval=0.5) < 10

        # every metric an alert uses is known to Prometheus (its HELP/TYPE are scraped even before a first sample;
        # metadata names counters without _total)
        known = set(server.api("metadata"))
        for name in sorted(referenced_metrics()):
            if name.startswith("rabbitmq_") and not broker:
                continue
            family = re.sub(r"_(total|bucket|sum|count|created)$", "", name)
            assert name in known or family in known, f"alerts.yml uses {name}, which no process exposes"

        # and the rules load and evaluate without error
        def evaluated():
            rules = [rule for group in server.api("rules")["groups"] for rule in group["rules"]]
            return rules if rules and all(rule["health"] != "unknown" for rule in rules) else None
        rules = wait_until(evaluated, timeout=30, interval=0.5)
        assert {rule["name"] for rule in rules} == {rule["alert"] for rule in alert_rules()}
        assert [(r["name"], r.get("lastError")) for r in rules if r["health"] != "ok"] == []
        # a healthy platform raises no alert
        assert server.query('ALERTS{alertstate="firing"}') == []
