"""The legacy OpenVINO ``mo --input`` / ``--output`` mini-language (and what ``ovc`` kept).

Syntax and meaning follow ``docs/mo-input-syntax.md``; the grammar is ``grammars/mo_input.lark``.
This module only parses and checks what can be checked without a model. Which graph object a
location names is decided later by :func:`resolve`, given a lookup the graph code provides.

>>> [s.to_text() for s in parse_input("data[1 3 224 224]{f32},seq_len->[16]")]
['data[1,3,224,224]{f32}', 'seq_len->[16]']
"""

from __future__ import annotations

import ast
import math
import re
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Iterable, Literal, Protocol, Sequence, TypeAlias

from lark import Lark, Token, Tree
from lark.exceptions import (
    LarkError,
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
)

from modelfile._grammars import grammar_text

__all__ = [
    "DTYPES",
    "DTYPE_ALIASES",
    "Dim",
    "InputSpec",
    "MoResolveError",
    "MoSyntaxError",
    "NameLookup",
    "NameLookupProtocol",
    "OutputSpec",
    "PortRef",
    "Resolution",
    "Scalar",
    "Shape",
    "Value",
    "format_input",
    "format_output",
    "parse_input",
    "parse_input_shape",
    "parse_output",
    "port_hint",
    "resolve",
    "value_shape",
]

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
# Errors


class MoSyntaxError(ValueError):
    """A bad ``--input``/``--output`` string: ``.text``, 1-based ``.column``, ``.message``."""

    def __init__(self, message: str, text: str, column: int, option: str = "--input") -> None:
        super().__init__(message)
        self.message = message
        self.text = text
        self.column = max(1, column)
        #: the command-line option the text came from; only used in the rendered message
        self.option = option

    def __str__(self) -> str:
        # The option strings are single-line, hence the fixed line number 1.
        return f"{self.option}:1:{self.column}: {self.message}"

    def excerpt(self) -> str:
        """The text with a caret line under :attr:`column`."""
        # Tabs are kept in the pad so the caret lines up in a terminal.
        pad = "".join(ch if ch == "\t" else " " for ch in self.text[: self.column - 1])
        return f"{self.text}\n{pad}^"


class MoResolveError(MoSyntaxError):
    """A location that names nothing in the graph, or several different things.

    A subclass of :class:`MoSyntaxError` so that a CLI catching that reports every problem with
    an option string in the same one-line form.
    """

    def __init__(
        self,
        message: str,
        text: str,
        column: int = 1,
        option: str = "--input",
        candidates: tuple[Resolution, ...] = (),
    ) -> None:
        super().__init__(message, text, column, option)
        self.candidates = candidates


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


# --------------------------------------------------------------------------------------------
# Locations


_PORT_DIGITS = re.compile(r"[0-9]+")


def port_hint(location: str) -> PortRef | None:
    """The port reading of a location by the legacy frontend's rule (``split_node_in_port``):
    all-digit first ``:``-field means ``N:op``, else all-digit last field means ``op:N``.

    Only a hint: ``1:2``, ``x:0`` or an ONNX tensor literally called ``10:x`` need the graph.
    """
    parts = location.split(":")
    if len(parts) < 2:
        return None
    if _PORT_DIGITS.fullmatch(parts[0]) and ":".join(parts[1:]):
        return PortRef("in", int(parts[0]), ":".join(parts[1:]))
    if _PORT_DIGITS.fullmatch(parts[-1]) and ":".join(parts[:-1]):
        return PortRef("out", int(parts[-1]), ":".join(parts[:-1]))
    return None


class NameLookupProtocol(Protocol):
    """What :func:`resolve` needs from a graph.

    An implementation may also define ``same_data(a: Resolution, b: Resolution) -> bool``; with
    it, an output port and an input port that carry the same tensor are not a collision.
    """

    def has_tensor(self, name: str) -> bool: ...

    def has_op(self, name: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class NameLookup:
    """A :class:`NameLookupProtocol` made of plain callables."""

    has_tensor: Callable[[str], bool]
    has_op: Callable[[str], bool]
    same_data: Callable[[Resolution, Resolution], bool] | None = None

    @classmethod
    def from_names(cls, tensors: Iterable[str] = (), ops: Iterable[str] = ()) -> NameLookup:
        """A lookup over fixed sets of tensor and operation names."""
        t, o = frozenset(tensors), frozenset(ops)
        return cls(t.__contains__, o.__contains__)


@dataclass(frozen=True, slots=True)
class Resolution:
    """The chosen reading of a location: a tensor, an operation, or a port of an operation."""

    kind: Literal["tensor", "op", "in", "out"]
    name: str
    index: int | None = None

    def describe(self) -> str:
        """``tensor 'x'``, ``output port 0 of 'op'``..., for messages."""
        if self.kind == "tensor":
            return f"tensor '{self.name}'"
        if self.kind == "op":
            return f"operation '{self.name}'"
        return f"{'input' if self.kind == 'in' else 'output'} port {self.index} of '{self.name}'"


_OUT_FORM = re.compile(r"(.+):([0-9]+)")
_IN_FORM = re.compile(r"([0-9]+):(.+)")


def resolve(
    location: str | InputSpec | OutputSpec,
    lookup: NameLookupProtocol | NameLookup,
    *,
    source: str | None = None,
) -> Resolution:
    """Pick what ``location`` names in a graph, in mo/ovc order (``decode_name_with_port``):
    exact tensor name, then exact operation name, then ``op:N`` (output port) and ``N:op``
    (input port). Raises :class:`MoResolveError` when nothing matches or when both port forms
    match and point at different data.

    ``source`` is the whole option string a spec was parsed from; with it the error's column
    and excerpt point into that string, without it at the item's own text.
    """
    if isinstance(location, (InputSpec, OutputSpec)):
        name = location.location
        option = "--input" if isinstance(location, InputSpec) else "--output"
        if source is not None:
            text, column = source, location.column
        else:
            text, column = location.text or name, 1
    else:
        name, option = location, "--input"
        text, column = (source, source.find(location) + 1) if source else (location, 1)
    if name == "":
        raise MoResolveError("an unnamed shape has no name to look up; it applies by position",
                             text, column, option)
    if lookup.has_tensor(name):
        return Resolution("tensor", name)
    if lookup.has_op(name):
        return Resolution("op", name)

    found: list[Resolution] = []
    # Whole-string matches, unlike mo's re.search, so "a:1:b" is not read as port 1 of "a".
    if m := _OUT_FORM.fullmatch(name):
        if lookup.has_op(m.group(1)):
            found.append(Resolution("out", m.group(1), int(m.group(2))))
    if m := _IN_FORM.fullmatch(name):
        if lookup.has_op(m.group(2)):
            found.append(Resolution("in", m.group(2), int(m.group(1))))
    if not found:
        raise MoResolveError(f"No node with name '{name}'", text, column, option)
    if len(found) > 1:
        same = getattr(lookup, "same_data", None)
        if not (callable(same) and all(same(found[0], r) for r in found[1:])):
            listed = ", ".join(r.describe() for r in found)
            raise MoResolveError(
                f"Name collision was found, there are several nodes for mask '{name}': {listed}",
                text, column, option, tuple(found),
            )
    return found[0]


# --------------------------------------------------------------------------------------------
# Parsing


@lru_cache(maxsize=1)
def _parser() -> Lark:
    # Built on first use so importing the module stays cheap.
    return Lark(
        grammar_text("mo_input.lark"),
        parser="lalr",
        start=["input_list", "output_list"],
        propagate_positions=True,
    )


def parse_input(text: str, *, dialect: Dialect = "mo") -> list[InputSpec]:
    """Parse an ``--input`` string into specs, in order. Raises :class:`MoSyntaxError`.

    ``dialect="ovc"`` rejects freezing (``->``), which ovc dropped.
    """
    tree = _parse(text, "input_list", "--input")
    specs = [_input_item(item, text, dialect) for item in tree.children]
    named = [s for s in specs if not s.is_unnamed]
    if named and len(named) != len(specs):
        # Positional shapes only make sense when every item is positional.
        odd = next(s for s in specs if s.is_unnamed != specs[0].is_unnamed)
        raise MoSyntaxError("cannot mix named inputs and unnamed shapes; name every input or none",
                            text, odd.column)
    return specs


def parse_output(text: str) -> list[OutputSpec]:
    """Parse an ``--output`` string (names with optional ``N:op``/``op:N``). Raises
    :class:`MoSyntaxError`."""
    tree = _parse(text, "output_list", "--output")
    out = []
    for loc in tree.children:
        name = loc.children[0]
        out.append(OutputSpec(str(name), port_hint(str(name)), str(name), name.start_pos + 1))
    return out


def parse_input_shape(text: str) -> list[Shape]:
    """Parse a legacy ``--input_shape`` string (``[1,3,224,224],[1,10]``) into shapes."""
    tree = _parse(text, "input_list", "--input_shape")
    shapes = []
    for item in tree.children:
        if item.data != "unnamed_item":
            raise MoSyntaxError("--input_shape takes only shapes, e.g. [1,3,224,224],[1,10]",
                                text, item.meta.start_pos + 1, "--input_shape")
        shapes.append(_shape(item.children[0], text, "--input_shape"))
    return shapes


def _parse(text: str, start: str, option: str) -> Tree:
    try:
        return _parser().parse(text, start=start)
    except UnexpectedInput as e:
        raise _translate(e, text, start, option) from None
    except LarkError as e:  # anything else Lark raises must not reach the caller raw
        raise MoSyntaxError(f"cannot parse: {e}", text, 1, option) from None


def _input_item(item: Tree, text: str, dialect: Dialect) -> InputSpec:
    column = item.meta.start_pos + 1
    raw = text[item.meta.start_pos:item.meta.end_pos]
    if item.data == "unnamed_item":
        return InputSpec("", None, _shape(item.children[0], text), text=raw, column=column)

    loc_tok: Token = item.children[0].children[0]
    location = str(loc_tok)
    shapes = [c for c in item.children[1:] if c.data == "shape"]
    dtypes = [c for c in item.children[1:] if c.data == "dtype"]
    freezes = [c for c in item.children[1:] if c.data == "freeze"]

    if len(shapes) > 1:
        raise MoSyntaxError(f"two shapes for '{location}'; give at most one [..] or (..)",
                            text, shapes[1].meta.start_pos + 1)
    if len(dtypes) > 1:
        raise MoSyntaxError(f"two element types for '{location}'; give at most one {{..}}",
                            text, dtypes[1].meta.start_pos + 1)
    if len(freezes) > 1:
        raise MoSyntaxError(f"Wrong syntax to specify value: two '->' for '{location}'",
                            text, freezes[1].meta.start_pos + 1)
    if freezes and dialect == "ovc":
        raise MoSyntaxError("Incorrect format of input: ovc cannot freeze an input with '->'",
                            text, freezes[0].meta.start_pos + 1)

    shape = _shape(shapes[0], text) if shapes else None
    dtype = _dtype(dtypes[0], text) if dtypes else None
    value: Value | None = None
    is_list = False
    if freezes:
        value, is_list = _value(freezes[0].children[1], text)
        if shape is not None:
            _check_freeze_shape(location, shape, shapes[0], value, is_list, freezes[0], text)
    return InputSpec(location, port_hint(location), shape, dtype, value, is_list, raw, column)


def _shape(tree: Tree, text: str, option: str = "--input") -> Shape:
    dims_tree: Tree = tree.children[1]
    toks: list[Token] = list(dims_tree.children)
    _require_separators(toks, text, "dimensions", option)
    return Shape(tuple(_dim(t, text, option) for t in toks))


def _dim(tok: Token, text: str, option: str) -> Dim:
    s, col = str(tok), tok.start_pos + 1
    if s == "?" or s == "-1":
        return Dim.dynamic()
    if s.startswith("-"):
        raise MoSyntaxError(f"bad dimension '{s}': only -1 may be negative (it means dynamic)",
                            text, col, option)
    if ".." not in s:
        return Dim.static(int(s))
    lo_s, hi_s = s.split("..")
    # "..b" is documented as 0..b; "a.." has no upper bound.
    lo = int(lo_s) if lo_s else 0
    hi = int(hi_s) if hi_s else None
    if hi is not None and lo > hi:
        raise MoSyntaxError(f"empty dimension range '{s}': {lo} > {hi}", text, col, option)
    return Dim(lo, hi)


def _dtype(tree: Tree, text: str) -> str:
    tok: Token = tree.children[1]
    name = DTYPE_ALIASES.get(str(tok), str(tok))
    if name not in DTYPES:
        accepted = " ".join(DTYPES[:-2] + ("boolean/bool", "string"))
        raise MoSyntaxError(f"unknown element type '{tok}'; accepted: {accepted}",
                            text, tok.start_pos + 1)
    return name


def _value(tree: Tree, text: str) -> tuple[Value, bool]:
    if tree.data == "scalar":
        return _scalar(tree.children[0], text), False
    toks = [c.children[0] for c in tree.children if isinstance(c, Tree)]
    _require_separators(toks, text, "values", "--input")
    return tuple(_scalar(t, text) for t in toks), True


def _scalar(tok: Token, text: str) -> Scalar:
    s, col = str(tok), tok.start_pos + 1
    if tok.type == "BOOL":
        return s in ("True", "true")
    if tok.type == "STRING":
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # invalid escapes warn before they fail
                return ast.literal_eval(s)
        except (ValueError, SyntaxError) as e:
            raise MoSyntaxError(f"bad string literal {s}: {e}", text, col) from None
    if re.fullmatch(r"[+-]?[0-9]+", s):
        return int(s)
    f = float(s)
    if not math.isfinite(f):
        raise MoSyntaxError(f"number out of range: {s}", text, col)
    return f


def _require_separators(toks: Sequence[Token], text: str, what: str, option: str) -> None:
    # The grammar lets "[1-1]" or "[1?]" lex as two items; mo split on commas/spaces only.
    for a, b in zip(toks, toks[1:]):
        if a.end_pos == b.start_pos:
            raise MoSyntaxError(f"{what} must be separated by a comma or a space: "
                                f"'{a}{b}'", text, b.start_pos + 1, option)


def _check_freeze_shape(location: str, shape: Shape, shape_tree: Tree, value: Value,
                        is_list: bool, freeze_tree: Tree, text: str) -> None:
    if not shape.is_static:
        bad = next(i for i, d in enumerate(shape.dims) if not d.is_static)
        tok: Token = shape_tree.children[1].children[bad]
        raise MoSyntaxError(
            f"Cannot freeze input with dynamic shape: {shape.to_text()} (input '{location}')",
            text, tok.start_pos + 1)
    count = len(value) if is_list and isinstance(value, tuple) else 1
    if shape.num_elements != count:
        value_tree = freeze_tree.children[1]
        raise MoSyntaxError(
            f"The shape '{shape.to_text()}' of the input node '{location}' does not correspond "
            f"to the number of elements '{count}' in the value",
            text, value_tree.meta.start_pos + 1)


# --------------------------------------------------------------------------------------------
# Lark errors -> MoSyntaxError


_HUMAN = {
    "NAME": "a name", "DIM": "a dimension", "TYPE_NAME": "an element type",
    "NUMBER": "a value", "BOOL": "a value", "STRING": "a value",
    "LSQB": "'['", "RSQB": "']'", "LPAR": "'('", "RPAR": "')'", "LBRACE": "'{'",
    "RBRACE": "'}'", "ARROW": "'->'", "COMMA": "','", "$END": "end of text",
}
_OPENERS = {"[": "]", "(": ")", "{": "}"}
_WORD = re.compile(r"->|[\[\](){},]|(?:[^\s\[\](){},\-]|-(?!>))+")
_STRING = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_VALUE_START = re.compile(r"[+\-.0-9'\"]|True|False|true|false")


def _translate(e: UnexpectedInput, text: str, start: str, option: str) -> MoSyntaxError:
    if isinstance(e, UnexpectedCharacters):
        pos, expected = e.pos_in_stream, set(e.allowed or ())
    elif isinstance(e, UnexpectedToken):
        at_end = e.token.type == "$END"
        pos = len(text) if at_end else e.token.start_pos
        expected = set(e.expected or ())
    elif isinstance(e, UnexpectedEOF):
        pos, expected = len(text), set(e.expected or ())
    else:  # pragma: no cover - Lark has no other UnexpectedInput kinds today
        pos, expected = getattr(e, "pos_in_stream", 0) or 0, set()
    pos = min(max(pos or 0, 0), len(text))

    def err(msg: str, at: int = pos) -> MoSyntaxError:
        return MoSyntaxError(msg, text, at + 1, option)

    if not text.strip():
        return err(f"empty {option}", 0)
    m = _WORD.match(text, pos)
    got = m.group(0) if m else (text[pos] if pos < len(text) else "")
    unclosed, arrow_before = _scan(text, pos)
    # LALR merges states, so `expected` may list value tokens where none fits; only trust it
    # for "a value is missing" when the item really has an arrow before the error.
    wants_value = bool(expected & {"NUMBER", "BOOL", "STRING"}) and arrow_before

    if got == "":
        if unclosed is not None:
            ch, at = unclosed
            return err(f"unclosed '{ch}': missing '{_OPENERS[ch]}'", at)
        stripped = text.rstrip()
        if stripped.endswith(","):
            return err("empty item after the last ','", len(stripped) - 1)
        if stripped.endswith("->"):
            return err("missing value after '->'")
        if "TYPE_NAME" in expected:
            return err("missing element type inside '{}'")
        return err(f"unexpected end of text; expected {_expected(expected)}")
    if got in ("]", ")", "}"):
        if unclosed is None:
            return err(f"unmatched '{got}'")
        ch, at = unclosed
        if _OPENERS[ch] != got:
            return err(f"'{ch}' at column {at + 1} is closed by '{got}'; expected '{_OPENERS[ch]}'")
    if start == "output_list" and got in ("[", "(", "{", "->"):
        return err(f"--output takes names (with an optional N:op or op:N port) only, not '{got}'")
    if got == "->":
        if arrow_before:
            return err("Wrong syntax to specify value: two '->' in one item")
        return err("'->' must follow the name of an input")
    if "DIM" in expected:
        return err(f"bad dimension '{got}': expected an integer, -1, ?, a..b, ..b or a..")
    if got[0] in "'\"" and _STRING.match(text, pos) is None:
        return err("unterminated quoted string")
    if got == "[" and arrow_before and unclosed is not None and unclosed[0] == "[":
        return err("nested lists are not supported in a value")
    if got in ("[", "(", "{") and arrow_before:
        return err(f"unexpected '{got}': shape and type must come before '->'")
    if arrow_before and _VALUE_START.match(got):
        return err(f"unexpected '{got}' after the value; write a list in brackets: ->[1 2]")
    if wants_value:
        return err(f"bad value '{got}': expected a number, True/False, a quoted string or [..]")
    if "TYPE_NAME" in expected:
        return err(f"expected an element type inside '{{}}', got '{got}'")
    if got == "," and "NAME" in expected:
        return err("empty item (two commas, or a comma at the start)")
    return err(f"unexpected '{got}'; expected {_expected(expected)}")


def _expected(names: Iterable[str]) -> str:
    human = sorted({_HUMAN.get(n, n) for n in names})
    if not human:
        return "nothing"
    return ", ".join(human[:-1]) + (" or " if len(human) > 1 else "") + human[-1]


def _scan(text: str, end: int) -> tuple[tuple[str, int] | None, bool]:
    """Up to ``end``: the innermost unclosed bracket (char, 0-based position) and whether the
    current item already had a ``->``."""
    stack: list[tuple[str, int]] = []
    after_arrow = False
    i = 0
    while i < end:
        ch = text[i]
        if text.startswith("->", i):
            after_arrow = True
            i += 2
            continue
        if after_arrow and ch in "'\"":
            # Quoted strings only exist in values; skip them so "['a]']" balances.
            j = i + 1
            while j < len(text) and text[j] != ch:
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            continue
        if ch in _OPENERS:
            stack.append((ch, i))
        elif ch in ")]}" and stack:
            stack.pop()
        elif ch == "," and not stack:
            after_arrow = False
        i += 1
    return (stack[-1] if stack else None), after_arrow
