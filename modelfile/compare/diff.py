"""Structural diff of two models of the same format (ncnn or OpenVINO IR).

Nodes are paired in rounds, each one linear in the graph size:

1. by name (the k-th node called ``x`` in A with the k-th in B); when no name is shared at all,
   the model inputs in order;
2. backwards: when two nodes are paired, the unpaired producers feeding the
   same input port are paired too if they have the same type (renamed inputs,
   renamed Consts);
3. forwards, in topological order: an unpaired node of A pairs with an
   unpaired node of B of the same type and attributes whose inputs come from
   the partners of its own producers, or from unpaired source nodes (Consts,
   Inputs) of the same type and attributes (renumbered layers);
4. forwards again among the consumers of a partner value, ignoring attributes
   (a renamed node whose attributes changed).

Paired nodes are then compared field by field (type, name, attributes, input
wiring, output tensors, weights); unpaired ones are added or removed. Output
values of paired nodes pair by port, which gives the renamed tensors.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from ..errors import ModelfileError
from ..gcpause import paused_gc
from ..graph import Graph, Node, Value
from ..model import Model
from .weights import WeightCompare, compare_weights, weights_of

__all__ = ["Change", "Diff", "attr_items", "IOChange", "NodeChange", "NodeRef", "TensorRename", "diff_models", "match_nodes",
           "positions"]

#: IR ``Const`` attributes that say where the data is in the ``.bin``: compared as weights instead.
_LAYOUT_ATTRS = frozenset({"offset", "size"})


@dataclass(slots=True)
class NodeRef:
    """A node as the diff names it: type, name, and ``file:line`` where it was read."""

    op_type: str
    name: str
    where: str = ""


@dataclass(slots=True)
class Change:
    """One field that differs: ``what`` (``type``, ``attr 0``, ``input 1``, ``output 0 shape``...)."""

    what: str
    before: Any = None
    after: Any = None


@dataclass(slots=True)
class NodeChange:
    """A paired node whose fields differ (``weights`` set when its weights differ)."""

    a: NodeRef
    b: NodeRef
    changes: list[Change] = field(default_factory=list)
    weights: WeightCompare | None = None
    matched_by: str = "name"


@dataclass(slots=True)
class TensorRename:
    before: str
    after: str
    producer: str = ""


@dataclass(slots=True)
class IOChange:
    """A change of the model's inputs or outputs: ``kind`` added/removed/renamed/shape/dtype/order."""

    kind: str
    name: str
    before: Any = None
    after: Any = None


@dataclass
class Diff:
    """What differs between model ``a`` and model ``b``; ``same`` when nothing does."""

    a_path: str
    b_path: str
    format: str
    nodes_a: int = 0
    nodes_b: int = 0
    added: list[NodeRef] = field(default_factory=list)
    removed: list[NodeRef] = field(default_factory=list)
    changed: list[NodeChange] = field(default_factory=list)
    renamed_tensors: list[TensorRename] = field(default_factory=list)
    inputs: list[IOChange] = field(default_factory=list)
    outputs: list[IOChange] = field(default_factory=list)
    header: list[Change] = field(default_factory=list)
    matched: int = 0
    matched_by_structure: int = 0
    weights_compared: int = 0
    notes: list[str] = field(default_factory=list)
    #: id(node of a) -> node of b, and the unpaired nodes (for pictures; not in to_dict)
    pairs: dict[int, Node] = field(default_factory=dict, repr=False)
    added_nodes: list[Node] = field(default_factory=list, repr=False)
    removed_nodes: list[Node] = field(default_factory=list, repr=False)
    changed_nodes: list[Node] = field(default_factory=list, repr=False)  # nodes of b

    @property
    def same(self) -> bool:
        return not (self.added or self.removed or self.changed or self.renamed_tensors or self.inputs
                    or self.outputs or self.header)

    @property
    def weights_changed(self) -> list[NodeChange]:
        return [c for c in self.changed if c.weights is not None and c.weights.status != "same"]

    def stat(self) -> dict[str, int]:
        """Counts per kind of change."""
        return {
            "nodes_a": self.nodes_a, "nodes_b": self.nodes_b, "matched": self.matched,
            "matched_by_structure": self.matched_by_structure, "added": len(self.added),
            "removed": len(self.removed), "changed": len(self.changed),
            "attributes_changed": sum(1 for c in self.changed if any(x.what.startswith("attr ") for x in c.changes)),
            "weights_changed": len(self.weights_changed), "weights_compared": self.weights_compared,
            "tensors_renamed": len(self.renamed_tensors), "inputs_changed": len(self.inputs),
            "outputs_changed": len(self.outputs), "header_changed": len(self.header),
        }

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {}
        for k in ("a_path", "b_path", "format", "nodes_a", "nodes_b"):
            d[k] = getattr(self, k)
        d["same"] = self.same
        d["stat"] = self.stat()
        for k in ("header", "inputs", "outputs", "added", "removed", "changed", "renamed_tensors"):
            d[k] = [asdict(x) for x in getattr(self, k)]
        d["notes"] = list(self.notes)
        return d


# ---------------------------------------------------------------------------------------------
# format details the diff needs (kept here so that the formats stay unaware of comparing)
# ---------------------------------------------------------------------------------------------

def attr_items(node: Node) -> list[tuple[str, str]]:
    """``(key, value text)`` of a node's attributes, in file order.

    Values are spelled as in the file (ncnn params keep their text; IR ``<data>`` values are strings).
    Where a ``Const``'s data lies in the weights file (``offset``/``size``) is left out: the data
    themselves are compared as weights.
    """
    skip = _LAYOUT_ATTRS if node.op_type == "Const" else frozenset()
    out = []
    for k, v in node.attrs.items():
        if k in skip:
            continue
        render = getattr(v, "render_value", None)
        if render is not None:
            try:
                text = render()
            except (ValueError, TypeError):
                text = str(getattr(v, "text", v))
        else:
            text = str(v)
        out.append((str(k), text))
    return out


def _attr_key(node: Node, fmt: str) -> tuple[Any, ...]:
    # attribute order carries no meaning to the runtimes (ncnn reads params by id)
    items = attr_items(node)
    return tuple(sorted(items))


def positions(nodes: list[Node]) -> dict[int, str]:
    """``file:line`` of many nodes at once: ``id(node) -> text``.

    IR layers know their text offset; their lines are counted in one sweep over
    the file instead of one count per node (``Node.pos`` is made for single
    look-ups). Other nodes use ``Node.pos``.
    """
    out: dict[int, str] = {}
    by_doc: dict[int, tuple[Any, list[tuple[int, Node]]]] = {}
    for n in nodes:
        src = n.source
        start = getattr(src, "start", None)
        doc = getattr(src, "doc", None)
        if n._pos is None and isinstance(start, int) and isinstance(getattr(doc, "text", None), str):
            by_doc.setdefault(id(doc), (doc, []))[1].append((start, n))
            continue
        p = n.pos
        out[id(n)] = f"{p.file}:{p.line}" if p is not None and p.line else ""
    for doc, items in by_doc.values():
        items.sort(key=lambda t: t[0])
        text, line, at = doc.text, 1, 0
        for start, n in items:
            line += text.count("\n", at, start)
            at = start
            out[id(n)] = f"{doc.file}:{line}"
    return out


def _vname(v: Value | None) -> str:
    if v is None:
        return "(empty)"
    if v.name:
        return v.name
    if v.names:
        return v.names[0]
    p = v.producer
    return f"{p.name}:{v.index}" if p is not None else "(unnamed)"


def _from(v: Value | None) -> str:
    p = v.producer if v is not None else None
    return f"{_vname(v)} (from {p.op_type} {p.name})" if p is not None else _vname(v)


def _names(v: Value) -> list[str]:
    return list(v.names) if v.names else ([v.name] if v.name else [])


def _io_shape(model: Model, v: Value) -> Any:
    return model.ops.value_shape(v)


def _io_dtype(model: Model, v: Value) -> str | None:
    return model.ops.value_dtype(v)


def _body_sig(node: Node, fmt: str) -> Any:
    """A summary of a control-flow op's bodies: changed bodies show up as one change."""
    sub = node._subgraphs
    if not sub:
        return None
    out = []
    for role, g in sub.items():
        out.append((role, tuple((n.op_type, n.name, _attr_key(n, fmt), len(n.inputs), len(n.outputs))
                                for n in g.nodes)))
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# matching
# ---------------------------------------------------------------------------------------------

def _producers_first(g: Graph) -> list[Node]:
    """The node list when it already is in topological order (files usually are), else a topological sort."""
    seen: set[int] = set()
    nodes = list(g.nodes)
    for n in nodes:
        for v in n._inputs:
            if v is not None and v._producer is not None and id(v._producer) not in seen:
                return g.topological_order()
        seen.add(id(n))
    return nodes


class _Matcher:
    def __init__(self, ga: Graph, gb: Graph, fmt: str) -> None:
        self.ga, self.gb, self.fmt = ga, gb, fmt
        self.a2b: dict[int, Node] = {}
        self.b2a: dict[int, Node] = {}
        self.how: dict[int, str] = {}
        self._order_a: list[Node] | None = None
        self._keys: dict[int, tuple[Any, ...]] = {}
        self._paired_at_backward = -1

    def akey(self, n: Node) -> tuple[Any, ...]:
        """The node's attribute key, computed once per node."""
        k = self._keys.get(id(n))
        if k is None:
            k = self._keys[id(n)] = _attr_key(n, self.fmt)
        return k

    @property
    def order_a(self) -> list[Node]:
        """A's nodes producers-first (only computed when something is left to pair by structure)."""
        if self._order_a is None:
            self._order_a = _producers_first(self.ga)
        return self._order_a

    def pair(self, a: Node, b: Node, how: str) -> None:
        self.a2b[id(a)] = b
        self.b2a[id(b)] = a
        self.how[id(a)] = how

    def by_name(self) -> None:
        byname: dict[str, list[Node]] = defaultdict(list)
        for b in self.gb.nodes:
            if b.name:
                byname[b.name].append(b)
        for lst in byname.values():
            lst.reverse()  # pop() takes them in file order
        for a in self.ga.nodes:
            if a.name:
                lst = byname.get(a.name)
                if lst:
                    self.pair(a, lst.pop(), "name")

    def backward(self) -> None:
        """Producers feeding the same port of two paired nodes pair up (same type and output index)."""
        if len(self.a2b) == self._paired_at_backward:
            return  # nothing paired since the last round
        a2b, b2a = self.a2b, self.b2a
        for a in reversed(self.order_a):
            b = a2b.get(id(a))
            if b is None:
                continue
            for va, vb in zip(a._inputs, b._inputs):
                if va is None or vb is None:
                    continue
                pa, pb = va._producer, vb._producer
                if pa is None or pb is None or id(pa) in a2b or id(pb) in b2a:
                    continue
                if pa.op_type == pb.op_type and va._index == vb._index and len(pa._outputs) == len(pb._outputs):
                    self.pair(pa, pb, "structure")
        self._paired_at_backward = len(a2b)

    def _in_desc(self, v: Value | None, b_side: bool) -> Any:
        """How a key describes one input: the (partner) producer and port, or for an unpaired source
        node (Const, Input...) its type and attributes, which both sides can name without a pairing."""
        if v is None:
            return None
        p = v._producer
        if p is None:
            return ("ext", v.name)
        if not p._inputs:
            return ("src", p.op_type, self.akey(p), v._index)
        if b_side:
            return (id(p), v._index)
        pb = self.a2b.get(id(p))
        return (id(pb), v._index) if pb is not None else False

    def forward_exact(self) -> None:
        """Same type, same attributes, inputs from the partners of its producers (or equal sources)."""
        index: dict[tuple[Any, ...], list[Node]] = defaultdict(list)
        akey = self.akey
        for b in self.gb.nodes:
            if id(b) not in self.b2a and b._inputs:
                index[(b.op_type, akey(b), tuple(self._in_desc(v, True) for v in b._inputs))].append(b)
        for lst in index.values():
            lst.reverse()
        for a in self.order_a:
            if id(a) in self.a2b or not a._inputs:
                continue
            ins = tuple(self._in_desc(v, False) for v in a._inputs)
            if False in ins:
                continue
            lst = index.get((a.op_type, akey(a), ins))
            while lst:
                b = lst.pop()
                if id(b) not in self.b2a:
                    self.pair(a, b, "structure")
                    break

    def forward_loose(self) -> None:
        """Same type and input count, fed by the partner of one of its producers at the same port;
        attributes may differ. Candidates are the consumers of that partner value (local, linear)."""
        a2b, b2a = self.a2b, self.b2a
        in_b = {id(b) for b in self.gb.nodes}
        for a in self.order_a:
            if id(a) in a2b or not a._inputs:
                continue
            wanted: list[tuple[int, Value]] = []
            for k, v in enumerate(a._inputs):
                if v is not None and v._producer is not None:
                    pb = a2b.get(id(v._producer))
                    if pb is not None and v._index < len(pb._outputs):
                        wanted.append((k, pb._outputs[v._index]))
            if not wanted:
                continue
            k0, vb0 = wanted[0]
            for u in vb0.uses:
                b = u.node
                if (u.index != k0 or id(b) in b2a or b.op_type != a.op_type
                        or len(b._inputs) != len(a._inputs) or id(b) not in in_b):
                    continue
                if all(b._inputs[k] is vb for k, vb in wanted[1:]):
                    self.pair(a, b, "structure")
                    break

    def inputs_in_order(self) -> None:
        """No name in common at all (a binary .param, a re-export that renamed everything): pair the
        model inputs in order, as seeds for the structural rounds, when both have as many of them."""
        kinds = ("Input", "Parameter")
        xs = [n for n in self.ga.nodes if n.op_type in kinds and not n._inputs]
        ys = [n for n in self.gb.nodes if n.op_type in kinds and not n._inputs]
        if len(xs) == len(ys) and all(x.op_type == y.op_type for x, y in zip(xs, ys)):
            for x, y in zip(xs, ys):
                self.pair(x, y, "structure")

    def run(self) -> None:
        self.by_name()
        if len(self.a2b) in (len(self.ga.nodes), len(self.gb.nodes)):
            return  # one side is fully paired: nothing left to find
        if not self.a2b:
            self.inputs_in_order()
        self.backward()
        self.forward_exact()
        self.backward()
        self.forward_loose()
        self.backward()


def match_nodes(ga: Graph, gb: Graph, fmt: str) -> tuple[dict[int, Node], dict[int, str]]:
    """Pair the nodes of two graphs: ``id(node of a) -> node of b`` and how each pair was found."""
    m = _Matcher(ga, gb, fmt)
    m.run()
    return m.a2b, m.how


def _match(ga: Graph, gb: Graph, fmt: str) -> _Matcher:
    m = _Matcher(ga, gb, fmt)
    m.run()
    return m


# ---------------------------------------------------------------------------------------------
# comparing
# ---------------------------------------------------------------------------------------------

def _shape_text(shape: Any) -> str:
    if shape is None:
        return "?"
    return "[" + ",".join("?" if d == -1 else (f"{d[0]}..{d[1]}" if isinstance(d, tuple) else str(d))
                          for d in shape) + "]"


def diff_models(a: Model, b: Model, *, weights: bool = True) -> Diff:
    """Compare model ``a`` (before) with model ``b`` (after)."""
    # the diff builds many small objects and no garbage cycles: collector passes over two big
    # graphs would make it superlinear (the readers do the same)
    with paused_gc():
        return _diff_models(a, b, weights)


def _diff_models(a: Model, b: Model, weights: bool) -> Diff:
    if a.format != b.format:
        raise ModelfileError(f"cannot compare a {a.format} model with a {b.format} model",
                             file=str(b.path or ""))
    fmt = a.format
    ga, gb = a.graph, b.graph
    d = Diff(str(a.path or ""), str(b.path or ""), fmt, len(ga.nodes), len(gb.nodes))
    matcher = _match(ga, gb, fmt)
    a2b, how = matcher.a2b, matcher.how
    d.pairs = a2b
    b_paired = {id(n) for n in a2b.values()}
    d.matched = len(a2b)
    d.matched_by_structure = sum(1 for h in how.values() if h != "name")

    # values of paired nodes pair by output port
    v_a2b: dict[int, Value] = {}
    for na in ga.nodes:
        nb = a2b.get(id(na))
        if nb is None:
            continue
        for va, vb in zip(na._outputs, nb._outputs):
            v_a2b[id(va)] = vb
    # values nothing produces (ncnn bottoms fed from outside) pair by name
    ext_b = {v.name: v for n in gb.nodes for v in n._inputs if v is not None and v._producer is None}
    if ext_b:
        for n in ga.nodes:
            for v in n._inputs:
                if v is not None and v._producer is None and v.name in ext_b:
                    v_a2b[id(v)] = ext_b[v.name]

    wa = wb = None
    if weights:
        wa, wb = weights_of(a), weights_of(b)
        for side, w in (("a", wa), ("b", wb)):
            if not w.available:
                d.notes.append(f"weights not compared: {side} ({w.model.path}): {w.why}")
        if not (wa.available and wb.available):
            wa = wb = None

    renamed_seen: set[int] = set()
    weight_errors = 0
    changed_pairs: list[tuple[Node, Node, list[Change], WeightCompare | None]] = []
    for na in ga.nodes:
        nb = a2b.get(id(na))
        if nb is None:
            d.removed_nodes.append(na)
            continue
        ch = _compare_node(na, nb, fmt, v_a2b, na.attrs == nb.attrs or matcher.akey(na) == matcher.akey(nb))
        for va, vb in zip(na._outputs, nb._outputs):
            if _names(va) != _names(vb) and id(va) not in renamed_seen:
                renamed_seen.add(id(va))
                d.renamed_tensors.append(TensorRename(_vname(va), _vname(vb), nb.name))
        wc = None
        if wa is not None and wb is not None:
            try:
                wc = compare_weights(wa.get(na), wb.get(nb))
            except ModelfileError as e:
                # one note, not one per layer: after a layer of unknown layout every later one fails
                if not weight_errors:
                    d.notes.append(f"weights of {nb.name!r} not compared: {e.diagnostic.message}")
                weight_errors += 1
            if wc is not None:
                d.weights_compared += 1
        if ch or (wc is not None and wc.status != "same"):
            changed_pairs.append((na, nb, ch, wc if wc is not None and wc.status != "same" else None))
            d.changed_nodes.append(nb)
    if weight_errors > 1:
        d.notes.append(f"weights of {weight_errors - 1} more node(s) not compared for the same reason")
    d.added_nodes = [nb for nb in gb.nodes if id(nb) not in b_paired]
    where = positions([*d.removed_nodes, *d.added_nodes, *(x for p in changed_pairs for x in p[:2])])

    def ref(n: Node) -> NodeRef:
        return NodeRef(n.op_type, n.name, where.get(id(n), ""))

    d.removed = [ref(n) for n in d.removed_nodes]
    d.added = [ref(n) for n in d.added_nodes]
    d.changed = [NodeChange(ref(na), ref(nb), ch, wc, how.get(id(na), "name")) for na, nb, ch, wc in changed_pairs]

    d.inputs = _io_changes(a, b, list(ga.inputs), list(gb.inputs), v_a2b, ordered=True)
    d.outputs = _io_changes(a, b, list(a.outputs), list(b.outputs), v_a2b, ordered=fmt != "ncnn")
    d.header = _header(a, b)
    return d


def _compare_node(na: Node, nb: Node, fmt: str, v_a2b: dict[int, Value], same_attrs: bool) -> list[Change]:
    ch: list[Change] = []
    if na.op_type != nb.op_type:
        ch.append(Change("type", na.op_type, nb.op_type))
    if na.version != nb.version:
        ch.append(Change("version", na.version, nb.version))
    if na.name != nb.name:
        ch.append(Change("name", na.name, nb.name))
    ia, ib = (dict(attr_items(na)), dict(attr_items(nb))) if not same_attrs else ({}, {})
    if ia != ib:
        for k in dict.fromkeys([*ia, *ib]):
            if ia.get(k) != ib.get(k):
                ch.append(Change(f"attr {k}", ia.get(k), ib.get(k)))
    for k in range(max(len(na._inputs), len(nb._inputs))):
        va = na._inputs[k] if k < len(na._inputs) else None
        vb = nb._inputs[k] if k < len(nb._inputs) else None
        if va is None and vb is None:
            continue
        if k >= len(na._inputs):
            ch.append(Change(f"input {k}", None, _vname(vb)))
        elif k >= len(nb._inputs):
            ch.append(Change(f"input {k}", _vname(va), None))
        elif va is None or vb is None or v_a2b.get(id(va)) is not vb:
            before, after = _vname(va), _vname(vb)
            if before == after:  # same name, another tensor: say where each comes from
                before, after = _from(va), _from(vb)
            ch.append(Change(f"input {k}", before, after))
    if len(na._outputs) != len(nb._outputs):
        ch.append(Change("outputs", len(na._outputs), len(nb._outputs)))
    for k, (va, vb) in enumerate(zip(na._outputs, nb._outputs)):
        if va.shape != vb.shape:
            ch.append(Change(f"output {k} shape", _shape_text(va.shape), _shape_text(vb.shape)))
        if va.dtype != vb.dtype:
            ch.append(Change(f"output {k} type", va.dtype, vb.dtype))
    if (na._subgraphs or nb._subgraphs) and _body_sig(na, fmt) != _body_sig(nb, fmt):
        ch.extend(_body_changes(na, nb, fmt))
    return ch


def _body_changes(na: Node, nb: Node, fmt: str) -> list[Change]:
    """What differs in the bodies of two paired control-flow ops, as changes named ``role: node: what``."""
    out: list[Change] = []
    sa, sb = na._subgraphs or {}, nb._subgraphs or {}
    for role in dict.fromkeys([*sa, *sb]):
        ga, gb = sa.get(role), sb.get(role)
        if ga is None or gb is None:
            out.append(Change(role, f"{len(ga.nodes)} ops" if ga else None, f"{len(gb.nodes)} ops" if gb else None))
            continue
        m = _match(ga, gb, fmt)
        vmap: dict[int, Value] = {}
        for a in ga.nodes:
            b = m.a2b.get(id(a))
            if b is not None:
                for va, vb in zip(a._outputs, b._outputs):
                    vmap[id(va)] = vb
        for a in ga.nodes:
            b = m.a2b.get(id(a))
            if b is None:
                out.append(Change(f"{role}: removed", f"{a.op_type} {a.name}", None))
                continue
            for x in _compare_node(a, b, fmt, vmap, a.attrs == b.attrs or m.akey(a) == m.akey(b)):
                out.append(Change(f"{role}: {b.name}: {x.what}", x.before, x.after))
        paired = {id(b) for b in m.a2b.values()}
        out += [Change(f"{role}: added", None, f"{b.op_type} {b.name}") for b in gb.nodes if id(b) not in paired]
    return out


def _io_changes(a: Model, b: Model, xs: list[Value], ys: list[Value], v_a2b: dict[int, Value], *,
                ordered: bool) -> list[IOChange]:
    out: list[IOChange] = []
    ys_ids = {id(v) for v in ys}
    mapped: list[Value] = []
    for va in xs:
        vb = v_a2b.get(id(va))
        if vb is None or id(vb) not in ys_ids:
            out.append(IOChange("removed", _vname(va), _shape_text(_io_shape(a, va)), None))
            continue
        mapped.append(vb)
        if _names(va) != _names(vb):
            out.append(IOChange("renamed", _vname(vb), _vname(va), _vname(vb)))
        sa, sb = _io_shape(a, va), _io_shape(b, vb)
        if sa != sb:
            out.append(IOChange("shape", _vname(vb), _shape_text(sa), _shape_text(sb)))
        ta, tb = _io_dtype(a, va), _io_dtype(b, vb)
        if ta != tb:
            out.append(IOChange("type", _vname(vb), ta, tb))
    mapped_ids = {id(v) for v in mapped}
    for vb in ys:
        if id(vb) not in mapped_ids:
            out.append(IOChange("added", _vname(vb), None, _shape_text(_io_shape(b, vb))))
    if ordered:
        order_b = [v for v in ys if id(v) in mapped_ids]
        if [id(v) for v in order_b] != [id(v) for v in mapped]:
            out.append(IOChange("order", "", [_vname(v) for v in mapped], [_vname(v) for v in order_b]))
    return out


def _header(a: Model, b: Model) -> list[Change]:
    """File-level differences: the counts a header declares (ncnn), the IR version and net name,
    text or binary form. Each is read where the format keeps it; absent ones are skipped."""
    out: list[Change] = []
    for label, fa, fb in (("layer count", *_both(a, b, _declared, "declared_layers")),
                          ("blob count", *_both(a, b, _declared, "declared_blobs")),
                          ("IR version", *_both(a, b, _doc, "version")),
                          ("net name", *_both(a, b, _doc, "net_name")),
                          ("binary", *_both(a, b, _state, "binary"))):
        if fa != fb:
            out.append(Change(label, fa, fb))
    if _declared(a, "declared_layers") is None and len(a.graph.nodes) != len(b.graph.nodes):
        out.append(Change("layers", len(a.graph.nodes), len(b.graph.nodes)))
    return out


def _both(a: Model, b: Model, get: Any, key: str) -> tuple[Any, Any]:
    return get(a, key), get(b, key)


def _declared(m: Model, key: str) -> Any:
    return getattr(m.graph.source, key, None)


def _doc(m: Model, key: str) -> Any:
    return getattr(getattr(m.state, "doc", None), key, None)


def _state(m: Model, key: str) -> Any:
    return getattr(m.state, key, None)
