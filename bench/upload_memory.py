"""Peak memory of an API process while it receives uploads of growing size.

Starts a real API server (embedded default, no worker), streams multipart uploads of the given sizes
to it with a generator (the client holds 1 MiB at a time), samples the server's RSS every 20 ms
from /proc, and prints a table. The bodies are zeros, so the probe refuses them (422) once stored:
what is measured is receiving and spooling the body.

    uv run python bench/upload_memory.py --sizes-mb 200 2048
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.stack import ServiceStack

CHUNK = b"\0" * (1024 * 1024)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def body(size_mb: int) -> Iterator[bytes]:
    yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.mp4"\r\n\r\n'
    for _ in range(size_mb):
        yield CHUNK
    yield b"\r\n--b--\r\n"


def measure(stack: ServiceStack, pid: int, size_mb: int) -> tuple[float, float, float, int, float]:
    peak, stop = [0.0], threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], rss_mb(pid))
            time.sleep(0.02)

    before = rss_mb(pid)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    response = httpx.post(f"{stack.base_url}/api/v1/jobs", content=body(size_mb), timeout=600,
                          headers={"Content-Type": "multipart/form-data; boundary=b"})  # fmt: skip
    seconds = time.perf_counter() - started
    stop.set()
    sampler.join()
    return before, peak[0], rss_mb(pid), response.status_code, seconds


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes-mb", type=int, nargs="+", default=[200, 2048])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="shadow-upload-mem-") as tmp:
        stack = ServiceStack("upload-memory", Path(tmp), {"MAX_UPLOAD_MB": str(max(args.sizes_mb) + 1)})
        try:
            stack.migrate()
            stack.start_api()
            pid = stack.processes["api"].pid
            rows = [(size, *measure(stack, pid, size)) for size in args.sizes_mb]
        finally:
            stack.stop_all()
    headers = ("upload MiB", "RSS before", "RSS peak", "RSS after", "status", "MiB/s")
    print("\n" + " | ".join(f"{h:>10}" for h in headers))
    print("-" * 66)
    for size, before, peak, after, status, seconds in rows:
        cells = (size, f"{before:.0f}M", f"{peak:.0f}M", f"{after:.0f}M", status, f"{size / seconds:.0f}")
        print(" | ".join(f"{cell:>10}" for cell in cells))
    growth = [peak - before for _, before, peak, *_ in rows]
    print(f"\npeak growth while receiving: {', '.join(f'{g:.0f} MiB' for g in growth)} "
          f"(largest/smallest upload: {rows[-1][0] / rows[0][0]:.0f}×)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
