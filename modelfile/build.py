"""Building and rewiring nodes of either format: the edits a pass is made of.

:func:`new_node` creates a layer from a type, inputs, named params and numpy weights and puts
it in the graph after its inputs' producers; ncnn counts, blob names, Split fan-out and the
``.bin`` layout, IR versions, ports and Consts are derived. :func:`insert_after`,
:func:`replace`, :func:`bypass`, :func:`remove` and :func:`add_output` rewire the graph and keep
the model's input and output tensors (and their names) where users look for them.
Impossible requests raise :class:`~modelfile.errors.ModelfileError` naming the node and why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import ModelfileError
from .graph import Graph, Node, Value, fresh_name
from .views import (
    IrParams, NcnnParams, attach_model, format_of, ncnn_store, ncnn_store_of_model, node_error, set_ncnn_weights,
)

if TYPE_CHECKING:
    from .model import Model

__all__ = ["add_output", "bypass", "insert_after", "new_node", "remove", "replace", "set_input"]

#: ops whose output has the shape and type of their first input
_SAME_AS_INPUT = frozenset({
    "Relu", "ReLU", "Sigmoid", "Tanh", "Elu", "Clamp", "Gelu", "Swish", "HSwish", "HSigmoid", "Mish", "SoftPlus",
    "Exp", "Log", "Sqrt", "Abs", "Negative", "Floor", "Ceiling", "Erf", "Softmax", "LogSoftmax", "PRelu",
    "Selu", "HardSigmoid", "SoftSign", "MVN", "NormalizeL2", "BatchNormInference", "Convert", "Round", "Sign",
    "Sin", "Cos", "Identity",
})
_BROADCAST = frozenset({
    "Add", "Subtract", "Multiply", "Divide", "Maximum", "Minimum", "Power", "SquaredDifference", "FloorMod", "Mod",
})
#: the opset a new IR op is written with when the caller does not say (the newest that changes semantics)
_IR_VERSIONS = {
    "Gather": "opset8", "Softmax": "opset8", "LogSoftmax": "opset5", "Swish": "opset4", "HSwish": "opset4",
    "Mish": "opset4", "SoftPlus": "opset4", "Gelu": "opset7", "Range": "opset4", "Interpolate": "opset11",
    "TopK": "opset11", "Round": "opset5", "MVN": "opset6", "HSigmoid": "opset5", "NonZero": "opset3",
    "ShapeOf": "opset3", "Broadcast": "opset3", "ScatterUpdate": "opset3", "Slice": "opset8", "Pad": "opset12",
    "ReadValue": "opset6", "Assign": "opset6", "Einsum": "opset7", "Roll": "opset7", "GatherND": "opset8",
    "SoftSign": "opset9", "Unique": "opset10", "IsNaN": "opset10", "ScaledDotProductAttention": "opset13",
    "BitwiseAnd": "opset13", "Identity": "opset16", "Squeeze": "opset1", "GatherElements": "opset6",
}


# ---------------------------------------------------------------------------------------------
# small graph helpers (one place for the node-list position logic)
# ---------------------------------------------------------------------------------------------

def _index(graph: Graph, node: Node) -> int:
    try:
        return graph.nodes.index(node)
    except ValueError:
        raise node_error(node, "is not in the graph") from None


def _contains(graph: Graph, node: Node) -> bool:
    return node in graph.nodes


def _place_after(graph: Graph, node: Node, anchors: Sequence[Node | None]) -> None:
    """Put ``node`` right after the last of ``anchors`` in the node list (or after the inputs)."""
    if _contains(graph, node):
        return
    idx = {id(n): i for i, n in enumerate(graph)}
    at = -1
    for a in anchors:
        if a is not None and id(a) in idx:
            at = max(at, idx[id(a)])
    if at < 0:
        # no producer in the graph: after the leading Input / Parameter layers
        at = -1
        for i, n in enumerate(graph):
            if n.op_type in ("Input", "Parameter"):
                at = i
            else:
                break
    graph.insert(at + 1, node)


def _pull_constants(graph: Graph, node: Node) -> None:
    """Move the Const / MemoryData layers only ``node`` reads to just before it (file order = reading order)."""
    for v in node.inputs:
        p = v.producer if v is not None else None
        if p is None or p.op_type not in ("Const", "MemoryData") or p.inputs or len(v.uses) != 1:
            continue
        if _index(graph, p) < _index(graph, node):
            continue
        graph.nodes.discard_many([p])  # a move: its tensors stay wired
        graph.insert_before(node, p)


def _anchor(v: Value | None) -> Node | None:
    # a fresh constant made for this node is moved before it afterwards: it does not decide the place
    p = v.producer if v is not None else None
    if p is not None and p.op_type in ("Const", "MemoryData") and len(v.uses) == 1:  # type: ignore[union-attr]
        return None
    return p


def _downstream(value: Value, stop: Node) -> set[int]:
    """ids of the nodes computed from ``value`` (not walking through ``stop``)."""
    seen: set[int] = set()
    todo = [u.node for u in value.uses]
    while todo:
        n = todo.pop()
        if n is stop or id(n) in seen:
            continue
        seen.add(id(n))
        todo.extend(u.node for v in n.outputs for u in v.uses)
    return seen


def _topological(graph: Graph) -> list[Node]:
    """Producers first, otherwise the file's order (a stable Kahn walk)."""
    import heapq

    pos = {n: i for i, n in enumerate(graph)}
    indeg: dict[Node, int] = {}
    readers: dict[Node, list[Node]] = {}
    for n in graph:
        deps = {v.producer for v in n.inputs if v is not None and v.producer in pos and v.producer is not n}
        indeg[n] = len(deps)
        for d in deps:
            readers.setdefault(d, []).append(n)
    ready = [(pos[n], n) for n in graph if indeg[n] == 0]
    heapq.heapify(ready)
    out: list[Node] = []
    while ready:
        _, n = heapq.heappop(ready)
        out.append(n)
        for r in readers.get(n, ()):
            indeg[r] -= 1
            if indeg[r] == 0:
                heapq.heappush(ready, (pos[r], r))
    return out + [n for n in graph if n not in set(out)]  # a cycle keeps the rest in file order


def _ensure_order(graph: Graph, node: Node) -> None:
    """Keep producers before readers around ``node`` (ncnn resolves a bottom only if it was already made)."""
    idx = {id(n): i for i, n in enumerate(graph)}
    at = idx.get(id(node))
    if at is None:
        return
    early = any(v is not None and v.producer is not None and idx.get(id(v.producer), -1) > at for v in node.inputs)
    late = any(idx.get(id(u.node), at + 1) < at for v in node.outputs for u in v.uses)
    if not (early or late):
        return
    graph.nodes.replace_all(_topological(graph))


def _swap_io(values: list[Value], old: Value, new: Value) -> None:
    """Replace ``old`` by ``new`` in a graph's input/output list, in place (the list is the graph's own)."""
    for k, v in enumerate(values):
        if v is old:
            values[k] = new


def _drop_io(values: list[Value], drop: Any) -> None:
    for k in reversed(range(len(values))):
        if drop(values[k]):
            del values[k]


def _graph_of(value: Value) -> Graph:
    p = value.producer
    if p is not None and p.graph is not None:
        return p.graph
    for u in value.uses:
        if u.node.graph is not None:
            return u.node.graph
    raise ModelfileError(f"tensor {value.name!r} is not part of a graph")


# ---------------------------------------------------------------------------------------------
# ncnn: one consumer per blob (converters fan out through Split layers)
# ---------------------------------------------------------------------------------------------

def _fix_fanout(graph: Graph, value: Value) -> None:
    """Give every consumer of an ncnn blob its own Split top when several layers read it."""
    uses = list(value.uses)
    if len(uses) < 2:
        return
    split = next((u.node for u in uses if u.node.op_type == "Split" and len(u.node.inputs) == 1), None)
    taken = graph.tensor_names()
    if split is None:
        base = value.name or "blob"
        split = Node("Split", fresh_name(f"splitncnn_{base}", graph.layer_names()))
        split.graph = graph
        anchor = value.producer
        split.set_inputs([value])
        _place_after(graph, split, [anchor])
        others = uses
    else:
        others = [u for u in uses if u.node is not split]
    for u in others:
        top = split.append_output(Value(fresh_name(f"{value.name}_splitncnn_{len(split.outputs)}", taken)))
        u.node.set_input(u.index, top)


def set_input(node: Node, index: int, value: Value | None) -> None:
    """Feed input ``index`` of ``node`` from ``value`` (ncnn: adds a Split top when the blob is already read)."""
    node.set_input(index, value)
    if value is not None and node.graph is not None and format_of(node) == "ncnn":
        _fix_fanout(node.graph, value)


# ---------------------------------------------------------------------------------------------
# creating nodes
# ---------------------------------------------------------------------------------------------

def _resolve_input(model: "Model", x: Any, like: Value | None, name: str) -> Value | None:
    if x is None or isinstance(x, Value):
        return x
    if isinstance(x, str):
        found = model.graph.find_values(x)
        if not found:
            raise ModelfileError(f"no tensor named {x!r}", file=str(model.path or ""))
        return found[0]
    arr = np.asarray(x)
    if model.format == "ncnn":
        return _ncnn_constant(model, arr, name)
    from .formats.openvino import new_const

    et = None
    if like is not None and like.dtype and arr.dtype.kind == "f" and (like.dtype.startswith("f") or like.dtype == "bf16"):
        et = like.dtype
    elif arr.dtype == np.float64:
        et = "f32"
    g = model.graph
    const = new_const(g, arr, fresh_name(f"{name}/const", g.layer_names()), element_type=et)
    return const.outputs[0]


def _ncnn_constant(model: "Model", arr: np.ndarray, name: str) -> Value:
    from .formats.ncnn.weights import memorydata_bytes, memorydata_dims

    g = model.graph
    md = Node("MemoryData", fresh_name(f"{name}_data", g.layer_names()))
    md.graph = g
    shape = arr.shape or (1,)
    for pid, dim in memorydata_dims(shape).items():
        from .formats.ncnn.params import Param

        md.attrs[pid] = Param.of(pid, int(dim))
    md.attrs = dict(sorted(md.attrs.items()))
    md.append_output(Value(fresh_name(md.name, g.tensor_names())))
    _place_after(g, md, [])
    ncnn_store(md).set_layer_data(md, memorydata_bytes(arr))
    return md.outputs[0]


def _derive_ncnn_counts(op_type: str, params: dict[Any, Any], w: Mapping[str, Any]) -> None:
    """Counts an ncnn layer states that follow from its weights (sizes, bias flags, kernel)."""
    def put(key: str, value: Any) -> None:
        params.setdefault(key, value)

    if op_type.startswith(("Convolution", "Deconvolution")) and "weight" in w:
        wt = np.asarray(w["weight"])
        put("weight_data_size", int(wt.size))
        put("bias_term", int("bias" in w))
        if wt.ndim >= 3:
            put("num_output", int(wt.shape[1] if op_type.startswith("Deconvolution") and "DepthWise" not in op_type
                                  else wt.shape[0]))
            put("kernel_w", int(wt.shape[-1]))
            if wt.ndim >= 4 and not op_type.endswith("1D"):
                put("kernel_h", int(wt.shape[-2]))
        elif "bias" in w:
            put("num_output", int(np.asarray(w["bias"]).size))
    elif op_type == "InnerProduct" and "weight" in w:
        wt = np.asarray(w["weight"])
        put("weight_data_size", int(wt.size))
        put("bias_term", int("bias" in w))
        put("num_output", int(wt.shape[0]) if wt.ndim == 2 else int(np.asarray(w.get("bias", [])).size))
    elif op_type == "BatchNorm" and "slope" in w:
        put("channels", int(np.asarray(w["slope"]).size))
    elif op_type == "Scale" and "scale" in w:
        put("scale_data_size", int(np.asarray(w["scale"]).size))
        put("bias_term", int("bias" in w))
    elif op_type in ("Bias",) and "bias" in w:
        put("bias_data_size", int(np.asarray(w["bias"]).size))
    elif op_type == "PReLU" and "slope" in w:
        put("num_slope", int(np.asarray(w["slope"]).size))
    elif op_type == "MemoryData" and "data" in w:
        from .formats.ncnn.weights import memorydata_dims

        names = {0: "w", 1: "h", 2: "c", 11: "d"}
        for pid, dim in memorydata_dims(np.asarray(w["data"]).shape or (1,)).items():
            put(names[pid], dim)


def new_node(
    model: "Model",
    op_type: str,
    inputs: Sequence[Value | str | Any | None] = (),
    *,
    name: str | None = None,
    params: Mapping[Any, Any] | None = None,
    weights: Mapping[str, Any] | None = None,
    outputs: int | Sequence[str] = 1,
    version: str | None = None,
    after: Node | None = None,
) -> Node:
    """Create a layer and add it to ``model``'s graph after the producers of its inputs.

    ``inputs`` are tensors (:class:`Value`), tensor names, or numpy arrays (they become an IR
    Const / an ncnn MemoryData). ``params`` by name (ncnn schema names or ids; IR ``<data>``
    names) take typed values. ``weights``: ncnn blobs by role (``weight``, ``bias``...;
    ``weight_data_size``, ``bias_term``, ``num_output`` and kernel sizes follow from them when
    not given), or ``{"value": array}`` for an IR ``Const``. ``outputs`` is a count or the
    output tensor names. ``version`` is the IR opset (a sensible one by default).
    """
    attach_model(model)
    g = model.graph
    ncnn = model.format == "ncnn"
    w = dict(weights or {})
    base = name or op_type.split(".")[-1].lower()
    node_name = name if name is not None else fresh_name(base, g.layer_names())
    if ncnn:
        ncnn_store_for_model = ncnn_store_of_model(model)
    first = next((x for x in inputs if isinstance(x, Value)), None)
    ins = [_resolve_input(model, x, first, node_name) for x in inputs]
    node = Node(op_type, node_name, version=None if ncnn else (version or _IR_VERSIONS.get(op_type, "opset1")))
    node.graph = g
    p = dict(params or {})
    if ncnn:
        _derive_ncnn_counts(op_type, p, w)
        view: NcnnParams | IrParams = NcnnParams(node)
    else:
        view = IrParams(node)
    for k, v in p.items():
        try:
            view[k] = v
        except KeyError as e:
            raise node_error(node, str(e.args[0]) if e.args else f"unknown param {k!r}") from None
    names = list(outputs) if not isinstance(outputs, int) else []
    count = len(names) if names else int(outputs)  # type: ignore[arg-type]
    taken = g.tensor_names()
    for k in range(count):
        if ncnn:
            vname = names[k] if names else fresh_name(node_name if count == 1 else f"{node_name}_{k}", taken)
            node.append_output(Value(vname))
        else:
            dtype, shape = _ir_out_type(node, ins)
            nm = [names[k]] if names else []
            node.append_output(Value(nm[0] if nm else "", dtype=dtype, shape=shape, names=nm))
    node.set_inputs(ins)
    if after is not None:
        _place_after(g, node, [after])
    else:
        _place_after(g, node, [_anchor(v) for v in ins])
    _pull_constants(g, node)
    if ncnn:
        for v in ins:
            if v is not None:
                _fix_fanout(g, v)
        if w or _reads_weights(node):
            set_ncnn_weights(node, ncnn_store_for_model, w, {})
    elif op_type in ("Const", "Constant"):
        if "value" not in w:
            raise node_error(node, "a Const needs weights={'value': array}")
        from .formats.openvino import set_const_value

        set_const_value(node, w["value"], node.attrs.get("element_type") or None)
    elif w:
        raise node_error(node, "IR layers hold no weights: pass arrays as inputs (they become Consts)")
    return node


def _reads_weights(node: Node) -> bool:
    from .formats.ncnn.weights import layer_layout

    specs = layer_layout(node)
    return bool(specs)


def _broadcast(shapes: list[Any]) -> Any:
    if any(s is None for s in shapes):
        return None
    rank = max(len(s) for s in shapes)
    out = []
    for k in range(rank):
        dims = [s[len(s) - rank + k] for s in shapes if len(s) - rank + k >= 0]
        static = [d for d in dims if isinstance(d, int) and d >= 0 and d != 1]
        if any(not (isinstance(d, int) and d >= 0) for d in dims) and not static:
            out.append(-1)
        else:
            out.append(static[0] if static else 1)
    return tuple(out)


def _ir_out_type(node: Node, ins: list[Value | None]) -> tuple[str | None, Any]:
    """Best-effort port type and shape of a new IR op (OpenVINO re-infers both when it loads)."""
    first = next((v for v in ins if v is not None), None)
    dtype = first.dtype if first is not None else None
    t = node.op_type
    if t == "Convert":
        dtype = node.attrs.get("destination_type", dtype)
    if t in _SAME_AS_INPUT and first is not None:
        return dtype, first.shape
    if t in _BROADCAST:
        return dtype, _broadcast([v.shape for v in ins if v is not None])
    return dtype, None


# ---------------------------------------------------------------------------------------------
# rewiring
# ---------------------------------------------------------------------------------------------

def _is_graph_output(value: Value) -> bool:
    if any(u.node.op_type == "Result" for u in value.uses):
        return True
    try:
        return value in _graph_of(value).outputs
    except ModelfileError:
        return False


def _swap_output_names(old: Value, new: Value, graph: Graph) -> None:
    """Move the public name of an output tensor from ``old`` to ``new`` (``old`` gets a fresh one)."""
    if old.producer is not None and old.producer.op_type in ("Input", "Parameter"):
        return  # input names stay with the input
    if old.producer is not None and format_of(old.producer) == "ncnn":
        keep = old.name
        old.name = fresh_name(f"{keep}_pre", graph.tensor_names())
        new.name = keep
        return
    names = list(old.names)
    if not names:
        return
    new.names = names + [n for n in new.names if n not in names]
    new.name = names[0]
    old.names = ()
    old.name = ""


def insert_after(value: Value, node: Node, *, output: Value | None = None) -> Node:
    """Make ``node`` read ``value`` and every other reader of ``value`` read ``node``'s output.

    ``node`` (from :func:`new_node`, or built by hand) goes right after ``value``'s producer.
    ``output`` (default ``node.outputs[0]``) is the tensor the readers move to: give the last
    tensor of a chain that starts at ``node``. A model output keeps its name: it moves along.
    """
    g = _graph_of(value)
    out = output if output is not None else (node.outputs[0] if node.outputs else None)
    if out is None:
        raise node_error(node, "has no output to feed the readers of the tensor it is inserted after")
    if out is value:
        raise node_error(node, f"cannot feed the readers of {value.name!r} from {value.name!r} itself")
    if node.inputs and all(v is not value for v in node.inputs):
        if not _unsplit(g, node, value):
            raise node_error(node, f"does not read tensor {value.name!r}; give it as its input or leave its "
                                   "inputs empty")
    down = _downstream(value, stop=node)
    for v in node.inputs:
        if v is not None and v is not value and v.producer is not None and id(v.producer) in down:
            raise node_error(node, f"cannot go after {value.name!r}: its input {v.name!r} is computed from "
                                   f"{value.name!r}, so the graph would loop")
    was_output = _is_graph_output(value)
    if not node.inputs:
        node.set_inputs([value])
    if _contains(g, node):
        g.nodes.discard_many([node])  # a move: its tensors stay wired
    _place_after(g, node, [value.producer, *(_anchor(v) for v in node.inputs)])
    _pull_constants(g, node)
    for u in list(value.uses):
        if u.node is node:
            continue
        u.node.set_input(u.index, out)
    _ensure_order(g, node)
    _swap_io(g.outputs, value, out)
    if was_output:
        _swap_output_names(value, out, g)
    return node


def _unsplit(g: Graph, node: Node, value: Value) -> bool:
    """Undo the Split :func:`new_node` put between ``value`` and ``node`` (ncnn): ``node`` reads ``value`` again."""
    for i, v in enumerate(node.inputs):
        p = v.producer if v is not None else None
        if p is None or p.op_type != "Split" or not p.inputs or p.inputs[0] is not value:
            continue
        node.set_input(i, value)
        p.remove_output(v.index)
        if len(p.outputs) == 1:  # the Split only fans out to one reader now: drop it (no new fan-out fix yet)
            rest = p.outputs[0]
            for u in list(rest.uses):
                u.node.set_input(u.index, value)
            g.remove(p, safe=False)
        return True
    return False


def replace(old: Node, new: Node) -> Node:
    """Put ``new`` in ``old``'s place: same position, same input tensors (if ``new`` has none), same outputs.

    ``new``'s outputs take over ``old``'s output tensors (names, readers, model outputs) when
    ``new`` has no outputs yet or none of them is read; otherwise the readers are moved.
    """
    g = old.graph
    if g is None:
        raise node_error(old, "is not in a graph")
    if new is old:
        return new
    if new.outputs and len(new.outputs) != len(old.outputs):
        raise node_error(old, f"has {len(old.outputs)} output(s) but its replacement {new.name!r} has "
                              f"{len(new.outputs)}")
    ins = old.inputs if not new.inputs else new.inputs
    olds = list(old.outputs)
    adopt = not new.outputs or all(not v.uses for v in new.outputs)
    if _contains(g, new):
        g.nodes.discard_many([new])  # it takes old's place below
    old.clear_inputs()
    if adopt:
        old.set_outputs([])
        new.set_outputs(olds)
    else:
        for a, b in zip(olds, new.outputs):
            a.replace_all_uses_with(b)
            _swap_io(g.outputs, a, b)
            _swap_io(g.inputs, a, b)
    g.nodes.swap(old, new)
    if new.inputs != ins:
        new.set_inputs(ins)
    _ensure_order(g, new)
    return new


def bypass(node: Node, *, input: int = 0, output: int = 0) -> Value:
    """Remove ``node``, feeding the readers of its output ``output`` from its input ``input``.

    Its other outputs must be unused. A model output keeps its name (the tensor that now
    reaches it takes the name) unless that tensor is a model input.
    """
    g = node.graph
    if g is None:
        raise node_error(node, "is not in a graph")
    if not (0 <= input < len(node.inputs)) or node.inputs[input] is None:
        raise node_error(node, f"has no input {input} to connect its readers to")
    if not (0 <= output < len(node.outputs)):
        raise node_error(node, f"has no output {output}")
    for k, v in enumerate(node.outputs):
        if k != output and v.uses:
            raise node_error(node, f"cannot be bypassed: its output {v.name!r} is read by {v.uses[0].node.name!r}")
    src = node.inputs[input]
    assert src is not None
    out = node.outputs[output]
    was_output = _is_graph_output(out)
    for u in list(out.uses):
        u.node.set_input(u.index, src)
    _swap_io(g.outputs, out, src)
    g.remove(node, safe=False)
    if format_of_graph(g) == "ncnn":
        _fix_fanout(g, src)
        if was_output and not src.uses and src.producer is not None and src.producer.op_type != "Input":
            src.name = out.name
    elif was_output and (src.producer is None or src.producer.op_type != "Parameter"):
        # the tensor is now the model output: its public names come first
        src.names = list(out.names) + [n for n in src.names if n not in out.names]
        if src.names:
            src.name = src.names[0]
    return src


def _ncnn_expose(g: Graph, value: Value, name: str | None) -> Value:
    taken = g.tensor_names()
    if not value.uses:
        if name and name != value.name:
            if name in taken:
                raise ModelfileError(f"blob name {name!r} is already taken")
            value.name = name
        if value not in g.outputs:
            g.outputs.append(value)
        return value
    if name and name in taken:
        raise ModelfileError(f"blob name {name!r} is already taken")
    top_name = name or value.name
    if not name:
        taken.discard(value.name)
        value.name = fresh_name(f"{value.name}_pre", taken)
    _fix_fanout(g, value)
    split = value.uses[0].node
    if split.op_type != "Split" or len(split.inputs) != 1:
        _place_split(g, value)
        split = value.uses[0].node
    top = split.append_output(Value(top_name))
    g.outputs.append(top)
    return top


def _place_split(g: Graph, value: Value) -> None:
    """Put a one-top Split between ``value`` and its single reader."""
    u = value.uses[0]
    split = Node("Split", fresh_name(f"splitncnn_{value.name}", g.layer_names()))
    split.graph = g
    top = split.append_output(Value(fresh_name(f"{value.name}_splitncnn_0", g.tensor_names())))
    u.node.set_input(u.index, top)
    split.set_inputs([value])
    _place_after(g, split, [value.producer])


def format_of_graph(g: Graph) -> str:
    for n in g:
        return format_of(n)
    return str(g.meta.get("format", "ncnn"))


def remove(node: Node) -> None:
    """Remove a node whose outputs nothing reads (model inputs/outputs it provided go with it)."""
    g = node.graph
    if g is None:
        raise node_error(node, "is not in a graph")
    for v in node.outputs:
        users = [u.node.name for u in v.uses if u.node is not node]
        if users:
            raise node_error(node, f"cannot be removed: its output {v.name!r} is read by {users[0]!r}",
                             hint="bypass() it or rewire its readers first")
    outs = {id(v) for v in node.outputs}
    ins = [v for v in node.inputs if v is not None]
    _drop_io(g.inputs, lambda v: id(v) in outs)
    g.remove(node, safe=False)
    for v in ins:
        _drop_split_top(g, v)
    if node.op_type == "Result":
        # the tensor it exposed stops being a model output unless another Result still reads it
        _drop_io(g.outputs, lambda v: any(v is i for i in ins) and all(u.node.op_type != "Result" for u in v.uses))


def _drop_split_top(g: Graph, top: Value) -> None:
    """An ncnn Split top nobody reads any more goes; a Split left with one top goes too."""
    split = top.producer
    if split is None or split.op_type != "Split" or top.uses or top in g.outputs or len(split.outputs) < 2:
        return
    split.remove_output(top.index)
    if len(split.outputs) == 1 and split.inputs and split.inputs[0] is not None:
        rest, src = split.outputs[0], split.inputs[0]
        if rest in g.outputs:
            return
        for u in list(rest.uses):
            u.node.set_input(u.index, src)
        g.remove(split, safe=False)


def add_output(model: "Model", value: Value | str, name: str | None = None) -> Value:
    """Expose ``value`` as a model output and return the output tensor.

    IR: a new Result on ``value`` (``name`` is added as its first tensor name). ncnn: a blob that
    layers read is released in light mode once they ran, so extracting it after a net output
    fails; it gets a Split top that nothing reads (a net output), named ``name`` or, by default,
    the blob's own name (the blob itself is renamed ``<name>_pre``).
    """
    attach_model(model)
    g = model.graph
    if isinstance(value, str):
        found = g.find_values(value)
        if not found:
            raise ModelfileError(f"no tensor named {value!r}", file=str(model.path or ""))
        value = found[0]
    if model.format == "ncnn":
        return _ncnn_expose(g, value, name)
    from .formats.openvino import new_result

    if name and name not in value.names:
        value.names = [name, *value.names]
        value.name = name
    if any(u.node.op_type == "Result" for u in value.uses):
        return value
    label = value.names[0] if value.names else (value.name or (value.producer.name if value.producer else "output"))
    if not value.names:
        value.names = [label]
        value.name = label
    new_result(g, value, fresh_name(f"{label}/sink_port_0", g.layer_names()))
    return value
