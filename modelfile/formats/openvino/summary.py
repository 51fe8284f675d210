"""``modelfile info`` for IR files: a JSON-able summary of a loaded model."""

from __future__ import annotations

import re
from collections import Counter
from typing import TYPE_CHECKING, Any

from ...graph import Graph, Node
from .ionames import implied_names, io_names
from .names import parse_shape
from .reader import IRDocument
from .keys import IR_DATA, RT_INFO

if TYPE_CHECKING:
    from ...model import Model

__all__ = ["describe", "flatten_rt_info"]

_OPSET = re.compile(r"^opset\d+$")


def _shape_json(shape: Any) -> Any:
    if shape is None:
        return None
    return [f"{d[0]}..{'' if d[1] == -1 else d[1]}" if isinstance(d, tuple) else d for d in shape]


def _walk(g: Graph) -> list[Node]:
    """Every node, bodies right after their layer, without recursion."""
    out: list[Node] = []
    stack = [iter(g.nodes)]
    while stack:
        for n in stack[-1]:
            out.append(n)
            if n.subgraphs:
                stack.append(iter([x for sub in n.subgraphs.values() for x in sub.nodes]))
                break
        else:
            stack.pop()
    return out


#: longer rt_info values are shown cut (an embedded tokenizer can be tens of MB)
MAX_VALUE_CHARS = 200


def _clip(text: str) -> str:
    if len(text) <= MAX_VALUE_CHARS:
        return text
    return f"{text[:MAX_VALUE_CHARS]}… ({len(text)} characters)"


def flatten_rt_info(rt: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested model rt_info as ``{"a.b.c": value}`` (long values cut to :data:`MAX_VALUE_CHARS`)."""
    out: dict[str, str] = {}
    stack: list[tuple[dict[str, Any], str, Any]] = [(rt, prefix, iter(rt.items()))]
    while stack:  # depth first, in document order, without recursion
        _d, pre, items = stack[-1]
        for k, v in items:
            key = f"{pre}{k}"
            if isinstance(v, dict):
                stack.append((v, key + ".", iter(v.items())))
                break
            out[key] = _clip(str(v))
        else:
            stack.pop()
    return out


def _io(g: Graph, values: list[Any]) -> list[dict[str, Any]]:
    """Inputs/outputs with the names read_model reports (v10: the layer-derived names first)."""
    implied = implied_names(g)
    out = []
    for v in values:
        p = v.producer
        names = io_names(g, v, implied)
        out.append({"name": names[0] if names else v.name, "names": names, "shape": _shape_json(v.shape),
                    "dtype": v.dtype, "node": p.name if p is not None else None})
    return out


def _states(nodes: list[Node]) -> list[dict[str, Any]]:
    assigns = {n.attrs.get("variable_id") for n in nodes if n.op_type == "Assign"}
    out = []
    for n in nodes:
        if n.op_type != "ReadValue":
            continue
        vid = n.attrs.get("variable_id", "")
        shape: Any = None
        vs = n.attrs.get("variable_shape")
        if vs is not None:
            try:
                shape = _shape_json(parse_shape(vs))
            except ValueError:
                shape = vs
        elif n.outputs:
            shape = _shape_json(n.outputs[0].shape)
        vtype = n.attrs.get("variable_type") or (n.outputs[0].dtype if n.outputs else None)
        out.append({"variable_id": vid, "shape": shape, "type": vtype, "has_assign": vid in assigns,
                    "read_value": n.name, "has_init": bool(n.inputs)})
    return out


def describe(model: "Model", *, layers: bool = False) -> dict[str, Any]:
    """Format, version, name, counts, inputs/outputs, op histogram by opset, states, constants, rt_info.

    ``ops`` (``"opset1::Add": 3``), ``states`` and ``constants`` cover the bodies of
    TensorIterator/Loop/If too; ``counts.layers`` is the top level only, ``layers_total`` all.
    """
    g = model.graph
    doc = getattr(model.state, "doc", None)
    doc = doc if isinstance(doc, IRDocument) else None
    nodes = list(_walk(g))
    hist = Counter(f"{n.version or '?'}::{n.op_type}" for n in nodes)
    custom = sorted({n.version for n in nodes if n.version and not _OPSET.match(n.version)})
    consts = [n for n in nodes if n.op_type == "Const"]
    const_bytes = 0
    unique: set[tuple[str, str]] = set()
    for n in consts:
        data = n.meta.get(IR_DATA)
        try:
            size = len(data) if data is not None else int(n.attrs.get("size", "0") or 0)
        except ValueError:  # a broken size attribute: info still shows the rest (lint reports it)
            size = 0
        const_bytes += size
        unique.add((n.attrs.get("offset", ""), n.attrs.get("size", "")) if data is None else ("mem", str(id(data))))
    rt = g.meta.get(RT_INFO, {}) or {}
    flat = flatten_rt_info(rt)
    edges = sum(1 for n in nodes for v in n.inputs if v is not None)
    info: dict[str, Any] = {
        "format": "openvino",
        "version": doc.version if doc is not None else 11,
        "name": g.name,
        "path": str(model.path) if model.path else None,
        "counts": {
            "layers": len(g.nodes),
            "layers_total": len(nodes),
            "edges": edges,
            "inputs": len(g.inputs),
            "outputs": len(g.outputs),
            "subgraphs": sum(len(n.subgraphs) for n in nodes),
        },
        "inputs": _io(g, g.inputs),
        "outputs": _io(g, g.outputs),
        "ops": dict(sorted(hist.items(), key=lambda kv: (-kv[1], kv[0]))),
        "states": _states(nodes),
        "constants": {"count": len(consts), "bytes": const_bytes, "unique": len(unique)},
        "rt_info": flat,
        "conversion_parameters": flatten_rt_info(rt.get("conversion_parameters", {}))
        if isinstance(rt.get("conversion_parameters"), dict) else {},
        "custom_opsets": custom,
        "warnings": [],
    }
    if doc is not None:
        w = doc.weights
        info["constants"]["bin"] = {"path": str(doc.bin_path) if doc.bin_path else None, "exists": w.exists,
                                    "bytes": w.size}
        if w.exists:
            from .account import account

            info["weights"] = account(g, w.size, layers=layers)
        if consts and not w.exists:
            info["warnings"].append(f"{doc.bin_path.name if doc.bin_path else '.bin'} is missing: "
                                    f"{len(consts)} Const layer(s) have no data (read_model will fail)")
        if doc.rt_from_legacy:
            info["rt_info_source"] = "legacy <meta_data>/<quantization_parameters>"
    unnamed = [v for v in g.outputs if not v.names]
    if unnamed and info["version"] >= 11:
        info["warnings"].append(f"{len(unnamed)} output(s) have no tensor name")
    return info
