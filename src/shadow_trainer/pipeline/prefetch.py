"""Running one stage of the pipeline in a background thread behind a bounded queue.

Decode, inference and encode each spend most of their time in C code that releases the GIL
(FFmpeg, ONNX Runtime/torch, libx264), so threads overlap them without copying frames between
processes. The bounded queue keeps memory flat: a fast producer waits for a slow consumer.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")
_DONE = object()
_POLL_S = 0.1


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


class Prefetcher(Generic[T]):
    """Iterates ``source`` in a thread; iterate this object to receive its items in order.

    An exception in the source is re-raised in the consumer; ``close()`` (or leaving the
    ``with`` block early) stops the producer promptly.
    """

    def __init__(self, source: Iterable[T], *, depth: int, name: str) -> None:
        self._queue: queue.Queue[object] = queue.Queue(maxsize=max(1, depth))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._produce, args=(source,), name=name, daemon=True)
        self._thread.start()

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self, source: Iterable[T]) -> None:
        try:
            for item in source:
                if not self._put(item):
                    return
        except BaseException as exc:  # handed to the consumer, which decides what it means
            self._put(_Failure(exc))
            return
        self._put(_DONE)

    def __iter__(self) -> Iterator[T]:
        while True:
            item = self._queue.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.exc
            yield item  # type: ignore[misc]

    def close(self) -> None:
        self._stop.set()
        self._thread.join()

    def __enter__(self) -> Prefetcher[T]:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class BackgroundWorker(Generic[T]):
    """Applies ``handle`` to submitted items in a thread, in order (e.g. tracking + JSON writing)."""

    def __init__(self, handle: Callable[[T], None], *, depth: int, name: str) -> None:
        self._handle = handle
        self._queue: queue.Queue[object] = queue.Queue(maxsize=max(1, depth))
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._consume, name=name, daemon=True)
        self._thread.start()

    def _consume(self) -> None:
        while True:
            item = self._queue.get()
            if item is _DONE:
                return
            if self._error is None:
                try:
                    self._handle(item)  # type: ignore[arg-type]
                except BaseException as exc:  # re-raised to the submitter
                    self._error = exc

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    def submit(self, item: T) -> None:
        self._raise_if_failed()
        self._queue.put(item)

    def finish(self) -> None:
        """Wait for every submitted item to be handled; re-raise the first failure."""
        self._queue.put(_DONE)
        self._thread.join()
        self._raise_if_failed()
