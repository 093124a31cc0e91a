"""Shared fixtures: real footage, real servers, and the service running as real processes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.clips import VTEST, cut_clip
from tests.support.inprocess import InProcessApi, in_process_api, migrate
from tests.support.services import (
    postgres_database,
    redis_server,
    s3_bucket,
    s3_server,
    s3_settings,
)
from tests.support.stack import ServiceStack, running_stack

# Real boxing (../shared/realbox, third-party, evaluation only: read in place): a fitness demo, one
# boxer facing the camera throwing six punches in five seconds.
REALBOX_CLIPS = Path(__file__).resolve().parents[1].parent / "shared" / "realbox" / "clips"
BOXING_CLIP = REALBOX_CLIPS / "varchasvipandey__strenxible__punches.mp4"
# Fixtures that start servers, the service's processes or a browser: a test using one is `slow`
# (`pytest -m "not slow"` is the fast tier). Modules that start them in the test body say so with
# `pytestmark = pytest.mark.slow`.
PROCESS_FIXTURES = frozenset(
    {"stack", "embedded_stack", "distributed_stack", "secure_stack", "queued_stack", "browser",
     "s3_endpoint", "redis_url", "nginx_binary"}
)  # fmt: skip


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if PROCESS_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def real_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two seconds of real footage of people walking (Debian opencv-doc's vtest.avi)."""
    assert VTEST.exists(), "install Debian's opencv-doc for the real test footage"
    return cut_clip(VTEST, tmp_path_factory.mktemp("clips") / "people.mp4", frames=20)


@pytest.fixture(scope="session")
def boxing_clip() -> Path:
    """Five seconds of a real boxer punching (the shared real set beside the repository)."""
    if not BOXING_CLIP.exists():
        pytest.skip(f"the real boxing clips are not beside the repository ({REALBOX_CLIPS})")
    return BOXING_CLIP


@pytest.fixture(scope="session")
def long_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Long enough (300 frames) that a job is still running when the test cancels it."""
    return cut_clip(VTEST, tmp_path_factory.mktemp("clips") / "long.mp4", frames=300)


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with s3_server(tmp_path_factory.mktemp("s3")) as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
def migrated_database() -> Iterator[str]:
    """A PostgreSQL database at the head revision, for the in-process tier."""
    with postgres_database() as url:
        migrate(url)
        yield url


@pytest.fixture
def api(migrated_database: str, tmp_path: Path) -> Iterator[InProcessApi]:
    """The API in this process; everything the test writes to the database is rolled back."""
    with (
        pytest.MonkeyPatch.context() as monkeypatch,
        in_process_api(monkeypatch, migrated_database, tmp_path / "data") as service,
    ):
        yield service


@pytest.fixture(scope="session")
def distributed_stack(
    tmp_path_factory: pytest.TempPathFactory, postgres_url: str, redis_url: str, s3_endpoint: str
) -> Iterator[ServiceStack]:
    """PostgreSQL + Redis + S3, API and one CPU worker as separate processes."""
    with s3_bucket(s3_endpoint) as bucket:
        env = {"DATABASE_URL": postgres_url, "REDIS_URL": redis_url, **s3_settings(s3_endpoint, bucket)}
        with running_stack(
            "distributed", tmp_path_factory.mktemp("distributed"), {**env, "MAX_UPLOAD_MB": "8"}
        ) as stack:
            yield stack


@pytest.fixture(scope="session")
def embedded_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceStack]:
    """`shadow-trainer serve` with no settings: SQLite, a local folder, the SQLite Celery transport."""
    env = {"MAX_UPLOAD_MB": "8", "RESUMABLE_CHUNK_MB": "1"}
    stack = ServiceStack("embedded", tmp_path_factory.mktemp("embedded"), env)
    try:
        stack.start_embedded()
        stack.wait_for_workers()
        yield stack
    finally:
        stack.stop_all()


@pytest.fixture(params=["embedded", "distributed"])
def stack(request: pytest.FixtureRequest) -> ServiceStack:
    """The same tests run on the embedded default and on PostgreSQL + Redis + S3."""
    return request.getfixturevalue(f"{request.param}_stack")
