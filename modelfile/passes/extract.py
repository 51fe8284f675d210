"""Extract a standalone model: the neighbourhood of a node, or the part between named tensors.

``extract_around``: the nodes within ``depth`` edges of a node (IR Consts feeding them come
along, ncnn layers keep their weights). Every tensor the region reads from outside becomes a
new input (IR: a Parameter with the tensor's element type and port shape; ncnn: an ``Input``
layer, with its shape when the tensor is itself a declared input); every tensor it produces that
something outside read, or that was a model output, becomes an output. Everything else is
removed and the weights file is re-laid with the weights the region uses.

``extract_between``: a named-boundary form of :func:`modelfile.passes.cut.cut`: the ``--from``
tensors become inputs and the ``--to`` tensors the outputs.
"""

from __future__ import annotations

from ..errors import ModelfileError
from ..graph import Node, Value, fresh_name
from ..model import Model
from ..mo_input import InputSpec, OutputSpec
from .cut import cut, format_ops
from .region import find_centre, neighbourhood
from .report import Report

__all__ = ["extract_around", "extract_between"]

#: sinks of an IR: kept only when inside the region
_SINKS = frozenset({"Result", "Assign"})


def _label(v: Value) -> str:
    if v.name:
        return v.name
    if v.names:
        return v.names[0]
    p = v.producer
    return f"{p.name}:{v.index}" if p is not None else "input"


def extract_around(model: Model, centre_name: str, depth: int) -> Report:
    """Keep only the neighbourhood of ``centre_name`` (a node, or a tensor's producer) as a model."""
    report = Report("extract")
    g = model.graph
    ops = format_ops(model)
    ops.prepare(model)
    n_before = len(g.nodes)
    centre = find_centre(g, centre_name)
    region = neighbourhood(g, centre, depth, model.format)
    keep = {id(n) for n in region}
    # a declared input at the edge comes along whole: it keeps its own name and shape
    for n in region:
        for v in n.inputs:
            p = v.producer if v is not None else None
            if p is not None and id(p) not in keep and ops.is_input(p):
                keep.add(id(p))
    region = [n for n in g.nodes if id(n) in keep]

    # tensors read from outside, in the order the region first reads them
    boundary_in: dict[int, Value] = {}
    for n in region:
        for v in n.inputs:
            if v is not None and (v.producer is None or id(v.producer) not in keep):
                boundary_in.setdefault(id(v), v)
    # tensors something outside read, and model outputs, in file order
    graph_outputs = {id(v) for v in model.outputs}
    boundary_out: list[Value] = []
    for n in region:
        if (n.op_type in _SINKS and model.format == "openvino") or not n.inputs:
            continue  # sinks stay sinks; inputs and weights read outside are no outputs
        for v in n.outputs:
            if id(v) in graph_outputs or any(id(u) not in keep for u in v.consumers()):
                boundary_out.append(v)
    if model.format == "openvino":
        # Results inside the region stay outputs
        kept_results = [n.inputs[0] for n in region if n.op_type == "Result" and n.inputs and n.inputs[0] is not None]
        seen = {id(v) for v in boundary_out}
        boundary_out += [v for v in kept_results if id(v) not in seen]
    if not boundary_out and not any(n.op_type in _SINKS for n in region):
        raise ModelfileError(f"the region around {centre.name!r} has no outputs")

    for v in boundary_in.values():
        users = [(u.node, u.index) for u in v.uses if id(u.node) in keep]
        name = _label(v)
        shape = ops.value_shape(v)
        dtype = ops.value_dtype(v)
        # the new input takes over the tensor's name; the old tensor is removed with its producer
        v.name = fresh_name(f"{name}_outside", g.tensor_names(exclude=v))
        v.names = []
        new = ops.new_input(model, name, shape=shape, dtype=dtype, like=v)
        keep.add(id(new.producer))
        for node, idx in users:
            node.set_input(idx, new)
        report.add("new-input", name, after=_shape_text(ops.value_shape(new)),
                   detail=f"was produced by {v.producer.op_type} {v.producer.name}" if v.producer else "")

    if model.format == "openvino":
        report.extend_changes(ops.set_outputs(model, boundary_out))
        for n in g.nodes:
            if n.op_type == "Result":
                keep.add(id(n))  # the Results set_outputs kept or made
    else:
        for v in boundary_out:
            report.add("output", _label(v))
    outside = [n for n in g.nodes if id(n) not in keep]
    _remove(model, outside)
    report.add("remove-layers", f"{len(outside)} of {n_before}",
               detail=f"kept {len(region)} within {depth} of {centre.name}")
    return report


def extract_between(model: Model, inputs: list[InputSpec], outputs: list[OutputSpec], *,
                    source_input: str | None = None, source_output: str | None = None) -> Report:
    """The part of the model between the ``inputs`` tensors and the ``outputs`` tensors (mo syntax)."""
    if not inputs or not outputs:
        raise ModelfileError("give both --from and --to")
    r = cut(model, inputs, outputs, source_input=source_input, source_output=source_output)
    r.transform = "extract"
    return r


def _remove(model: Model, nodes: list[Node]) -> None:
    """Remove ``nodes`` (and their input connections) from the model's graph.

    One format ``remove_node`` call per node is what an O(1)-removal node container wants; on a
    plain list each call rebuilds the list, which made extracting from a 20,000-op IR take 30 s, so
    many nodes are dropped from a list in one pass instead.
    """
    g = model.graph
    if len(nodes) < 64 or not isinstance(g.nodes, list):
        ops = format_ops(model)
        for n in reversed(nodes):
            ops.remove_node(model, n)
        return
    dead = {id(n) for n in nodes}
    dead_values = set()
    for n in nodes:
        n.clear_inputs()
        n.graph = None
        dead_values.update(id(v) for v in n.outputs)
    g.nodes[:] = [n for n in g.nodes if id(n) not in dead]
    g.inputs[:] = [v for v in g.inputs if id(v) not in dead_values]
    if g.outputs:
        g.outputs[:] = [v for v in g.outputs if id(v) not in dead_values]


def _shape_text(shape: list[int | None] | None) -> str:
    if shape is None:
        return ""
    return "[" + ",".join("?" if d is None else str(d) for d in shape) + "]"


def region_nodes(model: Model, centre_name: str, depth: int) -> list[Node]:
    """The nodes :func:`extract_around` keeps before boundary inputs are added (for previews)."""
    return neighbourhood(model.graph, find_centre(model.graph, centre_name), depth, model.format)
