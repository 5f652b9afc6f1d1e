"""infra/: the Compose file against the Compose specification's JSON schema (as vendored in check-jsonschema), every
Kubernetes manifest against Kubernetes' own schemas in strict mode (kubernetes-validate), and what no schema can see:
that both describe the processes the code really has, on the ports, settings, endpoints and volumes the code really
uses, and that each county profile starts exactly its services. Plain files only: no Docker engine, no cluster."""
import base64
import functools
import hashlib
import importlib.resources
import json
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import kubernetes_validate
import kubernetes_validate.utils
import pytest
import yaml

from gateway.api import Api
from kit import config, media
from kit.config import ROOT, SERVICE_NAMES
from kit.runner import SERVICE_CLASSES

INFRA = ROOT / "infra"
COMPOSE_FILE = INFRA / "compose" / "docker-compose.yml"
K8S = INFRA / "k8s"
KUBERNETES_VERSION = "1.37.0"  # one of the versions kubernetes-validate bundles; strict: unknown fields fail
PROCESSES = (*SERVICE_NAMES, "gateway")
WITH_UPLOADS = ("tickets", "notifications")  # tickets.upload_dir, notifications.upload_dir
AUTOSCALED = {"tickets", "notifications"}
ALWAYS = {"organizations", "gateway"}
COMPOSE_INFRASTRUCTURE = {"rabbitmq", "postgres", "migrate", "prometheus", "grafana"}
DEFAULTS = config.load(environ={})


# ----- loading -----

def load_yaml_documents(path):
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


@functools.lru_cache(maxsize=None)
def _compose_raw():
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


_VARIABLE = re.compile(r"\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


def interpolate(value, environ):
    """Compose's variable interpolation ($$, $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?err},
    ${VAR:+alt}) over a loaded Compose document, with `environ` as the shell (and .env)."""
    if isinstance(value, dict):
        return {key: interpolate(item, environ) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, environ) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(match):
        dollar, name, operator, argument, bare = match.groups()
        if dollar:
            return "$"
        name = name or bare
        present, current = name in environ, environ.get(name, "")
        if operator in (":-", "-"):
            use_default = not current if operator == ":-" else not present
            return argument if use_default else current
        if operator in (":?", "?"):
            if (not current) if operator == ":?" else (not present):
                raise AssertionError(f"{name} is required: {argument}")
            return current
        if operator in (":+", "+"):
            return argument if (current if operator == ":+" else present) else ""
        return current

    return _VARIABLE.sub(substitute, value)


def compose(environ=None):
    """The Compose file as Compose reads it with `environ` as the shell: a fresh copy each time."""
    return interpolate(_compose_raw(), environ or {})


def active_services(document, compose_profiles):
    """The services `docker compose up` starts with COMPOSE_PROFILES=compose_profiles: those without profiles, and
    those with one of the active profiles."""
    active = {p for p in (compose_profiles or "").split(",") if p}
    return {name for name, service in document["services"].items()
            if not service.get("profiles") or active & set(service["profiles"])}


def compose_settings(service):
    return config.load(environ=service.get("environment", {}))


@functools.lru_cache(maxsize=None)
def _k8s_documents():
    documents = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name != "kustomization.yaml":
            documents += [(path.name, doc) for doc in load_yaml_documents(path)]
    return json.dumps(documents)


def k8s_documents():
    """(file name, object) of every manifest applied or templated: a fresh copy each time."""
    return [tuple(item) for item in json.loads(_k8s_documents())]


def k8s_objects(kind):
    return {doc["metadata"]["name"]: doc for _file, doc in k8s_documents() if doc["kind"] == kind}


def kustomization():
    return yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))


def container_of(deployment):
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container


def configmap_environ():
    (configmap,) = k8s_objects("ConfigMap").values()
    return dict(configmap["data"])


def secret_template():
    return k8s_objects("Secret")["redprop-secrets"]["stringData"]


def pod_environ(container):
    """The environment a container gets: its ConfigMap, then its env, secret values taken from the template."""
    environ = {}
    configmaps = {name: doc["data"] for name, doc in k8s_objects("ConfigMap").items()}
    for source in container.get("envFrom", []):
        environ.update(configmaps[source["configMapRef"]["name"]])
    for variable in container.get("env", []):
        if "value" in variable:
            environ[variable["name"]] = variable["value"]
        else:
            ref = variable["valueFrom"]["secretKeyRef"]
            environ[variable["name"]] = secret_template()[ref["key"]]
    return environ


def metrics_port(name, settings=DEFAULTS):
    return settings["gateway"]["metrics_port"] if name == "gateway" else settings.service(name)["metrics_port"]


def is_real_endpoint(process, port, path, settings=DEFAULTS):
    """The endpoints a process really serves: the gateway's routes on its HTTP port, and /metrics on each
    process's metrics port (kit.runner starts prometheus_client's server there)."""
    if port == metrics_port(process, settings):
        return path == "/metrics"
    if process == "gateway" and port == settings["gateway"]["port"]:
        try:
            Api.url_map.bind("localhost").match(path, "GET")
            return True
        except Exception:
            return False
    return False


# ----- schemas -----

def compose_spec_schema():
    """The Compose specification's JSON schema as vendored in check-jsonschema (`--builtin-schema
    vendor.compose-spec`)."""
    schema_file = importlib.resources.files("check_jsonschema.builtin_schemas.vendor").joinpath("compose-spec.json")
    return json.loads(schema_file.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=None)
def compose_validator():
    schema = compose_spec_schema()
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)


def compose_schema_errors(document):
    validator = compose_validator()
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(document)]


def test_the_compose_file_follows_the_compose_specification():
    assert compose_spec_schema()["title"] == "Compose Specification"
    raw = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert compose_schema_errors(raw) == []
    for profile in ["", *config.profiles()]:  # and as Compose sees it once the variables are filled in
        assert compose_schema_errors(compose({"COMPOSE_PROFILES": profile})) == []


def test_check_jsonschema_accepts_the_compose_file():
    result = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec",
                             str(COMPOSE_FILE)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schemas_catch_mistakes():
    """The validators are not vacuous: a misspelt key fails both."""
    broken = compose()
    broken["services"]["gateway"]["helthcheck"] = broken["services"]["gateway"].pop("healthcheck")
    assert any("helthcheck" in error for error in compose_schema_errors(broken))
    deployment = k8s_objects("Deployment")["gateway"]
    container_of(deployment)["readinesProbe"] = container_of(deployment).pop("readinessProbe")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_the_kubernetes_version_is_bundled():
    assert KUBERNETES_VERSION in kubernetes_validate.utils.all_versions()


@pytest.mark.parametrize("file_name", sorted(p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml"))
def test_kubernetes_manifests_follow_kubernetes_schemas(file_name):
    documents = load_yaml_documents(K8S / file_name)
    assert documents
    for document in documents:
        assert kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True) == "1.37", document["kind"]


def test_the_kustomization_lists_every_manifest_but_the_secret_template():
    listed = kustomization()["resources"]
    assert len(listed) == len(set(listed))
    on_disk = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml", "secret.template.yaml"}
    assert set(listed) == on_disk
    assert "secret.template.yaml" not in listed  # no credentials are applied from the repository
    assert kustomization()["namespace"] == k8s_objects("Namespace").popitem()[0]


# ----- every process, on its real command, ports and settings -----

def test_every_service_of_the_code_is_in_compose_and_kubernetes():
    in_checkout = {p.parent.name for p in (ROOT / "services").glob("*/service.py")}
    assert in_checkout == set(SERVICE_NAMES) == set(SERVICE_CLASSES) - {"gateway"}
    document = compose()
    deployments, services = k8s_objects("Deployment"), k8s_objects("Service")
    for name in PROCESSES:
        assert document["services"][name]["command"] == [name]  # the image runs `python -m kit.runner <command>`
        assert container_of(deployments[name])["args"] == [name]
        labels = deployments[name]["spec"]["template"]["metadata"]["labels"]
        assert deployments[name]["spec"]["selector"]["matchLabels"].items() <= labels.items()
        assert services[name]["spec"]["selector"].items() <= labels.items()
    assert set(deployments) == set(PROCESSES)
    assert set(services) == set(PROCESSES)


def test_the_image_runs_kit_runner_and_carries_what_the_code_reads():
    dockerfile = (INFRA / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r'^ENTRYPOINT \["python", "-m", "kit\.runner"\]$', dockerfile, re.M)
    copied = set(re.findall(r"^COPY (\S+) \./(\S+)$", dockerfile, re.M))
    read_at_run_time = [config.DEFAULTS_FILE.parent, config.PROFILES_DIR, ROOT / "docs"]
    read_at_run_time += [ROOT / package for package in ("kit", "services", "gateway", "contracts", "redprop")]
    for path in read_at_run_time:
        relative = path.relative_to(ROOT).as_posix()
        assert (relative, relative) in copied, relative
    ignored = (INFRA / "Dockerfile.dockerignore").read_text(encoding="utf-8").split()
    assert not set(ignored) & {p.relative_to(ROOT).as_posix() for p in read_at_run_time}
    exposed = {int(port) for port in re.search(r"^EXPOSE (.+)$", dockerfile, re.M).group(1).split()}
    assert exposed == {DEFAULTS["gateway"]["port"], *(metrics_port(name) for name in PROCESSES)}
    var_dir = re.search(r"REDPROP_VAR_DIR=(\S+)", dockerfile).group(1)
    for name in WITH_UPLOADS:  # owned by the service's user in the image, so a fresh named volume is writable
        upload_dir = media.upload_dir(config.load(environ={"REDPROP_VAR_DIR": var_dir}), name).as_posix()
        assert re.search(rf"mkdir -p [^\n]*{re.escape(upload_dir)}\b", dockerfile), upload_dir


def test_metrics_ports_match_the_settings():
    document = compose()
    prometheus = yaml.safe_load((INFRA / "prometheus" / "prometheus.yml").read_text(encoding="utf-8"))
    (redprop_job,) = [job for job in prometheus["scrape_configs"] if job["job_name"] == "redprop"]
    targets = {target for group in redprop_job["static_configs"] for target in group["targets"]}
    deployments, services = k8s_objects("Deployment"), k8s_objects("Service")
    for name in PROCESSES:
        settings = compose_settings(document["services"][name])
        port = metrics_port(name, settings)
        assert port == metrics_port(name) == (9100 if name == "gateway" else DEFAULTS.service(name)["metrics_port"])
        assert str(port) in document["services"][name]["expose"]
        assert f"{name}:{port}" in targets
        pod = deployments[name]["spec"]["template"]
        assert pod["metadata"]["annotations"]["prometheus.io/port"] == str(port)
        assert pod["metadata"]["annotations"]["prometheus.io/path"] == "/metrics"
        ports = {p["name"]: p["containerPort"] for p in container_of(deployments[name])["ports"]}
        assert ports["metrics"] == metrics_port(name, config.load(environ=pod_environ(container_of(deployments[name]))))
        assert {p["port"] for p in services[name]["spec"]["ports"] if p["name"] == "metrics"} == {port}
        assert services[name]["metadata"]["annotations"]["prometheus.io/port"] == str(port)
    gateway_port = DEFAULTS["gateway"]["port"]
    assert f"{gateway_port}:{gateway_port}" in document["services"]["gateway"]["ports"]
    gateway_ports = {p["name"]: p["containerPort"] for p in container_of(deployments["gateway"])["ports"]}
    assert gateway_ports["http"] == gateway_port
    assert {t.split(":")[0] for t in targets} <= set(document["services"])


def test_kubernetes_probes_target_endpoints_that_exist():
    for name, deployment in k8s_objects("Deployment").items():
        container = container_of(deployment)
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        settings = config.load(environ=pod_environ(container))
        for probe in ("livenessProbe", "readinessProbe"):
            http = container[probe]["httpGet"]
            port = ports.get(http["port"], http["port"])
            assert is_real_endpoint(name, port, http["path"], settings), (name, probe, port, http["path"])
    gateway = container_of(k8s_objects("Deployment")["gateway"])
    assert gateway["livenessProbe"]["httpGet"]["path"] == "/health"
    assert gateway["readinessProbe"]["httpGet"]["path"] == "/health/ready"


def test_compose_health_checks_target_endpoints_that_exist():
    document = compose()
    for name in PROCESSES:
        test = " ".join(document["services"][name]["healthcheck"]["test"])
        (url,) = re.findall(r"http://127\.0\.0\.1:\d+/[^'\"\s]*", test)
        parts = urlsplit(url)
        assert is_real_endpoint(name, parts.port, parts.path, compose_settings(document["services"][name])), url


def test_every_deployment_has_probes_resources_and_its_settings():
    secrets = secret_template()
    configmaps = k8s_objects("ConfigMap")
    for name, deployment in k8s_objects("Deployment").items():
        container = container_of(deployment)
        assert container["livenessProbe"] and container["readinessProbe"]
        assert {"cpu", "memory"} <= set(container["resources"]["requests"])
        assert {"cpu", "memory"} <= set(container["resources"]["limits"])
        assert [source["configMapRef"]["name"] for source in container["envFrom"]] == list(configmaps)
        for variable in container["env"]:
            if "valueFrom" in variable:
                assert variable["valueFrom"]["secretKeyRef"]["name"] == "redprop-secrets"
                assert variable["valueFrom"]["secretKeyRef"]["key"] in secrets
        settings = config.load(environ=pod_environ(container))
        assert settings["jwt"]["secret"]
        assert urlsplit(settings["amqp_uri"]).username == name
        assert urlsplit(settings["amqp_uri"]).path == "/redprop"
        if name != "gateway":
            db_url = urlsplit(settings.service(name)["db_url"])
            assert db_url.scheme == "postgresql" and db_url.username == name and db_url.path == f"/{name}"
        mounts = {m["mountPath"] for m in container["volumeMounts"]}
        assert {settings.var_dir.as_posix(), "/tmp"} <= mounts  # the root file system is read-only
        assert container["securityContext"]["readOnlyRootFilesystem"] is True


def test_the_migrate_job_migrates_the_profile_with_the_ops_user():
    (job,) = k8s_objects("Job").values()
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert " ".join(container.get("command", []) + container.get("args", [])) == "redprop migrate"
    settings = config.load(environ=pod_environ(container))
    assert urlsplit(settings["amqp_uri"]).username == "ops"
    for name in SERVICE_NAMES:
        assert urlsplit(settings.service(name)["db_url"]).path == f"/{name}"


# ----- county profiles -----

def test_each_compose_profile_starts_organizations_the_gateway_and_its_services():
    unused = set(config.profiles())
    for name, service in compose()["services"].items():
        assert set(service.get("profiles", [])) <= set(config.profiles()), name
        unused -= set(service.get("profiles", []))
    assert unused <= {"registry"}  # organizations alone: no optional service carries it
    for profile in ["", *config.profiles()]:
        document = compose({"COMPOSE_PROFILES": profile} if profile else {})
        deployed = config.load(environ={"REDPROP_PROFILE": profile or "registry"})["deployed"]
        started = active_services(document, profile)
        assert started == COMPOSE_INFRASTRUCTURE | ALWAYS | set(deployed), profile
        for name in started:
            service = document["services"][name]
            dependencies = service.get("depends_on", {})
            assert set(dependencies) <= started, (profile, name)
            if name in PROCESSES or name == "migrate":
                # every process, and the migrate step, is told the same county profile
                assert service["environment"]["REDPROP_PROFILE"] == (profile or "registry")
                assert compose_settings(service)["deployed"] == deployed, (profile, name)
            if name in PROCESSES:
                assert dependencies["migrate"]["condition"] == "service_completed_successfully"


def test_compose_processes_have_their_own_users_and_databases():
    document = compose()
    definitions = json.loads((INFRA / "rabbitmq" / "definitions.json").read_text(encoding="utf-8"))
    users = {user["name"]: user for user in definitions["users"]}
    init_script = (INFRA / "compose" / "postgres-init.sh").read_text(encoding="utf-8")
    secrets = set()
    for name in (*PROCESSES, "migrate"):
        settings = compose_settings(document["services"][name])
        secrets.add(settings["jwt"]["secret"])
        amqp = urlsplit(settings["amqp_uri"])
        assert (amqp.hostname, amqp.path) == ("rabbitmq", "/redprop")
        assert amqp.username == ("ops" if name == "migrate" else name)
        # the password in the URI is the one whose hash definitions.json loads into the broker
        digest = base64.b64decode(users[amqp.username]["password_hash"])
        assert hashlib.sha256(digest[:4] + amqp.password.encode()).digest() == digest[4:], amqp.username
        own = SERVICE_NAMES if name == "migrate" else [name] if name in SERVICE_NAMES else []
        for service in SERVICE_NAMES:
            url = settings.service(service)["db_url"]
            if service not in own:
                assert url is None, (name, service)  # a process knows only its own database
                continue
            db = urlsplit(url)
            assert (db.scheme, db.hostname, db.username, db.path) == ("postgresql", "postgres", service, f"/{service}")
            assert "$service-dev-password" in init_script and db.password == f"{service}-dev-password"
    assert len(secrets) == 1  # one JWT key for the whole county
    command = " ".join(document["services"]["migrate"]["entrypoint"] + document["services"]["migrate"]["command"])
    assert command == "sh -c exec redprop migrate"


# ----- uploads -----

def test_upload_directories_are_on_volumes_shared_by_every_process_of_the_service():
    document = compose()
    pvcs = k8s_objects("PersistentVolumeClaim")
    for name in WITH_UPLOADS:
        service = document["services"][name]
        upload_dir = media.upload_dir(compose_settings(service), name).as_posix()
        volumes = {v.split(":")[1]: v.split(":")[0] for v in service["volumes"]}
        assert volumes[upload_dir] in document["volumes"], name  # a named volume: every replica mounts it
        assert volumes[upload_dir].startswith(name), name  # its own

        container = container_of(k8s_objects("Deployment")[name])
        upload_dir = media.upload_dir(config.load(environ=pod_environ(container)), name).as_posix()
        (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == upload_dir]
        pod_volumes = {v["name"]: v for v in k8s_objects("Deployment")[name]["spec"]["template"]["spec"]["volumes"]}
        claim = pod_volumes[mount["name"]]["persistentVolumeClaim"]["claimName"]
        assert pvcs[claim]["metadata"]["labels"]["app.kubernetes.io/name"] == name, claim  # its own volume
        assert pvcs[claim]["spec"]["accessModes"] == ["ReadWriteMany"], claim  # pods on several nodes share it
    for name in set(PROCESSES) - set(WITH_UPLOADS):
        assert "persistentVolumeClaim" not in json.dumps(k8s_objects("Deployment")[name])


# ----- scaling and disruptions -----

def test_autoscalers_target_the_tickets_and_notifications_deployments():
    deployments = k8s_objects("Deployment")
    autoscalers = [doc for _file, doc in k8s_documents() if doc["kind"] == "HorizontalPodAutoscaler"]
    assert {doc["apiVersion"] for doc in autoscalers} == {"autoscaling/v2"}
    targets = [doc["spec"]["scaleTargetRef"] for doc in autoscalers]
    assert sorted(t["name"] for t in targets) == sorted(AUTOSCALED)
    for autoscaler, target in zip(autoscalers, targets):
        assert (target["apiVersion"], target["kind"]) == ("apps/v1", "Deployment")
        assert target["name"] in deployments
        assert 1 <= autoscaler["spec"]["minReplicas"] <= autoscaler["spec"]["maxReplicas"]
        for metric in autoscaler["spec"]["metrics"]:  # utilization is measured against the requests
            resource = metric["resource"]["name"]
            assert resource in container_of(deployments[target["name"]])["resources"]["requests"]


def test_disruption_budgets_select_the_pods_of_deployments():
    deployments = k8s_objects("Deployment")
    covered = set()
    for name, budget in k8s_objects("PodDisruptionBudget").items():
        selector = budget["spec"]["selector"]["matchLabels"]
        matching = [d for d, doc in deployments.items()
                    if selector.items() <= doc["spec"]["template"]["metadata"]["labels"].items()]
        assert len(matching) == 1, name
        covered.update(matching)
        assert ("maxUnavailable" in budget["spec"]) != ("minAvailable" in budget["spec"])
    assert covered == set(deployments)


def test_replicas_follow_the_county_profile_of_the_configmap():
    environ = configmap_environ()
    assert environ["REDPROP_PROFILE"] in config.profiles()
    deployed = set(config.load(environ=environ)["deployed"])
    replicas = {entry["name"]: entry["count"] for entry in kustomization()["replicas"]}
    assert set(replicas) == set(k8s_objects("Deployment"))
    assert {name for name, count in replicas.items() if count > 0} == deployed | {"gateway"}
