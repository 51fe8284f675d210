"""Small codecs of the IR text: tensor-name lists, partial shapes, element types.

Everything here is pure string work shared by the reader, the writer and the
weights module. The rules follow the OpenVINO IR frontend (see
``docs/openvino-ir.md`` §2.3, §3, §4).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "BITS", "ELEMENT_TYPES", "Dim", "Shape", "element_type_of_precision", "format_dims",
    "format_names", "format_shape", "parse_names", "parse_shape", "precision_of_element_type",
]

#: a dimension: an int (``-1`` = dynamic) or an inclusive ``(min, max)`` range (``max == -1``: unbounded)
Dim = Any
#: a partial shape: a tuple of dims, or ``None`` for a dynamic rank
Shape = Any

# ---------------------------------------------------------------------------------------------
# tensor names: "a,b" with "\," for a comma inside a name
# ---------------------------------------------------------------------------------------------


def parse_names(text: str) -> list[str]:
    """Split a port ``names`` attribute into names (``\\,`` is a comma inside a name).

    Like the 2025 reader, items are trimmed and empty items are dropped.
    """
    if "\\" not in text:
        return [s for s in (p.strip() for p in text.split(",")) if s]
    out: list[str] = []
    cur = ""
    for part in text.split(","):
        if part.endswith("\\"):
            # an escaped comma: keep collecting (the reader drops the backslash)
            cur += part[:-1] + ","
            continue
        cur += part
        cur = cur.strip()
        if cur:
            out.append(cur)
        cur = ""
    if cur.strip():
        out.append(cur.strip().rstrip(","))
    return out


def format_names(names: list[str] | tuple[str, ...]) -> str:
    """Join names for a ``names`` attribute, escaping commas as ``\\,``."""
    return ",".join(n.replace(",", "\\,") for n in names)


# ---------------------------------------------------------------------------------------------
# partial shapes: "1,3,?,?", "1..10,3", "..5", "2..", "-1", "" (scalar), "..." (dynamic rank)
# ---------------------------------------------------------------------------------------------


def _parse_dim(s: str) -> Dim:
    s = s.strip()
    if s in ("?", "-1"):
        return -1
    if ".." in s:
        lo, _, hi = s.partition("..")
        lo_v = int(lo) if lo.strip() else 0
        hi_v = int(hi) if hi.strip() else -1
        return (lo_v, hi_v)
    return int(s)


def parse_shape(text: str) -> Shape:
    """Parse a partial-shape attribute (``shape``, ``variable_shape``).

    Returns a tuple of dims (ints, ``-1`` for dynamic, ``(min, max)`` for a
    range) or ``None`` for a dynamic rank (``"..."``). Raises ``ValueError``.
    """
    s = text.strip()
    if s.startswith("[") and s.endswith("]"):
        s = s[1:-1].strip()
    if s == "...":
        return None
    if not s:
        return ()
    return tuple(_parse_dim(p) for p in s.split(","))


def _format_dim(d: Dim) -> str:
    if isinstance(d, tuple):
        lo, hi = d
        return f"{lo if lo else ''}..{hi if hi != -1 else ''}" if (lo or hi != -1) else "?"
    return "?" if d == -1 else str(int(d))


def format_shape(shape: Shape, sep: str = ",") -> str:
    """Render a partial shape the way the 2025 serializer does (``1,?,3``, ``1..10``, ``...``)."""
    if shape is None:
        return "..."
    return sep.join(_format_dim(d) for d in shape)


def format_dims(shape: Shape) -> list[str]:
    """The ``<dim>`` texts of a port: ``-1`` for every dynamic or bounded dim; none for dynamic rank."""
    if shape is None:
        return []
    return ["-1" if isinstance(d, tuple) else str(int(d)) for d in shape]


# ---------------------------------------------------------------------------------------------
# element types
# ---------------------------------------------------------------------------------------------

#: bits per element of each ``element_type`` name (``string`` and ``dynamic`` have none)
BITS: dict[str, int] = {
    "f64": 64, "f32": 32, "f16": 16, "bf16": 16,
    "f8e4m3": 8, "f8e5m2": 8, "f8e8m0": 8, "f4e2m1": 4,
    "i64": 64, "i32": 32, "i16": 16, "i8": 8, "i4": 4,
    "u64": 64, "u32": 32, "u16": 16, "u8": 8, "u6": 6, "u4": 4, "u3": 3, "u2": 2, "u1": 1,
    "nf4": 4, "boolean": 8,
}
ELEMENT_TYPES: frozenset[str] = frozenset(BITS) | {"string", "dynamic", "undefined"}

_PREC_TO_ET = {
    "FP64": "f64", "FP32": "f32", "FP16": "f16", "BF16": "bf16", "BIN": "u1", "BOOL": "boolean",
    "STRING": "string", "UNSPECIFIED": "dynamic", "DYNAMIC": "dynamic", "UNDEFINED": "undefined",
    "BOOLEAN": "boolean",
}
_ET_TO_PREC = {
    "f64": "FP64", "f32": "FP32", "f16": "FP16", "bf16": "BF16", "u1": "BIN", "boolean": "BOOL",
    "string": "STRING", "dynamic": "UNSPECIFIED", "undefined": "UNSPECIFIED",
}


def element_type_of_precision(precision: str) -> str:
    """``FP32`` -> ``f32``, ``BIN`` -> ``u1``, ``BOOL`` -> ``boolean``; other names are lowercased."""
    et = _PREC_TO_ET.get(precision)
    if et is None:
        et = _PREC_TO_ET.get(precision.upper()) or precision.lower()
    return et


def precision_of_element_type(element_type: str | None) -> str:
    """The port ``precision`` spelling of an element type (``f32`` -> ``FP32``)."""
    if not element_type:
        return "UNSPECIFIED"
    return _ET_TO_PREC.get(element_type) or element_type.upper()
