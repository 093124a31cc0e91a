"""Runs the real service as separate processes: `shadow-trainer db upgrade`, the API under
uvicorn, and Celery workers, all configured only through environment variables."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from api_backend.settings import Settings
from tests.support.services import free_port, wait_until

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TERMINAL = {"succeeded", "failed", "cancelled"}
# Every setting of the service: the developer's own values must not leak into the stack under test.
CONFIG_VARS = frozenset(name.upper() for name in Settings.model_fields)


@contextmanager
def running_stack(name: str, workdir: Path, env: dict[str, str]) -> Iterator[ServiceStack]:
    """Migrated database, one API process and one CPU worker, all ready; stopped afterwards."""
    stack = ServiceStack(name, workdir, env)
    try:
        stack.migrate()
        stack.start_api()
        # Workers build webhook links outside any request: to this API (the API itself uses the request's).
        stack.env.setdefault("PUBLIC_BASE_URL", stack.base_url)
        stack.start_worker()
        stack.start_webhook_worker()
        stack.wait_for_workers()
        yield stack
    finally:
        stack.stop_all()


class ServiceStack:
    def __init__(self, name: str, workdir: Path, env: dict[str, str]) -> None:
        self.name = name
        self.workdir = workdir
        self.env = {k: v for k, v in os.environ.items() if k not in CONFIG_VARS}
        self.env.update(
            {
                "ENVIRONMENT": "test",
                "DATA_DIR": str(workdir / "data"),
                "WORKER_HEARTBEAT_S": "1",
                "WORKER_METRICS_PORT": str(free_port()),
                # Shared stacks take many requests and jobs from one client; tests of these limits
                # set them low on stacks of their own.
                "RATE_LIMIT_PER_MINUTE": "1000000",
                "MAX_JOBS_IN_FLIGHT": "1000",
            }
        )
        self.env.update(env)
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.port = 0
        self.base_url = ""

    def _spawn(
        self, label: str, args: list[str], env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        log = (self.workdir / f"{label}.log").open("ab")
        process = subprocess.Popen(
            args, cwd=PROJECT_ROOT, env={**self.env, **(env or {})}, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        self.processes[label] = process
        return process

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "api_backend.cli", *args], cwd=PROJECT_ROOT, env=self.env,
            capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip

    def migrate(self) -> None:
        result = self.cli("db", "upgrade")
        assert result.returncode == 0, result.stderr

    def start_api(self, label: str = "api") -> str:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._spawn(label, [sys.executable, "-m", "uvicorn", "api_backend.main:app", "--host", "127.0.0.1",
                            "--port", str(self.port)])  # fmt: skip
        wait_until(lambda: httpx.get(f"{self.base_url}/health/live", timeout=1).status_code == 200, 60, "API")
        return self.base_url

    def start_embedded(self, label: str = "serve") -> str:
        """The README's first command: `shadow-trainer serve` runs the API and a local worker."""
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._spawn(label, [sys.executable, "-m", "api_backend.cli", "serve", "--port", str(self.port)])
        wait_until(
            lambda: httpx.get(f"{self.base_url}/health/live", timeout=1).status_code == 200, 90, "serve"
        )
        return self.base_url

    def start_worker(self, label: str = "worker", queues: str = "cpu", concurrency: int = 1) -> None:
        self._spawn(label, [sys.executable, "-m", "api_backend.cli", "worker", "--queues", queues,
                            "--concurrency", str(concurrency), "--loglevel", "info"])  # fmt: skip

    def start_webhook_worker(self, label: str = "webhooks") -> None:
        """What `serve` and the deployments run next to the analysis workers."""
        from api_backend.cli import WEBHOOK_WORKER_ARGS

        args = [sys.executable, "-m", "api_backend.cli", "worker", *WEBHOOK_WORKER_ARGS, "--loglevel", "info"]
        self._spawn(label, args, env={"WORKER_METRICS_PORT": "0"})

    def wait_for_workers(self, queue: str = "cpu", count: int = 1, timeout_s: float = 90) -> None:
        def enough() -> bool:
            body = httpx.get(f"{self.base_url}/health/detailed", timeout=10).json()
            return int(body["checks"]["workers"]["queues"].get(queue, 0)) >= count

        wait_until(enough, timeout_s, f"{count} worker(s) on {queue}", interval_s=0.5)
        # The heartbeat starts before Celery connects to the broker; the probe answers once it has.
        probe = f"http://127.0.0.1:{self.env['WORKER_METRICS_PORT']}/health/ready"
        wait_until(lambda: httpx.get(probe, timeout=10).status_code == 200, timeout_s, "worker ready", 0.5)

    def stop(self, label: str, sig: int = signal.SIGTERM, timeout_s: float = 30) -> None:
        process = self.processes.pop(label, None)
        if process is None or process.poll() is not None:
            return
        process.send_signal(sig)  # the main process only: it stops its own children
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)

    def stop_all(self) -> None:
        for label in list(self.processes):
            self.stop(label)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-4000:]}" for p in sorted(self.workdir.glob("*.log")))

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=60)

    def wait_for_job(self, client: httpx.Client, job_id: str, timeout_s: float = 300) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            job: dict[str, Any] = client.get(f"/api/v1/jobs/{job_id}").json()
            if job["status"] in TERMINAL:
                return job
            time.sleep(0.5)
        raise TimeoutError(f"job {job_id} did not finish in {timeout_s} s\n{self.logs()}")
