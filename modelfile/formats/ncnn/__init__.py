"""ncnn ``.param`` (text and binary) + ``.bin``: the format handler used by :func:`modelfile.load`."""

from __future__ import annotations

import os
import sys
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

from ...errors import ModelfileError
from ...model import Model, SaveResult, atomic_write
from . import binparam
from .layers import BUILTIN_TYPES
from .params import Param
from .reader import LineSource, NcnnDocument, read_path, read_text, signature
from .writer import Style, detect_style, render_node, to_text as _graph_to_text

__all__ = [
    "BUILTIN_TYPES", "LineSource", "NcnnDocument", "Param", "Style", "bin_path_for", "describe",
    "detect_style", "name", "read", "read_text", "render_node", "signature", "to_text", "write",
]

name = "ncnn"


def bin_path_for(param_path: Path) -> Path:
    """The weights file next to a param: ``x.param`` / ``x.param.bin`` -> ``x.bin``."""
    n = param_path.name
    if n.endswith(".param.bin"):
        return param_path.with_name(n[: -len(".param.bin")] + ".bin")
    if n.endswith(".param"):
        return param_path.with_name(n[: -len(".param")] + ".bin")
    return param_path.with_name(n + ".bin")


def read(path: Path, *, strict: bool = True, **_: Any) -> Model:
    """Load a text or binary ``.param``."""
    from ...model import detect_format

    if detect_format(path) == "ncnn-bin":
        graph = binparam.read_path(path)
        model = Model(graph, "ncnn", path, sys.modules[__name__])
        model.meta["binary"] = True
    else:
        graph, _doc = read_path(path, strict=strict)
        model = Model(graph, "ncnn", path, sys.modules[__name__])
        model.meta["binary"] = False
    model.meta["bin_path"] = bin_path_for(path)
    return model


def to_text(model: Model, *, reformat: bool = False, style: Style | None = None) -> str:
    """The ``.param`` text of ``model``."""
    if model.meta.get("binary"):
        raise ModelfileError("binary .param.bin has no text form", file=str(model.path))
    return _graph_to_text(model.graph, style, reformat=reformat)


def write(model: Model, path: Path, *, reformat: bool = False, style: Style | None = None,
          weights: bool = True, **_: Any) -> SaveResult:
    """Write the param (atomically) and place the weights next to it.

    Weights are rewritten only when a transform changed them
    (``model.meta["weights"]``); otherwise the source ``.bin`` is linked or
    copied when the param goes to a new place.
    """
    result = SaveResult(path=path)
    store = model.meta.get("weights")
    if weights and store is not None and getattr(store, "dirty", False) and hasattr(store, "plan"):
        store.plan(model.graph)  # a .bin that cannot be written must fail before the param is replaced
    if model.meta.get("binary"):
        data = binparam.to_bytes(model.graph)
        with atomic_write(path, "wb") as f:
            f.write(data)
    else:
        text = to_text(model, reformat=reformat, style=style)
        with atomic_write(path, "wb") as f:
            f.write(text.encode("utf-8"))
    result.files.append(path)
    if not weights:
        return result
    src_bin: Path = model.meta.get("bin_path") or bin_path_for(model.path or path)
    dst_bin = bin_path_for(path)
    store = model.meta.get("weights")
    if store is not None and getattr(store, "dirty", False):
        with atomic_write(dst_bin, "wb") as f:
            store.write_to(f, model.graph)
        result.weights = "rewritten"
        result.files.append(dst_bin)
    elif src_bin.exists() and src_bin.resolve() != dst_bin.resolve():
        _link_or_copy(src_bin, dst_bin)
        result.weights = "copied"
        result.files.append(dst_bin)
    elif src_bin.exists():
        result.weights = "unchanged"
    return result


def _link_or_copy(src: Path, dst: Path) -> None:
    # every writer replaces files atomically, so a hard link never lets a later
    # edit of one file change the other
    tmp = dst.with_name(f".{dst.name}.tmp-link")
    try:
        if tmp.exists():
            tmp.unlink()
        os.link(src, tmp)
    except OSError:
        shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def describe(model: Model) -> dict[str, Any]:
    """A JSON-able summary for ``modelfile info``."""
    g = model.graph
    hist = Counter(n.op_type for n in g.nodes)
    custom = sorted(t for t in hist if t not in BUILTIN_TYPES)
    doc = g.source if isinstance(g.source, NcnnDocument) else None
    inputs = []
    for n in g.nodes:
        if n.op_type == "Input":
            from .edit import input_dims  # values ncnn could not parse are left out (lint reports them)

            dims = input_dims(n)
            shape = [dims[k] for k in ("c", "d", "h", "w") if k in dims]  # as an ncnn Mat
            for v in n.outputs:
                inputs.append({"name": v.name, "layer": n.name, "shape_chw": shape or None})
    unproduced = [v.name for v in g.values() if v.producer is None and v.uses]
    info: dict[str, Any] = {
        "format": "ncnn" + (" (binary .param.bin)" if model.meta.get("binary") else ""),
        "path": str(model.path),
        "layers": len(g.nodes),
        "blobs": len(g.values()),
        "declared_counts": [doc.declared_layers, doc.declared_blobs] if doc else None,
        "inputs": inputs,
        "outputs": [{"name": v.name, "layer": v.producer.name if v.producer else None}
                    for v in g.dangling_values()],
        "fed_from_outside": unproduced,
        "layer_types": dict(hist.most_common()),
        "custom_types": custom,
        "trailing_text": bool(doc and doc.trailing.strip()),
    }
    bin_path = model.meta.get("bin_path")
    if bin_path is not None:
        info["bin"] = {"path": str(bin_path), "exists": Path(bin_path).exists(),
                       "bytes": Path(bin_path).stat().st_size if Path(bin_path).exists() else None}
    return info
