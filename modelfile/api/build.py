"""Building and rewiring nodes of either format: the edits a pass is made of.

:func:`new_node` creates a layer from a type, inputs, named params and numpy weights and puts
it in the graph after its inputs' producers; the format adapter (``formats/<name>/view.py``)
derives what the format needs (ncnn counts, blob names, Split fan-out and ``.bin`` bytes; IR
opsets, port types and Consts). :func:`insert_after`, :func:`replace`, :func:`bypass`,
:func:`remove` and :func:`add_output` rewire the graph and keep the model's input and output
tensors (and their names) where users look for them. Impossible requests raise
:class:`~modelfile.errors.ModelfileError` naming the node and why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ModelfileError
from ..graph import Node, Value, fresh_name
from ..graphedit import (
    anchor, attach, contains, downstream, drop_io, ensure_order, graph_of, node_error, place_after,
    pull_constants, swap_io,
)
from .views import adapter, adapter_of_model

if TYPE_CHECKING:
    from ..model import Model

__all__ = ["add_output", "bypass", "insert_after", "new_node", "remove", "replace", "set_input"]


def set_input(node: Node, index: int, value: Value | None) -> None:
    """Feed input ``index`` of ``node`` from ``value`` (ncnn: a Split top when the blob is already read)."""
    node.set_input(index, value)
    if value is not None and node.graph is not None:
        adapter(node).connect(node.graph, value)


def _resolve_input(model: "Model", x: Any, like: Value | None, name: str) -> Value | None:
    if x is None or isinstance(x, Value):
        return x
    if isinstance(x, str):
        found = model.graph.find_values(x)
        if not found:
            raise ModelfileError(f"no tensor named {x!r}", file=str(model.path or ""))
        return found[0]
    return adapter_of_model(model).constant(model, np.asarray(x), name, like)  # type: ignore[no-any-return]


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
    """Create a layer and add it to ``model``'s graph after the producers of its inputs (or ``after``).

    ``inputs`` are tensors (:class:`Value`), tensor names, or numpy arrays (they become an IR
    Const / an ncnn MemoryData). ``params`` by name (ncnn schema names or ids; IR ``<data>``
    names) take typed values. ``weights``: ncnn blobs by role (``weight``, ``bias``...;
    ``weight_data_size``, ``bias_term``, ``num_output`` and kernel sizes follow from them when
    not given), or ``{"value": array}`` for an IR ``Const``. ``outputs`` is a count or the
    output tensor names. ``version`` is the IR opset (a sensible one by default).
    """
    attach(model)
    g = model.graph
    fmt = adapter_of_model(model)
    node_name = name if name is not None else fresh_name(op_type.split(".")[-1].lower(), g.layer_names())
    first = next((x for x in inputs if isinstance(x, Value)), None)
    ins = [_resolve_input(model, x, first, node_name) for x in inputs]
    w = dict(weights or {})
    node = fmt.create(model, op_type, node_name, ins, dict(params or {}), w, outputs, version)
    node.graph = None
    place_after(g, node, [after] if after is not None else [anchor(v) for v in ins])
    pull_constants(g, node)
    fmt.finish_new(model, node, w)
    return node


def _is_graph_output(value: Value) -> bool:
    if any(u.node.op_type == "Result" for u in value.uses):
        return True
    try:
        return value in graph_of(value).outputs
    except ModelfileError:
        return False


def insert_after(value: Value, node: Node, *, output: Value | None = None) -> Node:
    """Make ``node`` read ``value`` and every other reader of ``value`` read ``node``'s output.

    ``node`` (from :func:`new_node`, or built by hand) goes right after ``value``'s producer.
    ``output`` (default ``node.outputs[0]``) is the tensor the readers move to: give the last
    tensor of a chain that starts at ``node``. A model output keeps its name: it moves along.
    """
    g = graph_of(value)
    out = output if output is not None else (node.outputs[0] if node.outputs else None)
    if out is None:
        raise node_error(node, "has no output to feed the readers of the tensor it is inserted after")
    if out is value:
        raise node_error(node, f"cannot feed the readers of {value.name!r} from {value.name!r} itself")
    fmt = adapter(value.producer or node) if value.producer is not None else adapter(node)
    if node.inputs and all(v is not value for v in node.inputs):
        # new_node may have routed value through a Split (ncnn fan-out): read value directly again
        if not fmt.unsplit(g, node, value):
            raise node_error(node, f"does not read tensor {value.name!r}; give it as its input or leave its "
                                   "inputs empty")
    down = downstream(value, stop=node)
    for v in node.inputs:
        if v is not None and v is not value and v.producer is not None and v.producer in down:
            raise node_error(node, f"cannot go after {value.name!r}: its input {v.name!r} is computed from "
                                   f"{value.name!r}, so the graph would loop")
    was_output = _is_graph_output(value)
    if not node.inputs:
        node.set_inputs([value])
    if contains(g, node):
        g.nodes.discard_many([node])  # a move: its tensors stay wired
    place_after(g, node, [value.producer, *(anchor(v) for v in node.inputs)])
    pull_constants(g, node)
    for u in list(value.uses):
        if u.node is node:
            continue
        u.node.set_input(u.index, out)
    ensure_order(g, node)
    swap_io(g.outputs, value, out)
    if was_output and not (value.producer is not None and fmt.is_input(value.producer)):
        fmt.move_output_name(g, value, out)  # input names stay with the input
    return node


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
    if contains(g, new):
        g.nodes.discard_many([new])  # it takes old's place below
    old.clear_inputs()
    if adopt:
        old.set_outputs([])
        new.set_outputs(olds)
    else:
        for a, b in zip(olds, new.outputs):
            a.replace_all_uses_with(b)
            swap_io(g.outputs, a, b)
            swap_io(g.inputs, a, b)
    g.nodes.swap(old, new)
    if new.inputs != ins:
        new.set_inputs(ins)
    ensure_order(g, new)
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
    fmt = adapter(node)
    src = node.inputs[input]
    assert src is not None
    out = node.outputs[output]
    was_output = _is_graph_output(out)
    for u in list(out.uses):
        u.node.set_input(u.index, src)
    swap_io(g.outputs, out, src)
    g.remove(node, safe=False)
    fmt.after_bypass(g, src, out, was_output)
    return src


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
    fmt = adapter(node)
    ins = [v for v in node.inputs if v is not None]
    exposed = [v for v in ins if node.op_type == "Result"]
    g.remove(node, safe=False)
    # a tensor a removed Result exposed stops being a model output unless another Result still reads it
    drop_io(g.outputs, lambda v: any(v is i for i in exposed) and all(u.node.op_type != "Result" for u in v.uses))
    fmt.after_remove(g, ins)


def add_output(model: "Model", value: Value | str, name: str | None = None) -> Value:
    """Expose ``value`` as a model output and return the output tensor.

    IR: a new Result on ``value`` (``name`` is added as its first tensor name). ncnn: a blob that
    layers read is released in light mode once they ran, so extracting it after a net output
    fails; it gets a Split top that nothing reads (a net output), named ``name`` or, by default,
    the blob's own name (the blob itself is renamed ``<name>_pre``).
    """
    attach(model)
    if isinstance(value, str):
        found = model.graph.find_values(value)
        if not found:
            raise ModelfileError(f"no tensor named {value!r}", file=str(model.path or ""))
        value = found[0]
    return adapter_of_model(model).expose(model, value, name)  # type: ignore[no-any-return]
