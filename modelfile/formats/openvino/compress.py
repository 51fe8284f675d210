"""IR weights fp32 <-> fp16, the way ``ov.save_model(..., compress_to_fp16=True)`` stores them.

OpenVINO's ``CompressFloatConstants`` replaces each f32 ``Const`` by an f16
``Const`` (named ``<name>_compressed``) feeding a ``Convert`` to f32 that takes
the Const's name and tensor names. Values beyond fp16's range are clamped to
±65504; a Const is left in f32 when 75 % or more of its values do not fit
(magnitude above 65504, or non-zero below the smallest fp16 denormal), and
so is a one-value Const that fp16 would change by more than 1e-4 relative
(measured against openvino 2026.4: 9.6e-5 is compressed, 1.02e-4 is not).
Constants feeding shape computations stay f32 too (OpenVINO marks them
precision-sensitive); here: Consts consumed only at shape-like inputs.

The way back folds each f16 Const -> Convert(f32) pair into one f32 Const
(the Convert's name and tensor names, exact values). f16 Consts used
directly (a model that computes in f16) are left alone and counted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from ...graph import Graph, Node, Value
from .weights import const_array, new_const

__all__ = ["IrDTypeStats", "compress_to_fp16", "decompress_to_fp32"]

_F16_MAX = 65504.0
_F16_TINY = float(np.float16(2 ** -24))  # smallest positive fp16 (a denormal)
#: (op type, input port) that take a shape, axes or sizes rather than data
_SHAPE_PORTS = {("Reshape", 1), ("Broadcast", 1), ("Broadcast", 2), ("Tile", 1), ("Interpolate", 1),
                ("Interpolate", 2), ("Interpolate", 3), ("Range", 0), ("Range", 1), ("Range", 2),
                ("StridedSlice", 1), ("StridedSlice", 2), ("StridedSlice", 3), ("Slice", 1), ("Slice", 2),
                ("Slice", 3), ("Slice", 4), ("Pad", 1), ("Pad", 2), ("Unsqueeze", 1), ("Squeeze", 1),
                ("Gather", 2), ("Split", 1), ("VariadicSplit", 1), ("VariadicSplit", 2), ("Transpose", 1),
                ("ReduceMean", 1), ("ReduceSum", 1), ("ReduceMax", 1), ("ReduceMin", 1), ("ReduceProd", 1),
                ("TopK", 1), ("OneHot", 1), ("Concat", -1)}


@dataclass(slots=True)
class IrDTypeStats:
    """What a conversion did: Consts converted, kept (with why), bytes of Const data before and after."""

    converted: int = 0
    kept: dict[str, int] = field(default_factory=dict)
    bytes_before: int = 0
    bytes_after: int = 0
    clamped: int = 0

    def keep(self, why: str) -> None:
        self.kept[why] = self.kept.get(why, 0) + 1


def _graphs(g: Graph) -> Iterator[Graph]:
    yield g
    for n in list(g.nodes):
        for sub in n.subgraphs.values():
            yield from _graphs(sub)


def _scalar_loses(x: float) -> bool:
    if x == 0.0 or not np.isfinite(x):
        return False
    with np.errstate(over="ignore"):
        h = float(np.float16(x))
    return abs(h - x) / abs(x) > 1e-4


def _shape_only(v: Value) -> bool:
    uses = list(v.uses)
    return bool(uses) and all((u.node.op_type, u.index) in _SHAPE_PORTS for u in uses)


def compress_to_fp16(graph: Graph, progress: Callable[[int], None] | None = None) -> IrDTypeStats:
    """Every eligible f32 Const -> f16 Const + Convert(f32), in place (bodies included)."""
    stats = IrDTypeStats()
    for g in _graphs(graph):
        replaced: dict[Node, list[Node]] = {}
        for node in [n for n in g.nodes if n.op_type == "Const"]:
            if node.attrs.get("element_type") != "f32" or not node.outputs:
                continue
            v = node.outputs[0]
            arr = np.asarray(const_array(node), dtype=np.float32)
            if progress is not None:
                progress(arr.nbytes)
            if arr.size == 0:
                stats.keep("empty")
                continue
            if _shape_only(v):
                stats.keep("feeds shapes only")
                continue
            if any(u.node.op_type == "Result" for u in v.uses):
                stats.keep("is a model output")
                continue
            if arr.size == 1 and _scalar_loses(float(arr.reshape(-1)[0])):
                stats.keep("one value fp16 would change by more than 1e-4 (relative)")
                continue
            a = np.abs(arr)
            out_of_range = int(np.count_nonzero((a > _F16_MAX) | ((a < _F16_TINY) & (arr != 0))))
            if out_of_range / arr.size >= 0.75:
                stats.keep("75% or more of its values do not fit fp16")
                continue
            stats.clamped += int(np.count_nonzero(a > _F16_MAX))
            with np.errstate(over="ignore", invalid="ignore"):
                half = np.clip(arr, -_F16_MAX, _F16_MAX).astype(np.float16)
            stats.bytes_before += arr.nbytes
            stats.bytes_after += half.nbytes
            names = list(v.names)
            conv_out = Value(v.name, dtype="f32", shape=v.shape, names=names)
            conv = Node("Convert", node.name, attrs={"destination_type": "f32"}, version="opset1")
            conv.append_output(conv_out)
            v.replace_all_uses_with(conv_out)
            small = new_const(g, half, node.name + "_compressed", element_type="f16")
            conv.append_input(small.outputs[0])
            replaced[node] = [small, conv]
            stats.converted += 1
        _put_in_place(g, replaced)
    return stats


def _put_in_place(g: Graph, replaced: dict[Node, list[Node]]) -> None:
    """Each key leaves ``g`` and its new nodes take its position, in one pass over the node list
    (positions looked up per Const made a model with 6,665 Consts take 56 s)."""
    if not replaced:
        return
    added = {n for new in replaced.values() for n in new}
    order: list[Node] = []
    for n in g.nodes:
        if n in replaced:
            order.extend(replaced[n])
        elif n not in added:
            order.append(n)
    g.remove(list(replaced), safe=False)
    g.nodes.replace_all(order)


def decompress_to_fp32(graph: Graph, progress: Callable[[int], None] | None = None) -> IrDTypeStats:
    """Fold every f16 Const -> Convert(f32) into one f32 Const, in place (bodies included)."""
    stats = IrDTypeStats()
    for g in _graphs(graph):
        replaced: dict[Node, list[Node]] = {}
        for node in [n for n in g.nodes if n.op_type == "Const"]:
            if node.attrs.get("element_type") != "f16" or not node.outputs:
                continue
            v = node.outputs[0]
            uses = list(v.uses)
            converts = [u.node for u in uses if u.node.op_type == "Convert"
                        and u.node.attrs.get("destination_type") == "f32"]
            if not uses or len(converts) != len(uses):
                stats.keep("f16 Const used directly (the model computes in f16)")
                continue
            if any(u.node.op_type == "Result" for c in converts for u in c.outputs[0].uses):
                stats.keep("is a model output")
                continue
            arr = np.asarray(const_array(node)).astype(np.float32)
            if progress is not None:
                progress(arr.nbytes // 2)
            for conv in converts:
                out = conv.outputs[0]
                big = new_const(g, arr, conv.name, element_type="f32", names=list(out.names))
                big.outputs[0].name = out.name
                out.replace_all_uses_with(big.outputs[0])
                replaced[conv] = [big]
                stats.bytes_after += arr.nbytes
            stats.bytes_before += arr.nbytes // 2
            replaced[node] = []
            stats.converted += 1
        _put_in_place(g, replaced)
    return stats

