"""Per-node weight access for comparing two models: lazy, from the ``.bin`` files.

ncnn layers own a span of the ``.bin`` (located from their params, see
``formats/ncnn/weights.py``); OpenVINO IR ``Const`` nodes own ``offset``/``size``
bytes (``formats/openvino/weights.py``). Nothing is read until a node pair is
compared, and then only those bytes (memory-mapped).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ModelfileError
from ..graph import Node
from ..model import Model
from ..formats.openvino.keys import IR_DATA

__all__ = ["NodeWeights", "WeightCompare", "compare_weights", "weights_of"]


@dataclass(slots=True)
class NodeWeights:
    """The weights of one node: raw bytes (for a fast equality test) and a way to decode them."""

    raw: Any  # bytes-like / uint8 array
    shapes: tuple[Any, ...]  # per blob, as the format spells it (compared for equality only)
    kinds: tuple[str, ...]  # element type / storage of each blob
    _decode: Any  # () -> list[np.ndarray]
    _dims: Any  # () -> tuple of int shapes, for messages

    def arrays(self) -> list[np.ndarray]:
        return self._decode()


@dataclass(slots=True)
class WeightCompare:
    """``status``: ``same``, ``changed`` (``max_abs_diff`` set when numeric), ``resized``, ``added``, ``removed``."""

    status: str
    max_abs_diff: float | None = None
    before: str = ""
    after: str = ""


class _Source:
    """Weights of one model; ``available`` is false (with ``why``) when its ``.bin`` cannot be read.

    Two kinds of weight storage, told apart by what the format offers rather than by its name:
    a per-layer store (``handler.weights(model)``: ncnn layers own spans of the ``.bin``) or
    constant nodes with ``offset``/``size`` into the weights file (IR ``Const``).
    """

    def __init__(self, model: Model) -> None:
        self.model = model
        self.available = True
        self.why = ""
        self._store: Any = None
        self._ir_weights: Any = None
        layer_store = getattr(model.handler, "weights", None)
        if callable(layer_store):
            try:
                self._store = layer_store(model)
            except ModelfileError as e:
                self.available, self.why = False, e.diagnostic.message
                return
            if self._store is None:
                self.available, self.why = False, "weights file not found"
            return
        doc = getattr(model.state, "doc", None)
        weights = getattr(doc, "weights", None)
        if weights is None or not weights.exists:
            self.available, self.why = False, "no .bin next to the model file"
        else:
            self._ir_weights = weights

    def get(self, node: Node) -> NodeWeights | None:
        """``None``: the node has no weights. Raises ModelfileError when they cannot be located."""
        store = self._store
        if store is not None:
            if store.spans_of(node) is None:
                return None
            blobs = store.blob_info(node)  # raises for layers after one of unknown layout
            raw = store.layer_bytes(node)
            shapes = tuple(b.shape or (b.count,) for b in blobs)
            return NodeWeights(raw, shapes, tuple(b.encoding for b in blobs), lambda: store.blobs_of(node),
                               lambda: shapes)
        if node.op_type != "Const" or self._ir_weights is None:
            return None
        from ..formats.openvino import const_array, const_bytes, const_info

        a = node.attrs
        raw: Any = None
        if node._meta is None or node.meta.get(IR_DATA) is None:
            # the fast path of const_bytes for the common case: a slice of the mapped .bin
            try:
                off, size = int(a["offset"]), int(a["size"])
            except (KeyError, ValueError):
                off = size = -1
            w = self._ir_weights
            if 0 <= off and 0 <= size and off + size <= (w.size or 0):
                raw = w.array()[off:off + size]
        if raw is None:
            raw = const_bytes(node)  # new data, or the error that says what is wrong
        shape = "".join(str(a.get("shape", "")).split())  # "24, 16" and "24,16" are the same shape
        return NodeWeights(raw, (shape,), (str(a.get("element_type", "")),),  # type: ignore[arg-type]
                           lambda: [const_array(node)], lambda: tuple(const_info(node).shape))


def weights_of(model: Model) -> _Source:
    """A lazy weight reader for ``model``."""
    return _Source(model)


def _describe(w: NodeWeights) -> str:
    shapes = w._dims()
    if shapes and not isinstance(shapes[0], tuple):
        shapes = (shapes,)
    return " ".join(f"{k}{list(s)}" for k, s in zip(w.kinds, shapes))


def _same_bytes(x: Any, y: Any) -> bool:
    mx, my = memoryview(x).cast("B"), memoryview(y).cast("B")  # compared in C, nothing copied
    return mx.nbytes == my.nbytes and mx == my


def compare_weights(a: NodeWeights | None, b: NodeWeights | None) -> WeightCompare | None:
    """Compare two nodes' weights; ``None`` when neither has any."""
    if a is None and b is None:
        return None
    if a is None:
        assert b is not None
        return WeightCompare("added", after=_describe(b))
    if b is None:
        return WeightCompare("removed", before=_describe(a))
    if a.shapes == b.shapes and a.kinds == b.kinds and _same_bytes(a.raw, b.raw):
        return WeightCompare("same")
    da, db = _describe(a), _describe(b)
    if a.shapes != b.shapes:
        return WeightCompare("resized", before=da, after=db)
    worst: float | None = 0.0
    for xa, xb in zip(a.arrays(), b.arrays()):
        if xa.dtype.kind not in "fiub" or xb.dtype.kind not in "fiub":
            worst = None  # strings: changed, no distance
            break
        if xa.size == 0:
            continue
        d = float(np.max(np.abs(xa.astype(np.float64) - xb.astype(np.float64))))
        if worst is not None:
            worst = max(worst, d) if not np.isnan(d) else float("nan")
    # 0.0: same values in another storage (fp32 <-> fp16 flag, element type), still a change of the file
    return WeightCompare("changed", worst, da, db)
