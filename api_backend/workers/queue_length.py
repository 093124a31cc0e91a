"""How many messages wait in each queue, for the Redis and the SQLAlchemy (embedded) brokers."""

from __future__ import annotations

from sqlalchemy import create_engine, text

from api_backend.celery_app import celery_app
from api_backend.settings import is_redis_url

# kombu's Redis transport keeps priorities 3, 6, 9 in sibling lists named queue + sep + priority.
REDIS_PRIORITY_SUFFIXES = ("", "\x06\x163", "\x06\x166", "\x06\x169")


def queue_lengths(queues: tuple[str, ...]) -> dict[str, int]:
    url = celery_app.conf.broker_url or ""
    if is_redis_url(url):
        return _redis_lengths(url, queues)
    if url.startswith("sqla+"):
        return _sqla_lengths(url.removeprefix("sqla+"), queues)
    raise NotImplementedError(f"queue length for broker {url.split(':', 1)[0]!r}")


def _redis_lengths(url: str, queues: tuple[str, ...]) -> dict[str, int]:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=3, socket_connect_timeout=3)
    try:
        return {q: sum(int(client.llen(q + suffix)) for suffix in REDIS_PRIORITY_SUFFIXES) for q in queues}
    finally:
        client.close()


def _sqla_lengths(url: str, queues: tuple[str, ...]) -> dict[str, int]:
    engine = create_engine(url)
    query = text(
        "SELECT q.name, COUNT(m.id) FROM kombu_queue q LEFT JOIN kombu_message m "
        "ON m.queue_id = q.id AND m.visible GROUP BY q.name"
    )
    try:
        with engine.connect() as connection:
            counts = {str(name): int(count) for name, count in connection.execute(query)}
    finally:
        engine.dispose()
    return {q: counts.get(q, 0) for q in queues}
