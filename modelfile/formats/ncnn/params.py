"""ncnn layer parameters: typed values that keep their original spelling.

ncnn types a value by how it is written (``1`` int, ``1.0`` float, ``abc``
string, ``1,2`` array) and never converts on read, so ``1`` and ``1.0`` are
different values. A :class:`Param` keeps the exact text it was read from and
decodes it on demand; new params are rendered in the file's float style by the
writer.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = [
    "ARRAY_KEY_BASE", "MAX_PARAM_ID", "Param", "classify_chunk", "format_float", "is_float_text",
]

#: Keys ``<= -23300`` are old-style arrays of id ``-key - 23300``.
ARRAY_KEY_BASE = -23300
#: NCNN_MAX_PARAM_COUNT: ids are 0..31 (30 and 31 are reserved for the Net).
MAX_PARAM_ID = 32

_FLOAT_MARKS = frozenset(".eE")


def is_float_text(chunk: str) -> bool:
    """ncnn's ``vstr_is_float``: a chunk with ``.``, ``e`` or ``E`` is a float."""
    return not _FLOAT_MARKS.isdisjoint(chunk)


def classify_chunk(chunk: str) -> str:
    """``int``, ``float`` or ``string`` for one value chunk, by ncnn's rules."""
    if not chunk:
        return "int"
    c = chunk[0]
    if c.isalpha() or c == '"':
        return "string"
    return "float" if is_float_text(chunk) else "int"


def _parse_int(chunk: str) -> int:
    # sscanf("%d") accepts a sign and ignores trailing junk; we are stricter and
    # let the linter report junk, but still decode the leading integer.
    i = 0
    if chunk[:1] in "+-":
        i = 1
    j = i
    while j < len(chunk) and chunk[j].isdigit():
        j += 1
    if j == i:
        raise ValueError(f"not an integer: {chunk!r}")
    return int(chunk[:j])


def _parse_float(chunk: str) -> float:
    try:
        return float(chunk)
    except ValueError:
        raise ValueError(f"not a number: {chunk!r}") from None


def format_float(x: float, style: str = "e") -> str:
    """Spell a float the way a writer of ``style`` would.

    ``e``: ``%e`` (ncnnoptimize, pnnx < 2025-09: ``1.000000e-05``);
    ``e-short``: pnnx >= 2026-05 normalised exponent (``1.000000e-5``);
    ``f``: ``%f`` (old caffe2ncnn); ``g``: shortest round-trip text with a ``.``.
    """
    if math.isnan(x) or math.isinf(x):
        raise ValueError("ncnn cannot read inf or nan")
    if style == "f":
        return f"{x:f}"
    if style == "g":
        import numpy as np

        text = np.format_float_positional(np.float32(x), trim="-") if x != 0 else "0"
        if "e" not in text and "." not in text:
            text += ".0"
        if len(text) > 15:
            text = f"{x:e}"
        return text
    text = f"{x:e}"
    if style == "e-short":
        mant, _, exp = text.partition("e")
        sign = "-" if exp.startswith("-") else ""
        text = f"{mant}e{sign}{int(exp.lstrip('+-'))}"
    return text


class Param:
    """One ``key=value`` of a layer, immutable.

    ``id`` is the parameter id (0..31 in valid files); ``array_style`` is
    ``"old"`` for ``-233xx=n,...``, ``"new"`` for ``k=a,b`` and ``None`` for
    scalars and strings. ``text`` is the value exactly as written (``None``
    for a param created in code: the writer spells it in the file's style).
    """

    __slots__ = ("id", "array_style", "text", "_value", "_kind")

    def __init__(self, id: int, text: str | None, array_style: str | None = None,
                 value: Any = None, kind: str | None = None) -> None:
        self.id = id
        self.array_style = array_style
        self.text = text
        self._value = value
        self._kind = kind

    # -- construction ----------------------------------------------------
    @classmethod
    def parse(cls, key_text: str, value_text: str) -> "Param":
        """A param from the two halves of ``key=value`` as written."""
        key = int(key_text)
        if key <= ARRAY_KEY_BASE:
            return cls(-key + ARRAY_KEY_BASE, value_text, "old")
        if "," in value_text:
            c = value_text[:1]
            if c != '"' and not c.isalpha():
                return cls(key, value_text, "new")
        return cls(key, value_text)

    @classmethod
    def of(cls, id: int, value: Any, *, array_style: str = "old") -> "Param":
        """A new param from a Python value: int, float, str, or a list of int/float."""
        if isinstance(value, bool):
            value = int(value)
        if isinstance(value, (list, tuple)):
            items = list(value)
            kind = "float_array" if any(isinstance(v, float) for v in items) else "int_array"
            if kind == "float_array":
                items = [float(v) for v in items]
            return cls(id, None, array_style, items, kind)
        if isinstance(value, int):
            return cls(id, None, None, value, "int")
        if isinstance(value, float):
            return cls(id, None, None, value, "float")
        if isinstance(value, str):
            return cls(id, None, None, value, "string")
        raise TypeError(f"unsupported param value {value!r}")

    # -- decoding --------------------------------------------------------
    @property
    def key_text(self) -> str:
        """The key as it appears in the file (``-23310`` for an old-style array of id 10)."""
        return str(ARRAY_KEY_BASE - self.id) if self.array_style == "old" else str(self.id)

    @property
    def kind(self) -> str:
        """``int``, ``float``, ``string``, ``int_array`` or ``float_array``."""
        if self._kind is None:
            self._decode()
        assert self._kind is not None
        return self._kind

    @property
    def value(self) -> Any:
        """The decoded value: int, float, str or list (raises ValueError on bad text)."""
        if self._kind is None:
            self._decode()
        return self._value

    def _decode(self) -> None:
        text = self.text or ""
        if self.array_style == "old":
            parts = text.split(",")
            n = _parse_int(parts[0])
            elems = parts[1:]
            if len(elems) != n:
                raise ValueError(f"array length prefix {n} but {len(elems)} values")
            # ncnn types each element by its own spelling; the array's type is the last one's.
            vals = [(_parse_float(e) if is_float_text(e) else _parse_int(e)) for e in elems]
            kind = "float_array" if elems and is_float_text(elems[-1]) else "int_array"
            self._value, self._kind = vals, kind
            return
        if text.startswith('"'):
            self._value, self._kind = text[1:-1] if text.endswith('"') and len(text) > 1 else text[1:], "string"
            return
        if text[:1].isalpha():
            self._value, self._kind = text, "string"
            return
        if self.array_style == "new":
            elems = [e for e in text.split(",")]
            if elems and elems[-1] == "":
                elems.pop()  # a trailing comma is allowed
            first_float = is_float_text(elems[0])
            # the first element decides the type of all of them
            vals = [(_parse_float(e) if first_float else _parse_int(e)) for e in elems]
            self._value, self._kind = vals, ("float_array" if first_float else "int_array")
            return
        if is_float_text(text):
            self._value, self._kind = _parse_float(text), "float"
        else:
            self._value, self._kind = _parse_int(text), "int"

    def render_value(self, float_style: str = "e") -> str:
        """Value text: the original spelling, or a fresh one in ``float_style``."""
        if self.text is not None:
            return self.text
        kind, v = self.kind, self.value
        if kind == "int":
            return str(v)
        if kind == "float":
            return format_float(v, float_style)
        if kind == "string":
            needs_quotes = not (v[:1].isalpha() and all(c.isalnum() or c == "_" for c in v))
            return f'"{v}"' if needs_quotes else v
        fmt = (lambda x: format_float(x, float_style)) if kind == "float_array" else str
        body = ",".join(fmt(x) for x in v)
        if self.array_style == "old":
            return f"{len(v)},{body}" if v else "0"
        return body if len(v) > 1 else body + ","

    def render(self, float_style: str = "e") -> str:
        """``key=value`` as it goes into the file."""
        return f"{self.key_text}={self.render_value(float_style)}"

    # -- identity --------------------------------------------------------
    def _key(self) -> tuple[Any, ...]:
        if self.text is not None:
            return (self.id, self.array_style, self.text)
        return (self.id, self.array_style, self.kind, repr(self.value))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Param):
            return NotImplemented
        if self.text is not None and other.text is not None:
            return self.id == other.id and self.array_style == other.array_style and self.text == other.text
        try:
            return (self.id, self.kind, self.value) == (other.id, other.kind, other.value)
        except ValueError:
            return False

    def __hash__(self) -> int:
        return hash((self.id, self.array_style))

    def __repr__(self) -> str:
        return f"Param({self.render()!r})"
