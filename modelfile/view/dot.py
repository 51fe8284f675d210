"""Pictures of a graph: Graphviz DOT text, SVG (through the ``dot`` program) and a self-contained HTML page.

A picture shows the whole graph or a neighbourhood (:func:`neighbourhood`): every node within
``depth`` data edges of a centre node. IR ``Const`` nodes are not drawn by default: they are
listed in their consumer's label (``const f32[24,16]``), which is what a reader wants to see and
keeps big models legible. Nodes just outside a neighbourhood appear as small grey stubs so the
boundary stays visible. With a :class:`~modelfile.compare.diff.Diff`, added nodes are green,
changed ones orange (their tooltip lists the changes) and removed ones are red dashed ghosts
wired to their neighbours' partners.
"""

from __future__ import annotations

import html
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Any

from ..errors import ModelfileError
from ..graph import Node, Value
from ..model import Model
from ..passes.region import find_centre, is_const, neighbourhood, node_neighbours as _neighbours

__all__ = ["Picture", "build_picture", "dot_available", "find_centre", "neighbourhood", "render_svg",
           "to_html"]

_FILL = {"input": "#dbeafe", "output": "#e5e7eb", "added": "#bbf7d0", "changed": "#fed7aa", "removed": "#fecaca",
         "plain": "#ffffff"}
_MAX_ATTRS = 4
_MAX_TEXT = 28


# ---------------------------------------------------------------------------------------------
# the picture
# ---------------------------------------------------------------------------------------------

@dataclass
class PNode:
    """A drawn node: its DOT id, label lines, tooltip and category (colour)."""

    id: str
    lines: list[str]
    tooltip: str
    kind: str = "plain"
    stub: bool = False


@dataclass
class Picture:
    """What will be drawn: nodes and edges, ready for DOT."""

    title: str
    nodes: list[PNode] = field(default_factory=list)
    edges: list[tuple[str, str, str, bool]] = field(default_factory=list)  # src, dst, tooltip, dashed

    def to_dot(self) -> str:
        """Graphviz DOT text."""
        out = [f"digraph {_q(self.title)} {{",
               '  graph [rankdir=TB, fontname="Helvetica", fontsize=10, nodesep=0.25, ranksep=0.35,'
               f" tooltip={_q(self.title)}];",
               '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10, margin="0.1,0.04"];',
               '  edge [fontname="Helvetica", fontsize=8, color="#555555", arrowsize=0.6];']
        for n in self.nodes:
            label = "\\n".join(_esc(x) for x in n.lines)
            attrs = [f'label="{label}"', f"tooltip={_q(n.tooltip)}", f'fillcolor="{_FILL.get(n.kind, "#ffffff")}"']
            if n.stub:
                attrs += ['style="rounded,dashed"', 'fontcolor="#777777"', 'color="#999999"', "fontsize=8"]
            if n.kind == "removed":
                attrs += ['style="rounded,filled,dashed"', 'color="#b91c1c"']
            out.append(f"  {n.id} [{', '.join(attrs)}];")
        for src, dst, tip, dashed in self.edges:
            extra = ', style="dashed", color="#b91c1c"' if dashed else ""
            out.append(f"  {src} -> {dst} [tooltip={_q(tip)}{extra}];")
        out.append("}")
        return "\n".join(out) + "\n"


def _esc(s: str) -> str:
    return s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def _q(s: str) -> str:
    return '"' + _esc(s) + '"'


def _short(s: str, n: int = _MAX_TEXT) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


def _short_name(s: str, n: int = 40) -> str:
    """Long names lose their middle: the end (``.../MatMul``) says most."""
    if len(s) <= n:
        return s
    head = (n - 1) // 3
    return s[:head] + "…" + s[len(s) - (n - 1 - head):]


def _shape(v: Value, ops: Any) -> str:
    shape = v.shape
    if shape is None and ops is not None and v.producer is not None and ops.is_input(v.producer):
        s = ops.value_shape(v)  # ncnn values carry no shapes; its Input layers declare them
        return "[" + ",".join("?" if d is None else str(d) for d in s) + "]" if s else ""
    if shape is None:
        return ""
    parts = []
    for d in shape:
        parts.append("?" if d == -1 else (f"{d[0]}..{d[1]}" if isinstance(d, tuple) else str(d)))
    return "[" + ",".join(parts) + "]"


def _attr_text(node: Node) -> list[str]:
    from ..compare.diff import attr_items

    items: list[str] = []
    for k, val in attr_items(node):
        items.append(f"{k}={_short(val, 18)}")
    lines = []
    # two attributes per line, at most _MAX_ATTRS shown
    shown = items[:_MAX_ATTRS]
    for i in range(0, len(shown), 2):
        lines.append(" ".join(shown[i:i + 2]))
    if len(items) > _MAX_ATTRS:
        lines.append(f"+{len(items) - _MAX_ATTRS} more")
    return lines


def _kind(node: Node) -> str:
    if node.op_type in ("Input", "Parameter"):
        return "input"
    if node.op_type == "Result":
        return "output"
    return "plain"


def _label(node: Node, ops: Any, show_consts: bool) -> list[str]:
    lines = [node.op_type, _short_name(node.name)]
    lines += _attr_text(node)
    if not show_consts:
        consts = [v for v in node.inputs if v is not None and v.producer is not None and is_const(v.producer)]
        for v in consts[:3]:
            p = v.producer
            assert p is not None
            lines.append(f"const {p.attrs.get('element_type', '')}{_shape(v, ops)}")
        if len(consts) > 3:
            lines.append(f"+{len(consts) - 3} consts")
    shapes = [_shape(v, ops) for v in node.outputs]
    shapes = [s for s in shapes if s]
    if shapes:
        lines.append(_short(" ".join(shapes), 40))
    if node._subgraphs:
        lines.append(", ".join(f"{role}: {len(g.nodes)} ops" for role, g in node.subgraphs.items()))
    return lines


def _tooltip(node: Node, where: str, extra: list[str]) -> str:
    parts = [f"{node.op_type} {node.name}"]
    if where:
        parts.append(where)
    parts += extra
    return " | ".join(parts)


def build_picture(model: Model, nodes: list[Node] | None = None, *, diff: Any = None, show_consts: bool = False,
                  title: str = "") -> Picture:
    """The picture of ``nodes`` (default: all) of ``model``; ``diff`` is a Diff of (other -> model) to colour."""
    from ..compare.diff import positions

    ops = model.ops
    g = model.graph
    chosen = list(g.nodes) if nodes is None else nodes
    if not show_consts:
        chosen = [n for n in chosen if not is_const(n)]
    where = positions(chosen)
    pic = Picture(title or (model.path.name if model.path else "graph"))
    ids: dict[int, str] = {}
    for i, n in enumerate(chosen):
        ids[id(n)] = f"n{i}"
    added = {id(n) for n in diff.added_nodes} if diff is not None else set()
    changes: dict[int, list[str]] = {}
    if diff is not None:
        for nb, c in zip(diff.changed_nodes, diff.changed):
            lines = [f"{x.what}: {x.before} -> {x.after}" for x in c.changes]
            if c.weights is not None:
                lines.append(f"weights {c.weights.status}")
            changes[id(nb)] = lines
    for n in chosen:
        kind = _kind(n)
        extra: list[str] = []
        if id(n) in added:
            kind, extra = "added", ["added"]
        elif id(n) in changes:
            kind, extra = "changed", changes[id(n)]
        pic.nodes.append(PNode(ids[id(n)], _label(n, ops, show_consts), _tooltip(n, where.get(id(n), ""), extra),
                               kind))
    # edges, and stubs for neighbours outside the picture
    stubs: dict[int, str] = {}

    def stub(m: Node) -> str:
        s = stubs.get(id(m))
        if s is None:
            s = stubs[id(m)] = f"s{len(stubs)}"
            pic.nodes.append(PNode(s, [m.op_type, _short_name(m.name, 20)], f"{m.op_type} {m.name} (not drawn)",
                                   stub=True))
        return s

    partial = nodes is not None
    for n in chosen:
        for v in n.inputs:
            p = v.producer if v is not None else None
            if p is None:
                continue
            if not show_consts and is_const(p):
                continue
            src = ids.get(id(p)) or (stub(p) if partial else None)
            if src is not None:
                pic.edges.append((src, ids[id(n)], _tensor_tip(v, ops), False))
        if partial:
            for v in n.outputs:
                for c in v.consumers():
                    if id(c) not in ids and not (not show_consts and is_const(c)):
                        pic.edges.append((ids[id(n)], stub(c), _tensor_tip(v, ops), False))
    if diff is not None:
        _ghosts(pic, diff, ids, ops, show_consts, partial)
    return pic


def _tensor_tip(v: Value, ops: Any) -> str:
    name = v.name or (v.names[0] if v.names else "")
    return f"{name} {_shape(v, ops)}".strip()


def _ghosts(pic: Picture, diff: Any, ids: dict[int, str], ops: Any, show_consts: bool, partial: bool) -> None:
    """Removed nodes (of the other model) as red dashed nodes wired to their neighbours' partners."""
    from ..compare.diff import positions

    pairs: dict[int, Node] = diff.pairs
    removed = [n for n in diff.removed_nodes if show_consts or not is_const(n)]
    rid = {id(n): f"r{i}" for i, n in enumerate(removed)}

    def near(n: Node) -> bool:
        return any(id(pairs.get(id(m))) in ids for m in _neighbours(n) if id(m) in pairs)

    drawn = [n for n in removed if not partial or near(n)]
    drawn_ids = {id(n) for n in drawn}
    where = positions(drawn)
    for n in drawn:
        pic.nodes.append(PNode(rid[id(n)], _label(n, ops, show_consts),
                               _tooltip(n, where.get(id(n), ""), ["removed"]), "removed"))
    for n in drawn:
        for v in n.inputs:
            p = v.producer if v is not None else None
            if p is None:
                continue
            if id(p) in drawn_ids:
                pic.edges.append((rid[id(p)], rid[id(n)], _tensor_tip(v, ops), True))
            elif id(p) in pairs and id(pairs[id(p)]) in ids:
                pic.edges.append((ids[id(pairs[id(p)])], rid[id(n)], _tensor_tip(v, ops), True))
        for v in n.outputs:
            for c in v.consumers():
                if id(c) in pairs and id(pairs[id(c)]) in ids:
                    pic.edges.append((rid[id(n)], ids[id(pairs[id(c)])], _tensor_tip(v, ops), True))


# ---------------------------------------------------------------------------------------------
# rendering
# ---------------------------------------------------------------------------------------------

def dot_available() -> bool:
    """Whether Graphviz ``dot`` is on the PATH."""
    return shutil.which("dot") is not None


def render_svg(dot_text: str, *, timeout: float = 300) -> str:
    """SVG text from DOT text, with Graphviz ``dot``."""
    exe = shutil.which("dot")
    if exe is None:
        raise ModelfileError("Graphviz 'dot' is not installed", hint="apt-get install graphviz, or write a .dot file")
    try:
        r = subprocess.run([exe, "-Tsvg"], input=dot_text.encode("utf-8"), capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ModelfileError(f"Graphviz 'dot' took more than {timeout:.0f} s",
                             hint="draw a neighbourhood: --around NODE --depth N") from None
    if r.returncode != 0:
        msg = r.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ModelfileError(f"Graphviz 'dot' failed: {msg[-1] if msg else r.returncode}")
    return r.stdout.decode("utf-8")


_HTML = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ margin: 0; font: 13px Helvetica, Arial, sans-serif; }}
header {{ position: sticky; top: 0; background: #f8fafc; border-bottom: 1px solid #ddd; padding: 6px 10px; }}
#view {{ overflow: auto; height: calc(100vh - 42px); }}
#view svg {{ transform-origin: 0 0; }}
g.node.hit polygon, g.node.hit path {{ stroke: #dc2626; stroke-width: 3px; }}
</style></head><body>
<header><b>{title}</b> &nbsp; <input id="q" placeholder="find a node (name or type)" size="32">
 <button id="zin">+</button><button id="zout">&minus;</button> <span id="n"></span></header>
<div id="view">
{svg}
</div>
<script>
(function () {{
  var svg = document.querySelector('#view svg'), scale = 1;
  function zoom(f) {{ scale *= f; svg.style.transform = 'scale(' + scale + ')'; }}
  document.getElementById('zin').onclick = function () {{ zoom(1.25); }};
  document.getElementById('zout').onclick = function () {{ zoom(0.8); }};
  document.getElementById('q').oninput = function () {{
    var q = this.value.toLowerCase(), hits = 0, first = null;
    document.querySelectorAll('g.node').forEach(function (g) {{
      var hit = q && g.textContent.toLowerCase().indexOf(q) >= 0;
      g.classList.toggle('hit', !!hit);
      if (hit) {{ hits++; if (!first) first = g; }}
    }});
    document.getElementById('n').textContent = q ? hits + ' found' : '';
    if (first) first.scrollIntoView({{block: 'center', inline: 'center'}});
  }};
}})();
</script></body></html>
"""


def to_html(svg: str, title: str) -> str:
    """A self-contained HTML page around an SVG picture (find box, zoom buttons; no network)."""
    body = svg[svg.index("<svg"):] if "<svg" in svg else svg  # drop the XML prolog and doctype
    return _HTML.format(title=html.escape(title), svg=body)
