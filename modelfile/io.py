"""Opening model files: the registry picks the format by content (see :mod:`modelfile.formats.registry`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .errors import ModelfileError
from .fileio import recover
from .formats.registry import sniff, sniff_name
from .model import Model

__all__ = ["detect_format", "load", "warm_runtime"]


def load(path: str | os.PathLike[str], **options: Any) -> Model:
    """Read a model file (ncnn ``.param``/``.param.bin``, OpenVINO ``.xml``) into a :class:`Model`.

    The format is recognised by content (see :mod:`modelfile.formats.registry`).
    A save of this file that a kill interrupted is rolled back first.
    """
    p = Path(path)
    if not p.exists():
        raise ModelfileError("no such file", file=str(p))
    if p.is_dir():
        raise ModelfileError("is a directory, not a model file", file=str(p))
    recover(p)
    return sniff(p).read(p, **options)


def detect_format(path: str | os.PathLike[str]) -> str:
    """The registered format name for ``path`` (by content)."""
    return sniff_name(Path(path))


def warm_runtime(path: str | os.PathLike[str]) -> None:
    """Start loading, in the background, the runtime the save gate will check ``path``'s format in: a caller
    that knows a save will follow calls it first, so the runtime's import overlaps load and edit. Returns at
    once; a problem with ``path`` is left for :func:`load` to report."""
    try:
        sniff(Path(path)).warm_runtime()
    except (ModelfileError, OSError):
        pass
