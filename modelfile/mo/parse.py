"""Parsing ``--input``/``--output`` text with the Lark grammar ``grammars/mo_input.lark``."""

from __future__ import annotations

import ast
import math
import re
import warnings
from functools import lru_cache
from typing import Sequence

from lark import Lark, Token, Tree
from lark.exceptions import (
    LarkError,
    UnexpectedInput,
)

from .._grammars import grammar_text
from .diagnose import _translate
from .errors import MoSyntaxError
from .locations import port_hint
from .spec import (
    DTYPE_ALIASES,
    DTYPES,
    Dialect,
    Dim,
    InputSpec,
    OutputSpec,
    Scalar,
    Shape,
    Value,
)

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
