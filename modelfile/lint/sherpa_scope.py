"""Which ncnn files the sherpa rules look at, and their misspelt meta layers (shared by the ncnn and sherpa rules)."""

from __future__ import annotations

from pathlib import Path

from ..graph import Node
from ..sherpa.layers import find_meta_layers
from ..sherpa.schema import ZIPFORMER_OPS
from .source import NcnnFile

__all__ = ["is_sherpa_encoder", "meta_near_misses"]


def is_sherpa_encoder(f: NcnnFile) -> bool:
    """Whether the sherpa rules apply: forced, or a meta layer / near miss, zipformer ops, or an
    ``encoder*.ncnn*.param`` file name (icefall's export names)."""
    if "sherpa" not in f.cache:
        if f.sherpa is not None:
            on = f.sherpa
        else:
            exact, near = find_meta_layers(f.graph)
            name = Path(f.path).name.lower()
            on = bool(exact or near) or any(n.op_type in ZIPFORMER_OPS for n in f.graph.nodes) or (
                name.startswith("encoder") and ".ncnn" in name and name.endswith(".param"))
        f.cache["sherpa"] = on
    return bool(f.cache["sherpa"])


def meta_near_misses(f: NcnnFile) -> list[Node]:
    """Near-miss meta layers (reported by SHERPA002, so not also as unknown types)."""
    if "near" not in f.cache:
        f.cache["near"] = find_meta_layers(f.graph)[1] if is_sherpa_encoder(f) else []
    return f.cache["near"]
