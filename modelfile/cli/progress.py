"""A byte progress bar on stderr for long conversions and copies.

Shown only when stderr is a terminal, the command does not print JSON, and
the work has already taken a second: short runs and pipes stay quiet.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["byte_progress"]

_DELAY = 1.0  # seconds of work before a bar is worth drawing


@contextmanager
def byte_progress(total: int, label: str, *, enabled: bool = True) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(nbytes)``; a Rich bar appears on stderr once the work runs past a second."""
    if not enabled or total <= 0 or not sys.stderr.isatty():
        yield lambda n: None
        return
    start = time.monotonic()
    done = 0
    bar: Any = None
    task: Any = None

    def advance(n: int) -> None:
        nonlocal done, bar, task
        done += n
        if bar is None:
            if time.monotonic() - start < _DELAY:
                return
            from rich.console import Console
            from rich.progress import (BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn,
                                       TransferSpeedColumn)

            bar = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                           TimeRemainingColumn(), console=Console(stderr=True), transient=True)
            bar.start()
            task = bar.add_task(label, total=total)
        bar.update(task, completed=min(done, total))

    try:
        yield advance
    finally:
        if bar is not None:
            bar.stop()
