"""Offline checks of every deployment file: nginx -t, hadolint, the compose spec, kustomize and
strict Kubernetes schemas, plus the settings each file must agree on with the service."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from api_backend.cli import WEBHOOK_WORKER_ARGS
from api_backend.settings import Settings
from tests.deploy.conftest import tool
from tests.deploy.nginx_render import NGINX_CONF, PROJECT_ROOT, nginx_args, write_rendered

DOCKERFILES = ["Dockerfile.dev", "Dockerfile.prod"]
COMPOSE_FILES = ["docker-compose.dev.yml", "docker-compose.prod.yml"]
OVERLAYS = ["dev", "prod"]


def run(args: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )


def load_yaml(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(path.read_text())
    return document


def nginx_location(conf: str, selector: str) -> str:
    """The body of the `location <selector> { ... }` block (locations hold no nested blocks here)."""
    match = re.search(re.escape(f"location {selector} {{") + r"(?P<body>[^}]*)\}", conf)
    assert match, f"nginx.conf has no `location {selector}`"
    return match.group("body")


# ------------------------------------------------------------------------------------ nginx


def test_nginx_conf_passes_nginx_t(tmp_path: Path, tls_cert: Path, nginx_binary: str) -> None:
    conf = write_rendered(
        tmp_path, upstreams=["127.0.0.1:18001", "127.0.0.1:18002"], http_port=18080, https_port=18443,
        cert_dir=tls_cert.parent,
    )  # fmt: skip
    result = run(nginx_args(conf, tmp_path, "-t"))
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_nginx_conf_matches_the_service() -> None:
    conf = NGINX_CONF.read_text()
    upload = nginx_location(conf, "= /api/v1/jobs")
    max_upload_mb = Settings.model_fields["max_upload_mb"].default
    assert f"client_max_body_size {max_upload_mb}m;" in upload
    assert "proxy_request_buffering off;" in upload
    assert "limit_req zone=uploads_per_ip" in upload

    events = nginx_location(conf, r"~ ^/api/v1/jobs/[^/]+/events$")
    assert "proxy_buffering off;" in events and "gzip off;" in events
    read_timeout = re.search(r"proxy_read_timeout (\d+)s;", events)
    assert read_timeout and int(read_timeout.group(1)) >= 600

    assert re.search(r"^\s*upstream shadow_api \{\s*server api:8000 [^;]*max_fails=", conf, re.MULTILINE)
    assert "proxy_next_upstream error timeout" in conf
    assert re.search(r"limit_req_zone \$binary_remote_addr zone=api_per_ip", conf)
    assert "limit_req_status 429;" in conf
    assert re.search(r"^\s*gzip on;", conf, re.MULTILINE)
    assert "text/event-stream" not in conf.split("gzip_types", 1)[1].split(";", 1)[0]
    assert re.search(r"listen 443 ssl", conf) and re.search(r"listen 80 ", conf)
    for internal in ("/metrics", "/health/detailed"):  # for Prometheus and operators, inside only
        assert "return 404;" in nginx_location(conf, f"= {internal}"), internal
    for header in (
        "Strict-Transport-Security",
        "X-Content-Type-Options",
        "X-Frame-Options",
        "Referrer-Policy",
    ):
        assert f"add_header {header}" in conf


# ------------------------------------------------------------------------------- Dockerfiles


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_dockerfile_passes_hadolint(dockerfile: str) -> None:
    result = run([tool("hadolint"), "--no-color", dockerfile])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_dockerfile_is_locked_non_root_and_healthchecked(dockerfile: str) -> None:
    text = (PROJECT_ROOT / dockerfile).read_text()
    assert "uv.lock" in text and "--frozen" in text
    assert re.search(r"^USER 10001", text, re.MULTILINE), "images must run as a non-root user"
    assert re.search(r"^HEALTHCHECK ", text, re.MULTILINE)
    for stage_source in re.findall(r"^COPY (?:--\S+ )*(\S+)", text, re.MULTILINE):
        if not stage_source.startswith("/"):
            assert (PROJECT_ROOT / stage_source).exists(), f"{dockerfile} copies missing {stage_source}"


def test_prod_dockerfile_has_cpu_and_gpu_targets_and_offline_default_models() -> None:
    text = (PROJECT_ROOT / "Dockerfile.prod").read_text()
    stages = re.findall(r"^FROM \S+ AS (\S+)", text, re.MULTILINE)
    assert {"cpu", "gpu"} <= set(stages)
    assert stages[-1] == "cpu", "the default target (last stage) is the CPU image"
    assert re.search(r'^ARG FETCH_MODELS=""$', text, re.MULTILINE), "weights fetch must be opt-in"
    assert "download.pytorch.org/whl/cpu" in text


def test_dockerignore_keeps_secrets_and_state_out() -> None:
    ignored = (PROJECT_ROOT / ".dockerignore").read_text().split()
    for entry in (".git", ".venv", ".env", "data/"):
        assert entry in ignored


# --------------------------------------------------------------------------------- compose


@pytest.mark.parametrize("compose_file", COMPOSE_FILES)
def test_compose_file_matches_compose_spec(compose_file: str) -> None:
    result = run([tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", compose_file])
    assert result.returncode == 0, result.stdout + result.stderr


def test_dev_compose_services() -> None:
    services = load_yaml(PROJECT_ROOT / "docker-compose.dev.yml")["services"]
    assert {"postgres", "redis", "s3", "api", "worker", "beat", "flower"} <= set(services)
    assert "--reload" in services["api"]["command"]
    assert "./api_backend:/app/api_backend" in services["api"]["volumes"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "api_backend.celery_app", "beat"]
    assert services["api"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_prod_compose_services() -> None:
    compose = load_yaml(PROJECT_ROOT / "docker-compose.prod.yml")
    services = compose["services"]
    assert {"nginx", "api", "worker-gpu", "worker-cpu", "beat", "migrations", "prometheus", "grafana"} <= set(
        services
    )
    api = services["api"]
    assert api["deploy"]["replicas"] >= 2
    assert api["depends_on"]["migrations"]["condition"] == "service_completed_successfully"
    assert services["migrations"]["restart"] == "no"
    assert services["nginx"]["depends_on"]["api"]["condition"] == "service_healthy"
    devices = services["worker-gpu"]["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["driver"] == "nvidia" and "gpu" in devices[0]["capabilities"]
    assert "--queues" in services["worker-cpu"]["command"] and "cpu" in services["worker-cpu"]["command"]
    assert services["beat"]["deploy"]["replicas"] == 1
    for name, service in services.items():
        if name != "migrations":
            assert service.get("restart") == "unless-stopped", name
        assert "limits" in service["deploy"]["resources"], name
    # Secrets come from the environment, with no default value to fall back on.
    text = (PROJECT_ROOT / "docker-compose.prod.yml").read_text()
    for secret in ("SECRET_KEY", "POSTGRES_PASSWORD", "REDIS_PASSWORD", "S3_SECRET_ACCESS_KEY"):
        assert f"${{{secret}:?" in text and f"${{{secret}:-" not in text, secret
    assert "./nginx.conf:/etc/nginx/nginx.conf:ro" in services["nginx"]["volumes"]


def test_webhooks_have_workers_of_their_own_everywhere(rendered: list[dict[str, Any]]) -> None:
    expected = ["shadow-trainer", "worker", *WEBHOOK_WORKER_ARGS]
    compose = load_yaml(PROJECT_ROOT / "docker-compose.prod.yml")["services"]
    assert compose["worker-webhooks"]["command"] == expected
    commands = [c.get("command", []) for d in rendered if d["kind"] == "Deployment"
                for c in d["spec"]["template"]["spec"]["containers"]]  # fmt: skip
    assert expected in commands
    # Analysis workers do not take deliveries.
    assert all(
        "webhooks" not in c for c in commands if c[:2] == ["shadow-trainer", "worker"] and c != expected
    )


def test_the_api_trusts_forwarded_headers_only_from_its_proxy() -> None:
    """`--forwarded-allow-ips "*"` would let any client choose its address (and its rate limit)."""
    files = ["Dockerfile.prod", "docker-compose.prod.yml", *map(str, (PROJECT_ROOT / "k8s").rglob("*.yaml"))]
    for name in files:
        text = (PROJECT_ROOT / name).read_text()
        assert not re.search(r"forwarded-allow-ips[\"',\s]+\*", text), name
    compose = load_yaml(PROJECT_ROOT / "docker-compose.prod.yml")
    subnet = compose["networks"]["default"]["ipam"]["config"][0]["subnet"]
    assert compose["x-app-env"]["FORWARDED_ALLOW_IPS"] == subnet  # the network nginx reaches the API on
    assert all("ports" not in compose["services"][name] for name in ("api", "worker-cpu", "beat"))
    config = load_yaml(PROJECT_ROOT / "k8s" / "base" / "configmap.yaml")
    assert config["data"]["FORWARDED_ALLOW_IPS"] not in ("", "*")


def test_prometheus_config_scrapes_the_api() -> None:
    config = load_yaml(PROJECT_ROOT / "monitoring" / "prometheus.yml")
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["api"]["metrics_path"] == "/metrics"
    assert jobs["api"]["dns_sd_configs"][0]["port"] == 8000


# ------------------------------------------------------------------------------ Kubernetes


def render_overlay(overlay: str) -> list[dict[str, Any]]:
    result = run([tool("kubectl"), "kustomize", f"k8s/overlays/{overlay}"])
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module", params=OVERLAYS)
def rendered(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    return render_overlay(request.param)


def kubernetes_validate(documents: list[dict[str, Any]], path: Path) -> subprocess.CompletedProcess[str]:
    path.write_text(yaml.safe_dump_all(documents))
    return run([tool("kubernetes-validate"), "--strict", "--quiet", str(path)])


def test_kustomize_output_passes_strict_schema_validation(
    rendered: list[dict[str, Any]], tmp_path: Path
) -> None:
    # KEDA's ScaledObject is a CRD without a bundled schema: checked by hand below.
    core = [doc for doc in rendered if doc["kind"] != "ScaledObject"]
    result = kubernetes_validate(core, tmp_path / "rendered.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    # The validator really is strict: an unknown field in a Deployment fails.
    broken = [dict(doc) for doc in core if doc["kind"] == "Deployment"][:1]
    broken[0]["spec"] = {**broken[0]["spec"], "replicaz": 2}
    assert kubernetes_validate(broken, tmp_path / "broken.yaml").returncode != 0


def test_secret_template_is_a_valid_secret(tmp_path: Path) -> None:
    template = PROJECT_ROOT / "k8s" / "base" / "secret.template.yaml"
    result = run([tool("kubernetes-validate"), "--strict", "--quiet", str(template)])
    assert result.returncode == 0, result.stdout + result.stderr
    keys = set(load_yaml(template)["stringData"])
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "REDIS_PASSWORD", "S3_ACCESS_KEY_ID"} <= keys


def by_kind(documents: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in documents if doc["kind"] == kind}


def test_kubernetes_resources_are_wired_together(rendered: list[dict[str, Any]]) -> None:
    deployments = by_kind(rendered, "Deployment")
    configmap = by_kind(rendered, "ConfigMap")["shadow-trainer-config"]
    assert all(
        doc["metadata"].get("namespace") == "shadow-trainer" for doc in rendered if doc["kind"] != "Namespace"
    )
    api = deployments["shadow-trainer-api"]["spec"]["template"]["spec"]["containers"][0]
    assert api["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert api["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert by_kind(rendered, "HorizontalPodAutoscaler")["shadow-trainer-api"]["spec"]["scaleTargetRef"][
        "name"
    ] == ("shadow-trainer-api")
    assert "shadow-trainer-api" in by_kind(rendered, "PodDisruptionBudget")
    beat = deployments["shadow-trainer-beat"]["spec"]
    assert beat["replicas"] == 1 and beat["strategy"]["type"] == "Recreate"
    job = by_kind(rendered, "Job")["shadow-trainer-migrate"]["spec"]["template"]["spec"]["containers"][0]
    assert job["command"] == ["shadow-trainer", "db", "upgrade"]
    ingress = by_kind(rendered, "Ingress")["shadow-trainer"]
    max_upload_mb = Settings.model_fields["max_upload_mb"].default
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/proxy-body-size"] == f"{max_upload_mb}m"
    assert annotations["nginx.ingress.kubernetes.io/proxy-request-buffering"] == "off"
    assert configmap["data"]["MAX_UPLOAD_MB"] == str(max_upload_mb)
    # Every setting name in the ConfigMap is one the service reads (or KEDA's REDIS_ADDRESS).
    known = {name.upper() for name in Settings.model_fields} | {"REDIS_ADDRESS"}
    assert set(configmap["data"]) <= known, set(configmap["data"]) - known
    if "shadow-trainer-worker-gpu" in deployments:
        gpu = deployments["shadow-trainer-worker-gpu"]["spec"]["template"]["spec"]["containers"][0]
        assert gpu["resources"]["limits"]["nvidia.com/gpu"] == "1"
        assert gpu["command"][:4] == ["shadow-trainer", "worker", "--queues", "gpu"]
    cpu = deployments["shadow-trainer-worker-cpu"]["spec"]["template"]["spec"]["containers"][0]
    assert cpu["command"][:4] == ["shadow-trainer", "worker", "--queues", "cpu"]


def test_keda_scaled_objects_by_hand(rendered: list[dict[str, Any]]) -> None:
    """ScaledObject (keda.sh/v1alpha1) checked field by field: no schema is bundled for it."""
    deployments = by_kind(rendered, "Deployment")
    scaled = by_kind(rendered, "ScaledObject")
    assert "shadow-trainer-worker-cpu" in scaled
    allowed_spec = {"scaleTargetRef", "pollingInterval", "cooldownPeriod", "minReplicaCount",
                    "maxReplicaCount", "triggers", "advanced", "fallback", "idleReplicaCount",
                    "initialCooldownPeriod"}  # fmt: skip
    allowed_metadata = {"address", "addressFromEnv", "host", "hostFromEnv", "port", "portFromEnv", "password",
                        "passwordFromEnv", "username", "usernameFromEnv", "listName", "listLength",
                        "activationListLength", "databaseIndex", "enableTLS", "unsafeSsl"}  # fmt: skip
    for name, doc in scaled.items():
        assert doc["apiVersion"] == "keda.sh/v1alpha1"
        assert doc["metadata"]["namespace"] == "shadow-trainer"
        spec = doc["spec"]
        assert set(spec) <= allowed_spec, set(spec) - allowed_spec
        target = deployments[spec["scaleTargetRef"]["name"]]  # scales a Deployment that exists
        assert spec["scaleTargetRef"].get("kind", "Deployment") == "Deployment"
        assert isinstance(spec["minReplicaCount"], int) and isinstance(spec["maxReplicaCount"], int)
        assert 0 <= spec["minReplicaCount"] <= spec["maxReplicaCount"]
        assert isinstance(spec["pollingInterval"], int) and isinstance(spec["cooldownPeriod"], int)
        (trigger,) = spec["triggers"]
        assert trigger["type"] == "redis"
        metadata = trigger["metadata"]
        assert set(metadata) <= allowed_metadata, set(metadata) - allowed_metadata
        assert all(isinstance(value, str) for value in metadata.values()), "KEDA metadata values are strings"
        assert int(metadata["listLength"]) >= 1 and int(metadata["databaseIndex"]) == 0
        container = target["spec"]["template"]["spec"]["containers"][0]
        queue = container["command"][container["command"].index("--queues") + 1]
        assert metadata["listName"] == queue, (
            f"{name} watches {metadata['listName']}, worker consumes {queue}"
        )
        # The *FromEnv variables must exist in the target container's environment.
        configmap = by_kind(rendered, "ConfigMap")["shadow-trainer-config"]["data"]
        assert metadata["addressFromEnv"] in configmap
        sources = {
            ref.get("secretRef", ref.get("configMapRef", {})).get("name") for ref in container["envFrom"]
        }
        assert "shadow-trainer-secrets" in sources
