"""Module-level entry points of the ncnn format (re-exported by the package)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...model import Model
from ...report import SaveResult
from .handler import HANDLER
from .writer import Style

__all__ = ["describe", "read", "to_text", "write"]


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


def describe(model: Model, *, layers: bool = False) -> dict[str, Any]:
    """A JSON-able summary for ``modelfile info`` (``layers``: the weights per layer too)."""
    return HANDLER.describe(model, layers=layers)
