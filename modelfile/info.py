"""What ``modelfile info`` shows: the format's own summary plus decoded metadata."""

from __future__ import annotations

from typing import Any

from .model import Model

__all__ = ["describe"]


def describe(model: Model) -> dict[str, Any]:
    """A JSON-able summary of ``model`` (counts, inputs, outputs, types, metadata)."""
    from .passes.sherpa_meta import describe_meta

    data: dict[str, Any] = model.handler.describe(model)
    meta = describe_meta(model.graph)  # None unless the graph carries a SherpaMetaData layer
    if meta is not None:
        data["sherpa_meta"] = meta
    return data
