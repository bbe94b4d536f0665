"""Offline checks of everything under deploy/: no cluster, no Docker daemon.

* every Kubernetes manifest under deploy/k8s validates, in strict mode (unknown
  fields are errors), against the schemas that kubernetes-validate ships;
* every service of the port table has a Deployment (replicas, probes on
  /health at its port, resources, non-root, Prometheus annotations) and a
  Service, all listed in kustomization.yaml;
* docker-compose.yml has rabbitmq, postgres, the one-shot setup and the nine
  services with their ports and health checks;
* the Dockerfile runs as non-root and keeps secrets out of the image.

The checks are written as functions returning a list of problems, and each
is also run on a deliberately broken copy, so a check that can no longer fail
is noticed.
"""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
KUSTOMIZATION = K8S / "kustomization.yaml"
COMPOSE = DEPLOY / "docker-compose.yml"
DOCKERFILE = DEPLOY / "Dockerfile"
DOCKERIGNORE = DEPLOY / "Dockerfile.dockerignore"
POSTGRES_INIT = DEPLOY / "postgres-init.sql"

# A recent Kubernetes release that kubernetes-validate 1.37.0 ships schemas
# for (it has up to 1.37; managed clusters trail the newest by a release or two).
K8S_VERSION = "1.35.0"

# service -> the HTTP port of its /health and /metrics (the gateway serves the
# public API on it too)
SERVICE_PORTS = {
    "gateway": 8000,
    "accounts": 8001,
    "catalog": 8002,
    "teams": 8003,
    "orders": 8004,
    "payments": 8005,
    "promotions": 8006,
    "notify": 8007,
    "reviews": 8008,
}
REPLICAS = {name: 2 if name in {"teams", "orders", "payments"} else 1 for name in SERVICE_PORTS}
# every service but the gateway owns a database
DATABASE_SERVICES = [name for name in SERVICE_PORTS if name != "gateway"]

# Manifests that are templates to fill in, kept out of kustomization.yaml on
# purpose (applying them would blank the live values).
TEMPLATES = {"secret-template.yaml"}


# --------------------------------------------------------------------------
# loading


def load_yaml_documents(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def manifest_files() -> list[Path]:
    if not K8S.is_dir():
        return []
    return sorted(
        p for p in K8S.iterdir() if p.suffix in {".yaml", ".yml"} and p.name != KUSTOMIZATION.name
    )


def kustomization() -> dict:
    return yaml.safe_load(KUSTOMIZATION.read_text())


def applied_resources() -> list[dict]:
    """The resources kustomization.yaml applies, as written in their files."""
    docs: list[dict] = []
    for entry in kustomization().get("resources", []):
        docs.extend(load_yaml_documents(K8S / entry))
    return docs


def find(resources: list[dict], kind: str, name: str) -> list[dict]:
    return [r for r in resources if r.get("kind") == kind and r.get("metadata", {}).get("name") == name]


def one(resources: list[dict], kind: str, name: str) -> dict:
    found = find(resources, kind, name)
    assert len(found) == 1, f"expected exactly one {kind} {name!r}, found {len(found)}"
    return found[0]


def command_text(container: dict) -> str:
    parts = list(container.get("command") or []) + list(container.get("args") or [])
    return " ".join(str(p) for p in parts)


# --------------------------------------------------------------------------
# Kubernetes checks: each returns a list of problems, empty when fine


def schema_problems(doc: dict) -> list[str]:
    what = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
    try:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
    except kubernetes_validate.ValidationError as e:
        path = ".".join(str(p) for p in e.path)
        return [f"{what}: {path}: {e.message}"]
    except kubernetes_validate.SchemaNotFoundError as e:
        # an unknown kind or apiVersion must not pass silently
        return [f"{what}: {e.message}"]
    return []


def main_container(deployment: dict, service: str) -> dict | None:
    containers = deployment.get("spec", {}).get("template", {}).get("spec", {}).get("containers", [])
    named = [c for c in containers if c.get("name") == service]
    if named:
        return named[0]
    return containers[0] if len(containers) == 1 else None


def resolve_port(container: dict, port) -> int | None:
    """A probe's or Service's port (number or name) as the container's port number."""
    if isinstance(port, int):
        return port
    if isinstance(port, str) and port.isdigit():
        return int(port)
    for p in container.get("ports", []):
        if p.get("name") == port:
            return p.get("containerPort")
    return None


def deployment_problems(deployment: dict, service: str) -> list[str]:
    port = SERVICE_PORTS[service]
    problems: list[str] = []
    spec = deployment.get("spec", {})
    pod = spec.get("template", {})
    pod_spec = pod.get("spec", {})

    if spec.get("replicas", 1) != REPLICAS[service]:
        problems.append(f"replicas {spec.get('replicas', 1)}, expected {REPLICAS[service]}")

    container = main_container(deployment, service)
    if container is None:
        return problems + [f"no container named {service!r}"]

    if f"plumbing.run {service}" not in command_text(container):
        problems.append(f"command {command_text(container)!r} does not run plumbing.run {service}")

    if port not in [p.get("containerPort") for p in container.get("ports", [])]:
        problems.append(f"container does not declare port {port}")

    for probe_name in ("readinessProbe", "livenessProbe"):
        probe = container.get(probe_name)
        if not probe:
            problems.append(f"no {probe_name}")
            continue
        http = probe.get("httpGet")
        if not http:
            problems.append(f"{probe_name} is not an httpGet probe")
            continue
        if http.get("path") != "/health":
            problems.append(f"{probe_name} path {http.get('path')!r}, expected '/health'")
        probed = resolve_port(container, http.get("port"))
        if probed != port:
            problems.append(f"{probe_name} port {http.get('port')!r} -> {probed}, expected {port}")

    resources = container.get("resources", {})
    for bound in ("requests", "limits"):
        for resource in ("cpu", "memory"):
            if resource not in resources.get(bound, {}):
                problems.append(f"no resources.{bound}.{resource}")

    pod_non_root = pod_spec.get("securityContext", {}).get("runAsNonRoot")
    container_non_root = container.get("securityContext", {}).get("runAsNonRoot")
    if not (container_non_root is True or (pod_non_root is True and container_non_root is not False)):
        problems.append("runAsNonRoot is not true")

    annotations = pod.get("metadata", {}).get("annotations", {})
    expected = {"prometheus.io/scrape": "true", "prometheus.io/port": str(port), "prometheus.io/path": "/metrics"}
    for key, value in expected.items():
        if annotations.get(key) != value:
            problems.append(f"pod annotation {key}={annotations.get(key)!r}, expected {value!r}")
    return problems


def service_problems(svc: dict, deployment: dict, service: str) -> list[str]:
    port = SERVICE_PORTS[service]
    problems: list[str] = []
    spec = svc.get("spec", {})
    ports = [p for p in spec.get("ports", []) if p.get("port") == port]
    if not ports:
        problems.append(f"Service does not expose port {port}")
    container = main_container(deployment, service) or {}
    for p in ports:
        target = resolve_port(container, p.get("targetPort", p.get("port")))
        if target != port:
            problems.append(f"Service port {port} targets {p.get('targetPort')!r} -> {target}, expected {port}")
    selector = spec.get("selector") or {}
    labels = deployment.get("spec", {}).get("template", {}).get("metadata", {}).get("labels", {})
    if not selector or any(labels.get(k) != v for k, v in selector.items()):
        problems.append(f"Service selector {selector} does not select the pods labelled {labels}")
    return problems


def secret_refs(resources: list[dict]) -> set[tuple[str, str]]:
    """(secret name, key) pairs that pod specs in these resources use."""
    refs: set[tuple[str, str]] = set()
    for r in resources:
        pod_spec = r.get("spec", {}).get("template", {}).get("spec", {})
        for c in pod_spec.get("containers", []) + pod_spec.get("initContainers", []):
            for env in c.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    refs.add((ref["name"], ref["key"]))
        for volume in pod_spec.get("volumes", []):
            secret = volume.get("secret")
            if secret:
                for item in secret.get("items", []):
                    refs.add((secret["secretName"], item["key"]))
    return refs


# --------------------------------------------------------------------------
# Kubernetes tests


def test_k8s_manifests_exist():
    assert KUSTOMIZATION.is_file(), f"{KUSTOMIZATION} is missing"
    assert manifest_files(), f"no manifests under {K8S}"


@pytest.mark.parametrize("path", manifest_files(), ids=lambda p: p.name)
def test_k8s_manifest_validates_strictly(path: Path):
    docs = load_yaml_documents(path)
    assert docs, f"{path.name} holds no resource"
    problems = [p for doc in docs for p in schema_problems(doc)]
    assert not problems, f"{path.name}:\n" + "\n".join(problems)


def test_schema_check_can_fail():
    deployment = copy.deepcopy(one(applied_resources(), "Deployment", "catalog"))
    assert schema_problems(deployment) == []
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["readinesProbe"] = container.pop("readinessProbe")  # a typo
    assert schema_problems(deployment), "strict validation accepted an unknown field"
    unknown = {"apiVersion": "apps/v1", "kind": "Deploymnt", "metadata": {"name": "x"}}
    assert schema_problems(unknown), "an unknown kind passed validation"


def test_kustomization_lists_every_manifest():
    listed = kustomization().get("resources", [])
    assert len(listed) == len(set(listed)), f"duplicates in kustomization resources: {listed}"
    missing_files = [r for r in listed if not (K8S / r).is_file()]
    assert not missing_files, f"kustomization.yaml lists missing files: {missing_files}"
    files = {p.name for p in manifest_files()}
    unlisted = files - set(listed) - TEMPLATES
    assert not unlisted, f"manifests not in kustomization.yaml (never applied): {sorted(unlisted)}"
    assert not TEMPLATES & set(listed), "templates must not be applied with the rest"


@pytest.mark.parametrize("service", SERVICE_PORTS)
def test_k8s_service_has_deployment_and_service(service: str):
    resources = applied_resources()
    deployment = one(resources, "Deployment", service)
    svc = one(resources, "Service", service)
    problems = deployment_problems(deployment, service) + service_problems(svc, deployment, service)
    assert not problems, f"{service}:\n" + "\n".join(problems)


def test_k8s_has_no_unknown_deployments():
    names = {r["metadata"]["name"] for r in applied_resources() if r.get("kind") == "Deployment"}
    assert names == set(SERVICE_PORTS)


def test_k8s_checks_can_fail():
    resources = applied_resources()
    good = one(resources, "Deployment", "teams")
    good_svc = one(resources, "Service", "teams")
    assert deployment_problems(good, "teams") == []

    def broken(change) -> list[str]:
        d = copy.deepcopy(good)
        change(d["spec"]["template"]["spec"]["containers"][0], d)
        return deployment_problems(d, "teams")

    assert any("livenessProbe" in p for p in broken(lambda c, d: c.pop("livenessProbe")))
    assert any("readinessProbe" in p for p in broken(lambda c, d: c.pop("readinessProbe")))
    assert any("path" in p for p in broken(lambda c, d: c["readinessProbe"]["httpGet"].update(path="/")))
    assert any("port" in p for p in broken(lambda c, d: c["livenessProbe"]["httpGet"].update(port=8002)))
    assert any("replicas" in p for p in broken(lambda c, d: d["spec"].update(replicas=1)))
    assert any("limits" in p for p in broken(lambda c, d: c["resources"].pop("limits")))
    assert any("annotation" in p for p in broken(lambda c, d: d["spec"]["template"]["metadata"].pop("annotations")))
    assert any("runAsNonRoot" in p for p in broken(
        lambda c, d: (c["securityContext"].pop("runAsNonRoot", None),
                      d["spec"]["template"]["spec"]["securityContext"].pop("runAsNonRoot", None))))
    # the same Deployment checked against another service's port fails
    assert deployment_problems(good, "orders")

    svc = copy.deepcopy(good_svc)
    svc["spec"]["ports"][0]["port"] = 80
    assert service_problems(svc, good, "teams")
    svc = copy.deepcopy(good_svc)
    svc["spec"]["selector"] = {"app.kubernetes.io/name": "orders"}
    assert service_problems(svc, good, "teams")


def test_k8s_setup_job_runs_topology_and_every_migration():
    jobs = [r for r in applied_resources() if r.get("kind") == "Job"]
    assert len(jobs) == 1, f"expected one set-up Job, found {len(jobs)}"
    pod_spec = jobs[0]["spec"]["template"]["spec"]
    text = " ".join(command_text(c) for c in pod_spec["containers"])
    assert "plumbing.topology" in text
    assert "plumbing.migrate" in text
    for service in DATABASE_SERVICES:
        assert re.search(rf"\b{service}\b", text), f"the Job does not migrate {service}"
    env = {e["name"] for c in pod_spec["containers"] for e in c.get("env", [])}
    for service in DATABASE_SERVICES:
        assert f"{service.upper()}_DATABASE_URL" in env
    assert pod_spec.get("securityContext", {}).get("runAsNonRoot") is True


def test_k8s_namespace_and_configmap():
    resources = applied_resources()
    namespaces = [r for r in resources if r.get("kind") == "Namespace"]
    assert len(namespaces) == 1
    assert kustomization().get("namespace") == namespaces[0]["metadata"]["name"]
    configmaps = [r for r in resources if r.get("kind") == "ConfigMap"]
    assert configmaps, "no ConfigMap"
    data = {k: v for cm in configmaps for k, v in cm.get("data", {}).items()}
    assert data.get("PINTUAN_ENV") == "production"
    for key, value in data.items():
        assert not re.search(r"://[^/@\s]*:[^/@\s]*@", str(value)), f"credentials in ConfigMap key {key}"
        assert "PRIVATE KEY" not in str(value)
        assert "SECRET" not in key and "PASSWORD" not in key, f"secret-looking ConfigMap key {key}"
    assert not [r for r in resources if r.get("kind") == "Secret"], "a Secret would be applied by kustomize"
    # the gateway's ops view reads every service's /health; the code's default
    # (127.0.0.1) would be the gateway's own pod
    for service in DATABASE_SERVICES:
        assert health_url_problems(data, service) == [], health_url_problems(data, service)


def health_url_problems(env: dict, service: str) -> list[str]:
    key = f"{service.upper()}_HEALTH_URL"
    wanted = f"http://{service}:{SERVICE_PORTS[service]}/health"
    return [] if env.get(key) == wanted else [f"{key}={env.get(key)!r}, expected {wanted!r}"]


def test_k8s_secret_template_is_empty_and_complete():
    secrets = [
        doc for path in manifest_files() for doc in load_yaml_documents(path) if doc.get("kind") == "Secret"
    ]
    assert secrets, "no Secret template"
    provided: set[tuple[str, str]] = set()
    for secret in secrets:
        name = secret["metadata"]["name"]
        for field in ("data", "stringData"):
            for key, value in (secret.get(field) or {}).items():
                assert value in ("", None), f"Secret {name} key {key} is not an empty placeholder"
                provided.add((name, key))
    missing = secret_refs(applied_resources()) - provided
    assert not missing, f"pods use secret keys the template lacks: {sorted(missing)}"


def kustomize_command() -> list[str] | None:
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    return None


@pytest.mark.skipif(kustomize_command() is None, reason="neither kustomize nor kubectl is installed")
def test_kustomize_build_validates():
    result = subprocess.run(
        kustomize_command() + [str(K8S)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    rendered = [d for d in yaml.safe_load_all(result.stdout) if d]
    problems = [p for doc in rendered for p in schema_problems(doc)]
    assert not problems, "\n".join(problems)
    namespace = kustomization()["namespace"]
    for doc in rendered:
        if doc["kind"] != "Namespace":
            assert doc["metadata"].get("namespace") == namespace, doc["metadata"]["name"]
    for service in SERVICE_PORTS:
        assert deployment_problems(one(rendered, "Deployment", service), service) == []


# --------------------------------------------------------------------------
# docker compose


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def compose_ports(service: dict) -> set[tuple[int, int]]:
    """(published, target) pairs of a compose service's ports, either syntax."""
    pairs: set[tuple[int, int]] = set()
    for entry in service.get("ports", []):
        if isinstance(entry, dict):
            if entry.get("published") is not None:
                pairs.add((int(entry["published"]), int(entry["target"])))
            continue
        parts = str(entry).split("/")[0].split(":")
        if len(parts) >= 2 and parts[-1].isdigit() and parts[-2].isdigit():
            pairs.add((int(parts[-2]), int(parts[-1])))
    return pairs


def compose_environment(service: dict) -> dict:
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return env


def joined(value) -> str:
    return " ".join(str(v) for v in value) if isinstance(value, list) else str(value or "")


def compose_service_problems(service: dict, name: str) -> list[str]:
    port = SERVICE_PORTS[name]
    problems: list[str] = []
    if (port, port) not in compose_ports(service):
        problems.append(f"port {port}:{port} not published")
    test = joined(service.get("healthcheck", {}).get("test"))
    if not test or service.get("healthcheck", {}).get("disable"):
        problems.append("no healthcheck")
    elif "/health" not in test or str(port) not in test:
        problems.append(f"healthcheck {test!r} does not probe /health on {port}")
    depends = service.get("depends_on") or {}
    if not isinstance(depends, dict) or depends.get("setup", {}).get("condition") != "service_completed_successfully":
        problems.append("does not depend on setup completing successfully")
    if compose_environment(service).get("PINTUAN_ENV") != "production":
        problems.append("PINTUAN_ENV is not production")
    if f"plumbing.run {name}" not in joined(service.get("command")):
        problems.append(f"command does not run plumbing.run {name}")
    return problems


def test_compose_has_every_service():
    services = compose()["services"]
    expected = set(SERVICE_PORTS) | {"rabbitmq", "postgres", "setup"}
    assert expected <= set(services), f"missing: {sorted(expected - set(services))}"
    assert services["rabbitmq"]["image"].startswith("rabbitmq:3.10-management")
    assert re.fullmatch(r"postgres:15([.-].*)?", services["postgres"]["image"])
    for infra in ("rabbitmq", "postgres"):
        assert joined(services[infra].get("healthcheck", {}).get("test")), f"{infra} has no healthcheck"


@pytest.mark.parametrize("name", SERVICE_PORTS)
def test_compose_service(name: str):
    problems = compose_service_problems(compose()["services"][name], name)
    assert not problems, f"{name}:\n" + "\n".join(problems)


def test_compose_checks_can_fail():
    good = compose()["services"]["payments"]
    assert compose_service_problems(good, "payments") == []
    no_health = copy.deepcopy(good)
    no_health.pop("healthcheck")
    assert compose_service_problems(no_health, "payments")
    wrong_port = copy.deepcopy(good)
    wrong_port["ports"] = ["8080:8005"]
    assert compose_service_problems(wrong_port, "payments")
    no_setup = copy.deepcopy(good)
    no_setup["depends_on"] = {"postgres": {"condition": "service_healthy"}}
    assert compose_service_problems(no_setup, "payments")
    assert compose_service_problems(good, "orders")


def test_compose_gateway_reads_health_of_every_service():
    env = compose_environment(compose()["services"]["gateway"])
    problems = [p for service in DATABASE_SERVICES for p in health_url_problems(env, service)]
    assert not problems, "\n".join(problems)
    assert health_url_problems({}, "catalog")


def test_compose_setup_runs_topology_then_migrations():
    services = compose()["services"]
    setup = services["setup"]
    command = joined(setup.get("command"))
    assert "plumbing.topology" in command and "plumbing.migrate" in command
    assert command.index("plumbing.topology") < command.index("plumbing.migrate")
    for service in DATABASE_SERVICES:
        assert re.search(rf"\b{service}\b", command), f"setup does not migrate {service}"
        assert f"{service.upper()}_DATABASE_URL" in compose_environment(setup)
    for infra in ("rabbitmq", "postgres"):
        assert setup["depends_on"][infra]["condition"] == "service_healthy"
    assert str(setup.get("restart", "no")) == "no"


def test_compose_secrets_come_from_files():
    doc = compose()
    secrets = doc.get("secrets", {})
    for name in ("token_private_key", "token_public_key", "wechat_appid", "wechat_secret"):
        assert name in secrets, f"compose secret {name} missing"
        assert secrets[name]["file"].startswith("./secrets/"), secrets[name]
    services = doc["services"]
    assert "token_private_key" in services["accounts"].get("secrets", [])
    assert "token_public_key" in services["gateway"].get("secrets", [])
    assert compose_environment(services["accounts"])["PINTUAN_TOKEN_PRIVATE_KEY_FILE"] == "/run/secrets/token_private_key"
    assert compose_environment(services["gateway"])["PINTUAN_TOKEN_PUBLIC_KEY_FILE"] == "/run/secrets/token_public_key"
    text = COMPOSE.read_text()
    assert "PRIVATE KEY" not in text
    # passwords are interpolated from the environment, never written here
    for name, service in services.items():
        for key, value in compose_environment(service).items():
            if re.search(r"PASS|SECRET", key):
                assert str(value).startswith("${"), f"{name}: {key} is written into the compose file"
            credentials = re.search(r"://[^/@\s:]+:(.+?)@", str(value or ""))
            if credentials:
                assert credentials.group(1).startswith("${"), f"{name}: {key} holds a password"


def test_postgres_init_creates_every_database():
    postgres = compose()["services"]["postgres"]
    mounts = [joined(v) for v in postgres.get("volumes", [])]
    assert any("postgres-init.sql" in m and "/docker-entrypoint-initdb.d" in m for m in mounts), mounts
    sql = POSTGRES_INIT.read_text()
    for service in DATABASE_SERVICES:
        assert re.search(rf"CREATE\s+DATABASE\s+\"?{service}\"?", sql, re.I), f"no database for {service}"


# --------------------------------------------------------------------------
# Dockerfile


def test_dockerfile_runs_as_non_root_without_secrets():
    lines = [l.strip() for l in DOCKERFILE.read_text().splitlines() if l.strip() and not l.strip().startswith("#")]
    assert lines[0].startswith("FROM") or lines[0].startswith("ARG")
    assert any(re.fullmatch(r"FROM\s+python:3\.11-slim(\S*)?(\s+AS\s+\S+)?", l, re.I) for l in lines)
    users = [l.split()[1] for l in lines if l.upper().startswith("USER ")]
    assert users, "no USER instruction"
    assert users[-1].split(":")[0] not in {"root", "0"}, "the image runs as root"
    for wanted in ("plumbing/", "services/", "gateway/", "deploy/"):
        assert any(l.startswith("COPY") and wanted in l for l in lines), f"{wanted} is not copied"
    for l in lines:
        if re.match(r"(ENV|ARG)\s", l, re.I):
            assert not re.search(r"SECRET|PASSWORD|PRIVATE|TOKEN", l, re.I), f"secret in image: {l}"
    ignored = DOCKERIGNORE.read_text().splitlines()
    assert "deploy/secrets/" in ignored or "deploy/secrets" in ignored, "deploy/secrets would be copied in"
