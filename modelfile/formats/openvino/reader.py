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
back edges in ``node.meta[IR_PORT_MAP]`` / ``node.meta[IR_BACK_EDGES]``.

Everything else (rt_info, comments, unknown elements and attributes, the
exact text) stays in the source text, which :class:`LayerSource` and
:class:`GraphSource` point into; the writer re-emits it.
"""

from __future__ import annotations

import copy
import operator
import re
from itertools import groupby
from pathlib import Path
from typing import Any

from ...errors import ModelfileError
from ...gcpause import paused_gc
from ...graph import Graph, Node, SourcePos, Value, build_node
from .names import element_type_of_precision, parse_names, parse_shape
from .binfile import Weights
from .xmlscan import (
    EDGE_FAST, FAST_ATTR, FAST_DIM, FAST_HEAD, FAST_PORT, FAST_PORT_ID_FIRST, FAST_REST, El, ScanError, bad_char_offset,
    check_xml_declarations, duplicate_attribute, end_tag_at, line_col, parse_element, skip_misc, start_tag,
)
from .keys import IR_BACK_EDGES, IR_PORT_MAP, IR_RT_LEGACY, IR_VERSION, RT_INFO

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


_MARK_BITS = 16  # IRDocument.pos: one newline count per 64 KiB of text


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
        self._line_marks: list[int] | None = None
        #: (offset, size) strings of the Consts, as scanned (until the load-time range check)
        self._const_spans: list[tuple[str, str]] | None = None
        #: while reading a file just written from another read: layer id -> that read's record (see _prior_index)
        self._prior: dict[str, LayerSource] | None = None

    @property
    def raw(self) -> bytes:
        """The file's bytes as read."""
        return self._raw if self._raw is not None else self.text.encode("utf-8")

    def pos(self, offset: int) -> SourcePos:
        """Line/column of a text offset.

        Node positions are computed here on demand rather than at load, so this
        must stay cheap when asked for every layer: newline counts are kept per
        64 KiB block and only the last partial block is counted per call.
        """
        text = self.text
        offset = max(0, min(offset, len(text)))
        marks = self._line_marks
        if marks is None:
            marks = [0]
            acc = 0
            count = text.count
            for b in range(0, len(text) >> _MARK_BITS):
                acc += count("\n", b << _MARK_BITS, (b + 1) << _MARK_BITS)
                marks.append(acc)
            self._line_marks = marks
        b = offset >> _MARK_BITS
        line = marks[b] + text.count("\n", b << _MARK_BITS, offset) + 1
        return SourcePos(self.file, line, offset - text.rfind("\n", 0, offset))

    def error(self, offset: int | None, message: str, code: str = "MF000") -> ModelfileError:
        """A ModelfileError positioned at ``offset`` (the start of the file when unknown)."""
        offset = 0 if offset is None else offset
        line, col = line_col(self.text, offset)
        start = self.text.rfind("\n", 0, offset) + 1
        end = self.text.find("\n", offset)
        src_line = self.text[start: end if end >= 0 else len(self.text)]
        return ModelfileError(message, code=code, file=self.file, line=line, column=col, source_line=src_line[:400])


class GraphSource:
    """Where a graph's ``<layers>``/``<edges>`` are in the text and what they held at load."""

    __slots__ = ("doc", "layers", "edges", "_edges0", "edge_pos", "nodes0", "last_end", "container",
                 "inputs0", "outputs0")

    def __init__(self, doc: "IRDocument | None" = None) -> None:
        self.doc = doc
        self.layers: El | None = None      # start tag + inner/end offsets (children not kept)
        self.edges: El | None = None
        #: ``None``: a plain ``<edges>`` block, parsed again from the text when asked (see ``edges0``)
        self._edges0: list[tuple[str, str, str, str]] | None = []
        self.edge_pos: list[int] | None = None
        self.nodes0: list[Node] = []
        self.last_end = 0                  # end of the last <layer> (start of the closing gap)
        self.container: El | None = None   # <net> or <body>/<then_body>/<else_body>
        self.inputs0: list[Value] = []
        self.outputs0: list[Value] = []

    @property
    def edges0(self) -> list[tuple[str, str, str, str]]:
        """The edges at load, ``(from-layer, from-port, to-layer, to-port)`` in file order.

        Not kept after loading when ``<edges>`` is in the serializer's plain form:
        tens of thousands of tuples of strings cost memory and cyclic-GC time for
        every loaded model, and only a save that rewired something needs them.
        """
        e = self._edges0
        if e is None:
            el = self.edges
            e = self._edges0 = [] if el is None or self.doc is None else \
                EDGE_FAST.findall(self.doc.text, el.tag_end, el.inner_end)
        return e

    @edges0.setter
    def edges0(self, edges: list[tuple[str, str, str, str]] | None) -> None:
        self._edges0 = edges


class LayerSource:
    """A node read from a file: its text span and what it looked like then (for change detection).

    Slotted, one object per layer: the loader fills every slot directly (no
    ``__init__`` call, no per-instance ``__dict__``), which is both the
    cheapest to build and one object less per layer for the cyclic GC.
    """

    __slots__ = ("doc", "gsrc", "id", "start", "end", "gap_start", "type0", "name0", "version0", "attrs0",
                 "in_ids", "ports0", "inputs0", "pm0", "be0", "_el")

    doc: IRDocument
    gsrc: GraphSource
    id: str
    start: int
    end: int
    gap_start: int
    type0: str
    name0: str
    version0: str | None
    attrs0: dict[str, str] | None   # None: the layer had no <data>
    in_ids: "list[str] | tuple[()]"
    #: output ports at load: (port id, element type, shape, tensor names); shared between layers
    #: with identical port text, so never mutate it
    ports0: "list[tuple[str, str | None, Any, list[str] | tuple[()]]] | tuple[()]"
    inputs0: tuple[Value | None, ...]
    pm0: Any
    be0: Any
    _el: El | None

    def __init__(self, doc: IRDocument, gsrc: GraphSource, lid: str, start: int, end: int, gap_start: int) -> None:
        self.doc = doc
        self.gsrc = gsrc
        self.id = lid
        self.start = start
        self.end = end
        self.gap_start = gap_start
        self.type0 = ""
        self.name0 = ""
        self.version0 = None
        self.attrs0 = None
        self.in_ids = ()
        self.ports0 = ()
        self.inputs0 = ()
        self.pm0 = None
        self.be0 = None
        self._el = None

    @property
    def out_ids(self) -> list[str]:
        """Output port ids at load."""
        return [p[0] for p in self.ports0]

    def source_pos(self) -> SourcePos:
        """Line/column of the layer's start tag (what ``Node.pos`` reports; computed on demand)."""
        return self.doc.pos(self.start)

    def element(self) -> El:
        """The layer's element tree with offsets (parsed on first use)."""
        if self._el is None:
            self._el = parse_element(self.doc.text, self.start, depth=3)
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


def read_path(path: Path, *, check_weights: bool = True, prior: Graph | None = None) -> tuple[Graph, IRDocument]:
    """Read ``path`` (and note the ``.bin`` beside it); ``prior``: see :func:`read_bytes`."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ModelfileError(f"cannot read: {e.strerror}", file=str(path)) from None
    return read_bytes(raw, path, check_weights=check_weights, prior=prior)


def _prior_index(graph: Graph) -> dict[str, LayerSource]:
    """The records of ``graph``'s top-level layers that the fast scan read, by layer id.

    A file written from ``graph`` copies these layers' text where an edit left them alone; a layer whose
    text is, byte for byte, its record's source text parses exactly as it did then, so its parse is taken
    from the record (the save gate's re-read, where nearly every layer is such a copy). A record that does
    not match (an edit, other ids) costs one comparison: a wrong prior is slower, never a different read.
    """
    out: dict[str, LayerSource] = {}
    for n in graph.nodes:
        rec = n.source
        if type(rec) is LayerSource and rec._el is None and not n._subgraphs:
            out[rec.id] = rec
    return out


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
        m = _DECL_ENC.match(raw.lstrip(b"\xef\xbb\xbf"))
        col = (m.start(1) + 1 + len(raw) - len(raw.lstrip(b"\xef\xbb\xbf"))) if m else 1
        raise ModelfileError(f"unknown encoding {enc!r} in the XML declaration", code=XML_ERROR, file=file, line=1,
                             column=col) from None
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        col = e.start - (raw.rfind(b"\n", 0, e.start) + 1) + 1
        raise ModelfileError(f"not valid {enc.upper()} text (byte 0x{raw[e.start]:02x} at offset {e.start})",
                             code=XML_ERROR, file=file, line=line, column=col) from None
    nul = text.find("\x00", 0, 4096)
    if nul >= 0:
        line, col = line_col(text, nul)
        raise ModelfileError("not an XML file (binary data)", code=XML_ERROR, file=file, line=line, column=col)
    return text, enc


#: the code of errors about the XML itself (encoding, well-formedness), which lint reports as IR000
XML_ERROR = "IR-XML"


def _lxml_diagnosis(doc: IRDocument, err: ScanError) -> ModelfileError:
    """Turn a scanner rejection into the most precise message available (lxml's, when it also fails)."""
    if "DTD" in err.message or len(doc.raw) > (256 << 20) or "nested deeper" in err.message:
        # lxml's tree of a huge file costs GBs; for nesting, ours is the limit that applies
        return doc.error(err.pos, err.message if "DTD" in err.message else f"malformed XML: {err.message}",
                         code=XML_ERROR)
    try:
        from lxml import etree
    except ImportError:  # pragma: no cover - lxml is a dependency
        return doc.error(err.pos, err.message)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True,
                             remove_comments=False, remove_blank_text=False, encoding="utf-8")
    try:
        etree.fromstring(doc.text.encode("utf-8"), parser)
    except etree.XMLSyntaxError as e:
        line, col = (e.position if e.position else (e.lineno or 0, 0))
        msg = str(e.msg or e).split(", line ")[0]
        lines = doc.text.splitlines()
        src = lines[line - 1] if 0 < line <= len(lines) else None
        if line:
            return ModelfileError(f"malformed XML: {msg}", code=XML_ERROR, file=doc.file, line=line,
                                  column=col or 1, source_line=src)
    except Exception:  # pragma: no cover - anything else: fall back to ours
        pass
    return doc.error(err.pos, f"malformed XML: {err.message}", code=XML_ERROR)


def read_bytes(raw: bytes, path: Path | None = None, *, check_weights: bool = True,
               prior: Graph | None = None) -> tuple[Graph, IRDocument]:
    """Read an IR document from bytes; ``path`` locates the ``.bin`` and names the file in errors.

    ``prior``: a graph these bytes were just written from; its layers' parses are reused where the text
    is theirs (see :func:`_prior_index`).
    """
    file = str(path) if path is not None else "<xml>"
    text, enc = _decode(raw, file)
    doc = IRDocument(path, raw, text, enc)
    if prior is not None:
        doc._prior = _prior_index(prior)
    # Loading allocates hundreds of thousands of containers and none of them can be garbage yet:
    # pausing the cyclic GC avoids repeated full collections (2-3x faster on big IRs).
    try:
        with paused_gc():
            check_well_formed(text, raw if enc == "utf-8" else None)
            graph = _read(doc)
    except ScanError as e:
        raise _lxml_diagnosis(doc, e) from None
    except RecursionError:  # a last resort: nesting is bounded by the scanner (MAX_DEPTH)
        raise doc.error(0, "the model is nested too deeply to be read", code=XML_ERROR) from None
    doc.graph = graph
    if path is not None:
        doc.bin_path = path.with_suffix(".bin")
        doc.weights = Weights(doc.bin_path)
        if check_weights and doc.weights.exists:
            _check_const_ranges(doc)
    doc._const_spans = None
    return graph, doc


def check_well_formed(text: str, raw: bytes | None = None) -> None:
    """What the layer scanner does not look at but every XML parser refuses: characters XML forbids
    (raw or as ``&#N;``) and XML declarations anywhere but at the start (``raw``: the UTF-8 bytes of
    ``text``, for speed). Raises :class:`ScanError`."""
    bad = bad_char_offset(text, raw)
    if bad >= 0:
        raise ScanError(bad, f"character U+{ord(text[bad]):04X} is not allowed in XML")
    if "&#" in text:
        for m in re.finditer(r"&#(?:([0-9]+)|x([0-9a-fA-F]+));", text):
            code = int(m.group(1), 10) if m.group(1) else int(m.group(2), 16)
            if not (code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD
                    or 0x10000 <= code <= 0x10FFFF):
                raise ScanError(m.start(), f"character reference {m.group(0)} is not an XML character")
    check_xml_declarations(text, 1 if text.startswith("\ufeff") else 0)


_PROLOG_WS = re.compile(r'(?:\s+|<!--.*?-->|<\?.*?\?>)*', re.S)


def _read(doc: IRDocument) -> Graph:
    text = doc.text
    p = 1 if text.startswith("\ufeff") else 0
    p = _PROLOG_WS.match(text, p).end()
    if p >= len(text):
        raise doc.error(p, "not an IR file: no XML element found", code=XML_ERROR)
    if text.startswith("<!DOCTYPE", p) or text.startswith("<!ENTITY", p):
        raise doc.error(p, "DTDs/entities are not allowed (a DOCTYPE in an IR)", code=XML_ERROR)
    if text[p] != "<":
        raise doc.error(p, "not an XML file", code=XML_ERROR)
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
    byid: dict[str, Node] = {}
    ahead = _edges_ahead(text, q)
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
            q = _scan_layers(doc, st, gsrc, graph, byid, ahead)
        elif st.tag == "edges" and gsrc.edges is None:
            if ahead is not None and ahead.start == q:  # the block read ahead: already parsed
                gsrc.edges = st
                gsrc.edges0 = ahead.edges
                st.inner_end = ahead.close
                q = st.end = ahead.close + len("</edges>")
                ahead.confirmed = True
            else:
                q = _scan_edges(doc, st, gsrc)
        else:
            el = parse_element(text, q, depth=2)
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
    if ahead is None or not _finish_ahead(ahead, graph, gsrc, byid):
        if ahead is not None:  # a wrong guess: start over from the edges the scan found
            for node in graph.nodes:
                if node.inputs:
                    node.clear_inputs()
                    node.source.inputs0 = ()
        _connect(doc, graph, gsrc, byid)
    if gsrc.edges is not None and gsrc.edge_pos is None and not gsrc.edges.empty:
        gsrc.edges0 = None  # plain block: re-parsed from the text if ever needed
    _model_rt_info(doc, graph)
    graph.meta[IR_VERSION] = doc.version  # v10 and v11 name inputs/outputs differently (see ionames)
    if doc.rt_from_legacy:
        graph.meta[IR_RT_LEGACY] = True  # rt_info came from <meta_data>: flat keys are written back there
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


def _parse_out_block(doc: IRDocument, pos: int,
                     ob: str) -> list[tuple[str, str | None, Any, list[str] | tuple[()]]]:
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
                    (parse_names(ns) if ns else None) or ()))
    return out


def _parse_rest(doc: IRDocument, pos: int, rest: str) -> tuple[Any, Any, Any] | None:
    """``(input port ids, output ports, output value specs)`` of the text between a layer's FAST_HEAD and
    ``</layer>``, or ``None`` if that text is not in the fast-path form."""
    m = FAST_REST.fullmatch(rest)
    if m is None:
        return None
    for tag in re.finditer(r"<[A-Za-z_][^<>]*>", rest):  # once per distinct text (memoized by the caller)
        dup = duplicate_attribute(tag.group(0)[1:])
        if dup is not None:
            raise ScanError(pos + tag.start(), f"attribute {dup!r} appears twice")
    ib, ob = m.groups()
    ids: list[str] | tuple[()] = ()
    if ib:
        ids = FAST_PORT_ID_FIRST.findall(ib)
        if len(ids) != ib.count("<port"):  # some port does not start with id="...": look at each
            ids = [dict(FAST_ATTR.findall(pa)).get("id", "") for pa, _ in FAST_PORT.findall(ib)]
    ports = _parse_out_block(doc, pos, ob) if ob else ()
    return ids, ports, _value_specs(ports)


def _blank_names(rest: str) -> tuple[str, list[str]]:
    """``rest`` with the value of every ``names="..."`` attribute (one that follows a blank) emptied, and the
    values, found with ``str.find`` (a layer has one or two; a look-behind regex tried every character)."""
    find = rest.find
    i = find('names="')
    if i < 0:
        return rest, []
    vals: list[str] = []
    out: list[str] = []
    last = 0
    while i >= 0:
        j = find('"', i + 7)
        if j < 0:
            break
        if i > 0 and rest[i - 1] in " \t\r\n":
            out.append(rest[last:i + 7])
            vals.append(rest[i + 7:j])
            last = j
            i = find('names="', j + 1)
        else:  # the end of another attribute's name
            i = find('names="', i + 1)
    if not vals:
        return rest, vals
    out.append(rest[last:])
    return "".join(out), vals


def _named_rest(doc: IRDocument, pos: int, rest: str,
                memo: dict[str, tuple[Any, list[int]]]) -> tuple[Any, Any, Any] | None:
    """:func:`_parse_rest` for ports with tensor names: parsed once per text with the names blanked,
    each layer's names put back (a model whose every layer names its output has few distinct port blocks
    but as many names as layers; parsing each block took half of loading such a model)."""
    key, vals = _blank_names(rest)
    got = memo.get(key)
    if got is None:
        try:
            io = _parse_rest(doc, pos, key)
        except ScanError:
            io = None  # the error is reported at its place in the real text, below
        where: list[int] = []
        if io is not None:
            m = FAST_REST.fullmatch(key)
            ob = m.group(2) if m is not None else None
            where = [i for i, (pa, _) in enumerate(FAST_PORT.findall(ob or "")) if "names" in dict(FAST_ATTR.findall(pa))]
            if len(where) != len(vals):  # a names="" outside the output ports' tags: not this shortcut
                io = None
        memo[key] = got = (io, where)
    io, where = got
    if io is None:
        return _parse_rest(doc, pos, rest)
    ids, ports, _ = io
    ports = list(ports)
    for i, v in zip(where, vals):
        pid, dt, shape, _ = ports[i]
        ports[i] = (pid, dt, shape, (parse_names(v) if v else None) or ())
    return ids, ports, _value_specs(ports)


def _value_specs(ports: Any) -> list[tuple[str, str | None, Any, Any]]:
    """What :func:`build_node` takes for each output port: ``(name, dtype, shape, names)``."""
    return [(names[0] if names else "", dt, shape, names) for _, dt, shape, names in ports]


class _EdgesAhead:
    """The top-level ``<edges>`` block, read before the layers (see :func:`_edges_ahead`)."""

    __slots__ = ("start", "close", "edges", "pos", "into", "io_nodes", "confirmed", "broken")

    def __init__(self, start: int, close: int, edges: list[tuple[str, str, str, str]]) -> None:
        self.start = start          # offset of "<edges>"
        self.close = close          # offset of "</edges>"
        self.edges = edges
        #: edges[:pos] are used up. The serializer writes the edges of each layer together, in layer
        #: order, so the scan normally just takes the next run; at the first layer where that does
        #: not hold, the rest is grouped by target layer id in ``into`` once.
        self.pos = 0
        self.into: dict[str, list[tuple[str, str, str, str]]] | None = None
        self.io_nodes: list[Node] = []  # Parameters and Results, in file order
        self.confirmed = False          # the scan met <edges> exactly here
        #: a layer came before one of its producers (or has a bad edge): connecting in one pass would give
        #: another order of uses than connecting after the scan, so :func:`_connect` does it all
        self.broken = False

    def take(self, lid: str) -> list[tuple[str, str, str, str]]:
        """The edges into layer ``lid`` (the scan inlines the common case)."""
        edges = self.edges
        if self.into is None:
            k = j = self.pos
            while j < len(edges) and edges[j][2] == lid:
                j += 1
            if j > k:
                self.pos = j
                return edges[k:j]
            into: dict[str, list[tuple[str, str, str, str]]] = {}
            for tl, run in groupby(edges[k:], _TARGET):
                got = into.get(tl)
                if got is None:
                    into[tl] = list(run)
                else:
                    got.extend(run)
            self.into = into
            self.pos = len(edges)
        return self.into.pop(lid, [])

    def unused(self) -> int:
        """How many edges no layer took (edges into missing layers, or layers without inputs)."""
        return len(self.edges) - self.pos if self.into is None else sum(map(len, self.into.values()))


_TARGET = operator.itemgetter(2)  # the to-layer of an edge tuple


def _edges_ahead(text: str, after: int) -> _EdgesAhead | None:
    """Guess and parse the top-level ``<edges>`` block before the layers are scanned.

    Connecting each layer right after creating it, while it and its producers
    are still in the CPU caches, is much cheaper than a second pass over tens
    of thousands of nodes. The top-level block is the last ``<edges>`` of the
    document (bodies' blocks are inside layers); that is only a guess, which
    :func:`_read` confirms when the scan meets ``<edges>`` exactly there, and
    falls back to :func:`_connect` otherwise. Only the serializer's plain form
    qualifies.
    """
    i = text.rfind("<edges>")
    if i < after:
        return None
    close = text.find("</edges>", i)
    if close < 0:
        return None
    edges = EDGE_FAST.findall(text, i + 7, close)
    if text.count("<", i + 7, close) != len(edges):
        return None
    return _EdgesAhead(i, close, edges)


def _wire(node: Node, ids: Any, edges: Any, byid: dict[str, Node]) -> bool:
    """Connect ``node`` (input port ids ``ids``) from its incoming ``edges``; ``False`` if one cannot be
    resolved (a producer not scanned yet, or a bad port: :func:`_connect` will say which)."""
    sl: list[Value | None] = [None] * len(ids)
    for fl, fp, _, tp in edges:
        src = byid.get(fl)
        if src is None:
            return False
        p0 = src.source.ports0
        try:
            # a second edge into one port: the later one wins, as in the runtime
            sl[0 if ids[0] == tp else ids.index(tp)] = \
                src._outputs[0 if p0 and p0[0][0] == fp else [p[0] for p in p0].index(fp)]
        except (ValueError, IndexError):
            return False
    node.set_inputs(sl)
    node.source.inputs0 = node._inputs
    return True


def _finish_ahead(ahead: _EdgesAhead, graph: Graph, gsrc: GraphSource, byid: dict[str, Node]) -> bool:
    """Accept the connections made while scanning; ``False`` if the guess was wrong or anything is off
    (the caller then disconnects everything and runs :func:`_connect`, which also explains errors)."""
    if not ahead.confirmed or ahead.broken or ahead.unused() or len(byid) != len(graph.nodes):
        return False
    _graph_io(graph, gsrc, ahead.io_nodes)
    return True


def _graph_io(graph: Graph, gsrc: GraphSource, candidates: list[Node]) -> None:
    """Graph inputs (Parameter outputs) and outputs (Result inputs) in file order, once nodes are connected,
    and the load-time snapshot of the node list and of both."""
    inputs: list[Value] = []
    outputs: list[Value] = []
    for node in candidates:
        rec = node.source
        if rec.in_ids:
            if node.op_type == "Result" and node.inputs[0] is not None:
                outputs.append(node.inputs[0])
        elif rec.ports0 and node.op_type == "Parameter":
            inputs.append(node.outputs[0])
    graph.inputs = inputs
    graph.outputs = outputs
    gsrc.nodes0 = list(graph.nodes)
    gsrc.inputs0 = list(inputs)
    gsrc.outputs0 = list(outputs)


#: the end of a Const's ``<data>`` attributes as the serializer writes them (values are already known to need
#: no unescaping: FAST_HEAD matched them)
_CONST_TAIL = re.compile(r' offset="([^"]*)" size="([^"]*)"[ \t\r\n]*')


def _scan_layers(doc: IRDocument, st: El, gsrc: GraphSource, graph: Graph, byid: dict[str, Node],
                 ahead: _EdgesAhead | None = None) -> int:
    """Scan ``<layers>`` into ``graph.nodes`` (see :func:`_scan_layers_into`)."""
    nodes: list[Node] = []
    try:
        return _scan_layers_into(doc, st, gsrc, graph, nodes, byid, ahead)
    finally:
        graph.nodes = nodes  # the graph's container is filled once, from the finished list


def _scan_layers_into(doc: IRDocument, st: El, gsrc: GraphSource, graph: Graph, nodes: list[Node],
                      byid: dict[str, Node], ahead: _EdgesAhead | None = None) -> int:
    """Scan ``<layers>`` at ``st`` (its start tag) into ``graph.nodes`` and ``byid`` (layer id -> node); return
    the offset after ``</layers>``. With ``ahead``, each layer is also connected to its producers.

    This is the hot loop of loading. Per layer: one small regex for the start
    tag and ``<data>``; then the text up to ``</layer>`` (the ports), which big
    IRs repeat a lot, is compared in place with the previous layer of the same
    type, else found with ``str.find`` and looked up in a memo, so it is
    parsed once per distinct text. Decoded ``<data>`` attribute lists are
    memoized too. Everything else (layers with comments, bodies, rt_info ...)
    goes through the general scanner. Node and record objects are built with
    direct slot stores, and the layer is connected to its producers at once
    (see :func:`_edges_ahead`): at 20,000+ layers every Python-level call and
    every extra pass over the nodes shows.
    """
    text = doc.text
    gsrc.layers = st
    if st.empty:
        gsrc.last_end = st.end
        return st.end
    head = FAST_HEAD.match
    find = text.find
    fattr = FAST_ATTR.findall
    const_tail = _CONST_TAIL.fullmatch
    consts = doc.consts
    const_spans = doc._const_spans = []
    new_rec = _new_rec
    build = build_node
    same = {}.setdefault
    data_memo: dict[str, dict[str, str]] = {}
    rest_memo: dict[str, tuple[Any, Any]] = {}
    rest_get = rest_memo.get
    named_memo: dict[str, tuple[Any, list[int]]] = {}
    last_rest: dict[str | None, tuple[str, int, tuple[Any, Any, Any]]] = {}  # by layer type
    last_get = last_rest.get
    startswith = text.startswith
    prior = doc._prior
    prior_get = prior.get if prior else None
    doc._prior = None
    wiring = ahead  # None once the read-ahead edges turn out not to fit this file
    if ahead is not None:
        io_nodes = ahead.io_nodes
        a_edges = ahead.edges
        a_n = len(a_edges)
        a_k = 0  # ahead.pos, kept in a local while the layers follow the edges' order
    q = st.tag_end
    gap_start = q
    n = len(text)
    while True:
        m = head(text, q)
        io = None
        rec0 = None
        if m is not None:
            h = m.end()
            ws, lid, name, typ, ver, la_s, da_s = m.groups()
            if prior_get is not None and lid is not None:
                rec0 = prior_get(lid)
                if rec0 is not None:
                    ls = q + len(ws)
                    if startswith(rec0.doc.text[rec0.start:rec0.end], ls):  # the prior's text: its parse
                        e = ls + (rec0.end - rec0.start) - 8
                        io = (rec0.in_ids, rec0.ports0, _value_specs(rec0.ports0))
                    else:
                        rec0 = None
            if rec0 is None:
                # most layers of a type have the same ports as the previous one: compare in place first
                # (last[0] ends with "</layer>", which cannot occur earlier in it: found by str.find)
                last = last_get(typ)
                if last is not None and startswith(last[0], h):
                    io = last[2]
                    e = h + last[1]
                else:
                    e = find("</layer>", h)
                    if e >= 0:
                        rest = text[h:e]
                        io = rest_get(rest)
                        if io is None:
                            if 'names="' in rest:  # tensor names are unique: memoized without them
                                io = _named_rest(doc, m.end(1), rest, named_memo)
                            else:
                                io = _parse_rest(doc, m.end(1), rest)
                                if io is not None:
                                    rest_memo[rest] = io
                        if io is not None:
                            last_rest[typ] = (rest + "</layer>", len(rest), io)
        if io is None:
            # comments or text between layers, the end of <layers>, or a layer for the general scanner
            q2 = skip_misc(text, q)
            if q2 != q:
                q = q2
                continue
            if q >= n:
                raise ScanError(q, "unexpected end of file inside <layers>")
            if text.startswith("</", q):
                et = end_tag_at(text, q)
                if et is None or et[0] != "layers":
                    raise ScanError(q, f"</{et[0] if et else '?'}> does not close <layers>")
                st.inner_end = q
                st.end = et[1]
                gsrc.last_end = gap_start
                if wiring is not None:
                    wiring.pos = a_k
                return et[1]
            el = parse_element(text, q, depth=3)
            if el.tag != "layer":
                q = el.end  # an unknown element among the layers: it stays in the gap text
                continue
            node = _node_from_el(doc, gsrc, el, gap_start)
            q = gap_start = el.end
            node.graph = graph
            nodes.append(node)
            rec = node.source
            byid[rec.id] = node
            if wiring is not None:
                if node.op_type == "Parameter" or node.op_type == "Result":
                    io_nodes.append(node)
                if rec.in_ids:
                    wiring.pos = a_k
                    if _wire(node, rec.in_ids, wiring.take(rec.id), byid):
                        a_k = wiring.pos
                    else:
                        wiring.broken = True
                        wiring = None
            continue
        ls = q + len(ws)
        if rec0 is not None:  # the prior read's layer, byte for byte: its record has the parse
            typ, name, ver, attrs = rec0.type0, rec0.name0, rec0.version0, rec0.attrs0
            ids, ports, specs = io
            if typ == "Const" and attrs is not None and "offset" in attrs and "size" in attrs:
                const_spans.append((attrs["offset"], attrs["size"]))
        else:
            if la_s is not None:
                if duplicate_attribute(la_s) is not None:
                    raise ScanError(ls, f"attribute {duplicate_attribute(la_s)!r} appears twice")
                la = dict(fattr(la_s))
                lid = la.get("id")
                typ = la.get("type")
                if lid is None or typ is None:
                    raise doc.error(ls, f"<layer> without {'id' if lid is None else 'type'} attribute")
                name = la.get("name", "")
                ver = la.get("version")
            # one string object per distinct type/opset instead of one per layer (memory, and GC visits)
            typ = same(typ, typ)
            if ver is not None:
                ver = same(ver, ver)
            if da_s is not None:
                attrs = data_memo.get(da_s)
                if attrs is None:
                    # a Const's offset is unique, the rest (element type, shape) repeats: decode and remember
                    # only that part, the two numbers come from one small regex (and the keys are shared)
                    k = da_s.find(' offset="')
                    t = const_tail(da_s, k) if k >= 0 else None
                    if t is not None:
                        key = da_s[:k]
                        attrs = data_memo.get(key)
                        if attrs is None:
                            attrs = dict(fattr(key))
                            if duplicate_attribute(key) is not None or "offset" in attrs or "size" in attrs:
                                raise ScanError(ls, f"attribute {duplicate_attribute(da_s)!r} of <data> "
                                                    "appears twice")
                            data_memo[key] = attrs
                        attrs = attrs.copy()
                        attrs["offset"], attrs["size"] = span = t.groups()
                        if typ == "Const":
                            const_spans.append(span)
                    else:
                        if duplicate_attribute(da_s) is not None:
                            raise ScanError(ls, f"attribute {duplicate_attribute(da_s)!r} of <data> appears twice")
                        attrs = dict(fattr(da_s))
                        if typ != "Const":
                            data_memo[da_s] = attrs
            else:
                attrs = None
            ids, ports, specs = io
            if typ == "Parameter" and ports:
                ports = [(pid, *_param_override(doc, ls, name, attrs, shape, dt)[::-1], names)
                         for pid, dt, shape, names in ports]
                specs = _value_specs(ports)
        # every slot of the record, assigned directly: this runs once per layer
        rec = new_rec(LayerSource)
        rec.doc = doc
        rec.gsrc = gsrc
        rec.id = lid
        rec.start = ls
        rec.end = q = e + 8  # len("</layer>")
        rec.gap_start = gap_start
        rec.type0 = typ
        rec.name0 = name
        rec.version0 = ver
        rec.attrs0 = attrs
        rec.in_ids = ids
        rec.ports0 = ports
        rec.inputs0 = ()
        rec.pm0 = rec.be0 = rec._el = None
        node = build(typ, name, attrs.copy() if attrs else {}, ver, specs, rec, graph)
        nodes.append(node)
        byid[lid] = node
        if typ == "Const":  # (one with inputs, which no IR has, leaves its edges unused: _connect does it)
            consts.append(node)
        elif wiring is not None:
            if typ == "Parameter" or typ == "Result":
                io_nodes.append(node)
            if ids:
                # _wire and wiring.take inlined for the common case: this layer's edges come next, and
                # every producer is already there
                if a_k < a_n and a_edges[a_k][2] == lid:
                    j = a_k + 1
                    while j < a_n and a_edges[j][2] == lid:
                        j += 1
                    es = a_edges[a_k:j]
                    a_k = j
                else:
                    wiring.pos = a_k
                    es = wiring.take(lid)
                    a_k = wiring.pos
                sl = [None] * len(ids)
                for fl, fp, _, tp in es:
                    src = byid.get(fl)
                    if src is None:  # a producer later in the file (or a missing one)
                        wiring.broken = True
                        wiring = None
                        break
                    p0 = src.source.ports0
                    try:
                        # a second edge into one port: the later one wins, as in the runtime
                        sl[0 if ids[0] == tp else ids.index(tp)] = \
                            src._outputs[0 if p0 and p0[0][0] == fp else [p[0] for p in p0].index(fp)]
                    except (ValueError, IndexError):
                        wiring.broken = True
                        wiring = None
                        break
                else:
                    node.set_inputs(sl)
                    rec.inputs0 = node._inputs
        gap_start = q


def _param_override(doc: IRDocument, pos: int, name: str, attrs: dict[str, str] | None, shape: Any,
                    dt: str | None) -> tuple[Any, str | None]:
    """A Parameter's type and shape come from ``<data>`` (port dims cannot express bounds or ``...``)."""
    a = attrs or {}
    s = a.get("shape")
    if s is not None:
        try:
            shape = parse_shape(s)
        except ValueError:
            raise doc.error(pos, f"Parameter {name!r}: cannot parse shape {s!r}") from None
    et = a.get("element_type")
    if et:
        dt = et
    return shape, dt


def _node_from_el(doc: IRDocument, gsrc: GraphSource, el: El, gap_start: int) -> Node:
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
            names = (parse_names(ns) if ns else None) or ()
            if typ == "Parameter":
                shape, dt = _param_override(doc, el.start, name, node.attrs, shape, dt)
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
        node = _node_from_el(doc, gsrc, c, gap)
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
    el = parse_element(text, st.start, depth=2)
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


def _connect(doc: IRDocument, graph: Graph, gsrc: GraphSource, byid: dict[str, Node] | None = None) -> None:
    """Turn edges into node inputs (by input-port position) and fill graph inputs/outputs.

    ``byid`` maps layer ids to nodes if the caller built it while scanning (one pass less).
    """
    nodes = graph.nodes
    if byid is None:
        byid = {n.source.id: n for n in nodes}
    if len(byid) != len(nodes):
        _duplicate_id(doc, nodes)
    # per target layer: the source value of each input port, by position, and the port ids
    slots: dict[str, tuple[list[Value | None], Any]] = {}
    get = slots.get
    try:
        for fl, fp, tl, tp in gsrc.edges0:
            src = byid[fl]
            p0 = src.source.ports0
            v = src._outputs[0 if p0[0][0] == fp else [p[0] for p in p0].index(fp)]
            got = get(tl)
            if got is None:
                in_ids = byid[tl].source.in_ids
                sl = [None] * len(in_ids)
                slots[tl] = (sl, in_ids)
            else:
                sl, in_ids = got
            # a second edge into one port: the later one wins, as in the runtime
            sl[0 if in_ids[0] == tp else in_ids.index(tp)] = v
    except (KeyError, ValueError, IndexError):
        raise _edge_error(doc, gsrc, {k: n.source for k, n in byid.items()}) from None
    for node in nodes:
        rec = node.source
        if rec.in_ids:
            got = get(rec.id)
            node.set_inputs(got[0] if got is not None else [None] * len(rec.in_ids))
            rec.inputs0 = node._inputs  # the node's own (immutable) tuple: snapshot for free
    _graph_io(graph, gsrc, nodes)


def _duplicate_id(doc: IRDocument, nodes: list[Node]) -> None:
    byid: dict[str, Node] = {}
    for node in nodes:
        rec: LayerSource = node.source
        lid = rec.id
        if lid in byid:
            raise doc.error(rec.start, f"duplicate layer id {lid} (layers {byid[lid].name!r} and {node.name!r})")
        byid[lid] = node


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
        node.meta[IR_PORT_MAP] = pms
    if bes:
        node.meta[IR_BACK_EDGES] = bes


def _ids(body: Graph | None) -> dict[str, Node]:
    if body is None:
        return {}
    return {n.source.id: n for n in body.nodes if isinstance(n.source, LayerSource)}


def _pm_snapshot(node: Node) -> Any:
    pm = node.meta.get(IR_PORT_MAP)
    if pm is None:
        return None
    return {r: [(e["kind"], dict(e["attrs"]), e["node"]) for e in es] for r, es in pm.items()}


def _be_snapshot(node: Node) -> Any:
    be = node.meta.get(IR_BACK_EDGES)
    if be is None:
        return None
    return {r: [(dict(e["attrs"]), e["from"], e["to"]) for e in es] for r, es in be.items()}


# ---------------------------------------------------------------------------------------------
# model-level rt_info
# ---------------------------------------------------------------------------------------------


def rt_dict(el: El) -> dict[str, Any]:
    """A model ``<rt_info>`` (new form) as a nested dict (``<info name=..>`` keys unwrapped).

    Built with an explicit stack: nesting is bounded only by the scanner's depth limit.
    """
    out: dict[str, Any] = {}
    stack = [(el, out)]
    while stack:
        e, d = stack.pop()
        for c in e.elements():
            key = c.attrs["name"] if c.tag == "info" and "name" in c.attrs else c.tag
            if c.elements():
                sub: dict[str, Any] = {}
                d[key] = sub
                stack.append((c, sub))
            else:
                d[key] = c.attrs.get("value", c.text().strip())
    return out


def copy_tree(d: dict[str, Any]) -> dict[str, Any]:
    """A copy of nested dicts (leaves shared), without recursion."""
    out: dict[str, Any] = {}
    stack = [(d, out)]
    while stack:
        src, dst = stack.pop()
        for k, v in src.items():
            if isinstance(v, dict):
                sub: dict[str, Any] = {}
                dst[k] = sub
                stack.append((v, sub))
            else:
                dst[k] = copy.copy(v)
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
    if not el.elements():
        return el.attrs.get("value", el.text().strip())
    out: dict[str, Any] = {}
    stack = [(el, out)]
    while stack:
        e, d = stack.pop()
        for c in e.elements():
            if c.elements():
                sub: dict[str, Any] = {}
                d[c.tag] = sub
                stack.append((c, sub))
            else:
                d[c.tag] = c.attrs.get("value", c.text().strip())
    return out


def _model_rt_info(doc: IRDocument, graph: Graph) -> None:
    if doc.rt_el is not None:
        rt = rt_dict(doc.rt_el)
    elif doc.legacy:
        rt = _legacy_dict(doc)
        doc.rt_from_legacy = True
    else:
        rt = {}
    graph.meta[RT_INFO] = rt
    doc.rt_info0 = copy_tree(rt)


def _check_const_ranges(doc: IRDocument) -> None:
    """Every Const lies inside the ``.bin``; the first that does not is reported."""
    size = doc.weights.size or 0
    spans = doc._const_spans
    doc._const_spans = None
    if spans is not None and len(spans) == len(doc.consts):
        # the scan kept the (offset, size) strings of every Const: check them all in C loops
        try:
            offs, sizes = (list(map(int, col)) for col in zip(*spans)) if spans else ([], [])
        except ValueError:
            pass
        else:
            if not offs or (min(offs) >= 0 and min(sizes) >= 0 and max(map(operator.add, offs, sizes)) <= size):
                return
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
