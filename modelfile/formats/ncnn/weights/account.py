"""Account for every byte of an ncnn ``.bin``: parameters and bytes per storage type, per layer.

Each blob's bytes (flag word and padding included) count for its storage
type: ``fp32`` (raw blobs, flag 0 and ``0x0002C056``), ``fp16``, ``int8``,
``lut8`` (256-entry fp32 table + uint8 indexes) or ``packed`` (Gemm's
block-quantized rows). With ``trailing_bytes`` (after the last layer) and
``unlocated_bytes`` (after a layer of unknown layout) they sum to the file
size exactly.
"""

from __future__ import annotations

from typing import Any

from ....errors import ModelfileError
from .store import WeightStore

__all__ = ["account", "account_model"]

_DTYPE = {"raw": "fp32", "f32": "fp32", "f32m": "fp32", "f16": "fp16", "i8": "int8", "table": "lut8",
          "bytes": "packed"}


def account(store: WeightStore, *, layers: bool = False) -> dict[str, Any]:
    """``bytes``, ``params``, ``by_dtype`` ({dtype: {params, bytes}}), overheads; ``layers`` per layer on request."""
    by: dict[str, dict[str, int]] = {}
    per_layer: list[dict[str, Any]] = []
    params = flags = padding = unlocated = 0
    for node in store.graph.nodes:
        span = store.spans_of(node)
        if span is None:
            continue
        if span.status != "known":
            unlocated = span.group_nbytes or 0  # one chunk shared by every layer from there on
            if layers:
                per_layer.append({"layer": node.name, "type": node.op_type, "offset": None, "bytes": None,
                                  "params": None, "by_dtype": {}, "located": False})
            continue
        mine: dict[str, dict[str, int]] = {}
        count = 0
        for b in span.blobs:
            d = _DTYPE.get(b.encoding, b.encoding)
            slot = by.setdefault(d, {"params": 0, "bytes": 0})
            slot["params"] += b.count
            slot["bytes"] += b.nbytes
            m = mine.setdefault(d, {"params": 0, "bytes": 0})
            m["params"] += b.count
            m["bytes"] += b.nbytes
            count += b.count
            tagged = b.encoding not in ("raw", "bytes")
            flags += 4 if tagged else 0
            payload = {"f16": 2 * b.count, "i8": b.count, "table": 1024 + b.count}.get(b.encoding, 4 * b.count)
            if b.encoding == "bytes":
                payload = b.count
            padding += b.nbytes - payload - (4 if tagged else 0)
        params += count
        if layers:
            per_layer.append({"layer": node.name, "type": node.op_type, "offset": span.offset, "bytes": span.nbytes,
                              "params": count, "by_dtype": mine, "located": True})
    trailing = store.trailing or 0
    out: dict[str, Any] = {
        "path": str(store.path) if store.path else None,
        "bytes": store.size,
        "params": params,
        "by_dtype": dict(sorted(by.items())),
        "flag_bytes": flags,
        "padding_bytes": padding,
        "trailing_bytes": trailing,
        "unlocated_bytes": unlocated,
    }
    if layers:
        out["layers"] = per_layer
    return out


def account_model(model: Any, *, layers: bool = False) -> dict[str, Any] | None:
    """:func:`account` for a loaded ncnn model, or ``{"error": ...}`` when the ``.bin`` does not fit its params.

    ``None`` when the model has no ``.bin`` next to it.
    """
    try:
        store = WeightStore.from_model(model, attach=False)
    except ModelfileError as e:
        if "not found" in e.diagnostic.message:
            return None
        return {"error": e.diagnostic.one_line()}
    return account(store, layers=layers)
