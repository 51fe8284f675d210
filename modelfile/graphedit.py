"""Format-neutral helpers for editing a graph in place: positions, order, the model a node belongs to.

Used by the public API (:mod:`modelfile.api`) and by the format adapters that build layers
(``modelfile/formats/<name>/view.py``); nothing here knows a file format.
"""

from __future__ import annotations

import heapq
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from .errors import ModelfileError
from .graph import MODEL_REF, Graph, Node, Value

if TYPE_CHECKING:
    from .model import Model

__all__ = [
    "AttrAccess", "anchor", "contains", "drop_io", "ensure_order", "graph_of", "index_of", "model_of",
    "node_error", "place_after", "pull_constants", "swap_io", "top_graph",
]

#: producers of data only their reader uses (moved next to that reader)
CONSTANT_TYPES = ("Const", "MemoryData")


def top_graph(graph: Graph) -> Graph:
    """The outermost graph (bodies of control-flow ops hang below their node's graph)."""
    while graph.parent is not None and graph.parent.graph is not None:
        graph = graph.parent.graph
    return graph


def model_of(node: Node) -> "Model | None":
    """The model ``node`` belongs to (``Model`` leaves a weak reference in its graph's ``meta``)."""
    g = node.graph
    if g is None:
        return None
    ref: Callable[[], Model | None] | None = top_graph(g).meta.get(MODEL_REF)
    return ref() if ref is not None else None


def attach(model: "Model") -> None:
    """Let the nodes of ``model.graph`` find ``model`` (for graphs given a model after reading)."""
    model.graph.meta[MODEL_REF] = weakref.ref(model)


def node_error(node: Node, message: str, hint: str = "") -> ModelfileError:
    """A :class:`ModelfileError` naming the node, positioned where it was read when known."""
    pos = node.pos
    return ModelfileError(f"layer {node.name!r} ({node.op_type}): {message}", file=pos.file if pos is not None else "",
                          line=pos.line if pos is not None else 0, hint=hint)


class AttrAccess:
    """``view.name`` for ``view["name"]`` on a mapping view (names that are not identifiers need ``[]``)."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self[name]  # type: ignore[index]
        except KeyError as e:
            raise AttributeError(str(e.args[0]) if e.args else name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
            return
        try:
            self[name] = value  # type: ignore[index]
        except KeyError as e:
            raise AttributeError(str(e.args[0]) if e.args else name) from None

    def __delattr__(self, name: str) -> None:
        del self[name]  # type: ignore[attr-defined]


# -- positions in the node list -------------------------------------------------------------------

def index_of(graph: Graph, node: Node) -> int:
    try:
        return graph.nodes.index(node)
    except ValueError:
        raise node_error(node, "is not in the graph") from None


def contains(graph: Graph, node: Node) -> bool:
    return node in graph.nodes


def place_after(graph: Graph, node: Node, anchors: Sequence[Node | None]) -> None:
    """Put ``node`` right after the last of ``anchors`` (none in the graph: after the leading inputs)."""
    if contains(graph, node):
        return
    idx = {n: i for i, n in enumerate(graph)}
    at = max((idx[a] for a in anchors if a is not None and a in idx), default=-1)
    if at < 0:
        for i, n in enumerate(graph):
            if n.inputs:
                break
            if n.op_type not in CONSTANT_TYPES:
                at = i  # an input layer (ncnn Input, IR Parameter)
    graph.insert(at + 1, node)


def anchor(v: Value | None) -> Node | None:
    """The producer that decides where a reader of ``v`` goes (a constant only it reads moves instead)."""
    p = v.producer if v is not None else None
    if p is not None and v is not None and p.op_type in CONSTANT_TYPES and len(v.uses) == 1:
        return None
    return p


def pull_constants(graph: Graph, node: Node) -> None:
    """Move the constants only ``node`` reads to just before it (file order = reading order)."""
    for v in node.inputs:
        p = v.producer if v is not None else None
        if p is None or v is None or p.op_type not in CONSTANT_TYPES or p.inputs or len(v.uses) != 1:
            continue
        if index_of(graph, p) < index_of(graph, node):
            continue
        graph.nodes.discard_many([p])  # a move: its tensors stay wired
        graph.insert_before(node, p)


def _topological(graph: Graph) -> list[Node]:
    """Producers first, otherwise the file's order (a stable Kahn walk)."""
    pos = {n: i for i, n in enumerate(graph)}
    indeg: dict[Node, int] = {}
    readers: dict[Node, list[Node]] = {}
    for n in graph:
        deps = {v.producer for v in n.inputs if v is not None and v.producer in pos and v.producer is not n}
        indeg[n] = len(deps)
        for d in deps:
            readers.setdefault(d, []).append(n)  # type: ignore[arg-type]
    ready = [(pos[n], n) for n in graph if indeg[n] == 0]
    heapq.heapify(ready)
    out: list[Node] = []
    while ready:
        _, n = heapq.heappop(ready)
        out.append(n)
        for r in readers.get(n, ()):
            indeg[r] -= 1
            if indeg[r] == 0:
                heapq.heappush(ready, (pos[r], r))
    placed = set(out)
    return out + [n for n in graph if n not in placed]  # a cycle keeps the rest in file order


def ensure_order(graph: Graph, node: Node) -> None:
    """Keep producers before readers around ``node`` (ncnn resolves a bottom only if it was already made)."""
    idx = {n: i for i, n in enumerate(graph)}
    at = idx.get(node)
    if at is None:
        return
    early = any(v is not None and v.producer is not None and idx.get(v.producer, -1) > at for v in node.inputs)
    late = any(idx.get(u.node, at + 1) < at for v in node.outputs for u in v.uses)
    if early or late:
        graph.nodes.replace_all(_topological(graph))


def downstream(value: Value, stop: Node) -> set[Node]:
    """The nodes computed from ``value`` (not walking through ``stop``)."""
    seen: set[Node] = set()
    todo = [u.node for u in value.uses]
    while todo:
        n = todo.pop()
        if n is stop or n in seen:
            continue
        seen.add(n)
        todo.extend(u.node for v in n.outputs for u in v.uses)
    return seen


def graph_of(value: Value) -> Graph:
    p = value.producer
    if p is not None and p.graph is not None:
        return p.graph
    for u in value.uses:
        if u.node.graph is not None:
            return u.node.graph
    raise ModelfileError(f"tensor {value.name!r} is not part of a graph")


# -- the graph's input/output lists (edited in place: they are the graph's own) ----------------------

def swap_io(values: list[Value], old: Value, new: Value) -> None:
    for k, v in enumerate(values):
        if v is old:
            values[k] = new


def drop_io(values: list[Value], drop: Callable[[Value], bool]) -> None:
    for k in reversed(range(len(values))):
        if drop(values[k]):
            del values[k]


def walk(graph: Graph) -> Iterator[Node]:
    """Every node, bodies of control-flow ops included."""
    for n in graph:
        yield n
        for body in (n._subgraphs or {}).values():
            yield from walk(body)
