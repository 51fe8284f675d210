"""Write a graph back to ncnn text ``.param``: untouched lines byte-for-byte.

Counts are computed here, never stored. A layer whose :func:`signature`
changed since it was read (or that is new) is rendered in the file's own
style: column widths, float spelling and key order detected from its lines.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from ...graph import Graph, Node, fresh_name
from .params import Param
from .reader import LineSource, NcnnDocument, signature

__all__ = ["Style", "detect_style", "render_node", "to_text"]


@dataclass(frozen=True, slots=True)
class Style:
    """How a file lays out its lines.

    ``type_width``/``name_width``: the ``%-Ns`` widths of the first two columns
    (0 = single space); ``float_style``: see :func:`~.params.format_float`;
    ``key_order``: ``"numeric"`` or ``"lexicographic"`` (pnnx sorts keys as
    strings: 0 1 10 11 2).
    """

    type_width: int = 24
    name_width: int = 24
    float_style: str = "e"
    key_order: str = "numeric"

    @classmethod
    def named(cls, name: str) -> "Style":
        """A writer's house style: ``pnnx``, ``ncnn`` (ncnnoptimize), ``onnx2ncnn``, ``caffe``, ``compact``."""
        return {
            "pnnx": cls(24, 24, "e", "lexicographic"),
            "ncnn": cls(24, 24, "e", "numeric"),
            "onnx2ncnn": cls(16, 24, "e", "numeric"),
            "caffe": cls(16, 16, "e", "numeric"),
            "compact": cls(0, 0, "e", "numeric"),
        }[name]


_E_LONG = re.compile(r"^-?\d\.\d+e[+-]\d\d+$")
_E_SHORT = re.compile(r"^-?\d\.\d+e-?[1-9]\d*$")
_F = re.compile(r"^-?\d+\.\d{6}$")


def detect_style(graph: Graph) -> Style:
    """Infer the dominant column widths, float spelling and key order of a file."""
    tw: Counter[int] = Counter()
    nw: Counter[int] = Counter()
    floats: Counter[str] = Counter()
    lex = numeric = 0
    for node in graph.nodes:
        src = node.source
        if not isinstance(src, LineSource):
            continue
        line = src.raw.rstrip("\r\n")
        m = re.match(r"(\S+)( +)(\S+)( +)\S", line)
        if m:
            t, sp1, n, sp2 = m.group(1), m.group(2), m.group(3), m.group(4)
            if len(sp1) > 1:
                tw[len(t) + len(sp1) - 1] += 1
            elif len(t) < 8:
                tw[0] += 1
            if len(sp2) > 1:
                nw[len(n) + len(sp2) - 1] += 1
            elif len(n) < 8:
                nw[0] += 1
        ids = [p.id for p in node.attrs.values() if p.array_style != "old"]
        for a, b in zip(ids, ids[1:]):
            if a > b and str(a) < str(b):
                lex += 1
            elif a < b and str(a) > str(b):
                numeric += 1
        for p in node.attrs.values():
            text = p.text
            if text and ("." in text or "e" in text) and not text[:1].isalpha() and text[:1] != '"':
                for chunk in text.split(","):
                    if _E_LONG.match(chunk):
                        floats["e"] += 1
                    elif _E_SHORT.match(chunk):
                        floats["e-short"] += 1
                    elif _F.match(chunk):
                        floats["f"] += 1
                    elif "." in chunk:
                        floats["g"] += 1
    default = Style()
    return Style(
        tw.most_common(1)[0][0] if tw else default.type_width,
        nw.most_common(1)[0][0] if nw else default.name_width,
        floats.most_common(1)[0][0] if floats else default.float_style,
        "lexicographic" if lex > numeric else "numeric",
    )


def _key_rank(p: Param, order: str) -> tuple[int, object]:
    # old-style arrays (negative keys) go after scalars, as every converter writes them
    if p.array_style == "old":
        return (1, p.id)
    return (0, str(p.id) if order == "lexicographic" else p.id)


def _ordered_params(node: Node, style: Style) -> list[Param]:
    params: list[Param] = list(node.attrs.values())
    src = node.source
    if not isinstance(src, LineSource):
        return params  # a new layer: the order its creator chose
    old_ids = {p.id for p in src.sig[4]}
    kept = [p for p in params if p.id in old_ids]
    for p in params:
        if p.id in old_ids:
            continue
        # insert a new key before the first kept key that sorts after it
        rank = _key_rank(p, style.key_order)
        pos = len(kept)
        for j, q in enumerate(kept):
            if q.id not in old_ids:
                continue
            if _key_rank(q, style.key_order) > rank:
                pos = j
                break
        kept.insert(pos, p)
    return kept


def render_node(node: Node, style: Style) -> str:
    """One layer line (no line ending) in ``style``."""
    ins = [v.name if v is not None else "" for v in node.inputs]
    outs = [v.name for v in node.outputs]
    if style.type_width:
        head = f"{node.op_type:<{style.type_width}} {node.name:<{style.name_width or 1}} "
    else:
        head = f"{node.op_type} {node.name} "
    if not style.name_width:
        head = head.rstrip(" ") + " "
    parts = [f"{head}{len(ins)} {len(outs)}"]
    parts.extend(ins)
    parts.extend(outs)
    parts.extend(p.render(style.float_style) for p in _ordered_params(node, style))
    return " ".join(parts)


def _fresh_names(graph: Graph) -> None:
    """Give unnamed layers and blobs unique names (writers need names; the AST does not)."""
    nodes = graph.nodes
    if all(n.name for n in nodes) and all(v.name for n in nodes for v in n.outputs):
        return
    taken_layers = graph.layer_names()
    taken_blobs = graph.tensor_names()
    for n in nodes:
        if not n.name:
            n.name = fresh_name(n.op_type.split(".")[-1].lower(), taken_layers)
        for v in n.outputs:
            if not v.name:
                v.name = fresh_name("blob", taken_blobs)


def _counts_line(doc: NcnnDocument, n_layers: int, n_blobs: int, newline: str) -> str:
    """The counts line: the file's own until an edit changes a count, then moved by what the edit changed.

    Counts change only through an edit that changes them (``lint --fix`` and
    ``fmt`` write the true ones): a file declaring one layer too few keeps
    declaring one too few, so ncnn sees what it saw before, less the edit. A
    blob count is never written lower than ncnn needs; a surplus is harmless.
    """
    if doc.true_counts:
        return f"{n_layers} {n_blobs}{newline}"
    layers_at_load = doc.layers_at_load if doc.layers_at_load >= 0 else doc.declared_layers
    if n_layers == layers_at_load and n_blobs == doc.blobs_at_load:
        return doc.counts_raw
    layers = max(0, doc.declared_layers + (n_layers - layers_at_load))
    blobs = max(n_blobs, doc.declared_blobs + (n_blobs - doc.blobs_at_load))
    return f"{layers} {blobs}{newline}"


def to_text(graph: Graph, style: Style | None = None, *, reformat: bool = False) -> str:
    """Serialize ``graph``. ``reformat`` re-renders every line (``modelfile fmt``)."""
    doc = graph.source if isinstance(graph.source, NcnnDocument) else None
    _fresh_names(graph)
    newline = doc.newline if doc else "\n"
    n_layers = len(graph.nodes)
    n_blobs = len(graph.values())
    out: list[str] = []
    if doc is not None and not reformat:
        out.append(doc.magic_raw)
        out.append(_counts_line(doc, n_layers, n_blobs, newline))
    else:
        out.append(f"7767517{newline}{n_layers} {n_blobs}{newline}")
    for node in graph.nodes:
        src = node.source
        clean = isinstance(src, LineSource) and not reformat and src.sig == signature(node)
        if out and not out[-1].endswith("\n"):
            out.append(newline)
        if clean:
            out.append(src.prefix)
            out.append(src.raw)
            continue
        if style is None:
            style = detect_style(graph)
        if isinstance(src, LineSource) and not reformat:
            out.append(src.prefix)
        out.append(render_node(node, style) + newline)
    if doc is not None and doc.trailing:
        if out and not out[-1].endswith("\n"):
            out.append(newline)
        out.append(doc.trailing)
    return "".join(out)
