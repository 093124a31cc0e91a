"""Webhook receivers for tests and benches: served on a free local port for the length of a block."""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

from tests.support.services import free_port


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve ``handler`` on 127.0.0.1; yields the URL to give as `callback_url`."""
    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{port}/hook"
    finally:
        server.shutdown()


class QuietHandler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


class TricklingReceiver(QuietHandler):
    """Answers one byte a second for up to a minute: each read is quick, the answer never ends.
    ``held_s``: how long each delivery attempt kept the connection."""

    held_s: ClassVar[list[float]] = []

    def do_POST(self) -> None:
        start = time.monotonic()
        self.rfile.read(int(self.headers["Content-Length"]))
        try:
            for byte in b"HTTP/1.1 204 No Content\r\n" * 3:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                if self._sender_hung_up(within_s=1.0) or time.monotonic() - start > 60:
                    break
        except OSError:  # the sender hung up while a byte was on its way
            pass
        TricklingReceiver.held_s.append(time.monotonic() - start)

    def _sender_hung_up(self, within_s: float) -> bool:
        """Wait up to ``within_s`` for the sender to close the connection. Watching for its end of the
        stream times the hang-up to the millisecond; a failed write would notice it a write or two
        (seconds, here) later."""
        readable, _, _ = select.select([self.connection], [], [], within_s)
        if not readable:
            return False
        try:
            ended = self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True
        if not ended:  # it sent more (nothing we read): just wait
            time.sleep(within_s)
        return ended
