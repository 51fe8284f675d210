"""The format registry: which handler reads a file, looked up by content.

Each entry names a handler by import path, so a command imports only the
format it needs. A new format adds its package and one :func:`register` line
here (or calls :func:`register` from its own distribution).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import ModelfileError

if TYPE_CHECKING:
    from .base import FormatHandler

__all__ = ["get", "names", "read_head", "register", "sniff", "sniff_name"]


@dataclass(slots=True)
class _Entry:
    name: str
    target: str  # "package.module:ATTRIBUTE" of the handler
    sniffer: str  # "package.module:function" of a cheap ``(path, head) -> score`` test
    handler: "FormatHandler | None" = None
    sniff_fn: "Callable[[Path, bytes], int] | None" = None


_ENTRIES: dict[str, _Entry] = {}


def register(name: str, target: str, sniffer: str) -> None:
    """Register a format: ``target`` names its :class:`FormatHandler` instance, ``sniffer`` a cheap function
    ``(path, head) -> int`` (0: not ours; the highest score wins) in a module that imports nothing heavy."""
    _ENTRIES[name] = _Entry(name, target, sniffer)


register("ncnn", "modelfile.formats.ncnn.handler:HANDLER", "modelfile.formats.ncnn.sniff:sniff")
register("openvino", "modelfile.formats.openvino.handler:HANDLER", "modelfile.formats.openvino.sniff:sniff")


def _load(target: str) -> Any:
    mod, _, attr = target.partition(":")
    return getattr(importlib.import_module(mod), attr)


def names() -> list[str]:
    """Registered format names."""
    return list(_ENTRIES)


def get(name: str) -> "FormatHandler":
    """The handler registered as ``name``."""
    e = _ENTRIES.get(name)
    if e is None:
        raise ModelfileError(f"unknown format {name!r} (known: {', '.join(_ENTRIES)})")
    if e.handler is None:
        e.handler = _load(e.target)
    return e.handler


def read_head(path: Path, size: int = 512) -> bytes:
    """The first bytes of ``path`` (a one-line error naming it when it cannot be read)."""
    try:
        with open(path, "rb") as f:
            return f.read(size)
    except IsADirectoryError:
        raise ModelfileError("is a directory, not a model file", file=str(path)) from None
    except OSError as e:
        raise ModelfileError(f"cannot read: {e.strerror or e}", file=str(path)) from None


def sniff_name(path: Path, head: bytes | None = None) -> str:
    """The name of the format most sure it reads ``path`` (imports no format package)."""
    head = read_head(path) if head is None else head
    best: tuple[int, str] | None = None
    for e in _ENTRIES.values():
        if e.sniff_fn is None:
            e.sniff_fn = _load(e.sniffer)
        score = e.sniff_fn(path, head)
        if score > 0 and (best is None or score > best[0]):
            best = (score, e.name)
    if best is None:
        raise ModelfileError("not a model file modelfile can read", file=str(path),
                             hint=f"known formats: {', '.join(_ENTRIES)}")
    return best[1]


def sniff(path: Path, head: bytes | None = None) -> "FormatHandler":
    """The handler most sure it reads ``path``."""
    return get(sniff_name(path, head))
