"""Format-neutral graph AST: :class:`Graph`, :class:`Node`, :class:`Value`.

A :class:`Value` is a tensor (an ncnn blob, an OpenVINO output port). It has at
most one producer (``None`` for graph inputs fed from outside and for ncnn
bottoms nothing produces) and an ordered list of uses ``(node, input_index)``.
Names are plain attributes: renaming a value never changes identity, and two
values may share a name (the writer and the linter decide what that means).

Format readers attach what they need to write a file back unchanged through
``Node.source`` / ``Value.source`` / ``Graph.source`` (opaque to the AST) and
``Node.meta`` / ``Value.meta`` / ``Graph.meta`` (plain dicts). Nothing here
knows any file format.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

__all__ = ["Graph", "Node", "SourcePos", "Usage", "Value", "fresh_name"]


def fresh_name(base: str, taken: set[str]) -> str:
    """``base``, or ``base_1``, ``base_2``... whichever is not in ``taken`` (which it is added to)."""
    name, k = base, 0
    while name in taken:
        k += 1
        name = f"{base}_{k}"
    taken.add(name)
    return name


@dataclass(frozen=True, slots=True)
class SourcePos:
    """Where something was read: 1-based line and column (``file`` may be empty)."""

    file: str = ""
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class Usage(NamedTuple):
    """One use of a value: ``node.inputs[index] is value``."""

    node: "Node"
    index: int


class Value:
    """A tensor: one producer, an ordered list of uses, a mutable name."""

    __slots__ = ("name", "_producer", "_index", "_uses", "dtype", "shape", "names", "meta", "source")

    def __init__(
        self,
        name: str = "",
        *,
        dtype: str | None = None,
        shape: tuple[Any, ...] | None = None,
        names: Iterable[str] | None = None,
    ) -> None:
        self.name = name
        self._producer: Node | None = None
        self._index = -1
        self._uses: list[Usage] = []
        #: element type as a lowercase OpenVINO-style name (``f32``, ``i64``) when known.
        self.dtype = dtype
        #: shape as a tuple of ints / ``-1`` / ``(min, max)`` ranges; ``None`` = unknown rank.
        self.shape = shape
        #: extra tensor names (OpenVINO ports carry a set); ``name`` is the primary one.
        self.names: list[str] = list(names) if names is not None else []
        self.meta: dict[str, Any] = {}
        self.source: Any = None

    # -- producer / uses -------------------------------------------------
    @property
    def producer(self) -> Node | None:
        """The node whose output this is, or ``None``."""
        return self._producer

    @property
    def index(self) -> int:
        """Output index in the producer (``-1`` without producer)."""
        return self._index

    @property
    def uses(self) -> tuple[Usage, ...]:
        """``(node, input_index)`` pairs in the order they were connected."""
        return tuple(self._uses)

    def consumers(self) -> list[Node]:
        """Distinct nodes using this value, in use order."""
        seen: dict[int, Node] = {}
        for u in self._uses:
            seen.setdefault(id(u.node), u.node)
        return list(seen.values())

    def replace_all_uses_with(self, other: Value) -> int:
        """Point every use of this value at ``other``; return how many were moved."""
        moved = 0
        for node, idx in list(self._uses):
            node.set_input(idx, other)
            moved += 1
        return moved

    def __repr__(self) -> str:
        prod = self._producer.name if self._producer is not None else None
        return f"Value({self.name!r}, producer={prod!r}, uses={len(self._uses)})"


class Node:
    """An operation: type, name, ordered inputs/outputs, typed attributes.

    ``attrs`` holds the format's attributes in file order (ncnn: param id ->
    :class:`modelfile.formats.ncnn.params.Param`; OpenVINO: ``<data>`` name ->
    string). ``version`` is the opset for OpenVINO and ``None`` for ncnn.
    ``subgraphs`` holds bodies of control-flow ops by role (``body``,
    ``then_body``...).
    """

    __slots__ = (
        "op_type", "name", "_inputs", "_outputs", "attrs", "version", "pos",
        "subgraphs", "meta", "source", "graph",
    )

    def __init__(
        self,
        op_type: str,
        name: str = "",
        inputs: Sequence[Value | None] = (),
        outputs: Sequence[Value] | int = 0,
        attrs: dict[Any, Any] | None = None,
        *,
        version: str | None = None,
        pos: SourcePos | None = None,
    ) -> None:
        self.op_type = op_type
        self.name = name
        self.attrs: dict[Any, Any] = dict(attrs) if attrs else {}
        self.version = version
        self.pos = pos
        self.subgraphs: dict[str, Graph] = {}
        self.meta: dict[str, Any] = {}
        self.source: Any = None
        self.graph: Graph | None = None
        self._inputs: list[Value | None] = []
        self._outputs: list[Value] = []
        for v in inputs:
            self.append_input(v)
        if isinstance(outputs, int):
            for _ in range(outputs):
                self.append_output(Value())
        else:
            for v in outputs:
                self.append_output(v)

    # -- inputs ----------------------------------------------------------
    @property
    def inputs(self) -> tuple[Value | None, ...]:
        """Input values in port order (``None`` = an empty optional port)."""
        return tuple(self._inputs)

    @property
    def outputs(self) -> tuple[Value, ...]:
        """Output values in port order."""
        return tuple(self._outputs)

    def append_input(self, value: Value | None) -> None:
        """Add an input port fed by ``value``."""
        self._inputs.append(value)
        if value is not None:
            value._uses.append(Usage(self, len(self._inputs) - 1))

    def set_input(self, index: int, value: Value | None) -> None:
        """Feed input port ``index`` from ``value`` (keeps use lists consistent)."""
        old = self._inputs[index]
        if old is value:
            return
        if old is not None:
            old._uses = [u for u in old._uses if not (u.node is self and u.index == index)]
        self._inputs[index] = value
        if value is not None:
            value._uses.append(Usage(self, index))

    def remove_input(self, index: int) -> Value | None:
        """Drop input port ``index``; later ports shift down."""
        old = self._inputs[index]
        for i in range(index, len(self._inputs)):
            v = self._inputs[i]
            if v is not None:
                v._uses = [u for u in v._uses if not (u.node is self and u.index == i)]
        del self._inputs[index]
        for i in range(index, len(self._inputs)):
            v = self._inputs[i]
            if v is not None:
                v._uses.append(Usage(self, i))
        return old

    def clear_inputs(self) -> None:
        """Disconnect every input."""
        while self._inputs:
            self.remove_input(len(self._inputs) - 1)

    # -- outputs ---------------------------------------------------------
    def append_output(self, value: Value | None = None) -> Value:
        """Add an output port; ``value`` must not have another producer."""
        value = value if value is not None else Value()
        if value._producer is not None and value._producer is not self:
            raise ValueError(f"value {value.name!r} already produced by {value._producer.name!r}")
        value._producer = self
        value._index = len(self._outputs)
        self._outputs.append(value)
        return value

    def remove_output(self, index: int) -> Value:
        """Drop output port ``index``; the value keeps its uses but loses its producer."""
        v = self._outputs.pop(index)
        v._producer = None
        v._index = -1
        for i, w in enumerate(self._outputs):
            w._index = i
        return v

    def __repr__(self) -> str:
        return f"Node({self.op_type!r}, {self.name!r}, in={len(self._inputs)}, out={len(self._outputs)})"


class Graph:
    """An ordered list of nodes plus graph inputs/outputs.

    ``nodes`` order is file order (ncnn layer order / IR layer order) and is
    what writers emit. ``inputs`` are the values fed from outside (ncnn: tops
    of ``Input`` layers; OpenVINO: Parameter outputs); ``outputs`` are the
    values the graph exposes (OpenVINO: Result inputs; ncnn: computed, see
    :meth:`dangling_values`).
    """

    __slots__ = ("name", "nodes", "inputs", "outputs", "meta", "source", "parent")

    def __init__(self, name: str = "") -> None:
        self.name = name
        self.nodes: list[Node] = []
        self.inputs: list[Value] = []
        self.outputs: list[Value] = []
        self.meta: dict[str, Any] = {}
        self.source: Any = None
        self.parent: Node | None = None

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)

    # -- lookup ----------------------------------------------------------
    def find_node(self, name: str) -> Node | None:
        """First node with this name (ncnn semantics), or ``None``."""
        for n in self.nodes:
            if n.name == name:
                return n
        return None

    def find_nodes(self, *, op_type: str | None = None, name: str | None = None) -> list[Node]:
        """All nodes matching the given type and/or name."""
        return [
            n for n in self.nodes
            if (op_type is None or n.op_type == op_type) and (name is None or n.name == name)
        ]

    def values(self) -> list[Value]:
        """Every value reachable from the node list, in first-appearance order."""
        seen: dict[int, Value] = {}
        for n in self.nodes:
            for v in n._inputs:
                if v is not None:
                    seen.setdefault(id(v), v)
            for v in n._outputs:
                seen.setdefault(id(v), v)
        for v in self.inputs:
            seen.setdefault(id(v), v)
        return list(seen.values())

    def layer_names(self) -> set[str]:
        """Names of all nodes."""
        return {n.name for n in self.nodes}

    def tensor_names(self, *, exclude: Value | None = None) -> set[str]:
        """Primary and tensor names of all values (except ``exclude``)."""
        out: set[str] = set()
        for v in self.values():
            if v is not exclude:
                out.add(v.name)
                out.update(v.names)
        return out

    def find_values(self, name: str) -> list[Value]:
        """Values whose primary name or any tensor name equals ``name``."""
        return [v for v in self.values() if v.name == name or name in v.names]

    def dangling_values(self) -> list[Value]:
        """Values that some node produces and nothing uses (ncnn's net outputs)."""
        return [v for n in self.nodes for v in n._outputs if not v._uses]

    # -- editing ---------------------------------------------------------
    def insert(self, index: int, node: Node) -> Node:
        """Insert ``node`` at position ``index`` of the node list."""
        node.graph = self
        self.nodes.insert(index, node)
        return node

    def append(self, node: Node) -> Node:
        """Append ``node`` at the end of the node list."""
        node.graph = self
        self.nodes.append(node)
        return node

    def remove(self, node: Node, *, safe: bool = True) -> None:
        """Remove ``node``: its inputs are disconnected.

        With ``safe`` a node whose outputs are still used is refused.
        """
        if safe:
            for v in node._outputs:
                users = [u.node.name for u in v._uses if u.node is not node]
                if users:
                    raise ValueError(f"cannot remove {node.name!r}: output {v.name!r} used by {users[0]!r}")
        node.clear_inputs()
        self.nodes = [n for n in self.nodes if n is not node]
        node.graph = None

    def topological_order(self) -> list[Node]:
        """Nodes ordered producers-first; stable with respect to the node list."""
        index = {id(n): i for i, n in enumerate(self.nodes)}
        indeg: dict[int, int] = {}
        users: dict[int, list[Node]] = {}
        for n in self.nodes:
            deps = {id(v._producer) for v in n._inputs
                    if v is not None and v._producer is not None and id(v._producer) in index}
            deps.discard(id(n))
            indeg[id(n)] = len(deps)
            for d in deps:
                users.setdefault(d, []).append(n)
        import heapq

        ready = [(index[id(n)], n) for n in self.nodes if indeg[id(n)] == 0]
        heapq.heapify(ready)
        out: list[Node] = []
        while ready:
            _, n = heapq.heappop(ready)
            out.append(n)
            for u in users.get(id(n), ()):
                indeg[id(u)] -= 1
                if indeg[id(u)] == 0:
                    heapq.heappush(ready, (index[id(u)], u))
        if len(out) != len(self.nodes):  # a cycle: keep the rest in file order
            placed = {id(n) for n in out}
            out.extend(n for n in self.nodes if id(n) not in placed)
        return out

    def upstream(self, values: Iterable[Value], stop: Iterable[Value] = ()) -> list[Node]:
        """Nodes needed to compute ``values`` (not crossing ``stop`` values), in node-list order."""
        stop_ids = {id(v) for v in stop}
        needed: set[int] = set()
        stack = [v for v in values]
        while stack:
            v = stack.pop()
            if id(v) in stop_ids:
                continue
            p = v._producer
            if p is None or id(p) in needed:
                continue
            needed.add(id(p))
            stack.extend(x for x in p._inputs if x is not None)
        return [n for n in self.nodes if id(n) in needed]

    def __repr__(self) -> str:
        return f"Graph({self.name!r}, nodes={len(self.nodes)}, inputs={len(self.inputs)}, outputs={len(self.outputs)})"
