"""A runtime in a child process, started once and reused: one JSON request per line, one JSON answer per line.

The save gate's runtime checks run this way (see each format's ``runtime`` module): a runtime that
crashes on a bad file (ncnn segfaults on some) or hangs fails the check instead of taking modelfile
down, and a worker started early (:meth:`Worker.start`) imports its runtime while the caller works.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import subprocess

__all__ = ["Worker"]


class Worker:
    """The child process ``argv()`` starts (stdin/stdout pipes, stderr discarded)."""

    def __init__(self, argv: Callable[[], list[str]]) -> None:
        self._argv = argv
        self.proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()  # one request at a time: answers come back in order

    def start(self) -> subprocess.Popen[bytes]:
        """The running child, started now if there is none (raises OSError when it cannot start)."""
        import subprocess

        p = self.proc
        if p is None or p.poll() is not None:
            p = self.proc = subprocess.Popen(self._argv(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                             stderr=subprocess.DEVNULL)
        return p

    def kill(self) -> None:
        """Stop the child (the next request starts a new one)."""
        p, self.proc = self.proc, None
        if p is not None:
            p.kill()
            p.wait()

    def ask(self, request: dict[str, Any], timeout: float) -> tuple[dict[str, Any] | None, str]:
        """``(answer, "")``, or ``(None, why)`` when the child does not answer: ``"timeout"`` (it is killed),
        how it ended (``"signal 11"``, ``"exit code 1"``), or that its answer was not JSON (it is killed);
        raises OSError when it cannot start."""
        import select

        with self._lock:
            p = self.start()
            assert p.stdin is not None and p.stdout is not None
            try:
                p.stdin.write((json.dumps(request) + "\n").encode())
                p.stdin.flush()
                ready, _, _ = select.select([p.stdout], [], [], timeout)
                line = p.stdout.readline() if ready else None
            except (BrokenPipeError, OSError):
                line = b""
            if line is None:
                self.kill()
                return None, "timeout"
            if not line.endswith(b"\n"):  # the child ended (mid-answer or before it)
                code = p.wait()
                self.proc = None
                return None, f"signal {-code}" if code < 0 else f"exit code {code}"
            try:
                return json.loads(line), ""
            except ValueError:  # not the protocol: a child that cannot be trusted any more
                self.kill()
                return None, "an answer that is not JSON"
