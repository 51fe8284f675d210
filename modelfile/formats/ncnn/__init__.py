"""ncnn ``.param`` (text and binary) + ``.bin``.

The registered handler is :data:`handler.HANDLER`; modules: ``sniff``
(recognise a file), ``reader`` (Lark grammar + fast path), ``binparam``
(``.param.bin``), ``writer`` (lossless, in the file's style), ``params``
(spelling-preserving values), ``weights`` (``.bin`` layouts and store),
``edit`` and ``ops`` (the transforms' building blocks), ``describe``
(``info``), ``runtime`` (loading in ncnn, in a subprocess).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...model import Model
from ...saving import SaveResult
from .handler import HANDLER, NcnnState, bin_path_for
from .layers import BUILTIN_TYPES
from .params import Param
from .reader import LineSource, NcnnDocument, read_text, signature
from .writer import Style, detect_style, render_node

__all__ = [
    "BUILTIN_TYPES", "HANDLER", "LineSource", "NcnnDocument", "NcnnState", "Param", "Style", "bin_path_for",
    "describe", "detect_style", "name", "read", "read_text", "render_node", "signature", "to_text", "write",
]

name = "ncnn"


def read(path: Path, **options: Any) -> Model:
    """Load a text or binary ``.param``."""
    return HANDLER.read(path, **options)


def to_text(model: Model, *, reformat: bool = False, style: Style | None = None) -> str:
    """The ``.param`` text of ``model``."""
    from ...errors import ModelfileError

    text = HANDLER.to_text(model, reformat=reformat, style=style)
    if text is None:
        raise ModelfileError("binary .param.bin has no text form", file=str(model.path))
    return text


def write(model: Model, path: Path, **options: Any) -> SaveResult:
    """Write the param and its weights (no checks; :meth:`Model.save` is the gated path)."""
    return HANDLER.write(model, Path(path), **options)


def describe(model: Model) -> dict[str, Any]:
    """A JSON-able summary for ``modelfile info``."""
    return HANDLER.describe(model)
