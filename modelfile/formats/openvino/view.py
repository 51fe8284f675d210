"""OpenVINO IR side of the Python API (:mod:`modelfile.api`): typed ``<data>``, Const values, building ops.

:class:`IrParams` types each ``<data>`` attribute per op (:mod:`.attrs`), :class:`ConstWeights`
is a Const's value as a numpy array (:mod:`.weights`), and the builder hooks give new ops an
opset, best-effort port types, Consts for arrays and Results for new outputs. The API finds this
module through the registry; each format has one with the same functions.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ...graph import Graph, Node, Value, fresh_name
from ...graphedit import AttrAccess, node_error

if TYPE_CHECKING:
    from ...model import Model

__all__ = [
    "ConstWeights", "IrParams", "after_bypass", "after_remove", "connect", "constant", "create", "expose",
    "finish_new", "is_input", "move_output_name", "owns", "params", "unsplit", "weights",
]

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


class IrParams(AttrAccess, MutableMapping[str, Any]):
    """An IR layer's ``<data>`` attributes as typed values (``conv.params.strides == [1, 1]``).

    Kinds come from the op (:mod:`modelfile.formats.openvino.attrs`): ints, floats, bools,
    lists, partial shapes (tuples), element types (strings); unknown ops and attributes are
    strings. Writing stores the serializer's string form.
    """

    __slots__ = ("_node",)

    def __init__(self, node: Node) -> None:
        object.__setattr__(self, "_node", node)

    def kind(self, name: str) -> str:
        from .attrs import attr_kind

        return attr_kind(self._node.op_type, name)

    def __getitem__(self, name: str) -> Any:
        from .attrs import decode

        text = self._node.attrs[name]
        if not isinstance(text, str):
            return text
        try:
            return decode(self.kind(name), text)
        except ValueError as e:
            raise node_error(self._node, f"attribute {name}={text!r}: {e}") from None

    def __setitem__(self, name: str, value: Any) -> None:
        from .attrs import encode

        kind = self.kind(name)
        if isinstance(value, np.ndarray):
            value = value.tolist()
        if kind == "bool" and not isinstance(value, (bool, np.bool_, str)):
            raise node_error(self._node, f"attribute {name} is a bool, got {value!r}")
        self._node.attrs[name] = encode(kind, value)
        if self._node.op_type == "Parameter" and self._node.outputs:
            v = self._node.outputs[0]  # the port says the same as <data>
            if name == "shape":
                v.shape = self["shape"]
            elif name == "element_type":
                v.dtype = self["element_type"]

    def __delitem__(self, name: str) -> None:
        del self._node.attrs[name]

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._node.attrs))

    def __len__(self) -> int:
        return len(self._node.attrs)

    def __repr__(self) -> str:
        return f"IrParams({self._node.op_type} {self._node.name}: {dict(self)!r})"


class ConstWeights(AttrAccess, MutableMapping[str, np.ndarray]):
    """An IR Const's data as ``{"value": array}`` (``weights(const).value``), decoded lazily.

    Assigning keeps the Const's element type unless the array's dtype is given as a different
    IR type through :func:`modelfile.formats.openvino.set_const_value`.
    """

    __slots__ = ("_node",)

    def __init__(self, node: Node) -> None:
        object.__setattr__(self, "_node", node)

    def __getitem__(self, key: str) -> np.ndarray:
        from .weights import const_array

        if key != "value":
            raise KeyError(key)
        return const_array(self._node)

    def __setitem__(self, key: str, value: Any) -> None:
        from .weights import set_const_value

        if key != "value":
            raise KeyError(key)
        set_const_value(self._node, value)

    def __delitem__(self, key: str) -> None:
        raise node_error(self._node, "a Const always holds a value")

    def __iter__(self) -> Iterator[str]:
        return iter(("value",))

    def __len__(self) -> int:
        return 1



def owns(node: Node) -> bool:
    """Whether a node without a model is an IR op (read from an .xml, or carrying an opset)."""
    return type(node.source).__name__ == "LayerSource" or node.version is not None or \
        any(isinstance(v, str) for v in node.attrs.values())


def params(node: Node) -> IrParams:
    return IrParams(node)


def weights(node: Node) -> ConstWeights:
    if node.op_type not in ("Const", "Constant"):
        feeds = [i for i, v in enumerate(node.inputs)
                 if v is not None and v.producer is not None and v.producer.op_type == "Const"]
        hint = f"e.g. weights(node.inputs[{feeds[0]}].producer)" if feeds else ""
        raise node_error(node, "holds no data: IR weights are Const layers feeding its inputs", hint=hint)
    return ConstWeights(node)


def is_input(node: Node) -> bool:
    return node.op_type == "Parameter"


def connect(graph: Graph, value: Value) -> None:
    """IR tensors may have any number of readers."""


def unsplit(graph: Graph, node: Node, value: Value) -> bool:
    return False


def constant(model: "Model", arr: np.ndarray, name: str, like: Value | None = None) -> Value:
    """A Const holding ``arr`` (floats in the element type of ``like`` when it is a float tensor)."""
    from .weights import new_const

    et = None
    if like is not None and like.dtype and arr.dtype.kind == "f" and (like.dtype.startswith("f") or like.dtype == "bf16"):
        et = like.dtype
    elif arr.dtype == np.float64:
        et = "f32"
    g = model.graph
    const = new_const(g, arr, fresh_name(f"{name}/const", g.layer_names()), element_type=et)
    return const.outputs[0]


def new_version(op_type: str) -> str:
    return _IR_VERSIONS.get(op_type, "opset1")


def create(model: "Model", op_type: str, name: str, ins: Sequence[Value | None], params_: Mapping[Any, Any],
           weights_: Mapping[str, Any], outputs: int | Sequence[str], version: str | None) -> Node:
    """A new op with its opset, typed ``<data>`` and outputs typed from its inputs where that is clear."""
    node = Node(op_type, name, version=version or new_version(op_type))
    view = IrParams(node)
    for k, v in params_.items():
        view[k] = v
    if weights_ and op_type not in ("Const", "Constant"):
        raise node_error(node, "IR layers hold no weights: pass arrays as inputs (they become Consts)")
    names = list(outputs) if not isinstance(outputs, int) else []
    count = len(names) if names else int(outputs)  # type: ignore[arg-type]
    for k in range(count):
        dtype, shape = output_type(node, ins)
        nm = [names[k]] if names else []
        node.append_output(Value(nm[0] if nm else "", dtype=dtype, shape=shape, names=nm))
    node.set_inputs(ins)
    return node


def finish_new(model: "Model", node: Node, weights_: Mapping[str, Any]) -> None:
    """A new Const gets its value (element type from the array unless ``element_type`` was given)."""
    if node.op_type in ("Const", "Constant"):
        from .weights import set_const_value

        if "value" not in weights_:
            raise node_error(node, "a Const needs weights={'value': array}")
        set_const_value(node, weights_["value"], node.attrs.get("element_type") or None)


def move_output_name(graph: Graph, old: Value, new: Value) -> None:
    """A model output's tensor names move to the tensor that now reaches the Result."""
    names = list(old.names)
    if not names:
        return
    new.names = names + [n for n in new.names if n not in names]
    new.name = names[0]
    old.names = ()
    old.name = ""


def after_bypass(graph: Graph, src: Value, out: Value, was_output: bool) -> None:
    if was_output and (src.producer is None or not is_input(src.producer)):
        # the tensor is now the model output: its public names come first
        src.names = list(out.names) + [n for n in src.names if n not in out.names]
        if src.names:
            src.name = src.names[0]


def after_remove(graph: Graph, inputs: Sequence[Value]) -> None:
    """Nothing to tidy: IR tensors have no fan-out layers."""


def expose(model: "Model", value: Value, name: str | None) -> Value:
    """A Result on ``value`` (``name`` becomes its first tensor name); the value is returned."""
    from .api import new_result

    g = model.graph
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


def output_type(node: Node, ins: list[Value | None]) -> tuple[str | None, Any]:
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


