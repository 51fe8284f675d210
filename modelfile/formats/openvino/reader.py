"""IR ``.xml`` (v10/v11) -> :class:`~modelfile.graph.Graph`.

Mapping (see ``docs/openvino-ir.md``): a ``<layer>`` becomes a :class:`Node`
(``op_type`` = IR ``type`` as spelled, ``version`` = opset, ``attrs`` = the
``<data>`` attributes as an ordered dict of strings), each output ``<port>``
a :class:`Value` (``dtype`` lowercase element type, ``shape`` tuple with
``-1`` for dynamic dims, ``names`` the unescaped tensor names, ``name`` the
first of them), and edges become node inputs in port order. Parameters feed
``graph.inputs`` and Result inputs ``graph.outputs`` (XML order); Result and
Assign layers stay nodes. TensorIterator/Loop/If bodies become
``node.subgraphs["body"|"then_body"|"else_body"]`` with their port maps and
back edges in ``node.meta["ir_port_map"]`` / ``node.meta["ir_back_edges"]``.

Everything else (rt_info, comments, unknown elements and attributes, the
exact text) stays in the source text, which :class:`LayerSource` and
:class:`GraphSource` point into; the writer re-emits it.
"""

from __future__ import annotations

import copy
import gc
import re
from pathlib import Path
from typing import Any

from ...errors import ModelfileError
from ...graph import Graph, Node, SourcePos, Value
from .names import element_type_of_precision, parse_names, parse_shape
from .weights import Weights
from .xmlscan import (
    EDGE_FAST, FAST_ATTR, FAST_DIM, FAST_LAYER, FAST_PORT, FAST_PORT_ID_FIRST, El, ScanError, end_tag_at, line_col,
    parse_element, skip_misc, start_tag,
)

__all__ = ["GraphSource", "IRDocument", "LayerSource", "Style", "read_bytes", "read_path"]

BODY_ROLES = ("body", "then_body", "else_body")
PORT_MAP_OF = {"body": "port_map", "then_body": "then_port_map", "else_body": "else_port_map"}
ROLE_OF_PORT_MAP = {v: k for k, v in PORT_MAP_OF.items()}


class Style:
    """How the file is laid out, so new text matches it."""

    __slots__ = ("unit", "eol", "close")

    def __init__(self, unit: str = "\t", eol: str = "\n", close: str = " />") -> None:
        self.unit = unit    # one indentation level
        self.eol = eol      # line ending
        self.close = close  # " />" (pugixml, the 2021+ serializer) or "/>" (MO)


class IRDocument:
    """What a loaded IR keeps besides the graph: the original text and where things are in it."""

    def __init__(self, path: Path | None, raw: bytes | None, text: str, encoding: str) -> None:
        self.path = path
        self.file = str(path) if path is not None else "<xml>"
        # UTF-8 decodes and encodes back to the same bytes: keep only the text then (half the memory)
        self._raw = raw if encoding != "utf-8" else None
        self.text = text
        self.encoding = encoding
        self.version = 11
        self.net: El | None = None
        self.net_name = ""
        self.net_end = 0
        self.style = Style()
        self.top: GraphSource | None = None
        self.rt_el: El | None = None
        self.legacy: list[El] = []
        self.others: list[El] = []
        self.rt_from_legacy = False
        self.rt_info0: dict[str, Any] = {}
        self.weights = Weights(None)
        self.bin_path: Path | None = None
        #: every Const node at load (bodies included), to see which were dropped
        self.consts: list[Node] = []
        self.graph: Graph | None = None

    @property
    def raw(self) -> bytes:
        """The file's bytes as read."""
        return self._raw if self._raw is not None else self.text.encode("utf-8")

    def pos(self, offset: int) -> SourcePos:
        """Line/column of a text offset."""
        line, col = line_col(self.text, offset)
        return SourcePos(self.file, line, col)

    def error(self, offset: int | None, message: str) -> ModelfileError:
        """A ModelfileError positioned at ``offset``."""
        if offset is None:
            return ModelfileError(message, file=self.file)
        line, col = line_col(self.text, offset)
        start = self.text.rfind("\n", 0, offset) + 1
        end = self.text.find("\n", offset)
        src_line = self.text[start: end if end >= 0 else len(self.text)]
        return ModelfileError(message, file=self.file, line=line, column=col, source_line=src_line)


class GraphSource:
    """Where a graph's ``<layers>``/``<edges>`` are in the text and what they held at load."""

    __slots__ = ("doc", "layers", "edges", "edges0", "edge_pos", "nodes0", "last_end", "container",
                 "inputs0", "outputs0")

    def __init__(self, doc: "IRDocument | None" = None) -> None:
        self.doc = doc
        self.layers: El | None = None      # start tag + inner/end offsets (children not kept)
        self.edges: El | None = None
        self.edges0: list[tuple[str, str, str, str]] = []
        self.edge_pos: list[int] | None = None
        self.nodes0: list[Node] = []
        self.last_end = 0                  # end of the last <layer> (start of the closing gap)
        self.container: El | None = None   # <net> or <body>/<then_body>/<else_body>
        self.inputs0: list[Value] = []
        self.outputs0: list[Value] = []


class LayerSource:
    """A node read from a file: its text span and what it looked like then (for change detection).

    Not slotted on purpose: the loader builds thousands of these per second by
    assigning one ``__dict__`` literal, and rarely used fields fall back to the
    class defaults below.
    """

    doc: IRDocument
    gsrc: GraphSource
    id: str = ""
    start: int = 0
    end: int = 0
    gap_start: int = 0
    type0: str = ""
    name0: str = ""
    version0: str | None = None
    attrs0: dict[str, str] | None = None   # None: the layer had no <data>
    in_ids: "list[str] | tuple[()]" = ()
    #: output ports at load: (port id, element type, shape, tensor names); shared between layers
    #: with identical port text, so never mutate it
    ports0: "list[tuple[str, str | None, Any, list[str]]] | tuple[()]" = ()
    inputs0: tuple[Value | None, ...] = ()
    pm0: Any = None
    be0: Any = None
    _el: El | None = None

    def __init__(self, doc: IRDocument, gsrc: GraphSource, lid: str, start: int, end: int, gap_start: int) -> None:
        self.doc = doc
        self.gsrc = gsrc
        self.id = lid
        self.start = start
        self.end = end
        self.gap_start = gap_start

    @property
    def out_ids(self) -> list[str]:
        """Output port ids at load."""
        return [p[0] for p in self.ports0]

    def element(self) -> El:
        """The layer's element tree with offsets (parsed on first use)."""
        if self._el is None:
            self._el = parse_element(self.doc.text, self.start)
        return self._el

    @property
    def text(self) -> str:
        """The layer's original text."""
        return self.doc.text[self.start: self.end]

    def __repr__(self) -> str:
        return f"LayerSource(id={self.id}, {self.start}:{self.end})"


_new_rec = LayerSource.__new__


# ---------------------------------------------------------------------------------------------
# entry points
# ---------------------------------------------------------------------------------------------


def read_path(path: Path, *, check_weights: bool = True) -> tuple[Graph, IRDocument]:
    """Read ``path`` (and note the ``.bin`` beside it)."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ModelfileError(f"cannot read: {e.strerror}", file=str(path)) from None
    return read_bytes(raw, path, check_weights=check_weights)


_DECL_ENC = re.compile(rb'^\s*<\?xml[^>]*?encoding\s*=\s*["\']([A-Za-z0-9._\-]+)["\']')


def _decode(raw: bytes, file: str) -> tuple[str, str]:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        enc = "utf-16"
    else:
        m = _DECL_ENC.match(raw.lstrip(b"\xef\xbb\xbf"))
        enc = m.group(1).decode("ascii").lower() if m else "utf-8"
        if enc in ("utf8", "us-ascii", "ascii"):
            enc = "utf-8"
    try:
        text = raw.decode(enc)
    except LookupError:
        raise ModelfileError(f"unknown encoding {enc!r} in the XML declaration", file=file, line=1) from None
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise ModelfileError(f"not valid {enc.upper()} text (byte {e.start})", file=file, line=line) from None
    if "\x00" in text[:4096]:
        raise ModelfileError("not an XML file (binary data)", file=file, line=1)
    return text, enc


def _lxml_diagnosis(doc: IRDocument, err: ScanError) -> ModelfileError:
    """Turn a scanner rejection into the most precise message available (lxml's, when it also fails)."""
    if "DTD" in err.message or len(doc.raw) > (256 << 20):  # lxml's tree of a huge file costs GBs
        return doc.error(err.pos, err.message if "DTD" in err.message else f"malformed XML: {err.message}")
    try:
        from lxml import etree
    except ImportError:  # pragma: no cover - lxml is a dependency
        return doc.error(err.pos, err.message)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True,
                             remove_comments=False, remove_blank_text=False)
    try:
        etree.fromstring(doc.raw, parser)
    except etree.XMLSyntaxError as e:
        line, col = (e.position if e.position else (e.lineno or 0, 0))
        msg = str(e.msg or e).split(", line ")[0]
        lines = doc.text.splitlines()
        src = lines[line - 1] if 0 < line <= len(lines) else None
        return ModelfileError(f"malformed XML: {msg}", file=doc.file, line=line or 0, column=col or 0,
                              source_line=src)
    except Exception:  # pragma: no cover - anything else: fall back to ours
        pass
    return doc.error(err.pos, f"malformed XML: {err.message}")


def read_bytes(raw: bytes, path: Path | None = None, *, check_weights: bool = True) -> tuple[Graph, IRDocument]:
    """Read an IR document from bytes; ``path`` locates the ``.bin`` and names the file in errors."""
    file = str(path) if path is not None else "<xml>"
    text, enc = _decode(raw, file)
    doc = IRDocument(path, raw, text, enc)
    # Loading allocates hundreds of thousands of containers and none of them can be garbage yet:
    # pausing the cyclic GC avoids repeated full collections (2-3x faster on big IRs).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        graph = _read(doc)
    except ScanError as e:
        raise _lxml_diagnosis(doc, e) from None
    finally:
        if was_enabled:
            gc.enable()
    doc.graph = graph
    if path is not None:
        doc.bin_path = path.with_suffix(".bin")
        doc.weights = Weights(doc.bin_path)
        if check_weights and doc.weights.exists:
            _check_const_ranges(doc)
    return graph, doc


_PROLOG_WS = re.compile(r'(?:\s+|<!--.*?-->|<\?.*?\?>)*', re.S)


def _read(doc: IRDocument) -> Graph:
    text = doc.text
    p = 1 if text.startswith("\ufeff") else 0
    p = _PROLOG_WS.match(text, p).end()
    if p >= len(text):
        raise ModelfileError("not an IR file: no XML element found", file=doc.file, line=1)
    if text.startswith("<!DOCTYPE", p) or text.startswith("<!ENTITY", p):
        raise doc.error(p, "DTDs/entities are not allowed")
    if text[p] != "<":
        raise doc.error(p, "not an XML file")
    net = start_tag(text, p)
    if net.tag.lower() != "net":
        raise doc.error(p, f"root element is <{net.tag}>, expected <net> (not an OpenVINO IR file)")
    ver = net.attrs.get("version")
    if ver is None:
        raise doc.error(p, "<net> has no version attribute")
    if ver.strip() not in ("10", "11"):
        raise doc.error(net.attr_spans["version"][1],
                        f"unsupported IR version {ver!r} (only 10 and 11 can be read)")
    if net.empty:
        raise doc.error(p, "<net> has no <layers>")
    doc.net = net
    doc.version = int(ver)
    doc.net_name = net.attrs.get("name", "")
    doc.style = _detect_style(text, net)
    graph = Graph(doc.net_name)
    gsrc = GraphSource(doc)
    gsrc.container = net
    doc.top = gsrc
    graph.source = gsrc
    q = net.tag_end
    n = len(text)
    while True:
        q = skip_misc(text, q)
        if q >= n:
            raise ScanError(q, f"unexpected end of file inside <{net.tag}>")
        et = end_tag_at(text, q)
        if et is not None:
            if et[0] != net.tag:
                raise ScanError(q, f"</{et[0]}> does not close <{net.tag}>")
            doc.net_end = et[1]
            net.inner_end = q
            net.end = et[1]
            break
        st = start_tag(text, q)
        if st.tag == "layers" and gsrc.layers is None:
            q = _scan_layers(doc, st, gsrc, graph)
        elif st.tag == "edges" and gsrc.edges is None:
            q = _scan_edges(doc, st, gsrc)
        else:
            el = parse_element(text, q)
            if el.tag == "rt_info" and doc.rt_el is None:
                doc.rt_el = el
            elif el.tag in ("meta_data", "quantization_parameters"):
                doc.legacy.append(el)
            else:
                doc.others.append(el)
            q = el.end
    tail = _PROLOG_WS.match(text, doc.net_end).end()
    if tail < n and text[tail:].strip():
        raise doc.error(tail, "text after the closing </net>")
    if gsrc.layers is None:
        raise doc.error(net.start, "<net> has no <layers>")
    _connect(doc, graph, gsrc)
    _model_rt_info(doc, graph)
    return graph


def _detect_style(text: str, net: El) -> Style:
    head = text[net.tag_end: net.tag_end + 65536]
    eol = "\r\n" if "\r\n" in head else "\n"
    m = re.search(r"\n([ \t]*)<", head)
    unit = m.group(1) if m and m.group(1) else "\t"
    if " " in unit and "\t" in unit:
        unit = "\t"
    spaced = head.count(" />")
    tight = head.count("/>") - spaced
    return Style(unit, eol, " />" if spaced >= tight else "/>")


# ---------------------------------------------------------------------------------------------
# layers
# ---------------------------------------------------------------------------------------------


def _lenient_dims(doc: IRDocument, pos: int, dims: list[str]) -> tuple[Any, ...]:
    """Port dims written as ``?`` or ``1..10``: the runtime refuses them, but an editor should load the file
    (it keeps the text; a re-rendered port says ``-1``)."""
    try:
        return tuple(parse_shape(",".join(dims)) or ())
    except ValueError:
        bad = next((d for d in dims if not d.strip().lstrip("-").isdigit()), dims[0] if dims else "")
        at = doc.text.find(f"<dim>{bad}</dim>", pos)
        raise doc.error(at if at >= 0 else pos,
                        f"<dim>{bad.strip()}</dim> is not a dimension (an integer, -1 for dynamic)") from None


def _parse_out_block(doc: IRDocument, pos: int, ob: str) -> list[tuple[str, str | None, Any, list[str]]]:
    """``(port id, element type, shape, names)`` of each port of a fast-path ``<output>`` block."""
    out = []
    for pa, inner in FAST_PORT.findall(ob):
        pd = dict(FAST_ATTR.findall(pa))
        pr = pd.get("precision")
        try:
            shape = tuple([int(d) for d in FAST_DIM.findall(inner)]) if inner else ()
        except ValueError:
            shape = _lenient_dims(doc, pos, FAST_DIM.findall(inner))
        ns = pd.get("names")
        out.append((pd.get("id", ""), element_type_of_precision(pr) if pr is not None else None, shape,
                    parse_names(ns) if ns else []))
    return out


def _scan_layers(doc: IRDocument, st: El, gsrc: GraphSource, graph: Graph) -> int:
    """Scan ``<layers>`` at ``st`` (its start tag); return the offset after ``</layers>``.

    This is the hot loop of loading: one regex match per layer, and the
    decoded form of repeated substrings (``<data>`` attribute lists, port
    blocks without names) is memoized, because big IRs repeat them a lot.
    """
    text = doc.text
    gsrc.layers = st
    if st.empty:
        gsrc.last_end = st.end
        return st.end
    file = doc.file
    nodes: list[Node] = []
    graph.nodes = nodes
    fm = FAST_LAYER.match
    fattr = FAST_ATTR.findall
    fport = FAST_PORT.findall
    fpid = FAST_PORT_ID_FIRST.findall
    count = text.count
    rfind = text.rfind
    consts = doc.consts
    data_memo: dict[str, dict[str, str]] = {}
    in_memo: dict[str, list[str]] = {}
    out_memo: dict[str, list[tuple[str, str | None, Any, list[str]]]] = {}
    q = st.tag_end
    gap_start = q
    line = count("\n", 0, q) + 1
    last = q
    n = len(text)
    while True:
        m = fm(text, q)
        if m is None:
            q = skip_misc(text, q)
            if q >= n:
                raise ScanError(q, "unexpected end of file inside <layers>")
            if text.startswith("</", q):
                et = end_tag_at(text, q)
                if et is None or et[0] != "layers":
                    raise ScanError(q, f"</{et[0] if et else '?'}> does not close <layers>")
                st.inner_end = q
                st.end = et[1]
                gsrc.last_end = gap_start
                return et[1]
            m = fm(text, q)
            if m is None:
                line += count("\n", last, q)
                last = q
                el = parse_element(text, q)
                if el.tag != "layer":
                    q = el.end  # an unknown element among the layers: it stays in the gap text
                    continue
                node = _node_from_el(doc, gsrc, el, gap_start, SourcePos(file, line, q - rfind("\n", 0, q)))
                q = el.end
                node.graph = graph
                nodes.append(node)
                gap_start = q
                continue
        ls = m.end(1)
        line += count("\n", last, ls)
        last = ls
        _, lid, name, typ, ver, la_s, da_s, ib, ob = m.groups()
        if la_s is not None:
            la = dict(fattr(la_s))
            lid = la.get("id")
            typ = la.get("type")
            if lid is None or typ is None:
                raise doc.error(ls, f"<layer> without {'id' if lid is None else 'type'} attribute")
            name = la.get("name", "")
            ver = la.get("version")
        end = m.end()
        if da_s is not None:
            attrs = data_memo.get(da_s)
            if attrs is None:
                attrs = dict(fattr(da_s))
                if typ != "Const":  # Const offsets are unique: not worth remembering
                    data_memo[da_s] = attrs
            node = Node(typ, name, (), 0, attrs, version=ver, pos=SourcePos(file, line, ls - rfind("\n", 0, ls)))
        else:
            attrs = None
            node = Node(typ, name, version=ver, pos=SourcePos(file, line, ls - rfind("\n", 0, ls)))
        if ib:
            ids = in_memo.get(ib)
            if ids is None:
                ids = fpid(ib)
                if len(ids) != ib.count("<port"):
                    ids = [dict(fattr(pa)).get("id", "") for pa, _ in fport(ib)]
                in_memo[ib] = ids
        else:
            ids = ()
        if ob:
            ports = out_memo.get(ob)
            if ports is None:
                ports = _parse_out_block(doc, ls, ob)
                if 'names="' not in ob:
                    out_memo[ob] = ports
            if typ == "Parameter":
                ports = [(pid, *_param_override(doc, ls, node, shape, dt)[::-1], names)
                         for pid, dt, shape, names in ports]
            for pid, dt, shape, names in ports:
                node.append_output(Value(names[0] if names else "", dtype=dt, shape=shape, names=names))
        else:
            ports = ()
        rec = _new_rec(LayerSource)
        rec.__dict__ = {"doc": doc, "gsrc": gsrc, "id": lid, "start": ls, "end": end, "gap_start": gap_start,
                        "type0": typ, "name0": name, "version0": ver, "attrs0": attrs, "in_ids": ids,
                        "ports0": ports}
        node.source = rec
        if typ == "Const":
            consts.append(node)
        node.graph = graph
        nodes.append(node)
        q = gap_start = end


def _param_override(doc: IRDocument, pos: int, node: Node, shape: Any, dt: str | None) -> tuple[Any, str | None]:
    """A Parameter's type and shape come from ``<data>`` (port dims cannot express bounds or ``...``)."""
    a = node.attrs
    s = a.get("shape")
    if s is not None:
        try:
            shape = parse_shape(s)
        except ValueError:
            raise doc.error(pos, f"Parameter {node.name!r}: cannot parse shape {s!r}") from None
    et = a.get("element_type")
    if et:
        dt = et
    return shape, dt


def _node_from_el(doc: IRDocument, gsrc: GraphSource, el: El, gap_start: int, pos: SourcePos) -> Node:
    """The general (slow) path: a layer from its element tree (bodies, rt_info, comments, entities ...)."""
    la = el.attrs
    lid = la.get("id")
    typ = la.get("type")
    if lid is None or typ is None:
        raise doc.error(el.start, f"<layer> without {'id' if lid is None else 'type'} attribute")
    rec = LayerSource(doc, gsrc, lid, el.start, el.end, gap_start)
    rec._el = el
    name = la.get("name", "")
    ver = la.get("version")
    rec.type0, rec.name0, rec.version0 = typ, name, ver
    node = Node(typ, name, version=ver)
    node.pos = pos
    node.source = rec
    data = el.find("data")
    if data is not None:
        node.attrs = dict(data.attrs)
        rec.attrs0 = dict(data.attrs)
    inp = el.find("input")
    if inp is not None:
        rec.in_ids = [p.attrs.get("id", "") for p in inp.elements("port")]
    out = el.find("output")
    if out is not None:
        ports0 = []
        for p in out.elements("port"):
            pr = p.attrs.get("precision")
            dt = element_type_of_precision(pr) if pr is not None else None
            try:
                shape = tuple(int(d.text()) for d in p.elements("dim"))
            except ValueError:
                shape = _lenient_dims(doc, p.start, [d.text() for d in p.elements("dim")])
            ns = p.attrs.get("names")
            names = parse_names(ns) if ns else []
            if typ == "Parameter":
                shape, dt = _param_override(doc, el.start, node, shape, dt)
            node.append_output(Value(names[0] if names else "", dtype=dt, shape=shape, names=names))
            ports0.append((p.attrs.get("id", ""), dt, shape, names))
        rec.ports0 = ports0
    if typ == "Const":
        doc.consts.append(node)
    bodies = [c for c in el.elements() if c.tag in BODY_ROLES]
    if bodies:
        for b in bodies:
            g = _graph_from_el(doc, b, node)
            node.subgraphs[b.tag] = g
        _port_maps(doc, el, node)
        rec.pm0 = _pm_snapshot(node)
        rec.be0 = _be_snapshot(node)
    return node


def _graph_from_el(doc: IRDocument, body: El, parent: Node) -> Graph:
    """A TI/Loop/If body: its layers keep offsets, so unchanged body layers are re-emitted verbatim."""
    g = Graph(f"{parent.name}/{body.tag}")
    g.parent = parent
    gsrc = GraphSource(doc)
    gsrc.container = body
    g.source = gsrc
    layers = body.find("layers")
    if layers is None:
        raise doc.error(body.start, f"<{body.tag}> of layer {parent.name!r} has no <layers>")
    gsrc.layers = layers
    nodes: list[Node] = []
    gap = layers.inner_start
    for c in layers.elements("layer"):
        line, col = line_col(doc.text, c.start)
        node = _node_from_el(doc, gsrc, c, gap, SourcePos(doc.file, line, col))
        node.graph = g
        nodes.append(node)
        gap = c.end
    gsrc.last_end = gap
    g.nodes = nodes
    edges = body.find("edges")
    if edges is not None:
        gsrc.edges = edges
        es = edges.elements("edge")
        gsrc.edges0 = [_edge_tuple(doc, e) for e in es]
        gsrc.edge_pos = [e.start for e in es]
    _connect(doc, g, gsrc)
    return g


def _edge_tuple(doc: IRDocument, e: El) -> tuple[str, str, str, str]:
    a = e.attrs
    try:
        return (a["from-layer"].strip(), a["from-port"].strip(), a["to-layer"].strip(), a["to-port"].strip())
    except KeyError as k:
        raise doc.error(e.start, f"<edge> without {k.args[0]!r}") from None


def _scan_edges(doc: IRDocument, st: El, gsrc: GraphSource) -> int:
    text = doc.text
    gsrc.edges = st
    if st.empty:
        return st.end
    close = text.find("</edges>", st.tag_end)
    if close >= 0:
        edges = EDGE_FAST.findall(text, st.tag_end, close)
        # every '<' in the block starts a standard edge: no comments, no other markup, nothing missed
        if text.count("<", st.tag_end, close) == len(edges):
            gsrc.edges0 = edges
            st.inner_end = close
            st.end = close + len("</edges>")
            return st.end
    el = parse_element(text, st.start)
    gsrc.edges = el
    es = el.elements("edge")
    gsrc.edges0 = [_edge_tuple(doc, e) for e in es]
    gsrc.edge_pos = [e.start for e in es]
    return el.end


def _edge_offset(doc: IRDocument, gsrc: GraphSource, k: int) -> int | None:
    if gsrc.edge_pos is not None:
        return gsrc.edge_pos[k]
    fl, fp, tl, tp = gsrc.edges0[k]
    e = gsrc.edges
    if e is None:
        return None
    needle = f'from-layer="{fl}" from-port="{fp}" to-layer="{tl}" to-port="{tp}"'
    i = doc.text.find(needle, e.tag_end, e.inner_end)
    return doc.text.rfind("<", 0, i) if i >= 0 else e.start


def _connect(doc: IRDocument, graph: Graph, gsrc: GraphSource) -> None:
    """Turn edges into node inputs (by input-port position) and fill graph inputs/outputs."""
    byid: dict[str, Node] = {}
    for node in graph.nodes:
        rec: LayerSource = node.source
        lid = rec.id
        if lid in byid:
            raise doc.error(rec.start, f"duplicate layer id {lid} (layers {byid[lid].name!r} and {node.name!r})")
        byid[lid] = node
    # per target layer: the source value of each input port, by position
    slots: dict[str, list[Value | None]] = {}
    get = slots.get
    try:
        for fl, fp, tl, tp in gsrc.edges0:
            src = byid[fl]
            p0 = src.source.ports0
            v = src.outputs[0 if p0[0][0] == fp else [p[0] for p in p0].index(fp)]
            in_ids = byid[tl].source.in_ids
            sl = get(tl)
            if sl is None:
                sl = slots[tl] = [None] * len(in_ids)
            # a second edge into one port: the later one wins, as in the runtime
            sl[0 if in_ids[0] == tp else in_ids.index(tp)] = v
    except (KeyError, ValueError, IndexError):
        raise _edge_error(doc, gsrc, {k: n.source for k, n in byid.items()}) from None
    inputs: list[Value] = []
    outputs: list[Value] = []
    for node in graph.nodes:
        rec = node.source
        if rec.in_ids:
            sl = get(rec.id)
            if sl is None:
                sl = [None] * len(rec.in_ids)
            append = node.append_input
            for v in sl:
                append(v)
            rec.inputs0 = node.inputs
            if sl[0] is not None and node.op_type == "Result":
                outputs.append(sl[0])
        elif rec.ports0 and node.op_type == "Parameter":
            inputs.append(node.outputs[0])
    graph.inputs = inputs
    graph.outputs = outputs
    gsrc.nodes0 = list(graph.nodes)
    gsrc.inputs0 = list(inputs)
    gsrc.outputs0 = list(outputs)


def _edge_error(doc: IRDocument, gsrc: GraphSource, byid: dict[str, LayerSource]) -> ModelfileError:
    """The first bad edge, explained (the fast loop only knows that one failed)."""
    for k, (fl, fp, tl, tp) in enumerate(gsrc.edges0):
        src, dst = byid.get(fl), byid.get(tl)
        edge = f"edge {fl}:{fp} -> {tl}:{tp}"
        if src is None or dst is None:
            return doc.error(_edge_offset(doc, gsrc, k), f"{edge} refers to missing layer {fl if src is None else tl}")
        if fp not in src.out_ids:
            return doc.error(_edge_offset(doc, gsrc, k),
                             f"{edge}: layer {src.name0!r} (id {fl}) has no output port {fp}")
        if tp not in dst.in_ids:
            return doc.error(_edge_offset(doc, gsrc, k),
                             f"{edge}: layer {dst.name0!r} (id {tl}) has no input port {tp}")
    return doc.error(None, "inconsistent edges")


# ---------------------------------------------------------------------------------------------
# port maps / back edges
# ---------------------------------------------------------------------------------------------


def _port_maps(doc: IRDocument, el: El, node: Node) -> None:
    pms: dict[str, list[dict[str, Any]]] = {}
    bes: dict[str, list[dict[str, Any]]] = {}
    for c in el.elements():
        role = ROLE_OF_PORT_MAP.get(c.tag)
        if role is not None:
            body = node.subgraphs.get(role)
            ids = _ids(body)
            entries = []
            for e in c.elements():
                lid = e.attrs.get("internal_layer_id")
                inner = ids.get(lid.strip()) if lid is not None else None
                if lid is not None and inner is None:
                    raise doc.error(e.start, f"port map of {node.name!r} refers to missing body layer {lid}")
                entries.append({"kind": e.tag, "attrs": dict(e.attrs), "node": inner})
            pms[role] = entries
        elif c.tag == "back_edges":
            body = node.subgraphs.get("body")
            ids = _ids(body)
            entries = []
            for e in c.elements():
                fl, tl = e.attrs.get("from-layer", "").strip(), e.attrs.get("to-layer", "").strip()
                fn, tn = ids.get(fl), ids.get(tl)
                if fn is None or tn is None:
                    raise doc.error(e.start, f"back edge {fl} -> {tl} of {node.name!r} refers to a missing body layer")
                entries.append({"attrs": dict(e.attrs), "from": fn, "to": tn})
            bes["body"] = entries
    if pms:
        node.meta["ir_port_map"] = pms
    if bes:
        node.meta["ir_back_edges"] = bes


def _ids(body: Graph | None) -> dict[str, Node]:
    if body is None:
        return {}
    return {n.source.id: n for n in body.nodes if isinstance(n.source, LayerSource)}


def _pm_snapshot(node: Node) -> Any:
    pm = node.meta.get("ir_port_map")
    if pm is None:
        return None
    return {r: [(e["kind"], dict(e["attrs"]), e["node"]) for e in es] for r, es in pm.items()}


def _be_snapshot(node: Node) -> Any:
    be = node.meta.get("ir_back_edges")
    if be is None:
        return None
    return {r: [(dict(e["attrs"]), e["from"], e["to"]) for e in es] for r, es in be.items()}


# ---------------------------------------------------------------------------------------------
# model-level rt_info
# ---------------------------------------------------------------------------------------------


def rt_dict(el: El) -> dict[str, Any]:
    """A model ``<rt_info>`` (new form) as a nested dict (``<info name=..>`` keys unwrapped)."""
    out: dict[str, Any] = {}
    for c in el.elements():
        key = c.attrs["name"] if c.tag == "info" and "name" in c.attrs else c.tag
        kids = c.elements()
        if kids:
            out[key] = rt_dict(c)
        else:
            out[key] = c.attrs.get("value", c.text().strip())
    return out


def _legacy_dict(doc: IRDocument) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for el in doc.legacy:
        if el.tag == "meta_data":
            for c in el.elements():
                if c.tag == "cli_parameters":
                    params: dict[str, Any] = {}
                    for p in c.elements():
                        if p.tag == "unset":  # the runtime keeps it under "unset"
                            params["unset"] = p.attrs.get("unset_cli_parameters", "")
                        else:
                            params[p.tag] = p.attrs.get("value", "")
                    out["conversion_parameters"] = params
                else:
                    out[c.tag] = c.attrs.get("value", "")
        else:  # quantization_parameters (POT) -> rt_info["optimization"]
            out["optimization"] = _flat_el(el)
    return out


def _flat_el(el: El) -> Any:
    kids = el.elements()
    if not kids:
        return el.attrs.get("value", el.text().strip())
    return {c.tag: _flat_el(c) for c in kids}


def _model_rt_info(doc: IRDocument, graph: Graph) -> None:
    if doc.rt_el is not None:
        rt = rt_dict(doc.rt_el)
    elif doc.legacy:
        rt = _legacy_dict(doc)
        doc.rt_from_legacy = True
    else:
        rt = {}
    graph.meta["rt_info"] = rt
    doc.rt_info0 = copy.deepcopy(rt)


def _check_const_ranges(doc: IRDocument) -> None:
    size = doc.weights.size or 0
    for node in doc.consts:
        a = node.attrs
        try:
            off = int(a.get("offset", "0"))
            sz = int(a.get("size", "0"))
        except ValueError:
            raise doc.error(node.source.start, f"Const {node.name!r}: offset/size are not integers") from None
        if off < 0 or sz < 0 or off + sz > size:
            bn = doc.bin_path.name if doc.bin_path else ".bin"
            raise doc.error(node.source.start,
                            f"Const {node.name!r} reads bytes {off}..{off + sz} but {bn} has only {size} bytes")
