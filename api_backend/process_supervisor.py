"""A small supervisor for `shadow-trainer serve`: the API and the worker as child processes.

Each child gets its own session, so a Ctrl+C or a group-wide SIGTERM reaches only the supervisor;
it then stops the children itself, politely first (a Celery worker must see SIGTERM on its main
process only, or its pool children die under it and the warm shutdown never ends).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from types import FrameType

log = logging.getLogger(__name__)
STOP_TIMEOUT_S = 30.0


class Supervisor:
    def __init__(self) -> None:
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self._stopping = False

    def start(self, name: str, args: list[str], env: dict[str, str] | None = None) -> None:
        """``env``: variables to set for this child on top of ours."""
        self.children[name] = subprocess.Popen(
            args, start_new_session=True, env={**os.environ, **(env or {})}
        )

    def _request_stop(self, signum: int, _frame: FrameType | None) -> None:
        self._stopping = True

    def wait(self) -> int:
        """Run until a signal arrives or a child exits; stop everything; return an exit code."""
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._request_stop)
        exit_code = 0
        while not self._stopping:
            for name, child in self.children.items():
                if child.poll() is not None:
                    log.error("%s exited with code %s; stopping", name, child.returncode)
                    exit_code = child.returncode or 1
                    self._stopping = True
            time.sleep(0.2)
        self.stop_all()
        return exit_code

    def stop_all(self) -> None:
        for child in self.children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for child in self.children.values():
            try:
                child.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)  # the child and anything it forked
                child.wait()
