"""Per-caller request rate limits (429 with Retry-After). Fixed one-minute windows, counted in Redis
when the deployment has it (shared by every API server), else in this process's memory."""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from functools import lru_cache

from fastapi import Depends, Request

from api_backend.auth.dependencies import get_owner
from api_backend.errors import ApiError
from api_backend.settings import get_settings

log = logging.getLogger(__name__)
WINDOW_S = 60


class RateLimiter(ABC):
    def __init__(self, limit: int) -> None:
        self.limit = limit

    @abstractmethod
    def count(self, identity: str, window: int) -> int:
        """Record one request in this window; return how many the window holds now."""

    def retry_after(self, identity: str) -> int | None:
        """None when allowed, else seconds until the window resets."""
        now = time.time()
        window = int(now // WINDOW_S)
        if self.count(identity, window) <= self.limit:
            return None
        return max(1, int((window + 1) * WINDOW_S - now) + 1)


class MemoryRateLimiter(RateLimiter):
    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def count(self, identity: str, window: int) -> int:
        with self._lock:
            if len(self._counts) > 10_000:  # forget old windows
                self._counts = {k: v for k, v in self._counts.items() if k[1] >= window}
            key = (identity, window)
            self._counts[key] = self._counts.get(key, 0) + 1
            return self._counts[key]


class RedisRateLimiter(RateLimiter):
    def __init__(self, limit: int, url: str) -> None:
        import redis

        super().__init__(limit)
        self.client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)

    def count(self, identity: str, window: int) -> int:
        key = f"shadow:ratelimit:{identity}:{window}"
        try:
            pipeline = self.client.pipeline()
            pipeline.incr(key)
            pipeline.expire(key, WINDOW_S * 2)
            return int(pipeline.execute()[0])
        except Exception as exc:  # Redis away: serve rather than refuse everyone
            log.warning("rate limiter unavailable, allowing request: %s", exc)
            return 0


@lru_cache
def get_rate_limiter() -> RateLimiter:
    settings = get_settings()
    broker = settings.resolved_broker_url
    if broker.startswith(("redis://", "rediss://")):
        return RedisRateLimiter(settings.rate_limit_per_minute, broker)
    return MemoryRateLimiter(settings.rate_limit_per_minute)


def _check(identity: str) -> None:
    retry_after = get_rate_limiter().retry_after(identity)
    if retry_after is not None:
        raise ApiError(429, "rate_limited", f"too many requests; retry in {retry_after} s",
                       headers={"Retry-After": str(retry_after)})  # fmt: skip


def client_address(request: Request) -> str:
    return request.client.host if request.client else "-"


def enforce_rate_limit(request: Request, owner: str = Depends(get_owner)) -> None:
    """Per API key; in open mode, per client address."""
    _check(owner if get_settings().auth_mode == "api_key" else client_address(request))


def enforce_client_rate_limit(request: Request) -> None:
    _check(client_address(request))
