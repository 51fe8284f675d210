"""ncnn ``.param`` (text and binary) + ``.bin``.

The registered handler is :data:`handler.HANDLER`; modules: ``sniff``
(recognise a file), ``reader`` (Lark grammar + fast path), ``binparam``
(``.param.bin``), ``writer`` (lossless, in the file's style), ``params``
(spelling-preserving values), ``weights`` (``.bin`` layouts and store),
``edit`` and ``ops`` (the transforms' building blocks), ``summary``
(``info``), ``runtime`` (loading in ncnn, in a subprocess).
"""

from __future__ import annotations

from .._lazy import lazy_exports

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


__getattr__ = lazy_exports(__name__, _LAZY, globals())
