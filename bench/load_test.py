"""Load test through nginx: N concurrent uploads and thousands of status polls while workers run.

    uv run python bench/load_test.py --uploads 10 --polls 5000
    uv run python bench/load_test.py --uploads 20 --polls 20000 --concurrency 64 --apis 2 --workers 2
    uv run python bench/load_test.py --backend postgres     # private PostgreSQL database + Redis broker

Everything runs on this machine on 127.0.0.1 and stops at the end: the project's nginx.conf
(rendered as tests/deploy does: TLS with a throw-away self-signed certificate) in front of
`--apis` API processes (uvicorn) and `--workers` Celery workers, sharing one job history
(embedded default: SQLite + the SQLite Celery transport + a local folder; or PostgreSQL + Redis).

Rate limits. nginx.conf limits each client address to 20 r/s (burst 40) and uploads to 30 r/min
(burst 10); every request here comes from 127.0.0.1, so with the limits left on, almost every
poll would be a 429 from nginx and the run would measure nginx's refusal path. The bench raises
both zones to 100000 r/s in its rendered copy (nothing else changes) and raises the API's own
RATE_LIMIT_PER_MINUTE and MAX_JOBS_IN_FLIGHT; `--keep-rate-limits` measures the file as it is.

Prints one table: jobs accepted vs. jobs that reached a terminal state (must be equal), poll
latency p50/p99, polls per second, and errors by kind. Exit status 1 when accepted ≠ terminal.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.deploy.nginx_render import make_self_signed_cert, nginx_args, write_rendered  # noqa: E402
from tests.support.clips import VTEST, cut_clip  # noqa: E402
from tests.support.services import backend_servers, free_port, wait_until  # noqa: E402
from tests.support.stack import TERMINAL, ServiceStack  # noqa: E402

TARGET_RPS, TARGET_P99_MS = 1000.0, 50.0


@dataclass
class Results:
    accepted: list[str] = field(default_factory=list)
    upload_errors: Counter[str] = field(default_factory=Counter)
    poll_latencies_ms: list[float] = field(default_factory=list)
    poll_errors: Counter[str] = field(default_factory=Counter)
    poll_wall_s: float = 0.0
    final_status: Counter[str] = field(default_factory=Counter)
    busy_while_polling: int = 0  # polls that saw a job queued/running: the workers were busy
    upload_wall_s: float = 0.0
    settle_s: float = 0.0
    # With --poll-client wrk: wrk's own measurements (a C client: Python cannot load nginx enough).
    wrk: dict[str, float] = field(default_factory=dict)


def error_kind(exc: BaseException | None = None, response: httpx.Response | None = None) -> str:
    if exc is not None:
        return type(exc).__name__
    assert response is not None
    code = ""
    with contextlib.suppress(Exception):
        code = response.json()["error"]["code"]
    return f"HTTP {response.status_code} {code}".strip()


def render_nginx(workdir: Path, upstreams: list[str], keep_rate_limits: bool) -> tuple[Path, int]:
    cert = make_self_signed_cert(workdir / "certs")
    https_port = free_port()
    conf = write_rendered(
        workdir, upstreams=upstreams, http_port=free_port(), https_port=https_port, cert_dir=cert.parent
    )
    text = conf.read_text()
    if not keep_rate_limits:
        # The documented override: only the two request-rate zones change.
        text, count = re.subn(r"(limit_req_zone [^;]*rate=)\d+r/[sm];", r"\g<1>100000r/s;", text)
        assert count == 2, "nginx.conf's limit_req_zone lines changed: update bench/load_test.py"
    text = text.replace("access_log /dev/stdout upstream;", f"access_log {workdir / 'access.log'} upstream;")
    conf.write_text(text)
    return conf, https_port


@contextlib.contextmanager
def nginx(workdir: Path, upstreams: list[str], keep_rate_limits: bool) -> Iterator[tuple[str, Path]]:
    conf, https_port = render_nginx(workdir, upstreams, keep_rate_limits)
    args = nginx_args(conf, workdir)
    args[-1] = "daemon off; " + args[-1]
    with (workdir / "nginx.err").open("wb") as err:
        process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
    url = f"https://127.0.0.1:{https_port}"
    try:
        wait_until(lambda: httpx.get(f"{url}/health/live", verify=False, timeout=1).status_code == 200, 20,
                   "nginx")  # fmt: skip
        yield url, workdir / "certs" / "tls.crt"
    finally:
        process.send_signal(signal.SIGQUIT)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


async def upload_all(client: httpx.AsyncClient, clip: bytes, count: int, results: Results) -> None:
    async def one(index: int) -> None:
        try:
            response = await client.post(
                "/api/v1/jobs", files={"file": (f"load-{index}.mp4", clip, "video/mp4")}, timeout=120
            )
        except httpx.HTTPError as exc:
            results.upload_errors[error_kind(exc)] += 1
            return
        if response.status_code == 202:
            results.accepted.append(response.json()["id"])
        else:
            results.upload_errors[error_kind(response=response)] += 1

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(count)))
    results.upload_wall_s = time.perf_counter() - started


async def poll_all(client: httpx.AsyncClient, total: int, concurrency: int, results: Results) -> None:
    ids = results.accepted or ["00000000-0000-4000-8000-000000000000"]
    counter = iter(range(total))

    async def runner() -> None:
        for index in counter:
            job_id = ids[index % len(ids)]
            started = time.perf_counter()
            try:
                response = await client.get(f"/api/v1/jobs/{job_id}")
            except httpx.HTTPError as exc:
                results.poll_errors[error_kind(exc)] += 1
                continue
            results.poll_latencies_ms.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                results.poll_errors[error_kind(response=response)] += 1
            elif response.json()["status"] in ("queued", "running"):
                results.busy_while_polling += 1

    started = time.perf_counter()
    await asyncio.gather(*(runner() for _ in range(concurrency)))
    results.poll_wall_s = time.perf_counter() - started


WRK_SCRIPT = """
paths = {%s}
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end
"""


def _wrk_ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


async def poll_with_wrk(url: str, seconds: int, concurrency: int, workdir: Path, results: Results) -> None:
    """Status polls by wrk (C, two threads) while the workers analyse the uploaded videos."""
    ids = results.accepted or ["00000000-0000-4000-8000-000000000000"]
    script = workdir / "polls.lua"
    script.write_text(WRK_SCRIPT % ", ".join(f'"/api/v1/jobs/{job_id}"' for job_id in ids))
    process = await asyncio.create_subprocess_exec(
        "wrk", "-t2", f"-c{concurrency}", f"-d{seconds}s", "--latency", "-s", str(script), url,
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    output = (await process.communicate())[0].decode()
    for name, pattern in (("p50", r"50%\s+(\S+)"), ("p99", r"99%\s+(\S+)")):
        if match := re.search(pattern, output):
            results.wrk[name] = _wrk_ms(match[1])
    if match := re.search(r"Requests/sec:\s+([\d.]+)", output):
        results.wrk["rps"] = float(match[1])
    if match := re.search(r"(\d+) requests in", output):
        results.wrk["requests"] = float(match[1])
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        results.poll_errors["non-2xx"] += int(match[1])
    results.poll_wall_s = float(seconds)


async def settle(client: httpx.AsyncClient, results: Results, timeout_s: float) -> None:
    """Wait (slowly) until every accepted job is terminal; count the final states."""
    started = time.perf_counter()
    pending = set(results.accepted)
    final: dict[str, str] = {}
    while pending and time.perf_counter() - started < timeout_s:
        for job_id in list(pending):
            with contextlib.suppress(httpx.HTTPError):
                response = await client.get(f"/api/v1/jobs/{job_id}")
                status = response.json().get("status") if response.status_code == 200 else None
                if status in TERMINAL:
                    final[job_id] = status
                    pending.discard(job_id)
        if pending:
            await asyncio.sleep(1.0)
    results.final_status = Counter(final.values())
    results.final_status.update({"(not terminal)": len(pending)} if pending else {})
    results.settle_s = time.perf_counter() - started


async def run_load(url: str, cert: Path, clip: bytes, args: argparse.Namespace) -> Results:
    results = Results()
    context = ssl.create_default_context(cafile=str(cert))
    limits = httpx.Limits(max_connections=args.concurrency + args.uploads, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=url, verify=context, limits=limits, timeout=30) as client:
        # warm the keep-alive pool (TLS handshakes are not what is measured)
        await asyncio.gather(*(client.get("/health/live") for _ in range(args.concurrency)))
        await upload_all(client, clip, args.uploads, results)
        if args.poll_client == "wrk":
            await poll_with_wrk(url, args.wrk_seconds, args.concurrency, Path(args.workdir), results)
        else:
            await poll_all(client, args.polls, args.concurrency, results)  # the workers are busy meanwhile
        await settle(client, results, args.settle_timeout)
    return results


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def report(results: Results, args: argparse.Namespace, backend: str) -> bool:
    terminal = sum(n for status, n in results.final_status.items() if status in TERMINAL)
    rps = len(results.poll_latencies_ms) / results.poll_wall_s if results.poll_wall_s else 0.0
    p50, p99 = percentile(results.poll_latencies_ms, 50), percentile(results.poll_latencies_ms, 99)
    if results.wrk:
        rps, p50, p99 = results.wrk.get("rps", 0.0), results.wrk.get("p50", 0.0), results.wrk.get("p99", 0.0)
        results.poll_latencies_ms = [0.0] * int(results.wrk.get("requests", 0))
    rows = [
        ("setup", f"nginx (TLS) → {args.apis} API × {args.workers} worker, {backend}, "
                  f"rate limits {'kept' if args.keep_rate_limits else 'raised'}"),
        ("uploads sent", f"{args.uploads} (concurrent, {results.upload_wall_s:.1f} s)"),
        ("jobs accepted (202)", str(len(results.accepted))),
        ("jobs terminal", f"{terminal}  {dict(results.final_status)} (settled in {results.settle_s:.1f} s)"),
        ("accepted == terminal", "yes" if terminal == len(results.accepted) else "NO"),
        ("polls sent", f"by wrk for {args.wrk_seconds} s" if results.wrk else str(args.polls)
                       + f" with {args.concurrency} concurrent connections"),
        ("polls answered", f"{len(results.poll_latencies_ms)} ({results.busy_while_polling} saw a job "
                           f"queued/running)"),
        ("poll p50 latency", f"{p50:.1f} ms"),
        ("poll p99 latency", f"{p99:.1f} ms (target < {TARGET_P99_MS:.0f} ms)"),
        ("poll mean / max", f"{statistics.fmean(results.poll_latencies_ms or [0]):.1f} / "
                            f"{max(results.poll_latencies_ms or [0]):.1f} ms"),
        ("polls per second", f"{rps:.0f} req/s over {results.poll_wall_s:.1f} s (target ≥ {TARGET_RPS:.0f})"),
        ("upload errors", ", ".join(f"{k}: {v}" for k, v in results.upload_errors.items()) or "none"),
        ("poll errors", ", ".join(f"{k}: {v}" for k, v in results.poll_errors.items()) or "none"),
    ]  # fmt: skip
    width = max(len(name) for name, _ in rows)
    print()
    print(f"{'metric':<{width}} | value")
    print(f"{'-' * width}-+-{'-' * 60}")
    for name, value in rows:
        print(f"{name:<{width}} | {value}")
    met = rps >= TARGET_RPS and p99 < TARGET_P99_MS
    print(
        f"\ntarget (≥ {TARGET_RPS:.0f} polls/s, p99 < {TARGET_P99_MS:.0f} ms): {'met' if met else 'NOT met'}"
    )
    return terminal == len(results.accepted)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--uploads", type=int, default=10, help="concurrent uploads (default 10, at most 200)"
    )
    parser.add_argument("--polls", type=int, default=5000, help="status polls (default 5000, at most 200000)")
    parser.add_argument(
        "--poll-client",
        choices=["python", "wrk"],
        default="python",
        help="who sends the polls: httpx (default) or wrk (Debian package wrk), which can "
        "load nginx far harder than a Python client on the same two cores",
    )
    parser.add_argument("--wrk-seconds", type=int, default=10, help="how long wrk polls (default 10 s)")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent poll connections (≤ 45)")
    parser.add_argument("--apis", type=int, default=2, help="API processes behind nginx (default 2)")
    parser.add_argument("--workers", type=int, default=1, help="Celery worker processes (default 1)")
    parser.add_argument("--backend", choices=["embedded", "postgres"], default="embedded",
                        help="embedded: SQLite + SQLite transport; postgres: PostgreSQL + Redis")  # fmt: skip
    parser.add_argument("--frames", type=int, default=20, help="frames of real footage per upload")
    parser.add_argument("--settle-timeout", type=float, default=600.0, help="seconds to wait for the jobs")
    parser.add_argument(
        "--keep-rate-limits", action="store_true", help="leave nginx.conf's limits as they are"
    )
    args = parser.parse_args()
    args.uploads = max(1, min(args.uploads, 200))
    args.polls = max(1, min(args.polls, 200_000))
    args.concurrency = max(1, min(args.concurrency, 45))  # nginx.conf: limit_conn conn_per_ip 50

    with tempfile.TemporaryDirectory(prefix="shadow-load-") as tmp_name:
        tmp = Path(tmp_name)
        args.workdir = str(tmp)
        (tmp / "redis").mkdir()
        clip = cut_clip(VTEST, tmp / "clip.mp4", frames=args.frames).read_bytes()
        with backend_servers(args.backend, tmp) as env:
            settings = {
                "MAX_UPLOAD_MB": "64", "RATE_LIMIT_PER_MINUTE": "1000000",
                "MAX_JOBS_IN_FLIGHT": str(args.uploads + 10), "LOG_LEVEL": "warning", **env,
            }  # fmt: skip
            stack = ServiceStack("load", tmp / "stack", settings)
            (tmp / "stack").mkdir()
            try:
                print(
                    f"starting {args.apis} API server(s), {args.workers} worker(s) and nginx ...", flush=True
                )
                stack.migrate()
                for index in range(args.workers):
                    stack.env["WORKER_METRICS_PORT"] = str(free_port())
                    stack.start_worker(f"worker-{index}")
                upstreams = [stack.start_api(f"api-{i}").removeprefix("http://") for i in range(args.apis)]
                stack.wait_for_workers(count=args.workers, timeout_s=180)
                (tmp / "nginx").mkdir()
                with nginx(tmp / "nginx", upstreams, args.keep_rate_limits) as (url, cert):
                    print(f"nginx on {url}; {args.uploads} uploads, {args.polls} polls ...", flush=True)
                    results = asyncio.run(run_load(url, cert, clip, args))
                ok = report(results, args, args.backend)
            finally:
                stack.stop_all()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
