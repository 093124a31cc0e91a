"""Rate limits a client cannot step around: per key, per real address, and for failed keys."""

from __future__ import annotations

import uuid

import httpx

from tests.api_backend.hardening.conftest import AUTH_FAILURES_LIMIT, REQUESTS_LIMIT, new_key
from tests.support.stack import ServiceStack


def _statuses(client: httpx.Client, count: int, url: str, headers: dict[str, str] | None = None) -> list[int]:
    return [client.get(url, headers=headers).status_code for _ in range(count)]


def test_rotating_x_forwarded_for_does_not_reset_the_address_limit(queued_stack: ServiceStack) -> None:
    # Downloads are limited per client address (signed links need no key); the tests' address is not
    # the trusted proxy, so each invented X-Forwarded-For is ignored.
    url = f"/api/v1/jobs/{uuid.uuid4()}/outputs/summary.json?expires=1&signature=x"
    with httpx.Client(base_url=queued_stack.base_url, timeout=10) as client:
        answers = [
            client.get(url, headers={"X-Forwarded-For": f"203.0.113.{i % 250}"})
            for i in range(REQUESTS_LIMIT + 20)
        ]
    codes = [a.status_code for a in answers]
    assert 429 in codes, codes
    refused = next(a for a in answers if a.status_code == 429)
    assert refused.json()["error"]["code"] == "rate_limited" and int(refused.headers["retry-after"]) >= 1


def test_failed_keys_are_limited_per_address(queued_stack: ServiceStack) -> None:
    _, valid = new_key(queued_stack, "honest")
    with httpx.Client(base_url=queued_stack.base_url, timeout=10) as client:
        guesses = [
            client.get("/api/v1/jobs", headers={"Authorization": f"Bearer st_{uuid.uuid4().hex}"}).status_code
            for _ in range(AUTH_FAILURES_LIMIT + 5)
        ]
        missing = client.get("/api/v1/jobs")
        assert client.get("/api/v1/jobs", headers=valid).status_code == 200, "a valid key still works"
    assert guesses[:AUTH_FAILURES_LIMIT] == [401] * AUTH_FAILURES_LIMIT
    assert set(guesses[AUTH_FAILURES_LIMIT:]) == {429}
    assert missing.status_code == 429 and int(missing.headers["retry-after"]) >= 1


def test_each_key_has_its_own_limit(queued_stack: ServiceStack) -> None:
    _, first = new_key(queued_stack, "first", owner="team")
    _, second = new_key(queued_stack, "second", owner="team")
    with httpx.Client(base_url=queued_stack.base_url, timeout=10) as client:
        codes = _statuses(client, REQUESTS_LIMIT + 10, "/api/v1/jobs?limit=1", first)
        assert 429 in codes and codes.count(200) >= REQUESTS_LIMIT * 0.75
        assert client.get("/api/v1/jobs?limit=1", headers=second).status_code == 200
