"""What each ncnn layer type asks ``ModelBin`` for: the per-type layout table.

:func:`layer_layout` turns a layer's params into the list of :class:`BlobSpec`
its ``load_model`` reads, in order (``ncnn-layer-params.md``, ``ncnn-format.md``
§3.1). Custom layers are taught with :func:`register_layout`.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ....errors import ModelfileError
from ....graph import Node
from ..layers import BUILTIN_TYPES
from ..keys import BIN_TYPE_INDEX

__all__ = ["BlobSpec", "LayoutFn", "ParamGetter", "is_known_type", "layer_layout", "register_layout",
           "weighted_types"]

_ERR = "NCNN-WEIGHTS"


def _align4(n: int) -> int:
    return (n + 3) & ~3



@dataclass(frozen=True, slots=True)
class BlobSpec:
    """One ``ModelBin::load`` call of a layer, before looking at the ``.bin``.

    ``kind`` is ``tagged`` (flag word + data, encoding chosen by the flag),
    ``raw`` (bare fp32, ``count`` floats) or ``bytes`` (``count`` opaque bytes
    padded to 4, e.g. Gemm block-quantized weights). ``shape`` is numpy order
    (outermost first) of the loaded Mat.
    """

    role: str
    count: int
    kind: str = "tagged"
    shape: tuple[int, ...] = ()

    @property
    def fixed_nbytes(self) -> int | None:
        """Byte size when it does not depend on a flag word (``None`` for tagged blobs)."""
        if self.kind == "raw":
            return self.count * 4
        if self.kind == "bytes":
            return _align4(self.count)
        return None



class _Params:
    """Int view of a layer's params with ncnn's ``get(id, default)`` semantics."""

    __slots__ = ("attrs",)

    def __init__(self, attrs: Mapping[Any, Any]) -> None:
        self.attrs = attrs

    def __call__(self, pid: int, default: int) -> int:
        p = self.attrs.get(pid)
        if p is None:
            return default
        kind, value = p.kind, p.value
        if kind == "int":
            return int(value)
        if kind == "float":
            # ParamDict never converts: a float written for an int param is read as its bits
            return int(struct.unpack("<i", struct.pack("<f", value))[0])
        if kind in ("int_array", "float_array") and not value:
            return default  # "-233NN=0" leaves the param unset
        return 0  # an array or string read as an int yields the untouched union


def _cdiv(a: int, b: int) -> int:
    # C integer division (truncates toward zero)
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


#: ``p(param_id, default) -> int`` with ncnn's ParamDict::get semantics
ParamGetter = Callable[[int, int], int]
LayoutFn = Callable[[ParamGetter], list[BlobSpec]]


def _t(role: str, count: int, *shape: int) -> BlobSpec:
    return BlobSpec(role, count, "tagged", tuple(shape) or (count,))


def _r(role: str, count: int, *shape: int) -> BlobSpec:
    return BlobSpec(role, count, "raw", tuple(shape) or (count,))


def _conv(dynamic_id: int | None, *, int8: str = "") -> LayoutFn:
    """Convolution-family layout: weight[p6] T, bias[p0] R if p5, int8 scales."""

    def fn(p: ParamGetter) -> list[BlobSpec]:
        if dynamic_id is not None and p(dynamic_id, 0):
            return []  # weights come from the second bottom
        num_output = p(0, 0)
        out = [_t("weight", p(6, 0))]
        if p(5, 0):
            out.append(_r("bias", num_output))
        q = p(8, 0) if int8 else 0
        if q and int8 == "conv":
            out += [_r("weight_int8_scales", num_output), _r("bottom_int8_scale", 1)]
        elif q and int8 == "dw":
            if q in (1, 101):
                out += [_r("weight_int8_scales", p(7, 1)), _r("bottom_int8_scale", 1)]
            elif q in (2, 102):
                out += [_r("weight_int8_scale", 1), _r("bottom_int8_scale", 1)]
        if q > 100 and int8:
            out.append(_r("top_int8_scale", 1))
        return out

    return fn


def _inner_product(p: ParamGetter) -> list[BlobSpec]:
    num_output = p(0, 0)
    out = [_t("weight", p(2, 0))]
    if p(1, 0):
        out.append(_r("bias", num_output))
    if p(8, 0):
        out += [_r("weight_int8_scales", num_output), _r("bottom_int8_scale", 1)]
    return out


def _embed(p: ParamGetter) -> list[BlobSpec]:
    out = [_t("weight", p(3, 0))]
    if p(2, 0):
        out.append(_r("bias", p(0, 0)))
    if p(18, 0):
        out.append(_r("weight_int8_scale", 1))
    return out


def _batchnorm(p: ParamGetter) -> list[BlobSpec]:
    c = p(0, 0)
    return [_r("slope", c), _r("mean", c), _r("var", c), _r("bias", c)]


def _scale(p: ParamGetter) -> list[BlobSpec]:
    n = p(0, 0)
    if n == -233:
        return []  # scale comes from the second bottom, and so does nothing else
    out = [_r("scale", n)]
    if p(1, 0):
        out.append(_r("bias", n))
    return out


def _one_raw(role: str, pid: int, default: int = 0) -> LayoutFn:
    return lambda p: [_r(role, p(pid, default))]


def _affine(pid_size: int, pid_affine: int, roles: Sequence[str]) -> LayoutFn:
    def fn(p: ParamGetter) -> list[BlobSpec]:
        if not p(pid_affine, 1):
            return []
        n = p(pid_size, 0)
        return [_r(r, n) for r in roles]

    return fn


def _memorydata(p: ParamGetter) -> list[BlobSpec]:
    w, h, d, c = p(0, 0), p(1, 0), p(11, 0), p(2, 0)
    load_type = p(21, 1)
    if load_type not in (0, 1):
        # ModelBin knows only 0 (tagged) and 1 (raw): ncnn reads nothing and fails
        raise ValueError(f"MemoryData load_type 21={load_type} is neither 0 (tagged) nor 1 (raw fp32)")
    kind = "raw" if load_type == 1 else "tagged"
    # ncnn picks the Mat rank from the highest non-zero of d, c, h, w
    if d:
        shape: tuple[int, ...] = (c, d, h, w)
    elif c:
        shape = (c, h, w)
    elif h:
        shape = (h, w)
    elif w:
        shape = (w,)
    else:
        return []  # 0-d MemoryData creates a 1-element Mat without reading
    count = int(np.prod(shape, dtype=np.int64))
    return [BlobSpec("data", count, kind, shape)]


def _dirs(p: ParamGetter) -> int:
    return 2 if p(2, 0) == 2 else 1


def _rnn(p: ParamGetter) -> list[BlobSpec]:
    n, dirs = p(0, 0), _dirs(p)
    size = _cdiv(p(1, 0), dirs * n) if n else 0
    out = [_t("weight_xc", size * n * dirs, dirs, n, size), _t("bias_c", n * dirs, dirs, n),
           _t("weight_hc", n * n * dirs, dirs, n, n)]
    if p(8, 0):
        out += [_r("weight_xc_int8_scales", n * dirs, dirs, n), _r("weight_hc_int8_scales", n * dirs, dirs, n)]
    return out


def _lstm(p: ParamGetter) -> list[BlobSpec]:
    n, dirs = p(0, 0), _dirs(p)
    hidden = p(3, n)
    size = _cdiv(p(1, 0), dirs * hidden * 4) if hidden else 0
    out = [_t("weight_xc", size * hidden * 4 * dirs, dirs, hidden * 4, size),
           _t("bias_c", hidden * 4 * dirs, dirs, 4, hidden),
           _t("weight_hc", n * hidden * 4 * dirs, dirs, hidden * 4, n)]
    if n != hidden:
        out.append(_t("weight_hr", hidden * n * dirs, dirs, n, hidden))
    if p(8, 0):
        out += [_r("weight_xc_int8_scales", hidden * 4 * dirs, dirs, hidden * 4),
                _r("weight_hc_int8_scales", hidden * 4 * dirs, dirs, hidden * 4)]
    return out


def _gru(p: ParamGetter) -> list[BlobSpec]:
    n, dirs = p(0, 0), _dirs(p)
    size = _cdiv(p(1, 0), dirs * n * 3) if n else 0
    # the GRU bias holds 4 rows per direction (r, z, n_x, n_h), not 3
    out = [_t("weight_xc", size * n * 3 * dirs, dirs, n * 3, size), _t("bias_c", n * 4 * dirs, dirs, 4, n),
           _t("weight_hc", n * n * 3 * dirs, dirs, n * 3, n)]
    if p(8, 0):
        out += [_r("weight_xc_int8_scales", n * 3 * dirs, dirs, n * 3),
                _r("weight_hc_int8_scales", n * 3 * dirs, dirs, n * 3)]
    return out


def _mha(p: ParamGetter) -> list[BlobSpec]:
    e = p(0, 0)
    qdim = _cdiv(p(2, 0), e) if e else 0
    kdim, vdim = p(3, e), p(4, e)
    out = [_t("q_weight", e * qdim, e, qdim), _r("q_bias", e), _t("k_weight", e * kdim, e, kdim), _r("k_bias", e),
           _t("v_weight", e * vdim, e, vdim), _r("v_bias", e), _t("out_weight", qdim * e, qdim, e),
           _r("out_bias", qdim)]
    if p(18, 0):
        out += [_r("q_weight_int8_scales", e), _r("k_weight_int8_scales", e), _r("v_weight_int8_scales", e),
                _r("out_weight_int8_scale", 1)]
    return out


def _gemm(p: ParamGetter) -> list[BlobSpec]:
    trans_a, trans_b = p(2, 0), p(3, 0)
    const_a, const_b, const_c = p(4, 0), p(5, 0), p(6, 0)
    m, n, k = p(7, 0), p(8, 0), p(9, 0)
    bcast_c = p(10, 0)
    q = p(18, 0)
    bits = q // 100 if q >= 400 else 0
    out: list[BlobSpec] = []
    if const_a and not bits:
        out.append(_t("A", m * k, *((k, m) if trans_a else (m, k))))
    if const_b:
        if bits:
            # weight-only block quantization: each of the N rows of K values is
            # packed to whole bytes, no flag word (measured against ncnn 1.0.20261020)
            row = (k * bits + 7) // 8
            out.append(BlobSpec("B_packed", n * row, "bytes", (n, row)))
        else:
            out.append(_t("B", k * n, *((n, k) if trans_b else (k, n))))
    if const_c and bcast_c != -1:
        c_shape = {0: (1,), 1: (m,), 2: (m, 1), 3: (m, n), 4: (1, n)}.get(bcast_c)
        if c_shape is not None:
            out.append(_t("C", int(np.prod(c_shape)), *c_shape))
    if bits:
        block = 32 << (q % 10)
        out.append(_r("B_block_scales", n * ((k + block - 1) // block), n, (k + block - 1) // block))
        if (q // 10) % 10:
            out.append(_r("input_scales", k))
    elif q:
        if const_a:
            out.append(_r("A_int8_scales", m))
        if const_b:
            out.append(_r("B_int8_scale", 1))
    return out


def _normalize(p: ParamGetter) -> list[BlobSpec]:
    return [_r("scale", p(3, 0))]


def _dequantize(p: ParamGetter) -> list[BlobSpec]:
    out = [_r("scale", p(0, 1))]
    if p(1, 0):
        out.append(_r("bias", p(1, 0)))
    return out


def _requantize(p: ParamGetter) -> list[BlobSpec]:
    out = [_r("scale_in", p(0, 1)), _r("scale_out", p(1, 1))]
    if p(2, 0):
        out.append(_r("bias", p(2, 0)))
    return out


def _padding(p: ParamGetter) -> list[BlobSpec]:
    n = p(6, 0)
    return [_r("per_channel_pad", n)] if n else []


def _simple_upsample(p: ParamGetter) -> list[BlobSpec]:
    # sherpa-ncnn's zipformer SimpleUpsample (0=upsample 1=num_channels) loads a tagged
    # bias Mat(num_channels, upsample). Written from memory of sherpa-ncnn, not checked
    # against a real file here: a wrong guess shows up as spans that miss the file end.
    up, ch = p(0, 0), p(1, 0)
    return [_t("bias", up * ch, up, ch)]


_LAYOUTS: dict[str, LayoutFn] = {
    "Convolution": _conv(19, int8="conv"),
    "ConvolutionDepthWise": _conv(19, int8="dw"),
    "Convolution1D": _conv(19),
    "ConvolutionDepthWise1D": _conv(19),
    "Convolution3D": _conv(None),
    "ConvolutionDepthWise3D": _conv(None),
    "Deconvolution": _conv(28),
    "DeconvolutionDepthWise": _conv(28),
    "Deconvolution1D": _conv(28),
    "DeconvolutionDepthWise1D": _conv(28),
    "Deconvolution3D": _conv(None),
    "DeconvolutionDepthWise3D": _conv(None),
    "DeformableConv2D": _conv(None),
    "InnerProduct": _inner_product,
    "Embed": _embed,
    "BatchNorm": _batchnorm,
    "Scale": _scale,
    "Bias": _one_raw("bias", 0),
    "PReLU": _one_raw("slope", 0),
    "MemoryData": _memorydata,
    "LayerNorm": _affine(0, 2, ("gamma", "beta")),
    "GroupNorm": _affine(1, 3, ("gamma", "beta")),
    "InstanceNorm": _affine(0, 2, ("gamma", "beta")),
    "RMSNorm": _affine(0, 2, ("gamma",)),
    "RNN": _rnn,
    "LSTM": _lstm,
    "GRU": _gru,
    "MultiHeadAttention": _mha,
    "Gemm": _gemm,
    "Normalize": _normalize,
    "Quantize": _one_raw("scale", 0, 1),
    "Dequantize": _dequantize,
    "Requantize": _requantize,
    "Padding": _padding,
    # custom layers of sherpa-ncnn's zipformer export
    "SimpleUpsample": _simple_upsample,
}

#: Non-built-in types known to read nothing from the .bin (sherpa-ncnn, ncnn examples, rife).
_WEIGHTLESS_CUSTOM: set[str] = {
    "SherpaMetaData", "PoolingModuleNoProj", "TensorAsStrided", "Stack", "YoloV5Focus", "rife.Warp",
}


def register_layout(op_type: str, fn: LayoutFn | None) -> None:
    """Teach the span logic a custom layer type (``fn=None``: it reads no weights).

    ``fn`` gets a callable ``p(param_id, default) -> int`` and returns the
    :class:`BlobSpec` list in ``load_model`` order.
    """
    if fn is None:
        _LAYOUTS.pop(op_type, None)
        _WEIGHTLESS_CUSTOM.add(op_type)
    else:
        _WEIGHTLESS_CUSTOM.discard(op_type)
        _LAYOUTS[op_type] = fn


def is_known_type(op_type: str) -> bool:
    """Whether the weight layout of ``op_type`` is known (built-in or registered)."""
    return op_type in _LAYOUTS or op_type in BUILTIN_TYPES or op_type in _WEIGHTLESS_CUSTOM


def _where(node: Node, index: int | None = None) -> str:
    at = f"#{index}" if index is not None else ""
    pos = node.pos
    # binary .param.bin layers have no lines, only the synthetic name layer<i>
    if pos is not None and pos.line and BIN_TYPE_INDEX not in node.meta:
        return f"layer {node.name} ({node.op_type}, line {pos.line})"
    return f"layer {node.name} ({node.op_type}{', ' + at if at else ''})"


def _error(node: Node, msg: str, index: int | None = None, hint: str = "") -> ModelfileError:
    pos = node.pos
    return ModelfileError(f"{_where(node, index)} {msg}", code=_ERR,
                          file=pos.file if pos is not None else "",
                          line=pos.line if pos is not None and BIN_TYPE_INDEX not in node.meta else 0,
                          hint=hint)


def layer_layout(node: Node) -> list[BlobSpec] | None:
    """The blobs ``node``'s ``load_model`` reads, in order; ``None`` if its type is unknown."""
    fn = _LAYOUTS.get(node.op_type)
    if fn is None:
        return [] if is_known_type(node.op_type) else None
    try:
        specs = fn(_Params(node.attrs))
    except ValueError as e:  # a param whose text does not decode
        raise _error(node, f"has a param that cannot be read: {e}") from None
    for s in specs:
        if s.count < 0:
            raise _error(node, f"asks for a negative number of weights ({s.role}: {s.count}); check its params")
    return specs


def weighted_types() -> list[str]:
    """Layer types with a known weight layout (built-in and registered custom ones)."""
    return sorted(_LAYOUTS)
