"""Typed ``<data>`` attributes of the IR ops in use: what each attribute's string means.

The IR writes every attribute as a string (``strides="1,1"``, ``special_zero="true"``,
``shape="1,3,?,224"``). :func:`decode` turns it into a Python value by the kind the op's
``visit_attributes`` gives it (opsets 1-16 of OpenVINO 2026, ``src/core/src/op/*.cpp``), and
:func:`encode` writes a value back in the serializer's spelling. Attributes of ops or names not
in the table stay strings.
"""

from __future__ import annotations

from typing import Any

from .names import format_shape, parse_shape

__all__ = ["KINDS", "attr_kind", "decode", "encode", "op_attr_kinds"]

#: every kind an attribute can have
KINDS = ("int", "float", "bool", "ints", "floats", "shape", "element_type", "str", "strs")

_CONV = {"strides": "ints", "dilations": "ints", "pads_begin": "ints", "pads_end": "ints", "auto_pad": "str"}
_DECONV = {**_CONV, "output_padding": "ints"}
_POOL = {"strides": "ints", "kernel": "ints", "pads_begin": "ints", "pads_end": "ints", "auto_pad": "str",
         "rounding_type": "str"}
_BCAST = {"auto_broadcast": "str"}
_REDUCE = {"keep_dims": "bool"}
_RNN = {"hidden_size": "int", "activations": "strs", "activations_alpha": "floats", "activations_beta": "floats",
        "clip": "float", "direction": "str"}

_TABLE: dict[str, dict[str, str]] = {
    "Parameter": {"shape": "shape", "element_type": "element_type"},
    "Const": {"element_type": "element_type", "shape": "ints", "offset": "int", "size": "int"},
    "Convolution": _CONV,
    "GroupConvolution": _CONV,
    "BinaryConvolution": {**_CONV, "mode": "str", "pad_value": "float"},
    "DeformableConvolution": {**_CONV, "group": "int", "deformable_group": "int", "bilinear_interpolation_pad": "bool"},
    "ConvolutionBackpropData": _DECONV,
    "GroupConvolutionBackpropData": _DECONV,
    "MaxPool": {**_POOL, "dilations": "ints", "index_element_type": "element_type", "axis": "int"},
    "AvgPool": {**_POOL, "exclude-pad": "bool"},
    "AdaptiveMaxPool": {"index_element_type": "element_type"},
    "Reshape": {"special_zero": "bool"},
    "Concat": {"axis": "int"},
    "Split": {"num_splits": "int"},
    "Gather": {"batch_dims": "int"},
    "GatherElements": {"axis": "int"},
    "GatherND": {"batch_dims": "int"},
    "Softmax": {"axis": "int"},
    "LogSoftmax": {"axis": "int"},
    "MatMul": {"transpose_a": "bool", "transpose_b": "bool"},
    "Elu": {"alpha": "float"},
    "Clamp": {"min": "float", "max": "float"},
    "Gelu": {"approximation_mode": "str"},
    "Convert": {"destination_type": "element_type"},
    "ShapeOf": {"output_type": "element_type"},
    "NonZero": {"output_type": "element_type"},
    "Range": {"output_type": "element_type"},
    "Bucketize": {"output_type": "element_type", "with_right_bound": "bool"},
    "TopK": {"axis": "int", "mode": "str", "sort": "str", "index_element_type": "element_type", "stable": "bool"},
    "ReduceMean": _REDUCE, "ReduceSum": _REDUCE, "ReduceMax": _REDUCE, "ReduceMin": _REDUCE,
    "ReduceProd": _REDUCE, "ReduceL1": _REDUCE, "ReduceL2": _REDUCE, "ReduceLogicalAnd": _REDUCE,
    "ReduceLogicalOr": _REDUCE,
    "Interpolate": {"mode": "str", "shape_calculation_mode": "str", "coordinate_transformation_mode": "str",
                    "nearest_mode": "str", "antialias": "bool", "pads_begin": "ints", "pads_end": "ints",
                    "cube_coeff": "float", "axes": "ints", "align_corners": "bool", "pads": "ints"},
    "StridedSlice": {"begin_mask": "ints", "end_mask": "ints", "new_axis_mask": "ints", "shrink_axis_mask": "ints",
                     "ellipsis_mask": "ints"},
    "Broadcast": {"mode": "str"},
    "Pad": {"pad_mode": "str"},
    "LSTMSequence": _RNN, "GRUSequence": {**_RNN, "linear_before_reset": "bool"}, "RNNSequence": _RNN,
    "LSTMCell": _RNN, "GRUCell": {**_RNN, "linear_before_reset": "bool"}, "RNNCell": _RNN,
    "ReadValue": {"variable_id": "str", "variable_type": "element_type", "variable_shape": "shape"},
    "Assign": {"variable_id": "str"},
    "MVN": {"eps": "float", "normalize_variance": "bool", "eps_mode": "str", "across_channels": "bool",
            "reduction_axes": "ints"},
    "NormalizeL2": {"eps": "float", "eps_mode": "str"},
    "BatchNormInference": {"epsilon": "float"},
    "DepthToSpace": {"block_size": "int", "mode": "str"},
    "SpaceToDepth": {"block_size": "int", "mode": "str"},
    "Einsum": {"equation": "str"},
    "CumSum": {"exclusive": "bool", "reverse": "bool"},
    "FakeQuantize": {"levels": "int", **_BCAST},
    "LRN": {"alpha": "float", "beta": "float", "bias": "float", "size": "int"},
    "OneHot": {"axis": "int"},
    "ScaledDotProductAttention": {"causal": "bool"},
    "Divide": {"m_pythondiv": "bool", **_BCAST},
    "Select": _BCAST,
    "Squeeze": {"allow_axis_skip": "bool"},
    "RandomUniform": {"output_type": "element_type", "global_seed": "int", "op_seed": "int"},
    "TensorIterator": {}, "Loop": {}, "If": {},
}
for _op in ("Add", "Subtract", "Multiply", "Maximum", "Minimum", "Power", "SquaredDifference", "FloorMod", "Mod",
            "Equal", "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual", "LogicalAnd", "LogicalOr",
            "LogicalXor", "PRelu"):
    _TABLE.setdefault(_op, dict(_BCAST))
_TABLE["Constant"] = _TABLE["Const"]


def op_attr_kinds(op_type: str) -> dict[str, str] | None:
    """Kinds of the attributes of ``op_type`` (``None``: an op the table does not know)."""
    return _TABLE.get(op_type)


def attr_kind(op_type: str, name: str) -> str:
    """The kind of attribute ``name`` of ``op_type``; ``str`` when unknown."""
    return (_TABLE.get(op_type) or {}).get(name, "str")


def _split(text: str) -> list[str]:
    return [s.strip() for s in text.split(",")] if text.strip() else []


def decode(kind: str, text: str) -> Any:
    """The Python value of an attribute string; raises ValueError when it does not parse as ``kind``."""
    if kind == "int":
        return int(text)
    if kind == "float":
        return float(text)
    if kind == "bool":
        low = text.strip().lower()
        if low not in ("true", "false", "1", "0"):
            raise ValueError(f"not a boolean: {text!r}")
        return low in ("true", "1")
    if kind == "ints":
        return [int(x) for x in _split(text)]
    if kind == "floats":
        return [float(x) for x in _split(text)]
    if kind == "strs":
        return _split(text)
    if kind == "shape":
        return parse_shape(text)
    return text  # element_type, str


def _float_text(x: float) -> str:
    # the serializer prints doubles with 17 significant digits ("0.10000000149011612", "1")
    return f"{float(x):.17g}"


def encode(kind: str, value: Any) -> str:
    """The attribute string for ``value`` as the IR serializer spells it."""
    if isinstance(value, str):
        return value
    if kind == "bool" or isinstance(value, bool):
        return "true" if value else "false"
    if kind == "float":
        return _float_text(value)
    if kind == "floats":
        return ",".join(_float_text(v) for v in value)
    if kind == "shape":
        return format_shape(tuple(value))
    if kind in ("ints", "strs") or isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)
