"""``modelfile info`` for ncnn: counts, inputs, outputs, types."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from ...model import Model
from .edit import input_dims
from .layers import BUILTIN_TYPES
from .reader import NcnnDocument

__all__ = ["describe"]


def describe(model: Model, *, layers: bool = False) -> dict[str, Any]:
    """A JSON-able summary for ``modelfile info`` (``layers``: the weights per layer too)."""
    g = model.graph
    st = model.state
    hist = Counter(n.op_type for n in g.nodes)
    custom = sorted(t for t in hist if t not in BUILTIN_TYPES)
    doc = g.source if isinstance(g.source, NcnnDocument) else None
    inputs = []
    for n in g.nodes:
        if n.op_type == "Input":
            dims = input_dims(n)  # values ncnn could not parse are left out (lint reports them)
            shape = [dims[k] for k in ("c", "d", "h", "w") if k in dims]  # as an ncnn Mat
            for v in n.outputs:
                inputs.append({"name": v.name, "layer": n.name, "shape_chw": shape or None})
    unproduced = [v.name for v in g.values() if v.producer is None and v.uses]
    info: dict[str, Any] = {
        "format": "ncnn" + (" (binary .param.bin)" if getattr(st, "binary", False) else ""),
        "path": str(model.path),
        "layers": len(g.nodes),
        "blobs": len(g.values()),
        "declared_counts": [doc.declared_layers, doc.declared_blobs] if doc else None,
        "inputs": inputs,
        "outputs": [{"name": v.name, "layer": v.producer.name if v.producer else None} for v in g.outputs],
        "fed_from_outside": unproduced,
        "layer_types": dict(hist.most_common()),
        "custom_types": custom,
        "trailing_text": bool(doc and doc.trailing.strip()),
    }
    bin_path = getattr(st, "bin_path", None)
    if bin_path is not None:
        p = Path(bin_path)
        exists = p.exists()
        info["bin"] = {"path": str(p), "exists": exists, "bytes": p.stat().st_size if exists else None}
        if exists:  # (the accounting imports numpy: not for a .param alone)
            from .weights.account import account_model

            weights = account_model(model, layers=layers)
            if weights is not None:
                info["weights"] = weights
    return info
