"""Alert rules and dashboards: valid for Prometheus, unit-tested, and only naming real metrics."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.support.stack import PROJECT_ROOT, ServiceStack

MONITORING = PROJECT_ROOT / "monitoring"
RULES = MONITORING / "rules" / "shadow-trainer.yml"
DASHBOARD = MONITORING / "grafana" / "dashboards" / "shadow-trainer.json"
METRIC = re.compile(r"\b((?:shadow|http|upload|jobs)_[a-z_]+)\b")
SUFFIXES = ("_bucket", "_count", "_sum", "_total", "_created")
GPU_ONLY = {"shadow_gpu_memory_used_bytes", "shadow_gpu_memory_total_bytes", "shadow_gpu_utilization_ratio"}


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("promtool")
    assert binary, "promtool is missing (Debian package prometheus; .ci/run installs it)"
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=60, check=False)


def test_rules_are_valid() -> None:
    result = promtool("check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_alert_unit_tests_pass() -> None:
    result = promtool("test", "rules", str(MONITORING / "tests" / "alerts_test.yml"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_prometheus_config_is_valid(tmp_path: Path) -> None:
    # The config names rule files at their in-container path; point it at ours for the check.
    config = (MONITORING / "prometheus.yml").read_text().replace("/etc/prometheus/rules/", f"{RULES.parent}/")
    (tmp_path / "prometheus.yml").write_text(config)
    result = promtool("check", "config", str(tmp_path / "prometheus.yml"))
    assert result.returncode == 0, result.stdout + result.stderr


def base_name(name: str) -> str:
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def referenced_metrics() -> set[str]:
    expressions = [rule["expr"] for rule in _rules()]
    expressions += [
        t["expr"] for panel in json.loads(DASHBOARD.read_text())["panels"] for t in panel["targets"]
    ]
    return {base_name(name) for expr in expressions for name in METRIC.findall(expr)}


def _rules() -> list[dict[str, str]]:
    import yaml

    document = yaml.safe_load(RULES.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def exported_metrics(*texts: str) -> set[str]:
    names = set()
    for text in texts:
        for line in text.splitlines():
            if line and not line.startswith("#"):
                names.add(base_name(re.split(r"[{ ]", line, maxsplit=1)[0]))
    return names


@pytest.mark.usefixtures("real_clip")
def test_every_metric_in_alerts_and_dashboards_is_exported(
    distributed_stack: ServiceStack, real_clip: Path
) -> None:
    worker_url = f"http://127.0.0.1:{distributed_stack.env['WORKER_METRICS_PORT']}/metrics"
    with distributed_stack.client() as client:
        if "shadow_jobs_finished_total{" not in httpx.get(worker_url).text:
            with real_clip.open("rb") as handle:
                job = client.post("/api/v1/jobs", files={"file": ("c.mp4", handle, "video/mp4")}).json()
            distributed_stack.wait_for_job(client, job["id"])
        client.get("/api/v1/jobs/00000000-0000-0000-0000-000000000000")  # a 404 is still a request
        exported = exported_metrics(client.get("/metrics").text, httpx.get(worker_url).text)
    missing = referenced_metrics() - exported - GPU_ONLY
    assert not missing, f"alerts or dashboards use metrics nothing exports: {sorted(missing)}"
