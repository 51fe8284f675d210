"""What ``--input``/``--output`` items mean: dims, shapes, ports, input and output specs."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable, Literal, TypeAlias

Scalar: TypeAlias = int | float | bool | str
Value: TypeAlias = Scalar | tuple[Scalar, ...]
Dialect: TypeAlias = Literal["mo", "ovc"]

#: Element type names accepted inside ``{...}`` (OpenVINO spellings).
DTYPES: tuple[str, ...] = (
    "f64", "f32", "f16", "bf16", "i64", "i32", "i16", "i8",
    "u64", "u32", "u16", "u8", "boolean", "string",
)
#: Alternative spellings, mapped to the name stored in :attr:`InputSpec.dtype`.
DTYPE_ALIASES: dict[str, str] = {"bool": "boolean"}


# --------------------------------------------------------------------------------------------
# Data model


@dataclass(frozen=True, slots=True)
class Dim:
    """One dimension: static when ``min == max``, fully dynamic (``?``/``-1``) when both are None,
    otherwise an interval; ``max=None`` means no upper bound (``a..``)."""

    min: int | None
    max: int | None

    def __post_init__(self) -> None:
        if self.min is None and self.max is not None:
            raise ValueError("Dim: a bounded max needs a min (use 0 for '..b')")
        if self.min is not None and self.min < 0 or self.max is not None and self.max < 0:
            raise ValueError(f"Dim: bounds must be >= 0, got {self.min}..{self.max}")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"Dim: empty interval {self.min}..{self.max}")

    @classmethod
    def static(cls, n: int) -> Dim:
        """A dimension of exactly ``n``."""
        return cls(n, n)

    @classmethod
    def dynamic(cls) -> Dim:
        """A fully dynamic dimension (``?``)."""
        return cls(None, None)

    @property
    def is_static(self) -> bool:
        """True for an exact size (``min == max``)."""
        return self.min is not None and self.min == self.max

    def to_text(self) -> str:
        """Canonical spelling: ``3``, ``?``, ``1..3``, ``1..``."""
        if self.min is None:
            return "?"
        if self.min == self.max:
            return str(self.min)
        return f"{self.min}..{'' if self.max is None else self.max}"


@dataclass(frozen=True, slots=True)
class Shape:
    """A partial shape; rank 0 (``dims == ()``) is a scalar.

    No ``__len__`` on purpose: a scalar shape must not be falsy, since ``None`` is what means
    "no shape given".
    """

    dims: tuple[Dim, ...]

    @classmethod
    def of(cls, *dims: int | None | Dim) -> Shape:
        """``Shape.of(1, None, 3)``: ints are static dims, None is ``?``."""
        return cls(tuple(
            d if isinstance(d, Dim) else Dim.dynamic() if d is None else Dim.static(d) for d in dims
        ))

    @property
    def rank(self) -> int:
        """Number of dims; 0 for a scalar."""
        return len(self.dims)

    @property
    def is_static(self) -> bool:
        """True when every dim is static (a scalar is static)."""
        return all(d.is_static for d in self.dims)

    @property
    def num_elements(self) -> int | None:
        """Product of the dims (1 for a scalar), None if any dim is not static."""
        if not self.is_static:
            return None
        return math.prod(d.min for d in self.dims)  # type: ignore[misc]

    def to_text(self) -> str:
        """Canonical spelling: ``[1,3,?]``; ``[]`` for a scalar."""
        return "[" + ",".join(d.to_text() for d in self.dims) + "]"


@dataclass(frozen=True, slots=True)
class PortRef:
    """What a ``N:op`` / ``op:N`` location would mean if it is not a plain name."""

    kind: Literal["in", "out"]
    index: int
    op: str

    def describe(self) -> str:
        """``input port 0 of 'op'``, for messages."""
        return f"{'input' if self.kind == 'in' else 'output'} port {self.index} of '{self.op}'"


@dataclass(frozen=True, slots=True)
class InputSpec:
    """One ``--input`` item. ``location == ""`` for an unnamed (positional, ovc) shape.

    ``port`` is only a hint read from the text (see :func:`port_hint`); use :func:`resolve`.
    ``value`` is None unless the item is frozen with ``->``; a bracketed value is a tuple and
    sets ``value_is_list``. ``text`` and ``column`` record where the item came from and are left
    out of ``==`` so that specs compare by meaning.
    """

    location: str
    port: PortRef | None = None
    shape: Shape | None = None
    dtype: str | None = None
    value: Value | None = None
    value_is_list: bool = False
    text: str = field(default="", compare=False)
    column: int = field(default=1, compare=False)

    @property
    def is_frozen(self) -> bool:
        """True when the item has ``->value``."""
        return self.value is not None

    @property
    def is_unnamed(self) -> bool:
        """True for a positional shape (ovc ``[1,100],[1,?]``)."""
        return self.location == ""

    def to_text(self) -> str:
        """Canonical mo syntax for this item, e.g. ``a:1[2]{i32}->[20,15]``."""
        out = [self.location]
        if self.shape is not None:
            out.append(self.shape.to_text())
        if self.dtype is not None:
            out.append("{" + self.dtype + "}")
        if self.value is not None:
            if self.value_is_list:
                items = self.value if isinstance(self.value, tuple) else (self.value,)
                out.append("->[" + ",".join(_format_scalar(v) for v in items) + "]")
            else:
                out.append("->" + _format_scalar(self.value))  # type: ignore[arg-type]
        return "".join(out)


@dataclass(frozen=True, slots=True)
class OutputSpec:
    """One ``--output`` item; ``port`` is a hint as in :class:`InputSpec`."""

    location: str
    port: PortRef | None = None
    text: str = field(default="", compare=False)
    column: int = field(default=1, compare=False)

    def to_text(self) -> str:
        """The location, as written in ``--output``."""
        return self.location


def format_input(specs: Iterable[InputSpec]) -> str:
    """Render specs as one canonical ``--input`` string (inverse of :func:`parse_input`)."""
    return ",".join(s.to_text() for s in specs)


def format_output(specs: Iterable[OutputSpec]) -> str:
    """Render specs as one ``--output`` string."""
    return ",".join(s.to_text() for s in specs)


def value_shape(spec: InputSpec) -> Shape | None:
    """Shape implied by the frozen value alone: ``[]`` for a bare literal, ``[n]`` for a
    bracketed list of n items; None when the item is not frozen.

    The graph code uses it only as the last resort (after the given shape and the input's
    original static shape), as mo did.
    """
    if spec.value is None:
        return None
    if spec.value_is_list:
        n = len(spec.value) if isinstance(spec.value, tuple) else 1
        return Shape.of(n)
    return Shape(())


def _format_scalar(v: Scalar) -> str:
    if isinstance(v, bool):
        return "True" if v else "False"
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"cannot write non-finite value {v!r} in mo syntax")
        return repr(v)
    if isinstance(v, str):
        return repr(v)
    return str(v)
