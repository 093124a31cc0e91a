"""One stack with API keys for the modules of this package (keys, limits, webhooks, generated clients)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.stack import ServiceStack, running_stack

SECRET = "test-secret-for-signatures"
WEBHOOK_DEADLINE_S = 3


@pytest.fixture(scope="package")
def secure_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceStack]:
    env = {
        "AUTH_MODE": "api_key", "SECRET_KEY": SECRET, "MAX_JOBS_IN_FLIGHT": "2", "MAX_VIDEO_DURATION_S": "5",
        "MAX_VIDEO_PIXELS": str(768 * 576), "RATE_LIMIT_PER_MINUTE": "200", "ALLOW_PRIVATE_CALLBACKS": "true",
        "CALLBACK_TIMEOUT_S": str(WEBHOOK_DEADLINE_S),
    }  # fmt: skip
    with running_stack("secure", tmp_path_factory.mktemp("secure"), env) as stack:
        yield stack
