"""Blob codecs: flag words, decoding blobs to arrays, encoding arrays to ``.bin`` bytes."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ....errors import ModelfileError

if TYPE_CHECKING:
    from .spans import Blob

__all__ = ["FLAG_FP16", "FLAG_FP32_MARKED", "FLAG_INT8", "FP16_PAD", "decode_blob", "f16_tagged", "f16_to_f32", "f32_to_f16",
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


_CHUNK_VALUES = 1 << 18  # values converted per step: the temporaries stay in cache


def f32_to_f16(values: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """fp32 -> fp16 bits (``<u2``) exactly as pnnx's ``fp16=1`` export converts them.

    pnnx rounds half away from zero (numpy: half to even), turns every value
    below the smallest normal fp16 (2**-14, compared before rounding) into a
    signed zero, even values fp16 could hold as denormals, overflow into
    infinity and NaN into ``0x7E00`` (``fixtures/ncnn/fp16/edges.*``). fp16 values read from a pnnx file convert back to themselves, so
    fp16 -> fp32 -> fp16 is byte-identical for pnnx output; denormal fp16
    written by other tools become 0. Integer arithmetic on the bits, in chunks;
    ``out`` (``<u2``, as many values) receives the result when given.
    """
    f = np.ascontiguousarray(values, dtype="<f4").reshape(-1)
    bits = f.view("<u4")
    if out is None:
        out = np.empty(f.size, "<u2")
    n0 = min(_CHUNK_VALUES, f.size)
    mag, res = np.empty(n0, np.uint32), np.empty(n0, np.uint32)
    for a in range(0, f.size, _CHUNK_VALUES):
        u = bits[a:a + _CHUNK_VALUES]
        m, r = mag[:u.size], res[:u.size]
        np.bitwise_and(u, 0x7FFFFFFF, out=m)
        np.add(m, 0x1000, out=r)  # round half away from zero; a carry bumps the exponent
        np.right_shift(r, 13, out=r)
        np.subtract(r, 0x1C000, out=r)  # exponent bias 127 -> 15 (too small wraps around, caught below)
        np.minimum(r, 0x7C00, out=r)  # overflow -> infinity
        r[m < 0x38800000] = 0  # below 2**-14 before rounding: pnnx writes zero (checked on a 61 MB export)
        nan = m > 0x7F800000
        if nan.any():
            r[nan] = 0x7E00
        np.right_shift(u, 16, out=m)
        np.bitwise_and(m, 0x8000, out=m)
        np.bitwise_or(r, m, out=r)
        out[a:a + u.size] = r
    return out


def f16_to_f32(bits: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """fp16 (as ``<f2`` or ``<u2``) -> fp32, exactly (numpy's widening, F16C where the CPU has it).

    ``out`` (``<f4``, as many values) receives the result when given.
    """
    half = np.asarray(bits).view("<f2")
    if out is None:
        return half.astype("<f4")
    np.copyto(out, half)
    return out


def f16_tagged(values: np.ndarray) -> bytes:
    """A tagged fp16 blob as pnnx writes it: flag, fp16 data, ``FP16_PAD`` after an odd count."""
    bits = f32_to_f16(values)
    pad = FP16_PAD if bits.size % 2 else b""
    return struct.pack("<I", FLAG_FP16) + bits.tobytes() + pad
