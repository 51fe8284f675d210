"""ncnn building blocks for the transforms: Input shapes, new inputs, MemoryData, pruning."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any


from ...errors import ModelfileError
from ...graph import Graph, Node, Value, fresh_name
from .params import Param

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "INPUT_KEYS", "input_dims", "input_to_memorydata", "mat_dims", "set_input_dims", "trim_splits",
]

#: Input / MemoryData params: 0=w 1=h 11=d 2=c
INPUT_KEYS = {"w": 0, "h": 1, "d": 11, "c": 2}


def mat_dims(shape: list[int | None], *, drop_batch: bool = True) -> tuple[dict[str, int], list[str]]:
    """ncnn Mat dims (w, h, d, c) for a framework shape; notes say what was assumed.

    pnnx drops the batch dim: torch ``(1, T, C)`` is an ncnn Mat ``h=T, w=C``.
    A leading 1 on a shape of rank >= 2 is taken as that batch dim.
    Unknown dims (``None``) become 0, ncnn's "not given".
    """
    notes: list[str] = []
    dims = list(shape)
    if drop_batch and len(dims) >= 2 and dims[0] == 1:
        dims = dims[1:]
        notes.append("leading batch dim 1 dropped (ncnn Mats have no batch)")
    if len(dims) > 4:
        raise ModelfileError(f"ncnn Mats have at most 4 dims (c, d, h, w); got shape {shape}")
    names = {1: ["w"], 2: ["h", "w"], 3: ["c", "h", "w"], 4: ["c", "d", "h", "w"]}.get(len(dims), [])
    out = {n: (d if d is not None and d > 0 else 0) for n, d in zip(names, dims)}
    return out, notes


def input_dims(node: Node) -> dict[str, int]:
    """The w/h/d/c an Input or MemoryData layer declares (only those present)."""
    out = {}
    for n, k in INPUT_KEYS.items():
        p = node.attrs.get(k)
        if p is None:
            continue
        try:
            value = p.value
        except ValueError:  # text ncnn cannot read: lint reports it
            continue
        # only an int is a dimension: ncnn reads a float's bits (lint NCNN017), and a float such as
        # -1e999 is not even finite
        if isinstance(value, int) and not isinstance(value, bool):
            out[n] = value
    return out


def set_input_dims(node: Node, dims: dict[str, int]) -> tuple[dict[str, int], dict[str, int]]:
    """Write w/h/d/c params (0 = unknown is written too when it replaces a value); returns before/after."""
    before = input_dims(node)
    for n, k in INPUT_KEYS.items():
        if n in dims:
            if dims[n] or k in node.attrs:
                node.attrs[k] = Param.of(k, int(dims[n]))
        elif k in node.attrs:
            del node.attrs[k]
    # keep ncnn's customary order 0 1 11 2 for keys we wrote on a new layer
    return before, input_dims(node)


def input_to_memorydata(graph: Graph, node: Node, array: np.ndarray, *, drop_batch: bool = True) -> tuple[Node, bytes, list[str]]:
    """Replace an ``Input`` layer by a ``MemoryData`` layer holding ``array``.

    Returns the new layer, the raw bytes it reads from the ``.bin`` (load type
    1: bare little-endian 32-bit words, no flag word) and notes. Integer
    arrays are stored as int32 bits: pnnx feeds int inputs (Embed indices)
    as int32 Mats.
    """
    import numpy as np

    notes: list[str] = []
    if array.dtype.kind in "iub":
        data = np.ascontiguousarray(array, dtype="<i4")
        notes.append("integer value stored as int32 words (what pnnx-converted layers read)")
    else:
        data = np.ascontiguousarray(array, dtype="<f4")
    dims, more = mat_dims(list(array.shape) or [1], drop_batch=drop_batch)
    notes += more
    if not dims:
        dims = {"w": 1}
    md = Node("MemoryData", node.name)
    for n in ("w", "h", "d", "c"):
        if dims.get(n):
            md.attrs[INPUT_KEYS[n]] = Param.of(INPUT_KEYS[n], int(dims[n]))
    out = node.outputs[0]
    node.remove_output(0)
    md.append_output(out)
    graph.nodes.swap(node, md)
    graph.inputs = [v for v in graph.inputs if v is not out]
    return md, data.tobytes(), notes


def trim_splits(graph: Graph) -> list[str]:
    """Drop unused tops of Split layers (keeping one); returns the layer names touched."""
    touched = []
    for n in graph.nodes:
        if n.op_type != "Split" or len(n.outputs) < 2:
            continue
        unused = [i for i, v in enumerate(n.outputs) if not v.uses]
        if not unused or len(unused) == len(n.outputs):
            continue
        for i in reversed(unused):
            n.remove_output(i)
        touched.append(n.name)
    return touched


def value_dtype_hint(value: Value) -> str:
    """``i32`` when a blob feeds an Embed (indices), else ``f32``."""
    for u in value.uses:
        if u.node.op_type in ("Embed",):
            return "i32"
    return "f32"


def describe_dims(d: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in d.items()) or "(none)"


# -- the edit-ops interface used by modelfile.passes.cut (same names for OpenVINO) ---------

def _weights(model: Any) -> Any:
    from .weights import WeightStore

    store = model.handler.weights(model)
    if store is None:  # no .bin: the edit needs one (explains which file is missing)
        store = WeightStore.from_model(model)
    return store


def prepare(model: Any) -> None:
    """Map the .bin while the layer order is the original."""
    model.handler.weights(model)


def is_input(node: Node) -> bool:
    return node.op_type == "Input"


def value_dtype(value: Value) -> str:
    return value_dtype_hint(value)


def value_shape(value: Value) -> list[int | None] | None:
    """ncnn Input dims as a c,d,h,w list (None when the layer declares none)."""
    p = value.producer
    if p is None or p.op_type not in ("Input", "MemoryData"):
        return None
    d = input_dims(p)
    dims = [d.get(k) for k in ("c", "d", "h", "w") if d.get(k)]
    return list(dims) if dims else None


def _as_list(shape: Any) -> list[int | None] | None:
    """A mo Shape or a plain list as ints/None (ncnn has no ranges)."""
    if shape is None or isinstance(shape, list):
        return shape
    return [d.min if d.is_static else None for d in shape.dims]


def set_input(model: Any, node: Node, shape: Any, dtype: str | None) -> list[tuple]:
    if dtype:
        raise ModelfileError("ncnn inputs carry no element type; drop {type}")
    shape = _as_list(shape)
    if shape is None:
        return []
    dims, _notes = mat_dims(shape)
    before, after = set_input_dims(node, dims)
    if before == after:
        return []
    return [("set-input-shape", node.outputs[0].name, describe_dims(before), describe_dims(after)),
            *_stale_shape_hints(node, after)]


_HINT = 30  # -23330=n,...: the output shapes ncnnoptimize recorded (dims,w,h,c or dims,w,h,d,c per top)


def _stale_shape_hints(node: Node, dims: dict[str, int]) -> list[tuple]:
    """The Input's own hint is rewritten; hints further down are dropped (ncnn only uses them as hints)."""
    out: list[tuple] = []
    p = node.attrs.get(_HINT)
    if p is not None:
        try:
            old = list(p.value)
        except ValueError:
            old = []
        per = 5 if len(old) == 5 else 4
        known = [dims.get(k, 0) for k in ("w", "h", "d", "c")]
        if not all(known[i] for i in (0,)):
            del node.attrs[_HINT]
            out.append(("drop-shape-hint", node.name, "-23330", None, "the new shape is not fully known"))
        else:
            rank = sum(1 for x in known if x)
            new = [rank, known[0] or 1, known[1] or 1, known[3] or 1] if per == 4 else \
                [rank, known[0] or 1, known[1] or 1, known[2] or 1, known[3] or 1]
            if new != old:
                node.attrs[_HINT] = Param.of(_HINT, new)
                out.append(("update-shape-hint", node.name, ",".join(map(str, old)), ",".join(map(str, new))))
    seen: set[int] = set()
    stack = list(node.outputs)
    dropped = 0
    while stack:
        v = stack.pop()
        for u in v.uses:
            n = u.node
            if id(n) in seen:
                continue
            seen.add(id(n))
            if _HINT in n.attrs:
                del n.attrs[_HINT]
                dropped += 1
            stack.extend(n.outputs)
    if dropped:
        out.append(("drop-shape-hint", f"{dropped} layer(s)", "-23330", None,
                    "their recorded output shapes (-23330) no longer hold after the reshape"))
    return out


def freeze_input(model: Any, node: Node, array: np.ndarray) -> list[tuple]:
    store = _weights(model)
    md, data, notes = input_to_memorydata(model.graph, node, array)
    store.set_layer_data(md, data)
    return [("freeze-input", md.outputs[0].name, "Input", f"MemoryData {describe_dims(input_dims(md))}",
             "; ".join(notes))]


def new_constant(model: Any, name: str, array: np.ndarray, *, like: Value | None = None) -> Value:
    store = _weights(model)
    placeholder = Node("Input", fresh_name(name, model.graph.layer_names()))
    placeholder.append_output(Value(fresh_name(name, model.graph.tensor_names())))
    # place it right before the first layer that will use it: ncnn reads .bin blobs in layer order
    at = len(model.graph.nodes)
    if like is not None:
        idx = {id(n): i for i, n in enumerate(model.graph.nodes)}
        firsts = [idx[id(u.node)] for u in like.uses if id(u.node) in idx]
        if firsts:
            at = min(firsts)
    model.graph.insert(at, placeholder)
    md, data, _notes = input_to_memorydata(model.graph, placeholder, array, drop_batch=False)
    store.set_layer_data(md, data)
    return md.outputs[0]


def new_input(model: Any, name: str, *, shape: Any, dtype: str | None,
              like: Value | None = None) -> Value:
    shape = _as_list(shape)
    dims = mat_dims(shape, drop_batch=True)[0] if shape else None
    return _new_input_layer(model.graph, name, dims).outputs[0]


def set_outputs(model: Any, values: list[Value]) -> list[tuple]:
    model.graph.outputs = list(values)
    return [("set-outputs", ", ".join(v.name for v in values), None, None,
             "ncnn outputs are the blobs nothing consumes; layers only needed elsewhere are pruned")]


def order_inputs(model: Any, order: list[Value]) -> list[tuple]:
    return []  # ncnn inputs are looked up by name; their order carries no meaning


def keep_roots(model: Any) -> list[Value]:
    return list(model.graph.outputs or model.graph.dangling_values())


def always_keep(node: Node) -> bool:
    # weight-less metadata layers (SherpaMetaData) have no outputs and must survive a cut
    return not node.inputs and not node.outputs


def remove_node(model: Any, node: Node) -> None:
    remove_nodes(model, [node])


def remove_nodes(model: Any, nodes: list[Node]) -> None:
    """Remove a batch of layers (their .bin spans go with them when the weights are mapped)."""
    model.graph.remove(nodes, safe=False)


def finish(model: Any) -> list[tuple]:
    return [("trim-split", name, None, None, "unused tops dropped") for name in trim_splits(model.graph)]


def weights_bytes(model: Any) -> int | None:
    """Not known before the save for ncnn (the writer slices the .bin per layer and notes what it wrote)."""
    return None


def _new_input_layer(graph: Graph, name: str, dims: dict[str, int] | None) -> Node:
    node = Node("Input", fresh_name(name, graph.layer_names()))
    node.append_output(Value(fresh_name(name, graph.tensor_names())))
    for n in ("w", "h", "d", "c"):
        if dims and dims.get(n):
            node.attrs[INPUT_KEYS[n]] = Param.of(INPUT_KEYS[n], int(dims[n]))
    at = 0
    while at < len(graph.nodes) and graph.nodes[at].op_type == "Input":
        at += 1
    graph.insert(at, node)
    graph.inputs.append(node.outputs[0])
    return node
