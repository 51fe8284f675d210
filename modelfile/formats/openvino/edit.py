"""OpenVINO IR building blocks for the transforms (same function names as ``formats.ncnn.edit``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...errors import ModelfileError
from ...graph import Graph, Node, Value, fresh_name
from . import new_parameter, new_result
from .names import format_shape
from .ionames import ir_version, tensor_name_collisions
from .shapes import infer_touched, mark_touched, place_of
from .keys import IR_VERSION

if TYPE_CHECKING:  # (numpy is imported by what decodes or makes values: a cut or a rename never does)
    import numpy as np

#: model.meta key: the input/output name collisions a model had before an edit
_CLASHES = "ir_name_clashes"

__all__ = [
    "always_keep", "finish", "freeze_input", "is_input", "keep_roots", "new_constant", "new_input",
    "order_inputs", "prepare", "refresh_outputs", "remove_node", "rename_tensor", "rename_v10_io", "rename_value", "set_input", "set_outputs",
    "set_parameter", "to_ir_shape", "value_dtype", "value_shape", "weights_bytes",
]

_SINKS = ("Result", "Assign")


def to_ir_shape(shape: Any) -> tuple[Any, ...] | None:
    """An IR shape tuple (ints, -1, (min, max)) from a mo Shape, a list with None, or a tuple."""
    if shape is None:
        return None
    if hasattr(shape, "dims"):
        out: list[Any] = []
        for d in shape.dims:
            if d.is_static:
                out.append(int(d.min))
            elif d.min in (None, 0) and d.max is None:
                out.append(-1)
            else:
                out.append((d.min or 0, -1 if d.max is None else d.max))
        return tuple(out)
    return tuple(-1 if d is None else d for d in shape)


def prepare(model: Any) -> None:
    """Remember the input/output name collisions the model already has (:func:`finish` refuses new ones).

    IR constants need nothing: they are addressed by offset and re-laid by the writer.
    """
    model.meta[_CLASHES] = {p.message for p in tensor_name_collisions(model)}


def is_input(node: Node) -> bool:
    return node.op_type == "Parameter"


def value_dtype(value: Value) -> str | None:
    if value.dtype and value.dtype not in ("dynamic", "undefined"):
        return value.dtype
    p = value.producer
    if p is not None and p.op_type == "Parameter":
        return p.attrs.get("element_type")
    return None


def value_shape(value: Value) -> list[int | None] | None:
    """Static dims as ints, dynamic/bounded ones as None; None for a dynamic rank."""
    shape = value.shape
    p = value.producer
    if p is not None and p.op_type == "Parameter" and "shape" in p.attrs:
        from .names import parse_shape

        try:
            shape = parse_shape(p.attrs["shape"])
        except ValueError:
            pass
    if shape is None:
        return None
    return [d if isinstance(d, int) and d >= 0 else None for d in shape]


def set_parameter(model: Any, node: Node, *, shape: Any = None, dtype: str | None = None) -> list[tuple]:
    """Set a Parameter's shape/type; the dims downstream are re-inferred by :func:`finish`."""
    changes: list[tuple] = []
    v = node.outputs[0]
    if shape is not None:
        new = to_ir_shape(shape)
        before = node.attrs.get("shape", "")
        text = format_shape(new)
        if before != text:
            node.attrs["shape"] = text
            v.shape = new
            changes.append(("set-input-shape", v.name or node.name, before, text))
            mark_touched(model, v)
    if dtype is not None and dtype != node.attrs.get("element_type"):
        before = node.attrs.get("element_type")
        node.attrs["element_type"] = dtype
        v.dtype = dtype
        changes.append(("set-input-type", v.name or node.name, before, dtype))
        mark_touched(model, v)
    return changes


def set_input(model: Any, node: Node, shape: Any, dtype: str | None) -> list[tuple]:
    return set_parameter(model, node, shape=shape, dtype=dtype)


def _index_before_users(graph: Graph, value: Value | None) -> int | None:
    if value is None:
        return None
    idx = {id(n): i for i, n in enumerate(graph.nodes)}
    firsts = [idx[id(u.node)] for u in value.uses if id(u.node) in idx]
    return min(firsts) if firsts else None


def freeze_input(model: Any, node: Node, array: np.ndarray) -> list[tuple]:
    """Parameter -> Const holding ``array`` (friendly and tensor names kept)."""
    from .weights import new_const

    g: Graph = model.graph
    v = node.outputs[0]
    et = node.attrs.get("element_type") or value_dtype(v) or "f32"
    if et in ("dynamic", "undefined"):
        et = {"f": "f32", "i": "i64", "u": "u8", "b": "boolean"}.get(array.dtype.kind, "f32")
    was = place_of(v)
    at = g.nodes.index(node)
    const = new_const(g, array, node.name, element_type=et, names=list(v.names), index=at)
    v.replace_all_uses_with(const.outputs[0])
    remove_node(model, node)
    mark_touched(model, const.outputs[0], was=was)  # a known value can make shapes further down static
    return [("freeze-input", v.name or node.name, f"Parameter {node.attrs.get('shape', '')} {et}",
             f"Const {format_shape(tuple(array.shape))} = {_preview(array)}")]


def _preview(arr: np.ndarray) -> str:
    flat = arr.reshape(-1)
    return "[" + ", ".join(str(x) for x in flat[:6].tolist()) + (", ..." if flat.size > 6 else "") + "]"


def new_constant(model: Any, name: str, array: np.ndarray, *, like: Value | None = None) -> Value:
    from .weights import new_const

    g: Graph = model.graph
    et = value_dtype(like) if like is not None else None
    node = new_const(g, array, fresh_name(name, g.layer_names()), element_type=et,
                     index=_index_before_users(g, like))
    mark_touched(model, node.outputs[0], was=place_of(like) if like is not None else None)
    return node.outputs[0]


def new_input(model: Any, name: str, *, shape: Any, dtype: str | None, like: Value | None = None) -> Value:
    g: Graph = model.graph
    ir_shape = to_ir_shape(shape) if shape is not None else (like.shape if like is not None else None)
    if g.meta.get(IR_VERSION) == 10:
        # v10 names an input by its Parameter layer: that name, and no port names (a v11 convention)
        v = new_parameter(g, name, dtype or "f32", ir_shape, names=[]).outputs[0]
    else:
        v = new_parameter(g, fresh_name(name, g.layer_names()), dtype or "f32", ir_shape, names=[name]).outputs[0]
    mark_touched(model, v, was=place_of(like) if like is not None else None)
    return v


def set_outputs(model: Any, values: list[Value]) -> list[tuple]:
    """Make ``values`` the model outputs, in order: new Results where needed, other Results removed."""
    g: Graph = model.graph
    changes: list[tuple] = []
    results = [n for n in g.nodes if n.op_type == "Result"]
    by_value: dict[int, Node] = {}
    for r in results:
        if r.inputs and r.inputs[0] is not None:
            by_value.setdefault(id(r.inputs[0]), r)
    keep: list[Node] = []
    for v in values:
        r = by_value.get(id(v))
        if r is None:
            label = v.names[0] if v.names else (v.name or (v.producer.name if v.producer else "output"))
            if not v.names and g.meta.get(IR_VERSION) != 10:  # v10 names an output by its producing layer
                v.names = [label]
                v.name = label
            r = new_result(g, v, fresh_name(f"{label}/sink_port_0", g.layer_names()))
            changes.append(("add-output", label, None, r.name))
        keep.append(r)
    for r in results:
        if all(r is not k for k in keep):
            label = r.inputs[0].name if r.inputs and r.inputs[0] is not None else r.name
            remove_node(model, r)
            changes.append(("remove-output", label or r.name, r.name, None))
    # Result order in the file is the output order
    others = [n for n in g.nodes if n.op_type != "Result"]
    g.nodes = others + keep
    g.outputs = [r.inputs[0] for r in keep if r.inputs and r.inputs[0] is not None]
    return changes


def order_inputs(model: Any, order: list[Value]) -> list[tuple]:
    g: Graph = model.graph
    params = [n for n in g.nodes if n.op_type == "Parameter"]
    wanted = [v.producer for v in order if v.producer is not None and v.producer.op_type == "Parameter"]
    new_order = wanted + [p for p in params if all(p is not w for w in wanted)]
    if [id(p) for p in new_order] == [id(p) for p in params]:
        return []
    queue = iter(new_order)  # the Parameters trade places among their own slots
    g.nodes = [next(queue) if n.op_type == "Parameter" else n for n in g.nodes]
    g.inputs = [p.outputs[0] for p in new_order]
    return [("order-inputs", ", ".join(p.outputs[0].name or p.name for p in new_order), None, None,
             "the order of --input items")]


def keep_roots(model: Any) -> list[Value]:
    return [n.inputs[0] for n in model.graph.nodes if n.op_type in _SINKS and n.inputs and n.inputs[0] is not None]


def always_keep(node: Node) -> bool:
    return node.op_type in _SINKS


def remove_node(model: Any, node: Node) -> None:
    remove_nodes(model, [node])


def remove_nodes(model: Any, nodes: list[Node]) -> None:
    """Remove a batch of nodes; the outputs follow the Results that remain."""
    g: Graph = model.graph
    g.remove(nodes, safe=False)
    if any(n.op_type == "Result" for n in nodes):
        refresh_outputs(model)


def refresh_outputs(model: Any) -> None:
    """``graph.outputs`` from the Result layers in file order (after Results were removed or re-pointed)."""
    g: Graph = model.graph
    g.outputs = [r.inputs[0] for r in g.nodes if r.op_type == "Result" and r.inputs and r.inputs[0] is not None]


def finish(model: Any) -> list[tuple]:
    """Refuse new input/output name collisions; ports downstream of the edit get OpenVINO's dims."""
    before = model.meta.pop(_CLASHES, set())
    new = [p for p in tensor_name_collisions(model) if p.message not in before]
    if new:
        raise ModelfileError(f"the edit would leave two inputs/outputs with one name: {new[0].message} "
                             "(rename one first)")
    return infer_touched(model)


def rename_value(model: Any, value: Value, old: str, new: str) -> list[tuple]:
    """Rename what ``old`` designates on ``value`` so that ``read_model`` reports ``new``; no new collisions.

    ``old`` is a name of the value, or a position/layer that designates it (``input#0``, ``op:1``): then its
    primary tensor name is the one replaced. On a v10 IR an input/output is renamed by its layer.
    """
    g: Graph = model.graph
    before = {p.message for p in tensor_name_collisions(model)}
    if ir_version(g) == 10 and (value in g.inputs or value in g.outputs) and old not in value.names:
        changes = rename_v10_io(model, value, old, new)
    else:
        tensor = old if old in value.names or not value.names else (
            value.name if value.name in value.names else value.names[0])
        changes = rename_tensor(model, value, tensor, new)
        if tensor != old:
            changes = [(c[0], old, *c[2:]) if c[0] == "rename-tensor" else c for c in changes]
    after = [p for p in tensor_name_collisions(model) if p.message not in before]
    if after:
        raise ModelfileError(f"cannot rename {old!r} to {new!r}: {after[0].message}")
    return changes


def rename_tensor(model: Any, value: Value, old: str, new: str) -> list[tuple]:
    """Rename tensor ``old`` to ``new`` on ``value``; Parameter/Result friendly names follow when equal."""
    changes: list[tuple] = []
    names = list(value.names) or ([value.name] if value.name else [])
    if old in names:
        names = [new if n == old else n for n in names]
    else:
        names = [new, *names]
    value.names = names
    if value.name == old or not value.name:
        value.name = new
    changes.append(("rename-tensor", old, old, new))
    p = value.producer
    if p is not None and p.op_type == "Parameter" and p.name == old:
        p.name = new
        changes.append(("rename-layer", old, old, new))
    for u in value.uses:  # the writer derives a Result's output_names from these tensor names
        r = u.node
        if r.op_type == "Result" and r.name == old:
            r.name = new
            changes.append(("rename-layer", old, old, new))
    return changes


def rename_v10_io(model: Any, value: Value, old: str, new: str) -> list[tuple]:
    """Rename a v10 input/output the way v10 names it: by layer name, not by port ``names``.

    An input's name is its Parameter's layer name; an output's is its producing
    layer's name (``layer.N`` for port N of a layer with several outputs, so
    ``new`` must then end in ``.N``). Port tensor names equal to ``old`` follow.
    """
    from .ionames import legacy_output_name

    g: Graph = model.graph
    changes: list[tuple] = []
    p = value.producer
    if p is None:
        raise ModelfileError(f"{old!r} has no producing layer to rename")
    if p.op_type == "Parameter":
        layer_new = new
    else:
        if len(p.outputs) > 1:
            suffix = f".{value.index}"
            if not new.endswith(suffix) or len(new) == len(suffix):
                raise ModelfileError(
                    f"{old!r} is output {value.index} of layer {p.name!r}, which has {len(p.outputs)} outputs: a v10 "
                    f"IR names it <layer>{suffix}, so the new name must end in {suffix!r} (or save as v11)")
            layer_new = new[: -len(suffix)]
        else:
            layer_new = new
    others = [n for n in g.nodes if n.name == layer_new and n is not p]
    if others and any(o.op_type == "Parameter" or any(v in g.outputs for v in o.outputs) for o in others):
        raise ModelfileError(f"cannot rename {old!r} to {new!r}: layer {layer_new!r} already names an input/output")
    before = legacy_output_name(value) if p.op_type != "Parameter" else p.name
    changes.append(("rename-layer", old, p.name, layer_new,
                    "a v10 IR names its inputs/outputs after layers (read_model reports the layer name)"))
    p.name = layer_new
    if old in value.names or before in value.names:
        value.names = [new if n in (old, before) else n for n in value.names]
        if value.name in (old, before):
            value.name = new
        changes.append(("rename-tensor", old, old, new))
    return changes


def weights_bytes(model: Any) -> int | None:
    """The size of the ``.bin`` a save (``weights="auto"``) writes for the model as it is now: the source's
    while it stays (:func:`.binfile.bin_stays`), else the bytes of the distinct Consts (before the writer's
    de-duplication by content)."""
    from .binfile import bin_stays
    from .keys import IR_DATA

    doc = getattr(getattr(model, "state", None), "doc", None)
    consts = [n for n in _all_nodes(model.graph) if n.op_type == "Const"]
    if doc is not None and doc.weights.exists and bin_stays(consts, doc) is not None:
        return doc.weights.size
    seen: set[Any] = set()
    total = 0
    for n in consts:
        data = n._meta.get(IR_DATA) if n._meta else None
        key = ("mem", id(data)) if data is not None else (n.attrs.get("offset"), n.attrs.get("size"))
        if key in seen:
            continue
        seen.add(key)
        try:
            total += len(data) if data is not None else int(n.attrs.get("size", "0") or 0)
        except (TypeError, ValueError):
            pass
    return total


def _all_nodes(g: Graph) -> list[Node]:
    """The nodes of ``g`` and of its layers' bodies."""
    out: list[Node] = []
    for n in g.nodes:
        out.append(n)
        for sub in n.subgraphs.values():
            out.extend(_all_nodes(sub))
    return out
