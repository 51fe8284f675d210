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
from ..graph import Value, fresh_name
from ..model import Model
from ..mo_input import InputSpec, OutputSpec
from .cut import cut
from .region import find_centre, is_const, neighbourhood
from .report import Report

__all__ = ["extract_around", "extract_between"]


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
    ops = model.ops
    ops.prepare()
    n_before = len(g.nodes)
    centre = find_centre(g, centre_name)
    region = neighbourhood(g, centre, depth)
    keep = set(region)
    # a declared input at the edge comes along whole: it keeps its own name and shape
    for n in region:
        for v in n.inputs:
            p = v.producer if v is not None else None
            if p is not None and p not in keep and ops.is_input(p):
                keep.add(p)
    # a state write without its read is refused by OpenVINO: an Assign brings its ReadValue along
    read_vars = {n.attrs.get("variable_id") for n in keep if n.op_type == "ReadValue"}
    missing = {n.attrs.get("variable_id") for n in keep if n.op_type == "Assign"} - read_vars
    if missing:
        for n in g.nodes:
            if n.op_type == "ReadValue" and n.attrs.get("variable_id") in missing:
                keep.add(n)
                keep.update(v.producer for v in n.inputs if v is not None and v.producer is not None
                            and is_const(v.producer))
    region = [n for n in g.nodes if n in keep]

    # tensors read from outside, in the order the region first reads them
    boundary_in: dict[Value, None] = {}
    for n in region:
        for v in n.inputs:
            if v is not None and (v.producer is None or v.producer not in keep):
                boundary_in.setdefault(v, None)
    # tensors something outside read, and model outputs (an IR Result inside the region keeps its
    # value an output), in file order
    graph_outputs = set(g.outputs)
    boundary_out: list[Value] = []
    for n in region:
        if not n.inputs and (ops.is_input(n) or is_const(n)):
            continue  # inputs and weights that something outside also reads are no outputs
        for v in n.outputs:
            if v in graph_outputs or any(u not in keep for u in v.consumers()):
                boundary_out.append(v)
    if not boundary_out and not any(ops.always_keep(n) for n in region):
        raise ModelfileError(f"the region around {centre.name!r} has no outputs",
                             hint="a larger --depth takes in what reads it")

    for v in boundary_in:
        users = [(u.node, u.index) for u in v.uses if u.node in keep]
        name = _label(v)
        shape = ops.value_shape(v)
        dtype = ops.value_dtype(v)
        producer = v.producer
        # the new input takes over the tensor's name; the old tensor is removed with its producer
        v.name = fresh_name(f"{name}_outside", g.tensor_names(exclude=v))
        v.names = []
        new = ops.new_input(name, shape=shape, dtype=dtype, like=v)
        assert new.producer is not None
        keep.add(new.producer)
        for node, idx in users:
            node.set_input(idx, new)
        report.add("new-input", name, after=_shape_text(ops.value_shape(new)),
                   detail=f"was produced by {producer.op_type} {producer.name}" if producer else "")

    # sinks outside the region (IR Results, Assigns) go; set_outputs makes the outputs it needs
    outside = [n for n in g.nodes if n not in keep]
    ops.remove_nodes(outside)
    report.changes.extend(ops.set_outputs(list(dict.fromkeys(boundary_out))))
    report.add("remove-layers", f"{len(outside)} of {n_before}", detail=f"kept {len(region)} within {depth} of "
                                                                          f"{centre.name}")
    return report


def extract_between(model: Model, inputs: list[InputSpec], outputs: list[OutputSpec], *,
                    source_input: str | None = None, source_output: str | None = None) -> Report:
    """The part of the model between the ``inputs`` tensors and the ``outputs`` tensors (mo syntax)."""
    if not inputs or not outputs:
        raise ModelfileError("give both --from and --to")
    r = cut(model, inputs, outputs, source_input=source_input, source_output=source_output)
    r.transform = "extract"
    return r


def _shape_text(shape: list[int | None] | None) -> str:
    if shape is None:
        return ""
    return "[" + ",".join("?" if d is None else str(d) for d in shape) + "]"

