"""The package as the images run it, without a Docker engine.

A wheel built with ``uv build`` is installed non-editable (with the locked dependencies) into a fresh
virtual environment inside a folder laid out as ``Dockerfile.prod`` lays out ``/app`` (only what it
copies), with the image's environment. Then the service commands of ``docker-compose.prod.yml`` and
``k8s/`` — read from those files, so this test follows them — run there with their environment
against real PostgreSQL, Redis and S3: migrations, the API until ``/health/ready``, a CPU worker that
completes a real job, beat. Only what must differ outside a container is changed: the servers'
addresses, listening ports, and ``/app`` / ``/tmp`` paths.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import yaml

from tests.support.services import (
    RedisServer,
    free_port,
    postgres_database,
    s3_bucket,
    s3_settings,
    started,
    wait_until,
)

pytestmark = pytest.mark.slow  # starts the service as processes

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile.prod"
COMPOSE = ROOT / "docker-compose.prod.yml"
K8S = ROOT / "k8s" / "base"
# Images of ours in compose and k8s (the others are postgres, redis, nginx, prometheus...).
OUR_IMAGES = re.compile(r"shadow-trainer")
SHELLS = {"sh", "bash"}


# ----------------------------------------------------------------------------- the files' contents


def dockerfile_stages() -> dict[str, list[str]]:
    """Instructions of each stage (continuation lines joined), by stage name."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    stages: dict[str, list[str]] = {}
    current: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if match := re.match(r"FROM\s+\S+(?:\s+AS\s+(\S+))?", line, re.IGNORECASE):
            current = stages.setdefault(match.group(1) or f"stage{len(stages)}", [])
        current.append(line)
    return stages


def stage_chain(stages: dict[str, list[str]], name: str) -> list[str]:
    """The instructions of ``name`` after those of the stages it is built FROM."""
    first = stages[name][0].split()[1]
    return ([*stage_chain(stages, first)] if first in stages else []) + stages[name]


def image_copies(stages: dict[str, list[str]], target: str) -> list[str]:
    """The repository paths copied into /app for ``target`` (through its build stages)."""
    copied: list[str] = []
    for line in stage_chain(stages, target):
        parts = shlex.split(line)
        if parts[0].upper() != "COPY":
            continue
        source = next((p for p in parts if p.startswith("--from=")), None)
        if source is None:
            copied += [p for p in parts[1:-1] if not p.startswith("--")]
        elif source[len("--from=") :] in stages:
            copied += image_copies(stages, source[len("--from=") :])
    return list(dict.fromkeys(copied))


def image_env(stages: dict[str, list[str]], target: str) -> dict[str, str]:
    env: dict[str, str] = {}
    for line in stage_chain(stages, target):
        if line.split()[0].upper() == "ENV":
            for pair in shlex.split(line[3:]):
                key, _, value = pair.partition("=")
                env[key] = value
    return env


def image_cmd(stages: dict[str, list[str]], target: str) -> list[str]:
    cmds = [line for line in stage_chain(stages, target) if line.split()[0].upper() == "CMD"]
    return list(json.loads(cmds[-1][3:]))


def compose_services() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = yaml.safe_load(COMPOSE.read_text())["services"]
    return {name: s for name, s in services.items() if OUR_IMAGES.search(str(s.get("image", "")))}


def k8s_commands() -> dict[str, list[str]]:
    """Every command of a container of ours in the base manifests (containers, init containers, hooks)."""
    found: dict[str, list[str]] = {}
    for path in sorted(K8S.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            for name, command in _containers(doc):
                found[f"{path.stem}/{name}"] = command
    return found


def _containers(node: Any, image: str = "") -> Iterator[tuple[str, list[str]]]:
    if isinstance(node, dict):
        image = str(node.get("image", image))
        if "name" in node and ("command" in node or "args" in node) and OUR_IMAGES.search(image):
            yield str(node["name"]), [str(v) for v in [*node.get("command", []), *node.get("args", [])]]
        for key, value in node.items():
            if key == "exec" and isinstance(value, dict) and OUR_IMAGES.search(image):
                yield f"exec:{image}", [str(v) for v in value["command"]]
            elif key not in ("command", "args"):
                yield from _containers(value, image)
    elif isinstance(node, list):
        for item in node:
            yield from _containers(item, image)


def interpolate(value: str, shell: dict[str, str]) -> str:
    """Compose's ``${VAR}``, ``${VAR:-default}``, ``${VAR:?error}`` and ``$$``."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3) or ""
        if op == ":?" and not shell.get(name):
            raise AssertionError(f"compose needs {name}: {arg}")
        return shell.get(name) or (arg if op == ":-" else "")

    return re.sub(r"\$\{(\w+)(?:(:-|:\?)([^}]*))?\}", one, value).replace("$$", "$")


# ----------------------------------------------------------------------------- the installed "image"


@dataclass
class Image:
    app: Path
    env: dict[str, str]

    @property
    def bin(self) -> Path:
        return self.app / ".venv" / "bin"

    def has_program(self, program: str) -> bool:
        return program in SHELLS or (self.bin / program).is_file()


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Image:
    """The cpu image's /app: what Dockerfile.prod copies, and the wheel installed non-editable."""
    base = tmp_path_factory.mktemp("image")
    app, home = base / "app", base / "home" / "app"
    stages = dockerfile_stages()
    for path in image_copies(stages, "cpu"):
        source = ROOT / path
        if source.is_dir():
            shutil.copytree(source, app / path, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.exists():
            app.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, app / path)
    (app / "data").mkdir(parents=True)
    (app / "models" / "onnx-cache").mkdir(parents=True)
    home.mkdir(parents=True)
    uv = shutil.which("uv")
    assert uv, "uv is needed to build the wheel"

    def run(*args: str) -> None:
        result = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=900, check=False)
        assert result.returncode == 0, result.stderr

    run(uv, "build", "--wheel", "--out-dir", str(base / "dist"), "--quiet")
    wheel = next((base / "dist").glob("*.whl"))
    requirements = base / "requirements.txt"
    locked = subprocess.run(
        [uv, "export", "--frozen", "--no-dev", "--no-emit-project", "--no-hashes", "--format",
         "requirements-txt"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=True,
    ).stdout  # fmt: skip
    requirements.write_text(locked)
    venv = app / ".venv"
    run(uv, "venv", "--quiet", "--python", "3.11", str(venv))
    python = str(venv / "bin" / "python")
    # Hard links from uv's cache: the same files, installed in seconds.
    os.environ.setdefault("UV_LINK_MODE", "hardlink")
    run(uv, "pip", "install", "--quiet", "--python", python, "--no-deps", "-r", str(requirements))
    run(uv, "pip", "install", "--quiet", "--python", python, "--no-deps", str(wheel))
    env = {
        "PATH": os.environ["PATH"],
        "LANG": "C.UTF-8",
    }
    for key, value in image_env(stages, "cpu").items():
        value = value.replace("/app", str(app)).replace("/home/app", str(home))
        env[key] = value.replace("$PATH", env["PATH"])
    return Image(app, env)


def test_the_image_holds_the_package_and_not_the_checkout(image: Image) -> None:
    site = next((image.app / ".venv" / "lib").glob("python3*/site-packages"))
    assert (site / "api_backend" / "migrations" / "env.py").is_file()
    assert (site / "shadow_trainer" / "punches" / "punch_candidates.json").is_file()
    assert not (site / "boxing_sim").exists()  # the simulator serves tests and benchmarks, not the service
    assert not (image.app / "migrations").exists() and not (image.app / "alembic.ini").exists()
    # The console scripts import the installed package, not a checkout.
    where = subprocess.run(
        [str(image.bin / "python"), "-I", "-c",
         "import api_backend, shadow_trainer as s; print(api_backend.__file__, s.__file__)"],
        env=image.env, cwd=image.app, capture_output=True, text=True, timeout=60, check=True,
    ).stdout.split()  # fmt: skip
    assert all(Path(p).is_relative_to(site) for p in where), where


def test_every_command_names_a_program_of_the_image(image: Image) -> None:
    stages = dockerfile_stages()
    commands = {f"Dockerfile.prod {t} CMD": image_cmd(stages, t) for t in ("cpu", "gpu")}
    for name, service in compose_services().items():
        if "command" in service:
            commands[f"compose {name}"] = [str(c) for c in service["command"]]
    commands.update({f"k8s {name}": command for name, command in k8s_commands().items()})
    assert len(commands) >= 10
    missing = {name: c[0] for name, c in commands.items() if not image.has_program(c[0])}
    assert missing == {}
    for name, command in commands.items():
        if command[0] == "shadow-trainer":  # the subcommand exists and parses its options
            help_args = [a for a in command[1:] if not a.startswith("-") and not a[0].isdigit()][:2]
            result = subprocess.run(
                [str(image.bin / "shadow-trainer"), *help_args, "--help"], env=image.env, cwd=image.app,
                capture_output=True, text=True, timeout=60, check=False,
            )  # fmt: skip
            assert result.returncode == 0, (name, result.stderr)


@pytest.fixture(scope="module")
def service_env(
    image: Image,
    postgres_url: str,
    s3_endpoint: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, str]]:
    """Compose's application environment, interpolated as compose would, with our servers' addresses.

    The database and Redis are this module's own: the session's shared Redis is consumed by the
    session-scoped stack's worker, which would take this test's job and not find it in its database.
    """
    del postgres_url  # the shared server is up; this module gets a database of its own
    broker = RedisServer(tmp_path_factory.mktemp("redis"))
    with postgres_database() as database, started(broker), s3_bucket(s3_endpoint) as bucket:
        s3 = s3_settings(s3_endpoint, bucket)
        shell = {
            "SECRET_KEY": "a-long-random-secret-for-this-test-only-0123456789",
            "POSTGRES_PASSWORD": "unused",
            "PUBLIC_BASE_URL": "http://set-by-the-test.invalid",
            "REDIS_PASSWORD": "unused",
            **s3,
        }
        app_env = yaml.safe_load(COMPOSE.read_text())["x-app-env"]
        env = {**image.env}
        for key, value in app_env.items():
            env[key] = interpolate(str(value), shell) if value is not None else shell.get(key, "")
        env = {
            k: v for k, v in env.items() if v != "" or k not in ("S3_ENDPOINT_URL", "S3_PUBLIC_ENDPOINT_URL")
        }
        env.update(
            {"DATABASE_URL": database, "REDIS_URL": broker.url, "S3_ENDPOINT_URL": s3["S3_ENDPOINT_URL"]}
        )
        env["WORKER_METRICS_PORT"] = str(free_port())
        env["WORKER_HEARTBEAT_S"] = "1"
        yield env


class Processes:
    def __init__(self, image: Image, env: dict[str, str], logs: Path) -> None:
        self.image, self.env, self.logs = image, env, logs
        self.running: dict[str, subprocess.Popen[bytes]] = {}

    def argv(self, command: list[str]) -> list[str]:
        program = command[0] if command[0] in SHELLS else str(self.image.bin / command[0])
        tmp = self.logs / "tmp"
        tmp.mkdir(exist_ok=True)
        return [program, *(a.replace("/tmp/", f"{tmp}/") for a in command[1:])]

    def run(self, command: list[str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.argv(command), env=self.env, cwd=self.image.app, capture_output=True, text=True,
            timeout=timeout, check=False,
        )  # fmt: skip

    def start(self, label: str, command: list[str]) -> None:
        log = (self.logs / f"{label}.log").open("ab")
        self.running[label] = subprocess.Popen(
            self.argv(command), env=self.env, cwd=self.image.app, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def log(self, label: str) -> str:
        return (self.logs / f"{label}.log").read_text()[-4000:]

    def stop_all(self) -> None:
        for process in self.running.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.running.values():
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def _listen_on(command: list[str], port: int) -> list[str]:
    """The API command listening on localhost:``port`` instead of 0.0.0.0:8000."""
    out = list(command)
    out[out.index("--host") + 1] = "127.0.0.1"
    out[out.index("--port") + 1] = str(port)
    return out


def test_the_services_run_from_the_installed_package(
    image: Image, service_env: dict[str, str], real_clip: Path, tmp_path: Path
) -> None:
    compose = compose_services()
    k8s = k8s_commands()
    stages = dockerfile_stages()
    ports = [free_port(), free_port()]
    # Links in job documents are built on PUBLIC_BASE_URL (compose requires it): the first API here.
    env = {**service_env, "PUBLIC_BASE_URL": f"http://127.0.0.1:{ports[0]}"}
    procs = Processes(image, env, tmp_path)
    try:
        # Migrations: compose's one-shot service, then the k8s Job (a second run is a no-op).
        for command in (compose["migrations"]["command"], k8s["migrations-job/migrate"]):
            result = procs.run([str(c) for c in command])
            assert result.returncode == 0, result.stderr
        result = procs.run(k8s["api/wait-for-migrations"], timeout=120)
        assert result.returncode == 0, result.stderr

        # The API: the cpu image's CMD (compose's api service runs it), and the k8s Deployment's command.
        assert "command" not in compose["api"]
        urls = []
        apis = (("api-image", image_cmd(stages, "cpu")), ("api-k8s", k8s["api/api"]))
        for (label, command), port in zip(apis, ports, strict=True):
            procs.start(label, _listen_on(command, port))
            urls.append(f"http://127.0.0.1:{port}")
        for url in urls:
            wait_until(
                lambda u=url: httpx.get(f"{u}/health/ready", timeout=2).status_code == 200, 90, "API ready"
            )

        # A CPU worker (compose's; the k8s Deployment runs the same command) and beat.
        worker = [interpolate(str(c), {}) for c in compose["worker-cpu"]["command"]]
        assert worker == k8s["workers/worker"] or worker[:4] == k8s["workers/worker"][:4]
        procs.start("worker", worker)
        beat = [str(c) for c in compose["beat"]["command"]]
        assert beat == k8s["beat/beat"]
        procs.start("beat", beat)
        probe = f"http://127.0.0.1:{service_env['WORKER_METRICS_PORT']}/health/ready"
        wait_until(lambda: httpx.get(probe, timeout=5).status_code == 200, 120, "worker ready", 0.5)
        job = _run_job(urls[1], real_clip)  # asked of the second API, linked to the public one
        waiting = redis.Redis.from_url(service_env["REDIS_URL"]).llen("cpu")
        assert job["status"] == "succeeded", (job, f"{waiting} waiting on the cpu queue", procs.log("worker"))
        for name, url in job["outputs"].items():
            assert url.startswith(env["PUBLIC_BASE_URL"] + "/api/v1/jobs/"), url
            response = httpx.get(url, timeout=30, follow_redirects=True)
            assert response.status_code == 200 and response.content, name
        wait_until(lambda: "beat: Starting" in procs.log("beat"), 30, "beat")
        assert procs.running["beat"].poll() is None, procs.log("beat")
    finally:
        procs.stop_all()


def _run_job(base_url: str, clip: Path) -> dict[str, Any]:
    """The job as it ended, or as it last was after 300 s."""
    with httpx.Client(base_url=base_url, timeout=60) as client, clip.open("rb") as handle:
        response = client.post("/api/v1/jobs", files={"file": (clip.name, handle, "video/mp4")})
        assert response.status_code == 202, response.text
        job_id = response.json()["id"]
        deadline = time.monotonic() + 300
        job: dict[str, Any] = {}
        while time.monotonic() < deadline:
            job = client.get(f"/api/v1/jobs/{job_id}").json()
            if job["status"] in ("succeeded", "failed", "cancelled"):
                return job
            time.sleep(1)
    return job


def test_serve_runs_from_the_installed_package_in_any_folder(image: Image, tmp_path: Path) -> None:
    """`pip install` + `shadow-trainer serve` (the embedded default) migrates its SQLite and serves."""
    env = {**image.env, "DATA_DIR": str(tmp_path / "data"), "WORKER_METRICS_PORT": "0"}
    env.pop("MODEL_DIR", None)
    port = free_port()
    log = (tmp_path / "serve.log").open("ab")
    process = subprocess.Popen(
        [str(image.bin / "shadow-trainer"), "serve", "--port", str(port), "--no-worker"],
        cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: httpx.get(f"{url}/health/ready", timeout=2).status_code == 200, 90, "serve")
        assert "Shadow Trainer" in httpx.get(url, timeout=10).text
        assert (tmp_path / "data").is_dir() and list((tmp_path / "data").glob("*.db"))
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
