"""Freeze inputs to constants (mo's ``name->value``): IR Parameter -> Const, ncnn Input -> MemoryData."""

from __future__ import annotations

from ..errors import ModelfileError
from ..model import Model
from ..mo_input import InputSpec
from .cut import cut
from .report import Report

__all__ = ["freeze"]


def freeze(model: Model, specs: list[InputSpec]) -> Report:
    """Freeze existing inputs to constants (``name->value``, optional ``[shape]`` and ``{type}``)."""
    for s in specs:
        if s.value is None:
            raise ModelfileError(f"{s.text or s.location!r} has no ->value to freeze to")
    r = cut(model, specs, None)
    r.transform = "freeze"
    return r
