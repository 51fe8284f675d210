"""What ``modelfile info`` shows: the format's own summary plus decoded metadata."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .model import Model

__all__ = ["describe"]


def describe(model: Model, *, layers: bool = False) -> dict[str, Any]:
    """A JSON-able summary of ``model`` (counts, inputs, outputs, types, metadata, weights).

    ``layers``: the weights per layer (ncnn) or per Const (IR) as well.
    """
    from .sherpa.describe import describe_meta

    data: dict[str, Any] = model.handler.describe(model, layers=layers)
    name = Path(str(data.get("path") or "")).name.lower()
    # icefall's export names (encoder*.ncnn*.param): show what the graph would give a meta layer before one exists
    encoder_named = name.startswith("encoder") and ".ncnn" in name and name.endswith(".param")
    meta = describe_meta(model.graph, sherpa_encoder=encoder_named)  # None for graphs that are no sherpa encoder
    if meta is not None:
        data["sherpa_meta"] = meta
    return data
