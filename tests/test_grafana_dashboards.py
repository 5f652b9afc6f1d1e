"""Grafana (infra/grafana/): the provisioning loads both dashboards (the platform's and the governance one) from the
folder the Compose file mounts, every panel queries the provisioned Prometheus data source, every PromQL expression
names only metrics kit/metrics.py registers (with the suffixes Prometheus exposes them under) and labels they carry,
the service-wide gauges are deduplicated with max (every process of a service reports the same value, and the
processes of other services export the unlabelled ones as 0), and promtool accepts every expression.

Plain files and promtool only: no Grafana, no Prometheus server, no network. Without promtool the promtool test is
skipped, except in CI (CI=true), where it fails: .ci/run installs Debian's prometheus package."""
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client import REGISTRY
from prometheus_client.metrics import MetricWrapperBase

from kit import metrics
from kit.config import ROOT
from services.notifications.domain.disclosure import STATE_LABELS
from services.tickets.domain.routing import Level
from services.tickets.domain.workflow import OPEN_STATUSES, STATUS_LABELS, Satisfaction

GRAFANA = ROOT / "infra" / "grafana"
DASHBOARDS = GRAFANA / "dashboards"
DATASOURCES = GRAFANA / "provisioning" / "datasources" / "prometheus.yml"
PROVIDERS = GRAFANA / "provisioning" / "dashboards"
COMPOSE_FILE = ROOT / "infra" / "compose" / "docker-compose.yml"
PLATFORM = "redprop.json"
GOVERNANCE = "governance.json"
EXPECTED = {PLATFORM: ("redprop-overview", "Red Property platform"),
            GOVERNANCE: ("redprop-governance", "Red Property governance")}
GRID_COLUMNS = 24
# Labels Prometheus adds to every series of job redprop (infra/prometheus/prometheus.yml), beside the metric's own.
TARGET_LABELS = {"job", "instance", "process"}
# Standard series that are not the platform's own (`up`: Prometheus' scrape health of every target).
STANDARD_METRICS = {"up"}
# Grafana's global variables, replaced by a duration for promtool (the dashboards define no variables of their own).
GRAFANA_DURATIONS = {"$__rate_interval": "1m", "$__interval": "1m", "$__range": "1h"}
# The governance gauges' label values the services emit: a matcher naming another value would match nothing.
GOVERNANCE_LABEL_VALUES = {
    ("redprop_tickets", "status"): set(STATUS_LABELS),
    ("redprop_tickets_escalated_30d", "level"): set(Level.ALL),
    ("redprop_tickets_rated_30d", "satisfaction"): set(Satisfaction.ALL),
    ("redprop_disclosure_items", "state"): set(STATE_LABELS),
    ("redprop_star_rating_companies", "stars"): {str(n) for n in range(1, 6)},
}


def in_ci():
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


# ----- loading -----

def load_dashboard(name):
    return json.loads((DASHBOARDS / name).read_text(encoding="utf-8"))


def all_dashboards():
    return {path.name: json.loads(path.read_text(encoding="utf-8")) for path in sorted(DASHBOARDS.glob("*.json"))}


def flat_panels(dashboard):
    """Every panel, the ones inside (collapsed) rows too."""
    found = []
    for panel in dashboard.get("panels", []):
        found.append(panel)
        found.extend(panel.get("panels", []))
    return found


def query_panels(dashboard):
    return [panel for panel in flat_panels(dashboard) if panel.get("type") != "row"]


def expressions(dashboard):
    """(panel title, expr) of every target of every panel."""
    return [(panel.get("title"), target["expr"]) for panel in query_panels(dashboard)
            for target in panel.get("targets", []) if "expr" in target]


def provisioned_datasource():
    sources = yaml.safe_load(DATASOURCES.read_text())["datasources"]
    prometheus = [source for source in sources if source["type"] == "prometheus"]
    assert len(prometheus) == 1, "exactly one Prometheus data source is provisioned"
    return prometheus[0]


# ----- the metrics kit/metrics.py registers -----

EXPOSED_SUFFIXES = {"counter": ("_total", "_created"), "gauge": ("",), "histogram": ("_bucket", "_count", "_sum",
                                                                                      "_created"),
                    "summary": ("", "_count", "_sum", "_created"), "info": ("_info",), "enum": ("",)}


def platform_metrics():
    """{series name as Prometheus stores it: (metric type, label names)} of every metric object of kit.metrics,
    checked to be registered in prometheus_client's default REGISTRY (which is what the processes serve)."""
    registered = {family.name for family in REGISTRY.collect()}
    series = {}
    for value in vars(metrics).values():
        if not isinstance(value, MetricWrapperBase):
            continue
        [family] = value.describe()
        assert family.name in registered, f"{family.name} is not in the default registry"
        labels = set(value._labelnames)
        for suffix in EXPOSED_SUFFIXES[family.type]:
            series[family.name + suffix] = (family.type, labels | ({"le"} if suffix == "_bucket" else set()))
    assert series, "kit.metrics defines no metric"
    return series


def governance_gauges():
    """The gauges kit/metrics.py lists as read from each service's own database, so that every process of a service
    reports the same value: the ones defined after its "Governance figures" comment."""
    source = Path(metrics.__file__).read_text()
    start = source.index("# Governance figures")
    assert "every process of a service" in source[start:start + 300]
    names = re.findall(r'=\s*Gauge\(\s*"([a-z0-9_]+)"', source[start:])
    assert names, "no governance gauge found in kit/metrics.py"
    return names


def service_wide_gauges():
    """Every gauge of kit.metrics: each one is a figure of a whole service (its database, its outbox table, the
    parked queue, the queues the gateway polls), reported alike by each of its processes."""
    return {name for name, (kind, _labels) in platform_metrics().items() if kind == "gauge"}


# ----- a small PromQL reader: enough to find the series selectors and what aggregates them -----

AGGREGATIONS = {"sum", "avg", "min", "max", "count", "group", "stddev", "stdvar", "topk", "bottomk", "quantile",
                "count_values", "limitk", "limit_ratio"}
LABEL_LIST_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right"}
KEYWORDS = {"and", "or", "unless", "bool", "offset", "atan2", "inf", "nan", "start", "end"}
TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<string>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|`[^`]*`)
  | (?P<number>(?:0x[0-9a-fA-F]+|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+)(?:ms|[smhdwy])*)
  | (?P<variable>\$\w+|\$\{\w+\})
  | (?P<ident>[A-Za-z_:][A-Za-z0-9_:]*)
  | (?P<op>=~|!~|!=|==|<=|>=|[-+*/%^@=<>,(){}\[\]])
""", re.VERBOSE)


def tokenize(expr):
    tokens, position = [], 0
    while position < len(expr):
        match = TOKEN.match(expr, position)
        assert match, f"cannot read {expr[position:]!r} in {expr!r}"
        if match.lastgroup != "space":
            tokens.append((match.lastgroup, match.group()))
        position = match.end()
    return tokens


def unquote(text):
    return text[1:-1]


def selectors(expr):
    """[(metric name, [(label, operator, value)], [enclosing aggregation operators, innermost first])] of every
    series selector of a PromQL expression."""
    tokens = tokenize(expr)
    found, frames = [], []
    pending_aggregation, pending_labels, pending_function = None, False, False
    index = 0

    def matchers_at(start):
        """The label matchers of the {...} starting at tokens[start]; the index after its closing brace."""
        matchers, i = [], start + 1
        while tokens[i][1] != "}":
            label, operator, value = tokens[i], tokens[i + 1], tokens[i + 2]
            assert label[0] == "ident" and operator[0] == "op" and value[0] == "string", f"bad matcher in {expr!r}"
            matchers.append((label[1], operator[1], unquote(value[1])))
            i += 3
            if tokens[i][1] == ",":
                i += 1
        return matchers, i + 1

    def aggregations():
        return [frame[4:] for frame in reversed(frames) if frame.startswith("agg:")]

    while index < len(tokens):
        kind, text = tokens[index]
        following = tokens[index + 1][1] if index + 1 < len(tokens) else None
        if kind == "ident":
            word = text.lower()
            if word in AGGREGATIONS and following in ("(", "by", "without"):
                pending_aggregation = word
            elif word in LABEL_LIST_KEYWORDS and following == "(":
                pending_labels = True
            elif following == "(":
                pending_function = True
            elif word == "offset":
                index += 2 if following != "-" else 3
                continue
            elif word in KEYWORDS:
                pass
            else:
                matchers = []
                if following == "{":
                    matchers, index = matchers_at(index + 1)
                    found.append((text, matchers, aggregations()))
                    continue
                found.append((text, matchers, aggregations()))
        elif text == "{":  # a selector by its matchers alone: {__name__="..."}
            matchers, index = matchers_at(index)
            names = [value for label, operator, value in matchers if label == "__name__" and operator == "="]
            assert names, f"a selector without a metric name in {expr!r}"
            found.append((names[0], [m for m in matchers if m[0] != "__name__"], aggregations()))
            continue
        elif text == "[":  # a range or subquery: durations only
            index = next(i for i in range(index, len(tokens)) if tokens[i][1] == "]") + 1
            continue
        elif text == "(":
            if pending_labels:  # by (...), on (...) ...: label names only
                pending_labels = False
                index = next(i for i in range(index, len(tokens)) if tokens[i][1] == ")") + 1
                continue
            if pending_aggregation:
                frames.append("agg:" + pending_aggregation)
                pending_aggregation = None
            elif pending_function:
                frames.append("function")
                pending_function = False
            else:
                frames.append("group")
        elif text == ")":
            assert frames, f"unbalanced parentheses in {expr!r}"
            frames.pop()
        index += 1
    assert not frames, f"unbalanced parentheses in {expr!r}"
    return found


def test_the_promql_reader_finds_selectors_and_their_aggregations():
    assert selectors('sum(max by (status) (redprop_tickets{status=~"a|b"})) / (sum(redprop_tickets) > 0)') == [
        ("redprop_tickets", [("status", "=~", "a|b")], ["max", "sum"]), ("redprop_tickets", [], ["sum"])]
    assert selectors("histogram_quantile(0.99, sum(rate(x_bucket{le!=\"1\"}[5m])) by (le))") == [
        ("x_bucket", [("le", "!=", "1")], ["sum"])]
    assert selectors("max(g offset 1h) > bool 0 or on (a) vector(0)") == [("g", [], ["max"])]
    assert selectors('count({__name__="up", job="redprop"} == 0)') == [("up", [("job", "=", "redprop")], ["count"])]
    assert selectors("avg_over_time(redprop_x[1h:5m])") == [("redprop_x", [], [])]


# ----- provisioning -----

def test_both_dashboards_are_in_the_dashboards_folder_and_parse():
    boards = all_dashboards()
    assert set(EXPECTED) <= set(boards), f"missing: {set(EXPECTED) - set(boards)}"
    for name, board in boards.items():
        assert isinstance(board, dict) and board.get("panels"), f"{name} has no panels"


def test_the_provisioning_loads_the_dashboards_folder_as_the_compose_file_mounts_it():
    grafana = yaml.safe_load(COMPOSE_FILE.read_text())["services"]["grafana"]
    mounts = {}
    for volume in grafana["volumes"]:
        source, target, *_ = volume.split(":")
        if source.startswith("."):
            mounts[target] = (COMPOSE_FILE.parent / source).resolve()
    assert mounts.get("/etc/grafana/provisioning") == (GRAFANA / "provisioning").resolve()
    provider_files = sorted(PROVIDERS.glob("*.y*ml"))
    assert provider_files, "no dashboard provider"
    loaded = set()
    for provider_file in provider_files:
        for provider in yaml.safe_load(provider_file.read_text())["providers"]:
            assert provider.get("type", "file") == "file"
            path = provider["options"]["path"]
            assert path in mounts, f"{provider_file.name}: {path} is not mounted into the grafana container"
            folder = mounts[path]
            assert provider.get("options", {}).get("foldersFromFilesStructure") is not True
            loaded |= {json_file.resolve() for json_file in folder.glob("*.json")}
    for name in EXPECTED:
        assert (DASHBOARDS / name).resolve() in loaded, f"{name} is not loaded by any dashboard provider"


def test_the_data_source_is_the_prometheus_of_the_compose_stack():
    source = provisioned_datasource()
    assert source["uid"] and source["url"] == "http://prometheus:9090"


# ----- the dashboards -----

def test_dashboards_have_their_uids_and_titles_and_no_two_share_one():
    boards = all_dashboards()
    uids = [board.get("uid") for board in boards.values()]
    titles = [board.get("title") for board in boards.values()]
    assert len(set(uids)) == len(uids) and all(uids), uids
    assert len(set(titles)) == len(titles) and all(titles), titles
    for name, (uid, title) in EXPECTED.items():
        assert boards[name]["uid"] == uid
        assert boards[name]["title"].startswith(title), boards[name]["title"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_panel_queries_the_provisioned_data_source(name):
    uid = provisioned_datasource()["uid"]
    board = load_dashboard(name)
    panels = query_panels(board)
    assert panels
    for panel in panels:
        title = panel.get("title")
        assert isinstance(title, str) and title.strip(), f"{name}: panel {panel.get('id')} has no title"
        assert panel.get("description", "").strip(), f"{name}: {title!r} has no description"
        assert panel.get("datasource") == {"type": "prometheus", "uid": uid}, f"{name}: {title!r}"
        targets = panel.get("targets") or []
        assert targets, f"{name}: {title!r} has no target"
        ref_ids = [target.get("refId") for target in targets]
        assert len(set(ref_ids)) == len(ref_ids) and all(ref_ids), f"{name}: {title!r} refIds {ref_ids}"
        for target in targets:
            assert target.get("expr", "").strip(), f"{name}: {title!r} has a target without expr"
            assert target.get("datasource", panel["datasource"]) == panel["datasource"], f"{name}: {title!r}"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_panel_ids_are_unique_and_every_panel_has_its_place_on_the_grid(name):
    panels = flat_panels(load_dashboard(name))
    ids = [panel.get("id") for panel in panels]
    assert all(isinstance(panel_id, int) for panel_id in ids), ids
    assert len(set(ids)) == len(ids), f"{name}: duplicate panel ids {sorted(ids)}"
    cells = {}
    for panel in panels:
        grid = panel.get("gridPos")
        assert isinstance(grid, dict), f"{name}: {panel.get('title')!r} has no gridPos"
        assert all(isinstance(grid.get(key), int) for key in "xywh"), f"{name}: {panel.get('title')!r}: {grid}"
        assert grid["x"] >= 0 and grid["y"] >= 0 and grid["w"] > 0 and grid["h"] > 0
        assert grid["x"] + grid["w"] <= GRID_COLUMNS, f"{name}: {panel.get('title')!r} is wider than the grid"
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                other = cells.setdefault((x, y), panel.get("title"))
                assert other == panel.get("title"), f"{name}: {panel.get('title')!r} overlaps {other!r}"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_metric_and_label_the_expressions_name_exists(name):
    known = platform_metrics()
    for title, expr in expressions(load_dashboard(name)):
        found = selectors(expr)
        assert found, f"{name}: {title!r} selects no series: {expr}"
        for metric, matchers, _aggregations in found:
            if metric in STANDARD_METRICS:
                continue
            assert metric in known, f"{name}: {title!r} uses {metric}, which kit/metrics.py does not define: {expr}"
            labels = known[metric][1] | TARGET_LABELS
            for label, _operator, _value in matchers:
                assert label in labels, f"{name}: {title!r}: {metric} has no label {label!r}"


def test_the_governance_dashboard_shows_every_governance_gauge_with_values_the_services_emit():
    board = load_dashboard(GOVERNANCE)
    used = {metric for _title, expr in expressions(board) for metric, _m, _a in selectors(expr)}
    assert set(governance_gauges()) <= used, f"not on the governance dashboard: {set(governance_gauges()) - used}"
    for title, expr in expressions(board):
        for metric, matchers, _aggregations in selectors(expr):
            for label, operator, value in matchers:
                known = GOVERNANCE_LABEL_VALUES.get((metric, label))
                if known is None or operator not in ("=", "=~"):
                    continue
                values = set(value.split("|")) if operator == "=~" else {value}
                assert values <= known, f"{title!r}: {metric}{{{label}}} has no value {values - known}"
    open_tickets = [expr for title, expr in expressions(board) if "Open tickets" in title]
    assert open_tickets
    for expr in open_tickets:
        [(_metric, [(_label, _operator, statuses)], _aggregations)] = selectors(expr)
        assert set(statuses.split("|")) == OPEN_STATUSES, f"open tickets are {sorted(OPEN_STATUSES)}: {expr}"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_service_wide_gauges_are_deduplicated_with_max_never_summed(name):
    """Every process of a service reports the same value of these gauges (and processes of other services export
    the unlabelled ones as 0): sum or avg across processes would multiply or dilute them. The governance gauges
    must be aggregated with max first; so must the platform's gauges on both dashboards."""
    gauges = service_wide_gauges()
    assert set(governance_gauges()) <= gauges
    for title, expr in expressions(load_dashboard(name)):
        for metric, _matchers, aggregations in selectors(expr):
            if metric not in gauges:
                continue
            assert aggregations, f"{name}: {title!r} shows {metric} per process, not max(): {expr}"
            assert aggregations[0] == "max", (
                f"{name}: {title!r} aggregates {metric} with {aggregations[0]} (it must take max first): {expr}")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_expressions_use_no_variable_the_dashboard_does_not_define(name):
    board = load_dashboard(name)
    defined = {"$" + variable["name"] for variable in board.get("templating", {}).get("list", [])}
    for title, expr in expressions(board):
        for variable in re.findall(r"\$\{?\w+\}?", expr):
            assert variable.strip("{}") in set(GRAFANA_DURATIONS) | defined, f"{name}: {title!r}: {variable}"


def test_promtool_accepts_every_expression(tmp_path):
    """promtool (2.42) has no command checking a bare expression: each one becomes a recording rule."""
    promtool = shutil.which("promtool")
    if promtool is None:
        message = "promtool is not installed (Debian: apt-get install prometheus)"
        if in_ci():
            pytest.fail(f"{message}; .ci/run should have installed it")
        pytest.skip(f"{message}; CI fails here instead of skipping")
    rules, origins = [], []
    for name in sorted(EXPECTED):
        for title, expr in expressions(load_dashboard(name)):
            for variable, duration in GRAFANA_DURATIONS.items():
                expr = expr.replace("${" + variable[1:] + "}", duration).replace(variable, duration)
            rules.append({"record": f"grafana:expr_{len(rules)}", "expr": expr})
            origins.append(f"{name}: {title!r}: {expr}")
    assert rules
    rule_file = tmp_path / "dashboard_expressions.yml"
    rule_file.write_text(yaml.safe_dump({"groups": [{"name": "grafana-dashboards", "rules": rules}]}))
    result = subprocess.run([promtool, "check", "rules", str(rule_file)], capture_output=True, text=True,
                            timeout=120)
    output = result.stdout + result.stderr
    indexes = [int(i) for i in re.findall(r"grafana:expr_(\d+)", output)] if result.returncode else []
    assert result.returncode == 0, "promtool rejects:\n" + "\n".join(origins[i] for i in indexes) + "\n" + output
    assert f"SUCCESS: {len(rules)} rules found" in output, output
