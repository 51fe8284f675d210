"""Re-lay a ``.bin`` with its tagged weights stored as fp32 or fp16.

Only *tagged* blobs (``ModelBin::load(..., 0)``: convolution/linear/embedding
weights, RNN weights and biases, Gemm constants, MemoryData with ``21=0``)
carry a flag word, so only they can change storage; that is also where
pnnx's ``fp16=1`` and ``ncnnoptimize ... 1`` write fp16. Raw blobs (biases,
norms, scales) stay fp32 because ncnn reads them without a flag. int8,
lookup-table and ``0x0002C056`` blobs are left as they are and reported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ....errors import ModelfileError
from ....graph import Graph, Node
from .codecs import FLAG_FP16, FP16_PAD, f16_to_f32, f32_to_f16
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


def _relay(buf: np.ndarray, blobs: list[Blob], target: str, stats: DTypeStats, node: Node) -> bytes | None:
    """The layer's new bytes, or ``None`` when no blob changes (built in one buffer: no intermediate copies)."""
    sizes = []
    for b in blobs:
        if b.encoding == "f32" and target == "fp16":
            sizes.append(4 + 2 * b.count + 2 * (b.count % 2))
        elif b.encoding == "f16" and target == "fp32":
            sizes.append(4 + 4 * b.count)
        else:
            sizes.append(b.nbytes)
            if b.encoding in _KEPT:
                stats.kept.append((node.name, node.op_type, b.role, _KEPT[b.encoding]))
    if all(s == b.nbytes and not (b.encoding == "f32" and target == "fp16")
           and not (b.encoding == "f16" and target == "fp32") for s, b in zip(sizes, blobs)):
        return None
    out = bytearray(sum(sizes))
    view = np.frombuffer(out, np.uint8)
    pos = 0
    for b, size in zip(blobs, sizes):
        dst = view[pos:pos + size]
        if b.encoding == "f32" and target == "fp16":
            dst[:4].view("<u4")[0] = FLAG_FP16
            f32_to_f16(buf[b.offset + 4:b.offset + 4 + 4 * b.count].view("<f4"), dst[4:4 + 2 * b.count].view("<u2"))
            if b.count % 2:
                dst[4 + 2 * b.count:] = np.frombuffer(FP16_PAD, np.uint8)
        elif b.encoding == "f16" and target == "fp32":
            dst[:4] = 0
            f16_to_f32(buf[b.offset + 4:b.offset + 4 + 2 * b.count].view("<u2"), dst[4:].view("<f4"))
        else:
            dst[:] = buf[b.offset:b.end]
            pos += size
            continue
        stats.converted_blobs += 1
        stats.values += b.count
        pos += size
    return bytes(out)


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
