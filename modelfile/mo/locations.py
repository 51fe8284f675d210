"""Which graph object a location names (``name``, ``op:N``, ``N:op``), given the graph's names."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable, Literal, Protocol

from .errors import MoResolveError
from .spec import InputSpec, OutputSpec, PortRef

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
