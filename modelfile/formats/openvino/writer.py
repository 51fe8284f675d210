"""Graph -> IR ``.xml`` (+ ``.bin``): lossless for what did not change.

How output is produced:

* Nothing changed (every node equal to its load-time snapshot, same node
  list, same model rt_info/name/version, no new Const data): the original
  bytes are written back, so the file is byte-identical.
* Otherwise the original text is spliced. An untouched layer is copied
  verbatim (ids are kept, so it stays byte-identical); a layer whose id or
  Const offset must change gets just those attribute values patched; a
  touched layer keeps its own text except the parts that differ (start-tag
  and ``<data>`` attribute values, an ``<input>``/``<output>`` block, a port
  map, a body), which are rendered in the serializer's style (the file's
  indentation, ``<port>`` attribute order, ``" />"`` or ``"/>"``). New layers
  are rendered whole. ``<edges>`` is re-rendered only if the edge set changed
  (surviving edges keep their order, new ones follow).
* Unreachable layers (not upstream of a Result or Assign; Parameters are
  kept) are pruned when the model changed, as the runtime would drop them.
* The ``.bin`` is copied (sparse-aware) or left in place when no constant
  changed; otherwise only live constants are written, de-duplicated and
  contiguous, streaming from the old file so memory stays flat.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import ModelfileError
from ...graph import Graph, Node, Value
from ...fileio import atomic_write, copy_fd
from ...report import SaveResult
from .names import format_dims, format_names, format_shape, parse_names, parse_shape, precision_of_element_type
from .reader import BODY_ROLES, PORT_MAP_OF, GraphSource, IRDocument, LayerSource, Style
from .binfile import COMPACT_AT, Weights, bin_stays, const_info
from .xmlscan import FAST_ATTR, FAST_DIM, FAST_LAYER, FAST_PORT, El, Misc, escape_attr, escape_text, fast_tag_span
from .keys import IR_BACK_EDGES, IR_DATA, IR_PORT_MAP, OUTPUT_NAMES, RT_INFO

if TYPE_CHECKING:
    from ...model import Model

__all__ = ["Rendered", "is_modified", "render", "write_model"]

_VERBATIM, _PATCH, _RENDER, _NEW = 0, 1, 2, 3


class Rendered:
    """The result of :func:`render`: the XML text and what to do with the ``.bin``."""

    def __init__(self, text: str, unchanged: bool, bin_plan: "BinPlan | None", notes: list[str]) -> None:
        self.text = text
        self.unchanged = unchanged
        self.bin_plan = bin_plan
        self.notes = notes


class BinPlan:
    """A new ``.bin`` layout: unique blobs in order and each live Const's new (offset, size)."""

    def __init__(self) -> None:
        self.blobs: list[tuple[Any, int]] = []   # (bytes | (Weights, offset), size)
        self.place: dict[Node, tuple[int, int]] = {}
        self.total = 0
        self.shared = 0


class _Ctx:
    def __init__(self, doc: IRDocument | None, version: int, renumber: bool) -> None:
        self.doc = doc
        self.text = doc.text if doc is not None else ""
        self.style = doc.style if doc is not None else Style()
        self.version = version
        self.renumber = renumber
        self.any_change = False
        self.any_data = False
        self.changed_values: dict[Value, Value] = {}
        self.plans: dict[Graph, _Plan] = {}
        self.const_place: dict[Node, tuple[int, int]] = {}
        self.bin_note = ""  # why the .bin stays as it is although Consts were dropped
        self.renamed_only: set[Node] = set()  # touched layers whose text differs only in output names
        self.in_prec = _input_precision_style(self.text)
        self.pruned = 0
        self.touch_all = False


class _Plan:
    """Per-graph write plan."""

    def __init__(self, graph: Graph, gsrc: GraphSource | None) -> None:
        self.graph = graph
        self.gsrc = gsrc
        self.emit: list[Node] = []
        self.touched: set[Node] = set()
        self.bodies: dict[Node, dict[str, _Plan]] = {}
        self.structure_changed = False
        self.any = False
        # keyed by the objects themselves: Node and Value hash by identity
        self.ids: dict[Node, str] = {}
        self.pids: dict[Node, tuple[list[str], list[str]]] = {}
        self.modes: dict[Node, int] = {}
        self.edges: list[tuple[str, str, str, str]] | None = None
        self.edges_changed = False
        self.changed = False
        self.rewired = False


def _input_precision_style(text: str) -> bool:
    m = re.search(r"<input>\s*<port\b([^>]*)>", text[:200000])
    return True if m is None else ("precision=" in m.group(1))


# ---------------------------------------------------------------------------------------------
# analysis: what changed since load
# ---------------------------------------------------------------------------------------------


def _valid_rec(node: Node, doc: IRDocument | None, gsrc: GraphSource | None) -> LayerSource | None:
    rec = node.source
    if rec.__class__ is LayerSource and doc is not None and rec.doc is doc and rec.gsrc is gsrc:
        return rec
    return None


_SAME, _CONTENT, _WIRING = 0, 1, 2


def _touched(node: Node, rec: LayerSource, ctx: _Ctx) -> int:
    """``_SAME``, ``_CONTENT`` (text differs) or ``_WIRING`` (inputs/outputs are other values: edges differ).

    Runs once per node on every save: cheap identity checks come first (an
    untouched node still holds the very objects the reader gave it).
    """
    outs = node._outputs  # slots, not the properties: see Node (this runs for every node on every save)
    p0 = rec.ports0
    if len(outs) != len(p0):
        return _WIRING
    ins = node._inputs
    if ins is not rec.inputs0 and ins != rec.inputs0:
        return _WIRING
    changed = False
    # consumers of a value whose type/shape/names changed are re-rendered too (input dims, output_names)
    i = 0
    for v in outs:
        _, dt, shape, names = p0[i]
        i += 1
        vn = v.names
        # no names may be () or [] on either side: both mean the same
        if (vn is not names and vn != names and (vn or names)) or (v.dtype is not dt and v.dtype != dt) \
                or (v.shape is not shape and v.shape != shape) or v.name != (names[0] if names else ""):
            ctx.changed_values[v] = v
            changed = True
    if changed:
        return _CONTENT
    if node.op_type != rec.type0 or node.name != rec.name0 or node.version != rec.version0:
        return _CONTENT
    a0 = rec.attrs0
    if a0 is None:
        if node.attrs:
            return _CONTENT
    elif node.attrs != a0:
        return _CONTENT
    meta = node._meta
    if rec.pm0 is not None or rec.be0 is not None or (meta and (IR_PORT_MAP in meta or IR_BACK_EDGES in meta)):
        from .reader import _be_snapshot, _pm_snapshot
        if _pm_snapshot(node) != rec.pm0 or _be_snapshot(node) != rec.be0:
            return _CONTENT
    return _SAME


def _order_params(emit: list[Node], inputs: list[Value]) -> list[Node]:
    """Parameters appear in the XML in ``graph.inputs`` order (that order is the model's input order)."""
    if len(inputs) < 2:
        return emit
    slots = [i for i, n in enumerate(emit) if n.op_type == "Parameter"]
    if len(slots) < 2:
        return emit
    rank = {v.producer: k for k, v in enumerate(inputs) if v.producer is not None}
    params = [emit[i] for i in slots]
    ordered = sorted(params, key=lambda n: rank.get(n, len(rank)))
    if ordered == params:
        return emit
    out = list(emit)
    for i, n in zip(slots, ordered):
        out[i] = n
    return out


def _analyze(graph: Graph, ctx: _Ctx) -> _Plan:
    gsrc = graph.source if isinstance(graph.source, GraphSource) else None
    doc = ctx.doc
    if gsrc is not None and (doc is None or gsrc.doc is not doc):
        gsrc = None
    plan = _Plan(graph, gsrc)
    ctx.plans[graph] = plan
    emit = _order_params(list(graph.nodes), graph.inputs)
    plan.emit = emit
    plan.structure_changed = gsrc is None or emit != gsrc.nodes0  # (the graph keeps its nodes unique)
    touched = plan.touched
    any_body = False
    touch_all = ctx.touch_all
    for node in emit:
        rec = node.source
        # inlined _valid_rec: this loop is what an unchanged save costs
        if rec.__class__ is not LayerSource or rec.doc is not doc or rec.gsrc is not gsrc:
            touched.add(node)
            plan.rewired = True
        elif touch_all:
            touched.add(node)
        else:
            t = _touched(node, rec, ctx)
            if t:
                touched.add(node)
                if t == _WIRING:
                    plan.rewired = True
        # the slots, not the properties, which would create empty dicts (see Node)
        if node._meta and node._meta.get(IR_DATA) is not None:
            ctx.any_data = True
        if node._subgraphs:
            bp = {role: _analyze(sub, ctx) for role, sub in node.subgraphs.items()}
            plan.bodies[node] = bp
            if any(b.any for b in bp.values()):
                any_body = True
    plan.any = plan.structure_changed or bool(touched) or any_body
    if plan.any:
        ctx.any_change = True
    return plan


def _mark_consumers(plan: _Plan, ctx: _Ctx) -> None:
    """Nodes reading a value whose type/shape/names changed are re-rendered (input dims, output_names)."""
    for v in ctx.changed_values.values():
        for u in v.uses:
            g = u.node.graph
            p = ctx.plans.get(g) if g is not None else None
            if p is not None:  # (a node outside every graph is not written)
                p.touched.add(u.node)


def _prune(plan: _Plan, ctx: _Ctx) -> None:
    """Drop layers the runtime would ignore: not upstream of a Result or Assign (Parameters stay).

    Only after edits that can strand layers (rewiring, removals): a rename keeps the file as it was.
    """
    if not (plan.structure_changed or plan.rewired):
        return
    emit = plan.emit
    live = plan.graph.live_nodes((), keep=[n for n in emit if n.op_type in ("Result", "Assign")])
    keep = [n for n in emit if n in live or n.op_type == "Parameter"]
    if len(keep) != len(emit):
        ctx.pruned += len(emit) - len(keep)
        plan.emit = keep
        plan.structure_changed = True
        plan.any = True


def is_modified(model: "Model") -> bool:
    """Whether saving ``model`` would produce anything but its original bytes."""
    doc = getattr(model.state, "doc", None)
    doc = doc if isinstance(doc, IRDocument) else None
    if doc is None:
        return True
    ctx = _Ctx(doc, doc.version, False)
    _analyze(model.graph, ctx)
    return _model_changed(model, doc, ctx, doc.version)


def _model_changed(model: "Model", doc: IRDocument, ctx: _Ctx, version: int) -> bool:
    g = model.graph
    return (ctx.any_change or ctx.any_data or version != doc.version or g.name != doc.net_name
            or g.meta.get(RT_INFO, {}) != doc.rt_info0)


# ---------------------------------------------------------------------------------------------
# ids, ports, edges, modes
# ---------------------------------------------------------------------------------------------


def _port_ids(node: Node, rec: LayerSource | None) -> tuple[list[str], list[str]]:
    nin, nout = len(node.inputs), len(node.outputs)
    if rec is not None and len(rec.in_ids) == nin and len(rec.ports0) == nout:
        return rec.in_ids, rec.out_ids
    return [str(i) for i in range(nin)], [str(nin + j) for j in range(nout)]


def _pids(plan: _Plan, node: Node) -> tuple[list[str], list[str]]:
    """Input and output port ids of ``node`` (the original ones while the port counts are unchanged)."""
    got = plan.pids.get(node)
    if got is None:
        rec = node.source if plan.modes.get(node, _NEW) != _NEW else None
        got = plan.pids[node] = _port_ids(node, rec)
    return got


def _assign(plan: _Plan, ctx: _Ctx) -> None:
    """Layer ids (kept unless renumbering; new layers get fresh ones), a mode per layer, the edges."""
    doc, gsrc = ctx.doc, plan.gsrc
    emit = plan.emit
    recs: list[LayerSource | None] = []
    seen_recs: set[LayerSource] = set()
    fresh = False
    for n in emit:
        rec = n.source
        if rec.__class__ is not LayerSource or rec.doc is not doc or rec.gsrc is not gsrc or doc is None:
            rec = None
            fresh = True
        elif rec in seen_recs:  # a copied node sharing its original's source: write it as new
            rec = None
            fresh = True
            plan.touched.add(n)
            plan.rewired = True
        else:
            seen_recs.add(rec)
        recs.append(rec)
    # bodies first: a parent must know whether its bodies changed
    for node in plan.bodies:
        for sub in plan.bodies[node].values():
            _assign(sub, ctx)
    ids = plan.ids
    ids_changed = False
    renumber = ctx.renumber or (fresh and not all(r is None or r.id.isdigit() for r in recs))
    if renumber:
        for i, (n, r) in enumerate(zip(emit, recs)):
            ids[n] = str(i)
            if r is not None and r.id != str(i):
                ids_changed = True
    elif not fresh:
        for n, r in zip(emit, recs):
            ids[n] = r.id  # type: ignore[union-attr]
    else:
        nxt = max((int(r.id) for r in recs if r is not None), default=-1) + 1
        for n, r in zip(emit, recs):
            if r is not None:
                ids[n] = r.id
            else:
                ids[n] = str(nxt)
                nxt += 1
    modes = plan.modes
    touched = plan.touched
    bodies = plan.bodies
    place = ctx.const_place
    all_verbatim = True
    for n, r in zip(emit, recs):
        if r is None:
            m = _NEW
        elif n in touched or (n in bodies and any(b.changed for b in bodies[n].values())):
            m = _RENDER
            if n not in bodies and n not in place and _names_only(n, r, plan):
                m = _PATCH  # only output names differ: set them in the source text, no parse
                ctx.renamed_only.add(n)
        elif (ids_changed and ids[n] != r.id) or (n in place and _const_moves(n, ctx)):
            m = _PATCH
        else:
            m = _VERBATIM
        modes[n] = m
        if m:
            all_verbatim = False
    if gsrc is not None and not plan.structure_changed and not plan.rewired and not ids_changed:
        plan.edges = None  # same layers, same ids, same inputs: the original <edges> stands
        plan.edges_changed = False
    else:
        plan.edges = _edges(plan)
        if gsrc is None or gsrc.edges is None:
            plan.edges_changed = True
        else:
            plan.edges_changed = Counter(plan.edges) != Counter(map(tuple, gsrc.edges0))
    plan.changed = plan.structure_changed or not all_verbatim or plan.edges_changed


def _const_moves(node: Node, ctx: _Ctx) -> bool:
    place = ctx.const_place.get(node)
    if place is None:
        return False
    a = node.attrs
    return a.get("offset") != str(place[0]) or a.get("size") != str(place[1])


def _edges(plan: _Plan) -> list[tuple[str, str, str, str]]:
    ids = plan.ids
    out: list[tuple[str, str, str, str]] = []
    for n in plan.emit:
        nid = ids[n]
        in_ids = _pids(plan, n)[0]
        for i, v in enumerate(n.inputs):
            if v is None:
                continue
            p = v.producer
            if p is None:
                raise ModelfileError(f"input {i} of layer {n.name!r} is fed by value {v.name!r}, which no layer "
                                     f"produces (make it a Parameter output or remove the input)")
            pid = ids.get(p)
            if pid is None:
                raise ModelfileError(f"input {i} of layer {n.name!r} comes from layer {p.name!r}, which is not "
                                     f"in graph {plan.graph.name!r}")
            out.append((pid, _pids(plan, p)[1][v.index], nid, in_ids[i]))
    return out


# ---------------------------------------------------------------------------------------------
# .bin planning
# ---------------------------------------------------------------------------------------------


def _live_consts(plan: _Plan, out: list[Node]) -> None:
    for n in plan.emit:
        if n.op_type == "Const":
            out.append(n)
        for b in (plan.bodies.get(n) or {}).values():
            _live_consts(b, out)


def _plan_bin(plan: _Plan, ctx: _Ctx, mode: str) -> BinPlan | None:
    if mode == "auto" and not ctx.any_data and not any(p.structure_changed for p in ctx.plans.values()):
        return None  # same layers and no new data: the .bin is still right
    live: list[Node] = []
    _live_consts(plan, live)
    doc = ctx.doc
    new_data = [n for n in live if n.meta.get(IR_DATA) is not None]
    if mode == "copy":
        if new_data:
            raise ModelfileError(f"Const {new_data[0].name!r} has new data: the .bin must be rewritten "
                                 f"(weights='copy' was requested)")
        return None
    if mode != "rewrite":
        dead = bin_stays(live, doc)
        if dead is not None:
            if doc is not None and len(live) != len(doc.consts):  # (Consts were dropped: say why it stays)
                ctx.bin_note = ("bin: unchanged (the dropped Consts' bytes are all used by others)" if not dead
                                else f"bin: unchanged ({dead} byte(s) no longer referenced, under 1/{COMPACT_AT} "
                                "of it; weights='rewrite' compacts it)")
            return None
    bp = BinPlan()
    first: dict[Any, int] = {}        # source key -> blob index
    node_blob: list[tuple[Node, int]] = []
    for n in live:
        data = n.meta.get(IR_DATA)
        if data is not None:
            key: Any = ("mem", id(data))
            if key not in first:
                first[key] = len(bp.blobs)
                bp.blobs.append((bytes(data), len(data)))
        else:
            info = const_info(n)
            w: Weights | None = getattr(getattr(n.source, "doc", None), "weights", None)
            if w is None or not w.exists:
                raise _node_error(n, f"Const {n.name!r} needs weights but the .bin does not exist")
            if info.offset + info.size > (w.size or 0):
                raise _node_error(n, f"Const {n.name!r}: bytes {info.offset}..{info.offset + info.size} lie beyond "
                                     f"the end of the .bin ({w.size} bytes)")
            key = ("bin", id(w), info.offset, info.size)
            if key not in first:
                first[key] = len(bp.blobs)
                bp.blobs.append(((w, info.offset), info.size))
        node_blob.append((n, first[key]))
    # de-duplicate by content: only blobs of equal size can be equal, hash just those
    by_size: dict[int, list[int]] = {}
    for i, (_, size) in enumerate(bp.blobs):
        by_size.setdefault(size, []).append(i)
    alias = list(range(len(bp.blobs)))
    for size, idxs in by_size.items():
        if len(idxs) < 2:
            continue
        seen: dict[bytes, int] = {}
        for i in idxs:
            h = _digest(bp.blobs[i][0], size)
            j = seen.get(h)
            if j is not None and _same(bp.blobs[i][0], bp.blobs[j][0], size):
                alias[i] = j
            else:
                seen.setdefault(h, i)
    offsets: dict[int, int] = {}
    pos = 0
    order: list[tuple[Any, int]] = []
    for i, (src, size) in enumerate(bp.blobs):
        if alias[i] != i:
            bp.shared += 1
            continue
        offsets[i] = pos
        order.append((src, size))
        pos += size
    bp.blobs = order
    bp.total = pos
    for n, i in node_blob:
        bp.place[n] = (offsets[alias[i]], _blob_size(n))
    ctx.const_place = bp.place
    return bp


def _blob_size(n: Node) -> int:
    data = n.meta.get(IR_DATA)
    return len(data) if data is not None else const_info(n).size


def _chunks(src: Any, size: int):  # type: ignore[no-untyped-def]
    if isinstance(src, (bytes, bytearray)):
        yield bytes(src)
        return
    w, off = src
    step = 1 << 24
    done = 0
    while done < size:
        n = min(step, size - done)
        b = os.pread(w.fd, n, off + done)
        if len(b) != n:
            raise ModelfileError(f"{w.path}: short read at offset {off + done}")
        yield b
        done += n


def _digest(src: Any, size: int) -> bytes:
    h = hashlib.blake2b(digest_size=32)
    for c in _chunks(src, size):
        h.update(c)
    return h.digest()


def _same(a: Any, b: Any, size: int) -> bool:
    """Byte comparison of two blobs with equal digests (the serializer also compares, not only hashes)."""
    if not isinstance(a, (bytes, bytearray)) and not isinstance(b, (bytes, bytearray)) and a[0] is b[0] \
            and a[1] == b[1]:
        return True
    return all(x == y for x, y in zip(_chunks(a, size), _chunks(b, size)))


def _node_error(node: Node, message: str) -> ModelfileError:
    pos = node.pos
    return ModelfileError(message, file=pos.file if pos else "", line=pos.line if pos else 0,
                          column=pos.column if pos else 0)


def _write_bin(bp: BinPlan, path: Path) -> None:
    """Write the planned blobs; holes of a sparse source stay holes, all-zero chunks become holes."""
    with atomic_write(path, "wb") as f:
        for src, size in bp.blobs:
            if isinstance(src, (bytes, bytearray)):
                f.write(src)
            else:
                _copy_blob(src[0], src[1], size, f)
        f.truncate(bp.total)  # materialise a trailing hole


def _copy_blob(w: Weights, off: int, size: int, f: Any) -> None:
    pos, end = off, off + size
    while pos < end:
        try:
            data = min(os.lseek(w.fd, pos, os.SEEK_DATA), end)
        except OSError:  # ENXIO: nothing but a hole up to the end of file (or no SEEK_DATA support)
            data = end if _is_hole_errno() else pos
        if data > pos:
            f.seek(data - pos, os.SEEK_CUR)
            pos = data
            continue
        try:
            hole = min(os.lseek(w.fd, pos, os.SEEK_HOLE), end)
        except OSError:
            hole = end
        while pos < hole:
            n = min(1 << 24, hole - pos)
            b = os.pread(w.fd, n, pos)
            if len(b) != n:
                raise ModelfileError(f"{w.path}: short read at offset {pos}")
            if n >= 4096 and b.count(0) == n:
                f.seek(n, os.SEEK_CUR)
            else:
                f.write(b)
            pos += n


def _is_hole_errno() -> bool:
    import sys

    e = sys.exc_info()[1]
    return isinstance(e, OSError) and e.errno == errno.ENXIO


def _copy_sparse(src: Weights, dst: Path) -> None:
    """Copy ``src`` to ``dst`` skipping holes (``SEEK_DATA``/``SEEK_HOLE``); constant memory."""
    with atomic_write(dst, "wb") as f:
        f.flush()
        copy_fd(src.fd, f.fileno(), src.size or 0)


# ---------------------------------------------------------------------------------------------
# text helpers
# ---------------------------------------------------------------------------------------------


def _attr_str(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, tuple)):
        return ",".join(_attr_str(x) for x in v)
    return str(v)


def _q(v: Any) -> str:
    return escape_attr(_attr_str(v))


def _attrs_text(attrs: dict[str, Any]) -> str:
    return "".join(f' {k}="{_q(v)}"' for k, v in attrs.items())


def _indent_of(text: str, pos: int) -> str | None:
    """The whitespace that starts the line ``pos`` is on, if only whitespace precedes ``pos`` on it."""
    ls = text.rfind("\n", 0, pos) + 1
    pre = text[ls:pos]
    return pre if not pre.strip() else None


def _attr_edits(text: str, el: El, want: dict[str, Any]) -> list[tuple[int, int, str]]:
    """Edits turning ``el``'s start-tag attributes into ``want`` (values patched in place, order kept)."""
    edits: list[tuple[int, int, str]] = []
    last_end = el.start + 1 + len(el.tag)
    for name, (ns, vs, ve) in el.attr_spans.items():
        last_end = max(last_end, ve + 1)
        if name not in want:
            # drop the attribute and the whitespace before it
            ws = ns
            while ws > 0 and text[ws - 1] in " \t\r\n":
                ws -= 1
            edits.append((ws, ve + 1, ""))
            continue
        new = _attr_str(want[name])
        if new != el.attrs[name]:
            esc = escape_attr(new)
            if el.quote.get(name) == "'":
                esc = esc.replace("&quot;", '"').replace("'", "&apos;")
            edits.append((vs, ve, esc))
    add = "".join(f' {k}="{_q(v)}"' for k, v in want.items() if k not in el.attrs)
    if add:
        edits.append((last_end, last_end, add))
    return edits


def _apply(text: str, start: int, end: int, edits: list[tuple[int, int, str]]) -> str:
    if not edits:
        return text[start:end]
    edits.sort(key=lambda e: (e[0], e[1]))
    out = []
    p = start
    for s, e, r in edits:
        if s < p:
            raise AssertionError(f"overlapping edits at {s} (< {p})")
        out.append(text[p:s])
        out.append(r)
        p = e
    out.append(text[p:end])
    return "".join(out)


def _port_names(v: Value, name0: str | None) -> list[str]:
    """Tensor names to write: ``v.names``, with ``v.name`` replacing the loaded primary name if it was renamed."""
    names = list(v.names)
    if v.name and v.name not in names:
        if name0 and name0 in names:
            names[names.index(name0)] = v.name
        else:
            names.insert(0, v.name)
    seen: set[str] = set()
    return [n for n in names if not (n in seen or seen.add(n))]  # type: ignore[func-returns-value]


def _value_name0(v: Value) -> str | None:
    p = v.producer
    if p is not None and p.source.__class__ is LayerSource:
        rec: LayerSource = p.source
        if 0 <= v.index < len(rec.ports0):
            names = rec.ports0[v.index][3]
            return names[0] if names else ""
    return None


# ---------------------------------------------------------------------------------------------
# per-layer content (what the layer should say now)
# ---------------------------------------------------------------------------------------------


def _layer_attrs(node: Node, lid: str, orig: dict[str, str] | None) -> dict[str, str]:
    want: dict[str, str] = dict(orig) if orig else {}
    want["id"] = lid
    want["name"] = node.name
    want["type"] = node.op_type
    if node.version is not None:
        want["version"] = node.version
    else:
        want.pop("version", None)
    if orig is None:  # a new layer: the serializer's order
        want = {k: want[k] for k in ("id", "name", "type", "version") if k in want}
    narrowed = node._meta.get(OUTPUT_NAMES) if node._meta is not None and node.op_type == "Result" else None
    if narrowed is not None:
        # a transform narrowed this output's names (several Results on one tensor): only names the tensor has
        v = node.inputs[0] if node.inputs else None
        names = _port_names(v, _value_name0(v)) if v is not None else []
        keep = [n for n in narrowed if n in names]
        if keep:
            want["output_names"] = format_names(keep)
        else:
            want.pop("output_names", None)
    elif "output_names" in want and node.op_type == "Result":
        v = node.inputs[0] if node.inputs else None
        names = _port_names(v, _value_name0(v)) if v is not None else []
        old = parse_names(want["output_names"])
        if not old or not all(o in names for o in old):
            if names:
                want["output_names"] = format_names(names)
            else:
                want.pop("output_names")
    return want


def _data_attrs(node: Node, rec: LayerSource | None, ctx: _Ctx) -> dict[str, str]:
    eff = {k: _attr_str(v) for k, v in node.attrs.items()}
    t = node.op_type
    if t == "Parameter" and node.outputs:
        v = node.outputs[0]
        a0 = (rec.attrs0 or {}) if rec is not None else {}
        s0 = rec.ports0[0] if rec is not None and rec.ports0 else None
        # keep <data> and the output value in sync whichever side a transform edited
        if "shape" not in eff or (s0 is not None and v.shape != s0[2] and eff.get("shape") == a0.get("shape")):
            eff["shape"] = format_shape(v.shape)
        if ("element_type" not in eff or (s0 is not None and v.dtype != s0[1]
                                          and eff.get("element_type") == a0.get("element_type"))) and v.dtype:
            eff["element_type"] = v.dtype
    place = ctx.const_place.get(node)
    if place is not None:
        eff["offset"] = str(place[0])
        eff["size"] = str(place[1])
    return eff


def _out_desc(node: Node, data: dict[str, str], in_count: int, out_ids: list[str]) -> list[tuple[dict[str, str], list[str]]]:
    descs = []
    is_param = node.op_type == "Parameter"
    for j, v in enumerate(node.outputs):
        dtype, shape = v.dtype, v.shape
        if is_param and j == 0:
            try:
                shape = parse_shape(data["shape"]) if "shape" in data else shape
            except ValueError:
                pass
            dtype = data.get("element_type") or dtype
        attrs = {"id": out_ids[j], "precision": precision_of_element_type(dtype)}
        names = _port_names(v, _value_name0(v))
        if names:
            attrs["names"] = format_names(names)
        descs.append((attrs, format_dims(shape)))
    return descs


def _in_desc(node: Node, in_ids: list[str], with_prec: bool) -> list[tuple[dict[str, str], list[str] | None]]:
    descs: list[tuple[dict[str, str], list[str] | None]] = []
    for i, v in enumerate(node.inputs):
        attrs = {"id": in_ids[i]}
        if with_prec and v is not None:
            attrs["precision"] = precision_of_element_type(v.dtype)
        descs.append((attrs, format_dims(v.shape) if v is not None else None))
    return descs


def _merge_port(orig: El | None, want: dict[str, str], keep_prec: bool | None) -> dict[str, str]:
    """Port attributes in the original's order; ``precision`` on input ports only where it was."""
    if orig is None:
        return want
    out = {}
    for k, v in orig.attrs.items():
        if k in want:
            out[k] = want[k]
        elif k != "names":  # the value has no names any more; anything else unknown stays
            out[k] = v
    for k, v in want.items():
        if k not in out and not (k == "precision" and keep_prec is False):
            out[k] = v
    return out


def _port_dims(pe: El) -> list[str]:
    return [d.text().strip() for d in pe.elements("dim")]


def _render_port(text: str, attrs: dict[str, str], dims: list[str], kept: list[El | Misc], ind: str,
                 ctx: _Ctx) -> str:
    st = ctx.style
    head = f"<port{_attrs_text(attrs)}"
    if not dims and not kept:
        return head + st.close
    inner = ind + st.unit
    parts = [head, ">"]
    for d in dims:
        parts.append(f"{st.eol}{inner}<dim>{escape_text(d)}</dim>")
    for c in kept:
        parts.append(f"{st.eol}{inner}{text[c.start:c.end]}")
    parts.append(f"{st.eol}{ind}</port>")
    return "".join(parts)


def _render_block(text: str, tag: str, ports: list[tuple[dict[str, str], list[str], list[El | Misc]]],
                  ind: str, ctx: _Ctx) -> str:
    st = ctx.style
    pi = ind + st.unit
    body = "".join(f"{st.eol}{pi}{_render_port(text, a, d, k, pi, ctx)}" for a, d, k in ports)
    return f"<{tag}>{body}{st.eol}{ind}</{tag}>"


def _kept_children(pe: El | None) -> list[El | Misc]:
    if pe is None:
        return []
    return [c for c in pe.children if (isinstance(c, El) and c.tag != "dim") or
            (isinstance(c, Misc) and c.kind == "comment")]


# ---------------------------------------------------------------------------------------------
# emitting layers
# ---------------------------------------------------------------------------------------------


def _layer_text(node: Node, plan: _Plan, ctx: _Ctx, ind: str) -> str:
    mode = plan.modes[node]
    rec: LayerSource = node.source
    if mode == _VERBATIM:
        return ctx.text[rec.start:rec.end]
    if mode == _NEW:
        return _render_new(node, plan, ctx, ind)
    if mode == _PATCH:
        fast = _fast_patch(node, rec, plan, ctx, ind)
        if fast is not None:
            return fast
    return _render_source(node, rec, plan, ctx, ind)


def _set_fast_attr(s: str, name: str, value: str) -> str:
    """Set one attribute in a fast-path attribute list (walking attributes, so values cannot fool it)."""
    for m in FAST_ATTR.finditer(s):
        if m.group(1) == name:
            return s[:m.start(2)] + escape_attr(value) + s[m.end(2):]
    return s.rstrip() + f' {name}="{escape_attr(value)}"' + s[len(s.rstrip()):]


def _names_only(node: Node, rec: LayerSource, plan: _Plan) -> bool:
    """Whether the layer's text differs from its source only in its output ports' ``names`` (cut-state
    naming the Concat that now feeds a new output, and reading a new Parameter where a ReadValue was):
    same type, name, attributes and port ids; inputs of the types and shapes the source's inputs had
    when read (the edges may differ: they are not in the layer); outputs of the same types and shapes."""
    if node.op_type != rec.type0 or node.name != rec.name0 or node.version != rec.version0 \
            or node.op_type in ("Parameter", "Result") or (node.attrs or None) != (rec.attrs0 or None):
        return False
    ins, ins0 = node._inputs, rec.inputs0
    if len(ins) != len(ins0):
        return False
    for v, v0 in zip(ins, ins0):  # (input ports carry the types and dims of what feeds them)
        if v is None or v0 is None:
            if v is not v0:
                return False
            continue
        p = v0.producer
        src = p.source if p is not None else None
        if src.__class__ is not LayerSource or not 0 <= v0.index < len(src.ports0):
            return False
        _, dt, shape, _ = src.ports0[v0.index]
        if v.dtype != dt or v.shape != shape:
            return False
    p0 = rec.ports0
    outs = node._outputs
    if len(outs) != len(p0) or any(v.dtype != dt or v.shape != shape for v, (_, dt, shape, _) in zip(outs, p0)):
        return False
    in_ids, out_ids = _port_ids(node, rec)
    return list(in_ids) == list(rec.in_ids) and list(out_ids) == [p[0] for p in p0]


class _PortView:
    """A fast-path ``<port>`` as :func:`_merge_port` reads an element: its attributes (fast-path values have
    no entities, so raw is unescaped) and dims."""

    __slots__ = ("attrs", "dims")

    def __init__(self, attrs: str, body: str | None) -> None:
        self.attrs = dict(FAST_ATTR.findall(attrs))
        self.dims = [d.strip() for d in FAST_DIM.findall(body or "")]


def _names_patch(node: Node, plan: _Plan, ctx: _Ctx, m: "re.Match[str]", ind: str) -> tuple[int, int, str] | None:
    """What :func:`_render_source` does to a fast-path layer of :func:`_names_only`, without parsing it: the
    input block must stay as it is (else None: the full render decides), the output block is re-rendered
    exactly as there when a port's attributes or dims differ. ``(start, end, text)`` of the output element
    (an empty edit when it stays)."""
    text = ctx.text
    ib, ob = m.group(8), m.group(9)
    if ob is None or "<rt_info" in ob or (ib is not None and "<rt_info" in ib):
        return None  # (no <output>, or ports with children the full render keeps: let it)
    in_ids, out_ids = _pids(plan, node)
    orig_in = [_PortView(pa, body) for pa, body in FAST_PORT.findall(ib or "")]
    has_prec = any("precision" in p.attrs for p in orig_in) if orig_in else ctx.in_prec
    want_in = _in_desc(node, in_ids, has_prec)
    if len(want_in) != len(orig_in):
        return None
    for (a, dims), pe in zip(want_in, orig_in):
        if _merge_port(pe, a, "precision" in pe.attrs) != pe.attrs or (pe.dims if dims is None else dims) != pe.dims:
            return None
    orig_out = [_PortView(pa, body) for pa, body in FAST_PORT.findall(ob)]
    want_out = _out_desc(node, node.attrs, len(in_ids), out_ids)
    if len(want_out) != len(orig_out):
        return None
    ports = [(_merge_port(pe, a, True), dims, []) for (a, dims), pe in zip(want_out, orig_out)]
    s9, e9 = m.span(9)
    if all(attrs == pe.attrs and dims == pe.dims for (attrs, dims, _), pe in zip(ports, orig_out)):
        return (s9, s9, "")
    start = text.rfind("<output>", 0, s9)
    end = text.find("</output>", e9) + len("</output>")
    base = _indent_of(text, m.end(1))
    cu = (base if base is not None else ind) + ctx.style.unit
    return (start, end, _render_block(text, "output", ports, cu, ctx))  # type: ignore[arg-type]


def _fast_patch(node: Node, rec: LayerSource, plan: _Plan, ctx: _Ctx, ind: str) -> str | None:
    """Id, Const offset/size and output-name changes on a fast-path layer without parsing it."""
    text = ctx.text
    m = FAST_LAYER.match(text, rec.start)
    if m is None or m.end() != rec.end:
        return None
    parts = []
    s1, e1 = fast_tag_span(m)
    la = text[s1:e1]
    if plan.ids[node] != rec.id:
        la = _set_fast_attr(la, "id", plan.ids[node])
    place = ctx.const_place.get(node)
    if node in ctx.renamed_only:
        edit = _names_patch(node, plan, ctx, m, ind) if place is None else None
        if edit is None:
            return None
        a, b, out = edit
        return "".join((text[rec.start:s1], la, text[e1:a], out, text[b:rec.end]))
    if m.group(7) is not None and place is not None:
        s2, e2 = m.span(7)
        da = text[s2:e2]
        da = _set_fast_attr(da, "offset", str(place[0]))
        da = _set_fast_attr(da, "size", str(place[1]))
        parts = [text[rec.start:s1], la, text[e1:s2], da, text[e2:rec.end]]
    elif place is not None:
        return None
    else:
        parts = [text[rec.start:s1], la, text[e1:rec.end]]
    return "".join(parts)


def _render_source(node: Node, rec: LayerSource, plan: _Plan, ctx: _Ctx, ind: str) -> str:
    """A touched layer: its original text with the parts that differ re-rendered."""
    text = ctx.text
    el = rec.element()
    if el.empty:
        return _render_new(node, plan, ctx, ind)
    st = ctx.style
    base = _indent_of(text, el.start)
    if base is None:
        base = ind
    cu = base + st.unit
    lid = plan.ids[node]
    in_ids, out_ids = _pids(plan, node)
    edits: list[tuple[int, int, str]] = []
    edits += _attr_edits(text, el, _layer_attrs(node, lid, el.attrs))
    kids = el.elements()
    # <data>
    data = _data_attrs(node, rec, ctx)
    d_el = el.find("data")
    if d_el is not None:
        edits += _attr_edits(text, d_el, data)
    elif data:
        edits.append((el.tag_end, el.tag_end, f"{st.eol}{cu}<data{_attrs_text(data)}{st.close}"))

    def anchor(before: tuple[str, ...]) -> int:
        pos = el.tag_end
        for k in kids:
            if k.tag in before:
                pos = max(pos, k.end)
        return pos

    def removal(child: El) -> tuple[int, int, str]:
        prev = el.tag_end
        for c in el.children:
            if c is child:
                break
            if not (isinstance(c, Misc) and c.kind == "text"):
                prev = c.end
        return (prev, child.end, "")

    # <input>
    i_el = el.find("input")
    orig_in = i_el.elements("port") if i_el is not None else []
    has_prec = any("precision" in p.attrs for p in orig_in) if orig_in else ctx.in_prec
    want_in = _in_desc(node, in_ids, has_prec)
    in_ports = []
    same = len(want_in) == len(orig_in)
    for i, (a, dims) in enumerate(want_in):
        pe = orig_in[i] if i < len(orig_in) else None
        attrs = _merge_port(pe, a, None if pe is None else ("precision" in pe.attrs))
        if dims is None:
            dims = _port_dims(pe) if pe is not None else []
        if pe is None or attrs != pe.attrs or dims != _port_dims(pe):
            same = False
        in_ports.append((attrs, dims, _kept_children(pe)))
    if not same:
        if i_el is not None and in_ports:
            edits.append((i_el.start, i_el.end, _render_block(text, "input", in_ports, cu, ctx)))
        elif i_el is not None:
            edits.append(removal(i_el))
        elif in_ports:
            at = anchor(("data", "rt_info"))
            edits.append((at, at, f"{st.eol}{cu}" + _render_block(text, "input", in_ports, cu, ctx)))
    # <output>
    o_el = el.find("output")
    orig_out = o_el.elements("port") if o_el is not None else []
    want_out = _out_desc(node, data, len(in_ids), out_ids)
    out_ports = []
    same = len(want_out) == len(orig_out)
    for j, (a, dims) in enumerate(want_out):
        pe = orig_out[j] if j < len(orig_out) else None
        attrs = _merge_port(pe, a, True)
        if pe is None or attrs != pe.attrs or dims != _port_dims(pe):
            same = False
        out_ports.append((attrs, dims, _kept_children(pe)))
    if not same:
        if o_el is not None and out_ports:
            edits.append((o_el.start, o_el.end, _render_block(text, "output", out_ports, cu, ctx)))
        elif o_el is not None:
            edits.append(removal(o_el))
        elif out_ports:
            at = anchor(("data", "rt_info", "input"))
            edits.append((at, at, f"{st.eol}{cu}" + _render_block(text, "output", out_ports, cu, ctx)))
    # port maps, back edges, bodies
    bodies = plan.bodies.get(node) or {}
    for k in kids:
        role = {v: r for r, v in PORT_MAP_OF.items()}.get(k.tag)
        if role is not None:
            want = _port_map_entries(node, role, bodies.get(role))
            have = [(c.tag, c.attrs) for c in k.elements()]
            if want is not None and want != have:
                edits.append((k.start, k.end, _render_port_map(k.tag, want, cu, ctx)))
        elif k.tag == "back_edges":
            want_be = _back_edge_entries(node, bodies.get("body"))
            have_be = [c.attrs for c in k.elements()]
            if want_be is not None and want_be != have_be:
                edits.append((k.start, k.end, _render_back_edges(want_be, cu, ctx)))
        elif k.tag in BODY_ROLES:
            bp = bodies.get(k.tag)
            if bp is not None and bp.changed:
                edits += _graph_edits(bp, ctx)
    return _apply(text, el.start, el.end, edits)


def _port_map_entries(node: Node, role: str, bp: _Plan | None) -> list[tuple[str, dict[str, str]]] | None:
    pm = (node.meta.get(IR_PORT_MAP) or {}).get(role)
    if pm is None:
        return None
    out = []
    for e in pm:
        attrs = {k: _attr_str(v) for k, v in e["attrs"].items()}
        inner = e.get("node")
        if inner is not None:
            if bp is None or inner not in bp.ids:
                raise ModelfileError(f"port map of {node.name!r} refers to body layer {inner.name!r}, "
                                     f"which is no longer in the body")
            attrs["internal_layer_id"] = bp.ids[inner]
        out.append((e.get("kind", "input"), attrs))
    return out


def _back_edge_entries(node: Node, bp: _Plan | None) -> list[dict[str, str]] | None:
    be = (node.meta.get(IR_BACK_EDGES) or {}).get("body")
    if be is None:
        return None
    out = []
    for e in be:
        attrs = {k: _attr_str(v) for k, v in e["attrs"].items()}
        for key, n in (("from-layer", e["from"]), ("to-layer", e["to"])):
            if bp is None or n not in bp.ids:
                raise ModelfileError(f"back edge of {node.name!r} refers to body layer {n.name!r}, "
                                     f"which is no longer in the body")
            attrs[key] = bp.ids[n]
        out.append(attrs)
    return out


def _render_port_map(tag: str, entries: list[tuple[str, dict[str, str]]], ind: str, ctx: _Ctx) -> str:
    st = ctx.style
    if not entries:
        return f"<{tag}{st.close}"
    inner = "".join(f"{st.eol}{ind}{st.unit}<{k}{_attrs_text(a)}{st.close}" for k, a in entries)
    return f"<{tag}>{inner}{st.eol}{ind}</{tag}>"


def _render_back_edges(entries: list[dict[str, str]], ind: str, ctx: _Ctx) -> str:
    return _render_port_map("back_edges", [("edge", a) for a in entries], ind, ctx)


def _render_new(node: Node, plan: _Plan, ctx: _Ctx, ind: str) -> str:
    """A whole layer in the serializer's layout."""
    st = ctx.style
    cu = ind + st.unit
    lid = plan.ids[node]
    in_ids, out_ids = _pids(plan, node)
    parts = [f"<layer{_attrs_text(_layer_attrs(node, lid, None))}>"]
    data = _data_attrs(node, None, ctx)
    bodies = plan.bodies.get(node) or {}
    if data:
        parts.append(f"{st.eol}{cu}<data{_attrs_text(data)}{st.close}")
    if node.inputs:
        ports = [(a, d or [], []) for a, d in _in_desc(node, in_ids, ctx.in_prec)]
        parts.append(f"{st.eol}{cu}" + _render_block("", "input", ports, cu, ctx))
    if node.outputs:
        ports = [(a, d, []) for a, d in _out_desc(node, data, len(in_ids), out_ids)]
        parts.append(f"{st.eol}{cu}" + _render_block("", "output", ports, cu, ctx))
    for role in ("body", "then_body", "else_body"):
        bp = bodies.get(role)
        pm = _port_map_entries(node, role, bp)
        if pm is not None:
            parts.append(f"{st.eol}{cu}" + _render_port_map(PORT_MAP_OF[role], pm, cu, ctx))
        if role == "body":
            be = _back_edge_entries(node, bp)
            if be is not None:
                parts.append(f"{st.eol}{cu}" + _render_back_edges(be, cu, ctx))
        if bp is not None:
            parts.append(f"{st.eol}{cu}" + _render_body(role, bp, cu, ctx))
    parts.append(f"{st.eol}{ind}</layer>")
    return "".join(parts)


def _render_body(role: str, bp: _Plan, ind: str, ctx: _Ctx) -> str:
    st = ctx.style
    li = ind + st.unit
    layers = _render_layers_fresh(bp, ctx, li + st.unit)
    edges = _render_edges(bp.edges or [], li + st.unit, ctx)
    return (f"<{role}>{st.eol}{li}<layers>{layers}{st.eol}{li}</layers>"
            f"{st.eol}{li}<edges>{edges}{st.eol}{li}</edges>{st.eol}{ind}</{role}>")


def _render_layers_fresh(plan: _Plan, ctx: _Ctx, ind: str) -> str:
    st = ctx.style
    return "".join(f"{st.eol}{ind}{_layer_text(n, plan, ctx, ind)}" for n in plan.emit)


def _render_edges(edges: list[tuple[str, str, str, str]], ind: str, ctx: _Ctx) -> str:
    st = ctx.style
    return "".join(f'{st.eol}{ind}<edge from-layer="{a}" from-port="{b}" to-layer="{c}" to-port="{d}"{st.close}'
                   for a, b, c, d in edges)


# ---------------------------------------------------------------------------------------------
# graphs and the document
# ---------------------------------------------------------------------------------------------


def _layer_indent(plan: _Plan, ctx: _Ctx) -> str:
    text = ctx.text
    gsrc = plan.gsrc
    for n in gsrc.nodes0 if gsrc is not None else ():
        rec = n.source
        gap = text[rec.gap_start:rec.start]
        if "\n" in gap:
            return gap[gap.rfind("\n") + 1:]
    if gsrc is not None and gsrc.layers is not None:
        li = _indent_of(text, gsrc.layers.start)
        if li is not None:
            return li + ctx.style.unit
    return ctx.style.unit * 2


def _graph_edits(plan: _Plan, ctx: _Ctx) -> list[tuple[int, int, str]]:
    """Edits to a graph that came from the document: its ``<layers>`` content and ``<edges>``."""
    text = ctx.text
    st = ctx.style
    gsrc = plan.gsrc
    assert gsrc is not None and gsrc.layers is not None
    edits: list[tuple[int, int, str]] = []
    ind = _layer_indent(plan, ctx)
    lay = gsrc.layers
    cont_ind = _indent_of(text, lay.start)
    if cont_ind is None:
        cont_ind = ind[: -len(st.unit)] if ind.endswith(st.unit) else ""
    if not plan.structure_changed and not lay.empty:
        # the original layer list: only the layers that differ are replaced
        modes = plan.modes
        for n in plan.emit:
            if modes[n] != _VERBATIM:
                rec = n.source
                edits.append((rec.start, rec.end, _layer_text(n, plan, ctx, ind)))
    elif plan.structure_changed:
        parts = []
        for n in plan.emit:
            mode = plan.modes[n]
            if mode == _NEW:
                parts.append(f"{st.eol}{ind}")
            else:
                rec: LayerSource = n.source
                parts.append(text[rec.gap_start:rec.start])
            parts.append(_layer_text(n, plan, ctx, ind))
        if lay.empty:
            content = "".join(parts) + f"{st.eol}{cont_ind}"
            edits.append((lay.start, lay.end, f"<layers>{content}</layers>"))
        else:
            parts.append(text[gsrc.last_end:lay.inner_end])
            edits.append((lay.inner_start, lay.inner_end, "".join(parts)))
    if plan.edges_changed:
        edges = _ordered_edges(plan)
        e_el = gsrc.edges
        if e_el is not None and not e_el.empty:
            close = text[e_el.inner_end - len(_trailing_ws(text, e_el.inner_end)):e_el.inner_end]
            edge_ind = _first_edge_indent(text, e_el) or ind
            body = _render_edges(edges, edge_ind, ctx)
            edits.append((e_el.inner_start, e_el.inner_end, body + (close if close else f"{st.eol}{cont_ind}")))
        else:
            body = _render_edges(edges, ind, ctx)
            new = f"<edges>{body}{st.eol}{cont_ind}</edges>"
            if e_el is not None:
                edits.append((e_el.start, e_el.end, new))
            else:
                edits.append((lay.end, lay.end, f"{st.eol}{cont_ind}{new}"))
    return edits


def _trailing_ws(text: str, end: int) -> str:
    i = end
    while i > 0 and text[i - 1] in " \t\r\n":
        i -= 1
    return text[i:end]


def _first_edge_indent(text: str, e_el: El) -> str | None:
    i = text.find("<edge", e_el.inner_start, e_el.inner_end)
    return _indent_of(text, i) if i >= 0 else None


def _ordered_edges(plan: _Plan) -> list[tuple[str, str, str, str]]:
    edges = plan.edges or []
    if plan.gsrc is None:
        return edges
    want = Counter(edges)
    out = []
    for e in map(tuple, plan.gsrc.edges0):
        if want.get(e, 0) > 0:  # type: ignore[call-overload]
            out.append(e)
            want[e] -= 1  # type: ignore[index]
    for e in edges:
        if want.get(e, 0) > 0:
            out.append(e)
            want[e] -= 1
    return out  # type: ignore[return-value]


_XML_NAME = re.compile(r"^[A-Za-z_][\w.\-]*$")


def _rt_item(key: str, value: Any, ind: str, ctx: _Ctx) -> str:
    st = ctx.style
    ok = bool(_XML_NAME.match(key)) and not key.lower().startswith("xml")
    head = f"<{key}" if ok else f'<info name="{escape_attr(key)}"'
    tag = key if ok else "info"
    if isinstance(value, dict):
        if not value:
            return head + st.close
        inner = "".join(f"{st.eol}{ind}{st.unit}{_rt_item(k, v, ind + st.unit, ctx)}" for k, v in value.items())
        return f"{head}>{inner}{st.eol}{ind}</{tag}>"
    return f'{head} value="{_q(value)}"{st.close}'


def _render_rt_info(rt: dict[str, Any], ind: str, ctx: _Ctx) -> str:
    st = ctx.style
    if not rt:
        return f"<rt_info{st.close}"
    inner = "".join(f"{st.eol}{ind}{st.unit}{_rt_item(k, v, ind + st.unit, ctx)}" for k, v in rt.items())
    return f"<rt_info>{inner}{st.eol}{ind}</rt_info>"


def _document_text(model: "Model", top: _Plan, ctx: _Ctx) -> str:
    doc = ctx.doc
    g = model.graph
    if doc is None or top.gsrc is None:
        return _fresh_document(model, top, ctx)
    text = ctx.text
    st = ctx.style
    net = doc.net
    assert net is not None
    edits: list[tuple[int, int, str]] = []
    want = dict(net.attrs)
    want["version"] = str(ctx.version)
    if g.name != doc.net_name:
        want["name"] = g.name
    edits += _attr_edits(text, net, want)
    if top.changed:
        edits += _graph_edits(top, ctx)
    rt = g.meta.get(RT_INFO, {})
    legacy = _legacy_edits(doc, rt, ctx) if rt != doc.rt_info0 and doc.rt_from_legacy else None
    if legacy is not None:
        edits += legacy
    elif rt != doc.rt_info0:
        ind = st.unit
        if doc.rt_el is not None:
            ind = _indent_of(text, doc.rt_el.start) or st.unit
            edits.append((doc.rt_el.start, doc.rt_el.end, _render_rt_info(rt, ind, ctx)))
        else:
            anchor = max([e.end for e in [top.gsrc.edges, top.gsrc.layers] if e is not None])
            edits.append((anchor, anchor, f"{st.eol}{ind}{_render_rt_info(rt, ind, ctx)}"))
        if doc.rt_from_legacy:
            for el in doc.legacy:
                s = el.start
                while s > 0 and text[s - 1] in " \t\r\n":
                    s -= 1
                edits.append((s, el.end, ""))
    return _apply(text, 0, len(text), edits)


def _legacy_edits(doc: IRDocument, rt: dict[str, Any], ctx: _Ctx) -> list[tuple[int, int, str]] | None:
    """Edits keeping a legacy ``<meta_data>`` block legacy: flat keys added, changed or removed in place.

    v10 files from mo keep their metadata in ``<meta_data>``; OpenVINO reads it only when there is no
    ``<rt_info>``, so writing an ``<rt_info>`` would hide it. ``None`` when a change cannot be said in the
    legacy form (a nested value other than the ones read from it).
    """
    meta = next((el for el in doc.legacy if el.tag == "meta_data"), None)
    if meta is None or meta.empty:
        return None
    old = doc.rt_info0
    for k in set(rt) | set(old):
        if rt.get(k) != old.get(k) and (isinstance(rt.get(k), dict) or isinstance(old.get(k), dict)
                                        or not _XML_NAME.match(k) or k in ("cli_parameters", "unset")):
            return None
    st = ctx.style
    text = ctx.text
    children = {c.tag: c for c in meta.elements()}
    edits: list[tuple[int, int, str]] = []
    ind = _indent_of(text, meta.start) or st.unit
    for k, v in rt.items():
        if old.get(k) == v:
            continue
        item = f'<{k} value="{_q(v)}"{st.close}'
        c = children.get(k)
        if c is not None:
            edits.append((c.start, c.end, item))
        else:
            end = meta.inner_end
            while end > meta.inner_start and text[end - 1] in " \t\r\n":
                end -= 1
            edits.append((end, end, f"{st.eol}{ind}{st.unit}{item}"))
    for k in old:
        if k not in rt and k in children:
            c = children[k]
            s0 = c.start
            while s0 > meta.inner_start and text[s0 - 1] in " \t\r\n":
                s0 -= 1
            edits.append((s0, c.end, ""))
    return edits


def _fresh_document(model: "Model", top: _Plan, ctx: _Ctx) -> str:
    st = ctx.style
    u = st.unit
    g = model.graph
    layers = _render_layers_fresh(top, ctx, u * 2)
    edges = _render_edges(top.edges or [], u * 2, ctx)
    rt_info = g.meta.get(RT_INFO, {}) or {}
    # v10 readers take legacy metadata only when <rt_info> is absent: write none if there is nothing to say
    rt = "" if (not rt_info and ctx.version == 10) else f"{u}{_render_rt_info(rt_info, u, ctx)}{st.eol}"
    # old runtimes look for the version in the first 512 bytes: a long name goes after it
    name = escape_attr(g.name)
    net = (f'<net name="{name}" version="{ctx.version}">' if len(name) < 400 else
           f'<net version="{ctx.version}" name="{name}">')
    return (f'<?xml version="1.0"?>{st.eol}{net}{st.eol}'
            f"{u}<layers>{layers}{st.eol}{u}</layers>{st.eol}{u}<edges>{edges}{st.eol}{u}</edges>{st.eol}"
            f"{rt}</net>{st.eol}")


# ---------------------------------------------------------------------------------------------
# entry points
# ---------------------------------------------------------------------------------------------


def render(model: "Model", *, version: int | None = None, prune: bool = True, renumber: bool = False,
           weights: str = "auto", rerender: str | bool = False, **_: Any) -> Rendered:
    """Compute the XML text (and ``.bin`` plan) for ``model`` without writing anything.

    ``rerender`` exists to exercise the renderer: ``"touched"`` treats every
    layer as edited (splice path), ``"new"`` writes every layer from scratch.
    """
    doc = getattr(model.state, "doc", None)
    doc = doc if isinstance(doc, IRDocument) else None
    src_version = doc.version if doc is not None else None
    if rerender == "new":
        doc = None
    ver = int(version) if version is not None else (src_version or 11)
    if ver not in (10, 11):
        raise ModelfileError(f"cannot write IR version {ver} (10 or 11)")
    if weights not in ("auto", "rewrite", "copy"):
        raise ModelfileError(f"weights must be 'auto', 'rewrite' or 'copy', not {weights!r}")
    ctx = _Ctx(doc, ver, renumber)
    ctx.touch_all = bool(rerender)
    top = _analyze(model.graph, ctx)
    notes: list[str] = []
    if (doc is not None and not renumber and weights != "rewrite" and not rerender
            and not _model_changed(model, doc, ctx, ver)):
        return Rendered(doc.text, True, None, ["xml unchanged (original bytes)"])
    _mark_consumers(top, ctx)
    if prune:
        _prune(top, ctx)
        if ctx.pruned:
            notes.append(f"dropped {ctx.pruned} unreachable layer(s)")
    bin_plan = _plan_bin(top, ctx, weights)
    if ctx.bin_note:
        notes.append(ctx.bin_note)
    _assign(top, ctx)
    text = _document_text(model, top, ctx)
    return Rendered(text, False, bin_plan, notes)


def write_model(model: "Model", path: Path, *, final: Path | None = None, version: int | None = None,
                prune: bool = True, renumber: bool = False, weights: str = "auto", rerender: str | bool = False,
                **options: Any) -> SaveResult:
    """Write ``path`` (.xml) and, when it must change or move, the ``.bin`` beside it.

    Options: ``final`` (where the files end up when ``path`` is a staging
    place: a ``.bin`` already there unchanged is not written), ``version``
    (10/11; default: the file's), ``prune`` unreachable layers of a changed
    model, ``renumber`` layer ids 0..n-1, ``weights`` ("auto": rewrite the .bin
    only when constants changed; "rewrite"; "copy"). An unchanged ``.bin`` going
    to a new place is copied (sparse-aware), never hard-linked.
    """
    rendered = render(model, version=version, prune=prune, renumber=renumber, weights=weights, rerender=rerender)
    doc = getattr(model.state, "doc", None)
    doc = doc if isinstance(doc, IRDocument) else None
    result = SaveResult(path=path)
    result.notes.extend(rendered.notes)
    out_bin = path.with_suffix(".bin")
    final_bin = (final if final is not None else path).with_suffix(".bin")
    if rendered.bin_plan is not None:
        bp = rendered.bin_plan
        _write_bin(bp, out_bin)
        result.weights = "rewritten"
        result.files.append(out_bin)
        result.notes.append(f"bin: {len(bp.blobs)} blob(s), {bp.total} bytes"
                            + (f", {bp.shared} duplicate(s) shared" if bp.shared else ""))
    elif doc is not None and doc.weights.exists:
        w = doc.weights
        try:
            same = os.path.samestat(os.fstat(w.fd), os.stat(final_bin))  # type: ignore[arg-type]
        except OSError:
            same = False
        if same:
            result.weights = "unchanged"
        else:
            _copy_sparse(w, out_bin)
            result.weights = "copied"
            result.files.append(out_bin)
    elif doc is not None:
        if any(n.op_type == "Const" for n in _iter_nodes(model.graph)):
            result.notes.append("no .bin next to the source: Const data is missing (read_model will fail)")
    data = doc.raw if (rendered.unchanged and doc is not None) else rendered.text.encode(
        doc.encoding if doc is not None else "utf-8")
    with atomic_write(path, "wb") as f:
        f.write(data)
    result.files.insert(0, path)
    return result


def _iter_nodes(g: Graph):  # type: ignore[no-untyped-def]
    for n in g.nodes:
        yield n
        for sub in n.subgraphs.values():
            yield from _iter_nodes(sub)
