"""The job's Server-Sent Events stream (sse-starlette: pings, disconnects, the wire format).

A stream holds no database connection while it waits: each poll takes a short session of its own
and gives it back, so open streams never exhaust the pool. Each owner may hold a bounded number of
streams at once (counted in Redis when the deployment has it, so across API servers), and a stream
whose API key is revoked ends at its next poll.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from functools import lru_cache
from typing import Any

from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from api_backend.auth.keys import authenticate
from api_backend.db.engine import get_sessionmaker
from api_backend.domain_errors import LimitReached
from api_backend.jobs import repository, service
from api_backend.jobs.models import JobStatus
from api_backend.settings import get_settings

log = logging.getLogger(__name__)
POLL_S = 0.5
PING_S = 15
RETRY_MS = 2000
# A stream's slot lapses this long after its last poll, so a crashed API server's slots free themselves.
SLOT_TTL_S = 30.0


class StreamSlots(ABC):
    """How many event streams each owner holds open now."""

    def __init__(self, limit: int) -> None:
        self.limit = limit

    @abstractmethod
    def take(self, owner: str, stream: str) -> bool:
        """Hold a slot for ``stream``; False when the owner already holds ``limit``."""

    @abstractmethod
    def refresh(self, owner: str, stream: str) -> None: ...

    @abstractmethod
    def release(self, owner: str, stream: str) -> None: ...


class MemoryStreamSlots(StreamSlots):
    """One process's streams: stream id → time its slot lapses, per owner."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self._held: dict[str, dict[str, float]] = {}
        self._lock = threading.Lock()

    def take(self, owner: str, stream: str) -> bool:
        now = time.time()
        with self._lock:
            held = {s: lapse for s, lapse in self._held.get(owner, {}).items() if lapse > now}
            self._held[owner] = held
            if len(held) >= self.limit:
                return False
            held[stream] = now + SLOT_TTL_S
            return True

    def refresh(self, owner: str, stream: str) -> None:
        with self._lock:
            if stream in self._held.get(owner, {}):
                self._held[owner][stream] = time.time() + SLOT_TTL_S

    def release(self, owner: str, stream: str) -> None:
        with self._lock:
            self._held.get(owner, {}).pop(stream, None)


class RedisStreamSlots(StreamSlots):
    """A sorted set per owner: stream id → time its slot lapses."""

    # Drop lapsed slots, count, add: one atomic step, so concurrent opens cannot overshoot.
    TAKE = """
    redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
    if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
    redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
    redis.call('EXPIRE', KEYS[1], ARGV[5])
    return 1
    """

    def __init__(self, limit: int, url: str) -> None:
        import redis

        super().__init__(limit)
        self.client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._take = self.client.register_script(self.TAKE)

    @staticmethod
    def _key(owner: str) -> str:
        return f"shadow:event-streams:{owner}"

    def take(self, owner: str, stream: str) -> bool:
        now = time.time()
        try:
            args: list[str | float] = [now, now + SLOT_TTL_S, self.limit, stream, int(SLOT_TTL_S * 2)]
            return bool(self._take(keys=[self._key(owner)], args=args))
        except Exception as exc:  # Redis away: serve rather than refuse everyone
            log.warning("stream slots unavailable, allowing the stream: %s", exc)
            return True

    def refresh(self, owner: str, stream: str) -> None:
        try:
            self.client.zadd(self._key(owner), {stream: time.time() + SLOT_TTL_S}, xx=True)
        except Exception as exc:
            log.warning("could not refresh a stream slot: %s", exc)

    def release(self, owner: str, stream: str) -> None:
        try:
            self.client.zrem(self._key(owner), stream)
        except Exception as exc:
            log.warning("could not release a stream slot: %s", exc)


@lru_cache
def get_stream_slots() -> StreamSlots:
    settings = get_settings()
    if settings.redis_broker_url:
        return RedisStreamSlots(settings.max_event_streams, settings.redis_broker_url)
    return MemoryStreamSlots(settings.max_event_streams)


def _snapshot(job_id: uuid.UUID, owner: str, key: str | None, base_url: str) -> dict[str, Any] | None:
    """The job as the client sees it, or None when it is gone or the key no longer works."""
    with get_sessionmaker()() as session:
        if key is not None and authenticate(session, key) is None:
            return None
        job = repository.get_job(session, job_id, owner=owner)
        return service.to_out(job, base_url).model_dump(mode="json") if job else None


async def _events(
    job_id: uuid.UUID, owner: str, key: str | None, base_url: str, stream: str, last_event_id: str | None
) -> AsyncIterator[ServerSentEvent]:
    """Each `job` event's id is the job document's ETag: a client that reconnects with Last-Event-ID
    gets nothing until the job changes, instead of the state it already has."""
    slots = get_stream_slots()
    try:
        last: dict[str, Any] | None = None
        yield ServerSentEvent(retry=RETRY_MS)
        while True:
            current = await run_in_threadpool(_snapshot, job_id, owner, key, base_url)
            if current is None:
                yield ServerSentEvent(event="end", data=json.dumps({"status": "gone"}))
                return
            if current != last:
                last, event_id = current, service.etag_of(current)
                if event_id != last_event_id:
                    yield ServerSentEvent(event="job", data=json.dumps(current), id=event_id)
                if JobStatus(current["status"]).is_terminal:
                    yield ServerSentEvent(event="end", data=json.dumps({"status": current["status"]}))
                    return
            await run_in_threadpool(slots.refresh, owner, stream)
            await asyncio.sleep(POLL_S)
    finally:
        await run_in_threadpool(slots.release, owner, stream)


def job_event_stream(
    job_id: uuid.UUID, owner: str, key: str | None, base_url: str, last_event_id: str | None = None
) -> EventSourceResponse:
    """The stream, or 429 ``too_many_streams`` (before anything is sent) when the owner holds
    ``MAX_EVENT_STREAMS`` already. The slot is given back when the stream ends or the client goes."""
    slots, stream = get_stream_slots(), uuid.uuid4().hex
    if not slots.take(owner, stream):
        message = f"you already have {slots.limit} event streams open; close one, or poll the job instead"
        raise LimitReached("too_many_streams", message, retry_after_s=5)
    events = _events(job_id, owner, key, base_url, stream, last_event_id)
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    # The background task also runs when the client left before the generator started.
    release = BackgroundTask(slots.release, owner, stream)
    return EventSourceResponse(events, headers=headers, ping=PING_S, background=release)
