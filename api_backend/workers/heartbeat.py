"""Worker process hooks: the heartbeat thread (start/stop signals) and per-child database pools."""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

from celery.signals import (
    celeryd_after_setup,
    worker_process_init,
    worker_process_shutdown,
    worker_ready,
    worker_shutdown,
)

from api_backend.db.engine import get_engine, session_scope
from api_backend.observability.worker_metrics import mark_process_dead
from api_backend.settings import get_settings
from api_backend.workers.http_server import WorkerState, start_server
from api_backend.workers.registry import record_heartbeat, remove_worker
from shadow_trainer.pose import cuda_available

log = logging.getLogger(__name__)
_stop = threading.Event()
_state: dict[str, Any] = {}


def _beat_once(hostname: str, queues: list[str], has_gpu: bool) -> None:
    try:
        with session_scope() as session:
            record_heartbeat(session, hostname, queues, has_gpu)
    except Exception as exc:  # database briefly down: keep beating, never kill the worker
        log.warning("heartbeat failed: %s", exc)


def _beat(hostname: str, queues: list[str], has_gpu: bool, interval_s: float) -> None:
    while not _stop.wait(interval_s):
        _beat_once(hostname, queues, has_gpu)


@celeryd_after_setup.connect
def start_heartbeat(sender: str, instance: Any, **_: Any) -> None:
    queues = sorted(instance.app.amqp.queues.consume_from or {})
    _state["hostname"] = sender
    has_gpu = cuda_available()
    # The first beat runs here, before the pool forks its children: the thread must never be
    # mid-import (holding the import lock) while a child is forked, or that child deadlocks.
    _beat_once(sender, queues, has_gpu)
    thread = threading.Thread(
        target=_beat,
        args=(sender, queues, has_gpu, get_settings().worker_heartbeat_s),
        name="heartbeat",
        daemon=True,
    )
    thread.start()
    WorkerState.heartbeat = thread


@worker_ready.connect
def start_http_server(**_: Any) -> None:
    # After the pool has forked: the server thread never exists in a parent that is forking children.
    settings = get_settings()
    if settings.worker_metrics_port:
        start_server(settings.worker_metrics_host, settings.worker_metrics_port)


@worker_process_shutdown.connect
def forget_child_metrics(pid: int | None = None, **_: Any) -> None:
    mark_process_dead(pid or os.getpid())


@worker_shutdown.connect
def stop_heartbeat(**_: Any) -> None:
    _stop.set()
    hostname = _state.get("hostname")
    if hostname:
        try:
            with session_scope() as session:
                remove_worker(session, hostname)
        except Exception as exc:
            log.warning("could not deregister worker %s: %s", hostname, exc)


@worker_process_init.connect
def fresh_connections_after_fork(**_: Any) -> None:
    # The parent's heartbeat thread may hold the pool's lock (or a connection) at fork time: a child
    # that reused that pool could block forever. Each pool child starts with its own pool instead.
    get_engine().dispose(close=False)
    niceness = get_settings().worker_nice
    if niceness:
        os.nice(niceness)
