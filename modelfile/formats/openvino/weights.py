"""Const data: a lazy view of the ``.bin`` and codecs for every IR element type.

A Const node keeps its data where it is: ``node.attrs`` hold ``offset``,
``size``, ``element_type`` and ``shape``; :func:`const_array` maps the bytes
(``mmap``, never a full read) and decodes them on request. New data set with
:func:`set_const_value` / :func:`new_const` lives in ``node.meta[IR_DATA]``
(packed bytes) until the writer lays out a new ``.bin``.

Packing (checked against openvino 2026.4 ``Constant`` bytes; little-endian):

* ``u1``: 8 per byte, first element in the most significant bit.
* ``u2``: 4 per byte, first element in the *least* significant bits.
* ``u3``: blocks of 8 elements = 2 bytes of 2-bit low parts (MSB first) + 1 byte of high bits (MSB first).
* ``u4``/``i4``/``nf4``/``f4e2m1``: 2 per byte, first element in the low nibble.
* ``u6``: blocks of 4 elements = 2 bytes of 4-bit low parts (high nibble first) + 1 byte of 2-bit highs (MSB first).
* ``string``: ``i32 N``, ``N+1`` i32 end offsets starting at 0, then the UTF-8 bytes.
"""

from __future__ import annotations

import math
import struct
from typing import Any

import numpy as np

from ...errors import ModelfileError
from ...graph import Graph, Node, Value
from .binfile import ConstInfo, Weights, _err, const_info, const_span
from .names import BITS, parse_shape
from .keys import IR_DATA

__all__ = [
    "ConstInfo", "NF4_VALUES", "Weights", "const_array", "const_bytes", "const_info", "decode", "encode",
    "element_type_of_dtype", "new_const", "set_const_value",
]

#: the 16 NF4 code points (bitsandbytes / OpenVINO ``ConvertNF4``)
NF4_VALUES = np.array([
    -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635,
    -0.18477343022823334, -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725,
    0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
    0.7229568362236023, 1.0], dtype=np.float32)


def _f8_table(exp_bits: int, man_bits: int, bias: int, *, fn: bool) -> np.ndarray:
    """Float32 values of all 256 codes of an 8-bit float (``fn``: no infinities, only S.1111.111 is NaN)."""
    out = np.empty(256, np.float32)
    for code in range(256):
        sign = -1.0 if code & 0x80 else 1.0
        e = (code >> man_bits) & ((1 << exp_bits) - 1)
        m = code & ((1 << man_bits) - 1)
        emax = (1 << exp_bits) - 1
        if fn and e == emax and m == (1 << man_bits) - 1:
            v = math.nan
        elif not fn and e == emax:
            v = math.inf if m == 0 else math.nan
        elif e == 0:
            v = (m / (1 << man_bits)) * 2.0 ** (1 - bias)
        else:
            v = (1 + m / (1 << man_bits)) * 2.0 ** (e - bias)
        out[code] = sign * v
    return out


F8E4M3_VALUES = _f8_table(4, 3, 7, fn=True)
F8E5M2_VALUES = _f8_table(5, 2, 15, fn=False)
F4E2M1_VALUES = np.array([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0,
                          -0.0, -0.5, -1.0, -1.5, -2.0, -3.0, -4.0, -6.0], dtype=np.float32)

_NUMPY: dict[str, str] = {
    "f64": "<f8", "f32": "<f4", "f16": "<f2", "i64": "<i8", "i32": "<i4", "i16": "<i2", "i8": "i1",
    "u64": "<u8", "u32": "<u4", "u16": "<u2", "u8": "u1",
}


def element_type_of_dtype(dtype: Any) -> str:
    """The IR element type for a numpy dtype (``float32`` -> ``f32``, ``bool`` -> ``boolean``, str -> ``string``)."""
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return "boolean"
    if dt.kind in ("U", "S", "O"):
        return "string"
    et = _KIND_SIZE.get((dt.kind, dt.itemsize))
    if et is None:
        raise ModelfileError(f"no IR element type for numpy dtype {dt}")
    return et


_KIND_SIZE = {("f", 8): "f64", ("f", 4): "f32", ("f", 2): "f16", ("i", 8): "i64", ("i", 4): "i32",
              ("i", 2): "i16", ("i", 1): "i8", ("u", 8): "u64", ("u", 4): "u32", ("u", 2): "u16",
              ("u", 1): "u8"}


def _nbytes(et: str, count: int) -> int:
    # u3/u6 come in whole 3-byte blocks (of 8 / 4 elements), even when the last block is partial
    if et == "u3":
        return (count + 7) // 8 * 3
    if et == "u6":
        return (count + 3) // 4 * 3
    return (count * BITS[et] + 7) // 8


# ---------------------------------------------------------------------------------------------
# decoding
# ---------------------------------------------------------------------------------------------


def _unpack_nibbles(b: np.ndarray, count: int) -> np.ndarray:
    out = np.empty(b.size * 2, np.uint8)
    out[0::2] = b & 0x0F
    out[1::2] = b >> 4
    return out[:count]


def _decode_strings(buf: np.ndarray, count: int, raw: bool) -> np.ndarray:
    data = buf.tobytes() if buf.size <= (1 << 20) else bytes(buf)
    if len(data) < 4:
        raise ValueError("string constant shorter than its 4-byte header")
    (n,) = struct.unpack_from("<i", data, 0)
    if n < 0 or len(data) < 4 + 4 * (n + 1):
        raise ValueError(f"string constant header says {n} strings but holds {len(data)} bytes")
    if n != count:
        raise ValueError(f"string constant holds {n} strings, shape needs {count}")
    ends = struct.unpack_from(f"<{n + 1}i", data, 4)
    base = 4 + 4 * (n + 1)
    out = np.empty(n, dtype=object)
    for i in range(n):
        s, e = ends[i], ends[i + 1]
        if not (0 <= s <= e and base + e <= len(data)):
            raise ValueError(f"string {i} has offsets {s}..{e} outside the constant")
        chunk = data[base + s: base + e]
        out[i] = chunk if raw else chunk.decode("utf-8", errors="surrogateescape")
    return out


def decode(buf: np.ndarray | bytes, element_type: str, shape: tuple[int, ...], *, raw: bool = False) -> np.ndarray:
    """Decode packed IR bytes into a numpy array of ``shape``.

    Floating types numpy lacks (``bf16``, ``f8*``, ``f4e2m1``, ``nf4``) decode
    to float32; ``raw=True`` returns their codes instead (and bytes for strings).
    """
    b = np.frombuffer(buf, np.uint8) if isinstance(buf, (bytes, bytearray, memoryview)) else buf
    count = int(np.prod(shape, dtype=np.int64)) if shape else 1
    et = element_type
    if et == "string":
        return _decode_strings(b, count, raw).reshape(shape)
    if et not in BITS:
        raise ValueError(f"cannot decode element type {et!r}")
    need = _nbytes(et, count)
    if b.size < need:
        raise ValueError(f"{b.size} bytes hold fewer than {count} elements of {et} ({need} bytes)")
    if et in _NUMPY:
        return np.frombuffer(b[: need].tobytes() if not b.flags.c_contiguous else b[:need], dtype=_NUMPY[et]).reshape(shape)
    if et == "boolean":
        return (b[:count] != 0).reshape(shape)
    if et == "bf16":
        u = np.frombuffer(b[:need], "<u2")
        return u.copy().reshape(shape) if raw else (u.astype(np.uint32) << 16).view(np.float32).reshape(shape)
    if et in ("f8e4m3", "f8e5m2", "f8e8m0"):
        codes = b[:count]
        if raw:
            return codes.copy().reshape(shape)
        if et == "f8e8m0":
            with np.errstate(over="ignore"):  # code 255 is NaN, set below
                vals = np.ldexp(np.float32(1.0), codes.astype(np.int32) - 127).astype(np.float32)
            vals[codes == 0xFF] = np.nan
            return vals.reshape(shape)
        table = F8E4M3_VALUES if et == "f8e4m3" else F8E5M2_VALUES
        return table[codes].reshape(shape)
    if et == "u1":
        return np.unpackbits(b[:need], bitorder="big")[:count].reshape(shape)
    if et == "u2":
        q = b[:need]
        out = np.stack([q & 3, (q >> 2) & 3, (q >> 4) & 3, q >> 6], axis=1).reshape(-1)
        return out[:count].reshape(shape)
    if et in ("u4", "i4", "nf4", "f4e2m1"):
        codes = _unpack_nibbles(b[:need], count)
        if et == "i4":
            return ((codes.astype(np.int8) << 4) >> 4).reshape(shape)
        if et == "u4" or raw:
            return codes.reshape(shape)
        table = NF4_VALUES if et == "nf4" else F4E2M1_VALUES
        return table[codes].reshape(shape)
    if et == "u3":
        blocks = (count + 7) // 8
        q = np.zeros(blocks * 3, np.uint8)
        q[: min(need, b.size)] = b[: min(need, blocks * 3)]
        q = q.reshape(blocks, 3)
        lo = np.unpackbits(q[:, :2], axis=1, bitorder="big").reshape(blocks, 8, 2)
        lo = (lo[:, :, 0] << 1) | lo[:, :, 1]
        hi = np.unpackbits(q[:, 2:3], axis=1, bitorder="big").reshape(blocks, 8)
        return ((hi << 2) | lo).reshape(-1)[:count].astype(np.uint8).reshape(shape)
    if et == "u6":
        blocks = (count + 3) // 4
        q = np.zeros(blocks * 3, np.uint8)
        q[: min(need, b.size)] = b[: min(need, blocks * 3)]
        q = q.reshape(blocks, 3)
        lo = np.stack([q[:, 0] >> 4, q[:, 0] & 15, q[:, 1] >> 4, q[:, 1] & 15], axis=1)
        hb = q[:, 2]
        hi = np.stack([hb >> 6, (hb >> 4) & 3, (hb >> 2) & 3, hb & 3], axis=1)
        return ((hi << 4) | lo).reshape(-1)[:count].astype(np.uint8).reshape(shape)
    raise ValueError(f"cannot decode element type {et!r}")


# ---------------------------------------------------------------------------------------------
# encoding
# ---------------------------------------------------------------------------------------------


def _nearest(table: np.ndarray, values: np.ndarray) -> np.ndarray:
    finite = np.where(np.isnan(table), np.inf, table)
    order = np.argsort(finite, kind="stable")
    st = finite[order]
    v = values.astype(np.float32).reshape(-1)
    idx = np.clip(np.searchsorted(st, v), 1, len(st) - 1)
    left, right = st[idx - 1], st[idx]
    pick = np.where(np.abs(v - left) <= np.abs(right - v), idx - 1, idx)
    codes = order[pick].astype(np.uint8)
    nan_code = int(np.flatnonzero(np.isnan(table))[0]) if np.isnan(table).any() else 0
    codes[np.isnan(v)] = nan_code
    return codes


def _pack_nibbles(codes: np.ndarray) -> bytes:
    c = codes.astype(np.uint8).reshape(-1) & 0x0F
    if c.size % 2:
        c = np.concatenate([c, np.zeros(1, np.uint8)])
    return (c[0::2] | (c[1::2] << 4)).astype(np.uint8).tobytes()


def encode(value: Any, element_type: str) -> bytes:
    """Pack ``value`` (array-like) as ``element_type`` bytes, as OpenVINO lays them out in a ``.bin``."""
    et = element_type
    if et == "string":
        arr = np.asarray(value, dtype=object).reshape(-1)
        parts = [x if isinstance(x, bytes) else str(x).encode("utf-8", errors="surrogateescape") for x in arr]
        ends = [0]
        for p in parts:
            ends.append(ends[-1] + len(p))
        return struct.pack(f"<i{len(ends)}i", len(parts), *ends) + b"".join(parts)
    a = np.asarray(value)
    if et in _NUMPY:
        return np.ascontiguousarray(a, dtype=_NUMPY[et]).tobytes()
    if et == "boolean":
        return np.ascontiguousarray(a != 0 if a.dtype.kind != "b" else a, dtype=np.uint8).tobytes()
    if et == "bf16":
        f = np.ascontiguousarray(a, dtype=np.float32).reshape(-1).view(np.uint32).astype(np.uint64)
        # round to nearest even, keep NaN quiet
        rounded = ((f + 0x7FFF + ((f >> 16) & 1)) >> 16).astype(np.uint16)
        nan = np.isnan(np.asarray(a, dtype=np.float32).reshape(-1))
        rounded[nan] = 0x7FC0
        return rounded.astype("<u2").tobytes()
    if et in ("f8e4m3", "f8e5m2"):
        table = F8E4M3_VALUES if et == "f8e4m3" else F8E5M2_VALUES
        return _nearest(table, np.asarray(a, np.float32)).tobytes()
    if et == "f8e8m0":
        v = np.asarray(a, np.float64).reshape(-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            e = np.clip(np.round(np.log2(v)) + 127, 0, 254)
        e = np.where(np.isnan(e), 255, e)
        return e.astype(np.uint8).tobytes()
    if et == "u1":
        return np.packbits(np.asarray(a).reshape(-1) != 0, bitorder="big").tobytes()
    if et == "u2":
        c = np.asarray(a).reshape(-1).astype(np.uint8) & 3
        pad = (-c.size) % 4
        c = np.concatenate([c, np.zeros(pad, np.uint8)]).reshape(-1, 4)
        return (c[:, 0] | (c[:, 1] << 2) | (c[:, 2] << 4) | (c[:, 3] << 6)).astype(np.uint8).tobytes()
    if et in ("u4", "i4"):
        return _pack_nibbles(np.asarray(a).reshape(-1).astype(np.int64) & 0x0F)
    if et in ("nf4", "f4e2m1"):
        arr = np.asarray(a)
        if arr.dtype.kind in "ui":  # already codes
            return _pack_nibbles(arr)
        table = NF4_VALUES if et == "nf4" else F4E2M1_VALUES
        return _pack_nibbles(_nearest(table, arr.astype(np.float32)))
    if et == "u3":
        c = np.asarray(a).reshape(-1).astype(np.uint8) & 7
        pad = (-c.size) % 8
        c = np.concatenate([c, np.zeros(pad, np.uint8)]).reshape(-1, 8)
        lo = c & 3
        lo_bits = np.stack([(lo >> 1) & 1, lo & 1], axis=2).reshape(-1, 16)
        lo_bytes = np.packbits(lo_bits, axis=1, bitorder="big")
        hi_bytes = np.packbits((c >> 2) & 1, axis=1, bitorder="big")
        return np.concatenate([lo_bytes, hi_bytes], axis=1).astype(np.uint8).tobytes()
    if et == "u6":
        c = np.asarray(a).reshape(-1).astype(np.uint8) & 63
        pad = (-c.size) % 4
        c = np.concatenate([c, np.zeros(pad, np.uint8)]).reshape(-1, 4)
        lo = c & 15
        hi = c >> 4
        b0 = (lo[:, 0] << 4) | lo[:, 1]
        b1 = (lo[:, 2] << 4) | lo[:, 3]
        b2 = (hi[:, 0] << 6) | (hi[:, 1] << 4) | (hi[:, 2] << 2) | hi[:, 3]
        return np.stack([b0, b1, b2], axis=1).astype(np.uint8).tobytes()
    raise ValueError(f"cannot encode element type {et!r}")


def const_bytes(node: Node) -> np.ndarray | bytes:
    """The raw packed bytes of a Const: new data if set, else a zero-copy view of the ``.bin``."""
    data = node.meta.get(IR_DATA)
    if data is not None:
        return data
    weights, info = const_span(node)
    return weights.array()[info.offset: info.offset + info.size]


def const_array(node: Node, *, raw: bool = False) -> np.ndarray:
    """Decode a Const's value (lazily mapped from the ``.bin``; packed types unpacked).

    ``raw=True`` returns codes for bf16/f8/f4/nf4 and bytes for strings.
    """
    info = const_info(node)
    try:
        return decode(const_bytes(node), info.element_type, info.shape, raw=raw)
    except ValueError as e:
        raise _err(node, f"Const {node.name!r}: {e}") from None


def _const_shape_str(shape: tuple[int, ...]) -> str:
    # the serializer writes Const shapes with ", " between dims
    return ", ".join(str(int(d)) for d in shape)


def set_const_value(node: Node, value: Any, element_type: str | None = None) -> None:
    """Give a Const new data; the writer will lay out a new ``.bin`` on save.

    The element type stays the node's unless ``element_type`` is given (a node
    without one infers it from the array's dtype). Updates ``element_type``,
    ``shape`` and ``size`` in ``node.attrs`` and the output value's dtype/shape.
    """
    et = element_type or node.attrs.get("element_type")
    arr = np.asarray(value, dtype=object) if (et == "string") else np.asarray(value)
    if et is None:
        et = element_type_of_dtype(arr.dtype)
    data = encode(arr, et)
    node.meta[IR_DATA] = data
    a = node.attrs
    a["element_type"] = et
    a["shape"] = _const_shape_str(arr.shape)
    a.setdefault("offset", "0")
    a["size"] = str(len(data))
    if node.outputs:
        v = node.outputs[0]
        v.dtype = et
        v.shape = tuple(int(d) for d in arr.shape)


def new_const(graph: Graph, value: Any, name: str, *, element_type: str | None = None,
              names: list[str] | None = None, index: int | None = None) -> Node:
    """Create a ``Const`` (opset1) holding ``value`` and add it to ``graph`` (at ``index`` or the end)."""
    arr = np.asarray(value, dtype=object) if element_type == "string" else np.asarray(value)
    et = element_type or element_type_of_dtype(arr.dtype)
    node = Node("Const", name, version="opset1")
    node.attrs = {"element_type": et, "shape": _const_shape_str(arr.shape), "offset": "0", "size": "0"}
    out = Value(names[0] if names else "", dtype=et, shape=tuple(int(d) for d in arr.shape), names=names or [])
    node.append_output(out)
    set_const_value(node, arr, et)
    if index is None:
        graph.append(node)
    else:
        graph.insert(index, node)
    return node
