"""Resolve mo-style locations (``name``, ``op:N``, ``N:op``) to places in a graph."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ModelfileError
from ..graph import Graph, Node, Value
from ..mo_input import MoSyntaxError, NameLookup, Resolution, resolve
from ..formats.openvino.keys import IR_VERSION

__all__ = ["Place", "locate", "values_named"]


@dataclass(frozen=True, slots=True)
class Place:
    """A tensor (``value``) or one input port of a node (``node``/``port``)."""

    value: Value | None = None
    node: Node | None = None
    port: int = -1
    label: str = ""

    @property
    def is_port(self) -> bool:
        return self.node is not None and self.port >= 0


def _implied(graph: Graph) -> dict[int, list[str]]:
    """Names OpenVINO gives v10 inputs/outputs from their layers (none for other formats and v11)."""
    if graph.meta.get(IR_VERSION) != 10:
        return {}
    from ..formats.openvino.ionames import implied_names

    return implied_names(graph)


def values_named(graph: Graph, name: str) -> list[Value]:
    """Values with this primary or tensor name (distinct objects, graph order).

    For a v10 IR the names read_model gives inputs and outputs (the Parameter's layer name, the
    producing layer's name for a Result) count as tensor names.
    """
    out: list[Value] = []
    seen: set[int] = set()
    implied = _implied(graph)
    for v in graph.values():
        if (v.name == name or name in v.names or name in implied.get(id(v), ())) and id(v) not in seen:
            seen.add(id(v))
            out.append(v)
    return out


def _lookup(graph: Graph) -> NameLookup:
    tensors: set[str] = set()
    for v in graph.values():
        if v.name:
            tensors.add(v.name)
        tensors.update(v.names)
    for names in _implied(graph).values():
        tensors.update(names)
    ops = {n.name for n in graph.nodes}
    return NameLookup.from_names(tensors, ops)


def locate(graph: Graph, location: str, *, option: str = "--input", source: str | None = None,
           input_ops: frozenset[str] = frozenset({"Input", "Parameter"})) -> list[Place]:
    """Places a location names, following mo: tensor name, op name, then ``op:N`` / ``N:op``.

    An op name means its output for an op with one output, and for an input
    op (``Parameter``/``Input``) its value; for other ops under ``--input`` it
    means each of its input ports.
    """
    try:
        r: Resolution = resolve(location, _lookup(graph), source=source)
    except MoSyntaxError as e:
        raise ModelfileError(str(e.message), code="MO-RESOLVE", file=option, line=1, column=e.column,
                             source_line=e.text) from None
    if r.kind == "tensor":
        vals = values_named(graph, r.name)
        if len(vals) > 1:
            raise ModelfileError(f"{location!r} names {len(vals)} different tensors; use op:N to choose",
                                 code="MO-RESOLVE")
        return [Place(value=vals[0], label=location)]
    nodes = [n for n in graph.nodes if n.name == r.name]
    if len(nodes) > 1:
        raise ModelfileError(f"{len(nodes)} layers are named {r.name!r}; the location is ambiguous",
                             code="MO-RESOLVE")
    node = nodes[0]
    if r.kind == "out":
        assert r.index is not None
        if r.index >= len(node.outputs):
            raise ModelfileError(f"{r.name!r} has {len(node.outputs)} output(s); no output port {r.index}",
                                 code="MO-RESOLVE")
        return [Place(value=node.outputs[r.index], label=location)]
    if r.kind == "in":
        assert r.index is not None
        if r.index >= len(node.inputs):
            raise ModelfileError(f"{r.name!r} has {len(node.inputs)} input(s); no input port {r.index}",
                                 code="MO-RESOLVE")
        return [Place(node=node, port=r.index, label=location)]
    # an op name
    if node.op_type in input_ops or option == "--output" or not node.inputs:
        if len(node.outputs) != 1:
            raise ModelfileError(f"{r.name!r} has {len(node.outputs)} outputs; say which with {r.name}:N",
                                 code="MO-RESOLVE")
        return [Place(value=node.outputs[0], label=location)]
    ports = [Place(node=node, port=i, label=f"{i}:{r.name}") for i, v in enumerate(node.inputs)
             if v is not None and (v.producer is None or v.producer.op_type not in ("Const", "MemoryData"))]
    return ports
