"""Port dims as OpenVINO infers them, for the ports an edit touched (needs the optional ``openvino``).

An edit that changes an input's shape or replaces it by a constant makes the
``<dim>``s further down stale. OpenVINO re-infers every shape when it reads a
model, so :func:`infer_touched` reads the edited model with it (from memory:
the XML the writer would produce and the weights it would use) and copies the
inferred dims onto the touched ports only, so every other line stays as it
was. A model shape inference rejects is reported with OpenVINO's message (the
save gate's runtime check then refuses to write it, unless forced).
Without OpenVINO the touched dims are left ``-1`` (unknown), which OpenVINO
accepts and re-infers at load.

Reading a 20,000-op model in OpenVINO costs as much as loading it here, so an
edit that provably cannot change any dim skips it (:func:`cannot_change_dims`):
every touched place keeps the shape and element type it had, and its value
reaches no input whose value OpenVINO's shape inference reads (a Reshape
target, an axis, ...). Then OpenVINO would infer exactly the dims already there.

Shape inference accepts some shapes only ``compile_model`` refuses (an LSTM
fed 241 features where its weights take 240). An edit that may change dims
marks the model (``IRState.shapes_changed``) so that the save gate's runtime
check also compiles it (see the handler), and :func:`rnn_input_mismatch`
reports that case in the edit's own report.
"""

from __future__ import annotations

import importlib.util
import tempfile
from pathlib import Path
from typing import Any

from ...graph import Graph, Node, Value
from .ovworker import rnn_input_mismatch

__all__ = ["TOUCHED", "cannot_change_dims", "downstream", "infer_touched", "mark_touched", "ov_shape", "place_of",
           "rnn_input_mismatch"]

#: model.meta key: values whose downstream dims an edit made stale
TOUCHED = "ir_touched"
_SINKS = ("Result", "Assign")
#: IR type -> OpenVINO type name: the serializer's translation table (the only four that differ)
_OV_TYPE = {"Const": "Constant", "PReLU": "PRelu", "ReLU": "Relu", "SoftMax": "Softmax"}


#: a place as OpenVINO's shape inference sees it: (partial shape, element type)
Place = tuple[Any, "str | None"]


def place_of(value: Value) -> Place:
    """``(shape, element type)`` of ``value`` as OpenVINO takes it (a Parameter's from its attributes).

    An inner port's ``<dim>``s are exact only when static: the serializer writes a bounded dim
    (``..1``) as -1, so a dynamic port gives an unknown shape (None), which matches nothing.
    """
    p = value.producer
    shape: Any = value.shape
    dtype = value.dtype
    if p is not None and p.op_type == "Parameter":
        from .names import parse_shape

        try:
            shape = parse_shape(p.attrs["shape"]) if "shape" in p.attrs else shape
        except ValueError:
            shape = None
        dtype = p.attrs.get("element_type") or dtype
    elif shape is not None and not all(isinstance(d, int) and d >= 0 for d in shape):
        shape = None
    return (tuple(shape) if shape is not None else None, dtype)


def mark_touched(model: Any, value: Value, *, was: Place | None = None) -> None:
    """Remember that the dims downstream of ``value`` must be re-inferred before saving.

    ``was``: the :func:`place_of` what ``value`` replaces (None: the place itself changed, e.g. a new
    input shape). When every touched place is as it was, OpenVINO may not be needed at all.
    """
    model.meta.setdefault(TOUCHED, []).append((value, was))


# Ops whose output shapes and validation depend on the listed inputs' shapes and types only, never
# on their values (None: every input). A touched value reaching any other input (Reshape's target,
# an axis, Range's bounds, a sub-graph, a custom op) may change what OpenVINO infers.
_ALL = None
_VALUE_FREE: dict[str, frozenset[int] | None] = {
    **dict.fromkeys((
        # element-wise, unary and binary (numpy broadcast): shapes only
        "Abs", "Acos", "Acosh", "Asin", "Asinh", "Atan", "Atanh", "Ceiling", "Clamp", "Convert", "ConvertLike",
        "Cos", "Cosh", "Elu", "Erf", "Exp", "Floor", "Gelu", "HSigmoid", "HSwish", "HardSigmoid", "Log",
        "LogicalNot", "Mish", "Negative", "PReLU", "ReLU", "Round", "Selu", "Sigmoid", "Sign", "Sin", "Sinh",
        "SoftPlus", "SoftSign", "Sqrt", "Swish", "Tan", "Tanh", "IsFinite", "IsInf", "IsNaN", "BitwiseNot",
        "Add", "Subtract", "Multiply", "Divide", "Power", "Maximum", "Minimum", "SquaredDifference", "FloorMod",
        "Mod", "Equal", "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual", "LogicalAnd", "LogicalOr",
        "LogicalXor", "BitwiseAnd", "BitwiseOr", "BitwiseXor", "Select",
        # layers whose weights and data only need consistent shapes
        "MatMul", "Convolution", "GroupConvolution", "BatchNormInference", "FakeQuantize", "MaxPool", "AvgPool",
        "SoftMax", "LogSoftmax", "Concat", "Einsum", "LSTMCell", "GRUCell", "RNNCell", "LSTMSequence",
        "GRUSequence", "RNNSequence",
    ), _ALL),
    # the data input only: the others are targets, axes, pads, sizes read by value
    **dict.fromkeys(("Reshape", "Transpose", "Squeeze", "Unsqueeze", "Broadcast", "Tile", "StridedSlice", "Slice",
                     "Split", "VariadicSplit", "Interpolate", "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin",
                     "ReduceProd", "ReduceL1", "ReduceL2", "ReduceLogicalAnd", "ReduceLogicalOr", "TopK", "MVN",
                     "NormalizeL2", "CumSum", "Roll", "DepthToSpace", "SpaceToDepth", "ShapeOf"), frozenset({0})),
    "Pad": frozenset({0, 3}),
    "Gather": frozenset({0, 1}),
    "ScatterUpdate": frozenset({0, 1, 2}),
    "ScatterNDUpdate": frozenset({0, 1, 2}),
    "ScatterElementsUpdate": frozenset({0, 1, 2}),
}
#: ops whose output value depends on their input's shape only (unchanged here): the walk stops
_SHAPE_ONLY = frozenset({"ShapeOf"})


def cannot_change_dims(touched: list[tuple[Value, Place | None]]) -> bool:
    """Whether OpenVINO would infer the dims already there: see the module docstring.

    Every touched value has the shape and element type of what it replaced, and its value flows
    (through any number of value-free ops) into no input whose value shape inference reads. By
    induction every op downstream then sees the shapes and types it saw before.
    """
    for v, was in touched:
        if was is None or not _same_place(place_of(v), was):
            return False
    seen: set[int] = set()
    stack = [v for v, _ in touched]
    while stack:
        v = stack.pop()
        for u in v.uses:
            n = u.node
            if n.op_type in _SINKS:
                continue
            if not (n.version or "").startswith("opset") or n._subgraphs:
                return False
            ports = _VALUE_FREE.get(n.op_type, frozenset())
            if ports is not None and u.index not in ports:
                return False
            if id(n) in seen or n.op_type in _SHAPE_ONLY:
                continue
            seen.add(id(n))
            stack.extend(n.outputs)
    return True


def _same_place(a: Place, b: Place) -> bool:
    sa, sb = a[0], b[0]
    if sa is None or sb is None or a[1] != b[1] or not a[1] or a[1] in ("dynamic", "undefined"):
        return False
    return len(sa) == len(sb) and all(_dim(x) == _dim(y) for x, y in zip(sa, sb))


def _dim(d: Any) -> Any:
    """A dim in one spelling: ints; -1 and an open range (0, -1) are the same unknown."""
    if isinstance(d, (tuple, list)):
        lo, hi = (int(d[0]), int(d[1]))
        return -1 if lo <= 0 and hi < 0 else (max(lo, 0), hi)
    return int(d) if int(d) >= 0 else -1


def downstream(values: list[Value]) -> list[Node]:
    """Nodes reading ``values`` directly or indirectly (opset ops only: custom ops keep their ports)."""
    seen: set[int] = set()
    out: list[Node] = []
    stack = list(values)
    while stack:
        v = stack.pop()
        for u in v.uses:
            n = u.node
            if n.op_type in _SINKS or id(n) in seen:
                continue
            seen.add(id(n))
            if not (n.version or "").startswith("opset"):
                continue
            out.append(n)
            stack.extend(n.outputs)
    return out


def ov_shape(ps: Any) -> tuple[Any, ...] | None:
    """An ``openvino.PartialShape`` as an IR shape tuple (ints, ``-1``, ``(min, max)``; None: dynamic rank)."""
    if ps.rank.is_dynamic:
        return None
    out: list[Any] = []
    for d in ps:
        if d.is_static:
            out.append(int(d.get_length()))
        else:
            lo, hi = int(d.get_min_length()), int(d.get_max_length())
            out.append(-1 if lo <= 0 and hi < 0 else (max(lo, 0), hi))
    return tuple(out)


def _read_with_openvino(model: Any) -> Any:
    """The edited model as ``openvino.Core().read_model`` builds it (from memory; weights re-laid if needed)."""
    import openvino as ov

    from .reader import IRDocument
    from .writer import _write_bin, render

    rendered = render(model)
    doc = getattr(model.state, "doc", None)  # IRState's (the handler imports this module: no import back)
    doc = doc if isinstance(doc, IRDocument) else None
    core = ov.Core()
    with tempfile.TemporaryDirectory(prefix="modelfile-shapes-") as tmp:
        bin_path: Path | None = None
        if rendered.bin_plan is not None:
            bin_path = Path(tmp) / "w.bin"
            _write_bin(rendered.bin_plan, bin_path)
        elif doc is not None and doc.weights.exists and doc.bin_path is not None:
            bin_path = doc.bin_path
        # always with a weights tensor: read_model(str) alone takes the string for a file name. The
        # .bin is mapped, not read: shape inference reads few constants, and an LLM's .bin is gigabytes
        # (copy-on-write: OpenVINO wants a writable array; nothing writes to it)
        import numpy as np

        if bin_path is not None and bin_path.stat().st_size:
            weights = ov.Tensor(np.memmap(bin_path, np.uint8, mode="c"), shared_memory=True)
        else:
            weights = ov.Tensor(np.empty(0, np.uint8))
        return core.read_model(rendered.text, weights)


def _flag_shapes_changed(model: Any) -> None:
    """Tell the save gate that input shapes changed: its runtime check then also compiles (see the handler)."""
    state = getattr(model, "state", None)
    if state is not None and hasattr(state, "shapes_changed"):
        state.shapes_changed = True


def infer_touched(model: Any) -> list[tuple]:
    """Give the touched ports OpenVINO's inferred dims; ``(kind, target, before, after, detail)`` changes.

    When OpenVINO rejects the edited model the change says why (its message) and the dims stay -1.
    """
    marks: list[tuple[Value, Place | None]] = model.meta.pop(TOUCHED, None) or []
    g: Graph = model.graph
    live = {id(n) for n in g.nodes}
    touched = [(v, was) for v, was in marks if v.producer is None or id(v.producer) in live]
    if cannot_change_dims(touched):
        return []
    _flag_shapes_changed(model)
    roots = [v for v, _ in touched]
    nodes = downstream(roots)
    if not nodes:
        return []
    ports = [v for n in nodes for v in n.outputs]
    if importlib.util.find_spec("openvino") is None:
        for v in ports:
            if v.shape is not None:
                v.shape = tuple(-1 for _ in v.shape)
        return [("clear-port-dims", f"{len(ports)} port(s)", None, None,
                 ("openvino is not installed, so the dims downstream of the edit are left -1 (unknown); "
                  "OpenVINO re-infers them when it loads the model"))]
    try:
        om = _read_with_openvino(model)
    except Exception as e:  # noqa: BLE001 - any refusal of the runtime is the answer
        # the dims stay unknown; the save gate's runtime check refuses the model with the same message
        # (and --force can still write it, as with any failed check)
        for v in ports:
            if v.shape is not None:
                v.shape = tuple(-1 for _ in v.shape)
        return [("shape-inference-failed", "OpenVINO", None, None,
                 f"OpenVINO's shape inference rejects the edited model: {_short(' '.join(str(e).split()))}")]
    out: list[tuple] = []
    rnn = rnn_input_mismatch(om)
    if rnn is not None:  # the save gate's runtime check refuses it too
        out.append(("shape-inference-failed", "OpenVINO", None, None, f"the edited model does not compile: {rnn}"))
    by_name: dict[str, list[Any]] = {}
    for op in om.get_ops():
        by_name.setdefault(op.get_friendly_name(), []).append(op)
    ours: dict[str, int] = {}
    for n in g.nodes:
        ours[n.name] = ours.get(n.name, 0) + 1
    changed = unknown = 0
    for n in nodes:
        want = _OV_TYPE.get(n.op_type, n.op_type)  # the IR's "ReLU" is OpenVINO's "Relu"
        cands = [op for op in by_name.get(n.name, ()) if op.get_type_name() == want]
        if len(cands) != 1 or ours.get(n.name, 0) != 1 or cands[0].get_output_size() != len(n.outputs):
            for v in n.outputs:  # cannot tell which op it is: unknown is honest, OpenVINO re-infers it
                if v.shape is not None and any(d != -1 for d in v.shape):
                    v.shape = tuple(-1 for _ in v.shape)
                    unknown += 1
            continue
        for i, v in enumerate(n.outputs):
            new = ov_shape(cands[0].get_output_partial_shape(i))
            if new != v.shape:
                v.shape = new
                changed += 1
    if changed:
        out.append(("infer-port-dims", f"{changed} port(s)", None, None,
                    "the dims OpenVINO infers after the edit"))
    if unknown:
        out.append(("clear-port-dims", f"{unknown} port(s)", None, None,
                    "layers OpenVINO's model does not show under the same name: dims left -1"))
    return out


def _short(msg: str) -> str:
    """OpenVINO's message without the source-file preamble it repeats."""
    import re

    msg = re.sub(r"Exception from src/[^ ]+:\d+:\s*", "", msg)
    msg = re.sub(r"Check '[^']*' failed at src/[^ ]+:\d+:\s*", "", msg)
    return msg.strip()[:600]
