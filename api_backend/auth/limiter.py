"""Request rate limits (429 with Retry-After), with the `limits` library: sliding-window counters in
Redis when the deployment has it (shared by every API server), else in this process's memory.

Who is counted:
- with API keys, each key (not its owner: an owner's keys are limited one by one, as documented);
- in open mode, and for downloads (signed links need no key), the client address;
- failed authentications (missing, malformed, unknown or revoked keys) per client address, with a
  lower limit, so keys cannot be guessed at the API's full rate.

The client address is the socket's peer unless uvicorn was told to trust a proxy
(`FORWARDED_ALLOW_IPS`, the proxy's addresses only): a client cannot rotate `X-Forwarded-For`.
"""

from __future__ import annotations

import logging
import time
from functools import lru_cache

from fastapi import Request
from limits import RateLimitItem, RateLimitItemPerMinute
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import SlidingWindowCounterRateLimiter

from api_backend.errors import ApiError
from api_backend.settings import get_settings

log = logging.getLogger(__name__)


class RateLimits:
    def __init__(self, storage: Storage, per_minute: int, auth_failures_per_minute: int) -> None:
        self.limiter = SlidingWindowCounterRateLimiter(storage)
        self.requests: RateLimitItem = RateLimitItemPerMinute(per_minute)
        self.auth_failures: RateLimitItem = RateLimitItemPerMinute(auth_failures_per_minute)

    def retry_after(self, item: RateLimitItem, *identity: str) -> int | None:
        """Count one hit; None when allowed, else the seconds until one is allowed again."""
        try:
            if self.limiter.hit(item, *identity):
                return None
            reset = self.limiter.get_window_stats(item, *identity).reset_time
        except Exception as exc:  # Redis away: serve rather than refuse everyone
            log.warning("rate limiter unavailable, allowing request: %s", exc)
            return None
        return max(1, int(reset - time.time()) + 1)


@lru_cache
def get_rate_limits() -> RateLimits:
    settings = get_settings()
    storage: Storage = MemoryStorage()
    if settings.redis_broker_url:
        storage = RedisStorage(settings.redis_broker_url, socket_timeout=0.5, socket_connect_timeout=0.5)
    return RateLimits(storage, settings.rate_limit_per_minute, settings.auth_failures_per_minute)


def refuse_over(item: RateLimitItem, *identity: str) -> None:
    retry_after = get_rate_limits().retry_after(item, *identity)
    if retry_after is not None:
        raise ApiError(429, "rate_limited", f"too many requests; retry in {retry_after} s",
                       headers={"Retry-After": str(retry_after)})  # fmt: skip


def client_address(request: Request) -> str:
    return request.client.host if request.client else "-"


def count_auth_failure(request: Request) -> None:
    """Called on every refused key: 429 instead of 401 once an address fails too often."""
    refuse_over(get_rate_limits().auth_failures, "auth-failures", client_address(request))
