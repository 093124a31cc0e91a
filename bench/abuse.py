"""Hostile clients against a running stack: what comes back for each abuse of issue 13's list.

    uv run python bench/abuse.py                      # PostgreSQL (a private database) + Redis
    uv run python bench/abuse.py --backend embedded   # SQLite + the SQLite transport

Starts API keys auth, one API server, a CPU worker and the webhooks worker, all on 127.0.0.1, then:
  1. one key opens 50 event streams while another owner's requests are timed (p99);
  2. a webhook receiver trickles one byte a second while another job runs (its time vs one alone);
  3. four 16000×16000 single-frame uploads at once (answers, the API's peak memory);
  4. 2 × MAX_JOBS_IN_FLIGHT concurrent uploads from one key; a raw .h264 that lies about its
     duration, a stream whose frames grow to 8K (the jobs' ends);
  5. rotating X-Forwarded-For, guessed keys (when 429 comes);
  6. bodies: an epilogue past the limit, repeated fields, no closing boundary, a short Content-Length;
  7. a client that leaves mid-upload, a 257-character boundary.
Prints a row per item, then the targets: no 5xx from client input, other owners' p99 < 200 ms while
the streams and the slow receiver are active, every accepted job ends. Exit status 1 when one is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.clips import VTEST, cut_clip  # noqa: E402
from tests.support.hostile_media import growing_stream, pixel_bomb, raw_long_stream  # noqa: E402
from tests.support.receivers import TricklingReceiver, serving  # noqa: E402
from tests.support.services import backend_servers  # noqa: E402
from tests.support.stack import TERMINAL, ServiceStack  # noqa: E402

JOBS_LIMIT, STREAMS_LIMIT, STREAMS, MAX_UPLOAD_MB, REQUESTS_LIMIT = 4, 8, 50, 8, 300
TARGET_P99_MS = 200.0


class Report:
    """Prints a row per abuse as it comes back; remembers the jobs it got accepted."""

    def __init__(self) -> None:
        self.accepted: set[str] = set()

    def add(self, item: str, sent: str, answer: str) -> None:
        print(f"  {item:<4} {sent:<52} {answer}", flush=True)


def codes(responses: list[httpx.Response]) -> str:
    return codes_of([response.status_code for response in responses])


def error_codes(responses: list[httpx.Response]) -> str:
    found = sorted({r.json()["error"]["code"] for r in responses if r.status_code >= 400})
    return "/".join(found) or "-"


class Abuser:
    def __init__(self, stack: ServiceStack, clip: Path, tmp: Path, report: Report) -> None:
        self.stack, self.clip, self.tmp, self.report = stack, clip, tmp, report
        self.base = stack.base_url

    def key(self, name: str) -> dict[str, str]:
        result = self.stack.cli("keys", "create", name)
        return {"Authorization": f"Bearer {result.stdout.strip()}"}

    def submit(self, headers: dict[str, str], path: Path, **fields: str) -> httpx.Response:
        with path.open("rb") as handle:
            response = httpx.post(f"{self.base}/api/v1/jobs", headers=headers, data=fields, timeout=120,
                                  files={"file": (path.name, handle, "video/mp4")})  # fmt: skip
        if response.status_code in (200, 202):
            self.report.accepted.add(response.json()["id"])
        return response

    def wait(self, headers: dict[str, str], job_id: str, timeout_s: float = 300) -> dict[str, Any]:
        with httpx.Client(base_url=self.base, headers=headers, timeout=30) as client:
            return self.stack.wait_for_job(client, job_id, timeout_s)

    # 1 + 2: streams and a slow receiver, with another owner's latency measured meanwhile
    async def streams_and_slow_webhook(self) -> float:
        streamer, other, hooks = self.key("streamer"), self.key("other"), self.key("hooks")
        job_id = self.submit(streamer, self.clip, device="gpu").json()["id"]  # waits: no GPU worker
        alone_s = self.timed_job(other)
        with serving(TricklingReceiver) as hook:
            self.wait(hooks, self.submit(hooks, self.clip, callback_url=hook).json()["id"])
            statuses, latencies, busy_s = await self.while_streams_open(streamer, job_id, other)
        httpx.post(f"{self.base}/api/v1/jobs/{job_id}/cancel", headers=streamer, timeout=30)
        p99 = statistics.quantiles(latencies, n=100)[98] * 1000
        self.report.add("1", f"{STREAMS} event streams from one key", f"{codes_of(statuses)}")
        self.report.add("1", "another owner's requests meanwhile (p50 / p99)",
                        f"{statistics.median(latencies) * 1000:.0f} / {p99:.0f} ms")  # fmt: skip
        self.report.add(
            "2", "a job while a receiver trickles its webhook", f"{busy_s:.1f} s (alone: {alone_s:.1f} s)"
        )
        return p99

    def timed_job(self, headers: dict[str, str]) -> float:
        """Seconds from upload to the job's end."""
        start = time.monotonic()
        self.wait(headers, self.submit(headers, self.clip).json()["id"])
        return time.monotonic() - start

    async def while_streams_open(
        self, streamer: dict[str, str], job_id: str, other: dict[str, str]
    ) -> tuple[list[int], list[float], float]:
        """Open STREAMS streams on ``job_id``; while they are open, time ``other``'s requests and a job."""
        release = asyncio.Event()
        statuses: list[int] = []
        limits = httpx.Limits(max_connections=STREAMS + 10)
        async with httpx.AsyncClient(
            base_url=self.base, headers=streamer, timeout=60, limits=limits
        ) as client:

            async def hold() -> None:
                async with client.stream("GET", f"/api/v1/jobs/{job_id}/events") as response:
                    statuses.append(response.status_code)
                    if response.status_code == 200:
                        await release.wait()

            holders = [asyncio.create_task(hold()) for _ in range(STREAMS)]
            while len(statuses) < STREAMS:
                await asyncio.sleep(0.05)
            latencies = await self.timed_requests(other)
            busy_s = await asyncio.to_thread(self.timed_job, other)
            release.set()
            await asyncio.gather(*holders)
        return statuses, latencies, busy_s

    async def timed_requests(self, headers: dict[str, str]) -> list[float]:
        latencies = []
        async with httpx.AsyncClient(base_url=self.base, headers=headers, timeout=60) as client:
            for path in ("/api/v1/jobs?limit=5", "/health/ready") * 50:
                start = time.monotonic()
                await client.get(path)
                latencies.append(time.monotonic() - start)
        return latencies

    # 3
    def pixel_bombs(self, api_pid: int) -> None:
        bomb = pixel_bomb(self.tmp / "bomb.mp4")
        headers = self.key("bomber")
        before_mb = peak_memory_mb(api_pid)
        threads_out: list[httpx.Response] = []
        threads = [
            threading.Thread(target=lambda: threads_out.append(self.submit(headers, bomb))) for _ in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        answer = f"{codes(threads_out)} {error_codes(threads_out)}"
        memory = f"API peak {before_mb} → {peak_memory_mb(api_pid)} MB"
        self.report.add(
            "3", f"4 × 16000×16000 frame ({bomb.stat().st_size // 1024} KiB) at once", f"{answer}; {memory}"
        )

    # 4
    async def limits(self) -> None:
        headers = self.key("rush")
        body = self.clip.read_bytes()
        async with httpx.AsyncClient(base_url=self.base, headers=headers, timeout=120) as client:
            files = {"file": ("c.mp4", body, "video/mp4")}
            posts = [
                client.post("/api/v1/jobs", files=files, data={"device": "gpu"})
                for _ in range(2 * JOBS_LIMIT)
            ]
            answers = list(await asyncio.gather(*posts))
        for answer in answers:
            if answer.status_code == 202:
                self.report.accepted.add(answer.json()["id"])
                httpx.post(
                    f"{self.base}/api/v1/jobs/{answer.json()['id']}/cancel", headers=headers, timeout=30
                )
        self.report.add("4", f"{2 * JOBS_LIMIT} concurrent uploads, limit {JOBS_LIMIT}", codes(answers))
        liar = self.key("liar")
        liars = {
            "raw .h264, 12 s, probes as 0.04 s": raw_long_stream(self.tmp / "long", 12),
            "raw .h264, 64×48 then 7680×4320": growing_stream(self.tmp / "grow"),
        }
        for label, path in liars.items():
            response = self.submit(liar, path)
            job = self.wait(liar, response.json()["id"]) if response.status_code == 202 else {}
            error = (job.get("error") or {}).get("code", "-")
            self.report.add("4", label, f"{response.status_code}, job {job.get('status', '-')} {error}")

    # 5
    def rate_limits(self) -> None:
        job = "00000000-0000-4000-8000-000000000000"
        url = f"{self.base}/api/v1/jobs/{job}/outputs/summary.json?expires=1&signature=x"
        count = REQUESTS_LIMIT + 50
        with httpx.Client(timeout=10) as client:
            rotating = [
                client.get(url, headers={"X-Forwarded-For": f"203.0.113.{i % 250}"}) for i in range(count)
            ]
        first = next((i for i, r in enumerate(rotating) if r.status_code == 429), None)
        self.report.add("5", f"{count} downloads, each with its own X-Forwarded-For",
                        f"{codes(rotating)}; first 429 at #{first}")  # fmt: skip
        with httpx.Client(base_url=self.base, timeout=10) as client:
            guesses = [
                client.get("/api/v1/jobs", headers={"Authorization": f"Bearer st_{i:040d}"})
                for i in range(20)
            ]
        first = next((i for i, r in enumerate(guesses) if r.status_code == 429), None)
        self.report.add("5", "20 guessed keys", f"{codes(guesses)}; first 429 at #{first}")

    # 6 + 7
    def bodies(self) -> None:
        disposition = b'Content-Disposition: form-data; name="file"; filename="a.mp4"\r\n'
        whole_part = disposition + b"Content-Type: video/mp4\r\n\r\n" + self.clip.read_bytes()
        whole = b"--b\r\n" + whole_part + b"\r\n--b--\r\n"
        repeated = b'--b\r\nContent-Disposition: form-data; name="model"\r\n\r\nm\r\n' * 40
        long_b = "x" * 257
        cases = {
            f"valid video + {MAX_UPLOAD_MB + 2} MiB epilogue": (
                "6",
                whole + b"E" * ((MAX_UPLOAD_MB + 2) << 20),
                "b",
            ),
            "40 repeated form fields": ("6", repeated + whole, "b"),
            "no closing boundary": ("6", b"--b\r\n" + whole_part, "b"),
            "257-character boundary": (
                "7",
                f"--{long_b}\r\n".encode() + whole_part + f"\r\n--{long_b}--\r\n".encode(),
                long_b,
            ),
        }
        headers = self.key("bodies")
        for label, (item, body, boundary) in cases.items():
            content_type = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
            url = f"{self.base}/api/v1/jobs"
            response = httpx.post(url, content=body, headers={**headers, **content_type}, timeout=60)
            if response.status_code == 202:
                self.report.accepted.add(response.json()["id"])
            self.report.add(item, label, f"{codes([response])} {error_codes([response])}")
        auth = headers["Authorization"]
        head = f"POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n" \
               "Content-Type: multipart/form-data; boundary=b\r\n"  # fmt: skip
        short = f"{head}Content-Length: {len(whole) - 2000}\r\nConnection: close\r\n\r\n".encode() + whole
        self.report.add("6", "Content-Length 2000 bytes short", raw_status(self.stack.port, short))
        half = f"{head}Content-Length: {len(whole)}\r\n\r\n".encode() + whole[: len(whole) // 2]
        raw_status(self.stack.port, half, wait=False)
        time.sleep(1)
        self.report.add("7", "client leaves mid-upload", "(see the 5xx count below)")


def peak_memory_mb(pid: int) -> int:
    peak = re.search(r"VmHWM:\s+(\d+)", Path(f"/proc/{pid}/status").read_text())
    return int(peak.group(1)) // 1024 if peak else -1


def codes_of(statuses: list[int]) -> str:
    counts: dict[int, int] = {}
    for status in statuses:
        counts[status] = counts.get(status, 0) + 1
    return ", ".join(f"{n}×{code}" for code, n in sorted(counts.items()))


def raw_status(port: int, request: bytes, wait: bool = True) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request)
        return sock.recv(4096).split(b"\r\n", 1)[0].decode() if wait else ""


def server_errors(base: str) -> float:
    metrics = httpx.get(f"{base}/metrics", timeout=10).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
               if line.startswith("http_requests_total{") and 'status="5' in line)  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["postgres", "embedded"], default="postgres")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="shadow-abuse-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "redis").mkdir()
        (tmp / "stack").mkdir()
        clip = cut_clip(VTEST, tmp / "clip.mp4", frames=20)
        with backend_servers(args.backend, tmp) as env:
            settings = {
                "AUTH_MODE": "api_key", "MAX_JOBS_IN_FLIGHT": str(JOBS_LIMIT),
                "MAX_EVENT_STREAMS": str(STREAMS_LIMIT), "MAX_UPLOAD_MB": str(MAX_UPLOAD_MB),
                "MAX_VIDEO_DURATION_S": "5", "MAX_VIDEO_PIXELS": str(1920 * 1080),
                "RATE_LIMIT_PER_MINUTE": str(REQUESTS_LIMIT), "AUTH_FAILURES_PER_MINUTE": "10",
                "ALLOW_PRIVATE_CALLBACKS": "true",
                "CALLBACK_TIMEOUT_S": "3", "FORWARDED_ALLOW_IPS": "10.9.9.9", "LOG_LEVEL": "warning", **env,
            }  # fmt: skip
            stack = ServiceStack("abuse", tmp / "stack", settings)
            try:
                print(f"starting the stack ({args.backend}) ...", flush=True)
                stack.migrate()
                stack.start_api()
                stack.start_worker()
                stack.start_webhook_worker()
                stack.wait_for_workers()
                return run(stack, clip, tmp)
            finally:
                stack.stop_all()


def run(stack: ServiceStack, clip: Path, tmp: Path) -> int:
    report = Report()
    abuser = Abuser(stack, clip, tmp, report)
    errors_before = server_errors(stack.base_url)
    print(f"  {'item':<4} {'sent':<52} came back")
    p99 = asyncio.run(abuser.streams_and_slow_webhook())
    abuser.pixel_bombs(stack.processes["api"].pid)
    asyncio.run(abuser.limits())
    abuser.rate_limits()
    abuser.bodies()
    server_side = server_errors(stack.base_url) - errors_before
    ended = ended_jobs(stack, report.accepted)
    print(f"\n5xx answers: {server_side:.0f} (target 0)")
    target = f"target < {TARGET_P99_MS:.0f}"
    print(f"other owners' p99 with the streams open and a slow receiver: {p99:.0f} ms ({target})")
    print(f"accepted jobs: {len(report.accepted)}, ended: {ended} (target: equal)")
    met = server_side == 0 and p99 < TARGET_P99_MS and ended == len(report.accepted)
    print("targets:", "met" if met else "NOT met")
    return 0 if met else 1


def ended_jobs(stack: ServiceStack, accepted: set[str], timeout_s: float = 300) -> int:
    """Accepted jobs that reached a terminal state: the keys that made them are gone, so the database
    is asked directly (the stack's own settings)."""
    from sqlalchemy import create_engine, text

    from api_backend.settings import Settings

    fields = {k.lower(): v for k, v in stack.env.items() if k in ("DATABASE_URL", "DATA_DIR")}
    engine = create_engine(Settings.model_validate(fields).resolved_database_url)
    deadline = time.monotonic() + timeout_s
    ended = 0
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT id, status FROM jobs")).all()
        ended = sum(1 for job_id, status in rows if str(job_id) in accepted and status in TERMINAL)
        if ended == len(accepted):
            break
        time.sleep(1)
    engine.dispose()
    return ended


if __name__ == "__main__":
    sys.exit(main())
