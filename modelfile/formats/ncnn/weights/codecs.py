"""Blob codecs: flag words, decoding blobs to arrays, encoding arrays to ``.bin`` bytes."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ....errors import ModelfileError

if TYPE_CHECKING:
    from .spans import Blob

__all__ = ["FLAG_FP16", "FLAG_FP32_MARKED", "FLAG_INT8", "FP16_PAD", "decode_blob", "f16_tagged", "f32_to_f16",
           "memorydata_bytes", "memorydata_dims",
           "tagged_bytes", "tagged_nbytes"]

FLAG_FP16 = 0x01306B47
FLAG_INT8 = 0x000D4B38
#: old caffe2ncnn marker "fp32, quantize at runtime": plain fp32 after the flag
FLAG_FP32_MARKED = 0x0002C056

_ERR = "NCNN-WEIGHTS"


def _align4(n: int) -> int:
    return (n + 3) & ~3


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


#: what pnnx writes after an odd number of fp16 values ("fixed value for model hash consistency")
FP16_PAD = b"\x83\x22"


def f32_to_f16(values: np.ndarray) -> np.ndarray:
    """fp32 -> fp16 bits (``<u2``) exactly as pnnx's ``fp16=1`` export converts them.

    pnnx rounds half away from zero (numpy: half to even), flushes every result
    below the smallest normal fp16 (6.1e-5) to a signed zero, even values that
    fp16 could hold as denormals, and writes NaN as ``0x7E00``. fp16 values read
    from a pnnx file convert back to themselves, so fp16 -> fp32 -> fp16 is
    byte-identical for pnnx output; denormal fp16 written by other tools become 0.
    """
    f = np.ascontiguousarray(values, dtype="<f4").reshape(-1)
    with np.errstate(over="ignore", invalid="ignore"):
        h = f.astype("<f2")
    bits = h.view("<u2")
    u = f.view("<u4")
    # numpy's half-to-even differs from pnnx only on exact ties, tiny values and NaN payloads
    fix = ((u & 0x1FFF) == 0x1000) | ((bits & 0x7C00) == 0) | ((u & 0x7F800000) == 0x7F800000)
    if fix.any():
        idx = np.flatnonzero(fix)
        bits = bits.copy()
        bits[idx] = _pnnx_f16(u[idx])
    return bits


def _pnnx_f16(u: np.ndarray) -> np.ndarray:
    sign = ((u >> 16) & 0x8000).astype(np.uint32)
    exp = (u >> 23) & 0xFF
    r = (u & 0x7FFFFFFF) + 0x1000  # round half away from zero; a carry bumps the exponent
    rexp = (r >> 23).astype(np.int64) - 112
    mant = (r >> 13) & 0x3FF
    out = np.where(rexp >= 31, 0x7C00, np.where(rexp <= 0, 0, (rexp << 10) | mant))
    out = np.where(exp == 0xFF, 0x7C00 | np.where((u & 0x7FFFFF) != 0, 0x200, 0), out)
    out = np.where(exp == 0, 0, out)
    return (out | sign).astype(np.uint16)


def f16_tagged(values: np.ndarray) -> bytes:
    """A tagged fp16 blob as pnnx writes it: flag, fp16 data, ``FP16_PAD`` after an odd count."""
    bits = f32_to_f16(values)
    pad = FP16_PAD if bits.size % 2 else b""
    return struct.pack("<I", FLAG_FP16) + bits.tobytes() + pad
