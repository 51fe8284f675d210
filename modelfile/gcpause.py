"""``paused_gc()``: no cyclic garbage collection while a model is read, edited, written, linted, diffed or
checked (the readers, the IR writer, cut, lint's rules, diff and the save gate all use this one).

Those steps allocate a few objects per layer and free nothing cyclic, while every full collection walks
the whole loaded model (two of them during a save: the edited model and its re-read); on a 20,000-op IR
collections cost a third of a render and most of the save gate's re-read. Reference counting still frees
everything that is not cyclic; collection resumes when the outermost pause ends.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["paused_gc"]


@contextmanager
def paused_gc(*, resume: bool = True) -> Iterator[None]:
    """Disable the cyclic GC for the block (re-enabled after it only if it was enabled before).

    ``resume=False``: leave it off after the block, for a process that ends right after (the first
    collection would walk everything the block allocated, only for the process to hand it back anyway).
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was and resume:
            gc.enable()
