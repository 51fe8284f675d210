"""ncnn ``.param`` (text and binary) + ``.bin``.

The registered handler is :data:`handler.HANDLER`; modules: ``sniff``
(recognise a file), ``reader`` (Lark grammar + fast path), ``binparam``
(``.param.bin``), ``writer`` (lossless, in the file's style), ``params``
(spelling-preserving values), ``weights`` (``.bin`` layouts and store),
``edit`` and ``ops`` (the transforms' building blocks), ``summary``
(``info``), ``runtime`` (loading in ncnn, in a subprocess).
"""

from __future__ import annotations

import importlib
from typing import Any

name = "ncnn"

# Imported on first use: recognising a file (``.sniff``) must not load the reader, writer and numpy.
_LAZY = {
    "HANDLER": "handler", "NcnnState": "handler", "NcnnHandler": "handler", "bin_path_for": "handler",
    "BUILTIN_TYPES": "layers", "Param": "params",
    "LineSource": "reader", "NcnnDocument": "reader", "read_text": "reader", "signature": "reader",
    "Style": "writer", "detect_style": "writer", "render_node": "writer",
    "describe": "api", "read": "api", "to_text": "api", "write": "api",
}

__all__ = sorted([*_LAZY, "name"])


def __getattr__(attr: str) -> Any:
    mod = _LAZY.get(attr)
    if mod is None:
        raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")
    value = getattr(importlib.import_module(f"{__name__}.{mod}"), attr)
    globals()[attr] = value
    return value
