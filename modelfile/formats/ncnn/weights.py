"""ncnn ``.bin`` weights: which byte span each layer owns, and rewriting the file.

The ``.bin`` has no header or index: it is the concatenation, in layer order,
of the blobs each layer's ``load_model`` reads, with sizes that follow from the
layer's params (``ncnn-layer-params.md``) and, for "tagged" blobs, from a
4-byte flag word that selects fp32 / fp16 / int8 / lookup-table storage
(``ncnn-format.md`` §3). :func:`layer_layout` says what a layer asks for,
:func:`layer_spans` walks a ``.bin`` and says where each layer's bytes are,
and :class:`WeightStore` keeps those bytes (lazily, via a memory map) so that
transforms can drop, move or add layers and :meth:`WeightStore.write_to`
re-lays the file in the graph's current order.

Layer types this module does not know (custom layers, unconverted pnnx ops)
make every span from that layer on unknown: they are kept as one opaque
chunk that is written back unchanged as long as those layers stay in place.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from ...errors import ModelfileError
from ...graph import Graph, Node
from .layers import BUILTIN_TYPES

__all__ = [
    "FLAG_FP16", "FLAG_FP32_MARKED", "FLAG_INT8", "Blob", "BlobSpec", "LayoutFn", "Span", "WeightStore",
    "decode_blob", "is_known_type", "layer_layout", "layer_spans", "memorydata_bytes", "memorydata_dims",
    "register_layout", "tagged_bytes", "tagged_nbytes", "trailing_bytes", "weighted_types",
]

FLAG_FP16 = 0x01306B47
FLAG_INT8 = 0x000D4B38
#: old caffe2ncnn marker "fp32, quantize at runtime": plain fp32 after the flag
FLAG_FP32_MARKED = 0x0002C056

_CHUNK = 16 << 20  # bytes copied per write call when streaming a memory map
_ERR = "NCNN-WEIGHTS"


def _align4(n: int) -> int:
    return (n + 3) & ~3


# ---------------------------------------------------------------------------
# what a layer asks ModelBin for
# ---------------------------------------------------------------------------

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


@dataclass(frozen=True, slots=True)
class Blob:
    """A blob located in a ``.bin``: where it is and how it is stored.

    ``encoding``: ``raw`` (untagged fp32), ``f32`` (flag 0), ``f32m`` (flag
    0x0002C056), ``f16``, ``i8``, ``table`` (256 fp32 + uint8 indexes) or
    ``bytes`` (opaque packed data).
    """

    role: str
    offset: int
    nbytes: int
    count: int
    encoding: str
    shape: tuple[int, ...] = ()

    @property
    def end(self) -> int:
        """Offset just past the blob."""
        return self.offset + self.nbytes


@dataclass(frozen=True, slots=True)
class Span:
    """The bytes of one layer in a ``.bin``.

    ``index`` is the layer's position in the node list the spans were computed
    for (the source order; later edits do not update it). ``status``: ``known`` (located from the params), ``opaque`` (a layer of
    unknown layout that is the last one with weights: it owns the rest of the
    file) or ``unresolved`` (after a layer of unknown layout: ``offset`` and
    ``nbytes`` are ``None``; ``group_offset``/``group_nbytes`` is the chunk that
    all such layers own together).
    """

    index: int
    name: str
    op_type: str
    offset: int | None
    nbytes: int | None
    blobs: tuple[Blob, ...] = ()
    status: str = "known"
    group_offset: int | None = None
    group_nbytes: int | None = None

    @property
    def end(self) -> int | None:
        """Offset just past the span (``None`` when unresolved)."""
        return None if self.offset is None or self.nbytes is None else self.offset + self.nbytes


# ---------------------------------------------------------------------------
# params as ncnn's ParamDict::get sees them
# ---------------------------------------------------------------------------

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
    if pos is not None and pos.line and "type_index" not in node.meta:
        return f"layer {node.name} ({node.op_type}, line {pos.line})"
    return f"layer {node.name} ({node.op_type}{', ' + at if at else ''})"


def _error(node: Node, msg: str, index: int | None = None, hint: str = "") -> ModelfileError:
    pos = node.pos
    return ModelfileError(f"{_where(node, index)} {msg}", code=_ERR,
                          file=pos.file if pos is not None else "",
                          line=pos.line if pos is not None and "type_index" not in node.meta else 0,
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


# ---------------------------------------------------------------------------
# locating blobs in a .bin
# ---------------------------------------------------------------------------

def _as_u8(data: Any) -> np.ndarray:
    if isinstance(data, np.ndarray):
        return data.reshape(-1).view(np.uint8)
    return np.frombuffer(data, dtype=np.uint8)


def _measure(node: Node, specs: Sequence[BlobSpec], buf: np.ndarray, offset: int,
             index: int | None = None, limit: int | None = None) -> tuple[Blob, ...]:
    """Locate ``specs`` at ``offset`` in ``buf``; raises when the data runs out."""
    size = len(buf) if limit is None else limit
    blobs: list[Blob] = []
    pos = offset
    for s in specs:
        fixed = s.fixed_nbytes
        if fixed is not None:
            nbytes, enc = fixed, ("raw" if s.kind == "raw" else "bytes")
        else:
            if pos + 4 > size:
                raise _short(node, offset, pos, s, 4, size, index)
            flag = int(buf[pos:pos + 4].view("<u4")[0])
            nbytes, enc = tagged_nbytes(flag, s.count)
        if pos + nbytes > size:
            raise _short(node, offset, pos, s, nbytes, size, index)
        blobs.append(Blob(s.role, pos, nbytes, s.count, enc, s.shape))
        pos += nbytes
    return tuple(blobs)


def tagged_nbytes(flag: int, count: int) -> tuple[int, str]:
    """Bytes on disk (flag word included) and encoding of a tagged blob of ``count`` values."""
    if flag == FLAG_FP16:
        return 4 + _align4(count * 2), "f16"
    if flag == FLAG_INT8:
        return 4 + _align4(count), "i8"
    if flag == FLAG_FP32_MARKED:
        return 4 + count * 4, "f32m"
    if flag != 0:  # ncnn tests the byte sum, which is non-zero exactly when the word is
        return 4 + 256 * 4 + _align4(count), "table"
    return 4 + count * 4, "f32"


def _short(node: Node, layer_off: int, pos: int, spec: BlobSpec, nbytes: int, size: int,
           index: int | None) -> ModelfileError:
    what = f"the flag word of its {spec.role} blob" if spec.kind == "tagged" and nbytes == 4 and pos + 4 > size \
        else f"its {spec.role} blob"
    where = f" (the layer starts at offset {layer_off})" if pos != layer_off else ""
    return _error(
        node,
        f"needs {nbytes} bytes at offset {pos} for {what} but the .bin has only {max(0, size - pos)} "
        f"bytes left (file size {size}){where}",
        index,
        hint="the .bin does not belong to this .param, or a layer before this one has wrong size params",
    )


def _plan(graph: Graph | Sequence[Node]) -> tuple[list[Node], list[list[BlobSpec] | None]]:
    nodes = list(graph.nodes if isinstance(graph, Graph) else graph)
    return nodes, [layer_layout(n) for n in nodes]


def layer_spans(graph: Graph | Sequence[Node], data: Any) -> list[Span | None]:
    """Where each layer's weights are in ``data`` (bytes, memoryview or a uint8 memmap).

    One entry per node, ``None`` for layers that read nothing. Raises
    :class:`ModelfileError` naming the layer when the data runs out. Bytes left
    after the last layer are allowed (ncnn ignores them); see
    :func:`trailing_bytes`.
    """
    nodes, layouts = _plan(graph)
    return _locate(nodes, layouts, _as_u8(data))


def _locate(nodes: list[Node], layouts: list[list[BlobSpec] | None], buf: np.ndarray) -> list[Span | None]:
    size = len(buf)
    spans: list[Span | None] = [None] * len(nodes)
    pos = 0
    first_unknown = next((i for i, lay in enumerate(layouts) if lay is None), len(nodes))
    for i in range(first_unknown):
        specs = layouts[i]
        if not specs:
            continue
        node = nodes[i]
        blobs = _measure(node, specs, buf, pos, i)
        end = blobs[-1].end
        spans[i] = Span(i, node.name, node.op_type, pos, end - pos, blobs)
        pos = end
    if first_unknown == len(nodes):
        return spans
    # From the first layer of unknown layout on, offsets cannot be computed: all
    # layers from there that may own bytes share the rest of the file.
    members = [i for i in range(first_unknown, len(nodes)) if layouts[i] is None or layouts[i]]
    rest = size - pos
    if len(members) == 1:
        n = nodes[members[0]]
        spans[members[0]] = Span(members[0], n.name, n.op_type, pos, rest, (), "opaque", pos, rest)
        return spans
    for i in members:
        n = nodes[i]
        spans[i] = Span(i, n.name, n.op_type, None, None, (), "unresolved", pos, rest)
    return spans


def trailing_bytes(spans: Sequence[Span | None], size: int) -> int | None:
    """Bytes after the last span (``None`` when an unknown layer makes that unknowable)."""
    end = 0
    for s in spans:
        if s is None:
            continue
        if s.status != "known":
            return 0 if s.status == "opaque" else None
        end = max(end, s.offset + s.nbytes)  # type: ignore[operator]
    return size - end


# ---------------------------------------------------------------------------
# decoding and encoding
# ---------------------------------------------------------------------------

def decode_blob(blob: Blob, buf: np.ndarray) -> np.ndarray:
    """The values of ``blob``: float32 for fp32/fp16/table storage, int8 or uint8 otherwise."""
    start, n = blob.offset, blob.count
    enc = blob.encoding
    if enc == "raw":
        arr = buf[start:start + 4 * n].view("<f4")
    elif enc in ("f32", "f32m"):
        arr = buf[start + 4:start + 4 + 4 * n].view("<f4")
    elif enc == "f16":
        arr = buf[start + 4:start + 4 + 2 * n].view("<f2").astype(np.float32)
    elif enc == "i8":
        arr = buf[start + 4:start + 4 + n].view(np.int8)
    elif enc == "table":
        table = buf[start + 4:start + 4 + 1024].view("<f4")
        arr = table[buf[start + 1028:start + 1028 + n]]
    else:
        arr = buf[start:start + n]
    arr = arr.astype(arr.dtype.newbyteorder("="), copy=False)
    if blob.shape and int(np.prod(blob.shape)) == arr.size:
        arr = arr.reshape(blob.shape)
    return arr


def tagged_bytes(values: np.ndarray, encoding: str = "f32") -> bytes:
    """A tagged blob: flag word + data padded to 4 bytes (``f32``, ``f16`` or ``i8``)."""
    if encoding == "f16":
        body, flag = np.asarray(values, dtype="<f2").tobytes(), FLAG_FP16
    elif encoding == "i8":
        body, flag = np.asarray(values, dtype=np.int8).tobytes(), FLAG_INT8
    elif encoding == "f32":
        body, flag = np.asarray(values, dtype="<f4").tobytes(), 0
    else:
        raise ValueError(f"unknown encoding {encoding!r}")
    return struct.pack("<I", flag) + body + b"\0" * (_align4(len(body)) - len(body))


def memorydata_bytes(array: Any) -> bytes:
    """The ``.bin`` bytes of a ``MemoryData`` layer with the default ``load_type`` 1 (raw fp32, no flag)."""
    return np.ascontiguousarray(array, dtype="<f4").tobytes()


def memorydata_dims(shape: Sequence[int]) -> dict[int, int]:
    """``MemoryData`` param ids for a numpy shape (ncnn Mat order: ``(w)``, ``(h,w)``, ``(c,h,w)``, ``(c,d,h,w)``)."""
    shape = tuple(int(x) for x in shape)
    if not 1 <= len(shape) <= 4 or any(x <= 0 for x in shape):
        raise ModelfileError(f"MemoryData needs 1 to 4 positive dimensions, got shape {shape}", code=_ERR)
    ids = {1: (0,), 2: (1, 0), 3: (2, 1, 0), 4: (2, 11, 1, 0)}[len(shape)]
    return dict(zip(ids, shape))


# ---------------------------------------------------------------------------
# the store
# ---------------------------------------------------------------------------

def _wsig(node: Node) -> tuple[Any, ...]:
    return (node.op_type, tuple(node.attrs.items()))


@dataclass(slots=True)
class _Entry:
    node: Node  # keeps id(node) from being reused while the entry exists
    sig: tuple[Any, ...]  # type and params when the bytes were located
    offset: int = 0
    nbytes: int = 0
    data: bytes | None = None  # replacement bytes; None = the source bytes at offset
    grouped: bool = False  # after a layer of unknown layout: part of the opaque tail chunk
    span: Span | None = None


@dataclass(slots=True)
class _Tail:
    """The bytes from the first layer of unknown layout on, owned jointly by ``members``."""

    offset: int
    nbytes: int
    members: list[int] = field(default_factory=list)  # id(node), file order


class WeightStore:
    """The weights of an ncnn model, per layer, for transforms that change the ``.bin``.

    Bytes of the source file stay in a read-only memory map until written;
    :meth:`set_layer_data` replaces a layer's bytes. :meth:`write_to` emits the
    layers of a graph in its current order, so removed layers vanish and new
    or moved ones land where they now are. Create the store before editing
    the graph: it records the source layer order.
    """

    def __init__(self, graph: Graph, data: Any = b"", *, path: Path | None = None,
                 source: Sequence[tuple[Node, Node]] | None = None) -> None:
        self.graph = graph
        self.path = path
        self._buf = _as_u8(data)
        #: size of the source .bin in bytes
        self.size = len(self._buf)
        # ``source``: (node, as read) pairs in file order, for a graph edited before the store was made
        pairs = list(source) if source is not None else [(n, n) for n in graph.nodes]
        nodes = [p[0] for p in pairs]
        views, layouts = _plan([p[1] for p in pairs])
        #: per node of the source graph (``None``: reads nothing), see :func:`layer_spans`
        self.spans = _locate(views, layouts, self._buf)
        #: bytes after the last layer (``None`` when a layer of unknown layout hides it)
        self.trailing = trailing_bytes(self.spans, self.size)
        self._entries: dict[int, _Entry] = {}
        self._tail: _Tail | None = None
        for node, view, span in zip(nodes, views, self.spans):
            e = _Entry(node, _wsig(view), span=span)
            if span is not None and span.status == "unresolved":
                if self._tail is None:
                    self._tail = _Tail(span.group_offset or 0, span.group_nbytes or 0)
                self._tail.members.append(id(node))
                e.grouped = True
            elif span is not None:
                e.offset, e.nbytes = span.offset or 0, span.nbytes or 0
            self._entries[id(node)] = e
        self._orig_order = self._weighted_order(nodes)
        self._modified = False

    @classmethod
    def from_model(cls, model: Any, *, attach: bool = True) -> "WeightStore":
        """Map the model's ``.bin`` (``model.state.bin_path``) and locate every layer; with ``attach`` keep the
        store as ``model.state.weights``.

        Returns the attached store when there already is one for this graph.
        """
        existing = getattr(model.state, "weights", None)
        if attach and isinstance(existing, WeightStore) and existing.graph is model.graph:
            return existing
        path = getattr(model.state, "bin_path", None)
        if path is None:
            raise ModelfileError("the model has no .bin path", code=_ERR, file=str(model.path or ""))
        path = Path(path)
        if not path.is_file():
            raise ModelfileError("weights file not found", code=_ERR, file=str(path),
                                 hint="ncnn needs the .bin next to the .param (x.param -> x.bin)")
        # never read a multi-GB .bin into memory; np.memmap refuses empty files
        data: Any = np.memmap(path, dtype=np.uint8, mode="r") if path.stat().st_size else b""
        store = cls(model.graph, data, path=path)
        if attach:
            model.state.weights = store
        return store

    # -- queries ---------------------------------------------------------
    def _entry(self, node: Node) -> _Entry | None:
        e = self._entries.get(id(node))
        return e if e is not None and e.node is node else None

    def spans_of(self, node: Node) -> Span | None:
        """The span ``node`` had in the source ``.bin`` (``None``: it read nothing or is new)."""
        e = self._entry(node)
        return e.span if e is not None else None

    def blob_info(self, node: Node) -> list[Blob]:
        """Where ``node``'s blobs are (offsets into :meth:`layer_bytes` once its data was replaced)."""
        buf, base, e = self._layer_buf(node)
        if e is not None and e.data is None and e.span is not None and e.span.blobs and _wsig(node) == e.sig:
            return list(e.span.blobs)
        specs = layer_layout(node)
        if specs is None:
            raise _error(node, "has a type whose weight layout is unknown",
                         hint="register it with modelfile.formats.ncnn.weights.register_layout()")
        have = len(e.data) if e is not None and e.data is not None else (e.nbytes if e is not None else 0)
        return list(_measure(node, specs, buf, base, limit=base + have))

    def blobs_of(self, node: Node) -> list[np.ndarray]:
        """``node``'s blobs in load order, decoded (see :func:`decode_blob`); fp32 data are read-only views."""
        buf, _base, _e = self._layer_buf(node)
        return [decode_blob(b, buf) for b in self.blob_info(node)]

    def layer_bytes(self, node: Node) -> memoryview:
        """The raw ``.bin`` bytes ``node`` owns (a view into the memory map when unchanged)."""
        buf, base, e = self._layer_buf(node)
        if e is None:
            return memoryview(b"")
        n = len(e.data) if e.data is not None else e.nbytes
        return memoryview(buf[base:base + n])

    def _layer_buf(self, node: Node) -> tuple[np.ndarray, int, _Entry | None]:
        e = self._entry(node)
        if e is None:
            return _as_u8(b""), 0, None
        if e.data is not None:
            return _as_u8(e.data), 0, e
        if e.grouped:
            raise self._tail_error(node)
        return self._buf, e.offset, e

    def _tail_error(self, node: Node, why: str = "has weights that cannot be located") -> ModelfileError:
        assert self._tail is not None
        members = [self._entries[m].node for m in self._tail.members]
        unknown = next((n for n in members if layer_layout(n) is None), members[0])
        rule = "can only be kept together, in their original order"
        if node is unknown:
            msg = f"{why}: its weight layout is unknown to modelfile, so it and the layers with weights after it {rule}"
        else:
            msg = (f"{why}: layer {unknown.name} ({unknown.op_type}), ahead of it in the source, has a weight "
                   f"layout unknown to modelfile, so the layers with weights from there on {rule}")
        return _error(node, msg, hint="register the custom layer's layout with "
                                      "modelfile.formats.ncnn.weights.register_layout()")

    # -- edits -----------------------------------------------------------
    def set_layer_data(self, node: Node, data: bytes | bytearray | memoryview | np.ndarray) -> None:
        """Give ``node`` these ``.bin`` bytes, replacing any it had (``b""``: none).

        They are checked against the node's params when written.
        """
        raw = data.tobytes() if isinstance(data, np.ndarray) else bytes(data)
        if len(raw) % 4:
            raise _error(node, f"data of {len(raw)} bytes is not a multiple of 4; ncnn blobs are 4-byte aligned")
        e = self._entry(node)
        if e is not None and e.grouped:
            raise self._tail_error(node, "cannot get new weights")
        if e is None:
            e = _Entry(node, ())
            self._entries[id(node)] = e
        e.data = raw
        self._modified = True

    def _weighted_order(self, graph: Graph | Sequence[Node]) -> list[int]:
        out = []
        for n in (graph.nodes if isinstance(graph, Graph) else graph):
            e = self._entry(n)
            if e is not None and (e.nbytes or e.grouped or e.data is not None):
                out.append(id(n))
        return out

    @property
    def dirty(self) -> bool:
        """Whether :attr:`graph` needs a new ``.bin``: weights set, layers with weights moved, added or removed."""
        if self._modified or self._weighted_order(self.graph) != self._orig_order:
            return True
        for n in self.graph.nodes:
            e = self._entry(n)
            if e is None:
                if layer_layout(n) != []:
                    return True  # a new layer that needs weights nobody gave it: write_to explains
            elif _wsig(n) != e.sig:
                return True
        return False

    def _check_bytes(self, node: Node, e: _Entry) -> None:
        """Raise unless ``node``'s current params read exactly the bytes it holds."""
        specs = layer_layout(node)
        if specs is None:
            return  # a custom layer: trust what it was given
        buf, base, _ = self._layer_buf(node)
        have = len(e.data) if e.data is not None else e.nbytes
        fix = "give it matching bytes with WeightStore.set_layer_data()"
        if not specs:
            if have:
                raise _error(node, f"holds {have} bytes of weights but its params read none",
                             hint="set_layer_data(node, b'') drops them")
            return
        try:
            blobs = _measure(node, specs, buf, base, limit=base + have)
        except ModelfileError as err:
            msg = err.diagnostic.message.split(") ", 1)[-1]
            raise _error(node, f"holds {have} bytes of weights, too few for its params ({msg})", hint=fix) from None
        used = blobs[-1].end - base
        if used != have:
            raise _error(node, f"holds {have} bytes of weights but its params read {used}", hint=fix)

    def plan(self, graph: Graph | None = None) -> list[tuple[int, int] | bytes]:
        """What :meth:`write_to` writes: ``(offset, nbytes)`` copies from the source and new ``bytes``.

        Raises :class:`ModelfileError` naming the layer when its bytes do not
        match its params, a new layer lacks weights, or layers after one of
        unknown layout were reordered.
        """
        graph = graph if graph is not None else self.graph
        pieces: list[tuple[int, int] | bytes] = []

        def copy(off: int, n: int) -> None:
            last = pieces[-1] if pieces else None
            if isinstance(last, tuple) and last[0] + last[1] == off:
                pieces[-1] = (last[0], last[1] + n)  # neighbours become one copy
            elif n:
                pieces.append((off, n))

        nodes = graph.nodes
        i = 0
        while i < len(nodes):
            node = nodes[i]
            e = self._entry(node)
            if e is None:
                specs = layer_layout(node)
                if specs is None:
                    raise _error(node, "is a new layer of a type whose weight layout is unknown",
                                 hint="set_layer_data(node, b'') if it reads no weights")
                if specs:
                    raise _error(node, "is a new layer that reads weights but has none",
                                 hint="give them with WeightStore.set_layer_data(node, data)")
            elif e.grouped and e.data is None:
                i = self._plan_tail(nodes, i, copy)
                continue
            else:
                if e.data is not None or _wsig(node) != e.sig:
                    self._check_bytes(node, e)
                if e.data is not None:
                    if e.data:
                        pieces.append(e.data)
                else:
                    copy(e.offset, e.nbytes)
            i += 1
        if self.trailing:
            copy(self.size - self.trailing, self.trailing)
        return pieces

    def _plan_tail(self, nodes: list[Node], i: int, copy: Callable[[int, int], None]) -> int:
        tail = self._tail
        assert tail is not None
        seen: list[int] = []
        j = i
        while j < len(nodes) and len(seen) < len(tail.members):
            n = nodes[j]
            ej = self._entry(n)
            if ej is not None and ej.grouped:
                seen.append(id(n))
            elif (layer_layout(n) != []) if ej is None else bool(ej.data or ej.nbytes):
                raise self._tail_error(n, "cannot be placed among layers whose weights cannot be located")
            j += 1
        if seen != tail.members:
            present = set(seen)
            gone = [m for m in tail.members if m not in present]
            if gone:
                raise self._tail_error(self._entries[gone[0]].node, "was removed")
            k = next(k for k, (a, b) in enumerate(zip(seen, tail.members)) if a != b)
            raise self._tail_error(self._entries[seen[k]].node, "was moved")
        copy(tail.offset, tail.nbytes)
        return j

    def write_to(self, f: BinaryIO, graph: Graph | None = None, *, chunk_size: int = _CHUNK) -> int:
        """Write the ``.bin`` of ``graph``'s (default :attr:`graph`) current layers in order; returns its size.

        Everything is checked before the first byte is written; source bytes
        are streamed from the memory map in ``chunk_size`` pieces.
        """
        pieces = self.plan(graph)
        total = 0
        for piece in pieces:
            if isinstance(piece, bytes):
                f.write(piece)
                total += len(piece)
                continue
            off, n = piece
            end = off + n
            while off < end:
                step = min(chunk_size, end - off)
                f.write(memoryview(self._buf[off:off + step]))
                off += step
            total += n
        return total

    def __repr__(self) -> str:
        return f"WeightStore({str(self.path) if self.path else '<memory>'}, {self.size} bytes)"


def weighted_types() -> list[str]:
    """Layer types with a known weight layout (built-in and registered custom ones)."""
    return sorted(_LAYOUTS)
