"""The project's nginx.conf in front of two real API processes and one worker, for real.

Both API servers share one job history, broker and storage (the embedded default: SQLite, the
SQLite Celery transport and a local folder in one DATA_DIR), so whichever server nginx picks
answers the same. The test uploads real footage over TLS through nginx, follows the job over
Server-Sent Events, downloads the outputs, then kills one API server and keeps going.
"""

from __future__ import annotations

import re
import signal
import ssl
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.deploy.nginx_render import nginx_args, write_rendered
from tests.support.services import free_port, wait_until
from tests.support.stack import ServiceStack

pytestmark = pytest.mark.slow  # starts the service as processes

UPSTREAM_RE = re.compile(
    r'"(?P<request>[A-Z]+ \S+) HTTP/[\d.]+" (?P<status>\d+) .* upstream=(?P<upstream>.+?) ustatus='
)


@dataclass
class Proxy:
    https_url: str
    http_url: str
    access_log: Path
    ssl_context: ssl.SSLContext

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.https_url, verify=self.ssl_context, timeout=60)

    def upstream_lines(self) -> list[tuple[str, int, str]]:
        """(request, status, upstream address(es)) for every proxied request nginx logged."""
        rows = []
        for line in self.access_log.read_text().splitlines():
            if match := UPSTREAM_RE.search(line):
                rows.append((match["request"], int(match["status"]), match["upstream"]))
        return rows


@dataclass
class Backend:
    stack: ServiceStack
    apis: dict[str, str]  # label -> "127.0.0.1:port"


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    stack = ServiceStack("nginx-lb", tmp_path_factory.mktemp("nginx-lb"), {"MAX_UPLOAD_MB": "64"})
    try:
        stack.migrate()
        stack.start_worker()  # boots while the API servers start
        apis = {}
        for label in ("api-a", "api-b"):
            apis[label] = stack.start_api(label).removeprefix("http://")
        stack.wait_for_workers()
        yield Backend(stack, apis)
    finally:
        stack.stop_all()


@pytest.fixture(scope="module")
def proxy(
    backend: Backend, tls_cert: Path, nginx_binary: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Proxy]:
    workdir = tmp_path_factory.mktemp("nginx")
    http_port, https_port = free_port(), free_port()
    conf = write_rendered(
        workdir, upstreams=list(backend.apis.values()), http_port=http_port, https_port=https_port,
        cert_dir=tls_cert.parent,
    )  # fmt: skip
    args = nginx_args(conf, workdir)
    args[-1] = "daemon off; " + args[-1]
    access_log = workdir / "access.log"
    with access_log.open("wb") as out, (workdir / "error.log").open("wb") as err:
        process = subprocess.Popen(args, stdout=out, stderr=err, start_new_session=True)
    context = ssl.create_default_context(cafile=str(tls_cert))
    proxy = Proxy(f"https://127.0.0.1:{https_port}", f"http://127.0.0.1:{http_port}", access_log, context)
    try:
        wait_until(
            lambda: httpx.get(f"{proxy.http_url}/nginx-health", timeout=1).status_code == 200, 15, "nginx"
        )
        yield proxy
    finally:
        process.send_signal(signal.SIGQUIT)  # graceful stop of the master and its workers
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        if process.returncode not in (0, -signal.SIGQUIT):
            print((workdir / "error.log").read_text())


def read_events(client: httpx.Client, job_id: str) -> list[tuple[float, str, str]]:
    """(arrival time, event name, data) for each event of the job's SSE stream, through nginx."""
    events: list[tuple[float, str, str]] = []
    name, data = "message", ""
    with client.stream("GET", f"/api/v1/jobs/{job_id}/events", timeout=120) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert "content-encoding" not in response.headers  # never gzipped: that would buffer it
        for line in response.iter_lines():
            if line.startswith("event:"):
                name = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                data = line.split(":", 1)[1].strip()
            elif line == "" and data:
                events.append((time.monotonic(), name, data))
                name, data = "message", ""
    return events


def api_log_count(stack: ServiceStack, label: str, path: str) -> int:
    """How often an API process's own log mentions `path` (any log format)."""
    return (stack.workdir / f"{label}.log").read_text().count(path)


def test_a_resumable_upload_can_send_each_chunk_to_another_server(
    backend: Backend, proxy: Proxy, real_clip: Path
) -> None:
    """tus through nginx: round robin sends the PATCHes to both API servers, which share the upload."""
    data, chunk = real_clip.read_bytes(), 16 * 1024
    tus = {"Tus-Resumable": "1.0.0"}
    with proxy.client() as client:
        metadata = "filename cGVvcGxlLm1wNA==,filetype dmlkZW8vbXA0"  # people.mp4, video/mp4
        created = client.post("/api/v1/uploads", headers={**tus, "Upload-Length": str(len(data)),
                                                          "Upload-Metadata": metadata})  # fmt: skip
        assert created.status_code == 201, created.text
        assert created.headers["location"].startswith(proxy.https_url), created.headers["location"]
        upload = created.headers["location"].removeprefix(proxy.https_url)
        logged_before = len(proxy.upstream_lines())
        offset = 0
        while offset < len(data):
            headers = {**tus, "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"}
            sent = client.patch(upload, content=data[offset : offset + chunk], headers=headers)
            assert sent.status_code == 204, sent.text
            offset = int(sent.headers["upload-offset"])
        patched_by = {up for req, _, up in proxy.upstream_lines()[logged_before:] if req.startswith("PATCH")}
        assert patched_by == set(backend.apis.values()), patched_by
        made = client.post(f"{upload}/job", json={})
        assert made.status_code == 202, made.text
        job = made.json()  # probed whole from the chunks both servers wrote (analysis: the next test)
        assert (job["size"], job["video"]["frames"]) == (len(data), 20), job


def test_nginx_balances_two_api_servers_and_survives_losing_one(
    backend: Backend, proxy: Proxy, real_clip: Path
) -> None:
    started = time.monotonic()
    stack = backend.stack
    with proxy.client() as client:
        # Plain HTTP moves to HTTPS; nginx's own security headers are on every HTTPS answer.
        redirect = httpx.get(f"{proxy.http_url}/api/v1/jobs", follow_redirects=False)
        assert redirect.status_code == 301
        assert redirect.headers["location"].startswith("https://")

        for _ in range(3):
            ready = client.get("/health/ready")
            assert ready.status_code == 200, ready.text
        for _ in range(6):
            assert client.get("/api/v1/jobs", params={"limit": 1}).status_code == 200
        assert ready.headers["x-content-type-options"] == "nosniff"
        assert ready.headers["x-frame-options"] == "DENY"
        assert "max-age=" in ready.headers["strict-transport-security"]
        assert client.get("/metrics").status_code == 404  # scraped internally, not through nginx
        docs = client.get("/openapi.json", headers={"Accept-Encoding": "gzip"})
        assert docs.status_code == 200 and docs.headers.get("content-encoding") == "gzip"
        assert docs.json()["info"]["title"] == "Shadow Trainer"

        # Upload real footage through nginx (streamed: proxy_request_buffering off).
        with real_clip.open("rb") as fh:
            created = client.post("/api/v1/jobs", files={"file": ("people.mp4", fh, "video/mp4")})
        assert created.status_code == 202, created.text
        job_id = created.json()["id"]

        # Server-Sent Events through nginx arrive one by one while the job runs, not all at the end.
        events = read_events(client, job_id)
        names = [name for _, name, _ in events]
        assert names[-1] == "end" and "job" in names, names
        assert '"succeeded"' in events[-1][2], events[-1]
        progress_times = [t for t, name, data in events if name == "job" and '"running"' in data]
        assert progress_times, f"no running-state event came through: {names}"
        assert events[-1][0] - events[0][0] > 0.3, "every event arrived at once: the stream was buffered"

        job = client.get(f"/api/v1/jobs/{job_id}").json()
        assert job["status"] == "succeeded", job
        # Status polls are micro-cached for a second, separately for each caller's credentials.
        assert client.get(f"/api/v1/jobs/{job_id}").headers["x-cache-status"] == "HIT"
        other_caller = client.get(f"/api/v1/jobs/{job_id}", headers={"Authorization": "Bearer someone-else"})
        assert other_caller.headers["x-cache-status"] == "MISS"
        # Download URLs point at nginx (Host and X-Forwarded-Proto passed through).
        assert set(job["outputs"]) >= {"annotated.mp4", "keypoints.json", "punches.json", "summary.json"}
        assert all(url.startswith(proxy.https_url) for url in job["outputs"].values()), job["outputs"]

        # Requests reached both API servers: in nginx's upstream log and in each server's own log.
        served_by = Counter(upstream for _, status, upstream in proxy.upstream_lines() if status < 400)
        assert set(served_by) >= set(backend.apis.values()), served_by
        # (only nginx asked for the job history: 6 requests, round robin → some on each server)
        assert all(api_log_count(stack, label, "/api/v1/jobs") >= 1 for label in backend.apis), stack.logs()

        # Kill one API server outright; nginx keeps serving through the other.
        stack.stop("api-a", sig=signal.SIGKILL)
        survivor = backend.apis["api-b"]
        before = len(proxy.upstream_lines())
        for _ in range(8):
            assert client.get(f"/api/v1/jobs/{job_id}").status_code == 200
        for name in ("keypoints.json", "summary.json", "annotated.mp4"):
            download = client.get(job["outputs"][name])
            assert download.status_code == 200, (name, download.text[:200])
            assert len(download.content) > 0
        assert client.get(job["outputs"]["keypoints.json"]).json()["frame_count"] == 20
        after = [row for row in proxy.upstream_lines()[before:] if row[2] != "-"]  # "-": a cache hit
        assert after and all(status == 200 for _, status, _ in after), after
        assert all(upstream.split(", ")[-1] == survivor for _, _, upstream in after), after

        # Rate limiting: a burst far above 20 r/s (+40 burst) gets 429 in the API's error shape.
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(lambda _: client.get("/health/live"), range(120)))
        limited = [r for r in statuses if r.status_code == 429]
        assert limited, Counter(r.status_code for r in statuses)
        assert limited[0].json()["error"]["code"] == "rate_limited"
        assert any(r.status_code == 200 for r in statuses)
    assert time.monotonic() - started < 60
