"""Re-lay a ``.bin`` with its tagged weights stored as fp32 or fp16.

Only *tagged* blobs (``ModelBin::load(..., 0)``: convolution/linear/embedding
weights, RNN weights and biases, Gemm constants, MemoryData with ``21=0``)
carry a flag word, so only they can change storage; that is also where
pnnx's ``fp16=1`` and ``ncnnoptimize ... 1`` write fp16. Raw blobs (biases,
norms, scales) stay fp32 because ncnn reads them without a flag. int8,
lookup-table and ``0x0002C056`` blobs are left as they are and reported.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ....errors import ModelfileError
from ....graph import Graph, Node
from .codecs import f16_tagged
from .spans import Blob
from .store import WeightStore

__all__ = ["DTypeStats", "convert_store"]

#: blob encodings a conversion leaves alone, and why
_KEPT = {"i8": "int8", "table": "a 256-entry lookup table", "f32m": "fp32 marked for int8 (0x0002C056)"}


@dataclass(slots=True)
class DTypeStats:
    """What :func:`convert_store` did."""

    target: str
    converted_layers: int = 0
    converted_blobs: int = 0
    values: int = 0
    #: (layer name, op type, blob role, encoding kept)
    kept: list[tuple[str, str, str, str]] = field(default_factory=list)
    bytes_before: int = 0
    bytes_after: int = 0


def _relay(buf: np.ndarray, blobs: list[Blob], target: str, stats: DTypeStats,
           node: Node) -> bytes | None:
    """The layer's new bytes, or ``None`` when no blob changes."""
    pieces: list[bytes | memoryview] = []
    changed = False
    for b in blobs:
        raw = memoryview(buf[b.offset:b.end])
        if b.encoding == "f32" and target == "fp16":
            vals = buf[b.offset + 4:b.offset + 4 + 4 * b.count].view("<f4")
            pieces.append(f16_tagged(vals))
        elif b.encoding == "f16" and target == "fp32":
            vals = buf[b.offset + 4:b.offset + 4 + 2 * b.count].view("<f2").astype("<f4")
            pieces.append(struct.pack("<I", 0) + vals.tobytes())
        else:
            if b.encoding in _KEPT:
                stats.kept.append((node.name, node.op_type, b.role, _KEPT[b.encoding]))
            pieces.append(raw)
            continue
        changed = True
        stats.converted_blobs += 1
        stats.values += b.count
    if not changed:
        return None
    return b"".join(pieces)


def convert_store(store: WeightStore, target: str, graph: Graph | None = None,
                  progress: Callable[[int], None] | None = None) -> DTypeStats:
    """Give every layer of ``graph`` (default: the store's) its tagged blobs in ``target`` storage.

    ``target`` is ``fp32`` or ``fp16``. The new bytes are set with
    :meth:`WeightStore.set_layer_data`; ``progress`` gets the number of source
    bytes handled after each layer. Raises :class:`ModelfileError` when a layer
    of unknown layout hides where the weights are.
    """
    if target not in ("fp32", "fp16"):
        raise ModelfileError(f"unknown weight storage {target!r}; use fp32 or fp16", code="NCNN-WEIGHTS")
    graph = graph if graph is not None else store.graph
    stats = DTypeStats(target)
    for node in graph.nodes:
        span = store.spans_of(node)
        if span is None:
            continue
        if span.status != "known":
            raise ModelfileError(
                f"layer {node.name} ({node.op_type}) has a weight layout unknown to modelfile, so the weights "
                f"from there on cannot be located and converted", code="NCNN-WEIGHTS",
                file=node.pos.file if node.pos else "", line=node.pos.line if node.pos else 0,
                hint="register the custom layer's layout with modelfile.formats.ncnn.weights.register_layout()")
        before = span.nbytes or 0
        stats.bytes_before += before
        buf, _base, _entry = store._layer_buf(node)  # the source map, or bytes an edit gave the layer
        data = _relay(buf, store.blob_info(node), target, stats, node)
        if data is not None:
            store.set_layer_data(node, data)
            stats.converted_layers += 1
            stats.bytes_after += len(data)
        else:
            stats.bytes_after += before
        if progress is not None:
            progress(before)
    return stats
